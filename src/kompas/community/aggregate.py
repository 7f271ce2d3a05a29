"""The community report from grouped queries: what the CLI, the dashboard and the strategy
pillar use. The database counts (:class:`kompas.store.community_queries.CommunityQueries`);
only accounts, follow edges and one row per person come back to Python. The figures are
those of the reference, :func:`kompas.community.compute.compute`, which a property test
compares with this path on random stores."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from kompas.community.contacts import Index
from kompas.community.figures import Scope, Tallies, Vanity, assemble, weeks
from kompas.community.follows import Follows
from kompas.community.mix import OwnPlaces
from kompas.community.relationships import Knowledge, Tally, finish
from kompas.community.report import HALF_LIFE_DAYS, CommunityReport, Figures, Relationship
from kompas.model import InteractionKind
from kompas.period import Period
from kompas.store import community as store
from kompas.store.community_queries import (
    ActiveRow,
    CommunityQueries,
    OwnCounts,
    Periods,
    Window,
)
from kompas.store.exchange_build import derived
from kompas.store.inbox import responsiveness


class Community:
    """The community reports of one connection: accounts and follow edges are read once,
    the database's derived tables built once, and each period is a handful of grouped
    queries (so the review's windows and the dashboard's two periods share the work)."""

    def __init__(self, connection: sa.Connection, platform: str | None = None) -> None:
        self.platform = platform
        self.data = store.load(connection, platform, rows=False)
        self.index = Index(persons=self.data.persons)
        for me in self.data.selves:
            self.index.selves[me.platform.value].add(me.id)
            self.index.self_persons.add(self.index.person(me.platform.value, me.id))
        self.ends: dict[str, tuple[datetime, datetime]] = {}
        self.received_known: set[str] = set()
        self._queries: CommunityQueries | None = None
        if self.data.selves:
            selves = [(me.platform.value, me.id) for me in self.data.selves]
            present = sorted({platform for platform, _ in selves})
            tables = derived(connection, selves, self.data.persons, present)
            self._queries = CommunityQueries(connection, tables, present)
            self.ends = self.queries.ends()
            self.received_known = self.queries.received_known()
        self.follows = Follows(self.index, self.data.follows, self.data.selves)

    @property
    def queries(self) -> CommunityQueries:
        """The grouped queries (only when the store holds the user's accounts)."""
        if self._queries is None:
            raise LookupError("no account of the user: nothing to count")
        return self._queries

    def report(
        self,
        period: Period,
        half_life_days: float = HALF_LIFE_DAYS,
        own_domains: Iterable[str] = (),
        every_relationship: bool = True,
    ) -> CommunityReport:
        """The community report of ``period``, per platform plus ``all``. Without
        ``every_relationship`` the report holds the figures only (every one the same, no
        relationships: nothing ages a whole history), what a key result's windows and the
        overview need."""
        return self.reports([period], half_life_days, own_domains, every_relationship)[0]

    def reports(
        self,
        periods: Sequence[Period],
        half_life_days: float = HALF_LIFE_DAYS,
        own_domains: Iterable[str] = (),
        every_relationship: bool = True,
        only: str | None = None,
    ) -> list[CommunityReport]:
        """The reports of several periods at once: each figure is one grouped query for
        all of them (see :meth:`report`). ``only`` names the one scope to count (a
        platform, or ``all``), when a caller reads no other."""
        if half_life_days <= 0:
            raise ValueError("the half-life must be positive")
        domains = tuple(own_domains)
        own = OwnPlaces.of(domains, self.data.profile_pages)
        if self.data.selves:
            self.queries.own_places(own.owns, (*sorted(own.domains), "|", *own.pages))
        firsts = [first for first, _ in self.ends.values()]
        lasts = [last for _, last in self.ends.values()]
        data_start = min(firsts) if firsts else None
        data_end = max(lasts) if lasts else None
        counting = _Periods(self, half_life_days, not every_relationship)
        for period in periods:
            start = period.since or data_start or datetime.now(UTC)
            end = period.until or (
                data_end + timedelta(seconds=1) if data_end else datetime.now(UTC)
            )
            counting.add(period, Scope(period, weeks(start, end)), end)
        present = sorted({a.platform.value for a in self.data.selves})
        figures: list[dict[str, Figures]] = [{} for _ in periods]
        relations: list[dict[str, list[Relationship]]] = [{} for _ in periods]
        done: dict[frozenset[str], list[tuple[Figures, list[Relationship]]]] = {}
        for name, scope in [*((p, {p}) for p in present), ("all", set(present))]:
            if only is not None and name != only:
                continue
            key = frozenset(scope)
            if key not in done:
                done[key] = counting.figures(scope)
            for number, (found, related) in enumerate(done[key]):
                figures[number][name] = found
                relations[number][name] = related if every_relationship else []
        return [
            CommunityReport(
                period=period,
                half_life_days=half_life_days,
                figures=figures[number],
                relationships=relations[number],
                data_start=data_start,
                data_end=data_end,
            )
            for number, period in enumerate(periods)
        ]


@dataclass
class _One:
    """One period of a batch, while its figures are counted."""

    period: Period
    scope: Scope
    reference: datetime

    @property
    def window(self) -> Window:
        return Window(self.period.since, self.period.until)


class _Periods:
    """The figures of several periods, one scope at a time: each grouped query answers
    every period at once."""

    def __init__(self, community: Community, half_life_days: float, active_only: bool) -> None:
        self.c = community
        self.half_life = half_life_days
        self.active_only = active_only
        self.each: list[_One] = []

    def add(self, period: Period, scope: Scope, reference: datetime) -> None:
        """One more period, with its weeks and the moment its strengths are aged to."""
        self.each.append(_One(period, scope, reference))

    @property
    def q(self) -> CommunityQueries:
        return self.c.queries

    def _vanity(self, one: _One, platforms: set[str]) -> Vanity:
        follows = self.c.follows
        ends = [self.c.ends[p][1] for p in platforms if p in self.c.ends]
        followers, following = follows.vanity(platforms)
        return Vanity(
            followers,
            following,
            follows.mutuals(platforms),
            max(ends) if ends else None,
            follows.series(one.scope, platforms),
        )

    def _relations(self, one: _One, platforms: set[str], t: Tallies) -> list[Relationship]:
        """Everyone exchanged with up to the end of the period (one row per account from
        the database, added up per person), and each person's first dated exchange."""
        tallies: dict[str, Tally] = {}
        for row in self.q.people(platforms, one.window, one.reference, self.half_life):
            if row.first_dated is not None:
                earliest = t.first_dated.get(row.person)
                if earliest is None or row.first_dated < earliest:
                    t.first_dated[row.person] = row.first_dated
            if row.undated:
                t.undated_people.add(row.person)
            if not row.exchanges:
                continue
            tally = tallies.setdefault(row.person, Tally())
            tally.accounts.add((row.platform, row.account))
            tally.exchanges += row.exchanges
            tally.received_ever += row.received_ever
            tally.given += row.given
            tally.received += row.received
            tally.strength += row.strength
            tally.before += row.strength_before
            for when in (row.first_seen, row.last_seen):
                if when is None:
                    continue
                tally.first = when if tally.first is None else min(tally.first, when)
                tally.last = when if tally.last is None else max(tally.last, when)
        return self._finish(platforms, tallies)

    def _active(
        self, rows: Iterable[ActiveRow], platforms: set[str], t: Tallies
    ) -> list[Relationship]:
        """The people of the period only, with what the figures read (their ways, first
        contacts, automation), from the period's exchanges and one row per account: no
        strengths (nothing shows them)."""
        tallies: dict[str, Tally] = {}
        for row in rows:
            if row.first_dated is not None:
                earliest = t.first_dated.get(row.person)
                if earliest is None or row.first_dated < earliest:
                    t.first_dated[row.person] = row.first_dated
            if row.undated:
                t.undated_people.add(row.person)
            if not row.exchanged:
                continue
            tally = tallies.setdefault(row.person, Tally())
            tally.accounts.add((row.platform, row.account))
            tally.exchanges += 1
            tally.received_ever += row.received_ever
            tally.given += row.given
            tally.received += row.received
        return self._finish(platforms, tallies)

    def _finish(self, platforms: set[str], tallies: dict[str, Tally]) -> list[Relationship]:
        known = Knowledge(
            received=frozenset(platforms & self.c.received_known),
            follower_lists=frozenset(platforms & set(self.c.follows.followers)),
            followers=self.c.follows.everyone_following(),
        )
        data = self.c.data
        return [
            finish(person, tally, known, data.handles, data.automated)
            for person, tally in sorted(tallies.items())
        ]

    def figures(self, platforms: set[str]) -> list[tuple[Figures, list[Relationship]]]:
        """The figures and relationships of one scope, per period."""
        anonymous = Counter[str]()
        for (platform, kind), number in self.c.data.anonymous.items():
            if platform in platforms:
                anonymous[kind] += number
        tallies = [Tallies(False, 0, [], self._vanity(one, platforms)) for one in self.each]
        if not self.c.data.selves:
            return [
                (assemble(one.scope, t, platforms), [])
                for one, t in zip(self.each, tallies, strict=True)
            ]
        q = self.q
        periods = Periods(
            [one.window for one in self.each],
            [one.scope.week_starts[0].timestamp() for one in self.each],
            [one.reference for one in self.each],
        )
        if self.active_only:
            for t, rows in zip(tallies, q.active_people(platforms, periods), strict=True):
                t.relations = self._active(rows, platforms, t)
        else:
            for one, t in zip(self.each, tallies, strict=True):
                t.relations = self._relations(one, platforms, t)
        owns = q.own_counts(platforms, periods)
        contacts = q.contact_counts(platforms, periods)
        counted = [
            self._counts(one, t, own, found, Counter(anonymous), platforms)
            for one, t, own, found in zip(self.each, tallies, owns, contacts, strict=True)
        ]
        if any(counted):
            threads = q.threads(platforms, periods)
            shared = q.shared_people(platforms, periods)
            replied = q.replied(platforms, periods)
            weekly = q.own_weekly(platforms, periods)
            bots = [[r.person for r in t.relations if r.automated] for t in tallies]
            exchanges = q.contact_weekly(platforms, periods, bots)
            for number, t in enumerate(tallies):
                if not counted[number]:
                    continue
                t.started, t.joined = threads[number]
                t.shared_people = Counter(shared[number])
                t.follow_back = self.c.follows.follow_back(replied[number], platforms)
                t.series = self._series(self.each[number], t, weekly[number], exchanges[number])
        return [
            (assemble(one.scope, t, platforms), t.relations)
            for one, t in zip(self.each, tallies, strict=True)
        ]

    def _counts(
        self,
        one: _One,
        t: Tallies,
        own: OwnCounts,
        contacts: dict[str, int],
        anonymous: Counter[str],
        platforms: set[str],
    ) -> bool:
        """Fill the period's counts; whether it has data (the rest is counted then)."""
        period = one.period
        t.has_data = bool(own.posts or contacts["now"]) or (
            period.all_time and (bool(anonymous) or self.q.anyone(platforms))
        )
        if not period.all_time:
            t.undated = sum(anonymous.values()) + contacts["undated_learning"]
            anonymous.clear()  # undated: in no bounded period
        if not t.has_data:
            return False
        t.received_known = bool(platforms & self.c.received_known)
        t.posts, t.replies_given, t.mix = own.posts, own.replies_given, own.mix
        t.self_promotion, t.links_shared = own.self_promotion, own.links_shared
        t.reposts, t.quotes, t.rates = own.reposts, own.quotes, own.rates
        if t.received_known:
            t.replies_received = contacts["replies_received"]
            t.median_reply_minutes, t.unanswered_share = responsiveness(
                a
                for a in self.c.data.addressed
                if a.platform in platforms and period.contains(a.at)
            )
        t.likes = anonymous[InteractionKind.LIKE.value] + contacts["likes"]
        t.bookmarks = anonymous[InteractionKind.BOOKMARK.value] + contacts["bookmarks"]
        t.sources_learned = contacts["sources"]
        return True

    def _series(
        self,
        one: _One,
        t: Tallies,
        weekly: list[tuple[int, int, int, int]],
        exchanges: tuple[dict[int, int], dict[int, int]],
    ) -> dict[str, list[int] | None]:
        size = len(one.scope.week_starts)

        def series(counts: Iterable[tuple[int, int]]) -> list[int]:
            found = [0] * size
            for week, number in counts:
                if 0 <= week < size:
                    found[week] += number
            return found

        replies, people = exchanges
        return {
            "posts": series((w, n) for w, n, _, _ in weekly),
            "replies_given": series((w, n) for w, _, n, _ in weekly),
            "replies_received": series(replies.items()) if t.received_known else None,
            "reposts_of_others": series((w, n) for w, _, _, n in weekly),
            "people_interacted": series(people.items()),
        }


def report(
    connection: sa.Connection,
    period: Period,
    half_life_days: float = HALF_LIFE_DAYS,
    platform: str | None = None,
    own_domains: Iterable[str] = (),
) -> CommunityReport:
    """The community report of ``period`` from grouped queries (see :class:`Community`)."""
    return Community(connection, platform).report(period, half_life_days, own_domains)
