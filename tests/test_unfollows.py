"""Unfollows from exports: a whole X archive's follower and following lists, and a Bluesky
repository's follow records, are complete as of the date the export was made. A newer
export that no longer lists an edge ends it (kept, with that date); an older export never
undoes what a newer one said. (Unfollows seen by live sync: test_sync_*.py.)

Expected counts come from the archives' own files (``samples.x_file``)."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from atproto_core.car import CAR

from conftest import BLUESKY_CAR, X_ARCHIVE, Kompas
from kompas.model import Account, Follow, Platform
from kompas.sources.bluesky import tid_time
from kompas.store import schema
from kompas.store.writer import write_import
from kompas.workspace import Workspace
from samples import x_file

GENERATED = datetime(2026, 3, 6, 13, 15, 31, 187000, tzinfo=UTC)  # the sample's manifest.js


def x_variant(
    target: Path,
    *,
    followers: list[dict[str, Any]],
    following: list[dict[str, Any]],
    generated: datetime,
    partial: bool = False,
) -> Path:
    """The sample X archive with other follow lists and another generation date."""
    with zipfile.ZipFile(X_ARCHIVE) as z:
        members = {name: z.read(name) for name in z.namelist()}
    manifest = json.loads(members["data/manifest.js"].decode().split("=", 1)[1])
    stamp = generated.strftime("%Y-%m-%dT%H:%M:%S.") + f"{generated.microsecond // 1000:03d}Z"
    manifest["archiveInfo"]["generationDate"] = stamp
    manifest["archiveInfo"]["isPartialArchive"] = partial
    members["data/manifest.js"] = b"window.__THAR_CONFIG = " + json.dumps(manifest).encode()
    for name, rows in (("follower", followers), ("following", following)):
        members[f"data/{name}.js"] = (
            f"window.YTD.{name}.part0 = ".encode() + json.dumps(rows).encode()
        )
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return target


def counts(kompas: Kompas) -> tuple[int, int]:
    x = json.loads(kompas("status", "--json").stdout)["platforms"]["x"]
    return x["followers"], x["following"]


def ends(kompas: Kompas) -> dict[tuple[str, str], datetime | None]:
    engine = Workspace.resolve(kompas.home).engine
    with engine.connect() as connection:
        rows = connection.execute(sa.select(schema.follows)).all()
    return {(r.follower_id, r.followee_id): r.ended_at for r in rows}


def test_a_newer_x_archive_ends_the_edges_it_no_longer_lists(tmp_path: Path) -> None:
    followers, following = x_file(X_ARCHIVE, "follower"), x_file(X_ARCHIVE, "following")
    me = json.loads(zipfile.ZipFile(X_ARCHIVE).read("data/account.js").decode().split("=", 1)[1])[
        0
    ]["account"]["accountId"]
    kompas = Kompas(tmp_path / "home")
    assert kompas("import", "x-archive", X_ARCHIVE).exit_code == 0
    assert counts(kompas) == (len(followers), len(following))

    later = GENERATED + timedelta(days=30)
    gone_follower = followers[4]["follower"]["accountId"]
    gone_followee = following[0]["following"]["accountId"]
    newer = x_variant(
        tmp_path / "newer.zip",
        followers=followers[:4] + followers[5:],
        following=following[1:],
        generated=later,
    )
    assert kompas("import", "x-archive", newer).exit_code == 0
    assert counts(kompas) == (len(followers) - 1, len(following) - 1)
    stored = ends(kompas)
    assert len(stored) == len(followers) + len(following)  # history: nothing deleted
    assert stored[(gone_follower, me)] == later
    assert stored[(me, gone_followee)] == later
    assert sum(1 for end in stored.values() if end is not None) == 2

    # The older archive again: it cannot undo what the newer one said.
    assert kompas("import", "x-archive", X_ARCHIVE).exit_code == 0
    assert counts(kompas) == (len(followers) - 1, len(following) - 1)

    # A partial archive says nothing about who left.
    partial = x_variant(
        tmp_path / "partial.zip",
        followers=followers[:1],
        following=following[:1],
        generated=later + timedelta(days=1),
        partial=True,
    )
    assert kompas("import", "x-archive", partial).exit_code == 0
    assert counts(kompas) == (len(followers) - 1, len(following) - 1)

    # The follower comes back in a still newer archive: the same edge is current again.
    newest = x_variant(
        tmp_path / "newest.zip",
        followers=followers,
        following=following[1:],
        generated=later + timedelta(days=30),
    )
    assert kompas("import", "x-archive", newest).exit_code == 0
    assert counts(kompas) == (len(followers), len(following) - 1)
    assert ends(kompas)[(gone_follower, me)] is None


def test_a_tid_carries_its_time() -> None:
    # 1,700,000,000 s after 1970, clock id 0, written by hand in base32-sortable.
    value = 1_700_000_000_000_000 << 10
    alphabet = "234567abcdefghijklmnopqrstuvwxyz"
    tid = "".join(alphabet[(value >> (5 * i)) & 31] for i in reversed(range(13)))
    assert tid_time(tid) == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert tid_time("not-a-tid") is None
    assert tid_time("zzzzzzzzzzzzz") is None  # the top bit must be 0


def test_a_bluesky_repository_is_the_whole_following_list(tmp_path: Path) -> None:
    expected = json.loads(BLUESKY_CAR.with_name("repo.expected.json").read_text())
    did = expected["did"]
    kompas = Kompas(tmp_path / "home")
    engine = Workspace.resolve(kompas.home).engine
    # An account Alice followed long before this repository was exported, and no longer.
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    write_import(
        engine,
        [
            Account(Platform.BLUESKY, did, is_self=True),
            Follow(Platform.BLUESKY, did, "did:plc:somebodyelse", long_ago),
        ],
        source="test",
        path="earlier",
    )
    assert kompas("import", "bluesky-car", BLUESKY_CAR).exit_code == 0
    status = json.loads(kompas("status", "--json").stdout)["platforms"]["bluesky"]
    assert status["following"] == expected["follows"]
    with engine.connect() as connection:
        gone = connection.execute(
            sa.select(schema.follows.c.ended_at).where(
                schema.follows.c.followee_id == "did:plc:somebodyelse"
            )
        ).scalar_one()
    car = CAR.from_bytes(BLUESKY_CAR.read_bytes())
    assert gone == tid_time(car.blocks[car.root]["rev"])  # the export's own revision time
