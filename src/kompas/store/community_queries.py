"""The community pillar's grouped queries: the same figures as loading every row, counted
by the database (SQLite or PostgreSQL) over the derived tables of
:mod:`kompas.store.exchanges`, and returned as a few numbers per figure.

Every figure reads one *source*: the weekly summaries for each week that lies wholly on
one side of every bound the period sets (its start, its end, the moment strengths are aged
to), plus the rows themselves for the few weeks a bound cuts. A summary row stands for its
week at the week's first moment, which is on the same side of every bound as each of its
rows, so each condition reads the same on a summary row as on the rows it adds up; counts
become sums of ``n``. :mod:`kompas.community.aggregate` turns the answers into the
figures; the reference over loaded rows stays in :mod:`kompas.community.compute`, and a
property test holds the two to the same answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from kompas.model import InteractionKind, PostKind
from kompas.store import sqlfn
from kompas.store.exchanges import MONDAY, SUMMARY_HALF_LIFE_DAYS, WEEK_SECONDS, Derived
from kompas.store.schema import UTCDateTime

_LEARNING = (InteractionKind.LIKE.value, InteractionKind.BOOKMARK.value)
_ORIGIN = datetime.fromtimestamp(MONDAY, UTC)


@dataclass(frozen=True, slots=True)
class Window:
    """A period as the queries take it: bounds as datetimes and epoch seconds."""

    since: datetime | None
    until: datetime | None

    @property
    def all_time(self) -> bool:
        """Unbounded: undated rows count too."""
        return self.since is None and self.until is None

    def holds(self, column: Any) -> sa.ColumnElement[bool]:
        """Rows whose ``column`` falls in the window (dated rows only when bounded)."""
        if self.all_time:
            return sa.true()
        found: sa.ColumnElement[bool] = column.is_not(None)
        if self.since is not None:
            found &= column >= self.since
        if self.until is not None:
            found &= column < self.until
        return found


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


def _week(moment: datetime) -> tuple[int, bool]:
    """The summary's week number of ``moment``, and whether ``moment`` starts it."""
    seconds = (moment - _ORIGIN).total_seconds()
    number = math.floor(seconds / WEEK_SECONDS)
    return number, seconds == number * WEEK_SECONDS


def _week_start(number: int) -> datetime:
    return _ORIGIN + timedelta(weeks=number)


_OWNED = sa.Table(
    "kompas_owned",
    sa.MetaData(),
    sa.Column("url", sa.Text, nullable=False),
    prefixes=["TEMPORARY"],
)


class CommunityQueries:
    """Grouped queries over one set of derived tables, on one connection, for the
    request's ``platforms``."""

    def __init__(
        self, connection: sa.Connection, tables: Derived, platforms: Sequence[str]
    ) -> None:
        self.connection = connection
        self.t = tables
        self._owned: tuple[str, ...] | None = None
        self._owned_any = False
        spans = list(
            connection.execute(
                sa.select(tables.spans).where(tables.spans.c.platform.in_(list(platforms)))
            )
        )
        #: Per platform with any activity: first and last dated moment, received known.
        self._spans = {row.platform: (row.first_at, row.last_at, row.received) for row in spans}
        lasts = [row.last_at for row in spans if row.last_at is not None]
        self._last = max(lasts) if lasts else None

    # -- the sources ----------------------------------------------------------------------

    def _edges(self, bounds: Iterable[datetime | None]) -> set[int]:
        """The weeks a bound cuts: read as rows, not from the summary. A bound after every
        dated row cuts nothing (every row lies before it)."""
        found = set()
        for bound in bounds:
            if bound is None or self._last is None or bound > self._last:
                continue
            number, starts = _week(bound)
            if not starts:
                found.add(number)
        return found

    def _in_weeks(self, column: Any, weeks: set[int]) -> sa.ColumnElement[bool]:
        return sa.or_(
            *((column >= _week_start(w)) & (column < _week_start(w + 1)) for w in sorted(weeks))
        )

    def contacts(
        self, platforms: Sequence[str], bounds: Iterable[datetime | None], summary: bool = True
    ) -> Any:
        """The exchanges of ``platforms`` as ``(platform, given, kind, person, account, at,
        at_s, n, first_at, last_at, decayed)``: weekly sums where no bound cuts the week
        (``summary``), single rows elsewhere. ``decayed`` is the sum of each exchange's
        decay (at the summary's half-life) from ``at_s``."""
        k, scope = self.t.contacts.c, list(platforms)
        rows = sa.select(
            k.platform,
            k.given,
            k.kind,
            k.person,
            k.account,
            k.at,
            k.at_s,
            sa.literal(1, sa.Integer).label("n"),
            k.at.label("first_at"),
            k.at.label("last_at"),
            sa.literal(1.0, sa.Float).label("decayed"),
        ).where(k.platform.in_(scope))
        if not summary:
            return rows.subquery("exchanges")
        edges = self._edges(bounds)
        w = self.t.weeks.c
        weekly = sa.select(
            w.platform,
            w.given,
            w.kind,
            w.person,
            w.account,
            w.at,
            w.at_s,
            w.exchanges.label("n"),
            w.first_at,
            w.last_at,
            w.decayed,
        ).where(w.platform.in_(scope))
        if not edges:
            return weekly.subquery("exchanges")
        weekly = weekly.where(w.week.is_(None) | w.week.not_in(sorted(edges)))
        return sa.union_all(weekly, rows.where(self._in_weeks(k.at, edges))).subquery("exchanges")

    def own(self, platforms: Sequence[str], window: Window) -> Any:
        """The user's posts of ``platforms`` as ``(platform, at, at_s, kind, base,
        answers_other, shared_person, replied, n, replies_known, replies,
        amplification_known, amplification, likes_known, likes)``, weekly where the
        window does not cut the week."""
        o, scope = self.t.own.c, list(platforms)

        def known(column: Any) -> Any:
            return sa.case((column.is_not(None), 1), else_=0)

        edges = self._edges((window.since, window.until))
        rows = sa.select(
            o.platform,
            o.at,
            o.at_s,
            o.kind,
            o.base,
            o.answers_other,
            o.shared_person,
            sa.case((o.answers_other, o.reply_to_author_id), else_=None).label("replied"),
            sa.literal(1, sa.Integer).label("n"),
            known(o.reply_count).label("replies_known"),
            o.reply_count.label("replies"),
            known(o.amplification).label("amplification_known"),
            o.amplification,
            known(o.like_count).label("likes_known"),
            o.like_count.label("likes"),
        ).where(o.platform.in_(scope))
        w = self.t.own_weeks.c
        weekly = sa.select(
            w.platform,
            w.at,
            w.at_s,
            w.kind,
            w.base,
            w.answers_other,
            w.shared_person,
            w.replied,
            w.posts.label("n"),
            w.replies_known,
            w.replies,
            w.amplification_known,
            w.amplification,
            w.likes_known,
            w.likes,
        ).where(w.platform.in_(scope))
        if not edges:
            return weekly.subquery("own")
        weekly = weekly.where(w.week.is_(None) | w.week.not_in(sorted(edges)))
        return sa.union_all(weekly, rows.where(self._in_weeks(o.at, edges))).subquery("own")

    # -- what the whole store says --------------------------------------------------------

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

    def ends(self) -> dict[str, tuple[datetime, datetime]]:
        """Per platform, the first and newest dated activity (the user's posts and every
        exchange)."""
        return {
            platform: (first, last)
            for platform, (first, last, _) in self._spans.items()
            if first is not None and last is not None
        }

    def received_known(self) -> set[str]:
        """Platforms where the data holds what others did to the user."""
        return {platform for platform, (_, _, received) in self._spans.items() if received}

    def anyone(self, platforms: Iterable[str]) -> bool:
        """Whether the scope holds any post of the user's or any exchange, at any time."""
        return any(platform in self._spans for platform in platforms)

    # -- one period -------------------------------------------------------------------------

    def own_counts(self, platforms: Iterable[str], window: Window) -> OwnCounts:
        """The user's posts of the period: how many, replies to others, the mix, sharing
        and the public counts they carry."""
        scope = list(platforms)
        s = self.own(scope, window).c
        shared = s.base == "sharing"
        rated = s.kind != PostKind.REPOST.value

        def total(condition: Any, value: Any = None) -> Any:
            return sa.func.sum(sa.case((condition, s.n if value is None else value), else_=0))

        rows = self.connection.execute(
            sa.select(
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
            .where(window.holds(s.at))
            .group_by(s.base)
        ).all()
        found = OwnCounts()
        rates = [[0, 0], [0, 0], [0, 0]]
        mix: dict[str, int] = {}
        for row in rows:
            name, n = row[0], _i(row[1])
            found.posts += n
            mix[name] = n
            found.replies_given += _i(row[2])
            found.reposts += _i(row[3])
            found.quotes += _i(row[4])
            for number, (count, value) in enumerate(((5, 6), (7, 8), (9, 10))):
                rates[number][1] += _i(row[count])
                rates[number][0] += _i(row[value])
        links = mix.pop("links", 0)
        owned = self._owned_posts(scope, window) if links else 0
        found.links_shared = links - owned
        for name, n in (("sharing", links - owned), ("broadcast", owned)):
            if n:
                mix[name] = mix.get(name, 0) + n
        found.mix = mix
        found.self_promotion = mix.get("broadcast", 0)
        found.rates = (
            (rates[0][0], rates[0][1]),
            (rates[1][0], rates[1][1]),
            (rates[2][0], rates[2][1]),
        )
        return found

    def _owned_posts(self, platforms: list[str], window: Window) -> int:
        """The user's posts of the period whose links include one of their own places."""
        if not self._owned_any:
            return 0
        o, links = self.t.own.c, self.t.own_links.c
        owning = (
            sa.select(links.platform, links.id)
            .select_from(self.t.own_links.join(_OWNED, _OWNED.c.url == links.url))
            .where(links.platform.in_(platforms))
        )
        return _i(
            self.connection.execute(
                sa.select(sa.func.count()).where(
                    sa.tuple_(o.platform, o.id).in_(owning)
                    & (o.base == "links")
                    & window.holds(o.at)
                )
            ).scalar()
        )

    def own_weekly(
        self, platforms: Iterable[str], window: Window, first: float
    ) -> list[tuple[int, int, int, int]]:
        """Per week: the user's posts, replies to others, and shares of others' posts."""
        s = self.own(list(platforms), window).c
        week = sqlfn.week_of(self.connection, s.at_s, first).label("week")
        rows = self.connection.execute(
            sa.select(
                week,
                sa.func.sum(s.n),
                sa.func.sum(sa.case((s.answers_other, s.n), else_=0)),
                sa.func.sum(sa.case((s.base == "sharing", s.n), else_=0)),
            )
            .where(window.holds(s.at) & s.at.is_not(None))
            .group_by(week)
        )
        return [(_i(r[0]), _i(r[1]), _i(r[2]), _i(r[3])) for r in rows]

    def shared_people(self, platforms: Iterable[str], window: Window) -> dict[str, int]:
        """Whose posts the user shared in the period, and how often."""
        s = self.own(list(platforms), window).c
        return {
            row[0]: _i(row[1])
            for row in self.connection.execute(
                sa.select(s.shared_person, sa.func.sum(s.n))
                .where(window.holds(s.at) & (s.base == "sharing") & s.shared_person.is_not(None))
                .group_by(s.shared_person)
            )
        }

    def replied(self, platforms: Iterable[str], window: Window) -> list[tuple[str, str]]:
        """The distinct accounts the user answered in the period."""
        s = self.own(list(platforms), window).c
        return [
            (row[0], row[1])
            for row in self.connection.execute(
                sa.select(s.platform, s.replied)
                .where(window.holds(s.at) & s.replied.is_not(None))
                .distinct()
            )
        ]

    def contact_counts(self, platforms: Iterable[str], window: Window) -> dict[str, int]:
        """Exchanges of the period: how many, replies received, likes and bookmarks given
        and from how many people; and undated likes and bookmarks (any time)."""
        s = self.contacts(list(platforms), (window.since, window.until)).c
        learning = s.given & s.kind.in_(_LEARNING)
        now = window.holds(s.at)

        def total(condition: Any) -> Any:
            return sa.func.sum(sa.case((condition, s.n), else_=0))

        row = self.connection.execute(
            sa.select(
                total(now),
                total(now & ~s.given & (s.kind == InteractionKind.REPLY.value)),
                total(now & s.given & (s.kind == InteractionKind.LIKE.value)),
                total(now & s.given & (s.kind == InteractionKind.BOOKMARK.value)),
                sa.func.count(sa.distinct(sa.case((now & learning, s.person), else_=None))),
                total(learning & s.at.is_(None)),
            )
        ).one()
        names = ("now", "replies_received", "likes", "bookmarks", "sources", "undated_learning")
        return {name: _i(value) for name, value in zip(names, row, strict=True)}

    def contact_weekly(
        self, platforms: Iterable[str], window: Window, first: float, bots: Iterable[str]
    ) -> tuple[dict[int, int], dict[int, int]]:
        """Per week: replies received, and the distinct people exchanged with (automated
        accounts apart)."""
        s = self.contacts(list(platforms), (window.since, window.until)).c
        c = self.connection
        week = sqlfn.week_of(c, s.at_s, first).label("week")
        where = window.holds(s.at) & s.at.is_not(None)
        replies = {
            _i(r[0]): _i(r[1])
            for r in c.execute(
                sa.select(week, sa.func.sum(s.n))
                .where(where & ~s.given & (s.kind == InteractionKind.REPLY.value))
                .group_by(week)
            )
        }
        people = {
            _i(r[0]): _i(r[1])
            for r in c.execute(
                sa.select(week, sa.func.count(sa.distinct(s.person)))
                .where(where & s.person.is_not(None) & s.person.not_in(list(bots)))
                .group_by(week)
            )
        }
        return replies, people

    def people(
        self,
        platforms: Iterable[str],
        window: Window,
        reference: datetime,
        half_life_days: float,
        active_only: bool = False,
    ) -> list[PersonRow]:
        """Per person and account: exchanges up to ``reference`` and their strength there
        (and at the period's start), given and received in the period, and the person's
        first dated and any undated exchange (at any time). ``active_only``: only the
        people exchanged with in the period (what every figure needs; not the fading)."""
        summary = window.all_time or half_life_days == SUMMARY_HALF_LIFE_DAYS
        s = self.contacts(list(platforms), (window.since, window.until, reference), summary).c
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
                total(now & before_end),
            )
            .where(s.person.is_not(None))
            .group_by(s.person, s.platform, s.account)
        ).all()
        if active_only:
            active = {r[0] for r in rows if _i(r[13])}
            rows = [r for r in rows if r[0] in active]
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

    def threads(self, platforms: Iterable[str], window: Window) -> tuple[int, int]:
        """Threads the user posted in during the period with someone else: (started,
        joined)."""
        o, h, scope = self.t.own.c, self.t.threads.c, list(platforms)
        if window.all_time:
            row = self.connection.execute(
                sa.select(sa.func.count(), sa.func.sum(sa.case((h.root_own, 1), else_=0))).where(
                    h.platform.in_(scope) & h.with_others & h.own
                )
            ).one()
        else:
            active = (
                sa.select(o.platform, o.thread)
                .where(o.platform.in_(scope) & window.holds(o.at) & o.thread.is_not(None))
                .distinct()
                .subquery()
            )
            row = self.connection.execute(
                sa.select(sa.func.count(), sa.func.sum(sa.case((h.root_own, 1), else_=0)))
                .select_from(
                    active.join(
                        self.t.threads,
                        (h.platform == active.c.platform) & (h.thread == active.c.thread),
                    )
                )
                .where(h.with_others)
            ).one()
        talking, started = _i(row[0]), _i(row[1])
        return started, talking - started
