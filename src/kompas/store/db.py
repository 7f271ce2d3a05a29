"""Opening the database: SQLite (WAL) by default, PostgreSQL by URL, migrated to the
newest schema on open. Nothing outside ``kompas.store`` writes SQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from kompas.errors import StoreError
from kompas.store import sqlfn
from kompas.store.revisions import MIGRATIONS, script_heads
from kompas.store.sqlite_file import sqlite_url

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["MIGRATIONS", "create_engine", "migrate", "script_heads", "sqlite_url"]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def _alembic_config(connection: sa.Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def create_engine(url: str) -> sa.Engine:
    """An engine for ``url`` with kompas's connection settings, schema up to date."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise StoreError(f"cannot use database URL: {exc}") from exc
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "connect", sqlfn.install)
        database = engine.url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    try:
        migrate(engine)
    except sa.exc.DatabaseError as exc:  # unreadable, not a database, locked…
        raise StoreError(f"cannot open the database {engine.url!r}: {exc.orig}") from exc
    return engine


def _stored_heads(connection: sa.Connection) -> set[str] | None:
    """The revisions the database says it is at; ``None`` before its first migration."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    rows = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
    return {str(row[0]) for row in rows}


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest Alembic revisions (cheap when it already is).

    Each pillar may keep its tables on its own migration branch, so kompas upgrades to
    every head.
    """
    heads = script_heads()
    if heads is not None:
        with engine.connect() as connection:
            if _stored_heads(connection) == heads:
                return  # up to date: no need to import Alembic (a third of `kompas status`)
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.begin() as connection:
        config = _alembic_config(connection)
        heads = set(ScriptDirectory.from_config(config).get_heads())
        current = set(MigrationContext.configure(connection).get_current_heads())
        if current != heads:
            command.upgrade(config, "heads")
