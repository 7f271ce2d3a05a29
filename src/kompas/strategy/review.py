"""The weekly review: key results with value, target and trend; the mix against its
target; pillar coverage; habit streaks; unaligned activity; and the three biggest gaps.
One computation serves the terminal, Markdown, HTML and ``--json``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from kompas.i18n import Message, Render, message
from kompas.store import strategy as store
from kompas.store.strategy import OwnPost
from kompas.strategy import habits as habit_checks
from kompas.strategy.alignment import Aligner, Alignment
from kompas.strategy.habits import TagCounter
from kompas.strategy.keyresults import KeyResultStatus, evaluate
from kompas.strategy.keyresults import windows as kr_windows
from kompas.strategy.learning import Correction
from kompas.strategy.metrics import REGISTRY, MetricContext
from kompas.strategy.model import Strategy
from kompas.strategy.schema import MIX_KINDS
from kompas.strategy.tags import tag_counter

#: Which of the user's posts carry their own words (reposts don't) and so get aligned.
ALIGNED_KINDS = ("post", "reply", "quote")
#: Above this share of unaligned posts, unaligned activity is a gap.
UNALIGNED_GAP = 0.5
GAPS = 3
EXAMPLES = 5
#: The review's verdicts: never "on track" without the data to say so.
ON_TRACK, OFF_TRACK, NO_DATA = "on track", "off track", "no data"


def aligned_posts(
    strategy: Strategy,
    posts: Sequence[OwnPost],
    aligner: Aligner | None = None,
    method: str = "combined",
    corrections: Sequence[Correction] = (),
) -> list[tuple[OwnPost, Alignment]]:
    """Each post with its own words, with the pillars it serves (learning from the
    user's ``corrections``, if any)."""
    mine = [p for p in posts if p.kind in ALIGNED_KINDS and p.text.strip()]
    if aligner is None:
        aligner = Aligner(
            strategy.pillars,
            method=method,
            corpus=[p.text for p in mine],
            corrections=corrections,
        )
    found = aligner.align_many(
        [p.text for p in mine],
        [f"{p.platform}:{p.id}" for p in mine],
        [p.language for p in mine],
        detect_all=False,
    )
    return list(zip(mine, found, strict=True))


@dataclass(frozen=True, slots=True)
class PillarCoverage:
    """How many of the period's posts serve one pillar."""

    id: str
    name: str
    posts: int
    share: float | None
    mean_confidence: float | None
    examples: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "name": self.name,
            "posts": self.posts,
            "share": None if self.share is None else round(self.share, 4),
            "mean_confidence": None
            if self.mean_confidence is None
            else round(self.mean_confidence, 3),
            "examples": list(self.examples),
        }


def coverage(
    strategy: Strategy, alignments: Sequence[tuple[OwnPost, Alignment]]
) -> list[PillarCoverage]:
    """Posts per pillar (a post serving two pillars counts for both)."""
    total = len(alignments)
    rows = []
    for pillar in strategy.pillars:
        hits = [
            (post, match)
            for post, alignment in alignments
            for match in alignment.pillars
            if match.pillar == pillar.id
        ]
        rows.append(
            PillarCoverage(
                id=pillar.id,
                name=pillar.name,
                posts=len(hits),
                share=len(hits) / total if total else None,
                mean_confidence=sum(m.confidence for _, m in hits) / len(hits) if hits else None,
                examples=tuple(f"{p.platform}:{p.id}" for p, _ in hits[:EXAMPLES]),
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class MixRow:
    """One kind of post: its target share and actual share (``None``: no data)."""

    kind: str
    target: float | None
    actual: float | None

    @property
    def delta(self) -> float | None:
        """Actual minus target."""
        if self.target is None or self.actual is None:
            return None
        return self.actual - self.target

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "kind": self.kind,
            "target": self.target,
            "actual": None if self.actual is None else round(self.actual, 4),
            "delta": None if self.delta is None else round(self.delta, 4),
        }


@dataclass(frozen=True, slots=True)
class Gap:
    """Something between the strategy and what happened, sized 0..1 to rank it."""

    kind: str
    name: str
    size: float
    sentence: Message

    def to_json(self, text: Render = str) -> dict[str, object]:
        """A JSON-ready dict (its words through ``text``: English strings by default)."""
        return {
            "kind": self.kind,
            "name": self.name,
            "size": round(self.size, 4),
            "sentence": text(self.sentence),
        }


@dataclass(frozen=True, slots=True)
class Review:
    """Everything the weekly review shows."""

    strategy: Strategy
    since: datetime
    until: datetime
    posts: int
    key_results: tuple[KeyResultStatus, ...]
    mix: tuple[MixRow, ...]
    habits: tuple[habit_checks.HabitStatus, ...]
    pillars: tuple[PillarCoverage, ...]
    unaligned: tuple[tuple[OwnPost, Alignment], ...]
    gaps: tuple[Gap, ...]
    #: Posts in a language the pillars are not written in: neither aligned nor unaligned.
    unsupported: tuple[tuple[OwnPost, Alignment], ...] = ()
    #: What the review cannot judge, and why: key results, habits, the mix without data.
    unknown: tuple[Gap, ...] = ()
    status: str = NO_DATA
    status_reason: Message | None = None
    #: Every post of the period with its own words, and its alignment (oldest first).
    alignments: tuple[tuple[OwnPost, Alignment], ...] = ()

    @property
    def unaligned_share(self) -> float | None:
        """The share of the period's readable aligned-kind posts that serve no pillar."""
        readable = self.posts - len(self.unsupported)
        return len(self.unaligned) / readable if readable else None

    @property
    def unsupported_languages(self) -> dict[str, int]:
        """How many posts kompas could not read, per language, most first."""
        counts: dict[str, int] = {}
        for _post, alignment in self.unsupported:
            key = alignment.language or "?"
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def to_json(self, text: Render = str) -> dict[str, object]:
        """The ``kompas review --json`` shape (its words through ``text``: English strings
        by default)."""
        return {
            "period": {"since": self.since.isoformat(), "until": self.until.isoformat()},
            "status": self.status,
            "status_reason": "" if self.status_reason is None else text(self.status_reason),
            "why": self.strategy.why,
            "key_results": [k.to_json(text) for k in self.key_results],
            "mix": [m.to_json() for m in self.mix],
            "habits": [h.to_json(text) for h in self.habits],
            "pillars": [p.to_json() for p in self.pillars],
            "unaligned": {
                "posts": len(self.unaligned),
                "of": self.posts,
                "share": None if self.unaligned_share is None else round(self.unaligned_share, 4),
                "examples": [
                    {
                        "post": f"{post.platform}:{post.id}",
                        "text": post.text[:200],
                        "reason": alignment.reason(),
                    }
                    for post, alignment in self.unaligned[:EXAMPLES]
                ],
            },
            "unsupported_language": {
                "posts": len(self.unsupported),
                "languages": self.unsupported_languages,
            },
            "gaps": [g.to_json(text) for g in (*self.gaps, *self.unknown)],
        }


def mix_rows(
    strategy: Strategy, context: MetricContext, since: datetime, until: datetime
) -> list[MixRow]:
    """The mix of the period against the strategy's target."""
    posts = REGISTRY.value("community.posts", context, since, until)
    # With no posts the community shares are all 0: that is "no data", not a 0% mix.
    return [
        MixRow(
            kind,
            strategy.mix.get(kind),
            REGISTRY.value(f"community.mix.{kind}", context, since, until) if posts else None,
        )
        for kind in MIX_KINDS
    ]


def gaps(
    key_results: Sequence[KeyResultStatus],
    mix: Sequence[MixRow],
    habits: Sequence[habit_checks.HabitStatus],
    pillars: Sequence[PillarCoverage],
    unaligned_share: float | None,
    limit: int = GAPS,
) -> list[Gap]:
    """The biggest differences between the strategy and the period, largest first."""
    found: list[Gap] = []
    for kr in key_results:
        if kr.met is False:
            found.append(Gap("key_result", kr.key_result.text, kr.shortfall, kr.reason()))
    for row in mix:
        if row.delta is not None and row.delta < -0.05:
            found.append(
                Gap(
                    "mix",
                    row.kind,
                    -row.delta,
                    message(
                        "strategy.gap.mix",
                        kind=message(f"common.kind.{row.kind}"),
                        actual=row.actual,
                        target=row.target,
                    ),
                )
            )
    for habit in habits:
        if habit.windows_met is not None and habit.done is not None and not habit.met:
            size = 1.0 - habit.done / habit.habit.target
            found.append(
                Gap(
                    "habit",
                    habit.habit.name,
                    size,
                    message(
                        "strategy.gap.habit",
                        habit=habit.habit.name,
                        done=habit.done,
                        target=habit.habit.target,
                        per=message(f"strategy.this.{habit.habit.per}"),
                    ),
                )
            )
    if any(p.posts for p in pillars):
        for pillar in pillars:
            if pillar.posts == 0:
                found.append(
                    Gap(
                        "pillar", pillar.id, 0.5, message("strategy.gap.pillar", pillar=pillar.name)
                    )
                )
    if pillars and unaligned_share is not None and unaligned_share > UNALIGNED_GAP:
        found.append(
            Gap(
                "unaligned",
                "unaligned",
                unaligned_share - UNALIGNED_GAP,
                message("strategy.gap.unaligned", share=unaligned_share),
            )
        )
    found.sort(key=lambda g: -g.size)
    return found[:limit]


def corrections_of(connection: sa.Connection) -> list[Correction]:
    """The user's corrections of alignment (``kompas strategy teach``), oldest first."""
    return [
        Correction(c.text, c.pillars, f"{c.platform}:{c.post_id}")
        for c in store.corrections(connection)
    ]


def unknowns(
    key_results: Sequence[KeyResultStatus],
    mix: Sequence[MixRow],
    habits: Sequence[habit_checks.HabitStatus],
) -> list[Gap]:
    """What the period cannot tell, each with why (and what would tell it)."""
    found = [
        Gap("no_data", kr.key_result.text, 0.0, kr.reason())
        for kr in key_results
        if kr.value is None
    ]
    if any(row.target is not None and row.actual is None for row in mix):
        found.append(Gap("no_data", "mix", 0.0, message("strategy.gap.mix_no_data")))
    found += [
        Gap(
            "no_data",
            h.habit.name,
            0.0,
            message(
                "strategy.gap.habit_no_data",
                habit=h.habit.name,
                why=h.reason or message("common.no_data"),
            ),
        )
        for h in habits
        if h.done is None
    ]
    return found


def verdict(
    key_results: Sequence[KeyResultStatus],
    measured_gaps: Sequence[Gap],
    unknown: Sequence[Gap],
    measured: int,
) -> tuple[str, Message]:
    """``on track`` only when every key result has data and none is missed and nothing
    measured falls short; ``off track`` when something measured falls short; else
    ``no data``, with the reason in words."""
    missing = [kr for kr in key_results if kr.value is None]
    if measured_gaps:
        return OFF_TRACK, message(
            "strategy.verdict.off_track",
            count=len(measured_gaps),
            biggest=measured_gaps[0].sentence,
        )
    if measured == 0:
        first = unknown[0].sentence if unknown else message("strategy.verdict.nothing_in_strategy")
        return NO_DATA, message("strategy.verdict.nothing_measurable", first=first)
    if missing:
        return NO_DATA, message(
            "strategy.verdict.missing",
            count=len(missing),
            total=len(key_results),
            first=missing[0].reason(),
        )
    if key_results:
        met = sum(1 for kr in key_results if kr.met)
        return ON_TRACK, message("strategy.verdict.all_met", count=met)
    return ON_TRACK, message("strategy.verdict.habits_met")


def day_start(moment: datetime) -> datetime:
    """Midnight (UTC) of ``moment``'s day."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def build_review(
    connection: sa.Connection,
    strategy: Strategy,
    until: datetime,
    days: int = 7,
    rules_path: Path | None = None,
    platform: str | None = None,
) -> Review:
    """The review of ``[until - days, until)``."""
    since = until - timedelta(days=days)
    context = MetricContext(connection, platform, strategy.domains)
    # The mix's window and every key result's, counted at once.
    context.prepare([(since, until), *kr_windows(strategy, since, until)])
    key_results = evaluate(strategy, context, since, until)
    posts = store.own_posts(connection, since, until, platform)
    alignments = aligned_posts(strategy, posts, corrections=corrections_of(connection))
    pillars = coverage(strategy, alignments)
    unaligned = tuple((p, a) for p, a in alignments if a.status == "unaligned")
    unsupported = tuple((p, a) for p, a in alignments if a.status == "unsupported language")
    # Each habit's windows are one grouped query over the span they cover.
    activity = habit_checks.StoredActivity(
        connection,
        since - timedelta(days=200),
        until,
        platform,
        store.undated_actions(connection, platform),
        store.activity_span(connection, platform),
    )
    counter: TagCounter | None = None
    reason: Message | None = message("strategy.tags.no_rules")
    if any(h.tag for h in strategy.habits):
        counter, reason = tag_counter(connection, rules_path or Path("rules.yaml"))
    habit_rows = tuple(
        habit_checks.status(h, activity, until, counter, reason) for h in strategy.habits
    )
    mix = tuple(mix_rows(strategy, context, since, until))
    readable = len(alignments) - len(unsupported)
    share = len(unaligned) / readable if readable else None
    found = tuple(gaps(key_results, mix, habit_rows, pillars, share))
    unknown = tuple(unknowns(key_results, mix, habit_rows))
    measured = (
        sum(1 for kr in key_results if kr.value is not None)
        + sum(1 for h in habit_rows if h.done is not None)
        + sum(1 for m in mix if m.target is not None and m.actual is not None)
    )
    status, status_reason = verdict(key_results, found, unknown, measured)
    return Review(
        strategy=strategy,
        since=since,
        until=until,
        posts=len(alignments),
        key_results=tuple(key_results),
        mix=mix,
        habits=habit_rows,
        pillars=tuple(pillars),
        unaligned=unaligned,
        gaps=found,
        unsupported=unsupported,
        unknown=unknown,
        status=status,
        status_reason=status_reason,
        alignments=tuple(alignments),
    )
