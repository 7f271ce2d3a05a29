"""Where the community figures read the user's exchanges and posts: the derived tables of
:mod:`kompas.store.exchanges` at the coarsest level that answers a period exactly.

Every figure reads one *source*: the weekly sums for each week that lies wholly on one
side of every bound the period sets (its start, its end, the moment strengths are aged
to), the daily sums for the whole days of the weeks a bound cuts, and the rows themselves
only for the days a bound cuts; over all time, the sums of the whole history. A sum stands
for its week or day at its first moment, which is on the same side of every bound as each
of the rows it adds up, so each condition reads the same on a sum as on its rows; counts
become sums of ``n``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from kompas.store.exchanges import DAY_SECONDS, MONDAY, WEEK_SECONDS, Derived

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


def _number(moment: datetime, length: int) -> tuple[int, bool]:
    """The summary's week (or day: ``length`` seconds) number of ``moment``, and whether
    ``moment`` starts it."""
    seconds = (moment - _ORIGIN).total_seconds()
    number = math.floor(seconds / length)
    return number, seconds == number * length


def _start(number: int, length: int) -> datetime:
    return _ORIGIN + timedelta(seconds=number * length)


_Level = tuple[sa.Table, Callable[[Any], Sequence[Any]]]


@dataclass(frozen=True, slots=True)
class _Levels:
    """One side's tables (exchanges or the user's posts), each with the columns a
    source reads off it."""

    weekly: _Level
    daily: _Level
    rows: _Level
    totals: _Level


@dataclass(frozen=True, slots=True)
class _Split:
    """The weeks and days a period's bounds cut, and the window its figures read."""

    weeks: set[int]
    days: set[int]
    within: Window
    #: whether any bound lies within the data (then no sum of the whole history serves)
    bounded: bool = False

    def _range(self, column: Any, length: int) -> sa.ColumnElement[bool]:
        """``column`` (a week or day number) overlaps the window."""
        found: sa.ColumnElement[bool] = sa.true()
        if self.within.since is not None:
            found &= column >= _number(self.within.since, length)[0]
        if self.within.until is not None:
            last, starts = _number(self.within.until, length)
            found &= column <= (last - 1 if starts else last)
        return found

    def weeks_within(self, column: Any) -> sa.ColumnElement[bool]:
        """The weeks the window overlaps."""
        return self._range(column, WEEK_SECONDS)

    def days_within(self, column: Any) -> sa.ColumnElement[bool]:
        """The days the window overlaps."""
        return self._range(column, DAY_SECONDS)


class Sources:
    """The sources of one set of derived tables, for a request's ``platforms``; and what
    the whole store says of them (the span of the data, whether others' actions are
    known)."""

    def __init__(
        self, connection: sa.Connection, tables: Derived, platforms: Sequence[str]
    ) -> None:
        self.connection = connection
        self.t = tables
        self.platforms = list(platforms)
        spans = list(
            connection.execute(
                sa.select(tables.spans).where(tables.spans.c.platform.in_(list(platforms)))
            )
        )
        #: Per platform with any activity: first and last dated moment, received known.
        self._spans = {row.platform: (row.first_at, row.last_at, row.received) for row in spans}
        lasts = [row.last_at for row in spans if row.last_at is not None]
        self._last = max(lasts) if lasts else None

    def _split(self, bounds: Iterable[datetime | None], within: Window | None) -> _Split:
        """Where each level is read: the weeks a bound cuts come from the daily sums, the
        days a bound cuts from the rows. A bound after every dated row cuts nothing
        (every row lies before it)."""
        weeks: set[int] = set()
        days: set[int] = set()
        bounded = False
        for bound in bounds:
            if bound is None or self._last is None or bound > self._last:
                continue
            bounded = True
            week, at_week = _number(bound, WEEK_SECONDS)
            day, at_day = _number(bound, DAY_SECONDS)
            if not at_week:
                weeks.add(week)
            if not at_day:
                days.add(day)
        return _Split(weeks, days, within or Window(None, None), bounded)

    def _source(
        self,
        split: _Split,
        levels: _Levels,
        platforms: Sequence[str],
        name: str,
        weekly: bool,
    ) -> Any:
        """The union of the three levels: weekly sums of the weeks no bound cuts, daily
        sums of the days no bound cuts in the weeks one does, and rows of the cut days;
        each only as far as ``split.within`` reaches (and undated sums always). Over all
        time with no bound in the data, the sums of the whole history (unless the figure
        needs each week: a weekly count, a decay from each week's start)."""
        scope = list(platforms)
        if not (weekly or split.bounded or split.within.since or split.within.until):
            table, columns = levels.totals
            return sa.select(*columns(table.c)).where(table.c.platform.in_(scope)).subquery(name)
        table, columns = levels.weekly
        w = table.c
        # The dated weeks and the undated apart: each an index range of its own.
        parts = [
            sa.select(*columns(w)).where(
                w.platform.in_(scope)
                & w.week.is_not(None)
                & split.weeks_within(w.week)
                & w.week.not_in(sorted(split.weeks))
            ),
            sa.select(*columns(w)).where(w.platform.in_(scope) & w.week.is_(None)),
        ]
        if split.weeks:
            table, columns = levels.daily
            d = table.c
            parts.append(
                sa.select(*columns(d)).where(
                    d.platform.in_(scope)
                    & sa.or_(*((d.day >= 7 * k) & (d.day < 7 * k + 7) for k in sorted(split.weeks)))
                    & d.day.not_in(sorted(split.days))
                    & split.days_within(d.day)
                )
            )
        if split.days:
            table, columns = levels.rows
            r = table.c
            parts.append(
                sa.select(*columns(r)).where(
                    r.platform.in_(scope)
                    & sa.or_(
                        *(
                            (r.at >= _start(k, DAY_SECONDS)) & (r.at < _start(k + 1, DAY_SECONDS))
                            for k in sorted(split.days)
                        )
                    )
                    & split.within.holds(r.at)
                )
            )
        return sa.union_all(*parts).subquery(name)

    def contacts(
        self,
        platforms: Sequence[str],
        bounds: Iterable[datetime | None],
        summary: bool = True,
        within: Window | None = None,
        weekly: bool = False,
    ) -> Any:
        """The exchanges of ``platforms`` as ``(platform, given, kind, person, account, at,
        at_s, n, first_at, last_at, decayed)``: sums where no bound cuts their week or day
        (``summary``), single rows elsewhere; only those of ``within`` (and the undated)
        when given. ``decayed`` is the sum of each exchange's decay (at the summary's
        half-life) from ``at_s``."""

        def rows(k: Any) -> Sequence[Any]:
            return (
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
            )

        def sums(w: Any) -> Sequence[Any]:
            return (
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
            )

        if not summary:
            k = self.t.contacts.c
            return (
                sa.select(*rows(k))
                .where(k.platform.in_(list(platforms)) & (within or Window(None, None)).holds(k.at))
                .subquery("exchanges")
            )
        return self._source(
            self._split(bounds, within),
            _Levels(
                (self.t.weeks, sums),
                (self.t.days, sums),
                (self.t.contacts, rows),
                (self.t.totals, sums),
            ),
            platforms,
            "exchanges",
            weekly,
        )

    def own(
        self,
        platforms: Sequence[str],
        window: Window,
        weekly: bool = False,
        bounds: Iterable[datetime | None] = (),
    ) -> Any:
        """The user's posts of ``platforms`` in ``window`` (undated ones too), cut at its
        bounds and at ``bounds`` (the periods a batch counts within it), as
        ``(platform, at, at_s, kind, base, answers_other, shared_person, replied, n,
        replies_known, replies, amplification_known, amplification, likes_known, likes)``,
        summed where the window does not cut the week or day."""

        def known(column: Any) -> Any:
            return sa.case((column.is_not(None), 1), else_=0)

        def rows(o: Any) -> Sequence[Any]:
            return (
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
            )

        def sums(w: Any) -> Sequence[Any]:
            return (
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
            )

        return self._source(
            self._split((window.since, window.until, *bounds), window),
            _Levels(
                (self.t.own_weeks, sums),
                (self.t.own_days, sums),
                (self.t.own, rows),
                (self.t.own_totals, sums),
            ),
            platforms,
            "own",
            weekly,
        )

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
