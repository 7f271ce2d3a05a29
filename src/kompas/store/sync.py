"""Live sync's own state: where each stream of each connected account stopped, and the
cache of public account lookups.

A synced page is one transaction: its records (upserted with the import writer's own
statements, so they dedupe against exports) and the stream's new cursor commit together.
A sync killed at any moment therefore resumes from a cursor that matches exactly what was
stored — no gap, and no duplicate since every upsert keys on the platform's own ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from kompas.model import Follow, Record
from kompas.store import feeds, schema, unfollows, writer
from kompas.store.unfollows import Side
from kompas.store.upsert import insert_for

sync_state = sa.Table(
    "sync_state",
    schema.metadata,
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("account_id", sa.String(512), primary_key=True),
    sa.Column("stream", sa.String(64), primary_key=True),
    #: The stream's position (platform-specific JSON), or null when it starts afresh.
    sa.Column("cursor", sa.JSON),
    sa.Column("pages", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", schema.UTCDateTime, nullable=False),
)

lookup_cache = sa.Table(
    "lookup_cache",
    schema.metadata,
    sa.Column("key", sa.String(600), primary_key=True),
    sa.Column("platform", sa.String(16), nullable=False),
    sa.Column("fetched_at", schema.UTCDateTime, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Index(None, "platform", "fetched_at"),
)


def read_cursor(engine: sa.Engine, platform: str, account_id: str, stream: str) -> Any:
    """The committed cursor of one stream (None: start from the beginning)."""
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sync_state.c.cursor).where(
                sync_state.c.platform == platform,
                sync_state.c.account_id == account_id,
                sync_state.c.stream == stream,
            )
        ).scalar_one_or_none()


def _put_cursor(
    connection: sa.Connection, platform: str, account_id: str, stream: str, cursor: Any
) -> None:
    statement = insert_for(connection, sync_state).values(
        platform=platform,
        account_id=account_id,
        stream=stream,
        cursor=cursor,
        pages=1,
        updated_at=datetime.now(UTC),
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["platform", "account_id", "stream"],
            set_={
                "cursor": statement.excluded.cursor,
                "pages": sync_state.c.pages + 1,
                "updated_at": statement.excluded.updated_at,
            },
        )
    )


def drop_cursor(engine: sa.Engine, platform: str, account_id: str, stream: str) -> bool:
    """Forget one stream's position (it starts afresh); whether there was one."""
    with engine.begin() as connection:
        removed = connection.execute(
            sa.delete(sync_state).where(
                (sync_state.c.platform == platform)
                & (sync_state.c.account_id == account_id)
                & (sync_state.c.stream == stream)
            )
        )
    return bool(removed.rowcount)


@dataclass(frozen=True, slots=True)
class ListWalk:
    """A page belongs to a walk of a *complete* follower or following list of the account,
    started at ``started``; ``last`` when this page ends the walk."""

    side: Side
    started: datetime
    last: bool


@dataclass(frozen=True, slots=True)
class Written:
    """What one page changed: rows added per table, follow edges ended and re-opened."""

    added: dict[str, int]
    ended: int = 0
    resumed: int = 0
    #: Feed items (timeline posts) stored for the first time.
    new_items: list[str] = field(default_factory=list)


def write_page(
    engine: sa.Engine,
    records: Iterable[Record],
    *,
    platform: str,
    account_id: str,
    stream: str,
    cursor: Any,
    walk: ListWalk | None = None,
    entries: Sequence[feeds.NewEntry] = (),
) -> Written:
    """Store one page's records (and, for a timeline, its posts as feed items) and the
    stream's new cursor in one transaction.

    The rows go through the import writer (same upserts), so a synced post and the same
    post from an export are one row. A page of a complete list marks its follow edges seen;
    its last page ends the edges of that list the walk never showed (unfollows), in the
    same transaction as the cursor that says the walk is over.
    """
    rows = list(records)
    ended = resumed = 0
    new_items: list[str] = []
    with engine.begin() as connection:
        added = writer.write_records(connection, rows)
        if entries:
            new_items = feeds.add_items(connection, entries, datetime.now(UTC))
            added["feed_items"] = added.get("feed_items", 0) + len(new_items)
        if walk is not None:
            edges = [r for r in rows if isinstance(r, Follow)]
            resumed = unfollows.mark_seen(connection, edges, walk.started)
            if walk.last:
                ended = unfollows.end_unseen(
                    connection, platform, account_id, walk.side, walk.started, datetime.now(UTC)
                )
        _put_cursor(connection, platform, account_id, stream, cursor)
    return Written(added, ended, resumed, new_items)


def log_sync(engine: sa.Engine, source: str, where: str, added: dict[str, int]) -> None:
    """Note a finished sync in the imports log, as an import of ``source`` would be."""
    with engine.begin() as connection:
        connection.execute(
            sa.insert(schema.imports).values(
                source=source, path=where, finished_at=datetime.now(UTC), added=added
            )
        )


@dataclass(frozen=True, slots=True)
class CachedLookup:
    """A public account lookup as it was fetched."""

    key: str
    platform: str
    fetched_at: datetime
    payload: dict[str, Any]


def cached_lookup(engine: sa.Engine, key: str) -> CachedLookup | None:
    """The cached lookup under ``key``, if any."""
    with engine.connect() as connection:
        row = connection.execute(sa.select(lookup_cache).where(lookup_cache.c.key == key)).first()
    if row is None:
        return None
    return CachedLookup(row.key, row.platform, row.fetched_at, dict(row.payload))


def cache_lookup(
    engine: sa.Engine, key: str, platform: str, fetched_at: datetime, payload: dict[str, Any]
) -> None:
    """Keep (or replace) the lookup under ``key``."""
    with engine.begin() as connection:
        statement = insert_for(connection, lookup_cache).values(
            key=key, platform=platform, fetched_at=fetched_at, payload=payload
        )
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "fetched_at": statement.excluded.fetched_at,
                    "payload": statement.excluded.payload,
                },
            )
        )


def accounts_without_handle(engine: sa.Engine, platform: str, limit: int) -> list[str]:
    """Ids of accounts known only by id so far (no handle): whose profiles to fetch."""
    accounts = schema.accounts
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(accounts.c.id)
            .where(accounts.c.platform == platform, accounts.c.handle.is_(None))
            .order_by(accounts.c.id)
            .limit(limit)
        )
        return [str(row[0]) for row in rows]


def replies_missing_parents(
    engine: sa.Engine, platform: str, account_id: str, skip: Iterable[str], limit: int
) -> list[tuple[str, str]]:
    """The user's replies to a known post that the store does not hold (``(reply id,
    parent id)``), oldest first, leaving out ``skip`` (those tried before)."""
    posts = schema.posts
    parent = posts.alias("parent")
    skipped = set(skip)
    found: list[tuple[str, str]] = []
    query = (
        sa.select(posts.c.id, posts.c.reply_to_id)
        .outerjoin(
            parent,
            sa.and_(parent.c.platform == posts.c.platform, parent.c.id == posts.c.reply_to_id),
        )
        .where(
            posts.c.platform == platform,
            posts.c.author_id == account_id,
            posts.c.kind == "reply",
            posts.c.reply_to_id.is_not(None),
            parent.c.id.is_(None),
        )
        .order_by(posts.c.created_at, posts.c.id)
    )
    with engine.connect() as connection:
        for reply_id, parent_id in connection.execute(query):
            if reply_id not in skipped:
                found.append((str(reply_id), str(parent_id)))
                if len(found) >= limit:
                    break
    return found
