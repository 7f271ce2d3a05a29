"""Named community metrics for a period: what the strategy pillar's key results bind to
(e.g. ``community.replies_given`` per week >= 20) and what the dashboard charts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from kompas.community import aggregate
from kompas.community.report import HALF_LIFE_DAYS, CommunityReport
from kompas.period import Period

#: Every metric :func:`metric` knows, by name (``mix.*`` are shares of the user's posts).
METRICS: tuple[str, ...] = (
    "replies_given",
    "replies_received",
    "conversations",
    "conversations_started",
    "conversations_joined",
    "median_reply_minutes",
    "unanswered_share",
    "reposts_of_others",
    "self_promotion",
    "distinct_people_shared",
    "likes_given",
    "bookmarks_given",
    "distinct_sources_learned",
    "people_interacted",
    "people_reached",
    "new_connections",
    "reciprocity",
    "follow_back",
    "mutuals",
    "conversation_rate",
    "amplification_rate",
    "applause_rate",
    "mix.conversation",
    "mix.sharing",
    "mix.broadcast",
    "mix.other",
    "followers",
    "following",
    "posts",
)


def report(
    connection: sa.Connection,
    period: Period,
    half_life_days: float = HALF_LIFE_DAYS,
    platform: str | None = None,
    own_domains: Iterable[str] = (),
) -> CommunityReport:
    """The community report of ``period``, counted by the database (grouped queries; the
    reference over loaded rows is :func:`kompas.community.compute.compute`)."""
    return aggregate.report(connection, period, half_life_days, platform, own_domains)


def value(result: CommunityReport, name: str, platform: str | None = None) -> float | None:
    """One named figure of a computed report (``None`` when the data can't know it)."""
    if name not in METRICS:
        raise KeyError(f"unknown community metric {name!r}; known: {', '.join(METRICS)}")
    figures = result.figures.get(platform or "all")
    if figures is None:
        return None
    number: float | int | None = figures.get(name)
    return None if number is None else float(number)


def metric(
    connection: sa.Connection,
    name: str,
    since: datetime | None,
    until: datetime | None,
    platform: str | None = None,
) -> float | None:
    """The named metric over ``[since, until)`` on ``platform`` (``None``: all merged)."""
    if name not in METRICS:
        raise KeyError(f"unknown community metric {name!r}; known: {', '.join(METRICS)}")
    return value(report(connection, Period(since, until), platform=platform), name, platform)
