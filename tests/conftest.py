"""Shared fixtures: real sample exports, fresh workspaces, and the databases to test on.

Store tests run on a temporary SQLite file always, and also on the real PostgreSQL server
named by ``KOMPAS_TEST_PG_URL`` when it is set (CI sets it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from kompas.cli import app

DATA = Path(__file__).parent / "data"
X_ARCHIVE = DATA / "x-archive" / "milahu104" / "archive.zip"
MASTODON_ARCHIVE = DATA / "mastodon-archive" / "dealingwith" / "archive.tar.gz"
LINKEDIN_EXPORT = DATA / "linkedin" / "sanand0" / "export.zip"
BLUESKY_CAR = DATA / "bluesky" / "repo.car"
OPML = DATA / "opml" / "subscriptions.opml"

#: A two-pillar strategy that fits the Mastodon sample (the open web, and family life):
#: what the tests of teaching kompas correct posts against.
WEB_AND_LIFE_STRATEGY = """\
why: Write about the open web, and stay a person.
pillars:
  - name: Web
    description: the open web, blogs, browsers and Linux
    keywords: [blog, web, firefox, linux, browser]
    examples:
      - Moved my blog to a static site generator.
  - name: Life
    description: family, walks, bike rides and small joys
    keywords: [family, walk, ride, kids]
    examples:
      - Rode forty miles this morning and napped all afternoon.
"""


@pytest.fixture(autouse=True, scope="session")
def _own_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The tests remember what kompas remembers between runs (detected languages, parsed
    strategy files) in a folder of their own, never the user's."""
    os.environ["KOMPAS_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield


def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist each worker wipes and fills its own PostgreSQL database
    (``NAME_gw0``, ``NAME_gw1``, ...), created on first use, so workers never share one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    server, _, name = url.rpartition("/")
    mine = f"{name}_{worker}"
    admin = sa.create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        exists = connection.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": mine}
        ).first()
        if exists is None:
            connection.execute(sa.text(f'CREATE DATABASE "{mine}"'))
    admin.dispose()
    mine_url = f"{server}/{mine}"
    os.environ["KOMPAS_TEST_PG_URL"] = mine_url  # modules that read it themselves agree
    return mine_url


PG_URL = _worker_database(os.environ.get("KOMPAS_TEST_PG_URL"))
DATABASES = ["sqlite", *(["postgresql"] if PG_URL else [])]


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or the test PostgreSQL database wiped."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kompas.db'}"
    else:
        assert PG_URL is not None
        _reset_postgres(PG_URL)
        yield PG_URL


class Kompas:
    """Runs the real CLI in-process against one workspace."""

    def __init__(self, home: Path, db_url: str | None = None) -> None:
        self.home = home
        self.db_url = db_url
        self.runner = CliRunner()

    def __call__(self, *args: str | Path):  # type: ignore[no-untyped-def]
        options = ["--home", str(self.home)]
        if self.db_url:
            options += ["--db", self.db_url]
        result = self.runner.invoke(app, [*options, *map(str, args)])
        unexpected = result.exception
        if unexpected is not None and not isinstance(unexpected, SystemExit):
            # An error kompas did not expect fails the test; the installed command would
            # turn it into one line and a log (kompas.cli.crash), hiding the bug.
            raise unexpected
        return result


@pytest.fixture
def kompas(tmp_path: Path) -> Kompas:
    """The CLI on a fresh SQLite workspace."""
    return Kompas(tmp_path / "home")


@pytest.fixture
def kompas_db(tmp_path: Path, db_url: str) -> Kompas:
    """The CLI on a fresh workspace, once per test database."""
    return Kompas(tmp_path / "home", db_url)


@pytest.fixture
def samples_engine(db_url: str) -> Iterator[sa.Engine]:
    """A store holding the X and Mastodon samples, imported as ``kompas import`` does."""
    from kompas.sources import mastodon, x_archive
    from kompas.store.db import create_engine
    from kompas.store.writer import write_import

    found = create_engine(db_url)
    write_import(found, x_archive.parse(str(X_ARCHIVE)), source="x-archive", path=str(X_ARCHIVE))
    write_import(
        found,
        mastodon.parse_archive(str(MASTODON_ARCHIVE)),
        source="mastodon",
        path=str(MASTODON_ARCHIVE),
    )
    yield found
    found.dispose()


def run_importing(*args: str, env: dict[str, str]) -> tuple[str, set[str]]:
    """What ``python -X importtime -m kompas ARGS`` printed, and every module it imported."""
    import re
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kompas", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", result.stderr, re.M)
    assert names, "no -X importtime output"
    return result.stdout, set(names)
