"""The community pillar's results: plain dataclasses that the CLI prints, the dashboard
draws and the strategy pillar binds key results to.

A figure is ``None`` when the data cannot know it (e.g. replies received, which no
platform export contains), never a misleading 0. See docs/community.md for every
definition.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

#: The style names, and the thresholds that pick them (documented in docs/community.md).
STYLES = ("connector", "curator", "promoter", "all-rounder", "lurker")
#: Fewer original posts, replies and shares per week than this makes a lurker.
LURKER_POSTS_PER_WEEK = 1.0
#: The share of the mix one kind needs for its style (connector, curator, promoter).
STYLE_SHARE = 0.5
#: Default half-life of a relationship's strength, in days.
HALF_LIFE_DAYS = 30.0
#: Strength at the start of the period above which a silent relationship is "fading".
FADING_MIN_STRENGTH = 1.0


@dataclass(frozen=True, slots=True)
class Period:
    """``[since, until)`` in UTC; both ``None`` means all time, undated records included.

    A bounded period holds only dated records: an undated like cannot be placed in it.
    """

    since: datetime | None = None
    until: datetime | None = None

    @property
    def all_time(self) -> bool:
        """Whether the period is unbounded (and so includes undated records)."""
        return self.since is None and self.until is None

    def contains(self, when: datetime | None) -> bool:
        """Whether a record dated ``when`` falls in the period."""
        if when is None:
            return self.all_time
        return (self.since is None or when >= self.since) and (
            self.until is None or when < self.until
        )


@dataclass(frozen=True, slots=True)
class Mix:
    """Shares of the user's posts in the period; they sum to 1 when there are posts."""

    conversation: float = 0.0
    sharing: float = 0.0
    broadcast: float = 0.0
    other: float = 0.0


@dataclass(frozen=True, slots=True)
class Relationship:
    """One person the user has a relationship with, and why it is as strong as it is."""

    person: str
    accounts: tuple[str, ...]
    handles: tuple[str, ...]
    strength: float
    strength_before: float
    given: int
    received: int
    first_seen: datetime | None
    last_seen: datetime | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO 8601)."""
        data = asdict(self)
        data["accounts"] = list(self.accounts)
        data["handles"] = list(self.handles)
        data["strength"] = round(self.strength, 4)
        data["strength_before"] = round(self.strength_before, 4)
        for key in ("first_seen", "last_seen"):
            value = data[key]
            data[key] = value.isoformat() if value else None
        return data


@dataclass(frozen=True, slots=True)
class Trends:
    """Week-by-week series (weeks start on Monday, UTC); ``None`` where the data can't know."""

    weeks: tuple[str, ...] = ()
    series: dict[str, list[int] | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Figures:
    """Every community figure for one platform, or all platforms merged (``all``)."""

    # conversation
    replies_given: int = 0
    replies_received: int | None = None
    conversations: int = 0
    conversations_started: int = 0
    conversations_joined: int = 0
    median_reply_minutes: float | None = None
    unanswered_share: float | None = None
    # sharing
    reposts_of_others: int = 0
    reposts: int = 0
    quotes: int = 0
    self_promotion: int = 0
    distinct_people_shared: int = 0
    top_source_share: float | None = None
    # learning
    likes_given: int = 0
    bookmarks_given: int = 0
    distinct_sources_learned: int = 0
    undated_excluded: int = 0
    # connections
    people_interacted: int = 0
    new_connections: int = 0
    reciprocity: float | None = None
    # rates (Kaushik), per post carrying the count
    conversation_rate: float | None = None
    amplification_rate: float | None = None
    applause_rate: float | None = None
    rated_posts: int = 0
    # mix and style
    mix: Mix = field(default_factory=Mix)
    mix_counts: dict[str, int] = field(default_factory=dict)
    style: str = "lurker"
    style_reasons: tuple[str, ...] = ()
    # vanity
    followers: int | None = None
    following: int | None = None
    posts: int = 0
    # whether the data holds what others did to the user (replies/mentions received)
    received_data: bool = False
    trends: Trends = field(default_factory=Trends)


#: The per-platform figures the JSON output lists as top-level keys, in order.
FIGURE_KEYS = (
    "replies_given",
    "replies_received",
    "conversations",
    "conversations_started",
    "conversations_joined",
    "median_reply_minutes",
    "unanswered_share",
    "reposts_of_others",
    "self_promotion",
    "people_interacted",
    "new_connections",
    "reciprocity",
    "style",
    "style_reasons",
    "received_data",
)


@dataclass(frozen=True, slots=True)
class CommunityReport:
    """The community figures of a period, per platform plus ``all`` (merged, each linked
    person counted once), and the relationships behind them."""

    period: Period
    half_life_days: float
    figures: dict[str, Figures]
    relationships: dict[str, list[Relationship]]
    data_start: datetime | None = None
    data_end: datetime | None = None

    @property
    def empty(self) -> bool:
        """Whether the period holds nothing the user did."""
        merged = self.figures.get("all")
        return merged is None or (
            merged.posts == 0
            and merged.likes_given == 0
            and merged.bookmarks_given == 0
            and merged.people_interacted == 0
        )

    def top(self, platform: str = "all", n: int = 10) -> list[Relationship]:
        """The ``n`` strongest relationships now (at the end of the period)."""
        found = [r for r in self.relationships.get(platform, []) if r.strength > 0]
        return sorted(found, key=lambda r: (-r.strength, r.person))[:n]

    def fading(self, platform: str = "all", n: int = 10) -> list[Relationship]:
        """Relationships that were strong when the period began and are silent in it."""
        if self.period.since is None:
            return []
        found = [
            r
            for r in self.relationships.get(platform, [])
            if r.strength_before >= FADING_MIN_STRENGTH and r.given + r.received == 0
        ]
        return sorted(found, key=lambda r: (-r.strength_before, r.person))[:n]

    def to_json(self) -> dict[str, Any]:
        """Every figure as JSON: top-level keys are figures, each keyed by platform + ``all``."""

        def when(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        data: dict[str, Any] = {
            "period": {
                "since": when(self.period.since),
                "until": when(self.period.until),
                "half_life_days": self.half_life_days,
                "data_start": when(self.data_start),
                "data_end": when(self.data_end),
            },
            "platforms": [p for p in self.figures if p != "all"],
        }
        for key in FIGURE_KEYS:
            data[key] = {
                p: list(v) if isinstance(v := getattr(f, key), tuple) else v
                for p, f in self.figures.items()
            }
        figures = self.figures.items()
        data["sharing"] = {
            p: {
                "reposts": f.reposts,
                "quotes": f.quotes,
                "reposts_of_others": f.reposts_of_others,
                "self_promotion": f.self_promotion,
                "distinct_people": f.distinct_people_shared,
                "top_source_share": f.top_source_share,
            }
            for p, f in figures
        }
        data["learning"] = {
            p: {
                "likes": f.likes_given,
                "bookmarks": f.bookmarks_given,
                "distinct_sources": f.distinct_sources_learned,
                "undated_excluded": f.undated_excluded,
            }
            for p, f in figures
        }
        data["rates"] = {
            p: {
                "conversation_rate": f.conversation_rate,
                "amplification_rate": f.amplification_rate,
                "applause_rate": f.applause_rate,
                "posts_counted": f.rated_posts,
            }
            for p, f in figures
        }
        data["mix"] = {p: asdict(f.mix) for p, f in figures}
        data["mix_counts"] = {p: dict(f.mix_counts) for p, f in figures}
        data["vanity"] = {
            p: {"followers": f.followers, "following": f.following, "posts": f.posts}
            for p, f in figures
        }
        data["trends"] = {p: {"weeks": list(f.trends.weeks), **f.trends.series} for p, f in figures}
        data["relationships"] = {
            p: {
                "top": [r.to_json() for r in self.top(p)],
                "fading": [r.to_json() for r in self.fading(p)],
            }
            for p in self.figures
        }
        return data
