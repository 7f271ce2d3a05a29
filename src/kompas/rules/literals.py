"""A cheap necessary condition for a regex: literal strings at least one of which must
occur in the (lowercased) text for the regex to match.

``(?i)\\b(nft|airdrop)s?\\b`` can only match a text containing ``nft`` or ``airdrop``; a
substring test (``in``, C speed) rules most items out before the regex engine runs. When
no such set can be proven, there is no prefilter and the regex always runs.
"""

from __future__ import annotations

import importlib
from typing import Any

# The parser behind ``re`` (Python 3.11+), used only to read a pattern's structure.
_p: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")

#: At most this many alternatives in a prefilter (beyond it, the regex itself is cheaper).
MAX_ALTERNATIVES = 16


def required_literals(pattern: str) -> frozenset[str] | None:
    """Lowercase ASCII strings, one of which every match must contain; ``None`` if
    unknown (the pattern uses syntax ``re`` does not parse, or has no required literal)."""
    try:
        parsed = _p.parse(pattern)
    except Exception:  # any syntax re cannot read: simply no prefilter
        return None
    found = _sequence(list(parsed))
    if not found or any(not s for s in found) or len(found) > MAX_ALTERNATIVES:
        return None
    return frozenset(found)


def _score(options: set[str] | None) -> int:
    return min((len(s) for s in options), default=0) if options else 0


def _sequence(items: list[tuple[Any, Any]]) -> set[str] | None:
    best: set[str] | None = None
    run: list[str] = []

    def consider(options: set[str] | None) -> None:
        nonlocal best
        if options and _score(options) > _score(best):
            best = options

    for op, value in items:
        if op is _c.LITERAL and value < 128:
            run.append(chr(value).lower())
            continue
        if run:
            consider({"".join(run)})
            run = []
        if op is _c.SUBPATTERN:
            consider(_sequence(list(value[-1])))
        elif op is _c.BRANCH:
            branches = [_sequence(list(b)) for b in value[1]]
            if all(branches):
                consider(set().union(*[b for b in branches if b]))
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
            low, _high, inner = value
            if low >= 1:
                consider(_sequence(list(inner)))
        elif op is _c.ATOMIC_GROUP if hasattr(_c, "ATOMIC_GROUP") else False:
            consider(_sequence(list(value)))
    if run:
        consider({"".join(run)})
    return best
