"""Periods of time, and default periods anchored to the data rather than to today.

People download an export once; months later "the last 90 days" before today holds
nothing, and a page of zeros reads as "you did nothing". So every default period ends at
the newest activity in the store when nothing is newer, and says so. Pure: no I/O; the
store gives the :class:`DataSpan` (``kompas.store.queries.data_span``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from kompas.errors import UsageError
from kompas.i18n import message

#: The default length of a period, in days, when the user names none.
DEFAULT_DAYS = 90


class PeriodError(UsageError):
    """A date or period the user gave that kompas cannot use (a bad flag value: exit 2)."""


@dataclass(frozen=True, slots=True)
class Period:
    """``[since, until)`` in UTC; both ``None`` means all time, undated records included.

    A bounded period holds only dated records: an undated like cannot be placed in it.
    ``anchored`` says the period was chosen by kompas to end where the data ends (not
    today), and ``data_end`` is that newest activity, so every screen can say so.
    """

    since: datetime | None = None
    until: datetime | None = None
    anchored: bool = field(default=False, compare=False)
    data_end: datetime | None = field(default=None, compare=False)

    @property
    def all_time(self) -> bool:
        """Whether the period is unbounded (and so includes undated records)."""
        return self.since is None and self.until is None

    def contains(self, when: datetime | None) -> bool:
        """Whether a record dated ``when`` falls in the period."""
        if when is None:
            return self.all_time
        return (self.since is None or when >= self.since) and (
            self.until is None or when < self.until
        )

    @property
    def last_day(self) -> date | None:
        """The last day the period includes (``until`` is exclusive)."""
        return None if self.until is None else (self.until - timedelta(microseconds=1)).date()

    def label(self) -> str:
        """``2023-02-13 to 2023-05-13`` or ``all time``."""
        if self.since is None and self.until is None:
            return "all time"
        first = "the beginning" if self.since is None else f"{self.since:%Y-%m-%d}"
        return f"{first} to {self.last_day}" if self.until is not None else f"{first} onwards"


@dataclass(frozen=True, slots=True)
class DataSpan:
    """The first and newest dated activity in the store (the user's posts and what they
    gave or received), overall and per platform; ``None`` when the store holds none."""

    first: datetime | None = None
    last: datetime | None = None
    platforms: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)

    def of(self, platform: str | None) -> DataSpan:
        """The span of one platform (``None``: all of them)."""
        if platform is None:
            return self
        found = self.platforms.get(platform)
        if found is None:
            return DataSpan()
        return DataSpan(found[0], found[1], {platform: found})

    @property
    def empty(self) -> bool:
        """Whether the store holds no dated activity at all."""
        return self.last is None


def day_start(moment: datetime) -> datetime:
    """Midnight (UTC) of ``moment``'s day."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def anchor(span: DataSpan, now: datetime | None = None) -> tuple[datetime, bool]:
    """The end (exclusive) of a default period: the end of the day of the newest activity
    when that day is before today (``anchored``), else the end of today."""
    now = now or datetime.now(UTC)
    today_end = day_start(now) + timedelta(days=1)
    if span.last is None:
        return today_end, False
    data_end = day_start(span.last) + timedelta(days=1)
    if data_end < today_end:
        return data_end, True
    return today_end, False


def default_period(span: DataSpan, days: int = DEFAULT_DAYS, now: datetime | None = None) -> Period:
    """The ``days`` whole days up to the newest activity (or up to today when the data is
    current or there is none)."""
    end, anchored = anchor(span, now)
    return Period(end - timedelta(days=days), end, anchored=anchored, data_end=span.last)


def moment(value: str, flag: str, end_of_day: bool) -> datetime:
    """A ``--since``/``--until`` value as UTC: a day (``YYYY-MM-DD``; its end when
    ``end_of_day``) or an ISO 8601 time."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end_of_day else start
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PeriodError(message("errors.flag_not_a_date", flag=flag, value=repr(value))) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def period_of(
    since: str | None,
    until: str | None,
    all_time: bool,
    span: DataSpan | None = None,
    days: int = DEFAULT_DAYS,
    now: datetime | None = None,
) -> Period:
    """The period the flags name. ``--until`` includes its whole day; without it the
    period ends where the data ends (see :func:`anchor`); without ``--since`` it starts
    ``days`` before its end."""
    if all_time:
        if since or until:
            raise PeriodError(message("errors.all_and_period"))
        return Period(data_end=span.last if span else None)
    anchored = False
    if until:
        end = moment(until, "--until", True)
    else:
        end, anchored = anchor(span or DataSpan(), now)
    start = moment(since, "--since", False) if since else end - timedelta(days=days)
    if start >= end:
        raise PeriodError(
            message("errors.since_after_until", since=since, until=until or end.date())
        )
    return Period(start, end, anchored=anchored, data_end=span.last if span else None)


#: What every screen says first on a store with no data of the user's.
NO_DATA_YET = "No data yet: import an export with `kompas import ...` (see docs/import.md)."


def note(period: Period, span: DataSpan) -> str | None:
    """The first line a screen shows about its period: where the data ends when the
    period was anchored there, or that there is no data at all."""
    if span.empty:
        return NO_DATA_YET
    if period.anchored and span.last is not None:
        if period.since is None:
            return f"Your data ends {span.last:%Y-%m-%d}."
        days = (period.until - period.since).days if period.until else 0
        return (
            f"Your data ends {span.last:%Y-%m-%d}; showing the {days} days up to then "
            f"({period.label()})."
        )
    return None


def default_day(
    span: DataSpan, days: int = 1, now: datetime | None = None
) -> tuple[datetime, str | None]:
    """The day a daily or weekly view looks at when the user names none: the last day of the
    data when it ended before today, else today; and the line that says so."""
    end, anchored = anchor(span, now)
    day = end - timedelta(days=1)
    if span.empty:
        return day, note(Period(), span)
    if not anchored or span.last is None:
        return day, None
    what = "that day" if days == 1 else f"the {days} days up to then"
    return day, (
        f"Your data ends {span.last:%Y-%m-%d}; showing {what} (pass --date to choose another day)."
    )
