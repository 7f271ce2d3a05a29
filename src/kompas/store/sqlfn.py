"""The few SQL expressions SQLite and PostgreSQL spell differently: a timestamp as epoch
seconds, the week a moment falls in, ``exp``, and the items of a JSON array. Every grouped
query of the pillars goes through these, so both databases give the same figures."""

from __future__ import annotations

import math
import sqlite3
from typing import Any

import sqlalchemy as sa

WEEK_SECONDS = 7 * 86400


def install(dbapi_connection: Any, _record: Any = None) -> None:
    """On a new SQLite connection, ``exp`` where the library was built without SQLite's
    math functions (PostgreSQL has it)."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    try:
        dbapi_connection.execute("SELECT exp(0)").fetchone()
    except sqlite3.OperationalError:
        dbapi_connection.create_function("exp", 1, math.exp, deterministic=True)


def is_sqlite(connection: sa.Connection) -> bool:
    """Whether the connection is to SQLite (else PostgreSQL)."""
    return connection.dialect.name == "sqlite"


def epoch(connection: sa.Connection, column: Any) -> sa.ColumnElement[float]:
    """A timestamp column (UTC, naive as stored) as seconds since 1970, microseconds kept.
    SQLite stores ``YYYY-MM-DD HH:MM:SS.ffffff``: whole seconds from ``strftime`` plus the
    fraction as written (``julianday`` would round it to milliseconds)."""
    if is_sqlite(connection):
        whole = sa.cast(sa.func.strftime("%s", column), sa.Float)
        return whole + sa.func.coalesce(sa.cast(sa.func.substr(column, 20), sa.Float), 0.0)
    return sa.cast(sa.extract("epoch", column), sa.Float)


def week_of(connection: sa.Connection, seconds: Any, first: Any) -> sa.ColumnElement[int]:
    """The number of the week (from the one starting at epoch ``first``, a number or a
    column) that ``seconds`` falls in; only for moments at or after ``first``."""
    offset = (seconds - first) / WEEK_SECONDS
    if is_sqlite(connection):
        return sa.cast(offset, sa.Integer)  # truncates: the floor of a non-negative number
    return sa.cast(sa.func.floor(offset), sa.Integer)


def json_items(connection: sa.Connection, column: Any, name: str) -> Any:
    """The items of a JSON array column as a table ``(value, position)``, joinable
    laterally to the row holding the array (positions in the array's order)."""
    if is_sqlite(connection):
        return sa.func.json_each(column).table_valued("value", "key", name=name)
    items = sa.func.json_array_elements_text(column).table_valued("value", with_ordinality="key")
    return items.render_derived(name=name).lateral()


def json_length(connection: sa.Connection, column: Any) -> sa.ColumnElement[int]:
    """The number of items of a JSON array column."""
    return sa.func.json_array_length(column)


def week_number(
    connection: sa.Connection, seconds: Any, first: float, length: float = WEEK_SECONDS
) -> sa.ColumnElement[int]:
    """The number of the week (or of the span of ``length`` seconds) from the one starting
    at epoch ``first`` that ``seconds`` falls in, negative before ``first`` (the floor, on
    both databases)."""
    offset = (seconds - first) / length
    if is_sqlite(connection):
        whole = sa.cast(offset, sa.Integer)  # truncates towards zero
        return sa.case((offset < whole, whole - 1), else_=whole)
    return sa.cast(sa.func.floor(offset), sa.Integer)


def moment(connection: sa.Connection, seconds: Any) -> sa.ColumnElement[Any]:
    """Whole epoch ``seconds`` as a timestamp, stored as the UTC timestamp columns store
    theirs (SQLite: ``YYYY-MM-DD HH:MM:SS.ffffff`` text, so comparisons hold)."""
    if is_sqlite(connection):
        return sa.func.strftime("%Y-%m-%d %H:%M:%S", seconds, "unixepoch") + ".000000"
    return sa.func.timezone("UTC", sa.func.to_timestamp(seconds))
