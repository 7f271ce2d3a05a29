"""Habits: counts of the user's own actions per day, week or month, with streaks.

Kinds of actions come from the user's posts (post, reply, quote, repost, link, mention)
and interactions (like, bookmark, follow). Tags come from the rules pillar: the user's
own activity run through their ``rules.yaml``; without a rules file a tag habit has no
data (never a zero)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from kompas.i18n import Message, Render, message
from kompas.store import habit_counts
from kompas.store.strategy import OwnAction, OwnPost
from kompas.strategy.model import Habit

#: How many windows back a streak is looked for.
HORIZON = {"day": 60, "week": 12, "month": 6}
LENGTH = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}
_POST_KINDS = {"post": ("post",), "reply": ("reply",), "quote": ("quote",), "repost": ("repost",)}

#: Counts a tag habit over ``[since, until)``; ``None`` when tags cannot be known.
TagCounter = Callable[[datetime, datetime], dict[str, int] | None]


@dataclass(frozen=True, slots=True)
class Activity:
    """The user's own posts and dated actions over some span of time."""

    posts: Sequence[OwnPost]
    actions: Sequence[OwnAction]
    undated: dict[str, int] = field(default_factory=dict)
    #: First and last dated post of the user (all time): outside it there is no data.
    span: tuple[datetime, datetime] | None = None
    #: The dated posts and actions sorted by time, and their times: each window is a
    #: bisection, not a pass over the whole span (sixty daily windows of a busy year).
    _posts: tuple[list[OwnPost], list[datetime]] = field(init=False, repr=False, compare=False)
    _actions: tuple[list[OwnAction], list[datetime]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        posts = sorted((p for p in self.posts if p.created_at), key=_created)
        actions = sorted((a for a in self.actions if a.created_at), key=_created)
        object.__setattr__(self, "_posts", (posts, [_created(p) for p in posts]))
        object.__setattr__(self, "_actions", (actions, [_created(a) for a in actions]))

    def posts_in(self, since: datetime, until: datetime) -> list[OwnPost]:
        """The posts dated in ``[since, until)``."""
        found, times = self._posts
        return found[bisect_left(times, since) : bisect_left(times, until)]

    def actions_in(self, since: datetime, until: datetime) -> list[OwnAction]:
        """The actions dated in ``[since, until)``."""
        found, times = self._actions
        return found[bisect_left(times, since) : bisect_left(times, until)]

    def outside(self, since: datetime, until: datetime) -> Message | None:
        """Why ``[since, until)`` has no data (wholly outside the user's data), or None."""
        return _outside(self.span, since, until)

    def unknowable(self, kind: str | None) -> Message | None:
        """Why a kind of action cannot be counted (its records carry no date), or None."""
        if kind is None or not self.undated.get(kind):
            return None
        if any(a.kind == kind for a in self.actions):
            return None
        return _undated(kind, self.undated[kind])

    def counts(self, habit: Habit, until: datetime, windows: int) -> list[int]:
        """The habit's counts over ``windows`` windows ending at ``until``, oldest first."""
        length = LENGTH[habit.per]
        return [
            count(habit, self, until - (back + 1) * length, until - back * length)
            for back in range(windows - 1, -1, -1)
        ]


@dataclass(frozen=True, slots=True)
class StoredActivity:
    """The user's activity as the store counts it: each habit's windows are one grouped
    query (:mod:`kompas.store.habit_counts`), nothing loaded. The same answers as
    :class:`Activity` over the records of ``[horizon, until)``."""

    connection: sa.Connection
    horizon: datetime
    until: datetime
    platform: str | None = None
    undated: dict[str, int] = field(default_factory=dict)
    span: tuple[datetime, datetime] | None = None

    def outside(self, since: datetime, until: datetime) -> Message | None:
        """Why ``[since, until)`` has no data (wholly outside the user's data), or None."""
        return _outside(self.span, since, until)

    def unknowable(self, kind: str | None) -> Message | None:
        """Why a kind of action cannot be counted (its records carry no date), or None."""
        if kind is None or not self.undated.get(kind):
            return None
        if habit_counts.dated_any(self.connection, kind, self.horizon, self.until, self.platform):
            return None
        return _undated(kind, self.undated[kind])

    def counts(self, habit: Habit, until: datetime, windows: int) -> list[int]:
        """The habit's counts over ``windows`` windows ending at ``until``, oldest first."""
        assert habit.count is not None
        return habit_counts.windows(
            self.connection,
            habit.count,
            habit.distinct == "people",
            until,
            LENGTH[habit.per],
            windows,
            self.platform,
        )


Counted = Activity | StoredActivity


def _outside(
    span: tuple[datetime, datetime] | None, since: datetime, until: datetime
) -> Message | None:
    if span is None:
        return message("strategy.habit.no_dated_posts")
    first, last = span
    if until <= first or since > last:
        return message("strategy.habit.outside", first=first.date(), last=last.date())
    return None


def _undated(kind: str, count: int) -> Message:
    action = message(f"strategy.action.{kind}", count=count)
    return message("strategy.habit.undated", count=count, action=action)


def _created(record: OwnPost | OwnAction) -> datetime:
    assert record.created_at is not None
    return record.created_at


def _people(post: OwnPost, kind: str | None) -> set[str]:
    """Who a post reaches: the author replied to (reply), reposted (repost), or everyone
    it mentions or replies to (other kinds)."""
    if kind == "reply":
        found = {post.reply_to_author_id} if post.reply_to_author_id else set()
    elif kind == "repost":
        found = {post.repost_of_author_id} if post.repost_of_author_id else set()
    else:
        found = set(post.mentions) | (
            {post.reply_to_author_id} if post.reply_to_author_id else set()
        )
    # Replying to yourself (a thread) is not reaching a person.
    return {f"{post.platform}:{p}" for p in found - {post.author_id}}


def count(habit: Habit, activity: Activity, since: datetime, until: datetime) -> int:
    """How many times ``habit`` (a kind of action) was done in ``[since, until)``."""
    kind = habit.count
    people: set[str] = set()
    total = 0
    if kind in _POST_KINDS or kind in ("link", "mention"):
        for post in activity.posts_in(since, until):
            if kind in _POST_KINDS:
                hit = post.kind in _POST_KINDS[kind]
            elif kind == "link":
                hit = post.kind != "repost" and bool(post.links)
            else:
                hit = post.kind != "repost" and bool(post.mentions)
            if hit:
                total += 1
                people |= _people(post, kind)
    else:
        for action in activity.actions_in(since, until):
            if action.kind == kind:
                total += 1
                if action.target_account_id:
                    people.add(f"{action.platform}:{action.target_account_id}")
    return len(people) if habit.distinct == "people" else total


@dataclass(frozen=True, slots=True)
class HabitStatus:
    """A habit over one window: done vs target, and the streak of met windows."""

    habit: Habit
    since: datetime
    until: datetime
    done: int | None
    streak: int | None
    best_streak: int | None
    windows_met: int | None
    windows: int
    reason: Message | None = None

    @property
    def left(self) -> int | None:
        """How many are still to do in the window (``None``: no data)."""
        return None if self.done is None else max(0, self.habit.target - self.done)

    @property
    def met(self) -> bool | None:
        """Whether the target is reached (``None``: no data)."""
        return None if self.done is None else self.done >= self.habit.target

    def to_json(self, text: Render = str) -> dict[str, object]:
        """A JSON-ready dict (its words through ``text``: English strings by default)."""
        return {
            "name": self.habit.name,
            "counts": self.habit.what,
            "per": self.habit.per,
            "target": self.habit.target,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "done": self.done,
            "left": self.left,
            "met": self.met,
            "streak": self.streak,
            "best_streak": self.best_streak,
            "windows_met": self.windows_met,
            "windows": self.windows,
            "status": "no data" if self.done is None else ("done" if self.met else "left"),
            "reason": None if self.reason is None else text(self.reason),
        }


def window_counts(
    habit: Habit,
    activity: Counted,
    until: datetime,
    windows: int,
    tags: TagCounter | None = None,
) -> list[int | None]:
    """Counts over ``windows`` consecutive windows of the habit's length ending at
    ``until``, oldest first (``None`` where a tag habit has no data)."""
    if habit.tag is None:
        return list(activity.counts(habit, until, windows))
    length = LENGTH[habit.per]
    values: list[int | None] = []
    for back in range(windows - 1, -1, -1):
        end = until - back * length
        counted = tags(end - length, end) if tags is not None else None
        values.append(None if counted is None else counted.get(habit.tag, 0))
    return values


def status(
    habit: Habit,
    activity: Counted,
    until: datetime,
    tags: TagCounter | None = None,
    tag_reason: Message | None = None,
    open_window: bool = False,
) -> HabitStatus:
    """The habit in the window ending at ``until``, with streaks over the horizon.

    ``open_window``: the last window is still running (today), so not having met it yet
    does not break the streak."""
    horizon = HORIZON[habit.per]

    def no_data(reason: Message) -> HabitStatus:
        since = until - LENGTH[habit.per]
        return HabitStatus(habit, since, until, None, None, None, None, horizon, reason)

    unknowable = activity.unknowable(habit.count) or activity.outside(
        until - LENGTH[habit.per], until
    )
    if unknowable is not None:
        return no_data(unknowable)
    if habit.tag is not None and tags is None:
        return no_data(tag_reason or message("strategy.habit.needs_rules"))
    values = window_counts(habit, activity, until, horizon, tags)
    if values[-1] is None:
        return no_data(tag_reason or message("strategy.habit.no_tag_data"))
    met = [v is not None and v >= habit.target for v in values]
    streak = 0
    tail = met[:-1] if open_window and not met[-1] else met
    for hit in reversed(tail):
        if not hit:
            break
        streak += 1
    best = run = 0
    for hit in met:
        run = run + 1 if hit else 0
        best = max(best, run)
    return HabitStatus(
        habit=habit,
        since=until - LENGTH[habit.per],
        until=until,
        done=values[-1],
        streak=streak,
        best_streak=best,
        windows_met=sum(met),
        windows=horizon,
    )
