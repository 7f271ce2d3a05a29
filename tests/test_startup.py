"""Start-up stays cheap: ``kompas --help`` imports no database, network, numeric or schema
library, and ``kompas status`` on a current SQLite store reads it with the standard library
alone (no SQLAlchemy, Alembic or Pydantic) and says what the SQLAlchemy path says (issue #18,
point 2). The CPU figures are in ``bench/startup.py``."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import typer.main
import typer.utils
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

import kompas.cli
from conftest import MASTODON_ARCHIVE, X_ARCHIVE, Kompas, run_importing
from kompas.cli import sync as cli_sync
from kompas.cli._startup import only_the_command, read_signatures_once
from kompas.community.report import HALF_LIFE_DAYS
from kompas.model import InteractionKind, PostKind
from kompas.sources.feed_fetch import DEFAULT_MAX_BYTES
from kompas.store import queries, status
from kompas.store.db import MIGRATIONS, script_heads
from kompas.store.sqlite_file import open_current, sqlite_path
from kompas.store.status import FEEDS_SQL, STATUS_SQL, counts_by_platform
from kompas.strategy import STYLES
from kompas.sync import identifiers
from kompas.workspace import Workspace

#: What `--help` must never load (the issue's list).
HEAVY = ("sqlalchemy", "numpy", "httpx", "jsonschema", "atproto", "mastodon")


def imported_modules(*args: str, home: Path) -> set[str]:
    """The top-level packages ``python -X importtime -m kompas ARGS`` imported."""
    env = {**os.environ, "KOMPAS_HOME": str(home)}
    env.pop("KOMPAS_DB", None)
    return {name.split(".")[0] for name in run_importing(*args, env=env)[1]}


def test_help_imports_no_heavy_library(tmp_path: Path) -> None:
    loaded = imported_modules("--help", home=tmp_path)
    assert "typer" in loaded  # the measurement itself works
    assert sorted(loaded & set(HEAVY)) == []


def test_status_on_a_current_sqlite_store_imports_no_database_or_validation_library(
    tmp_path: Path,
) -> None:
    first = imported_modules("status", home=tmp_path)  # creates the store
    assert "sqlalchemy" in first  # the first run creates the store
    assert "alembic" not in first  # from the schema modules, without running migrations
    loaded = imported_modules("status", home=tmp_path)
    assert "sqlite3" in loaded
    unwanted = {"sqlalchemy", "alembic", "pydantic", *HEAVY, "requests"}
    assert sorted(loaded & unwanted) == []
    # The global options' values reach the command unchanged, still without Pydantic.
    home = tmp_path / "a folder, with spaces é"
    imported_modules("--home", str(home), "status", home=tmp_path / "unused")
    loaded = imported_modules("--home", str(home), "status", "--json", home=tmp_path / "unused")
    assert (home / "kompas.db").is_file()
    assert sorted(loaded & unwanted) == []


def test_status_on_a_store_behind_the_newest_schema_migrates_it(tmp_path: Path) -> None:
    database = tmp_path / "kompas.db"
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")  # an older kompas's store
    engine.dispose()
    loaded = imported_modules("status", "--json", home=tmp_path)
    assert "alembic" in loaded  # it took the migrating path
    with sqlite3.connect(database) as connection:
        stored = {row[0] for row in connection.execute("SELECT version_num FROM alembic_version")}
    assert stored == script_heads()


def test_status_reads_a_sqlite_store_as_sqlalchemy_does(tmp_path: Path) -> None:
    workspace = Workspace.resolve(tmp_path)
    imported = Kompas(tmp_path)
    for kind, path in (("x-archive", X_ARCHIVE), ("mastodon-archive", MASTODON_ARCHIVE)):
        assert imported("import", kind, path).exit_code == 0
    with workspace.engine.connect() as connection:
        through_sqlalchemy = queries.status(connection), queries.feed_count(connection)
    path = sqlite_path(workspace.db_url)
    assert path is not None
    connection = open_current(path)
    assert connection is not None
    with connection:
        through_sqlite3 = (
            counts_by_platform(connection.execute(STATUS_SQL)),
            connection.execute(FEEDS_SQL).fetchone()[0],
        )
    connection.close()
    assert through_sqlite3 == through_sqlalchemy
    assert through_sqlite3[0]["x"].posts > 0 and through_sqlite3[0]["mastodon"].posts > 0


def test_only_urls_the_standard_library_opens_alike_take_the_short_path(tmp_path: Path) -> None:
    assert sqlite_path(f"sqlite:///{tmp_path}/kompas.db") == tmp_path / "kompas.db"
    assert sqlite_path("sqlite:///relative.db") == Path("relative.db")
    for url in (
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file:x.db?mode=ro&uri=true",
        "sqlite:///a%20b.db",
        "postgresql://postgres@127.0.0.1/kompas",
    ):
        assert sqlite_path(url) is None, url
    assert open_current(tmp_path / "missing.db") is None
    (tmp_path / "not-a-store.db").write_bytes(b"this is not a SQLite file at all" * 10)
    assert open_current(tmp_path / "not-a-store.db") is None


def test_a_broken_store_is_still_reported_by_status(tmp_path: Path) -> None:
    (tmp_path / "kompas.db").write_bytes(b"this is not a SQLite file at all" * 10)
    result = subprocess.run(
        [sys.executable, "-m", "kompas", "--home", str(tmp_path), "status"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "cannot open the database" in result.stderr


def test_one_command_is_built_and_the_rest_still_answer(tmp_path: Path) -> None:
    app = kompas.cli.app
    pruned = only_the_command(app, ["--home", str(tmp_path), "status", "--json"])
    assert [c.name for c in pruned.registered_commands] == ["status"]
    assert pruned.registered_groups == []
    assert only_the_command(app, ["--db=sqlite://", "people", "links"]).registered_commands == []
    assert [g.name for g in only_the_command(app, ["people"]).registered_groups] == ["people"]
    for whole in (["--help"], ["--version"], ["statu"], [], ["--home"]):
        assert only_the_command(app, whole) is app, whole
    typo = subprocess.run(
        [sys.executable, "-m", "kompas", "--home", str(tmp_path), "statu"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert typo.returncode == 2
    assert "Did you mean 'status'" in typo.stderr


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
    assert option_default(["connect", "bluesky"], "service") == identifiers.DEFAULT_SERVICE
    assert (cli_sync.DEFAULT_SERVICE, cli_sync.PUBLIC_APPVIEW) == (
        identifiers.DEFAULT_SERVICE,
        identifiers.PUBLIC_APPVIEW,
    )
    assert (status.LIKE, status.BOOKMARK, status.REPLY, status.REPOST) == (
        InteractionKind.LIKE,
        InteractionKind.BOOKMARK,
        PostKind.REPLY,
        PostKind.REPOST,
    )
    from kompas.cli import strategy

    assert strategy.STYLES == STYLES


def _shape(command: Any) -> list[tuple[Any, ...]]:
    """Every command's path and parameters (names, flags, defaults, required), in order."""
    found = []

    def walk(node: Any, path: tuple[str, ...]) -> None:
        for param in node.params:
            found.append((path, param.name, tuple(param.opts), repr(param.default), param.required))
        for name, sub in sorted(getattr(node, "commands", {}).items()):
            walk(sub, (*path, name))

    walk(command, ())
    return found


def test_reading_each_signature_once_builds_the_same_commands() -> None:
    alone = _shape(typer.main.get_command(kompas.cli.app))
    read_signatures_once()
    try:
        shared = _shape(typer.main.get_command(kompas.cli.app))
        again = _shape(typer.main.get_command(kompas.cli.app))
    finally:
        typer.main.get_params_from_function = typer.utils.get_params_from_function  # type: ignore[attr-defined]
    assert len(alone) > 100
    assert shared == alone == again


def test_a_path_argument_needs_no_pydantic(tmp_path: Path) -> None:
    loaded = imported_modules("import", "x-archive", str(X_ARCHIVE), home=tmp_path)
    assert "pydantic" not in loaded
    assert (tmp_path / "kompas.db").is_file()  # the path reached the command as a Path


def test_a_path_argument_is_the_path_typer_would_give(kompas: Kompas, tmp_path: Path) -> None:
    missing = tmp_path / "no such, é.zip"
    result = kompas("import", "x-archive", str(missing))
    assert result.exit_code == 1
    assert str(missing) in result.stderr and "no such file" in result.stderr
