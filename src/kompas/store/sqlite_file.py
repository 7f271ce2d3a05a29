"""A SQLite store opened with the standard library alone, for a command that only reads
and must start at once (``kompas status``): importing SQLAlchemy costs twice what importing
Typer does, and a store already at the newest schema needs none of it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kompas.store.revisions import script_heads

_PREFIX = "sqlite:///"

#: How long a reader waits for a writer's lock, as the engine's connections do.
BUSY_TIMEOUT_MS = 5000


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"{_PREFIX}{path}"


def sqlite_path(url: str) -> Path | None:
    """The file a SQLite URL names, when the standard library can open it as SQLAlchemy
    would; ``None`` for any other URL (PostgreSQL, in-memory, or a URL with query options,
    escapes or a ``file:`` URI that only SQLAlchemy reads)."""
    if not url.startswith(_PREFIX):
        return None
    database = url.removeprefix(_PREFIX)
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    if any(character in database for character in "?%#"):
        return None
    return Path(database)


def open_current(path: Path) -> sqlite3.Connection | None:
    """A connection to the store at ``path`` when it exists and is at the newest schema;
    ``None`` otherwise (then the engine creates it, migrates it, or names what is wrong)."""
    if not path.is_file():
        return None
    heads = script_heads()
    if heads is None:
        return None
    try:
        connection = sqlite3.connect(path)
    except sqlite3.Error:
        return None
    try:
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        rows = connection.execute("SELECT version_num FROM alembic_version")
        stored = {str(row[0]) for row in rows}
    except sqlite3.Error:
        connection.close()
        return None
    if stored != heads:
        connection.close()
        return None
    return connection
