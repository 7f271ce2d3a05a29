"""One INSERT that can say ON CONFLICT, for the store's database: PostgreSQL and SQLite
spell it alike, through their own SQLAlchemy dialect. The dialect's module loads only
when a statement is built (the PostgreSQL one costs 50 ms to import, so a SQLite store
never pays it)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def insert_for(connection: sa.Connection, table: sa.Table) -> Any:
    """``INSERT INTO table`` with ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)
