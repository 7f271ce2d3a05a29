"""``kompas sync mastodon`` imports the notes the user keeps on accounts on Mastodon itself
(the ``note`` of ``GET /api/v1/accounts/relationships``), from a recorded Mastodon
instance on 127.0.0.1 (real Mastodon.py, real HTTP): added, changed, cleared, and left as
they were when the instance fails half-way.

Expected notes come from the fake instance's own entities, never from kompas.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from conftest import Kompas
from kompas.store.keep import person_notes
from kompas.sync import mastodon
from kompas.sync.http import PlatformUnreachable
from sync_support import MastodonFake
from test_sync_mastodon import connected, quick

RELATIONSHIPS = "/api/v1/accounts/relationships"
#: Streams that show Ada's followers, following and the people in her notifications.
PEOPLE = ("notifications", "followers", "following", "notes")


@pytest.fixture
def fake() -> Iterator[MastodonFake]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    made = MastodonFake(server.url_for("").rstrip("/"))
    server.expect_request(re.compile(".*")).respond_with_handler(made.handle)
    yield made
    server.clear()
    server.stop()


def _stored(engine: sa.Engine) -> dict[str, tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(person_notes.c.account_id, person_notes.c.text, person_notes.c.source)
        )
        return {account: (text, source) for account, text, source in rows}


def test_notes_on_mastodon_come_with_sync(fake: MastodonFake, tmp_path: Path) -> None:
    follower, followed, mentioner = fake.others[0], fake.others[199], fake.others[100]
    unseen = fake.others[150]  # in none of Ada's streams: kompas cannot ask about it
    fake.account_notes = {
        follower["id"]: "Met at FOSDEM <b>2025</b> & talked about [bold]maps[/]",
        followed["id"]: "line one\nline two",
        mentioner["id"]: "",
        unseen["id"]: "never asked for",
    }
    workspace = connected(tmp_path, fake)
    report = mastodon.sync(workspace.engine, tmp_path, quick(), streams=PEOPLE)
    assert _stored(workspace.engine) == {
        follower["uri"]: ("Met at FOSDEM <b>2025</b> & talked about [bold]maps[/]", "mastodon"),
        followed["uri"]: ("line one\nline two", "mastodon"),
    }
    entry = report.as_dict()["streams"]["notes"]
    assert entry["items"] == 2 and entry["added"] == {"person_notes": 2}
    asked = [r for r in fake.faults.requests if r.startswith(RELATIONSHIPS)]
    # Every account the run saw, 40 a call, the user's own never.
    seen = (
        {a["id"] for _, a in fake.followers.items}
        | {a["id"] for _, a in fake.following.items}
        | {n["account"]["id"] for _, n in fake.notifications.items}
    )
    assert len(asked) >= -(-len(seen) // 40)
    ids = {i for r in asked for i in re.findall(r"id%5B%5D=(\d+)", r)}
    assert seen <= ids and fake.me["id"] not in ids and unseen["id"] not in ids

    # The note shows on the person, as written, with where it came from.
    kompas = Kompas(tmp_path)
    handle = f"mastodon:@{follower['acct']}@{fake.host}"
    shown = json.loads(kompas("people", "show", handle, "--json").stdout)
    assert [(n["text"], n["source"]) for n in shown["notes"]] == [
        ("Met at FOSDEM <b>2025</b> & talked about [bold]maps[/]", "mastodon")
    ]
    assert "talked about [bold]maps[/]" in kompas("people", "show", handle).stdout
    assert kompas("people", "note", handle, "my own note").exit_code == 0
    # After a sync the other side is known: what the mentioner said to Ada shows.
    said = [
        n["status"]["uri"]
        for _, n in fake.notifications.items
        if n["type"] == "mention" and n["account"]["id"] == mentioner["id"]
    ]
    assert said
    theirs = f"mastodon:@{mentioner['acct']}@{fake.host}"
    shown = json.loads(kompas("people", "show", theirs, "--json").stdout)
    assert [e["post"] for e in shown["exchanges"]["received"]] == said
    assert shown["exchanges"]["given"] == []  # Ada never wrote to them

    # Changed on Mastodon, cleared on Mastodon: the next sync follows; the user's own
    # kompas note stays.
    fake.account_notes[follower["id"]] = "Met at FOSDEM 2025"
    fake.account_notes[followed["id"]] = ""
    again = mastodon.sync(workspace.engine, tmp_path, quick(), streams=PEOPLE)
    assert again.streams["notes"].added == {"person_notes": 1}
    shown = json.loads(kompas("people", "show", handle, "--json").stdout)
    assert [(n["text"], n["source"]) for n in shown["notes"]] == [
        ("my own note", "kompas"),
        ("Met at FOSDEM 2025", "mastodon"),
    ]
    assert followed["uri"] not in _stored(workspace.engine)


def test_a_failed_notes_fetch_leaves_notes_as_they_were(
    fake: MastodonFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mastodon, "RELATIONSHIPS_PER_CALL", 10)
    first, last = fake.others[0], fake.others[199]
    fake.account_notes = {first["id"]: "kept", last["id"]: "kept too"}
    workspace = connected(tmp_path, fake)
    mastodon.sync(workspace.engine, tmp_path, quick(), streams=PEOPLE)
    before = _stored(workspace.engine)
    assert set(before) == {first["uri"], last["uri"]}
    fake.account_notes = {first["id"]: "changed", last["id"]: "changed too"}
    # The first call (accounts 1000-1009, Ada's first follower among them) is
    # answered, every later one fails: that batch is committed, the next one left as it was, and the
    # sync fails (exit 3).
    fake.faults.slow_seconds = 0
    fake.faults.add(RELATIONSHIPS, "slow", *["503"] * 10)
    with pytest.raises(PlatformUnreachable, match="fetching your notes on accounts"):
        mastodon.sync(workspace.engine, tmp_path, quick(attempts=2), streams=PEOPLE)
    assert _stored(workspace.engine) == {
        first["uri"]: ("changed", "mastodon"),
        last["uri"]: ("kept too", "mastodon"),
    }


def test_notes_alone_say_what_they_need(fake: MastodonFake, tmp_path: Path) -> None:
    workspace = connected(tmp_path, fake)
    report = mastodon.sync(workspace.engine, tmp_path, quick(), streams=("notes",))
    assert "no accounts seen in this run" in report.streams["notes"].warnings[0]
    assert not [r for r in fake.faults.requests if r.startswith(RELATIONSHIPS)]
