"""Where kompas keeps the user's data: ``$KOMPAS_HOME`` (default: the platform's user
data dir) holding ``kompas.db``, unless ``--db``/``KOMPAS_DB`` names another database."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import platformdirs
import sqlalchemy as sa

from kompas.store.db import create_engine, sqlite_url


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

    @cached_property
    def engine(self) -> sa.Engine:
        """The database engine, created and migrated on first use."""
        self.home.mkdir(parents=True, exist_ok=True)
        return create_engine(self.db_url)
