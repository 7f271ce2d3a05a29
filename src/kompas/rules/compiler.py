"""Compiling validated rules into Python closures, once.

A condition becomes two closures over a :class:`~kompas.rules.item.Prepared` item:
``test`` (one item: a bool) and ``why`` (the explain path: the reasons it holds, or
``None``), and a third over a :class:`~kompas.rules.item.Batch`: ``select`` (many items:
the bitmask of the candidates it holds for, the path ``RuleSet.decide_all`` takes).
Nothing in a rule is ever evaluated as code: the compiler only reads strings, numbers
and lists out of the document and closes over them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import regex

from kompas.i18n import Message, message
from kompas.rules import regexes
from kompas.rules.item import (
    COUNT_NAMES,
    FOLD_RISKY,
    Batch,
    Prepared,
    domain_of,
    flags_to_mask,
    indices,
    mask_of,
)
from kompas.rules.literals import required_literals
from kompas.rules.load import RuleFileError, position
from kompas.rules.schema import MAX_DEPTH

Test = Callable[[Prepared], bool]
Why = Callable[[Prepared], list[Message] | None]
Select = Callable[[Batch, int], int]

_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*(m|min|h|d|w)$")


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled condition: its test, its explaining twin, and its batch form.

    ``select(batch, candidates)`` returns the subset of the ``candidates`` bitmask for
    which the condition holds; ``cost`` ranks conditions so ``all`` tries cheap ones first.
    """

    test: Test
    why: Why
    select: Select
    cost: int


def parse_duration(text: str) -> timedelta:
    """``90m``, ``36h``, ``7d``, ``2w`` → a timedelta (the schema checked the form)."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"not a duration: {text!r}")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def _many(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


class Compiler:
    """Turns one validated document into closures; errors cite line and column."""

    def __init__(self, path: str) -> None:
        self.path = path
        #: Whether a compiled rule reads tags given by earlier rules.
        self.reads_tags = False
        #: The tags ``has_tag`` conditions test, lowercased.
        self.tags_read: set[str] = set()
        #: Every substring the rules look for in the lowercased text and title.
        self.text_needles: set[str] = set()
        self.title_needles: set[str] = set()

    def error(self, node: Any, key: Any, problem: str, expected: str) -> RuleFileError:
        line, column = position(node, key)
        return RuleFileError(self.path, line, column, problem, expected)

    def condition(self, node: Any, depth: int = 1) -> Condition:
        """A mapping of conditions; several keys must all hold."""
        if depth > MAX_DEPTH:
            raise self.error(
                node,
                None,
                "conditions nested too deep",
                f"at most {MAX_DEPTH} levels of all/any/not",
            )
        parts = [self.one(node, key, node[key], depth) for key in node]
        return parts[0] if len(parts) == 1 else _all(parts)

    def one(self, parent: Any, key: str, value: Any, depth: int) -> Condition:
        """One condition ``key: value`` of ``parent``."""
        if key == "all":
            return _all([self.condition(v, depth + 1) for v in value])
        if key == "any":
            return _any([self.condition(v, depth + 1) for v in value])
        if key == "not":
            return _not(self.condition(value, depth + 1), _label(value))
        if key in ("text_contains", "title_contains"):
            needles = [v.lower() for v in _many(value)]
            (self.text_needles if key == "text_contains" else self.title_needles).update(needles)
            return _contains(key, needles)
        if key in ("text_regex", "title_regex"):
            try:
                pattern = regexes.compile_pattern(str(value))
            except regexes.PatternError as exc:
                raise self.error(
                    parent,
                    key,
                    f"invalid regular expression: {exc}",
                    "a regular expression (Python syntax)",
                ) from None
            literals = required_literals(pattern.pattern.pattern) or ()
            (self.text_needles if key == "text_regex" else self.title_needles).update(literals)
            return _regex(key, pattern, literals or None)
        if key == "language":
            return _language([v.lower().replace("_", "-") for v in _many(value)])
        if key == "author":
            return _author({v.lower() for v in _many(value)})
        if key == "source":
            return _source({v.lower() for v in _many(value)})
        if key == "link_domain":
            return _link_domain({v.lower().removeprefix("www.") for v in _many(value)})
        if key == "age":
            return _age(
                parse_duration(value["under"]) if "under" in value else None,
                parse_duration(value["over"]) if "over" in value else None,
            )
        if key == "count":
            bounds = {
                name: (limits.get("min"), limits.get("max")) for name, limits in value.items()
            }
            unknown = set(bounds) - set(COUNT_NAMES)
            if unknown:
                raise self.error(
                    parent,
                    key,
                    f"unknown count {sorted(unknown)[0]!r}",
                    "one of " + ", ".join(COUNT_NAMES),
                )
            return _count(bounds)
        if key == "has_tag":
            self.reads_tags = True
            tags = {v.lower() for v in _many(value)}
            self.tags_read.update(tags)
            return _has_tag(tags)
        if key == "kind":
            return _kind(frozenset(v.lower() for v in _many(value)))
        if key == "to_tag":
            return _to_tag(frozenset(v.lower() for v in _many(value)))
        raise self.error(parent, key, f"unknown condition {key!r}", "a known condition")


def _label(node: Any) -> str:
    """A short, readable form of a condition mapping, for reasons."""
    text = ", ".join(f"{k}: {node[k]!r}" for k in node) if isinstance(node, dict) else str(node)
    return "{" + (text if len(text) <= 120 else text[:117] + "...") + "}"


def _all(parts: list[Condition]) -> Condition:
    tests = tuple(p.test for p in parts)
    if len(tests) == 2:
        first, second = tests

        def test2(p: Prepared) -> bool:
            return first(p) and second(p)

        test: Test = test2
    else:

        def test(p: Prepared) -> bool:
            for one in tests:  # noqa: SIM110 (a loop: no generator per call on the hot path)
                if not one(p):
                    return False
            return True

    def why(p: Prepared) -> list[Message] | None:
        reasons: list[Message] = []
        for part in parts:
            found = part.why(p)
            if found is None:
                return None
            reasons.extend(found)
        return reasons

    # Conditions have no side effects, so the batch narrows with the cheapest first.
    selects = tuple(part.select for part in sorted(parts, key=lambda part: part.cost))

    def select(b: Batch, candidates: int) -> int:
        for one in selects:
            candidates = one(b, candidates)
            if not candidates:
                break
        return candidates

    return Condition(test, why, select, sum(part.cost for part in parts))


def _any(parts: list[Condition]) -> Condition:
    tests = tuple(p.test for p in parts)

    def test(p: Prepared) -> bool:
        for one in tests:  # noqa: SIM110 (a loop: no generator per call on the hot path)
            if one(p):
                return True
        return False

    def why(p: Prepared) -> list[Message] | None:
        for part in parts:
            found = part.why(p)
            if found is not None:
                return found
        return None

    selects = tuple(part.select for part in sorted(parts, key=lambda part: part.cost))

    def select(b: Batch, candidates: int) -> int:
        found = 0
        for one in selects:
            hit = one(b, candidates)
            if hit:
                found |= hit
                candidates ^= hit  # those already hold: no need to ask again
                if not candidates:
                    break
        return found

    return Condition(test, why, select, sum(part.cost for part in parts))


def _not(part: Condition, label: str) -> Condition:
    inner = part.test
    inner_select = part.select

    def test(p: Prepared) -> bool:
        return not inner(p)

    def why(p: Prepared) -> list[Message] | None:
        found = part.why(p)
        if found is not None:
            return None
        return [message("rules.why.not", condition=label)]

    def select(b: Batch, candidates: int) -> int:
        return candidates ^ inner_select(b, candidates)

    return Condition(test, why, select, part.cost)


def _contains(key: str, needles: list[str]) -> Condition:
    field = "title" if key == "title_contains" else "text"

    def hay_of(p: Prepared) -> str:
        return p.hay if field == "text" else p.item.title.lower()

    if field == "text" and len(needles) == 1:
        (needle,) = needles

        def test(p: Prepared) -> bool:
            return needle in p.hay

    elif field == "text":
        options = tuple(needles)

        def test(p: Prepared) -> bool:
            hay = p.hay
            for needle in options:  # noqa: SIM110 (a loop: no generator per call on the hot path)
                if needle in hay:
                    return True
            return False

    else:
        options = tuple(needles)

        def test(p: Prepared) -> bool:
            title = p.item.title.lower()
            for needle in options:  # noqa: SIM110 (a loop: no generator per call on the hot path)
                if needle in title:
                    return True
            return False

    def why(p: Prepared) -> list[Message] | None:
        hay = hay_of(p)
        for needle in needles:
            if needle in hay:
                return [message("rules.why.contains", key=key, field=field, needle=repr(needle))]
        return None

    unique = tuple(dict.fromkeys(needles))

    def select(b: Batch, candidates: int) -> int:
        hay = b.text() if field == "text" else b.titles()
        return hay.having_any(unique, candidates)

    return Condition(test, why, select, 2)


def _search(pattern: regexes.Regex, text: str, p: Prepared) -> regex.Match[str] | None:
    """A search within the item's budget; running out of time counts as no match and
    marks the item (the engine then keeps it, tagged ``rules-timeout``)."""
    if p.budget is None:
        p.budget = regexes.Budget.start()
    match, late, p.spent = regexes.search(pattern, text, p.budget, p.spent)
    if late:
        p.timed_out = True
    return match


def _regex(key: str, pattern: regexes.Regex, needles: frozenset[str] | None) -> Condition:
    title_only = key == "title_regex"

    def test(p: Prepared) -> bool:
        if title_only:
            if needles is not None:
                title = p.item.title
                if title.isascii() or FOLD_RISKY.search(title) is None:
                    lowered = title.lower()
                    for needle in needles:
                        if needle in lowered:
                            break
                    else:
                        return False
            return _search(pattern, p.item.title, p) is not None
        if needles is not None and p.foldsafe():
            # Cheap necessary condition first: no required literal, no match.
            hay = p.hay
            for needle in needles:
                if needle in hay:
                    break
            else:
                return False
        return _search(pattern, p.full, p) is not None

    def why(p: Prepared) -> list[Message] | None:
        text = p.item.title if title_only else p.full
        match = _search(pattern, text, p)
        if match is None:
            return None
        return [
            message(
                "rules.why.matched",
                key=key,
                pattern=pattern.pattern.pattern,
                text=repr(match.group(0)[:80]),
            )
        ]

    ordered = tuple(sorted(needles or (), key=len, reverse=True))  # rarest first, roughly

    def select(b: Batch, candidates: int) -> int:
        if title_only:
            texts = b.column("title")
            if needles is not None:
                # The prefilter is sound only where lowercasing is exact (see test).
                risky = b.titles_raw().risky() & candidates
                candidates = b.titles().having_any(ordered, candidates) | risky
        else:
            texts = b.fulls()
            if needles is not None:
                hay = b.text()
                candidates = hay.having_any(ordered, candidates) | (hay.risky() & candidates)
        if not candidates:
            return 0
        budget, spent, search = b.budget, b.spent, regexes.search
        hits = []
        late = []
        for i in indices(candidates):
            found, out_of_time, spent[i] = search(pattern, texts[i], budget, spent.get(i, 0.0))
            if found is not None:
                hits.append(i)
            elif out_of_time:
                late.append(i)  # counted as no match, and the item marked
        if late:
            b.timed_out |= mask_of(late, b.size)
        return mask_of(hits, b.size)

    return Condition(test, why, select, 8)


def _language(codes: list[str]) -> Condition:
    def code_for(language: str | None) -> str | None:
        lang = (language or "").lower().replace("_", "-")
        for code in codes:
            if lang == code or lang.startswith(code + "-"):
                return code
        return None

    def matching(p: Prepared) -> str | None:
        return code_for(p.item.language)

    def test(p: Prepared) -> bool:
        return matching(p) is not None

    def why(p: Prepared) -> list[Message] | None:
        code = matching(p)
        if code is None:
            return None
        return [message("rules.why.language", language=repr(p.item.language), code=repr(code))]

    def holds(language: str | None) -> bool:
        return code_for(language) is not None

    def select(b: Batch, candidates: int) -> int:
        return b.where("language", holds, candidates)

    return Condition(test, why, select, 1)


def _author(names: set[str]) -> Condition:
    def test(p: Prepared) -> bool:
        return p.author() in names

    def why(p: Prepared) -> list[Message] | None:
        return [message("rules.why.author", author=repr(p.item.author))] if test(p) else None

    def holds(author: str | None) -> bool:
        return (author or "").lower() in names

    def select(b: Batch, candidates: int) -> int:
        return b.where("author", holds, candidates)

    return Condition(test, why, select, 1)


def _source(names: set[str]) -> Condition:
    def holds(source: str) -> bool:
        return source.lower() in names or (domain_of(source) if "/" in source else "") in names

    def test(p: Prepared) -> bool:
        return p.item.source.lower() in names or p.source_domain() in names

    def why(p: Prepared) -> list[Message] | None:
        return [message("rules.why.source", source=repr(p.item.source))] if test(p) else None

    def select(b: Batch, candidates: int) -> int:
        return b.where("source", holds, candidates)

    return Condition(test, why, select, 1)


def _link_domain(domains: set[str]) -> Condition:
    def matching(p: Prepared) -> str | None:
        # A domain can only match if its name occurs in the links' text: test that first.
        text = p.link_text()
        for domain in domains:
            if domain in text:
                break
        else:
            return None
        for found in p.domains():
            if found in domains:
                return found
            # A subdomain counts: blog.example.com is on example.com.
            dot = found.find(".")
            while dot != -1:
                if found[dot + 1 :] in domains:
                    return found
                dot = found.find(".", dot + 1)
        return None

    def test(p: Prepared) -> bool:
        return matching(p) is not None

    def why(p: Prepared) -> list[Message] | None:
        found = matching(p)
        return None if found is None else [message("rules.why.link_domain", domain=found)]

    newline = any("\n" in domain for domain in domains)  # could span two links

    def select(b: Batch, candidates: int) -> int:
        # One look over all the batch's links first: most batches link to none of them.
        if not newline:
            urls = [u for u in b.column("url") if u]
            links = [link for many in b.column("links") for link in many]
            every = "\n".join(urls + links).lower()
            if not any(domain in every for domain in domains):
                return 0
        items, now = b.items, b.now
        return mask_of((i for i in indices(candidates) if test(Prepared(items[i], now))), b.size)

    return Condition(test, why, select, 4)


def _age(under: timedelta | None, over: timedelta | None) -> Condition:
    # Cutoffs depend only on "now", shared by a whole batch: compute them once per moment.
    cache: list[Any] = [None, None, None]

    def cutoffs(now: datetime) -> tuple[datetime | None, datetime | None]:
        if cache[0] is not now:
            cache[0] = now
            cache[1] = now - under if under is not None else None
            cache[2] = now - over if over is not None else None
        return cache[1], cache[2]

    def test(p: Prepared) -> bool:
        published = p.item.published
        if published is None:
            return False
        newest, oldest = cutoffs(p.now)
        return (newest is None or published > newest) and (oldest is None or published < oldest)

    def why(p: Prepared) -> list[Message] | None:
        if not test(p):
            return None
        assert p.item.published is not None
        hours = (p.now - p.item.published).total_seconds() / 3600
        if under is not None and over is not None:
            code, spans = "rules.why.age_between", {"under": _span(under), "over": _span(over)}
        elif under is not None:
            code, spans = "rules.why.age_under", {"under": _span(under)}
        else:
            code, spans = "rules.why.age_over", {"over": _span(over) if over else ""}
        return [message(code, hours=round(hours, 1), **spans)]

    def select(b: Batch, candidates: int) -> int:
        newest, oldest = cutoffs(b.now)
        times = b.column("published")
        if newest is not None:
            candidates &= flags_to_mask(bytes([t is not None and t > newest for t in times]))
        if oldest is not None and candidates:
            candidates &= flags_to_mask(bytes([t is not None and t < oldest for t in times]))
        if newest is None and oldest is None:
            candidates &= flags_to_mask(bytes([t is not None for t in times]))
        return candidates

    return Condition(test, why, select, 1)


def _span(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds / 60:g}m"


def _count(bounds: dict[str, tuple[int | None, int | None]]) -> Condition:
    checks = tuple(bounds.items())

    def test(p: Prepared) -> bool:
        for name, (low, high) in checks:
            value = p.count(name)
            if value is None or (low is not None and value < low):
                return False
            if high is not None and value > high:
                return False
        return True

    def why(p: Prepared) -> list[Message] | None:
        if not test(p):
            return None
        return [
            message(
                "rules.why.count",
                name=name,
                value=str(p.count(name)),
                bounds=(f" ≥ {low}" if low is not None else "")
                + (f" ≤ {high}" if high is not None else ""),
            )
            for name, (low, high) in checks
        ]

    def values(b: Batch, name: str) -> list[int | None]:
        if name == "words":
            return list(b.words())
        given = [counts.get(name) for counts in b.column("counts")]
        if name == "links":
            return [
                len(links) + (1 if url else 0) if value is None else value
                for value, url, links in zip(given, b.column("url"), b.column("links"), strict=True)
            ]
        return given

    def select(b: Batch, candidates: int) -> int:
        for name, (low, high) in checks:
            found = values(b, name)
            if low is not None and high is not None:
                flags = [v is not None and low <= v <= high for v in found]
            elif low is not None:
                flags = [v is not None and v >= low for v in found]
            elif high is not None:
                flags = [v is not None and v <= high for v in found]
            else:
                flags = [v is not None for v in found]
            candidates &= flags_to_mask(bytes(flags))
            if not candidates:
                break
        return candidates

    words = any(name == "words" for name in bounds)
    return Condition(test, why, select, 3 if words else 1)


def _has_tag(tags: set[str]) -> Condition:
    def test(p: Prepared) -> bool:
        return not tags.isdisjoint(p.tags())

    def why(p: Prepared) -> list[Message] | None:
        found = sorted(tags & p.tags())
        return [message("rules.why.has_tag", tag=found[0])] if found else None

    def select(b: Batch, candidates: int) -> int:
        having = b.tag_masks()
        found = 0
        for tag in tags:
            found |= having.get(tag, 0)
        return found & candidates

    return Condition(test, why, select, 0)


def _kind(kinds: frozenset[str]) -> Condition:
    def test(p: Prepared) -> bool:
        return p.item.kind in kinds

    def why(p: Prepared) -> list[Message] | None:
        return [message("rules.why.kind", kind=p.item.kind)] if test(p) else None

    def select(b: Batch, candidates: int) -> int:
        return b.where("kind", kinds.__contains__, candidates)

    return Condition(test, why, select, 1)


def _to_tag(tags: frozenset[str]) -> Condition:
    def tagged(to_tags: tuple[str, ...]) -> list[str]:
        return sorted(tags.intersection(t.lower() for t in to_tags))

    def found(p: Prepared) -> list[str]:
        return tagged(p.item.to_tags)

    def test(p: Prepared) -> bool:
        return bool(found(p))

    def why(p: Prepared) -> list[Message] | None:
        hits = found(p)
        return [message("rules.why.to_tag", tag=hits[0])] if hits else None

    def holds(to_tags: tuple[str, ...]) -> bool:
        return bool(tagged(to_tags))

    def select(b: Batch, candidates: int) -> int:
        return b.where("to_tags", holds, candidates)

    return Condition(test, why, select, 1)
