"""Read queries the dashboard needs beyond the pillars': the user's own activity per week,
the latest own posts, the import history, and a cheap "has the data changed?" generation.

Every query walks an index: own posts by ``(platform, author_id, created_at)``, own
interactions by the ``(platform, actor_id, created_at)`` index defined here (migration
``w001``), so a page costs the same at a thousand posts as at a million.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from kompas.model import InteractionKind
from kompas.store.inbox import inbox_marks
from kompas.store.schema import accounts, identity_links, imports, interactions, posts
from kompas.store.strategy import alignment_corrections

#: Own interactions in a time window, without scanning every like the user ever gave.
ix_interactions_actor_time = sa.Index(
    "ix_interactions_platform_actor_id_created_at",
    interactions.c.platform,
    interactions.c.actor_id,
    interactions.c.created_at,
)


@dataclass(frozen=True, slots=True)
class SelfAccount:
    """One of the user's own accounts."""

    platform: str
    id: str
    handle: str | None


@dataclass(frozen=True, slots=True)
class WindowCounts:
    """The user's own activity in one time window, by kind.

    ``posts`` counts own posts by post kind (post, reply, repost, quote); ``interactions``
    counts what the user did (reply, mention, repost, quote, like, bookmark) by kind.
    """

    start: datetime
    end: datetime
    posts: dict[str, int]
    interactions: dict[str, int]

    @property
    def total_posts(self) -> int:
        """Every own post of the window, whatever its kind."""
        return sum(self.posts.values())


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One finished import, as recorded by the writer."""

    id: int
    source: str
    path: str
    finished_at: datetime
    added: dict[str, int]


@dataclass(frozen=True, slots=True)
class OwnPost:
    """One of the user's own posts, for display (``html`` is raw: sanitise before showing)."""

    platform: str
    id: str
    created_at: datetime | None
    kind: str
    text: str
    html: str | None
    url: str | None


def self_accounts(connection: sa.Connection) -> list[SelfAccount]:
    """The user's own accounts, one per platform imported."""
    rows = connection.execute(
        sa.select(accounts.c.platform, accounts.c.id, accounts.c.handle)
        .where(accounts.c.is_self)
        .order_by(accounts.c.platform, accounts.c.id)
    )
    return [SelfAccount(r.platform, r.id, r.handle) for r in rows]


def latest_activity(connection: sa.Connection, own: list[SelfAccount]) -> datetime | None:
    """When the user last posted (the end of an index range per own account)."""
    latest: datetime | None = None
    for account in own:
        moment = connection.execute(
            sa.select(sa.func.max(posts.c.created_at)).where(
                posts.c.platform == account.platform, posts.c.author_id == account.id
            )
        ).scalar_one()
        if moment is not None and (latest is None or moment > latest):
            latest = moment
    return latest


def window_counts(
    connection: sa.Connection, own: list[SelfAccount], start: datetime, end: datetime
) -> WindowCounts:
    """Own posts and own interactions by kind with ``start <= created_at < end``."""
    post_kinds: Counter[str] = Counter()
    interaction_kinds: Counter[str] = Counter()
    for account in own:
        for kind, count in connection.execute(own_posts_by_kind(account, start, end)):
            post_kinds[kind] += int(count)
        for kind, count in connection.execute(own_interactions_by_kind(account, start, end)):
            interaction_kinds[kind] += int(count)
    return WindowCounts(start, end, dict(post_kinds), dict(interaction_kinds))


def own_posts_by_kind(account: SelfAccount, start: datetime, end: datetime) -> sa.Select[Any]:
    """Own posts per kind in ``[start, end)``: a range of ``(platform, author_id,
    created_at)``."""
    return (
        sa.select(posts.c.kind, sa.func.count())
        .where(
            posts.c.platform == account.platform,
            posts.c.author_id == account.id,
            posts.c.created_at >= start,
            posts.c.created_at < end,
        )
        .group_by(posts.c.kind)
    )


def own_interactions_by_kind(
    account: SelfAccount, start: datetime, end: datetime
) -> sa.Select[Any]:
    """Own interactions per kind in ``[start, end)``. Naming every kind lets SQLite walk
    ``(platform, actor_id, kind, created_at)`` one time range per kind; without it, that
    covering index wins and is read over every like the user ever gave."""
    return (
        sa.select(interactions.c.kind, sa.func.count())
        .where(
            interactions.c.platform == account.platform,
            interactions.c.actor_id == account.id,
            interactions.c.kind.in_([kind.value for kind in InteractionKind]),
            interactions.c.created_at >= start,
            interactions.c.created_at < end,
        )
        .group_by(interactions.c.kind)
    )


def weekly_posts(
    connection: sa.Connection, own: list[SelfAccount], end: datetime, weeks: int
) -> list[int]:
    """Own posts in each of the ``weeks`` seven-day windows ending at ``end``, oldest first.

    Reads only the ``created_at`` column off the covering index, then buckets in Python,
    which keeps the query the same on SQLite and PostgreSQL.
    """
    start = end - timedelta(days=7 * weeks)
    buckets = [0] * weeks
    span = timedelta(days=7)
    for account in own:
        moments = connection.execute(
            sa.select(posts.c.created_at).where(
                posts.c.platform == account.platform,
                posts.c.author_id == account.id,
                posts.c.created_at >= start,
                posts.c.created_at < end,
            )
        ).scalars()
        for moment in moments:
            index = int((moment - start) / span)
            if 0 <= index < weeks:
                buckets[index] += 1
    return buckets


def latest_posts(
    connection: sa.Connection, own: list[SelfAccount], limit: int = 20
) -> list[OwnPost]:
    """The user's ``limit`` newest own posts across platforms (newest first)."""
    found: list[OwnPost] = []
    for account in own:
        rows = connection.execute(
            sa.select(
                posts.c.platform,
                posts.c.id,
                posts.c.created_at,
                posts.c.kind,
                posts.c.text,
                posts.c.html,
                posts.c.url,
            )
            .where(
                posts.c.platform == account.platform,
                posts.c.author_id == account.id,
                posts.c.created_at.is_not(None),
            )
            .order_by(posts.c.created_at.desc())
            .limit(limit)
        )
        found.extend(OwnPost(*row) for row in rows)
    found.sort(key=lambda p: p.created_at or datetime.min, reverse=True)
    return found[:limit]


def import_history(connection: sa.Connection, limit: int = 100) -> list[ImportRow]:
    """The most recent imports, newest first."""
    rows = connection.execute(sa.select(imports).order_by(imports.c.id.desc()).limit(limit))
    return [
        ImportRow(r.id, r.source, r.path, r.finished_at, {k: int(v) for k, v in r.added.items()})
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class SyncStream:
    """Where one stream of a connected account stands (live sync)."""

    platform: str
    account_id: str
    stream: str
    pages: int
    updated_at: datetime
    started: bool


def sync_streams(connection: sa.Connection) -> list[SyncStream]:
    """Every live-sync stream the store has a position for, most recent first."""
    from kompas.store.sync import sync_state

    # The progress of sends (``kompas post send``) shares the table; it is no sync stream.
    rows = connection.execute(
        sa.select(sync_state)
        .where(~sync_state.c.stream.startswith("send:"))
        .order_by(sync_state.c.updated_at.desc(), sync_state.c.stream)
    )
    return [
        SyncStream(
            r.platform, r.account_id, r.stream, int(r.pages), r.updated_at, r.cursor is not None
        )
        for r in rows
    ]


def generation(connection: sa.Connection) -> tuple[Any, ...]:
    """A value that changes whenever the store does, so figures computed from it can be
    reused until then.

    On a SQLite file every commit (an import, a link, a pillar's own write, from any
    process) touches the file or its write-ahead log, so their modification times and the
    log's size say it. Elsewhere: the newest import, the identity links, the
    corrections of alignment and the inbox marks.
    """
    url = connection.engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(str(url.database))
        stamps: list[Any] = []
        for file in (path, path.with_name(path.name + "-wal")):
            try:
                info = file.stat()
            except FileNotFoundError:
                stamps.append(None)
            else:
                stamps.append((info.st_mtime_ns, info.st_size))
        return tuple(stamps)
    row = connection.execute(
        sa.select(imports.c.id, imports.c.finished_at).order_by(imports.c.id.desc()).limit(1)
    ).first()
    links = connection.execute(
        sa.select(sa.func.count(), sa.func.max(identity_links.c.person))
    ).first()
    taught = connection.execute(
        sa.select(sa.func.count(), sa.func.max(alignment_corrections.c.created_at))
    ).first()
    marked = connection.execute(
        sa.select(sa.func.count(), sa.func.max(inbox_marks.c.marked_at))
    ).first()
    return (
        tuple(row) if row is not None else (),
        tuple(links or ()),
        tuple(taught or ()),
        tuple(marked or ()),
    )
