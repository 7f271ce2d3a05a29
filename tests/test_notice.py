"""The one long wait after new data (the derived exchanges rebuilt: about two minutes for a
million posts) is announced, once, to whichever interface listens; nothing else is."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import MASTODON_ARCHIVE
from kompas import notice
from kompas.sources import mastodon
from kompas.store import exchange_build
from kompas.store.writer import write_import


@pytest.fixture
def heard() -> Iterator[list[str]]:
    said: list[str] = []

    def show(what: str) -> AbstractContextManager[object]:
        said.append(what)
        return nullcontext()

    notice.listen(show)
    yield said
    notice.listen(None)


def test_a_rebuild_is_announced_once(samples_engine: sa.Engine, heard: list[str]) -> None:
    exchange_build.refresh(samples_engine)
    assert heard == [exchange_build.REBUILDING]
    exchange_build.refresh(samples_engine)  # fresh: nothing to wait for
    assert heard == [exchange_build.REBUILDING]
    # New data makes them stale again: the next read says so once more.
    again = mastodon.parse_archive(str(MASTODON_ARCHIVE))
    write_import(samples_engine, again, source="mastodon", path=str(MASTODON_ARCHIVE) + "#2")
    exchange_build.refresh(samples_engine)
    assert heard == [exchange_build.REBUILDING] * 2


def test_without_a_listener_nothing_is_shown(tmp_path: Path) -> None:
    notice.listen(None)
    with notice.waiting("anything") as entered:
        assert entered is None
