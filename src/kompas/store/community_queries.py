"""The community pillar's grouped queries: the same figures as loading every row, counted
by the database (SQLite or PostgreSQL) over the derived tables of
:mod:`kompas.store.exchanges` (read through :mod:`kompas.store.community_sources`), and
returned as a few numbers per figure.

Every figure of a period is one grouped query, and so is the same figure of many periods
at once (a review's key-result windows, the overview's two weeks): the periods are a
small table joined to the source, and the answers come back per period.
:mod:`kompas.community.aggregate` turns them into the figures; the reference over loaded
rows stays in :mod:`kompas.community.compute`, and a property test holds the two to the
same answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from kompas.model import InteractionKind, PostKind
from kompas.store import sqlfn
from kompas.store.community_sources import Sources, Window
from kompas.store.exchanges import SUMMARY_HALF_LIFE_DAYS
from kompas.store.schema import UTCDateTime

__all__ = ["ActiveRow", "CommunityQueries", "OwnCounts", "Periods", "PersonRow", "Window"]

_LEARNING = (InteractionKind.LIKE.value, InteractionKind.BOOKMARK.value)
#: How many persons one ``IN (...)`` list holds.
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class PersonRow:
    """What one person and the user exchanged through one account (rows of a person are
    added up by the caller)."""

    person: str
    platform: str
    account: str
    exchanges: int
    received_ever: int
    given: int
    received: int
    strength: float
    strength_before: float
    first_seen: datetime | None
    last_seen: datetime | None
    first_dated: datetime | None
    undated: bool


@dataclass(frozen=True, slots=True)
class ActiveRow:
    """One account of someone exchanged with in a period: the period's exchanges given
    and received, and what is known of before (for the figures, not for strengths)."""

    person: str
    platform: str
    account: str
    given: int
    received: int
    #: any exchange before the period's end (the account is part of the relationship)
    exchanged: bool
    #: the other side acted towards the user before the period's end
    received_ever: bool
    first_dated: datetime | None
    undated: bool


@dataclass
class OwnCounts:
    """Counts over the user's posts of a period."""

    posts: int = 0
    replies_given: int = 0
    mix: dict[str, int] = field(default_factory=dict)
    self_promotion: int = 0
    links_shared: int = 0
    reposts: int = 0
    quotes: int = 0
    rates: tuple[tuple[int, int], tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0), (0, 0))


def _i(value: Any) -> int:
    return int(value or 0)


_OWNED = sa.Table(
    "kompas_owned",
    sa.MetaData(),
    sa.Column("url", sa.Text, nullable=False),
    prefixes=["TEMPORARY"],
)


class Periods:
    """Periods as a table of one row each (``idx``, ``since``, ``until``, ``bounded``,
    ``first``: the epoch of its first week, ``reference``: where strengths are aged to),
    and the union of them the sources need read."""

    def __init__(
        self,
        windows: Sequence[Window],
        firsts: Sequence[float] | None = None,
        references: Sequence[datetime | None] | None = None,
    ) -> None:
        self.windows = list(windows)
        self.references = list(references or [None] * len(self.windows))
        # A union of one-row selects: SQLite's VALUES cannot name its columns.
        self.table = sa.union_all(
            *(
                sa.select(
                    sa.literal(n, sa.Integer).label("idx"),
                    sa.literal(w.since, UTCDateTime).label("since"),
                    sa.literal(w.until, UTCDateTime).label("until"),
                    sa.literal(0 if w.all_time else 1, sa.Integer).label("bounded"),
                    sa.literal(firsts[n] if firsts else 0.0, sa.Float).label("first"),
                    sa.literal(self.references[n], UTCDateTime).label("reference"),
                )
                for n, w in enumerate(self.windows)
            )
        ).subquery("periods")
        sinces = [w.since for w in self.windows]
        untils = [w.until for w in self.windows]
        #: Every period at once: what the sources read.
        self.union = Window(
            None if None in sinces else min(s for s in sinces if s is not None),
            None if None in untils else max(u for u in untils if u is not None),
        )
        #: Every bound: where the sources' levels must be cut.
        self.bounds = [*sinces, *untils, *self.references]

    def holds(self, at: Any) -> sa.ColumnElement[bool]:
        """Rows in the period they are joined to (as :meth:`Window.holds`)."""
        w = self.table.c
        found: sa.ColumnElement[bool] = (w.bounded == 0) | (
            at.is_not(None)
            & (w.since.is_(None) | (at >= w.since))
            & (w.until.is_(None) | (at < w.until))
        )
        return found

    def before_reference(self, at: Any) -> sa.ColumnElement[bool]:
        """Rows undated or before the period's reference."""
        found: sa.ColumnElement[bool] = at.is_(None) | (at < self.table.c.reference)
        return found


class CommunityQueries(Sources):
    """Grouped queries over one set of derived tables, on one connection, for the
    request's ``platforms``; every figure for any number of periods at once."""

    def __init__(self, connection: sa.Connection, tables: Any, platforms: Sequence[str]) -> None:
        super().__init__(connection, tables, platforms)
        self._owned: tuple[str, ...] | None = None
        self._owned_any = False

    def own_places(self, owns: Callable[[str], bool], key: tuple[str, ...]) -> None:
        """Note which links are the user's own places (``owns``; ``key`` names them, so the
        same places are not decided twice): a post of the user linking one is broadcast."""
        if self._owned == key:
            return
        c, links = self.connection, self.t.own_links.c
        owned = [url for (url,) in c.execute(sa.select(links.url).distinct()) if owns(url)]
        c.execute(sa.text(f"DROP TABLE IF EXISTS {_OWNED.name}"))
        _OWNED.create(c)
        if owned:
            c.execute(sa.insert(_OWNED), [{"url": url} for url in owned])
        self._owned, self._owned_any = key, bool(owned)

    # -- periods ---------------------------------------------------------------------------

    def own_counts(self, platforms: Iterable[str], periods: Periods) -> list[OwnCounts]:
        """Per period, the user's posts: how many, replies to others, the mix, sharing and
        the public counts they carry."""
        scope = list(platforms)
        source = self.own(scope, periods.union, bounds=periods.bounds)
        s, p = source.c, periods.table.c
        shared = s.base == "sharing"
        rated = s.kind != PostKind.REPOST.value

        def total(condition: Any, value: Any = None) -> Any:
            return sa.func.sum(sa.case((condition, s.n if value is None else value), else_=0))

        rows = self.connection.execute(
            sa.select(
                p.idx,
                s.base,
                sa.func.sum(s.n),
                total(s.answers_other),
                total(shared & (s.kind == PostKind.REPOST.value)),
                total(shared & (s.kind == PostKind.QUOTE.value)),
                total(rated, s.replies_known),
                sa.func.sum(sa.case((rated, s.replies), else_=None)),
                total(rated, s.amplification_known),
                sa.func.sum(sa.case((rated, s.amplification), else_=None)),
                total(rated, s.likes_known),
                sa.func.sum(sa.case((rated, s.likes), else_=None)),
            )
            .select_from(source.join(periods.table, sa.true()))
            .where(periods.holds(s.at))
            .group_by(p.idx, s.base)
        ).all()
        mixes: list[dict[str, int]] = [{} for _ in periods.windows]
        found = [OwnCounts() for _ in periods.windows]
        rates = [[[0, 0], [0, 0], [0, 0]] for _ in periods.windows]
        for row in rows:
            number, name, n = row[0], row[1], _i(row[2])
            counts = found[number]
            counts.posts += n
            mixes[number][name] = n
            counts.replies_given += _i(row[3])
            counts.reposts += _i(row[4])
            counts.quotes += _i(row[5])
            for rate, (count, value) in enumerate(((6, 7), (8, 9), (10, 11))):
                rates[number][rate][1] += _i(row[count])
                rates[number][rate][0] += _i(row[value])
        links = [mix.pop("links", 0) for mix in mixes]
        owned = self._owned_posts(scope, periods) if any(links) else [0] * len(links)
        for number, counts in enumerate(found):
            mix = mixes[number]
            counts.links_shared = links[number] - owned[number]
            for name, n in (("sharing", counts.links_shared), ("broadcast", owned[number])):
                if n:
                    mix[name] = mix.get(name, 0) + n
            counts.mix = mix
            counts.self_promotion = mix.get("broadcast", 0)
            r = rates[number]
            counts.rates = ((r[0][0], r[0][1]), (r[1][0], r[1][1]), (r[2][0], r[2][1]))
        return found

    def _owned_posts(self, platforms: list[str], periods: Periods) -> list[int]:
        """Per period, the user's posts whose links include one of their own places."""
        if not self._owned_any:
            return [0] * len(periods.windows)
        o, links, p = self.t.own.c, self.t.own_links.c, periods.table.c
        owning = (
            sa.select(links.platform, links.id)
            .select_from(self.t.own_links.join(_OWNED, _OWNED.c.url == links.url))
            .where(links.platform.in_(platforms))
        )
        rows = self.connection.execute(
            sa.select(p.idx, sa.func.count())
            .select_from(self.t.own.join(periods.table, sa.true()))
            .where(
                sa.tuple_(o.platform, o.id).in_(owning)
                & (o.base == "links")
                & periods.union.holds(o.at)
                & periods.holds(o.at)
            )
            .group_by(p.idx)
        )
        found = [0] * len(periods.windows)
        for number, n in rows:
            found[number] = _i(n)
        return found

    def own_weekly(
        self, platforms: Iterable[str], periods: Periods
    ) -> list[list[tuple[int, int, int, int]]]:
        """Per period and week: the user's posts, replies to others, and shares of
        others' posts."""
        source = self.own(list(platforms), periods.union, weekly=True, bounds=periods.bounds)
        s, p = source.c, periods.table.c
        week = sqlfn.week_of(self.connection, s.at_s, p.first).label("week")
        rows = self.connection.execute(
            sa.select(
                p.idx,
                week,
                sa.func.sum(s.n),
                sa.func.sum(sa.case((s.answers_other, s.n), else_=0)),
                sa.func.sum(sa.case((s.base == "sharing", s.n), else_=0)),
            )
            .select_from(source.join(periods.table, sa.true()))
            .where(periods.holds(s.at) & s.at.is_not(None))
            .group_by(p.idx, week)
        )
        found: list[list[tuple[int, int, int, int]]] = [[] for _ in periods.windows]
        for r in rows:
            found[r[0]].append((_i(r[1]), _i(r[2]), _i(r[3]), _i(r[4])))
        return found

    def shared_people(self, platforms: Iterable[str], periods: Periods) -> list[dict[str, int]]:
        """Per period, whose posts the user shared, and how often."""
        source = self.own(list(platforms), periods.union, bounds=periods.bounds)
        s, p = source.c, periods.table.c
        found: list[dict[str, int]] = [{} for _ in periods.windows]
        for number, person, n in self.connection.execute(
            sa.select(p.idx, s.shared_person, sa.func.sum(s.n))
            .select_from(source.join(periods.table, sa.true()))
            .where(periods.holds(s.at) & (s.base == "sharing") & s.shared_person.is_not(None))
            .group_by(p.idx, s.shared_person)
        ):
            found[number][person] = _i(n)
        return found

    def replied(self, platforms: Iterable[str], periods: Periods) -> list[list[tuple[str, str]]]:
        """Per period, the distinct accounts the user answered."""
        source = self.own(list(platforms), periods.union, bounds=periods.bounds)
        s, p = source.c, periods.table.c
        found: list[list[tuple[str, str]]] = [[] for _ in periods.windows]
        for number, platform, account in self.connection.execute(
            sa.select(p.idx, s.platform, s.replied)
            .select_from(source.join(periods.table, sa.true()))
            .where(periods.holds(s.at) & s.replied.is_not(None))
            .distinct()
        ):
            found[number].append((platform, account))
        return found

    def contact_counts(self, platforms: Iterable[str], periods: Periods) -> list[dict[str, int]]:
        """Per period, its exchanges: how many, replies received, likes and bookmarks
        given and from how many people; and undated likes and bookmarks (any time)."""
        scope = list(platforms)
        source = self.contacts(scope, periods.bounds, within=periods.union)
        s, p = source.c, periods.table.c
        learning = s.given & s.kind.in_(_LEARNING)

        def total(condition: Any) -> Any:
            return sa.func.sum(sa.case((condition, s.n), else_=0))

        rows = self.connection.execute(
            sa.select(
                p.idx,
                sa.func.sum(s.n),
                total(~s.given & (s.kind == InteractionKind.REPLY.value)),
                total(s.given & (s.kind == InteractionKind.LIKE.value)),
                total(s.given & (s.kind == InteractionKind.BOOKMARK.value)),
                sa.func.count(sa.distinct(sa.case((learning, s.person), else_=None))),
            )
            .select_from(source.join(periods.table, sa.true()))
            .where(periods.holds(s.at))
            .group_by(p.idx)
        )
        undated = self.contacts(scope, ())
        u = undated.c
        undated_learning = _i(
            self.connection.execute(
                sa.select(sa.func.sum(u.n)).where(u.given & u.kind.in_(_LEARNING) & u.at.is_(None))
            ).scalar()
        )
        names = ("now", "replies_received", "likes", "bookmarks", "sources")
        found = [
            {**dict.fromkeys(names, 0), "undated_learning": undated_learning}
            for _ in periods.windows
        ]
        for row in rows:
            found[row[0]].update(
                {name: _i(value) for name, value in zip(names, row[1:], strict=True)}
            )
        return found

    def contact_weekly(
        self, platforms: Iterable[str], periods: Periods, bots: Sequence[Iterable[str]]
    ) -> list[tuple[dict[int, int], dict[int, int]]]:
        """Per period and week: replies received, and the distinct people exchanged with
        (each period's automated accounts apart)."""
        source = self.contacts(list(platforms), periods.bounds, within=periods.union, weekly=True)
        s, p, c = source.c, periods.table.c, self.connection
        week = sqlfn.week_of(c, s.at_s, p.first).label("week")
        where = periods.holds(s.at) & s.at.is_not(None)
        joined = source.join(periods.table, sa.true())
        found: list[tuple[dict[int, int], dict[int, int]]] = [({}, {}) for _ in periods.windows]
        for number, w, n in c.execute(
            sa.select(p.idx, week, sa.func.sum(s.n))
            .select_from(joined)
            .where(where & ~s.given & (s.kind == InteractionKind.REPLY.value))
            .group_by(p.idx, week)
        ):
            found[number][0][_i(w)] = _i(n)
        automated = [
            (p.idx == number) & s.person.in_(sorted(set(persons)))
            for number, persons in enumerate(bots)
            if persons
        ]
        people = where & s.person.is_not(None)
        if automated:
            people &= ~sa.or_(*automated)
        for number, w, n in c.execute(
            sa.select(p.idx, week, sa.func.count(sa.distinct(s.person)))
            .select_from(joined)
            .where(people)
            .group_by(p.idx, week)
        ):
            found[number][1][_i(w)] = _i(n)
        return found

    def active_people(self, platforms: Iterable[str], periods: Periods) -> list[list[ActiveRow]]:
        """Per period, the people exchanged with in it (before its reference), every
        account of theirs, and what the figures read of their past: reads only the
        periods' exchanges and one row per account, not their whole history."""
        scope = list(platforms)
        source = self.contacts(scope, periods.bounds, within=periods.union)
        s, p = source.c, periods.table.c

        def total(condition: Any) -> Any:
            return sa.func.sum(sa.case((condition, s.n), else_=0))

        counted: list[dict[tuple[str, str, str], tuple[int, int]]] = [{} for _ in periods.windows]
        for r in self.connection.execute(
            sa.select(p.idx, s.person, s.platform, s.account, total(s.given), total(~s.given))
            .select_from(source.join(periods.table, sa.true()))
            .where(s.person.is_not(None) & periods.holds(s.at) & periods.before_reference(s.at))
            .group_by(p.idx, s.person, s.platform, s.account)
        ):
            counted[r[0]][(r[1], r[2], r[3] or "")] = (_i(r[4]), _i(r[5]))
        facts: dict[str, list[Any]] = {}
        persons = sorted({key[0] for found in counted for key in found})
        f = self.t.people.c
        for start in range(0, len(persons), _CHUNK):
            for fact in self.connection.execute(
                sa.select(
                    f.person,
                    f.platform,
                    f.account,
                    f.first_at,
                    f.first_received_at,
                    f.undated,
                    f.undated_received,
                ).where(f.platform.in_(scope) & f.person.in_(persons[start : start + _CHUNK]))
            ):
                facts.setdefault(fact[0], []).append(fact)
        found: list[list[ActiveRow]] = []
        for number, active in enumerate(counted):
            reference = periods.references[number]
            assert reference is not None
            rows = []
            for person in sorted({key[0] for key in active}):
                for r in facts.get(person, ()):
                    given, received = active.get((r[0], r[1], r[2] or ""), (0, 0))
                    rows.append(
                        ActiveRow(
                            person=r[0],
                            platform=r[1],
                            account=r[2] or "",
                            given=given,
                            received=received,
                            exchanged=bool(r[5]) or (r[3] is not None and r[3] < reference),
                            received_ever=bool(r[6]) or (r[4] is not None and r[4] < reference),
                            first_dated=r[3],
                            undated=bool(r[5]),
                        )
                    )
            found.append(rows)
        return found

    def threads(self, platforms: Iterable[str], periods: Periods) -> list[tuple[int, int]]:
        """Per period, the threads the user posted in with someone else: (started,
        joined)."""
        o, h, p, scope = self.t.own.c, self.t.threads.c, periods.table.c, list(platforms)
        found = [(0, 0)] * len(periods.windows)

        def split(talking: Any, started: Any) -> tuple[int, int]:
            return _i(started), _i(talking) - _i(started)

        if any(w.all_time for w in periods.windows):
            row = self.connection.execute(
                sa.select(sa.func.count(), sa.func.sum(sa.case((h.root_own, 1), else_=0))).where(
                    h.platform.in_(scope) & h.with_others & h.own
                )
            ).one()
            for number, window in enumerate(periods.windows):
                if window.all_time:
                    found[number] = split(row[0], row[1])
        if all(w.all_time for w in periods.windows):
            return found
        active = (
            sa.select(p.idx, o.platform, o.thread)
            .select_from(self.t.own.join(periods.table, sa.true()))
            .where(
                o.platform.in_(scope)
                & (p.bounded == 1)
                & periods.union.holds(o.at)
                & periods.holds(o.at)
                & o.thread.is_not(None)
            )
            .distinct()
            .subquery()
        )
        for number, talking, started in self.connection.execute(
            sa.select(active.c.idx, sa.func.count(), sa.func.sum(sa.case((h.root_own, 1), else_=0)))
            .select_from(
                active.join(
                    self.t.threads,
                    (h.platform == active.c.platform) & (h.thread == active.c.thread),
                )
            )
            .where(h.with_others)
            .group_by(active.c.idx)
        ):
            found[number] = split(talking, started)
        return found

    def per_account(self, platforms: Iterable[str], window: Window) -> list[tuple[str, str, int]]:
        """The exchanges of the period per person and account: ``(person,
        "platform:account", exchanges)``."""
        scope = list(platforms)
        s = self.contacts(scope, (window.since, window.until), within=window).c
        return [
            (person, f"{platform}:{account}", _i(n))
            for person, platform, account, n in self.connection.execute(
                sa.select(s.person, s.platform, s.account, sa.func.sum(s.n))
                .where(s.person.is_not(None) & window.holds(s.at))
                .group_by(s.person, s.platform, s.account)
            )
        ]

    # -- one period's relationships ------------------------------------------------------

    def people(
        self,
        platforms: Iterable[str],
        window: Window,
        reference: datetime,
        half_life_days: float,
    ) -> list[PersonRow]:
        """Per person and account: exchanges up to ``reference`` and their strength there
        (and at the period's start), given and received in the period, and the person's
        first dated and any undated exchange (at any time)."""
        summary = window.all_time or half_life_days == SUMMARY_HALF_LIFE_DAYS
        # A bounded period ages each exchange: the whole history's sums cannot say how.
        s = self.contacts(
            list(platforms),
            (window.since, window.until, reference),
            summary,
            weekly=not window.all_time,
        ).c
        rate = -math.log(2) / 86400 / half_life_days
        before_end = s.at.is_(None) | (s.at < reference)
        if window.all_time:
            strength: Any = sa.func.sum(sa.case((before_end, s.n), else_=0))
        else:
            strength = sa.func.sum(
                sa.case(
                    (
                        before_end & s.at.is_not(None),
                        s.decayed * sa.func.exp(rate * (reference.timestamp() - s.at_s)),
                    ),
                    else_=0.0,
                )
            )
        if window.since is not None:
            fading: Any = sa.func.sum(
                sa.case(
                    (
                        before_end & (s.at < window.since),
                        s.decayed * sa.func.exp(rate * (window.since.timestamp() - s.at_s)),
                    ),
                    else_=0.0,
                )
            )
        else:
            fading = sa.literal(0.0)
        now = window.holds(s.at)

        def total(condition: Any) -> Any:
            return sa.func.sum(sa.case((condition, s.n), else_=0))

        dated_before = before_end & s.at.is_not(None)
        rows = self.connection.execute(
            sa.select(
                s.person,
                s.platform,
                s.account,
                total(before_end),
                total(before_end & ~s.given),
                total(before_end & now & s.given),
                total(before_end & now & ~s.given),
                strength,
                fading,
                sa.type_coerce(
                    sa.func.min(sa.case((dated_before, s.first_at), else_=None)), UTCDateTime
                ),
                sa.type_coerce(
                    sa.func.max(sa.case((dated_before, s.last_at), else_=None)), UTCDateTime
                ),
                sa.type_coerce(sa.func.min(s.first_at), UTCDateTime),
                total(s.at.is_(None)),
            )
            .where(s.person.is_not(None))
            .group_by(s.person, s.platform, s.account)
        )
        return [
            PersonRow(
                r[0],
                r[1],
                r[2] or "",
                _i(r[3]),
                _i(r[4]),
                _i(r[5]),
                _i(r[6]),
                float(r[7] or 0.0),
                float(r[8] or 0.0),
                r[9],
                r[10],
                r[11],
                _i(r[12]) > 0,
            )
            for r in rows
        ]


def of_store(connection: sa.Connection) -> CommunityQueries | None:
    """The grouped queries over the store's derived exchanges, with every account of the
    user (rebuilt first when stale); ``None`` when the store holds no account of theirs."""
    from kompas.store import exchanges, identities
    from kompas.store.exchange_build import derived

    selves = exchanges.every_self(connection)
    if not selves:
        return None
    platforms = sorted({platform for platform, _ in selves})
    persons = identities.person_keys(connection)
    return CommunityQueries(connection, derived(connection, selves, persons, platforms), platforms)
