"""Writing an import: batched, idempotent upserts inside one transaction.

A failure anywhere (a malformed record, a crash, Ctrl-C) rolls the whole import back, so
the database is exactly as it was. Upserts key on the platform's own ids: re-importing
the same export adds nothing, and a newer export adds only what is new while refreshing
what changed (counts, bios) without erasing what an older import knew.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from kompas.model import Account, FeedSubscription, Follow, Interaction, Post, Record
from kompas.store import schema

BATCH = 5000

_TABLES: dict[type, sa.Table] = {
    Account: schema.accounts,
    Post: schema.posts,
    Follow: schema.follows,
    Interaction: schema.interactions,
    FeedSubscription: schema.feed_subscriptions,
}
#: Tables whose rows an import refreshes; the others are facts that never change.
_REFRESHED = {schema.accounts, schema.posts, schema.feed_subscriptions}


def _row(record: Record) -> dict[str, Any]:
    if isinstance(record, Interaction):
        row = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
        row["id"] = record.id
        return row
    row = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    for key in ("mentions", "links", "hashtags", "categories"):
        if key in row:
            row[key] = list(row[key])
    return row


def _upsert(dialect: str, table: sa.Table) -> sa.Insert:
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    keys = [c.name for c in table.primary_key.columns]
    if table not in _REFRESHED:
        return statement.on_conflict_do_nothing(index_elements=keys)  # type: ignore[no-any-return]
    excluded = statement.excluded
    updates: dict[str, Any] = {}
    for column in table.columns:
        if column.name in keys:
            continue
        if column.name == "is_self":
            updates[column.name] = sa.or_(table.c.is_self, excluded.is_self)
        elif isinstance(column.type, sa.JSON):
            updates[column.name] = excluded[column.name]
        else:
            updates[column.name] = sa.func.coalesce(excluded[column.name], table.c[column.name])
    return statement.on_conflict_do_update(index_elements=keys, set_=updates)  # type: ignore[no-any-return]


def _count(connection: sa.Connection, table: sa.Table) -> int:
    return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def write_import(
    engine: sa.Engine,
    records: Iterable[Record],
    *,
    source: str,
    path: str,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Store every record of one import in a single transaction; return rows added per table.

    The records are consumed lazily and written in batches, so memory stays flat.
    """
    dialect = engine.dialect.name
    statements = {table: _upsert(dialect, table) for table in _TABLES.values()}
    with engine.begin() as connection:
        before = {table.name: _count(connection, table) for table in statements}
        pending: dict[sa.Table, dict[tuple[Any, ...], dict[str, Any]]] = {t: {} for t in statements}
        seen = 0

        def flush(table: sa.Table) -> None:
            rows = pending[table]
            if rows:
                connection.execute(statements[table], list(rows.values()))
                rows.clear()

        for record in records:
            table = _TABLES[type(record)]
            row = _row(record)
            key = tuple(row[c.name] for c in table.primary_key.columns)
            batch = pending[table]
            if key in batch and table in _REFRESHED:
                # The same account seen twice in one export: keep what each time knew.
                merged = batch[key]
                for name, value in row.items():
                    if value is not None and value != () and value != []:
                        merged[name] = merged[name] or value if name == "is_self" else value
            else:
                batch[key] = row
            if len(batch) >= BATCH:
                flush(table)
            seen += 1
            if progress is not None and seen % 1000 == 0:
                progress(seen)
        for table in statements:
            flush(table)
        added = {table.name: _count(connection, table) - before[table.name] for table in statements}
        connection.execute(
            sa.insert(schema.imports).values(
                source=source, path=path, finished_at=datetime.now(UTC), added=added
            )
        )
    if progress is not None:
        progress(seen)
    return added
