"""``kompas post run`` sends what is due, once (issue #14, point 4), against Mastodon's
recorded response shapes on 127.0.0.1 (real Mastodon.py, real HTTP, the real retry policy)
on SQLite and PostgreSQL: due posts are sent once and the others wait; two runs at once send
each post once; a run killed between posting and recording does not post twice; a network
rate-limiting past the retry policy exits 3 and keeps the post; a refused post is
``failed`` with the instance's words, exit 1, and stays listed.

What was posted is read from the fake instance (what it received), never from kompas."""

from __future__ import annotations

import html
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import Kompas
from kompas.post import queue, schedule
from kompas.post.send import Draft, send
from kompas.store import post_queue as store
from kompas.sync import credentials
from kompas.workspace import Workspace
from sync_support import MastodonFake, mastodon_instance
from test_sync_mastodon import connected, quick

KOMPAS = str(Path(sys.executable).with_name("kompas"))
STATUSES = "/api/v1/statuses"


@pytest.fixture
def fake() -> Iterator[MastodonFake]:
    with mastodon_instance() as instance:
        yield instance


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries without sleeping: two attempts, Retry-After honoured as 0 s."""
    monkeypatch.setenv("KOMPAS_RETRY_ATTEMPTS", "2")
    monkeypatch.setenv("KOMPAS_RETRY_BASE", "0")
    monkeypatch.setenv("KOMPAS_RETRY_MAX_WAIT", "0")


def writable(home: Path, fake: MastodonFake) -> None:
    """A workspace connected to the fake instance with the scopes posting needs."""
    connected(home, fake)
    saved = dict(credentials.load(home, "mastodon"))
    credentials.save(home, "mastodon", {**saved, "scopes": "read write:statuses write:media"})


def posted_texts(fake: MastodonFake) -> list[str]:
    """What the instance published, in order (its HTML back to the text we sent)."""
    return [
        html.unescape(re.sub(r"<[^>]+>", "", s["content"].replace("<br>", "\n")))
        for s in fake.posted
    ]


def rows(kompas: Kompas, *flags: str) -> list[dict[str, Any]]:
    result = kompas("post", "list", "--json", *flags)
    assert result.exit_code == 0, result.output
    posts: list[dict[str, Any]] = json.loads(result.stdout)["posts"]
    return posts


def queued(kompas: Kompas, text: str, when: str = "now", network: str = "mastodon") -> int:
    result = kompas("post", "queue", text, "--at", when, "--to", network, "--json")
    assert result.exit_code == 0, result.output
    return int(json.loads(result.stdout)["id"])


def test_due_posts_are_sent_once_and_the_others_wait(fake: MastodonFake, kompas_db: Kompas) -> None:
    writable(kompas_db.home, fake)
    first = queued(kompas_db, "First queued post")
    second = queued(kompas_db, "Second queued post, with a link https://example.org/a")
    later = queued(kompas_db, "Not yet", "in 2h")

    result = kompas_db("post", "run")
    assert result.exit_code == 0, result.output
    assert posted_texts(fake) == [
        "First queued post",
        "Second queued post, with a link https://example.org/a",
    ]
    urls = [s["url"] for s in fake.posted]
    assert f"#{first} sent to mastodon: {urls[0]}" in result.stdout
    assert f"#{second} sent to mastodon: {urls[1]}" in result.stdout
    # Each request carried the post's own idempotency key.
    everything = {row["id"]: row for row in rows(kompas_db, "--all")}
    keys = fake.status_requests
    assert len(keys) == 2 and all(key for key in keys)
    assert keys[0] is not None and keys[0].startswith(everything[first]["key"])
    assert keys[1] is not None and keys[1].startswith(everything[second]["key"])
    for number, status in ((first, fake.posted[0]), (second, fake.posted[1])):
        row = everything[number]
        assert row["state"] == "sent" and row["attempts"] == 1 and row["last_error"] is None
        assert [(p["part"], p["uri"], p["url"]) for p in row["sent"]] == [
            (0, status["uri"], status["url"])
        ]
    assert everything[later]["state"] == "queued"
    # Posted records are in the store at once, like synced ones.
    status_json = json.loads(kompas_db("status", "--json").stdout)
    assert status_json["platforms"]["mastodon"]["posts"] == 2

    again = kompas_db("post", "run")
    assert again.exit_code == 0, again.output
    assert len(fake.posted) == 2 and len(fake.status_requests) == 2
    assert f"Nothing is due. The next post, #{later} (mastodon), is due " in again.stdout
    assert ", in 2 h." in again.stdout or ", in 1.9 h." in again.stdout
    as_json = kompas_db("post", "run", "--json")
    assert as_json.exit_code == 0
    payload = json.loads(as_json.stdout)
    assert payload["posts"] == [] and payload["next_due_id"] == later
    assert payload["next_due_at"] == everything[later]["due_at"]


def test_nothing_queued_says_so(kompas: Kompas) -> None:
    result = kompas("post", "run")
    assert result.exit_code == 0
    assert result.stdout.strip() == "Nothing is due: the queue is empty."


def _run(home: Path, db_url: str | None) -> subprocess.Popen[str]:
    command = [KOMPAS, "--home", str(home), *(["--db", db_url] if db_url else []), "post", "run"]
    return subprocess.Popen(
        [*command, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_two_runs_at_once_send_each_post_once(fake: MastodonFake, kompas_db: Kompas) -> None:
    writable(kompas_db.home, fake)
    texts = [f"Post number {n} of the queue" for n in range(6)]
    ids = [queued(kompas_db, text) for text in texts]
    fake.faults.slow_seconds = 0.2
    fake.faults.add(STATUSES, *["slow"] * 6)  # each send takes a while: the runs overlap
    runs = [_run(kompas_db.home, kompas_db.db_url) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sorted(posted_texts(fake)) == sorted(texts)  # each once
    sent_by = [[p["id"] for p in json.loads(out)["posts"]] for out, _ in outputs]
    assert sorted(sent_by[0] + sent_by[1]) == ids  # every post claimed by exactly one run
    assert all(row["state"] == "sent" and row["attempts"] == 1 for row in rows(kompas_db, "--all"))


def test_a_run_killed_between_posting_and_recording_does_not_post_twice(
    fake: MastodonFake, kompas_db: Kompas
) -> None:
    writable(kompas_db.home, fake)
    workspace = Workspace.resolve(kompas_db.home, kompas_db.db_url)
    number = queued(kompas_db, "Sent, then the run was killed")
    # A run on this host claimed it, posted it, and died before marking it sent.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    with workspace.engine.begin() as connection:
        row = store.get(connection, number)
        assert row is not None
        by = f"{socket.gethostname()}:{int(dead.stdout)}"
        assert store.claim(connection, row, sending=queue.SENDING, by=by, now=datetime.now(UTC))
    sent = send(
        kompas_db.home, workspace.engine, Draft("mastodon", row.parts), quick(), key=row.key
    )
    assert len(fake.posted) == 1
    assert rows(kompas_db)[0]["state"] == "sending"

    result = kompas_db("post", "run")
    assert result.exit_code == 0, result.output
    assert len(fake.posted) == 1  # not posted again
    (after,) = rows(kompas_db, "--all")
    assert after["state"] == "sent" and after["attempts"] == 2
    assert [p["uri"] for p in after["sent"]] == [sent[0].uri] == [fake.posted[0]["uri"]]
    assert f"#{number} sent to mastodon: {fake.posted[0]['url']}" in result.stdout


def test_a_post_being_sent_by_a_live_run_is_left_to_it(
    fake: MastodonFake, kompas_db: Kompas
) -> None:
    writable(kompas_db.home, fake)
    workspace = Workspace.resolve(kompas_db.home, kompas_db.db_url)
    number = queued(kompas_db, "Held by a live run")
    with workspace.engine.begin() as connection:
        row = store.get(connection, number)
        assert row is not None
        by = f"{socket.gethostname()}:{os.getpid()}"  # this test process: alive
        assert store.claim(connection, row, sending=queue.SENDING, by=by, now=datetime.now(UTC))
    result = kompas_db("post", "run")
    assert result.exit_code == 0, result.output
    assert fake.posted == [] and fake.status_requests == []
    assert rows(kompas_db)[0]["state"] == "sending"
    cancel = kompas_db("post", "cancel", str(number))
    assert cancel.exit_code == 1 and "is being sent right now" in cancel.stderr


def test_rate_limited_past_the_retry_policy_exits_3_and_keeps_the_post(
    fake: MastodonFake, kompas_db: Kompas
) -> None:
    writable(kompas_db.home, fake)
    number = queued(kompas_db, "Try me later")
    fake.faults.add(STATUSES, "429", "429")
    result = kompas_db("post", "run")
    assert result.exit_code == 3, result.output
    assert fake.posted == []
    assert f"#{number} not sent:" in result.stderr and "it stays queued" in result.stderr
    (row,) = rows(kompas_db)
    assert row["state"] == "queued" and row["attempts"] == 1
    assert "429" in row["last_error"] or "rate" in row["last_error"].lower()
    shown = kompas_db("post", "list")
    assert f"#{number}  queued  mastodon" in shown.stdout and "error: " in shown.stdout

    again = kompas_db("post", "run")  # the instance answers now
    assert again.exit_code == 0, again.output
    assert posted_texts(fake) == ["Try me later"]
    (row,) = rows(kompas_db, "--all")
    assert row["state"] == "sent" and row["attempts"] == 2 and row["last_error"] is None
    # Every try of the post carried the same key.
    assert len(set(fake.status_requests)) == 1


def test_a_refused_post_fails_with_the_instances_words(
    fake: MastodonFake, kompas_db: Kompas
) -> None:
    writable(kompas_db.home, fake)
    workspace = Workspace.resolve(kompas_db.home, kompas_db.db_url)
    # Queued as one part (the instance's limit has since gone down, say): it refuses it.
    long = "word " * 120
    refused = schedule.enqueue(
        workspace.engine,
        schedule.Request(long, "mastodon", "now"),
        datetime.now(UTC),
        parts=[long.strip()],
    )
    fine = queued(kompas_db, "This one is fine")
    result = kompas_db("post", "run")
    assert result.exit_code == 1, result.output
    assert posted_texts(fake) == ["This one is fine"]  # the refusal stops nothing else
    assert f"#{refused.id} failed:" in result.stderr
    assert "Text character limit of 500 exceeded" in result.stderr
    shown = {row["id"]: row for row in rows(kompas_db)}
    assert list(shown) == [refused.id]  # failed posts stay listed by default; sent ones do not
    assert shown[refused.id]["state"] == "failed"
    assert "Text character limit of 500 exceeded" in shown[refused.id]["last_error"]
    listing = kompas_db("post", "list").stdout
    assert "failed" in listing and "Text character limit of 500 exceeded" in listing
    assert fine not in shown

    requests = len(fake.status_requests)
    again = kompas_db("post", "run")  # a failed post is not retried: it would be refused again
    assert again.exit_code == 0 and len(fake.status_requests) == requests
    assert kompas_db("post", "cancel", str(refused.id)).exit_code == 0
    assert rows(kompas_db) == []


def test_a_network_not_connected_keeps_its_posts_queued_and_says_how_to_connect(
    fake: MastodonFake, kompas_db: Kompas
) -> None:
    writable(kompas_db.home, fake)
    waiting = queued(kompas_db, "To Bluesky", network="bluesky")
    sent = queued(kompas_db, "To Mastodon")
    result = kompas_db("post", "run", "--json")
    assert result.exit_code == 1, result.output
    outcomes = {p["id"]: p for p in json.loads(result.stdout)["posts"]}
    assert outcomes[sent]["state"] == "sent" and outcomes[sent]["error"] is None
    assert outcomes[waiting]["state"] == "queued"
    assert "kompas connect bluesky" in outcomes[waiting]["error"]
    assert posted_texts(fake) == ["To Mastodon"]
    assert [row["id"] for row in rows(kompas_db)] == [waiting]


def test_an_image_uploaded_by_a_failed_try_is_attached_by_the_next_run(
    fake: MastodonFake, kompas_db: Kompas
) -> None:
    writable(kompas_db.home, fake)
    image = Path(__file__).parent / "data" / "images" / "python.png"
    made = kompas_db(
        "post",
        "queue",
        "With the logo",
        "--at",
        "now",
        "--to",
        "mastodon",
        "--image",
        image,
        "--alt",
        "The Python logo",
        "--json",
    )
    number = json.loads(made.stdout)["id"]
    fake.faults.add(STATUSES, "503", "503")  # the upload works, the post does not
    result = kompas_db("post", "run")
    assert result.exit_code == 3, result.output
    assert fake.posted == [] and len(fake.media) == 1
    (row,) = rows(kompas_db)
    uploaded = next(iter(fake.media))
    assert row["state"] == "queued" and row["media_id"] == uploaded
    assert (
        f"image uploaded as {uploaded}: the next try attaches it"
        in kompas_db("post", "list").stdout
    )

    again = kompas_db("post", "run")
    assert again.exit_code == 0, again.output
    assert len(fake.media) == 1  # not uploaded twice
    (status,) = fake.posted
    assert [m["id"] for m in status["media_attachments"]] == [uploaded]
    assert status["media_attachments"][0]["description"] == "The Python logo"
    (row,) = rows(kompas_db, "--all")
    assert row["id"] == number and row["state"] == "sent"


def test_a_run_with_nothing_due_loads_no_network_library(tmp_path: Path) -> None:
    """A timer runs this every few minutes: with nothing due it only reads the queue."""
    from test_startup import imported_modules

    home = tmp_path / "home"
    assert (
        Kompas(home)("post", "queue", "Later", "--at", "in 1d", "--to", "mastodon").exit_code == 0
    )
    loaded = imported_modules("post", "run", home=home)
    assert "sqlalchemy" in loaded  # the measurement itself works: the queue was read
    assert sorted(loaded & {"httpx", "requests", "mastodon", "atproto", "alembic"}) == []
