"""Sending to Bluesky (``kompas.post.send``) against a real local PDS
(``tests/pds/start_pds.sh``), when ``KOMPAS_TEST_PDS_URL`` names it (CI sets it).

Accounts are created through the atproto SDK; kompas connects with an app password and
posts. Every record is read back from the repository with the SDK and compared with what
was meant: the text, facets at the right UTF-8 bytes (a mention resolved to the DID the
PDS gave the account), reply refs (the parent, and the root of the thread it belongs to),
an image with its alt text. The same idempotency key twice makes one record; a thread
refused at its second part resumes there; what was posted is in the store at once.
Without ``KOMPAS_TEST_PDS_URL`` nothing here is collected.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from atproto import models

from conftest import Kompas
from kompas.model import Account, Platform
from kompas.post import progress
from kompas.post.send import Draft, Refused, Sent, TooLarge, send
from kompas.post.to_bluesky import part_key
from kompas.sources.bluesky import record_to_records
from kompas.store import schema
from kompas.store.writer import write_records
from kompas.sync import bluesky, credentials
from kompas.sync.http import RetryPolicy
from kompas.workspace import Workspace
from sync_support import mastodon_instance
from test_sync_mastodon import connected as mastodon_connected
from test_sync_pds import Actor

PDS_URL = os.environ.get("KOMPAS_TEST_PDS_URL")
DATA = Path(__file__).parent / "data"
POST = "app.bsky.feed.post"
MENTION = "app.bsky.richtext.facet#mention"
LINK = "app.bsky.richtext.facet#link"
TAG = "app.bsky.richtext.facet#tag"


def quick() -> RetryPolicy:
    return RetryPolicy(attempts=2, base=0, sleep=lambda _s: None, timeout=10)


def connected(home: Path, actor: Actor) -> Workspace:
    assert PDS_URL is not None
    bluesky.connect(home, actor.handle, actor.app_password(), PDS_URL, quick())
    return Workspace.resolve(home)


def posts_of(actor: Actor) -> dict[str, dict[str, Any]]:
    """Every post in the repository as the PDS serves it (raw JSON): at-uri → record."""
    listed = actor.client.invoke_query(
        "com.atproto.repo.listRecords",
        params=models.ComAtprotoRepoListRecords.Params(repo=actor.did, collection=POST, limit=100),
    ).content
    return {r["uri"]: r["value"] for r in listed["records"]}


def bytes_of(facet: dict[str, Any]) -> dict[str, int]:
    return {k: facet["index"][k] for k in ("byteStart", "byteEnd")}


def record_cid(actor: Actor, uri: str) -> str:
    listed = actor.client.com.atproto.repo.list_records(
        models.ComAtprotoRepoListRecords.Params(repo=actor.did, collection=POST, limit=100)
    )
    return next(str(r.cid) for r in listed.records if r.uri == uri)


def ref(made: Any) -> dict[str, str]:
    return {"uri": str(made.uri), "cid": str(made.cid)}


def strong(value: dict[str, Any]) -> dict[str, str]:
    return {"uri": value["uri"], "cid": value["cid"]}


def stored(workspace: Workspace, uri: str) -> Any:
    with workspace.engine.connect() as connection:
        return connection.execute(
            sa.select(schema.posts).where(schema.posts.c.id == uri)
        ).one_or_none()


if PDS_URL:

    def test_a_reply_with_facets_is_written_read_back_and_stored(tmp_path: Path) -> None:
        alice, bob, carol = (Actor(PDS_URL, n) for n in ("alice", "bob", "carol"))
        root = ref(bob.client.send_post("Bob starts a thread"))
        # Carol answers Bob; Alice answers Carol: the root of Alice's reply is Bob's post.
        answer = models.AppBskyFeedPost.ReplyRef(
            parent=models.ComAtprotoRepoStrongRef.Main(**root),
            root=models.ComAtprotoRepoStrongRef.Main(**root),
        )
        middle = ref(carol.client.send_post("Carol answers", reply_to=answer))
        home = tmp_path / "home"
        workspace = connected(home, alice)
        text = f"Merci @{bob.handle} 🇫🇷👍🏽 ! Lisez example.org/été, #kompas"
        rkey = middle["uri"].rsplit("/", 1)[1]
        link = f"https://bsky.app/profile/{carol.handle}/post/{rkey}"
        told: list[tuple[int, Sent]] = []
        sent = send(
            home,
            workspace.engine,
            Draft("bluesky", (text,), reply_to=link),
            quick(),
            key="reply-1",
            progress=lambda n, s: told.append((n, s)),
        )
        assert [s.uri for _, s in told] == [s.uri for s in sent] and len(sent) == 1
        record = posts_of(alice)[sent[0].uri]
        assert record["text"] == text
        raw = text.encode("utf-8")

        def at(piece: str) -> dict[str, int]:
            start = raw.index(piece.encode("utf-8"))
            return {"byteStart": start, "byteEnd": start + len(piece.encode("utf-8"))}

        # (The SDK writes the byte slice's optional "$type" too.)
        assert [(bytes_of(f), f["features"]) for f in record["facets"]] == [
            (at(f"@{bob.handle}"), [{"$type": MENTION, "did": bob.did}]),
            (at("example.org/été"), [{"$type": LINK, "uri": "https://example.org/été"}]),
            (at("#kompas"), [{"$type": TAG, "tag": "kompas"}]),
        ]
        assert strong(record["reply"]["parent"]) == middle
        assert strong(record["reply"]["root"]) == root
        assert (
            sent[0].url
            == f"https://bsky.app/profile/{alice.did}/post/{sent[0].uri.rsplit('/', 1)[1]}"
        )
        # Stored at once, as a sync of the repository would store it.
        row = stored(workspace, sent[0].uri)
        assert row is not None and row.text == text and row.author_id == alice.did
        assert row.reply_to_id == middle["uri"] and row.conversation_id == root["uri"]
        assert row.hashtags == ["kompas"] and row.mentions == [bob.did]

    def test_the_same_key_twice_makes_one_record(tmp_path: Path) -> None:
        alice = Actor(PDS_URL, "alice")
        home = tmp_path / "home"
        workspace = connected(home, alice)
        draft = Draft("bluesky", ("Only once, whatever happens",))
        first = send(home, workspace.engine, draft, quick(), key="once")
        again = send(home, workspace.engine, draft, quick(), key="once")
        assert again == first
        assert list(posts_of(alice)) == [first[0].uri]
        # A try that wrote the record but lost the answer (and so stored nothing): the
        # next try finds the record under its key and reads it back.
        state = progress.begin(workspace.engine, "bluesky", alice.did, "lost")
        rkey = part_key(state.started, "lost", 0)
        made = alice.client.com.atproto.repo.create_record(
            models.ComAtprotoRepoCreateRecord.Data(
                repo=alice.did,
                collection=POST,
                rkey=rkey,
                record={
                    "$type": POST,
                    "text": "Lost answer",
                    "createdAt": "2026-01-05T09:00:00.000Z",
                },
            )
        )
        found = send(
            home, workspace.engine, Draft("bluesky", ("Lost answer",)), quick(), key="lost"
        )
        assert [s.uri for s in found] == [made.uri]
        assert len(posts_of(alice)) == 2
        assert stored(workspace, made.uri).text == "Lost answer"

    def test_a_thread_chains_its_parts_and_resumes_where_it_was_refused(tmp_path: Path) -> None:
        alice = Actor(PDS_URL, "alice")
        home = tmp_path / "home"
        workspace = connected(home, alice)
        too_long = "x" * 301  # Bluesky's lexicon: 300 graphemes at most
        parts = ("One 1/3", too_long, "Three 3/3")
        with pytest.raises(Refused, match="Bluesky refused part 2 of the thread"):
            send(home, workspace.engine, Draft("bluesky", parts), quick(), key="thread")
        assert len(posts_of(alice)) == 1  # the first part, and nothing else
        fixed = ("One 1/3", "Two 2/3", "Three 3/3")
        sent = send(home, workspace.engine, Draft("bluesky", fixed), quick(), key="thread")
        records = posts_of(alice)
        assert len(records) == 3 and [records[s.uri]["text"] for s in sent] == list(fixed)
        one, two, three = (records[s.uri] for s in sent)
        assert "reply" not in one
        first = strong(two["reply"]["parent"])
        assert first["uri"] == sent[0].uri
        assert strong(two["reply"]["root"]) == first
        assert three["reply"]["parent"]["uri"] == sent[1].uri
        assert strong(three["reply"]["root"]) == first
        with workspace.engine.connect() as connection:
            rows = connection.execute(
                sa.select(schema.posts.c.id, schema.posts.c.reply_to_id).where(
                    schema.posts.c.author_id == alice.did
                )
            ).all()
        assert dict(rows) == {sent[0].uri: None, sent[1].uri: sent[0].uri, sent[2].uri: sent[1].uri}

    def test_an_image_goes_with_its_alt_text_and_one_too_large_is_never_uploaded(
        tmp_path: Path,
    ) -> None:
        alice = Actor(PDS_URL, "alice")
        home = tmp_path / "home"
        workspace = connected(home, alice)
        image = DATA / "images" / "python.png"
        draft = Draft("bluesky", ("A logo",), image=image, alt="The Python logo, two snakes")
        sent = send(home, workspace.engine, draft, quick(), key="image")
        embed = posts_of(alice)[sent[0].uri]["embed"]
        assert embed["$type"] == "app.bsky.embed.images"
        (only,) = embed["images"]
        assert only["alt"] == "The Python logo, two snakes"
        assert only["image"]["mimeType"] == "image/png"
        assert only["image"]["size"] == image.stat().st_size
        assert (only["aspectRatio"]["width"], only["aspectRatio"]["height"]) == (16, 16)
        big = tmp_path / "big.png"
        big.write_bytes(image.read_bytes() + b"\0" * 1_000_000)
        with pytest.raises(TooLarge, match="Bluesky takes at most 1,000,000 bytes"):
            send(home, workspace.engine, Draft("bluesky", ("Big",), image=big), quick(), key="big")
        state = progress.load(workspace.engine, "bluesky", alice.did, "big")
        assert state is not None and state.media is None and state.parts == []
        assert len(posts_of(alice)) == 1

    def test_post_send_and_inbox_reply_from_the_command_line(tmp_path: Path) -> None:
        alice, bob = Actor(PDS_URL, "alice"), Actor(PDS_URL, "bob")
        kompas = Kompas(tmp_path / "home")
        connected = kompas(
            "connect",
            "bluesky",
            "--handle",
            alice.handle,
            "--service",
            PDS_URL,
            "--app-password",
            alice.app_password(),
        )
        assert connected.exit_code == 0, connected.output
        result = kompas("post", "send", "Hello from kompas, see example.org", "--to", "bluesky",
                        "--yes", "--json")  # fmt: skip
        assert result.exit_code == 0, result.output
        (first,) = json.loads(result.stdout)["sent"]
        record = posts_of(alice)[first["uri"]]
        assert record["text"] == "Hello from kompas, see example.org"
        assert record["facets"][0]["features"] == [{"$type": LINK, "uri": "https://example.org"}]
        # Bob answers; his reply reaches the store as a sync of Alice's notifications
        # would bring it (a bare PDS has no AppView): the record itself, read from his repo.
        parent = {"uri": first["uri"], "cid": record_cid(alice, first["uri"])}
        answer = models.AppBskyFeedPost.ReplyRef(
            parent=models.ComAtprotoRepoStrongRef.Main(**parent),
            root=models.ComAtprotoRepoStrongRef.Main(**parent),
        )
        made = bob.client.send_post("Nice! What is it for?", reply_to=answer)
        workspace = Workspace.resolve(tmp_path / "home")
        bobs = posts_of(bob)[made.uri]
        with workspace.engine.begin() as connection:
            write_records(
                connection,
                [
                    Account(Platform.BLUESKY, bob.did, handle=bob.handle),
                    *record_to_records(bob.did, f"{POST}/{made.uri.rsplit('/', 1)[1]}", bobs),
                ],
            )
        items = json.loads(kompas("inbox", "--json").stdout)["items"]
        assert [i["post"] for i in items] == [made.uri]
        replied = kompas("inbox", "reply", items[0]["id"], "A compass for social media",
                         "--yes", "--json")  # fmt: skip
        assert replied.exit_code == 0, replied.output
        payload = json.loads(replied.stdout)
        assert payload["item"] == {"id": items[0]["id"], "state": "answered"}
        (mine,) = payload["sent"]
        reply = posts_of(alice)[mine["uri"]]
        assert reply["text"] == "A compass for social media"  # no mention added on Bluesky
        assert strong(reply["reply"]["parent"]) == {"uri": made.uri, "cid": str(made.cid)}
        assert strong(reply["reply"]["root"]) == parent
        assert json.loads(kompas("inbox", "--json").stdout)["items"] == []

    def test_both_networks_one_down_the_other_still_gets_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("KOMPAS_RETRY_ATTEMPTS", "2")
        monkeypatch.setenv("KOMPAS_RETRY_BASE", "0")
        alice = Actor(PDS_URL, "alice")
        home = tmp_path / "home"
        connected(home, alice)
        with mastodon_instance() as fake:
            mastodon_connected(home, fake)
            saved = dict(credentials.load(home, "mastodon"))
            credentials.save(home, "mastodon", {**saved, "scopes": "read write"})
            fake.faults.add("/api/v1/statuses", "503", "503")
            kompas = Kompas(home)
            first = kompas("post", "send", "On both", "--to", "mastodon,bluesky", "--yes", "--json")
            assert first.exit_code == 3, first.output
            payload = json.loads(first.stdout)
            assert [p["network"] for p in payload["sent"]] == ["bluesky"]
            assert "503" in payload["errors"]["mastodon"]
            assert fake.posted == [] and len(posts_of(alice)) == 1
            again = kompas("post", "send", "On both", "--to", "mastodon,bluesky", "--yes", "--json")
            assert again.exit_code == 0, again.output
            sent = {p["network"]: p for p in json.loads(again.stdout)["sent"]}
            assert sent["bluesky"]["earlier"] is True and sent["mastodon"]["earlier"] is False
            assert len(fake.posted) == 1 and len(posts_of(alice)) == 1
