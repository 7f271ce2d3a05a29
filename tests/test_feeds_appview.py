"""A Bluesky feed made of rules, end to end on the real local network: timeline posts are
synced and decided, ``kompas feeds serve NAME --bluesky`` answers ``getFeedSkeleton`` over
HTTP on 127.0.0.1 with the routed posts in rule order, ``kompas feeds publish NAME
--bluesky`` writes the ``app.bsky.feed.generator`` record (read back from the PDS), and
Bluesky's own AppView serves the feed to a user by calling our generator.

Collected only when ``KOMPAS_TEST_APPVIEW_PDS_URL`` names the network.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from atproto import client_utils, models

from bluesky_network import PDS_URL, Account, eventually
from conftest import Kompas
from test_timelines_appview import connect

KOMPAS = str(Path(sys.executable).with_name("kompas"))
RULES = """\
rules:
  - name: python
    when: {has_tag: python}
    then: {score: 5, route: "feed:best"}
  - name: databases
    when: {text_contains: sqlite}
    then: {score: 3, route: "feed:best"}
  - name: everything counts a little
    then: {score: 1}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(home: Path, port: int, service_did: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            *(KOMPAS, "--home", str(home), "feeds", "serve", "best", "--bluesky"),
            *("--port", str(port), "--service-did", service_did),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/xrpc/_health", timeout=2)
            return process
        except httpx.TransportError:
            assert process.poll() is None, "kompas feeds serve exited"
            time.sleep(0.3)
    process.kill()
    raise AssertionError("kompas feeds serve did not answer in 60 s")


if PDS_URL:

    def test_a_feed_of_routed_posts_served_published_and_read_through_bluesky(
        tmp_path: Path,
    ) -> None:
        alice, bob = Account("alice"), Account("bob")
        alice.client.follow(bob.did)
        python = bob.client.send_post(
            client_utils.TextBuilder().text("Python tips ").tag("#python", "python")
        )
        sqlite = bob.client.send_post("SQLite 3.50 is out")
        bob.client.send_post("Cats are nice")
        eventually(lambda: alice.client.get_timeline().feed, lambda feed: len(feed) == 3)
        kompas = Kompas(tmp_path / "home")
        connect(kompas, alice)
        (kompas.home / "rules.yaml").write_text(RULES)
        synced = kompas("sync", "bluesky", "--only", "timeline", "--json")
        assert synced.exit_code == 0, synced.output

        port = free_port()
        service_did = f"did:web:localhost%3A{port}"
        published = kompas(
            "feeds", "publish", "best", "--bluesky", "--service-did", service_did,
            "--display-name", "Best of my timeline", "--json",
        )  # fmt: skip
        assert published.exit_code == 0, published.output
        feed = json.loads(published.stdout)
        assert feed["uri"] == f"at://{alice.did}/app.bsky.feed.generator/best"
        # Read back from the PDS: the record names our generator.
        record = alice.client.com.atproto.repo.get_record(
            {"repo": alice.did, "collection": "app.bsky.feed.generator", "rkey": "best"}
        ).value
        assert (record.did, record.display_name) == (service_did, "Best of my timeline")

        server = serve(kompas.home, port, service_did)
        try:
            answer = httpx.get(
                f"http://127.0.0.1:{port}/xrpc/app.bsky.feed.getFeedSkeleton",
                params={"feed": feed["uri"], "limit": 10},
            )
            assert answer.status_code == 200
            # python scores 5 + 1, sqlite 3 + 1; the cat post is not routed.
            assert answer.json() == {"feed": [{"post": python.uri}, {"post": sqlite.uri}]}
            paged = httpx.get(
                f"http://127.0.0.1:{port}/xrpc/app.bsky.feed.getFeedSkeleton",
                params={"feed": feed["uri"], "limit": 1},
            ).json()
            assert paged["feed"] == [{"post": python.uri}]
            rest = httpx.get(
                f"http://127.0.0.1:{port}/xrpc/app.bsky.feed.getFeedSkeleton",
                params={"feed": feed["uri"], "limit": 1, "cursor": paged["cursor"]},
            ).json()
            assert rest == {"feed": [{"post": sqlite.uri}]}
            did_doc = httpx.get(f"http://127.0.0.1:{port}/.well-known/did.json").json()
            assert did_doc["service"][0]["serviceEndpoint"] == f"http://localhost:{port}"

            # Bluesky's AppView resolves did:web, calls our generator, hydrates the posts.
            served = eventually(
                lambda: alice.client.app.bsky.feed.get_feed({"feed": feed["uri"]}).feed,
                lambda items: len(items) == 2,
                timeout=60,
            )
            assert [item.post.uri for item in served] == [python.uri, sqlite.uri]
        finally:
            server.terminate()
            server.wait(10)

    def test_a_feed_name_bluesky_refuses_exits_1_naming_it(tmp_path: Path) -> None:
        alice = Account("alice")
        kompas = Kompas(tmp_path / "home")
        connect(kompas, alice)
        name = "a-feed-name-longer-than-bluesky-allows-for-a-display-name"
        result = kompas(
            "feeds", "publish", name, "--bluesky", "--service-did", "did:web:feeds.example.com"
        )
        assert result.exit_code == 1, result.output
        assert f"Bluesky refused the feed {name!r}" in result.stderr
        records = alice.client.com.atproto.repo.list_records(
            models.ComAtprotoRepoListRecords.Params(
                repo=alice.did, collection="app.bsky.feed.generator"
            )
        ).records
        assert records == []
