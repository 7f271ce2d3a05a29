"""Where kompas keeps the user's data: ``$KOMPAS_HOME`` (default: the platform's user
data dir) holding ``kompas.db``, unless ``--db``/``KOMPAS_DB`` names another database.

The folder is created readable by its owner only (0700) and the database file 0600: it
holds everything the user imported. One writer at a time: an import, a sync or a feed pull
holds the workspace's writer lock (:meth:`Workspace.writing`).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from kompas.errors import Busy, KompasError
from kompas.store.sqlite_file import sqlite_url

if TYPE_CHECKING:
    import sqlalchemy as sa

#: How long a second writer waits for the first (override: KOMPAS_LOCK_TIMEOUT, seconds).
DEFAULT_LOCK_TIMEOUT = 30.0


@dataclass
class Workspace:
    """A user's workspace: a folder and one database."""

    home: Path
    db_url: str

    @classmethod
    def resolve(cls, home: str | Path | None = None, db_url: str | None = None) -> Workspace:
        """The workspace from explicit values, then the environment, then the defaults."""
        folder = Path(
            home or os.environ.get("KOMPAS_HOME") or platformdirs.user_data_dir("kompas")
        ).expanduser()
        url = db_url or os.environ.get("KOMPAS_DB") or sqlite_url(folder / "kompas.db")
        return cls(home=folder, db_url=url)

    def ensure_home(self) -> None:
        """Create the workspace folder, readable by its owner only."""
        if not self.home.exists():
            self.home.mkdir(parents=True, mode=0o700)
            os.chmod(self.home, 0o700)  # whatever the umask

    @cached_property
    def engine(self) -> sa.Engine:
        """The database engine, created and migrated on first use."""
        # Imported here: `kompas status` reads a current SQLite store without SQLAlchemy.
        from kompas.store.db import create_engine

        self.ensure_home()
        prefix = "sqlite:///"
        if self.db_url.startswith(prefix) and self.db_url != prefix + ":memory:":
            database = Path(self.db_url.removeprefix(prefix))
            if not database.exists():
                database.parent.mkdir(parents=True, exist_ok=True)
                # Created 0600 before SQLite opens it; SQLite gives its -wal and -shm files
                # the database's own mode.
                os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
        return create_engine(self.db_url)

    @contextmanager
    def writing(self, what: str, waiting: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the workspace's writer lock while ``what`` (an import, a sync) writes.

        A second writer waits for the first, telling ``waiting`` once, up to
        ``KOMPAS_LOCK_TIMEOUT`` seconds (30), then raises :class:`Busy`. The lock is the
        operating system's (``flock``), so a killed writer never leaves it held.
        """
        self.ensure_home()
        timeout = _lock_timeout()
        path = self.home / "kompas.lock"
        handle = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            deadline = time.monotonic() + timeout
            told = False
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise Busy(
                            f"another import is running in {self.home} (or a sync, or a feed "
                            f"pull); waited {timeout:g} s (KOMPAS_LOCK_TIMEOUT): try again "
                            "when it has finished"
                        ) from None
                    if not told and waiting is not None:
                        waiting(f"waiting for another kompas import or sync to finish ({what})…")
                        told = True
                    time.sleep(0.1)
            yield
        finally:
            os.close(handle)  # closing releases the lock


def _lock_timeout() -> float:
    value = os.environ.get("KOMPAS_LOCK_TIMEOUT")
    if not value:
        return DEFAULT_LOCK_TIMEOUT
    try:
        return max(0.0, float(value))
    except ValueError:
        raise KompasError(f"KOMPAS_LOCK_TIMEOUT={value!r} is not a number of seconds") from None
