"""``kompas today``: habits done and left today, today's posts by pillar, and the one
thing that would help most."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from kompas.store import strategy as store
from kompas.strategy import habits as habit_checks
from kompas.strategy.habits import TagCounter
from kompas.strategy.model import Strategy
from kompas.strategy.review import aligned_posts, corrections_of, day_start
from kompas.strategy.tags import tag_counter


@dataclass(frozen=True, slots=True)
class Today:
    """One day against the strategy."""

    day: datetime
    habits: tuple[habit_checks.HabitStatus, ...]
    posts: int
    by_pillar: dict[str, int]
    unaligned: int
    suggestion: str

    def to_json(self) -> dict[str, object]:
        """The ``kompas today --json`` shape."""
        return {
            "date": self.day.date().isoformat(),
            "habits": [h.to_json() for h in self.habits],
            "posts": {
                "total": self.posts,
                "by_pillar": self.by_pillar,
                "unaligned": self.unaligned,
            },
            "suggestion": self.suggestion,
        }


def suggest(
    strategy: Strategy, habits: tuple[habit_checks.HabitStatus, ...], week_by_pillar: dict[str, int]
) -> str:
    """The one sentence on what would help most: the habit furthest from its target,
    else the pillar least served this week, else keep going."""
    open_habits = [h for h in habits if h.left]
    if open_habits:
        worst = max(open_habits, key=lambda h: (h.left or 0) / h.habit.target)
        when = {"day": "today", "week": "this week", "month": "this month"}[worst.habit.per]
        return (
            f"{worst.habit.name}: {worst.left} more {when} "
            f"({worst.done} of {worst.habit.target} so far)."
        )
    if strategy.pillars:
        quiet = min(strategy.pillars, key=lambda p: week_by_pillar.get(p.id, 0))
        if week_by_pillar.get(quiet.id, 0) == 0:
            return f"Post something for {quiet.name}: nothing on it in the last 7 days."
    if not habits:
        return "Add habits to your strategy file so kompas can say what to do today."
    if any(h.done is None for h in habits):
        return "Every habit with data is on track; tag habits need a rules file to count."
    return "You're on track: every habit is done for now."


def build_today(
    connection: sa.Connection,
    strategy: Strategy,
    day: datetime,
    rules_path: Path | None = None,
    platform: str | None = None,
) -> Today:
    """The day ``day`` (UTC) against the strategy."""
    start = day_start(day)
    end = start + timedelta(days=1)
    horizon = start - timedelta(days=200)
    posts = store.own_posts(connection, horizon, end, platform)
    activity = habit_checks.Activity(
        posts,
        store.own_actions(connection, horizon, end, ("like", "bookmark", "follow"), platform),
        store.undated_actions(connection, platform),
        store.activity_span(connection, platform),
    )
    counter: TagCounter | None = None
    reason: str | None = "no rules file"
    if any(h.tag for h in strategy.habits):
        counter, reason = tag_counter(connection, rules_path or Path("rules.yaml"))
    habits = tuple(
        habit_checks.status(h, activity, end, counter, reason, open_window=True)
        for h in strategy.habits
    )
    week = [
        p for p in posts if p.created_at is not None and p.created_at >= end - timedelta(days=7)
    ]
    aligned = aligned_posts(strategy, week, corrections=corrections_of(connection))
    week_by_pillar = Counter(m for _, a in aligned for m in a.labels)
    todays = [(p, a) for p, a in aligned if p.created_at is not None and p.created_at >= start]
    by_pillar = Counter(m for _, a in todays for m in a.labels)
    return Today(
        day=start,
        habits=habits,
        posts=len(todays),
        by_pillar={p.id: by_pillar.get(p.id, 0) for p in strategy.pillars},
        unaligned=sum(1 for _, a in todays if a.status == "unaligned"),
        suggestion=suggest(strategy, habits, dict(week_by_pillar)),
    )
