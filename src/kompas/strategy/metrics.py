"""The metrics a key result can name, in one registry: ``community.*`` come from the
community pillar (so each figure has one definition), ``people.*`` from the people pillar
when it exposes them. A metric is ``None`` when the data cannot know it: "no data", never 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa

from kompas.community import METRICS as COMMUNITY_METRICS
from kompas.community import CommunityReport, Period
from kompas.community.aggregate import Community
from kompas.community.metrics import value as community_value
from kompas.i18n import Message, message


class MetricKind(StrEnum):
    """How a metric behaves over time, which decides whether ``per day|week|month`` fits."""

    COUNT = "count"  # adds up over a window: per day/week/month makes sense
    RATIO = "ratio"  # a share or rate over a window
    LEVEL = "level"  # a snapshot (followers): the window does not change it


@dataclass(frozen=True, slots=True)
class MetricInfo:
    """What the registry knows of one metric."""

    name: str
    kind: MetricKind
    description: str


_COUNTS = {
    "replies_given": "replies you wrote",
    "replies_received": "replies others wrote to you (no export contains them)",
    "conversations": "conversations you took part in",
    "conversations_started": "conversations you started that others replied to",
    "conversations_joined": "conversations of others you replied in",
    "reposts_of_others": "reposts and quotes of other people's posts",
    "self_promotion": "your posts linking your own sites or pages, and reposts of your own posts",
    "distinct_people_shared": "distinct people whose posts you shared",
    "likes_given": "likes you gave (dated)",
    "bookmarks_given": "bookmarks you made (dated)",
    "distinct_sources_learned": "distinct people you liked or bookmarked",
    "people_interacted": "distinct people you interacted with",
    "people_reached": "people you interacted with for the first time (one-way or two-way)",
    "new_connections": "people met for the first time who answered you or follow you (two-way)",
    "posts": "all your posts",
}
_LEVELS = {
    "followers": "your followers",
    "following": "accounts you follow",
    "mutuals": "people you follow who follow you",
}
_RATIOS = {
    "median_reply_minutes": "median minutes until you answered a reply or mention",
    "unanswered_share": "share of replies and mentions to you left unanswered",
    "reciprocity": "share of people you interacted with who acted back (else follow_back)",
    "follow_back": "share of the people you replied to who follow you",
    "conversation_rate": "replies received per post (public counts)",
    "amplification_rate": "reposts and quotes received per post (public counts)",
    "applause_rate": "likes received per post (public counts)",
    "mix.conversation": "share of your posts that reply to other people",
    "mix.sharing": "share of your posts that repost or quote other people",
    "mix.broadcast": "share of your posts that broadcast (own links, self-reposts)",
    "mix.other": "share of your posts of no other kind",
}


_RECEIVED = "strategy.no_data.received"
_NO_POSTS = "strategy.no_data.no_posts"
#: Why a metric can have no value even in a window the data covers, and what gives one
#: (a :mod:`kompas.i18n` code).
NO_DATA: dict[str, str] = {
    "community.replies_received": _RECEIVED,
    "community.median_reply_minutes": _RECEIVED,
    "community.unanswered_share": _RECEIVED,
    "community.reciprocity": "strategy.no_data.reciprocity",
    "community.follow_back": "strategy.no_data.follow_back",
    "community.mutuals": "strategy.no_data.mutuals",
    "community.new_connections": "strategy.no_data.new_connections",
    "community.conversation_rate": "strategy.no_data.conversation_rate",
    "community.amplification_rate": "strategy.no_data.amplification_rate",
    "community.applause_rate": "strategy.no_data.applause_rate",
    "community.followers": "strategy.no_data.followers",
    "community.following": "strategy.no_data.following",
    "community.mix.conversation": _NO_POSTS,
    "community.mix.sharing": _NO_POSTS,
    "community.mix.broadcast": _NO_POSTS,
    "community.mix.other": _NO_POSTS,
    "people.followers_authentic_share": "strategy.no_data.follower_profiles",
}


class MetricContext:
    """Computes metrics for windows of time over one database connection: the community
    pillar's derived tables are built once, and each window is its grouped queries."""

    def __init__(
        self,
        connection: sa.Connection,
        platform: str | None = None,
        own_domains: tuple[str, ...] = (),
    ) -> None:
        self.connection = connection
        self.platform = platform
        self.own_domains = own_domains
        self._community: Community | None = None
        self._reports: dict[tuple[datetime | None, datetime | None], CommunityReport] = {}

    def community(self, since: datetime | None, until: datetime | None) -> CommunityReport:
        """The community report of ``[since, until)`` (cached)."""
        self.prepare([(since, until)])
        return self._reports[(since, until)]

    def prepare(self, windows: Iterable[tuple[datetime | None, datetime | None]]) -> None:
        """Count the community figures of every window not counted yet, all at once (each
        figure is one grouped query for all of them)."""
        wanted = list(dict.fromkeys(w for w in windows if w not in self._reports))
        if not wanted:
            return
        if self._community is None:
            self._community = Community(self.connection, self.platform)
        found = self._community.reports(
            [Period(since, until) for since, until in wanted],
            own_domains=self.own_domains,
            every_relationship=False,
            only=self.platform or "all",
        )
        self._reports.update(zip(wanted, found, strict=True))


Compute = Callable[[MetricContext, datetime | None, datetime | None], float | None]


@dataclass(frozen=True, slots=True)
class Registry:
    """Metric names to what they are and how to compute them."""

    infos: dict[str, MetricInfo] = field(default_factory=dict)
    computes: dict[str, Compute] = field(default_factory=dict)

    def add(self, info: MetricInfo, compute_: Compute) -> None:
        """Register one metric."""
        self.infos[info.name] = info
        self.computes[info.name] = compute_

    def names(self) -> list[str]:
        """Every valid metric name, sorted."""
        return sorted(self.infos)

    def value(
        self, name: str, context: MetricContext, since: datetime | None, until: datetime | None
    ) -> float | None:
        """The metric over ``[since, until)``; ``None`` when the data cannot know it."""
        return self.computes[name](context, since, until)

    def why_no_data(
        self, name: str, context: MetricContext, since: datetime | None, until: datetime | None
    ) -> Message:
        """Why the metric has no value over ``[since, until)``, and what would give one."""
        if not name.startswith("community."):
            return message(NO_DATA.get(name, "strategy.cannot_tell"))
        report = context.community(since, until)
        if report.data_start is None or report.data_end is None:
            return message("strategy.no_data.nothing_yet")
        figures = report.figures.get(context.platform or "all")
        if _outside(report, since, until) or (figures is not None and not figures.has_data):
            return message(
                "strategy.no_data.outside",
                first=report.data_start.date(),
                last=report.data_end.date(),
            )
        return message(NO_DATA.get(name, "strategy.cannot_tell"))


def _outside(report: CommunityReport, since: datetime | None, until: datetime | None) -> bool:
    """Whether ``[since, until)`` lies wholly outside the span the data covers: there a
    count of 0 would be made up, so the metric is "no data"."""
    if report.data_start is None or report.data_end is None:
        return True
    return (until is not None and until <= report.data_start) or (
        since is not None and since > report.data_end
    )


def _community(name: str) -> Compute:
    def compute_(
        context: MetricContext, since: datetime | None, until: datetime | None
    ) -> float | None:
        report = context.community(since, until)
        if name not in _LEVELS and _outside(report, since, until):
            return None
        return community_value(report, name, context.platform)

    return compute_


def _build() -> Registry:
    registry = Registry()
    for name in COMMUNITY_METRICS:
        if name in _COUNTS:
            kind, what = MetricKind.COUNT, _COUNTS[name]
        elif name in _LEVELS:
            kind, what = MetricKind.LEVEL, _LEVELS[name]
        else:
            kind = MetricKind.RATIO
            what = _RATIOS.get(name, name.replace("_", " ").replace(".", ": "))
        registry.add(MetricInfo(f"community.{name}", kind, what), _community(name))
    return registry


#: The registry every strategy file is checked against.
REGISTRY = _build()


def metric_names() -> list[str]:
    """Every metric name a key result can use."""
    return REGISTRY.names()
