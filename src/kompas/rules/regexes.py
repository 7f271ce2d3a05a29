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
the largest patterns the checks admit). Searches then run on the ``regex`` module within the
item's and the run's remaining time (:class:`Budget`): with a timeout, unless the text is
short enough for the pattern's shape to bound the search (:func:`cheap_length`).
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


#: Constructs whose search cost :func:`cheap_length` does not bound.
_OPAQUE = {
    _constants.GROUPREF,
    _constants.GROUPREF_EXISTS,
    _constants.ASSERT,
    _constants.ASSERT_NOT,
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


#: Backtracking steps a search may be proven to stay under to run without a timeout.
CHEAP_STEPS = 1_000_000


def _cost(nodes: Any) -> tuple[list[int], int, bool]:
    """The counts of the repetitions below ``nodes``, the product of their alternations'
    sizes, and whether some construct defeats the bound (a backreference, a lookaround,
    an alternation inside a repetition)."""
    counts: list[int] = []
    branches = 1
    opaque = False
    for op, value in nodes:
        if op in _REPEATS:
            counts.append(value[1])
            inner, inner_branches, inner_opaque = _cost(value[2])
            counts += inner
            opaque = opaque or inner_opaque or inner_branches > 1
        elif op in (
            _constants.GROUPREF,
            _constants.GROUPREF_EXISTS,
            _constants.ASSERT,
            _constants.ASSERT_NOT,
        ):
            opaque = True
        else:
            children = _children(op, value)
            if op is _constants.BRANCH:
                branches *= len(children)
            for child in children:
                inner, inner_branches, inner_opaque = _cost(child)
                counts += inner
                branches *= inner_branches
                opaque = opaque or inner_opaque
    return counts, branches, opaque


def cheap_length(nodes: Any) -> int:
    """The longest text on which a search certainly takes fewer than :data:`CHEAP_STEPS`
    backtracking steps (so it runs without a timeout); 0 when no length is proven."""
    counts, branches, opaque = _cost(nodes)
    if opaque:
        return 0

    def steps(length: int) -> int:
        total = length * branches
        for count in counts:
            total *= min(count, length) + 1
        return total

    low, high = 0, CHEAP_STEPS
    while low < high:  # the largest length whose steps stay within the bound
        middle = (low + high + 1) // 2
        if steps(middle) <= CHEAP_STEPS:
            low = middle
        else:
            high = middle - 1
    return low


def check(pattern: str) -> Any:
    """Raise :class:`PatternError` if ``pattern`` is refused (see the module's docstring);
    return its syntax tree."""
    try:
        parsed = _parser.parse(pattern)
    except Exception as exc:  # re's own errors, and overflows on absurd numbers
        raise PatternError(f"{exc} (kompas reads regexes with Python's re syntax)") from None
    _walk(parsed, False)
    return parsed


@dataclass(frozen=True, slots=True)
class Regex:
    """A checked, compiled pattern, and the longest text it searches without a timeout."""

    pattern: regex.Pattern[str]
    cheap_length: int


def compile_pattern(pattern: str) -> Regex:
    """``pattern`` checked, then compiled; raises :class:`PatternError` saying why not."""
    parsed = check(pattern)
    try:
        compiled = regex.compile(pattern, regex.VERSION0)
    except (regex.error, OverflowError, RecursionError) as exc:
        raise PatternError(str(exc)) from None
    return Regex(compiled, cheap_length(parsed))


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
    checked: Regex, text: str, budget: Budget, spent: float
) -> tuple[regex.Match[str] | None, bool, float]:
    """The first match of the pattern in ``text`` (or ``None``), whether the time ran out
    first, and the item's time spent afterwards (``spent`` before).

    A search proven cheap (``text`` no longer than the pattern's ``cheap_length``) runs
    without a timeout, which costs the ``regex`` module more than most searches take; its
    time still counts against the budget."""
    started = perf_counter()
    left = min(budget.item_seconds - spent, budget.deadline - started)
    if left <= 0:
        return None, True, spent
    if len(text) <= checked.cheap_length:
        match = checked.pattern.search(text)
    else:
        try:
            match = checked.pattern.search(text, timeout=left)
        except TimeoutError:
            return None, True, spent + perf_counter() - started
    return match, False, spent + perf_counter() - started
