"""Read queries over the store that the CLI and the pillars share."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from kompas.period import DataSpan
from kompas.store.schema import (
    accounts,
    feed_subscriptions,
    interactions,
    posts,
)
from kompas.store.status import STATUS_SQL, PlatformCounts, counts_by_platform


def status(connection: sa.Connection) -> dict[str, PlatformCounts]:
    """Counts per platform, for every platform that has any data."""
    return counts_by_platform(connection.exec_driver_sql(STATUS_SQL))


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
            # One aggregate per query: SQLite reads a lone min() or max() off the end of
            # the index, but scans the whole range for both at once.
            first = connection.execute(sa.select(sa.func.min(column)).where(where)).scalar()
            last = connection.execute(sa.select(sa.func.max(column)).where(where)).scalar()
            widen(platform, first, last)
    if not found:
        return DataSpan()
    return DataSpan(
        min(first for first, _ in found.values()),
        max(last for _, last in found.values()),
        dict(sorted(found.items())),
    )
