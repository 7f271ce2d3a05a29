"""``kompas today``: habits done and left today, today's posts by pillar, and the one
thing that would help most."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from kompas.i18n import Message, Render, message
from kompas.rules.routes import Notice, notices, people_to_meet
from kompas.store import feeds as feed_store
from kompas.store import strategy as store
from kompas.store.strategy import OwnPost
from kompas.strategy import habits as habit_checks
from kompas.strategy.alignment import Alignment
from kompas.strategy.habits import TagCounter
from kompas.strategy.model import Strategy
from kompas.strategy.review import aligned_posts, corrections_of, day_start
from kompas.strategy.tags import tag_counter

#: The kinds of action ``today`` proposes, in the order it lists them.
ACTION_KINDS = ("notify", "reply", "reconnect", "share", "post", "check")
#: How many actions ``today`` proposes at most.
MOST_ACTIONS = 7


@dataclass(frozen=True, slots=True)
class Action:
    """One concrete thing to do today, with why: reply to someone, reconnect with someone,
    share an item, post on a pillar, check an account, or look at what a rule flagged."""

    kind: str
    text: Message
    why: Message
    person: str | None = None
    post: str | None = None
    url: str | None = None

    def to_json(self, text: Render = str) -> dict[str, object]:
        """The shape of one of ``today --json``'s ``actions``."""
        return {
            "kind": self.kind,
            "text": text(self.text),
            "person": self.person,
            "post": self.post,
            "why": text(self.why),
            "url": self.url,
        }


@dataclass(frozen=True, slots=True)
class Today:
    """One day against the strategy."""

    day: datetime
    habits: tuple[habit_checks.HabitStatus, ...]
    posts: int
    by_pillar: dict[str, int]
    unaligned: int
    suggestion: Message
    #: Items the user's rules route to ``notify`` (the newest week of their feeds).
    notices: tuple[Notice, ...] = ()
    #: How many people the rules route to ``people-to-meet`` (``kompas people to-meet``).
    people_to_meet: int = 0
    #: What to do today, each with why (3 to 7 when the data offers that many).
    actions: tuple[Action, ...] = ()

    @property
    def status(self) -> str:
        """``to do`` while a habit with data is left, ``on track`` when every habit has data
        and is done, else ``no data`` (never "on track" without data)."""
        if any(h.left for h in self.habits):
            return "to do"
        if self.habits and all(h.done is not None for h in self.habits):
            return "on track"
        return "no data"

    def to_json(self, text: Render = str) -> dict[str, object]:
        """The ``kompas today --json`` shape (its words through ``text``: English by
        default)."""
        return {
            "date": self.day.date().isoformat(),
            "status": self.status,
            "habits": [h.to_json(text) for h in self.habits],
            "posts": {
                "total": self.posts,
                "by_pillar": self.by_pillar,
                "unaligned": self.unaligned,
            },
            "suggestion": text(self.suggestion),
            "notify": [n.to_json() for n in self.notices],
            "people_to_meet": self.people_to_meet,
            "actions": [a.to_json(text) for a in self.actions],
        }


def suggest(
    strategy: Strategy, habits: tuple[habit_checks.HabitStatus, ...], week_by_pillar: dict[str, int]
) -> Message:
    """The one sentence on what would help most: the habit furthest from its target,
    else the pillar least served this week, else keep going."""
    open_habits = [h for h in habits if h.left]
    if open_habits:
        worst = max(open_habits, key=lambda h: (h.left or 0) / h.habit.target)
        return message(
            "strategy.suggest.habit",
            habit=worst.habit.name,
            left=worst.left,
            when=message(f"common.per.{worst.habit.per}"),
            done=worst.done,
            target=worst.habit.target,
        )
    if strategy.pillars:
        quiet = min(strategy.pillars, key=lambda p: week_by_pillar.get(p.id, 0))
        if week_by_pillar.get(quiet.id, 0) == 0:
            return message("strategy.suggest.pillar", pillar=quiet.name)
    if not habits:
        return message("strategy.suggest.no_habits")
    unknown = [h for h in habits if h.done is None]
    if len(unknown) == len(habits):
        why = unknown[0].reason or message("strategy.nothing_to_count")
        return message("strategy.suggest.no_habit_data", why=why)
    if unknown:
        return message(
            "strategy.suggest.some_unknown",
            count=len(unknown),
            habit=unknown[0].habit.name,
            why=unknown[0].reason or message("common.no_data"),
        )
    return message("strategy.suggest.on_track")


#: How far back from the newest feed item ``notify`` items are shown.
NOTIFY_DAYS = 7


def routed(connection: sa.Connection) -> tuple[list[Notice], int]:
    """What the rules route to ``notify`` (the week up to the newest feed item: anchored to
    the feeds' own data, not to the day of an old archive) and how many people to meet."""
    span = feed_store.feed_span(connection)
    if span.last is None:
        return [], 0
    decided = feed_store.decided_items(connection, since=span.last - timedelta(days=NOTIFY_DAYS))
    return notices(decided), len(people_to_meet(decided))


def build_today(
    connection: sa.Connection,
    strategy: Strategy,
    day: datetime,
    rules_path: Path | None = None,
    platform: str | None = None,
    week: Sequence[tuple[OwnPost, Alignment]] | None = None,
) -> Today:
    """The day ``day`` (UTC) against the strategy. ``week``: what :func:`aligned_posts`
    gives for the posts of the 7 days up to the day's end, when the caller has it (the
    dashboard's 7-day review of the same days): not aligned twice."""
    start = day_start(day)
    end = start + timedelta(days=1)
    # Only as far back as the habits' streaks look; each habit's windows are one grouped
    # query over that span (a busy account's year of posts is never loaded for them).
    reach = max(
        (habit_checks.HORIZON[h.per] * habit_checks.LENGTH[h.per] for h in strategy.habits),
        default=timedelta(days=7),
    )
    activity = habit_checks.StoredActivity(
        connection,
        start - max(reach, timedelta(days=7)),
        end,
        platform,
        store.undated_actions(connection, platform),
        store.activity_span(connection, platform),
    )
    counter: TagCounter | None = None
    reason: Message | None = message("strategy.tags.no_rules")
    if any(h.tag for h in strategy.habits):
        counter, reason = tag_counter(connection, rules_path or Path("rules.yaml"))
    habits = tuple(
        habit_checks.status(h, activity, end, counter, reason, open_window=True)
        for h in strategy.habits
    )
    posts = store.own_posts(connection, end - timedelta(days=7), end, platform)
    if week is None:
        week = aligned_posts(strategy, posts, corrections=corrections_of(connection))
    aligned = list(week)
    week_by_pillar = Counter(m for _, a in aligned for m in a.labels)
    todays = [(p, a) for p, a in aligned if p.created_at is not None and p.created_at >= start]
    by_pillar = Counter(m for _, a in todays for m in a.labels)
    notes, to_meet = routed(connection)
    return Today(
        day=start,
        habits=habits,
        posts=len(todays),
        by_pillar={p.id: by_pillar.get(p.id, 0) for p in strategy.pillars},
        unaligned=sum(1 for _, a in todays if a.status == "unaligned"),
        suggestion=suggest(strategy, habits, dict(week_by_pillar)),
        notices=tuple(notes),
        people_to_meet=to_meet,
        actions=tuple(
            pillar_actions(connection, strategy, [p.text for p in posts], dict(week_by_pillar))
        ),
    )


#: How many of the newest kept feed items ``share`` looks through.
SHARE_CANDIDATES = 200


def pillar_actions(
    connection: sa.Connection,
    strategy: Strategy,
    week_texts: list[str],
    week_by_pillar: dict[str, int],
) -> list[Action]:
    """The strategy's own actions: post on a pillar quiet for 7 days, and share the best
    item the rules kept (the feeds' newest week) that serves the least-served pillar."""
    if not strategy.pillars:
        return []
    found: list[Action] = []
    quiet = [p for p in strategy.pillars if week_by_pillar.get(p.id, 0) == 0]
    if quiet:
        found.append(
            Action(
                "post",
                message("strategy.action.post", pillar=quiet[0].name),
                message("strategy.action.post_why", pillar=quiet[0].name, days=7),
            )
        )
    least = min(strategy.pillars, key=lambda p: week_by_pillar.get(p.id, 0))
    span = feed_store.feed_span(connection)
    if span.last is None:
        return found
    decided = feed_store.decided_items(connection, since=span.last - timedelta(days=NOTIFY_DAYS))
    kept = sorted((pair for pair in decided if pair[1].kept), key=lambda pair: -pair[1].score)[
        :SHARE_CANDIDATES
    ]
    if not kept:
        return found
    from kompas.strategy.alignment import Aligner

    texts = [f"{s.item.title}\n{s.item.text}" for s, _ in kept]
    aligner = Aligner(strategy.pillars, corpus=[*week_texts, *texts])
    aligned = aligner.align_many(
        texts, [s.item.id for s, _ in kept], [s.item.language for s, _ in kept], detect_all=False
    )
    for (stored, decision), alignment in zip(kept, aligned, strict=True):
        if least.id in alignment.labels:
            found.append(
                Action(
                    "share",
                    message(
                        "strategy.action.share",
                        title=stored.item.title or stored.item.url or stored.item.id,
                        source=stored.item.source,
                    ),
                    message(
                        "strategy.action.share_why",
                        pillar=least.name,
                        count=week_by_pillar.get(least.id, 0),
                        score=decision.score,
                    ),
                    post=stored.item.id,
                    url=stored.item.url,
                )
            )
            break
    return found
