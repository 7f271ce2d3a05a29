"""Writing an import: batched, idempotent upserts inside one transaction.

A failure anywhere (a malformed record, a crash, Ctrl-C) rolls the whole import back, so
the database is exactly as it was. Upserts key on the platform's own ids: re-importing
the same export adds nothing, and a newer export adds only what is new while refreshing
what changed (counts, bios) without erasing what an older import knew.

Rows are plain tuples in table-column order: read off the records, or built by the parser
itself (:class:`~kompas.store.rows.Rows`). On SQLite they are turned into the values SQLite
stores, a column at a time (:func:`kompas.store.rows.stored`, or already in the parse
worker), and go straight to the driver's ``executemany`` (the statement compiled once by
SQLAlchemy) on the connection of the import's transaction; other databases get the same
rows through SQLAlchemy.
"""

from __future__ import annotations

import contextlib
import functools
import operator
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from kompas.errors import Busy
from kompas.model import (
    Account,
    FeedSubscription,
    Follow,
    FollowList,
    Interaction,
    Post,
    Record,
)
from kompas.store import exchanges, schema, unfollows
from kompas.store.rows import BadValue, Rows, stored

BATCH = 5000
#: Records are turned into rows and converted this many at a time.
CHUNK = 1000
#: SQLite's page cache while an import inserts (KiB; its default is 2 MiB): the random
#: inserts into the interactions' key index then miss it far less (-10 % of the insert CPU
#: at 100,000 tweets); memory stays bounded.
IMPORT_CACHE_KIB = 32 * 1024

_TABLES: dict[type, sa.Table] = {
    Account: schema.accounts,
    Post: schema.posts,
    Follow: schema.follows,
    Interaction: schema.interactions,
    FeedSubscription: schema.feed_subscriptions,
}
#: Tables whose rows an import refreshes; the others are facts that never change.
_REFRESHED = {schema.accounts, schema.posts, schema.feed_subscriptions}


def _names(kind: type, table: sa.Table) -> list[str]:
    # A column the record does not carry is left out, so it gets its default.
    return [c.name for c in table.columns if hasattr(kind, c.name)]


def columns() -> dict[str, list[str]]:
    """Per record type (by class name), the fields its :class:`~kompas.store.rows.Rows`
    hold, in order."""
    return {kind.__name__: _names(kind, table) for kind, table in _TABLES.items()}


@functools.cache
def _converters(kind: type, table: sa.Table, dialect: str) -> tuple[tuple[int, str], ...]:
    """The columns of ``kind``'s rows that SQLite stores in another form, and the name of
    the :data:`~kompas.store.rows.CONVERTERS` entry that makes it; none elsewhere (the
    other databases' rows go through SQLAlchemy)."""
    if dialect != "sqlite":
        return ()
    hints = typing.get_type_hints(kind)
    found = []
    for index, name in enumerate(_names(kind, table)):
        column_type = table.c[name].type
        hint = hints.get(name)
        if isinstance(column_type, schema.UTCDateTime):
            found.append((index, "time"))
        elif isinstance(column_type, sa.JSON):
            found.append((index, "json"))
        elif isinstance(column_type, sa.Boolean):
            found.append((index, "bool"))
        elif column_type._cached_bind_processor(sqlite.dialect()) is not None:
            raise RuntimeError(f"no stored form for {table.name}.{name} ({column_type})")
        elif isinstance(hint, type) and issubclass(hint, Enum):
            found.append((index, "enum"))
    return tuple(found)


def stored_forms(dialect: str) -> dict[str, tuple[tuple[int, str], ...]] | None:
    """Per record type (by class name), how a parse worker makes its rows' stored form for
    this database (:func:`kompas.store.rows.stored`); ``None``: it sends them as they are."""
    if dialect != "sqlite":
        return None
    return {kind.__name__: _converters(kind, table, dialect) for kind, table in _TABLES.items()}


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


def _sizes(connection: sa.Connection, tables: Iterable[sa.Table]) -> dict[str, int]:
    """Per table, a number that grows by one with each row inserted, so that two readings
    give the rows an import added. On SQLite it is the largest rowid: the last key of the
    table's B-tree, read in O(log n) where a count reads every row (which, once per sync
    page, cost time proportional to the whole store); SQLite gives a new row the largest
    rowid plus one, and an upsert keeps the row it updates. Elsewhere, the row count."""
    sizes = {}
    for table in tables:
        query: sa.Select[tuple[Any]] = (
            sa.select(sa.func.coalesce(sa.func.max(sa.literal_column("rowid")), 0))
            if connection.dialect.name == "sqlite"
            else sa.select(sa.func.count())
        )
        sizes[table.name] = int(connection.execute(query.select_from(table)).scalar_one())
    return sizes


@dataclass
class _Plan:
    """How one table's rows are read off its records, merged, converted and written."""

    table: sa.Table
    statement: sa.Insert
    names: list[str]
    #: The row of a record: its values in column order, one C-level call.
    row: Callable[[Any], tuple[Any, ...]]
    #: The primary key of a row.
    key: Callable[[tuple[Any, ...]], Any]
    refreshed: bool
    #: The columns SQLite stores in another form, and their converters (none elsewhere).
    convert: tuple[tuple[int, str], ...]
    #: The JSON columns (an empty list says nothing, in either form).
    lists: frozenset[int]
    pending: dict[Any, tuple[Any, ...]] = field(default_factory=dict)
    #: Rows read off records, not yet converted.
    raw: list[tuple[Any, ...]] = field(default_factory=list)

    @classmethod
    def of(cls, kind: type, table: sa.Table, dialect: str) -> _Plan:
        names = _names(kind, table)
        keys = [names.index(c.name) for c in table.primary_key.columns]
        return cls(
            table=table,
            statement=_upsert(dialect, table),
            names=names,
            row=operator.attrgetter(*names),
            key=operator.itemgetter(*keys),
            refreshed=table in _REFRESHED,
            convert=_converters(kind, table, dialect),
            lists=frozenset(
                i for i, name in enumerate(names) if isinstance(table.c[name].type, sa.JSON)
            ),
        )

    def merge(self, old: tuple[Any, ...], new: tuple[Any, ...]) -> tuple[Any, ...]:
        """The same account seen twice in one batch: keep what each time knew."""
        if old == new:
            return old
        merged = list(old)
        for index, value in enumerate(new):
            if value is None or value == () or value == []:
                continue
            if value == "[]" and index in self.lists:  # an empty list, stored form
                continue
            name = self.names[index]
            merged[index] = merged[index] or value if name == "is_self" else value
        return tuple(merged)


class _SQLiteWriter:
    """Writes rows with the driver's ``executemany`` on the import's own connection, so they
    are part of its transaction.

    The rows come in SQLite's stored form (:mod:`kompas.store.rows`: exactly what SQLAlchemy
    would have made of the records' values). A table that was empty before the import
    and gets at least a full batch loses its plain (non-unique) indexes until the end of the
    import, when they are built again from their own ``CREATE INDEX``: one sort instead of a
    random B-tree insert per row and index. All of it is inside the transaction, so a failed
    import rolls the indexes back with the rows.
    """

    def __init__(
        self, connection: sa.Connection, plans: Iterable[_Plan], empty: Iterable[str]
    ) -> None:
        dialect = connection.dialect
        self._dbapi_error: type[Exception] = dialect.loaded_dbapi.Error
        self._connection: Any = connection.connection.dbapi_connection
        assert self._connection is not None
        self._cursor: Any = self._connection.cursor()
        (self._cache_size,) = self._cursor.execute("PRAGMA cache_size").fetchone()
        self._cursor.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
        self._sql: dict[sa.Table, str] = {}
        self._defer = set(empty)
        self._dropped: list[str] = []
        for plan in plans:
            compiled = plan.statement.compile(dialect=dialect, column_keys=plan.names)
            if list(compiled.positiontup or ()) != plan.names:
                raise RuntimeError(f"unexpected parameter order for {plan.table.name}")
            self._sql[plan.table] = compiled.string

    def write(self, plan: _Plan, rows: list[tuple[Any, ...]]) -> None:
        """Upsert ``rows`` (tuples in column order, stored form) into the plan's table."""
        sql = self._sql[plan.table]
        try:
            self._cursor.executemany(sql, rows)
        except self._dbapi_error as exc:
            raise sa.exc.DBAPIError.instance(
                sql, rows[:10], exc, self._dbapi_error, ismulti=True
            ) from exc
        name = plan.table.name
        if name in self._defer and len(rows) >= BATCH and self._connection.in_transaction:
            self._defer.discard(name)
            self._drop_indexes(name)

    def _drop_indexes(self, table: str) -> None:
        for _, index, unique, origin, _ in self._cursor.execute(
            f'PRAGMA index_list("{table}")'
        ).fetchall():
            if origin == "c" and not unique:
                (create,) = self._cursor.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (index,)
                ).fetchone()
                self._cursor.execute(f'DROP INDEX "{index}"')
                self._dropped.append(create)

    def finish(self) -> None:
        """Build again the indexes dropped for speed (with SQLite's own cache size: a larger
        one makes its sorts slower)."""
        self._restore_cache()
        while self._dropped:
            self._cursor.execute(self._dropped.pop())

    def _restore_cache(self) -> None:
        self._cursor.execute(f"PRAGMA cache_size = {int(self._cache_size)}")

    def close(self) -> None:
        with contextlib.suppress(self._dbapi_error):  # never hides what stopped the import
            self._restore_cache()
        self._cursor.close()


def write_records(
    connection: sa.Connection,
    records: Iterable[Record | Rows],
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Upsert ``records`` on ``connection``, inside the caller's transaction; return rows
    added per table. The records (or :class:`Rows` of them) are consumed lazily and written
    in batches."""
    dialect = connection.dialect.name
    plans = {kind: _Plan.of(kind, table, dialect) for kind, table in _TABLES.items()}
    tables = [plan.table for plan in plans.values()]
    before = _sizes(connection, tables)
    fast = None
    if dialect == "sqlite":
        empty = [name for name, size in before.items() if size == 0]
        fast = _SQLiteWriter(connection, plans.values(), empty)
    seen = 0
    #: Complete follow lists in the export, and every follow edge it holds (their keys).
    lists: list[FollowList] = []
    edges: set[tuple[str, str, str]] = set()

    def flush(plan: _Plan) -> None:
        if plan.table is schema.follows:
            edges.update(plan.pending)
        rows = list(plan.pending.values())
        plan.pending.clear()
        if not rows:
            return
        if fast is not None:
            fast.write(plan, rows)
        else:
            names = plan.names
            connection.execute(plan.statement, [dict(zip(names, row, strict=True)) for row in rows])

    def take(plan: _Plan, rows: list[tuple[Any, ...]], form: bool) -> None:
        """Add rows to the plan's batch (converted to the stored form unless ``form`` says
        they are), merging a key seen twice; write the batch when it is full."""
        nonlocal seen
        if not form and plan.convert:
            try:
                rows = stored(rows, plan.convert)
            except BadValue as bad:  # raise as SQLAlchemy would
                exc = bad.error
                name = f"{type(exc).__module__}.{type(exc).__name__}"
                raise sa.exc.StatementError(
                    f"({name}) {exc}", str(plan.statement), bad.row, exc
                ) from exc
        batch, start = plan.pending, 0
        while start < len(rows):
            part = rows[start : start + BATCH - len(batch)]  # what fits in the batch
            start += len(part)
            keys = list(map(plan.key, part))
            if plan.refreshed and (len(set(keys)) < len(keys) or not batch.keys().isdisjoint(keys)):
                for known, row in zip(keys, part, strict=True):
                    batch[known] = plan.merge(batch[known], row) if known in batch else row
            else:  # nothing to merge (a fact seen twice keeps its last row, as a dict does)
                batch.update(zip(keys, part, strict=True))
            if len(batch) >= BATCH:
                flush(plan)
        before = seen
        seen += len(rows)
        if progress is not None and seen // 1000 > before // 1000:
            progress(seen)

    def drain(plan: _Plan) -> None:
        """Take the rows read off records so far."""
        if plan.raw:
            raw, plan.raw = plan.raw, []
            take(plan, raw, False)

    try:
        for record in records:
            if isinstance(record, Rows):
                plan = plans[record.kind]
                drain(plan)  # rows of one table are taken in the order they came
                take(plan, record.rows, record.stored)
            elif isinstance(record, FollowList):
                lists.append(record)
            else:
                plan = plans[type(record)]
                plan.raw.append(plan.row(record))
                if len(plan.raw) >= CHUNK:
                    drain(plan)
        for plan in plans.values():
            drain(plan)
        for plan in plans.values():
            flush(plan)
        if fast is not None:
            fast.finish()
        for listed in lists:
            unfollows.apply_list(connection, listed, edges)
        if seen:
            exchanges.bump(connection)  # the derived exchanges are stale from the commit on
    finally:
        if fast is not None:
            fast.close()
    if progress is not None:
        progress(seen)
    after = _sizes(connection, tables)
    return {name: after[name] - before[name] for name in before}


def write_import(
    engine: sa.Engine,
    records: Iterable[Record],
    *,
    source: str,
    path: str,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Store every record of one import in a single transaction, and note the import in
    the imports log; return rows added per table."""
    try:
        with engine.begin() as connection:
            added = write_records(connection, records, progress)
            connection.execute(
                sa.insert(schema.imports).values(
                    source=source, path=path, finished_at=datetime.now(UTC), added=added
                )
            )
    except sa.exc.OperationalError as exc:
        if "locked" in str(exc.orig) or "busy" in str(exc.orig):
            # Another process (outside kompas's writer lock) held the database too long.
            raise Busy(
                "the database is busy: another program is writing to it; try again when "
                "it has finished"
            ) from None
        raise
    return added
