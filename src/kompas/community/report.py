"""The community pillar's results: plain dataclasses that the CLI prints, the dashboard
draws and the strategy pillar binds key results to.

A figure is ``None`` when the data cannot know it (e.g. replies received, which no
platform export contains), never a misleading 0; a platform with no activity in the period
has no figures at all for it ("no data in this period"), never zeros and never "lurker".
See docs/community.md for every definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kompas.i18n import Message
from kompas.period import Period

#: The style names, and the thresholds that pick them (documented in docs/community.md).
STYLES = ("connector", "replier", "curator", "promoter", "writer", "all-rounder", "lurker")
#: Fewer original posts, replies and shares per week than this makes a lurker.
LURKER_POSTS_PER_WEEK = 1.0
#: The share of the mix one kind needs for its style (connector, curator, promoter, writer).
STYLE_SHARE = 0.5
#: Below this reciprocity (or follow-back share), a mostly replying user is a one-way replier.
ONE_WAY_RECIPROCITY = 0.1
#: Default half-life of a relationship's strength, in days.
HALF_LIFE_DAYS = 30.0
#: Strength at the start of the period above which a silent relationship is "fading".
FADING_MIN_STRENGTH = 1.0


@dataclass(frozen=True, slots=True)
class Mix:
    """Shares of the user's posts in the period; they sum to 1 when there are posts."""

    conversation: float = 0.0
    sharing: float = 0.0
    broadcast: float = 0.0
    other: float = 0.0


#: ``Relationship.way`` values.
TWO_WAY, ONE_WAY, UNKNOWN_WAY = "two-way", "one-way", "unknown"


@dataclass(frozen=True, slots=True)
class Relationship:
    """One person the user has a relationship with, and why it is as strong as it is.

    ``way`` is ``two-way`` when the person acted towards the user or follows them,
    ``one-way`` when the data could show that and does not, ``unknown`` when it could
    not; ``automated`` marks accounts that declare themselves bots (never ranked).
    """

    person: str
    accounts: tuple[str, ...]
    handles: tuple[str, ...]
    strength: float
    strength_before: float
    given: int
    received: int
    first_seen: datetime | None
    last_seen: datetime | None
    way: str = UNKNOWN_WAY
    automated: bool = False
    exchanges: int = 0

    @property
    def name(self) -> str:
        """How to show the person: a handle, never a bare DID or actor URL."""
        if self.handles:
            return ", ".join(self.handles)
        return f"{self.person} (handle unknown)"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO 8601)."""

        def when(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "person": self.person,
            "name": self.name,
            "accounts": list(self.accounts),
            "handles": list(self.handles),
            "strength": round(self.strength, 4),
            "strength_before": round(self.strength_before, 4),
            "given": self.given,
            "received": self.received,
            "exchanges": self.exchanges,
            "way": self.way,
            "automated": self.automated,
            "first_seen": when(self.first_seen),
            "last_seen": when(self.last_seen),
        }


@dataclass(frozen=True, slots=True)
class Trends:
    """Week-by-week series (weeks start on Monday, UTC); ``None`` where the data can't know."""

    weeks: tuple[str, ...] = ()
    series: dict[str, list[int] | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Figures:
    """Every community figure for one platform, or all platforms merged (``all``).

    ``has_data`` is False when the scope holds no activity in the period: then every
    figure is "no data" (``to_json`` gives ``null``), whatever the zeros below say.
    """

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
    links_shared: int = 0
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
    people_reached: int = 0
    new_connections: int | None = None
    reciprocity: float | None = None
    reciprocity_basis: str | None = None
    follow_back: float | None = None
    follow_back_of: int = 0
    mutuals: int | None = None
    automated_accounts: int = 0
    # rates (Kaushik), per post carrying the count
    conversation_rate: float | None = None
    amplification_rate: float | None = None
    applause_rate: float | None = None
    rated_posts: int = 0
    # mix and style
    mix: Mix = field(default_factory=Mix)
    mix_counts: dict[str, int] = field(default_factory=dict)
    style: str | None = "lurker"
    style_reasons: tuple[Message, ...] = ()
    # vanity
    followers: int | None = None
    following: int | None = None
    posts: int = 0
    # whether the data holds what others did to the user (replies/mentions received)
    received_data: bool = False
    trends: Trends = field(default_factory=Trends)
    # whether the scope holds any activity in the period, and where its data ends
    has_data: bool = True
    data_end: datetime | None = None

    def get(self, name: str) -> Any:
        """A figure by name (``mix.sharing`` too); ``None`` when the period holds no data."""
        if not self.has_data and name not in _ALWAYS_KNOWN:
            return None
        if name.startswith("mix."):
            return getattr(self.mix, name.removeprefix("mix."))
        return getattr(self, name)


#: Figures that describe now, not the period (and why there is no data): known even when
#: the period holds nothing.
_ALWAYS_KNOWN = frozenset(
    {
        "followers",
        "following",
        "mutuals",
        "undated_excluded",
        "has_data",
        "data_end",
        "style_reasons",
    }
)

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
    "people_reached",
    "new_connections",
    "reciprocity",
    "reciprocity_basis",
    "follow_back",
    "follow_back_of",
    "mutuals",
    "automated_accounts",
    "style",
    "style_reasons",
    "received_data",
    "has_data",
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
        return merged is None or not merged.has_data

    def top(self, platform: str = "all", n: int = 10) -> list[Relationship]:
        """The ``n`` strongest relationships at the end of the period (automated accounts
        are not relationships)."""
        found = [
            r for r in self.relationships.get(platform, []) if r.strength > 0 and not r.automated
        ]
        return sorted(found, key=lambda r: (-r.strength, r.person))[:n]

    def automated(self, platform: str = "all", n: int = 10) -> list[Relationship]:
        """Automated accounts the user exchanged with in the period, most exchanges first."""
        found = [
            r for r in self.relationships.get(platform, []) if r.automated and r.given + r.received
        ]
        return sorted(found, key=lambda r: (-(r.given + r.received), r.person))[:n]

    def fading(self, platform: str = "all", n: int = 10) -> list[Relationship]:
        """Relationships that were strong when the period began and are silent in it."""
        if self.period.since is None:
            return []
        found = [
            r
            for r in self.relationships.get(platform, [])
            if r.strength_before >= FADING_MIN_STRENGTH
            and r.given + r.received == 0
            and not r.automated
        ]
        return sorted(found, key=lambda r: (-r.strength_before, r.person))[:n]

    def to_json(self) -> dict[str, Any]:
        """Every figure as JSON: top-level keys are figures, each keyed by platform + ``all``;
        a platform with no activity in the period has ``null`` for every figure of it."""

        def when(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        data: dict[str, Any] = {
            "period": {
                "since": when(self.period.since),
                "until": when(self.period.until),
                "anchored": self.period.anchored,
                "half_life_days": self.half_life_days,
                "data_start": when(self.data_start),
                "data_end": when(self.data_end),
            },
            "platforms": [p for p in self.figures if p != "all"],
            "coverage": {
                p: {"has_data": f.has_data, "data_end": when(f.data_end)}
                for p, f in self.figures.items()
            },
        }
        for key in FIGURE_KEYS:
            data[key] = {p: _json_value(f.get(key)) for p, f in self.figures.items()}
        figures = [(p, f) for p, f in self.figures.items()]

        def each(make: Any) -> dict[str, Any]:
            return {p: make(f) if f.has_data else None for p, f in figures}

        data["sharing"] = each(
            lambda f: {
                "reposts": f.reposts,
                "quotes": f.quotes,
                "links_shared": f.links_shared,
                "reposts_of_others": f.reposts_of_others,
                "self_promotion": f.self_promotion,
                "distinct_people": f.distinct_people_shared,
                "top_source_share": f.top_source_share,
            }
        )
        data["learning"] = each(
            lambda f: {
                "likes": f.likes_given,
                "bookmarks": f.bookmarks_given,
                "distinct_sources": f.distinct_sources_learned,
                "undated_excluded": f.undated_excluded,
            }
        )
        data["rates"] = each(
            lambda f: {
                "conversation_rate": f.conversation_rate,
                "amplification_rate": f.amplification_rate,
                "applause_rate": f.applause_rate,
                "posts_counted": f.rated_posts,
            }
        )
        data["mix"] = each(
            lambda f: {
                "conversation": f.mix.conversation,
                "sharing": f.mix.sharing,
                "broadcast": f.mix.broadcast,
                "other": f.mix.other,
            }
        )
        data["mix_counts"] = each(lambda f: dict(f.mix_counts))
        data["vanity"] = {
            p: {
                "followers": f.followers,
                "following": f.following,
                "posts": f.posts if f.has_data else None,
            }
            for p, f in figures
        }
        data["trends"] = {p: {"weeks": list(f.trends.weeks), **f.trends.series} for p, f in figures}
        data["relationships"] = {
            p: {
                "top": [r.to_json() for r in self.top(p)],
                "fading": [r.to_json() for r in self.fading(p)],
                "automated": [r.to_json() for r in self.automated(p)],
            }
            for p in self.figures
        }
        return data


def _json_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return [v.render() if isinstance(v, Message) else v for v in value]
    return value
