"""A large export parses in a second process while the importing one writes (issue #18):
the store it leaves is the very store of an in-process import, and a bad export stops it
with the same message, the database unchanged."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from conftest import DATA, MASTODON_ARCHIVE, X_ARCHIVE
from kompas import parse_worker
from kompas.errors import KompasError
from kompas.importing import import_export
from kompas.store import schema
from kompas.store.rows import sqlite_bool, sqlite_json, sqlite_time
from kompas.workspace import Workspace

LINKEDIN = DATA / "linkedin"
OPML = DATA / "opml" / "subscriptions.opml"
KINDS = {
    "x": "x-archive",
    "mastodon": "mastodon-archive",
    "linkedin": "linkedin",
    "bluesky": "bluesky-car",
    "opml": "opml",
}
#: The malformed exports (named <platform>-<defect>.<ext>; the folder also holds notes).
MALFORMED = sorted(p for p in (DATA / "malformed").glob("*.*") if p.name.split("-")[0] in KINDS)


def _import(
    tmp_path: Path,
    name: str,
    kind: str,
    export: Path,
    worker: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[object, Path]:
    """What importing ``export`` returned (or the error it raised, as type and message),
    and the database."""
    monkeypatch.setenv("KOMPAS_PARSE_WORKER", "1" if worker else "0")
    workspace = Workspace.resolve(tmp_path / name)
    try:
        outcome: object = import_export(workspace.engine, kind, export)
    except KompasError as error:
        outcome = (type(error).__name__, str(error))
    workspace.engine.dispose()
    return outcome, workspace.home / "kompas.db"


def _contents(database: Path) -> dict[str, tuple[int, str]]:
    """Every table's rows (but the imports log, which records when), as a digest."""
    found = {}
    with sqlite3.connect(database) as connection:
        tables = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'imports'"
        ).fetchall()
        for (table,) in tables:
            rows = sorted(repr(row) for row in connection.execute(f'SELECT * FROM "{table}"'))
            digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
            found[table] = (len(rows), digest)
    connection.close()
    return found


@pytest.mark.parametrize(
    ("kind", "export"),
    [("x-archive", X_ARCHIVE), ("mastodon-archive", MASTODON_ARCHIVE), ("opml", OPML)],
)
def test_a_worker_import_stores_what_an_in_process_import_stores(
    tmp_path: Path, kind: str, export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone, here = _import(tmp_path, "here", kind, export, False, monkeypatch)
    beside, there = _import(tmp_path, "there", kind, export, True, monkeypatch)
    assert isinstance(alone, dict) and sum(alone.values()) > 0
    assert beside == alone
    assert _contents(there) == _contents(here)


@pytest.mark.parametrize("export", MALFORMED, ids=[p.name for p in MALFORMED])
def test_a_bad_export_stops_a_worker_import_as_it_stops_an_in_process_one(
    tmp_path: Path, export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind = KINDS[export.name.split("-")[0]]
    alone, here = _import(tmp_path, "here", kind, export, False, monkeypatch)
    beside, there = _import(tmp_path, "there", kind, export, True, monkeypatch)
    assert beside == alone
    assert _contents(there) == _contents(here)


def test_only_a_large_export_starts_a_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KOMPAS_PARSE_WORKER", raising=False)
    small = tmp_path / "small.zip"
    small.write_bytes(b"x" * 1000)
    large = tmp_path / "large.zip"
    large.write_bytes(b"x" * parse_worker.MIN_BYTES)
    assert not parse_worker.wanted(str(small))
    assert parse_worker.wanted(str(large))
    assert not parse_worker.wanted(str(tmp_path))  # a folder export parses in-process
    monkeypatch.setenv("KOMPAS_PARSE_WORKER", "1")
    assert parse_worker.wanted(str(small))
    monkeypatch.setenv("KOMPAS_PARSE_WORKER", "0")
    assert not parse_worker.wanted(str(large))


_PROCESSOR = schema.posts.c.created_at.type._cached_bind_processor(sqlite.dialect())
assert _PROCESSOR is not None
_JSON = schema.posts.c.mentions.type._cached_bind_processor(sqlite.dialect())
assert _JSON is not None
_BOOL = schema.accounts.c.is_self.type._cached_bind_processor(sqlite.dialect())
assert _BOOL is not None


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    )
)
def test_the_writers_datetime_text_is_sqlalchemys(moment: datetime) -> None:
    assert sqlite_time(moment) == _PROCESSOR(moment)


def test_the_writers_datetime_text_refuses_what_sqlalchemy_refuses() -> None:
    assert sqlite_time(None) is None
    with pytest.raises(ValueError, match="timezone-aware"):
        sqlite_time(datetime(2026, 1, 1))


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(
    st.one_of(
        st.lists(st.text(), max_size=5).map(tuple),  # what the records hold: tuples of str
        st.lists(st.text(), max_size=5),
        _JSON_VALUES,
    )
)
def test_the_writers_json_text_is_sqlalchemys(value: object) -> None:
    assert sqlite_json(value) == _JSON(value)


@pytest.mark.parametrize("value", [True, False, None, 0, 1])
def test_the_writers_booleans_are_sqlalchemys(value: object) -> None:
    assert sqlite_bool(value) == _BOOL(value)  # type: ignore[arg-type]


def test_the_writers_booleans_refuse_what_sqlalchemy_refuses() -> None:
    with pytest.raises(ValueError, match="not None, True, or False") as ours:
        sqlite_bool(2)  # type: ignore[arg-type]
    with pytest.raises(ValueError) as theirs:
        _BOOL(2)
    assert str(ours.value) == str(theirs.value)
