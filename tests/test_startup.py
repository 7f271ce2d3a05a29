"""Start-up stays cheap: ``kompas --help`` imports no database, network, numeric or schema
library, and ``kompas status`` on a migrated store imports neither Alembic nor any pillar's
heavy library (issue #18, point 2). The CPU figures are in ``bench/startup.py``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import typer.main
from alembic.config import Config
from alembic.script import ScriptDirectory

import kompas.cli
from kompas.community.report import HALF_LIFE_DAYS
from kompas.sources.feed_fetch import DEFAULT_MAX_BYTES
from kompas.store.db import MIGRATIONS, script_heads
from kompas.strategy import STYLES

#: What `--help` must never load (the issue's list).
HEAVY = ("sqlalchemy", "numpy", "httpx", "jsonschema", "atproto", "mastodon")


def imported_modules(*args: str, home: Path) -> set[str]:
    """The top-level packages ``python -X importtime -m kompas ARGS`` imported."""
    env = {**os.environ, "KOMPAS_HOME": str(home)}
    env.pop("KOMPAS_DB", None)
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kompas", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", result.stderr, re.M)
    assert names, "no -X importtime output"
    return {name.split(".")[0] for name in names}


def test_help_imports_no_heavy_library(tmp_path: Path) -> None:
    loaded = imported_modules("--help", home=tmp_path)
    assert "typer" in loaded  # the measurement itself works
    assert sorted(loaded & set(HEAVY)) == []


def test_status_on_a_migrated_store_imports_only_the_database_layer(tmp_path: Path) -> None:
    imported_modules("status", home=tmp_path)  # creates and migrates the store
    loaded = imported_modules("status", home=tmp_path)
    assert "sqlalchemy" in loaded
    unwanted = {"alembic", "numpy", "httpx", "jsonschema", "atproto", "mastodon", "requests"}
    assert sorted(loaded & unwanted) == []


def test_migration_heads_read_without_alembic_agree_with_alembic() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert script_heads() == set(ScriptDirectory.from_config(config).get_heads())


def test_defaults_written_out_for_help_agree_with_the_library() -> None:
    command = typer.main.get_command(kompas.cli.app)
    context = typer.Context(command)

    def option_default(path: list[str], name: str) -> object:
        node = command
        for part in path:
            node = node.commands[part]  # type: ignore[attr-defined]
        return next(p.default for p in node.get_params(context) if p.name == name)

    assert option_default(["community"], "half_life") == HALF_LIFE_DAYS
    assert option_default(["community", "people"], "half_life") == HALF_LIFE_DAYS
    assert option_default(["feeds", "pull"], "max_bytes") == DEFAULT_MAX_BYTES
    from kompas.cli import strategy

    assert strategy.STYLES == STYLES
