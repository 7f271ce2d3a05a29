"""A draft against the user's strategy: which pillar it serves (the alignment ``kompas
review`` uses, with the user's corrections) and what it does to the planned mix and to the
key results it counts towards, over the period kompas shows elsewhere (anchored to where
the data ends)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from kompas.community.mix import BROADCAST, CONVERSATION, OTHER, SHARING, OwnPlaces
from kompas.i18n import Message, Render, message
from kompas.post.length import urls
from kompas.store.strategy import OwnPost
from kompas.strategy.model import KeyResult, Strategy

#: How far back "this month" reaches, as key results count a month.
MONTH = timedelta(days=30)
_WINDOWS = {"day": timedelta(days=1), "week": timedelta(days=7), "month": MONTH}
#: The key-result metrics one more post changes, by what the post must be to count.
COUNTED = ("community.posts", "community.self_promotion", "community.replies_given")

#: A metric's value over ``[since, until)`` (``None``: no data), as the strategy pillar's
#: registry computes it; the dashboard passes one that remembers values between drafts.
Count = Callable[[str, datetime, datetime], float | None]


def metric_count(connection: sa.Connection, domains: tuple[str, ...]) -> Count:
    """The registry's metrics over one connection (the community's derived tables built
    once, on first use)."""
    from kompas.strategy.metrics import REGISTRY, MetricContext

    context = MetricContext(connection, None, domains)
    return lambda metric, since, until: REGISTRY.value(metric, context, since, until)


@dataclass(frozen=True, slots=True)
class Served:
    """One pillar the draft serves, how sure, and why."""

    id: str
    name: str
    confidence: float
    reasons: tuple[Message, ...]

    def to_json(self, text: Render = str) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "name": self.name,
            "confidence": self.confidence,
            "reason": "; ".join(str(text(r)) for r in self.reasons),
        }


@dataclass(frozen=True, slots=True)
class PillarCheck:
    """Which pillars the draft serves: ``status`` is ``aligned``, ``unaligned``,
    ``unsupported language``, ``no strategy`` or ``no pillars``."""

    status: str
    sentence: Message
    pillars: tuple[Served, ...] = ()
    language: str | None = None

    def to_json(self, text: Render = str) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "status": self.status,
            "pillars": [p.to_json(text) for p in self.pillars],
            "language": self.language,
            "reason": text(self.sentence),
        }


def pillar_check(
    strategy: Strategy | None,
    text: str,
    corpus: Sequence[OwnPost] = (),
    corrections: Sequence[Any] = (),
) -> PillarCheck:
    """The pillars ``text`` serves, aligned as ``kompas review`` aligns the user's posts
    (the same aligner, the recent posts as its corpus, the user's corrections)."""
    if strategy is None:
        return PillarCheck("no strategy", message("draft.pillar.no_strategy"))
    if not strategy.pillars:
        return PillarCheck("no pillars", message("draft.pillar.no_pillars"))
    from kompas.strategy.alignment import Aligner
    from kompas.strategy.review import ALIGNED_KINDS

    texts = [p.text for p in corpus if p.kind in ALIGNED_KINDS and p.text.strip()]
    aligner = Aligner(strategy.pillars, corpus=[*texts, text], corrections=corrections)
    alignment = aligner.align(text)
    names = {p.id: p.name for p in strategy.pillars}
    if alignment.pillars:
        served = tuple(
            Served(m.pillar, names.get(m.pillar, m.pillar), m.confidence, tuple(m.explain()))
            for m in alignment.pillars
        )
        chosen = [s.name for s in served]
        return PillarCheck(
            "aligned",
            message("draft.pillar.serves", pillars=chosen, count=len(chosen)),
            served,
            alignment.language,
        )
    why = [part for _, parts in alignment.explain() for part in parts]
    code = "draft.pillar.unaligned" if alignment.supported else "draft.pillar.unsupported"
    return PillarCheck(alignment.status, message(code, why=why), (), alignment.language)


@dataclass(frozen=True, slots=True)
class DraftKind:
    """The draft's place in the mix (as :func:`kompas.community.mix.classify` would place
    it once posted) and why."""

    kind: str
    self_promotion: bool
    why: Message
    reply: bool = False


def draft_kind(
    text: str, own: OwnPlaces, reply_author: str | None, reply_is_self: bool, reply: bool
) -> DraftKind:
    """What kind of post the draft is: a reply to someone else is a conversation; else a
    link to the user's own places is self-promotion, another link sharing."""
    if reply and not reply_is_self:
        if reply_author:
            why = message("draft.kind.conversation", who=reply_author)
        else:
            why = message("draft.kind.conversation_unknown")
        return DraftKind(CONVERSATION, False, why, reply=True)
    links = [u.text for u in urls(text)]
    own_link = next((link for link in links if own.owns(link)), None)
    if own_link is not None:
        return DraftKind(
            BROADCAST, True, message("draft.kind.self_promotion", link=own_link), reply=reply
        )
    if links:
        return DraftKind(SHARING, False, message("draft.kind.sharing", link=links[0]), reply=reply)
    if reply:
        return DraftKind(OTHER, False, message("draft.kind.thread"), reply=True)
    return DraftKind(OTHER, False, message("draft.kind.other"))


@dataclass(frozen=True, slots=True)
class Effect:
    """What one more post does to a key result or to the planned share of its kind."""

    what: str  # a metric name, or "mix.<kind>" for the strategy's planned mix
    since: datetime
    until: datetime
    before: float
    after: float
    target: float
    #: A key result with an upper bound: whether the post keeps it met; the planned mix:
    #: whether the post moves the share towards its target (``None``: nothing to compare).
    within_plan: bool | None
    sentence: Message
    key_result: str | None = None

    def to_json(self, text: Render = str) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "what": self.what,
            "key_result": self.key_result,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "before": round(self.before, 4),
            "after": round(self.after, 4),
            "target": self.target,
            "within_plan": self.within_plan,
            "sentence": text(self.sentence),
        }


@dataclass(frozen=True, slots=True)
class MixCheck:
    """The draft's kind and its effect on the plan over the current period."""

    kind: DraftKind | None
    effects: tuple[Effect, ...] = ()
    notes: tuple[Message, ...] = ()
    until: datetime | None = None
    anchored: bool = False
    data_end: datetime | None = None

    def to_json(self, text: Render = str) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "kind": self.kind.kind if self.kind else None,
            "self_promotion": bool(self.kind and self.kind.self_promotion),
            "why": text(self.kind.why) if self.kind else None,
            "until": self.until.isoformat() if self.until else None,
            "anchored": self.anchored,
            "data_end": self.data_end.isoformat() if self.data_end else None,
            "effects": [e.to_json(text) for e in self.effects],
            "notes": [text(n) for n in self.notes],
        }


def _nth(count: int) -> Message:
    """``4th``, ``21st`` in English; ``4e``, ``1re`` in French."""
    suffix = "th"
    if count % 100 not in (11, 12, 13):
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(count % 10, "th")
    return message(f"draft.nth.{suffix}", count=count)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _counts_towards(metric: str, kind: DraftKind) -> bool:
    if metric == "community.posts":
        return True
    if metric == "community.self_promotion":
        return kind.self_promotion
    return metric == "community.replies_given" and kind.kind == CONVERSATION


def _key_result_effect(
    kr: KeyResult, before: int, since: datetime, until: datetime, per: str
) -> Effect:
    after = before + 1
    window = message(f"draft.window.{per}", last=(until - timedelta(seconds=1)).date())
    common = {"nth": _nth(after), "what": message(f"draft.what.{kr.metric}"), "window": window}
    if kr.op in ("<=", "<"):
        allowed = math.floor(kr.target) if kr.op == "<=" else math.ceil(kr.target) - 1
        sentence = message("draft.kr.at_most", allowed=allowed, **common)
    elif kr.op == ">=":
        sentence = message("draft.kr.at_least", target=_number(kr.target), **common)
    elif kr.op == ">":
        sentence = message("draft.kr.more_than", target=_number(kr.target), **common)
    else:
        sentence = message("draft.kr.exactly", target=_number(kr.target), **common)
    within = kr.met(after) if kr.op in ("<=", "<") else None
    return Effect(kr.metric, since, until, before, after, kr.target, within, sentence, kr.text)


def mix_check(
    connection: sa.Connection,
    strategy: Strategy | None,
    kind: DraftKind,
    until: datetime,
    anchored: bool,
    data_end: datetime | None,
    counter: Count | None = None,
) -> MixCheck:
    """The draft's effect on the key results it counts towards (over each one's window)
    and on the planned share of its kind (over the month), all ending at ``until``
    (``counter``: how the figures before the draft are read; default the registry's)."""
    notes: list[Message] = []
    if anchored and data_end is not None:
        notes.append(message("draft.mix.anchored", date=data_end.date()))
    if data_end is None:
        return MixCheck(kind, (), (message("draft.mix.no_data"),), until, anchored, data_end)
    if strategy is None:
        notes.append(message("draft.mix.no_strategy"))
        return MixCheck(kind, (), tuple(notes), until, anchored, data_end)
    figure = counter or metric_count(connection, strategy.domains)

    def count(metric: str, since: datetime) -> float:
        value = figure(metric, since, until)
        return 0.0 if value is None else value

    effects: list[Effect] = []
    for _, kr in strategy.key_results:
        if kr.metric not in COUNTED or not _counts_towards(kr.metric, kind):
            continue
        per = kr.per or "week"
        since = until - _WINDOWS[per]
        effects.append(_key_result_effect(kr, round(count(kr.metric, since)), since, until, per))
    target = strategy.mix.get(kind.kind)
    if target is not None and kind.kind != OTHER:
        since = until - MONTH
        posts = round(count("community.posts", since))
        share = count(f"community.mix.{kind.kind}", since)
        after = (round(share * posts) + 1) / (posts + 1)
        window = message("draft.window.month", last=(until - timedelta(seconds=1)).date())
        words = {"kind": message(f"common.kind.{kind.kind}"), "window": window}
        if posts:
            sentence = message("draft.mix.share", after=after, before=share, target=target, **words)
        else:
            sentence = message("draft.mix.share_first", after=after, target=target, **words)
        # Within the plan: the post brings the share closer to its target (or keeps it).
        within = abs(after - target) <= abs(share - target) + 1e-9 if posts else None
        effects.append(
            Effect(f"mix.{kind.kind}", since, until, share, after, target, within, sentence)
        )
    if not effects:
        notes.append(message("draft.mix.no_plan"))
    return MixCheck(kind, tuple(effects), tuple(notes), until, anchored, data_end)
