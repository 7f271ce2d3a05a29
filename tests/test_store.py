"""The store: migrations and schema agree, time round-trips as aware UTC, SQLite runs in WAL
mode, and imports are idempotent and transactional on every test database."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from kompas.model import Account, Follow, Interaction, InteractionKind, Platform, Post, PostKind
from kompas.store import schema
from kompas.store.db import MIGRATIONS, create_engine, upgrade
from kompas.store.queries import status
from kompas.store.sqlite_file import open_current
from kompas.store.writer import write_import


def _import_every_table_module() -> None:
    """Pillars keep their tables in their own ``kompas.store`` modules; load them all."""
    import kompas.store

    for module in pkgutil.iter_modules(kompas.store.__path__):
        if module.name != "migrations":
            importlib.import_module(f"kompas.store.{module.name}")


def _migrated(url: str) -> sa.Engine:
    """An engine on ``url`` brought to the newest schema by Alembic's migrations alone (a
    new SQLite store is otherwise created from the schema modules)."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    upgrade(engine)
    return engine


def test_migrations_create_exactly_the_schema_modules(db_url: str) -> None:
    _import_every_table_module()
    engine = _migrated(db_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, schema.metadata) == []
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        heads = set(ScriptDirectory.from_config(config).get_heads())
        assert set(context.get_current_heads()) == heads


_TABLE_MODULES_ALONE = """
import importlib, json
from kompas.store.db import TABLE_MODULES
from kompas.store.schema import metadata
for module in TABLE_MODULES:
    importlib.import_module(f"kompas.store.{module}")
tables = metadata.tables.values()
names = {*(t.name for t in tables), *(str(i.name) for t in tables for i in t.indexes)}
print(json.dumps(sorted(names)))
"""


def test_the_table_modules_are_every_module_with_tables_or_indexes() -> None:
    # In a fresh interpreter: here other tests may have imported every module already.
    alone = subprocess.run(
        [sys.executable, "-c", _TABLE_MODULES_ALONE], capture_output=True, text=True, check=True
    )
    _import_every_table_module()
    tables = schema.metadata.tables.values()
    every = {*(t.name for t in tables), *(str(i.name) for t in tables for i in t.indexes)}
    assert set(json.loads(alone.stdout)) == every


def _schema_of(path: Path) -> tuple[list[tuple[str, str, str, str | None]], list[str]]:
    """A SQLite store's schema (every table, index and trigger, its SQL with whitespace
    runs made one space) and the revisions it is stamped with."""
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")
        objects = sorted(
            (kind, name, table, None if sql is None else re.sub(r"\s+", " ", sql))
            for kind, name, table, sql in rows
        )
        stamps = sorted(row[0] for row in connection.execute("SELECT * FROM alembic_version"))
    connection.close()
    return objects, stamps


def test_a_new_sqlite_store_is_created_exactly_as_the_migrations_build_it(
    tmp_path: Path,
) -> None:
    created, migrated = tmp_path / "created.db", tmp_path / "migrated.db"
    create_engine(f"sqlite:///{created}").dispose()
    _migrated(f"sqlite:///{migrated}").dispose()
    objects, stamps = _schema_of(created)
    assert (objects, stamps) == _schema_of(migrated)
    assert {kind for kind, *_ in objects} >= {"table", "index"}
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert set(stamps) == set(ScriptDirectory.from_config(config).get_heads())
    assert open_current(created) is not None  # `kompas status` reads it without SQLAlchemy


def test_a_database_that_is_not_empty_is_migrated_not_created(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
    connection.close()
    create_engine(f"sqlite:///{path}").dispose()
    migrated = tmp_path / "migrated.db"
    _migrated(f"sqlite:///{migrated}").dispose()
    objects, stamps = _schema_of(path)
    expected, expected_stamps = _schema_of(migrated)
    assert [o for o in objects if o[1] != "notes"] == expected and stamps == expected_stamps


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'k.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_times_come_back_as_aware_utc(db_url: str) -> None:
    engine = create_engine(db_url)
    paris = timezone(timedelta(hours=1))
    written = datetime(2026, 3, 1, 10, 30, tzinfo=paris)
    post = Post(Platform.X, "1", "me", written, PostKind.POST, text="bonjour")
    write_import(engine, [Account(Platform.X, "me", is_self=True), post], source="t", path="t")
    with engine.connect() as connection:
        stored = connection.execute(sa.select(schema.posts.c.created_at)).scalar_one()
    assert stored == written
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(db_url: str) -> None:
    engine = create_engine(db_url)
    naive = Post(Platform.X, "1", "me", datetime(2026, 3, 1), PostKind.POST)
    with pytest.raises(sa.exc.StatementError, match="timezone-aware"):
        write_import(engine, [naive], source="t", path="t")


def _records(n: int, start: int = 0) -> list[object]:
    me = Account(Platform.MASTODON, "me", handle="me@example.social", is_self=True)
    records: list[object] = [me]
    for i in range(start, start + n):
        when = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=i)
        records.append(
            Post(
                Platform.MASTODON,
                f"p{i}",
                "me",
                when,
                PostKind.REPLY,
                f"reply {i}",
                reply_to_id=f"q{i}",
                reply_to_author_id=f"a{i % 7}",
            )
        )
        records.append(
            Interaction(
                Platform.MASTODON, InteractionKind.REPLY, "me", f"a{i % 7}", f"q{i}", f"p{i}", when
            )
        )
        records.append(Follow(Platform.MASTODON, f"a{i % 7}", "me"))
    return records


def test_reimport_is_idempotent_and_newer_exports_add_only_what_is_new(db_url: str) -> None:
    engine = create_engine(db_url)
    first = write_import(engine, _records(100), source="t", path="t")  # type: ignore[arg-type]
    assert first == {
        "accounts": 1,
        "posts": 100,
        "follows": 7,
        "interactions": 100,
        "feed_subscriptions": 0,
    }
    again = write_import(engine, _records(100), source="t", path="t")  # type: ignore[arg-type]
    assert set(again.values()) == {0}
    newer = write_import(engine, _records(150), source="t", path="t")  # type: ignore[arg-type]
    assert newer["posts"] == 50 and newer["interactions"] == 50 and newer["follows"] == 0
    with engine.connect() as connection:
        counts = status(connection)["mastodon"]
    assert (counts.posts, counts.replies, counts.followers) == (150, 150, 7)


def test_a_later_import_refreshes_without_erasing(db_url: str) -> None:
    engine = create_engine(db_url)
    write_import(
        engine,
        [Account(Platform.X, "42", handle="ada", bio="first bio", followers_count=10)],
        source="t",
        path="t",
    )
    write_import(engine, [Account(Platform.X, "42", followers_count=12)], source="t", path="t")
    with engine.connect() as connection:
        row = connection.execute(sa.select(schema.accounts)).one()
    assert (row.handle, row.bio, row.followers_count) == ("ada", "first bio", 12)


def test_a_failure_mid_import_rolls_everything_back(db_url: str) -> None:
    engine = create_engine(db_url)
    write_import(engine, _records(10), source="t", path="t")  # type: ignore[arg-type]

    def exploding() -> object:
        yield from _records(12_000, start=10)  # more than two batches are written first
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        write_import(engine, exploding(), source="t", path="t")  # type: ignore[arg-type]
    with engine.connect() as connection:
        assert status(connection)["mastodon"].posts == 10
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(schema.imports)).scalar() == 1
        )
