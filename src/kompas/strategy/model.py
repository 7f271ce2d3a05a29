"""The strategy file as kompas reads it: plain, frozen records."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

#: Key-result operators as written (``≥`` and ``≤`` are read as ``>=`` and ``<=``).
OPERATORS = (">=", ">", "<=", "<", "==")


def compare(value: float, op: str, target: float) -> bool:
    """Whether ``value op target`` holds (``==`` tolerates float rounding)."""
    if op == ">=":
        return value >= target or math.isclose(value, target, rel_tol=1e-9, abs_tol=1e-12)
    if op == ">":
        return value > target and not math.isclose(value, target, rel_tol=1e-9, abs_tol=1e-12)
    if op == "<=":
        return value <= target or math.isclose(value, target, rel_tol=1e-9, abs_tol=1e-12)
    if op == "<":
        return value < target and not math.isclose(value, target, rel_tol=1e-9, abs_tol=1e-12)
    if op == "==":
        return math.isclose(value, target, rel_tol=1e-9, abs_tol=1e-12)
    raise ValueError(f"unknown operator {op!r}; known: {', '.join(OPERATORS)}")


@dataclass(frozen=True, slots=True)
class KeyResult:
    """``metric [per …] op target``, bound to a metric kompas computes."""

    text: str
    metric: str
    op: str
    target: float
    per: str | None = None
    percent: bool = False
    line: int = 0
    column: int = 0

    def met(self, value: float) -> bool:
        """Whether ``value`` meets the key result."""
        return compare(value, self.op, self.target)

    def shortfall(self, value: float) -> float:
        """How far ``value`` is from the target, relative to it (0 when met, at most 1)."""
        if self.met(value):
            return 0.0
        scale = abs(self.target) or 1.0
        # A strict target missed exactly at the line is still a (small) gap.
        return max(0.01, min(1.0, abs(self.target - value) / scale))


@dataclass(frozen=True, slots=True)
class Goal:
    """A goal and the key results that tell whether it is reached."""

    name: str
    key_results: tuple[KeyResult, ...]
    why: str | None = None


@dataclass(frozen=True, slots=True)
class Pillar:
    """A content pillar: what the user means to post about."""

    id: str
    name: str
    description: str
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Habit:
    """A count of the user's own actions to reach every day, week or month."""

    name: str
    per: str
    target: int
    count: str | None = None
    tag: str | None = None
    distinct: str = "actions"

    @property
    def what(self) -> str:
        """What is counted, in words (for reports)."""
        base = f"tag {self.tag}" if self.tag else str(self.count)
        return f"{base} (distinct people)" if self.distinct == "people" else base


@dataclass(frozen=True, slots=True)
class Strategy:
    """A whole strategy file."""

    why: str
    goals: tuple[Goal, ...] = ()
    pillars: tuple[Pillar, ...] = ()
    mix: dict[str, float] = field(default_factory=dict)
    habits: tuple[Habit, ...] = ()
    #: The user's own sites: links to them are self-promotion, not sharing.
    domains: tuple[str, ...] = ()
    style: str | None = None
    language: str | None = None
    path: str = "<strategy>"

    @property
    def key_results(self) -> list[tuple[Goal, KeyResult]]:
        """Every key result with its goal, in file order."""
        return [(goal, kr) for goal in self.goals for kr in goal.key_results]
