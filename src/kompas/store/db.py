"""Opening the database: SQLite (WAL) by default, PostgreSQL by URL, migrated to the
newest schema on open. Nothing outside ``kompas.store`` writes SQL.

A new SQLite store is created from the schema modules and stamped with the newest revisions,
without running the migrations one by one (issue #18: a quarter of a second of the first
``kompas import``, most of it importing Alembic); ``tests/test_store.py`` checks that it
holds exactly the schema the migrations build. Every other store migrates through Alembic."""

from __future__ import annotations

import importlib
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

__all__ = ["MIGRATIONS", "create_engine", "migrate", "script_heads", "sqlite_url", "upgrade"]

#: The ``kompas.store`` modules that hold the store's tables and indexes: importing them
#: fills ``schema.metadata`` (``tests/test_store.py`` checks that no other module adds one).
TABLE_MODULES = (
    "schema",
    "dashboard",
    "exchanges",
    "feeds",
    "inbox",
    "keep",
    "post_queue",
    "strategy",
    "sync",
)

#: Alembic's own table of the revisions a store is at, as Alembic creates it.
_VERSIONS = sa.Table(
    "alembic_version",
    sa.MetaData(),
    sa.Column("version_num", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


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
    """Bring the schema to the newest Alembic revisions (cheap when it already is); a new
    SQLite store is created at the newest schema at once.

    Each pillar may keep its tables on its own migration branch, so kompas upgrades to
    every head.
    """
    heads = script_heads()
    if heads is not None:
        with engine.connect() as connection:
            stored = _stored_heads(connection)
            if stored == heads:
                return  # up to date: no need to import Alembic (a third of `kompas status`)
            if stored is None and engine.dialect.name == "sqlite" and _create(connection, heads):
                return
    upgrade(engine)


def _create(connection: sa.Connection, heads: set[str]) -> bool:
    """Create the newest schema in an empty SQLite database, stamped with ``heads``, in one
    transaction that holds the write lock from its start (so a concurrent kompas cannot
    create it too); ``False``, changing nothing, when the database is not empty."""
    connection.rollback()  # the reads above; the creation starts its own transaction
    connection.exec_driver_sql("BEGIN IMMEDIATE")
    if connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar():
        connection.rollback()
        return False
    for module in TABLE_MODULES:
        importlib.import_module(f"kompas.store.{module}")
    from kompas.store.schema import metadata

    metadata.create_all(connection, checkfirst=False)
    _VERSIONS.create(connection, checkfirst=False)
    connection.execute(_VERSIONS.insert(), [{"version_num": head} for head in sorted(heads)])
    connection.commit()
    return True


def upgrade(engine: sa.Engine) -> None:
    """Run Alembic's migrations up to every head (nothing when the store is at them)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.begin() as connection:
        config = _alembic_config(connection)
        heads = set(ScriptDirectory.from_config(config).get_heads())
        current = set(MigrationContext.configure(connection).get_current_heads())
        if current != heads:
            command.upgrade(config, "heads")
