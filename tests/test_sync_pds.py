"""``kompas sync bluesky`` against a real local Bluesky PDS (``@atproto/pds`` + PLC on
127.0.0.1, started by ``tests/pds/start_pds.sh``), when ``KOMPAS_TEST_PDS_URL`` names it.

Two accounts are created through the atproto SDK; one posts, replies, likes and follows;
kompas connects with an app password and syncs. A bare PDS has no AppView, so the repo
stream is checked exactly and the AppView streams must report themselves skipped.
Without ``KOMPAS_TEST_PDS_URL`` nothing here is collected (CI sets it).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import sqlalchemy as sa
from atproto import Client, models

from conftest import Kompas
from kompas.store import schema
from kompas.workspace import Workspace

PDS_URL = os.environ.get("KOMPAS_TEST_PDS_URL")


class Actor:
    """A fresh account on the PDS, logged in without AppView (none runs locally)."""

    def __init__(self, base: str, name: str) -> None:
        self.handle = f"{name}{secrets.token_hex(3)}.test"
        self.password = secrets.token_urlsafe(12)
        self.client = Client(base_url=base)
        created = self.client.com.atproto.server.create_account(
            models.ComAtprotoServerCreateAccount.Data(
                handle=self.handle, email=f"{self.handle}@example.com", password=self.password
            )
        )
        self.did = created.did
        self.client.login(self.handle, self.password, fetch_bsky_profile=False)
        self.client.me = models.AppBskyActorDefs.ProfileViewDetailed(
            did=self.did, handle=self.handle
        )

    def app_password(self) -> str:
        made = self.client.com.atproto.server.create_app_password(
            models.ComAtprotoServerCreateAppPassword.Data(name="kompas-test")
        )
        return str(made.password)


if PDS_URL:

    def test_sync_from_a_real_pds(tmp_path: Path) -> None:
        assert PDS_URL is not None
        alice = Actor(PDS_URL, "alice")
        bob = Actor(PDS_URL, "bob")
        b1 = models.create_strong_ref(bob.client.send_post("Bob's first post"))
        b2 = models.create_strong_ref(bob.client.send_post("Bob's second post"))
        for n in range(3):
            alice.client.send_post(f"Alice post {n}")
        reply = models.AppBskyFeedPost.ReplyRef(parent=b1, root=b1)
        alice.client.send_post("Alice replies to Bob", reply_to=reply)
        alice.client.like(b2.uri, b2.cid)
        alice.client.repost(b1.uri, b1.cid)
        alice.client.follow(bob.did)
        bob.client.follow(alice.did)

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
        result = kompas("sync", "bluesky", "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        # 4 posts (one a reply) + 1 like + 1 repost + 1 follow, no profile record
        assert report["streams"]["repo"]["items"] == 7
        for stream in ("notifications", "followers", "follows", "profiles"):
            assert report["streams"][stream]["skipped"]
        status = json.loads(kompas("status", "--json").stdout)["platforms"]["bluesky"]
        assert status == {
            "posts": 5,  # 4 posts + the repost
            "replies": 1,
            "reposts": 1,
            "likes": 1,
            "bookmarks": 0,
            "followers": None,  # known only from the AppView, absent here: no data, not 0
            "following": 1,
        }
        alice.client.send_post("One more")
        again = json.loads(kompas("sync", "bluesky", "--json").stdout)
        # the new post and the follow (re-read whole each time); no profile record here
        assert again["streams"]["repo"]["items"] == 2
        assert again["added"]["posts"] == 1

    def test_an_unfollow_on_a_real_pds_ends_the_edge_and_keeps_it(tmp_path: Path) -> None:
        assert PDS_URL is not None
        alice = Actor(PDS_URL, "alice")
        bob = Actor(PDS_URL, "bob")
        carol = Actor(PDS_URL, "carol")
        to_bob = alice.client.follow(bob.did)
        alice.client.follow(carol.did)
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
        assert kompas("sync", "bluesky").exit_code == 0
        status = json.loads(kompas("status", "--json").stdout)["platforms"]["bluesky"]
        assert status["following"] == 2
        assert alice.client.unfollow(to_bob.uri)
        report = json.loads(kompas("sync", "bluesky", "--json").stdout)
        assert report["streams"]["repo"]["ended"] == 1
        status = json.loads(kompas("status", "--json").stdout)["platforms"]["bluesky"]
        assert status["following"] == 1
        engine = Workspace.resolve(tmp_path / "home").engine
        with engine.connect() as connection:
            rows = {
                r.followee_id: r.ended_at
                for r in connection.execute(
                    sa.select(schema.follows).where(schema.follows.c.follower_id == alice.did)
                )
            }
        # The history keeps the edge to Bob, with its end; the one to Carol is current.
        assert set(rows) == {bob.did, carol.did}
        assert rows[bob.did] is not None and rows[carol.did] is None
        # Following Bob again: the next sync makes the same edge current again.
        alice.client.follow(bob.did)
        again = json.loads(kompas("sync", "bluesky", "--json").stdout)
        assert again["streams"]["repo"]["resumed"] == 1
        status = json.loads(kompas("status", "--json").stdout)["platforms"]["bluesky"]
        assert status["following"] == 2
