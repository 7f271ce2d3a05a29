"""A rule set, compiled once, and the decision it makes about each item.

The fast path (:meth:`RuleSet.decide`) records which rules fired; :meth:`RuleSet.explain`
re-runs the same rules through their explaining closures to say why each one fired. A
decision is plain data: the CLI prints it, the store keeps it, ``rules explain`` shows it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kompas.rules.compiler import Compiler, Condition
from kompas.rules.item import Item, Prepared
from kompas.rules.load import load_rules_document, position, read_rules_text


@dataclass(frozen=True, slots=True)
class Actions:
    """What a rule does when it fires."""

    keep: bool | None = None  # True keep, False drop, None neither
    score: int = 0
    tags: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()
    stop: bool = False


@dataclass(frozen=True, slots=True)
class Fired:
    """A rule that fired on an item, and why (the conditions that held)."""

    rule: str
    line: int
    reasons: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The JSON shape used by ``rules test`` and ``rules explain``."""
        return {
            "rule": self.rule,
            "line": self.line,
            "reasons": list(self.reasons),
            "effects": list(self.effects),
        }


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule; ``line`` is where it starts in the file."""

    name: str
    line: int
    condition: Condition | None
    actions: Actions
    #: What the fast path records when the rule fires (immutable, so shared).
    fired: Fired


@dataclass(slots=True)  # not frozen: built a million times a second
class Decision:
    """What the rules decided about one item, with the rules that fired in order.

    ``decided_by`` names the rule whose keep/drop settled ``kept`` (``None``: the
    file's default).
    """

    item_id: str
    kept: bool
    score: int
    tags: tuple[str, ...]
    routes: tuple[str, ...]
    fired: tuple[Fired, ...] = field(default=())
    decided_by: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The JSON shape of ``kompas rules test`` (one line per item)."""
        return {
            "id": self.item_id,
            "kept": self.kept,
            "score": self.score,
            "tags": list(self.tags),
            "routes": list(self.routes),
            "decided_by": self.decided_by,
            "fired": [f.as_json() for f in self.fired],
        }


def _actions(node: Any) -> Actions:
    keep: bool | None = None
    if node.get("keep"):
        keep = True
    if node.get("drop"):
        keep = False
    score = node.get("score", 0)
    tags = node.get("tag") or []
    routes = node.get("route") or []
    return Actions(
        keep=keep,
        score=int(str(score)),
        tags=tuple(str(t) for t in (tags if isinstance(tags, list) else [tags])),
        routes=tuple(str(r) for r in (routes if isinstance(routes, list) else [routes])),
        stop=bool(node.get("stop", False)),
    )


def _effects(actions: Actions) -> tuple[str, ...]:
    effects: list[str] = []
    if actions.keep is True:
        effects.append("keep")
    elif actions.keep is False:
        effects.append("drop")
    if actions.score:
        effects.append(f"score {actions.score:+d}")
    effects += [f"tag {t}" for t in actions.tags]
    effects += [f"route {r}" for r in actions.routes]
    if actions.stop:
        effects.append("stop")
    return tuple(effects)


def _always(_: Prepared) -> bool:
    return True


def _tagging(rule: Rule, test: Callable[[Prepared], bool]) -> Callable[[Prepared], bool]:
    """``test`` that also gives the item the rule's tags when it holds, so that a later
    ``has_tag`` (evaluated after it, in file order) sees them."""
    lowered = tuple(t.lower() for t in rule.actions.tags)

    def test_and_tag(p: Prepared) -> bool:
        if test(p):
            p.tags().update(lowered)
            return True
        return False

    return test_and_tag


class RuleSet:
    """A compiled rules file. Build it with :func:`compile_rules` or :func:`load_rules`."""

    def __init__(self, rules: list[Rule], default_keep: bool, digest: str, reads_tags: bool):
        self.rules = rules
        self.default_keep = default_keep
        #: A hash of the file's text: decisions record which rules made them.
        self.digest = digest
        self._reads_tags = reads_tags
        self._tests = tuple(
            (
                _tagging(r, r.condition.test if r.condition else _always)
                if reads_tags and r.actions.tags
                else (r.condition.test if r.condition else _always),
                (
                    r.actions.keep,
                    r.actions.score,
                    r.actions.tags,
                    r.actions.routes,
                    r.actions.stop,
                    r.fired,
                ),
            )
            for r in rules
        )

    def decide(self, item: Item, now: datetime | None = None) -> Decision:
        """The decision about ``item`` (rules that fired, without the reasons)."""
        return self._fast(item, now or datetime.now(UTC))

    def explain(self, item: Item, now: datetime | None = None) -> Decision:
        """The decision about ``item`` with the reasons every fired rule fired."""
        return self._run(item, now or datetime.now(UTC), explain=True)

    def decide_all(self, items: Iterable[Item], now: datetime | None = None) -> Iterator[Decision]:
        """Decisions for many items, all judged at the same moment."""
        moment = now or datetime.now(UTC)
        fast = self._fast
        for item in items:
            yield fast(item, moment)

    def _fast(self, item: Item, now: datetime) -> Decision:
        """The hot loop: one closure call per rule, actions only for the rules that fired."""
        prepared = Prepared(item, now)
        hits = [entry for test, entry in self._tests if test(prepared)]
        if not hits:
            return Decision(item.id, self.default_keep, 0, (), (), ())
        kept: bool | None = None
        decided_by: str | None = None
        score = 0
        tags: list[str] = []
        routes: list[str] = []
        fired: list[Fired] = []
        for keep, points, add_tags, add_routes, stop, stub in hits:
            fired.append(stub)
            if keep is not None:
                kept = keep
                decided_by = stub.rule
            score += points
            for tag in add_tags:
                if tag not in tags:
                    tags.append(tag)
            for route in add_routes:
                if route not in routes:
                    routes.append(route)
            if stop:
                break
        return Decision(
            item.id,
            self.default_keep if kept is None else kept,
            score,
            tuple(tags),
            tuple(routes),
            tuple(fired),
            decided_by,
        )

    def _run(
        self, item: Item, now: datetime, explain: bool, prepared: Prepared | None = None
    ) -> Decision:
        prepared = prepared or Prepared(item, now)
        kept: bool | None = None
        decided_by: str | None = None
        score = 0
        tags: list[str] = []
        routes: list[str] = []
        fired: list[Fired] = []
        for rule in self.rules:
            reasons: list[str] | None
            if explain:
                reasons = rule.condition.why(prepared) if rule.condition else ["always"]
                if reasons is None:
                    continue
            else:
                if rule.condition is not None and not rule.condition.test(prepared):
                    continue
                reasons = None
            actions = rule.actions
            if actions.keep is not None:
                kept = actions.keep
                decided_by = rule.name
            score += actions.score
            for tag in actions.tags:
                if tag not in tags:
                    tags.append(tag)
            if actions.tags and self._reads_tags:
                prepared.tags().update(t.lower() for t in actions.tags)
            for route in actions.routes:
                if route not in routes:
                    routes.append(route)
            fired.append(
                Fired(rule.name, rule.line, tuple(reasons), _effects(actions))
                if reasons is not None
                else rule.fired
            )
            if actions.stop:
                break
        return Decision(
            item_id=item.id,
            kept=self.default_keep if kept is None else kept,
            score=score,
            tags=tuple(tags),
            routes=tuple(routes),
            fired=tuple(fired),
            decided_by=decided_by,
        )


def compile_rules(text: str, path: str = "<rules>") -> RuleSet:
    """Parse, validate and compile a rules file's text. Raises
    :class:`~kompas.rules.load.RuleFileError` with line and column on any problem."""
    document = load_rules_document(text, path)
    compiler = Compiler(path)
    rules: list[Rule] = []
    for index, node in enumerate(document.get("rules") or []):
        if node.get("enabled", True) is False:
            continue
        when = node.get("when")
        line, _ = position(document["rules"], index)
        name = str(node["name"])
        rules.append(
            Rule(
                name=name,
                line=line,
                condition=compiler.condition(when) if when is not None else None,
                actions=_actions(node["then"]),
                fired=Fired(name, line),
            )
        )
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()
    return RuleSet(rules, document.get("default", "keep") == "keep", digest, compiler.reads_tags)


def load_rules(path: str | Path) -> RuleSet:
    """Compile the rules file at ``path`` (size-checked before it is read)."""
    return compile_rules(read_rules_text(path), str(path))
