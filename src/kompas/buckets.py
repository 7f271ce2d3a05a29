"""Week-by-week series put into buckets a person can read: weeks for up to half a year,
months beyond that, years beyond five years. The dashboard's charts and the CLI's
sparklines bucket the same way, so both show the same figures.

A week belongs to the month (and year) it starts in, the way the weekly series count it;
the first and last buckets may hold fewer weeks than a whole month or year, and say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

#: Up to this many weeks a chart shows weeks; beyond, months.
WEEKS_MAX = 26
#: Up to this many months a chart shows months; beyond, years.
MONTHS_MAX = 60
#: Series that count distinct people per week: a month of them is their weekly average
#: (summing would count the same person once per week).
AVERAGED = frozenset({"people_interacted"})

Unit = Literal["week", "month", "year"]


@dataclass(frozen=True, slots=True)
class Bucket:
    """One bar of a chart: a week, a month or a year."""

    start: date
    #: The sum of the weeks' values (their mean for an averaged series); ``None`` when no
    #: week of the bucket has a value.
    value: int | float | None
    #: How many weeks of the series fall in the bucket, and how many the whole bucket has.
    weeks: int
    whole: int

    @property
    def partial(self) -> bool:
        """The period covers only part of this month or year."""
        return self.weeks < self.whole


@dataclass(frozen=True, slots=True)
class Buckets:
    """A series in buckets of one unit, oldest first."""

    unit: Unit
    buckets: tuple[Bucket, ...]

    def values(self) -> list[int | float | None]:
        """The buckets' values, oldest first."""
        return [b.value for b in self.buckets]

    def newest(self, count: int) -> tuple[Buckets, int]:
        """The ``count`` newest buckets, and how many older ones were left out."""
        kept = self.buckets[-count:] if count > 0 else ()
        return Buckets(self.unit, kept), len(self.buckets) - len(kept)


def bucket(
    weeks: Sequence[str], values: Sequence[int | float | None], *, average: bool = False
) -> Buckets:
    """``values`` per week (``weeks``: the ISO dates of their Mondays) in the unit that
    keeps the chart readable."""
    starts = [date.fromisoformat(w) for w in weeks]
    if len(starts) != len(values):
        raise ValueError(f"{len(starts)} weeks but {len(values)} values")
    if len(starts) <= WEEKS_MAX:
        return Buckets(
            "week", tuple(Bucket(s, v, 1, 1) for s, v in zip(starts, values, strict=True))
        )
    unit: Unit = "month"
    if len({(s.year, s.month) for s in starts}) > MONTHS_MAX:
        unit = "year"
    groups: dict[date, list[int | float | None]] = {}
    for start, value in zip(starts, values, strict=True):
        key = date(start.year, start.month if unit == "month" else 1, 1)
        groups.setdefault(key, []).append(value)
    return Buckets(
        unit,
        tuple(
            Bucket(key, _combine(group, average), len(group), _mondays(key, unit))
            for key, group in groups.items()
        ),
    )


def _combine(values: list[int | float | None], average: bool) -> int | float | None:
    known = [v for v in values if v is not None]
    if not known:
        return None
    if average:
        return round(sum(known) / len(known), 1)
    return sum(known)


def _mondays(start: date, unit: Unit) -> int:
    """How many weeks start in the month or year beginning on ``start``."""
    end = (
        date(start.year + (start.month == 12), start.month % 12 + 1, 1)
        if unit == "month"
        else date(start.year + 1, 1, 1)
    )
    first = start + timedelta(days=(7 - start.weekday()) % 7)
    return 0 if first >= end else (end - first - timedelta(days=1)).days // 7 + 1
