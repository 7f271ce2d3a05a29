"""``kompas post run`` to Bluesky against a real local PDS (``tests/pds/start_pds.sh``), when
``KOMPAS_TEST_PDS_URL`` names it (CI sets it): due posts (a thread among them) are written
once, each part answering the one before; a run killed between posting and recording does
not write the post twice. The records are read back from the repository with the atproto
SDK, never from kompas. Without ``KOMPAS_TEST_PDS_URL`` nothing here is collected."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

from atproto import models

from conftest import Kompas
from kompas.post import queue, schedule
from kompas.post.send import Draft, send
from kompas.store import post_queue as store
from kompas.sync import bluesky
from kompas.sync.http import RetryPolicy
from kompas.workspace import Workspace
from test_sync_pds import Actor

PDS_URL = os.environ.get("KOMPAS_TEST_PDS_URL")
POST = "app.bsky.feed.post"


def records_of(actor: Actor) -> dict[str, dict[str, Any]]:
    """Every post in the repository as the PDS serves it: at-uri → record."""
    listed = actor.client.invoke_query(
        "com.atproto.repo.listRecords",
        params=models.ComAtprotoRepoListRecords.Params(repo=actor.did, collection=POST, limit=100),
    ).content
    return {r["uri"]: r["value"] for r in listed["records"]}


def connected(kompas: Kompas, actor: Actor) -> Workspace:
    assert PDS_URL is not None
    quick = RetryPolicy(attempts=2, base=0, sleep=lambda _s: None, timeout=10)
    bluesky.connect(kompas.home, actor.handle, actor.app_password(), PDS_URL, quick)
    return Workspace.resolve(kompas.home, kompas.db_url)


def rows(kompas: Kompas) -> dict[int, dict[str, Any]]:
    result = kompas("post", "list", "--all", "--json")
    assert result.exit_code == 0, result.output
    return {row["id"]: row for row in json.loads(result.stdout)["posts"]}


if PDS_URL:

    def test_due_posts_and_a_thread_are_written_once(kompas_db: Kompas) -> None:
        assert PDS_URL is not None
        alice = Actor(PDS_URL, "alice")
        workspace = connected(kompas_db, alice)
        one = kompas_db("post", "queue", "Queued for Bluesky ✨", "--at", "now", "--to", "bluesky")
        assert one.exit_code == 0, one.output
        thread = schedule.enqueue(
            workspace.engine,
            schedule.Request("First part. Second part.", "bluesky", "now"),
            datetime.now(UTC),
            parts=["First part. 1/2", "Second part. 2/2"],
        )
        later = kompas_db("post", "queue", "Later", "--at", "in 1d", "--to", "bluesky")
        assert later.exit_code == 0

        result = kompas_db("post", "run")
        assert result.exit_code == 0, result.output
        written = records_of(alice)
        assert sorted(r["text"] for r in written.values()) == [
            "First part. 1/2",
            "Queued for Bluesky ✨",
            "Second part. 2/2",
        ]
        listed = rows(kompas_db)
        first_uri = listed[1]["sent"][0]["uri"]
        assert written[first_uri]["text"] == "Queued for Bluesky ✨"
        parts = [p["uri"] for p in listed[thread.id]["sent"]]
        assert [written[uri]["text"] for uri in parts] == ["First part. 1/2", "Second part. 2/2"]
        assert written[parts[1]]["reply"]["parent"]["uri"] == parts[0]
        assert written[parts[1]]["reply"]["root"]["uri"] == parts[0]
        assert [row["state"] for row in listed.values()] == ["sent", "sent", "queued"]

        again = kompas_db("post", "run")
        assert again.exit_code == 0 and "Nothing is due. The next post, #3" in again.stdout
        assert len(records_of(alice)) == 3

    def test_a_run_killed_between_posting_and_recording_does_not_post_twice(
        kompas_db: Kompas,
    ) -> None:
        assert PDS_URL is not None
        bob = Actor(PDS_URL, "bob")
        workspace = connected(kompas_db, bob)
        made = kompas_db("post", "queue", "Only once", "--at", "now", "--to", "bluesky", "--json")
        number = json.loads(made.stdout)["id"]
        gone = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        with workspace.engine.begin() as connection:
            row = store.get(connection, number)
            assert row is not None
            by = f"{socket.gethostname()}:{int(gone.stdout)}"
            assert store.claim(connection, row, sending=queue.SENDING, by=by, now=datetime.now(UTC))
        quick = RetryPolicy(attempts=2, base=0, sleep=lambda _s: None, timeout=10)
        sent = send(
            kompas_db.home, workspace.engine, Draft("bluesky", row.parts), quick, key=row.key
        )
        assert list(records_of(bob)) == [sent[0].uri]

        result = kompas_db("post", "run")
        assert result.exit_code == 0, result.output
        assert list(records_of(bob)) == [sent[0].uri]  # not written again
        after = rows(kompas_db)[number]
        assert after["state"] == "sent" and after["attempts"] == 2
        assert [p["uri"] for p in after["sent"]] == [sent[0].uri]
