"""Key results against what the user actually did: each one's value over its window,
whether it is met, and its trend over the previous weeks. A metric the data cannot know
is "no data", never 0."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kompas.i18n import Message, Render, message
from kompas.strategy.metrics import REGISTRY, MetricContext
from kompas.strategy.model import Goal, KeyResult, Strategy

#: How many weekly points a trend has (the current window included).
TREND_WEEKS = 6
#: A change smaller than this share of the target (or of the value) counts as flat.
FLAT = 0.05
_LENGTH = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """The key result's metric over one window."""

    since: datetime
    until: datetime
    value: float | None


@dataclass(frozen=True, slots=True)
class KeyResultStatus:
    """One key result: its value, target, verdict and trend, and why."""

    goal: str
    key_result: KeyResult
    since: datetime
    until: datetime
    value: float | None
    trend: tuple[TrendPoint, ...]
    #: Why there is no value (and what would give one), when there is none.
    no_data_reason: Message | None = None

    @property
    def met(self) -> bool | None:
        """Whether the target is reached (``None``: no data)."""
        return None if self.value is None else self.key_result.met(self.value)

    @property
    def status(self) -> str:
        """``met``, ``missed`` or ``no data``."""
        return "no data" if self.met is None else ("met" if self.met else "missed")

    @property
    def direction(self) -> str | None:
        """``up``, ``down`` or ``flat``: the last value against the mean of the earlier
        ones (``None`` without at least two values)."""
        values = [p.value for p in self.trend if p.value is not None]
        if len(values) < 2 or self.trend[-1].value is None:
            return None
        last, earlier = values[-1], values[:-1]
        mean = sum(earlier) / len(earlier)
        scale = max(abs(self.key_result.target), abs(mean), 1e-9)
        if abs(last - mean) < FLAT * scale:
            return "flat"
        return "up" if last > mean else "down"

    @property
    def shortfall(self) -> float:
        """How far from the target, relative to it (0 when met or no data)."""
        return 0.0 if self.value is None else self.key_result.shortfall(self.value)

    def reason(self) -> Message:
        """The verdict in words."""
        kr = self.key_result
        if self.value is None:
            why = self.no_data_reason or message("strategy.cannot_tell")
            return message("strategy.kr.no_data", metric=kr.metric, why=why)
        return message(
            "strategy.kr.verdict",
            metric=kr.metric,
            value=_number(self.value, kr.percent),
            op=kr.op,
            target=_number(kr.target, kr.percent),
            verdict=message("strategy.kr.met" if self.met else "strategy.kr.missed"),
        )

    def to_json(self, text: Render = str) -> dict[str, object]:
        """A JSON-ready dict (its words through ``text``: English strings by default)."""
        kr = self.key_result
        return {
            "goal": self.goal,
            "key_result": kr.text,
            "metric": kr.metric,
            "per": kr.per,
            "op": kr.op,
            "target": kr.target,
            "value": None if self.value is None else round(self.value, 4),
            "status": self.status,
            "met": self.met,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "trend": [
                {
                    "since": p.since.isoformat(),
                    "until": p.until.isoformat(),
                    "value": None if p.value is None else round(p.value, 4),
                }
                for p in self.trend
            ],
            "direction": self.direction,
            "reason": text(self.reason()),
            "no_data_reason": None if self.no_data_reason is None else text(self.no_data_reason),
        }


def _number(value: float, percent: bool) -> Message:
    if percent:
        return message("strategy.number.percent", value=value)
    if float(value).is_integer():
        return message("strategy.number.whole", value=int(value))
    return message("strategy.number.decimal", value=value)


def window(kr: KeyResult, since: datetime, until: datetime) -> tuple[datetime, datetime]:
    """The window a key result is measured over: its ``per`` ending at ``until``, or the
    review period ``[since, until)``."""
    if kr.per is None:
        return since, until
    return until - _LENGTH[kr.per], until


def evaluate_one(
    goal: Goal,
    kr: KeyResult,
    context: MetricContext,
    since: datetime,
    until: datetime,
    weeks: int = TREND_WEEKS,
) -> KeyResultStatus:
    """One key result over the period, with the trend of the same window moved back a
    week at a time."""
    start, end = window(kr, since, until)
    trend = []
    for back in range(weeks - 1, -1, -1):
        shift = timedelta(days=7 * back)
        value = REGISTRY.value(kr.metric, context, start - shift, end - shift)
        trend.append(TrendPoint(start - shift, end - shift, value))
    value = trend[-1].value
    why = None if value is not None else REGISTRY.why_no_data(kr.metric, context, start, end)
    return KeyResultStatus(goal.name, kr, start, end, value, tuple(trend), why)


def windows(
    strategy: Strategy, since: datetime, until: datetime, weeks: int = TREND_WEEKS
) -> list[tuple[datetime, datetime]]:
    """Every window the key results over ``[since, until)`` read a community figure in,
    their trends included: what :meth:`MetricContext.prepare` counts at once."""
    found = []
    for _goal, kr in strategy.key_results:
        if not kr.metric.startswith("community."):
            continue
        start, end = window(kr, since, until)
        for back in range(weeks):
            shift = timedelta(days=7 * back)
            found.append((start - shift, end - shift))
    return found


def evaluate(
    strategy: Strategy,
    context: MetricContext,
    since: datetime,
    until: datetime,
    weeks: int = TREND_WEEKS,
) -> list[KeyResultStatus]:
    """Every key result of the strategy over ``[since, until)``."""
    context.prepare(windows(strategy, since, until, weeks))
    return [
        evaluate_one(goal, kr, context, since, until, weeks) for goal, kr in strategy.key_results
    ]
