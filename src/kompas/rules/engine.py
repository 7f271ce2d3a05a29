"""A rule set, compiled once, and the decision it makes about each item.

The fast path (:meth:`RuleSet.decide`) records which rules fired; :meth:`RuleSet.explain`
re-runs the same rules through their explaining closures to say why each one fired.
:meth:`RuleSet.decide_all` judges a batch of items at a time, condition by condition over
bitmasks (see :class:`~kompas.rules.item.Batch`), and makes the same decisions. A
decision is plain data: the CLI prints it, the store keeps it, ``rules explain`` shows it.
"""

from __future__ import annotations

import gc
import hashlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

from kompas.i18n import Message, message
from kompas.rules.compiler import Compiler, Condition, Select
from kompas.rules.item import Batch, Item, Needles, Prepared, indices, mask_to_flags
from kompas.rules.load import load_rules_document, position, read_rules_text
from kompas.rules.ranking import NO_RANKING, Ranking
from kompas.rules.regexes import TIMEOUT_TAG, Budget


@dataclass(frozen=True, slots=True)
class Actions:
    """What a rule does when it fires."""

    keep: bool | None = None  # True keep, False drop, None neither
    score: int = 0
    tags: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()
    stop: bool = False
    #: ``score_by: relationship`` and ``quiet_first``: points that depend on the author
    #: (see :mod:`kompas.rules.ranking`).
    score_by: str | None = None
    quiet_first: bool = False

    @property
    def ranks(self) -> bool:
        """Whether the rule adds points that depend on the item's author."""
        return self.score_by is not None or self.quiet_first


@dataclass(frozen=True, slots=True)
class Fired:
    """A rule that fired on an item, and why (the conditions that held)."""

    rule: str
    line: int
    reasons: tuple[Message, ...] = ()
    effects: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The JSON shape used by ``rules test`` and ``rules explain`` (and stored): each
        reason in English, and as ``[code, params]`` to render in another language."""
        return {
            "rule": self.rule,
            "line": self.line,
            "reasons": [str(r) for r in self.reasons],
            "reason_codes": [[r.code, dict(r.params)] for r in self.reasons],
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


def out_of_time(decision: Decision) -> Decision:
    """The decision about an item whose rules ran out of time: kept, whatever they said,
    and tagged ``rules-timeout`` so that the user sees it (and which rules still fired)."""
    tags = decision.tags if TIMEOUT_TAG in decision.tags else (*decision.tags, TIMEOUT_TAG)
    return Decision(
        decision.item_id, True, decision.score, tags, decision.routes, decision.fired, None
    )


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
        score_by=str(node["score_by"]) if node.get("score_by") else None,
        quiet_first=bool(node.get("quiet_first", False)),
    )


def _effects(
    actions: Actions, relationship: int | None = None, quiet: int | None = None
) -> tuple[str, ...]:
    """What a rule did, in words; ``relationship`` and ``quiet`` are the points its
    ranking actions gave this item (``None``: not known here, so named only)."""
    effects: list[str] = []
    if actions.keep is True:
        effects.append("keep")
    elif actions.keep is False:
        effects.append("drop")
    if actions.score:
        effects.append(f"score {actions.score:+d}")
    if actions.score_by is not None:
        effects.append(
            f"score by {actions.score_by}"
            if relationship is None
            else f"score {relationship:+d} ({actions.score_by})"
        )
    if actions.quiet_first:
        effects.append("quiet first" if quiet is None else f"score {quiet:+d} (quiet first)")
    effects += [f"tag {t}" for t in actions.tags]
    effects += [f"route {r}" for r in actions.routes]
    if actions.stop:
        effects.append("stop")
    return tuple(effects)


def _always(_: Prepared) -> bool:
    return True


def _everyone(_: Batch, candidates: int) -> int:
    return candidates


#: Items judged together by :meth:`RuleSet.decide_all`.
BATCH_SIZE = 4096
#: The fewest items :meth:`RuleSet.decide_all` judges on two cores (below that, starting
#: the worker costs more than it saves).
PARALLEL_MIN = 50_000

#: What every item whose rules fired alike shares: kept, score, tags, routes, fired,
#: decided_by (all of a :class:`Decision` but the item's id).
_Row = tuple[bool, int, tuple[str, ...], tuple[str, ...], tuple[Fired, ...], str | None]


class Judged(NamedTuple):
    """What a batch's decisions are made of: one key per item (equal for items on which
    the same rules fired), the rules that fired (index, mask of the items), the points
    ranking rules add (by item position), and the mask of items that ran out of time."""

    keys: Sequence[Any]
    fired: list[tuple[int, int]]
    points: dict[int, int]
    timed_out: int


@contextmanager
def collection_paused() -> Iterator[None]:
    """The cyclic garbage collector paused for the work of one batch (it resumes after
    it, and collects then if it is due). A batch allocates thousands of objects that
    outlive it (its decisions) and no cycles; with collections every 700 of them, and
    full ones as they pile up in the caller's list, the collector took a sixth of the
    time of ``decide_all`` over 200,000 items, and found nothing."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


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

    def __init__(
        self,
        rules: list[Rule],
        default_keep: bool,
        digest: str,
        reads_tags: bool,
        needles: tuple[Iterable[str], Iterable[str]] = ((), ()),
        tags_read: Iterable[str] | None = None,
    ):
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
        self._needles = (Needles(needles[0]), Needles(needles[1]))
        #: The tags has_tag tests (``None``: not known, so every tag is tracked).
        self._tags_read = None if tags_read is None else frozenset(tags_read)
        #: The rules whose points depend on the author, by position and by what the
        #: fast path records when they fire.
        self._ranked = {i: r.actions for i, r in enumerate(rules) if r.actions.ranks}
        self._ranked_stubs = {r.fired: r.actions for r in rules if r.actions.ranks}
        self._selects: tuple[tuple[Select, tuple[str, ...], bool], ...] = tuple(
            (
                r.condition.select if r.condition else _everyone,
                tuple(t.lower() for t in r.actions.tags) if reads_tags else (),
                r.actions.stop,
            )
            for r in rules
        )

    @property
    def ranks(self) -> bool:
        """Whether a rule uses ``score_by`` or ``quiet_first`` (so deciding needs a
        :class:`~kompas.rules.ranking.Ranking` read from the store)."""
        return bool(self._ranked)

    def ranking_needs(self) -> set[str]:
        """What the rules' ranking reads: ``relationship`` and/or ``quiet``."""
        needs: set[str] = set()
        for actions in self._ranked.values():
            if actions.score_by is not None:
                needs.add("relationship")
            if actions.quiet_first:
                needs.add("quiet")
        return needs

    def decide(
        self,
        item: Item,
        now: datetime | None = None,
        budget: Budget | None = None,
        ranking: Ranking | None = None,
    ) -> Decision:
        """The decision about ``item`` (rules that fired, without the reasons), within the
        regex time ``budget`` of the run it is part of (default: a run of its own);
        ``ranking`` gives ``score_by``/``quiet_first`` their points (default: none)."""
        return self._fast(item, now or datetime.now(UTC), budget, ranking or NO_RANKING)

    def explain(
        self,
        item: Item,
        now: datetime | None = None,
        budget: Budget | None = None,
        ranking: Ranking | None = None,
    ) -> Decision:
        """The decision about ``item`` with the reasons every fired rule fired (and, for
        a ranking action, where its points came from)."""
        moment = now or datetime.now(UTC)
        return self._run(item, moment, True, Prepared(item, moment, budget), ranking or NO_RANKING)

    def decide_all(
        self,
        items: Iterable[Item],
        now: datetime | None = None,
        budget: Budget | None = None,
        ranking: Ranking | None = None,
        parallel: bool | None = None,
    ) -> Iterator[Decision]:
        """Decisions for many items, all judged at the same moment, within one regex time
        budget (``budget``, default :class:`~kompas.rules.regexes.Budget`: 30 s for the
        run, 0.1 s per item).

        A list (or tuple) of at least :data:`PARALLEL_MIN` items is judged on two cores
        where the platform can ``fork``: a worker process judges batches of the list it
        inherits beside this one and sends back only what their decisions are made of
        (see :mod:`kompas.rules.parallel`). The decisions are the same, in the same order.
        ``parallel`` asks for it with fewer items, or on one CPU (``True``, where it can fork
        and there is more than one batch) or forbids it (``False``)."""
        moment = now or datetime.now(UTC)
        budget = budget or Budget.start()
        ranking = ranking or NO_RANKING
        if (
            isinstance(items, list | tuple)
            and len(items) > BATCH_SIZE
            and (parallel or (parallel is None and len(items) >= PARALLEL_MIN))
        ):
            from kompas.rules import parallel as two_cores

            if two_cores.available(forced=parallel is True):
                yield from two_cores.decide(self, items, moment, budget, ranking, BATCH_SIZE)
                return
        rows: dict[Any, _Row] = {}
        stream = iter(items)
        while batch := list(islice(stream, BATCH_SIZE)):
            yield from self._batch(batch, moment, rows, budget, ranking)

    @staticmethod
    def _points(actions: Actions, item: Item, ranking: Ranking) -> int:
        """What a ranking rule adds to ``item``'s score."""
        return ranking.points(item.account, actions.score_by is not None, actions.quiet_first)

    def _batch(
        self,
        items: Sequence[Item],
        now: datetime,
        rows: dict[Any, _Row],
        budget: Budget,
        ranking: Ranking = NO_RANKING,
    ) -> list[Decision]:
        """Decisions for a batch: each rule selects, among the items not yet stopped, those
        it fires on (one bitmask per rule); items whose rules fired alike share one row."""
        with collection_paused():
            judged = self._judge(items, now, budget, ranking)
            for key, fired in self._new_rows(judged, rows).items():
                rows[key] = self._row(fired)
            return self._decisions(items, judged, rows)

    def _judge(
        self, items: Sequence[Item], now: datetime, budget: Budget, ranking: Ranking
    ) -> Judged:
        """What a batch's decisions are made of (see :class:`Judged`)."""
        batch = Batch(items, now, self._needles, budget)
        size = batch.size
        alive = batch.all
        tagged = batch.tag_masks(self._tags_read) if self._reads_tags else None
        fired: list[tuple[int, int]] = []  # (rule index, mask of the items it fired on)
        for index, (select, tags, stop) in enumerate(self._selects):
            hits = select(batch, alive)
            if not hits:
                continue
            fired.append((index, hits))
            if tagged is not None:
                for tag in tags:  # what a later has_tag sees
                    tagged[tag] = tagged.get(tag, 0) | hits
            if stop:
                alive ^= hits
                if not alive:
                    break
        points: dict[int, int] = {}
        if self._ranked:  # points that depend on each item's author, once per author
            for index, hits in fired:
                actions = self._ranked.get(index)
                if actions is None:
                    continue
                by_account: dict[str | None, int] = {}
                relationship, quiet = actions.score_by is not None, actions.quiet_first
                for i in indices(hits):
                    account = items[i].account
                    got = by_account.get(account)
                    if got is None:
                        got = by_account[account] = ranking.points(account, relationship, quiet)
                    if got:
                        points[i] = points.get(i, 0) + got
        return Judged(self._keys(fired, size), fired, points, batch.timed_out)

    @staticmethod
    def _new_rows(judged: Judged, known: set[Any] | dict[Any, _Row]) -> dict[Any, list[int]]:
        """The rules that fired for each key of the batch not in ``known`` (by index)."""
        keys = judged.keys
        return {  # most batches have none: their keys are those of earlier batches
            key: [index for index, hits in judged.fired if hits >> i & 1]
            for key, i in ((key, keys.index(key)) for key in set(keys).difference(known))
        }

    @staticmethod
    def _decisions(items: Sequence[Item], judged: Judged, rows: dict[Any, _Row]) -> list[Decision]:
        """A batch's decisions from what :meth:`_judge` found and the rows of its keys."""
        decisions = [
            Decision(item.id, *row)
            for item, row in zip(items, map(rows.__getitem__, judged.keys), strict=True)
        ]
        for i, points in judged.points.items():
            decisions[i].score += points
        for i in indices(judged.timed_out):
            decisions[i] = out_of_time(decisions[i])
        return decisions

    @staticmethod
    def _keys(fired: list[tuple[int, int]], size: int) -> Sequence[Any]:
        """One key per item that is equal for items on which the same rules fired: rule
        ``k`` is bit ``k % 8`` of byte ``k // 8`` of the item's key."""
        groups: dict[int, int] = {}
        for index, hits in fired:
            group, bit = divmod(index, 8)
            spread = int.from_bytes(mask_to_flags(hits, size), "little")  # a byte per item
            groups[group] = groups.get(group, 0) | spread << bit
        if not groups:
            return [0] * size
        width = max(groups) + 1
        if width > 8:  # more than 64 rules: one byte per group, in a tuple
            columns = [
                groups[g].to_bytes(size, "little") if g in groups else bytes(size)
                for g in range(width)
            ]
            return list(zip(*columns, strict=True))
        packed = bytearray(8 * size)
        for group, spread in groups.items():
            packed[group::8] = spread.to_bytes(size, "little")
        keys = array("Q")  # 8 bytes each; native byte order is fine: keys are only compared
        keys.frombytes(packed)
        return keys

    def _row(self, indices: list[int]) -> _Row:
        """Kept, score, tags, routes, fired and decided_by when these rules fired."""
        kept: bool | None = None
        decided_by: str | None = None
        score = 0
        tags: list[str] = []
        routes: list[str] = []
        fired: list[Fired] = []
        for index in indices:
            keep, points, add_tags, add_routes, stop, stub = self._tests[index][1]
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
        return (
            self.default_keep if kept is None else kept,
            score,
            tuple(tags),
            tuple(routes),
            tuple(fired),
            decided_by,
        )

    def _fast(self, item: Item, now: datetime, budget: Budget | None, ranking: Ranking) -> Decision:
        """The hot loop: one closure call per rule, actions only for the rules that fired."""
        prepared = Prepared(item, now, budget)
        hits = [entry for test, entry in self._tests if test(prepared)]
        if not hits:
            decision = Decision(item.id, self.default_keep, 0, (), (), ())
            return out_of_time(decision) if prepared.timed_out else decision
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
        if self._ranked_stubs:
            for stub in fired:
                actions = self._ranked_stubs.get(stub)
                if actions is not None:
                    score += self._points(actions, item, ranking)
        decision = Decision(
            item.id,
            self.default_keep if kept is None else kept,
            score,
            tuple(tags),
            tuple(routes),
            tuple(fired),
            decided_by,
        )
        return out_of_time(decision) if prepared.timed_out else decision

    def _run(
        self,
        item: Item,
        now: datetime,
        explain: bool,
        prepared: Prepared | None = None,
        ranking: Ranking = NO_RANKING,
    ) -> Decision:
        prepared = prepared or Prepared(item, now)
        kept: bool | None = None
        decided_by: str | None = None
        score = 0
        tags: list[str] = []
        routes: list[str] = []
        fired: list[Fired] = []
        for rule in self.rules:
            reasons: list[Message] | None
            if explain:
                reasons = (
                    rule.condition.why(prepared)
                    if rule.condition
                    else [message("rules.why.always")]
                )
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
            relationship = quiet = None
            if actions.score_by is not None:
                relationship, why = ranking.relationship(item.account, item.author)
                score += relationship
                if reasons is not None:
                    reasons = [*reasons, why]
            if actions.quiet_first:
                quiet, why = ranking.quiet(item.account, item.author)
                score += quiet
                if reasons is not None:
                    reasons = [*reasons, why]
            for tag in actions.tags:
                if tag not in tags:
                    tags.append(tag)
            if actions.tags and self._reads_tags:
                prepared.tags().update(t.lower() for t in actions.tags)
            for route in actions.routes:
                if route not in routes:
                    routes.append(route)
            fired.append(
                Fired(rule.name, rule.line, tuple(reasons), _effects(actions, relationship, quiet))
                if reasons is not None
                else rule.fired
            )
            if actions.stop:
                break
        decision = Decision(
            item_id=item.id,
            kept=self.default_keep if kept is None else kept,
            score=score,
            tags=tuple(tags),
            routes=tuple(routes),
            fired=tuple(fired),
            decided_by=decided_by,
        )
        return out_of_time(decision) if prepared.timed_out else decision


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
    return RuleSet(
        rules,
        document.get("default", "keep") == "keep",
        digest,
        compiler.reads_tags,
        (compiler.text_needles, compiler.title_needles),
        compiler.tags_read,
    )


def load_rules(path: str | Path) -> RuleSet:
    """Compile the rules file at ``path`` (size-checked before it is read)."""
    return compile_rules(read_rules_text(path), str(path))
