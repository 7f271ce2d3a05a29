"""Read queries over the store that the CLI and the pillars share."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from kompas.model import InteractionKind, PostKind
from kompas.period import DataSpan
from kompas.store.schema import (
    accounts,
    current_follow,
    feed_subscriptions,
    follows,
    interactions,
    posts,
)


@dataclass(frozen=True, slots=True)
class PlatformCounts:
    """What the store holds for one platform, from the user's side.

    ``posts`` counts all of the user's own posts (replies and reposts included);
    ``likes`` and ``bookmarks`` are what the user gave.
    """

    posts: int = 0
    replies: int = 0
    reposts: int = 0
    likes: int = 0
    bookmarks: int = 0
    followers: int = 0
    following: int = 0
    accounts: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts as a plain dict (the ``kompas status --json`` shape)."""
        return asdict(self)


def _self_ids() -> sa.Select[tuple[str, str]]:
    return sa.select(accounts.c.platform, accounts.c.id).where(accounts.c.is_self)


def status(connection: sa.Connection) -> dict[str, PlatformCounts]:
    """Counts per platform, for every platform that has any data."""
    own = _self_ids().subquery()
    figures: dict[str, dict[str, int]] = {}

    def put(rows: Iterable[Any], name: str) -> None:
        for row in rows:
            figures.setdefault(row[0], {})[name] = int(row[1])

    own_posts = sa.join(
        posts, own, sa.and_(posts.c.platform == own.c.platform, posts.c.author_id == own.c.id)
    )
    post_rows = connection.execute(
        sa.select(posts.c.platform, posts.c.kind, sa.func.count())
        .select_from(own_posts)
        .group_by(posts.c.platform, posts.c.kind)
    )
    for platform, kind, count in post_rows:
        bucket = figures.setdefault(platform, {})
        bucket["posts"] = bucket.get("posts", 0) + int(count)
        if kind == PostKind.REPLY:
            bucket["replies"] = int(count)
        elif kind == PostKind.REPOST:
            bucket["reposts"] = int(count)

    own_actions = sa.join(
        interactions,
        own,
        sa.and_(interactions.c.platform == own.c.platform, interactions.c.actor_id == own.c.id),
    )
    for kind, name in ((InteractionKind.LIKE, "likes"), (InteractionKind.BOOKMARK, "bookmarks")):
        put(
            connection.execute(
                sa.select(interactions.c.platform, sa.func.count())
                .select_from(own_actions)
                .where(interactions.c.kind == kind.value)
                .group_by(interactions.c.platform)
            ),
            name,
        )
    for column, name in (
        (follows.c.followee_id, "followers"),
        (follows.c.follower_id, "following"),
    ):
        edges = sa.join(
            follows, own, sa.and_(follows.c.platform == own.c.platform, column == own.c.id)
        )
        put(
            connection.execute(
                sa.select(follows.c.platform, sa.func.count())
                .select_from(edges)
                .where(current_follow)
                .group_by(follows.c.platform)
            ),
            name,
        )
    put(
        connection.execute(
            sa.select(accounts.c.platform, sa.func.count()).group_by(accounts.c.platform)
        ),
        "accounts",
    )
    return {platform: PlatformCounts(**values) for platform, values in sorted(figures.items())}


def feed_count(connection: sa.Connection) -> int:
    """How many feeds the user subscribes to (from OPML)."""
    return int(
        connection.execute(sa.select(sa.func.count()).select_from(feed_subscriptions)).scalar_one()
    )


def data_span(connection: sa.Connection) -> DataSpan:
    """The first and newest dated activity of the user, per platform: their own posts,
    what they gave (likes, replies, follows…) and what they received. Each bound is the
    end of an index range per own account, so this costs the same at any size."""
    found: dict[str, tuple[datetime, datetime]] = {}

    def widen(platform: str, first: datetime | None, last: datetime | None) -> None:
        if first is None or last is None:
            return
        known = found.get(platform)
        if known is not None:
            first, last = min(first, known[0]), max(last, known[1])
        found[platform] = (first, last)

    own = connection.execute(
        sa.select(accounts.c.platform, accounts.c.id).where(accounts.c.is_self)
    )
    for platform, account in own.all():
        for column, where in (
            (posts.c.created_at, (posts.c.platform == platform) & (posts.c.author_id == account)),
            (
                interactions.c.created_at,
                (interactions.c.platform == platform) & (interactions.c.actor_id == account),
            ),
            (
                interactions.c.created_at,
                (interactions.c.platform == platform)
                & (interactions.c.target_account_id == account),
            ),
        ):
            first, last = connection.execute(
                sa.select(sa.func.min(column), sa.func.max(column)).where(where)
            ).one()
            widen(platform, first, last)
    if not found:
        return DataSpan()
    return DataSpan(
        min(first for first, _ in found.values()),
        max(last for _, last in found.values()),
        dict(sorted(found.items())),
    )
