"""The user's regular expressions, checked before they are compiled and searched within a
time budget, so that no rule file can exhaust memory or time.

Before compiling, a pattern is read with the parser of Python's own ``re`` (it builds the
syntax tree only, never the matcher) and refused when it could blow up:

- a repetition inside a repetition (``(a+)+``, ``(x+x+)+y``, ``((a{10}){10}){10}``): the
  shape behind catastrophic backtracking and behind compiled programs that grow as the
  product of the counts;
- a counted repetition above :data:`MAX_COUNT` (``(?:abc){4294967294}`` alone takes
  gigabytes to compile);
- syntax that ``re`` cannot read (what only the ``regex`` module knows, such as ``\\p{L}``
  or fuzzy matching), since it cannot be checked.

What passes compiles in bounded time and memory (``tests/test_rules_budget.py`` compiles
the largest patterns the checks admit). Searches then run on the ``regex`` module with a
timeout taken from the item's and the run's remaining budget (:class:`Budget`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import regex

_parser: Any = importlib.import_module("re._parser")
_constants: Any = importlib.import_module("re._constants")

#: The largest count a ``{m,n}`` repetition may have.
MAX_COUNT = 1000

#: Seconds of regex searching one item may use (all its rules together).
ITEM_SECONDS = 0.1
#: Seconds of regex searching one rules run may use (all its items together).
RUN_SECONDS = 30.0

#: The tag an item gets when its rules ran out of time (it is then kept).
TIMEOUT_TAG = "rules-timeout"

_REPEATS = {
    _constants.MAX_REPEAT,
    _constants.MIN_REPEAT,
    getattr(_constants, "POSSESSIVE_REPEAT", _constants.MAX_REPEAT),
}


class PatternError(ValueError):
    """A pattern kompas refuses to compile, and why."""


def _children(op: Any, value: Any) -> list[Any]:
    """The sub-patterns (lists of (op, value)) directly inside one node."""
    if op in _REPEATS:
        return [value[2]]
    if op is _constants.SUBPATTERN:
        return [value[-1]]
    if op is _constants.BRANCH:
        return list(value[1])
    if op in (_constants.ASSERT, _constants.ASSERT_NOT):
        return [value[1]]
    if op is getattr(_constants, "ATOMIC_GROUP", None):
        return [value]
    if op is _constants.GROUPREF_EXISTS:
        return [branch for branch in value[1:] if branch is not None]
    return []


def _walk(nodes: Any, repeated: bool) -> None:
    """Raise :class:`PatternError` for a nested or oversized repetition below ``nodes``."""
    for op, value in nodes:
        if op in _REPEATS:
            low, high = value[0], value[1]
            if repeated:
                raise PatternError(
                    "a repetition inside a repetition (such as (a+)+) can take exponential "
                    "time; write it without nesting"
                )
            counted = high if high != _constants.MAXREPEAT else low
            if counted > MAX_COUNT:
                raise PatternError(f"a repetition count above {MAX_COUNT} ({counted})")
            _walk(value[2], True)
            continue
        for child in _children(op, value):
            _walk(child, repeated)


def check(pattern: str) -> None:
    """Raise :class:`PatternError` if ``pattern`` is refused (see the module's docstring)."""
    try:
        parsed = _parser.parse(pattern)
    except Exception as exc:  # re's own errors, and overflows on absurd numbers
        raise PatternError(f"{exc} (kompas reads regexes with Python's re syntax)") from None
    _walk(parsed, False)


def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """``pattern`` checked, then compiled; raises :class:`PatternError` saying why not."""
    check(pattern)
    try:
        return regex.compile(pattern, regex.VERSION0)
    except (regex.error, OverflowError, RecursionError) as exc:
        raise PatternError(str(exc)) from None


@dataclass(slots=True)
class Budget:
    """What is left of a rules run's regex time: in all (``deadline``, a
    :func:`time.perf_counter` value) and per item (``item_seconds`` each)."""

    deadline: float
    item_seconds: float = ITEM_SECONDS

    @classmethod
    def start(cls, run_seconds: float = RUN_SECONDS, item_seconds: float = ITEM_SECONDS) -> Budget:
        """A budget whose run starts now."""
        return cls(perf_counter() + run_seconds, item_seconds)


def search(
    pattern: regex.Pattern[str], text: str, budget: Budget, spent: float
) -> tuple[regex.Match[str] | None, bool, float]:
    """The first match of ``pattern`` in ``text`` (or ``None``), whether the time ran out
    first, and the item's time spent afterwards (``spent`` before)."""
    started = perf_counter()
    left = min(budget.item_seconds - spent, budget.deadline - started)
    if left <= 0:
        return None, True, spent
    try:
        match = pattern.search(text, timeout=left)
    except TimeoutError:
        return None, True, spent + perf_counter() - started
    return match, False, spent + perf_counter() - started
