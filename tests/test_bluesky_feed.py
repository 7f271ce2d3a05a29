"""A Bluesky feed generator made of rules (``kompas.rules.bluesky_feed``): the skeleton in
rule order with a stable cursor, the DID document, and the CLI's refusals. Expected orders
are written by hand from the scores and times below."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from conftest import Kompas
from kompas.errors import KompasError
from kompas.rules.bluesky_feed import (
    BadFeedRequest,
    check_service_did,
    did_document,
    generator_record,
    service_endpoint,
    skeleton,
)
from kompas.store.feeds import RoutedPost
from kompas.web.feedgen import create_feed_app
from kompas.workspace import Workspace

T = datetime(2026, 11, 30, 12, tzinfo=UTC)


def post(name: str, score: int, hours_ago: float | None) -> RoutedPost:
    when = None if hours_ago is None else T - timedelta(hours=hours_ago)
    return RoutedPost(f"id-{name}", f"at://did:plc:x/app.bsky.feed.post/{name}", score, when)


POSTS = [
    post("old-high", 9, 48),
    post("new-low", 1, 1),
    post("new-high", 9, 2),
    post("mid", 5, 5),
    post("undated", 5, None),
    post("tie-b", 3, 10),
    post("tie-a", 3, 10),
]
#: Score first, then newest (undated last among equals), then item id.
RULE_ORDER = ["new-high", "old-high", "mid", "undated", "tie-a", "tie-b", "new-low"]


def uris(names: list[str]) -> list[str]:
    return [f"at://did:plc:x/app.bsky.feed.post/{n}" for n in names]


def test_the_skeleton_is_in_rule_order_and_pages_with_a_stable_cursor() -> None:
    assert skeleton(POSTS, limit=100).posts == uris(RULE_ORDER)
    first = skeleton(POSTS, limit=3)
    assert first.posts == uris(RULE_ORDER[:3])
    assert first.cursor is not None
    # A post arriving between two requests sorts in front; the next page is unaffected.
    arrived = [*POSTS, post("newest", 9, 0)]
    second = skeleton(arrived, limit=3, cursor=first.cursor)
    assert second.posts == uris(RULE_ORDER[3:6])
    third = skeleton(arrived, limit=3, cursor=second.cursor)
    assert third.posts == uris(RULE_ORDER[6:])
    assert third.cursor is None
    assert skeleton([], limit=10).as_json() == {"feed": []}


@pytest.mark.parametrize(
    ("cursor", "limit"), [("nonsense", 10), ("5:x:id", 10), ("1:2:", 10), (None, 0), (None, 101)]
)
def test_bad_cursors_and_limits_are_refused(cursor: str | None, limit: int) -> None:
    with pytest.raises(BadFeedRequest):
        skeleton(POSTS, limit=limit, cursor=cursor)


def test_did_web_documents_and_refused_dids() -> None:
    assert service_endpoint("did:web:feeds.example.com") == "https://feeds.example.com"
    assert service_endpoint("did:web:localhost%3A3000") == "http://localhost:3000"
    assert did_document("did:web:feeds.example.com") == {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": "did:web:feeds.example.com",
        "service": [
            {
                "id": "#bsky_fg",
                "type": "BskyFeedGenerator",
                "serviceEndpoint": "https://feeds.example.com",
            }
        ],
    }
    for bad in ("did:plc:abc", "did:web:", "did:web:Example.com/path", "https://x.org", ""):
        with pytest.raises(KompasError, match="did:web"):
            check_service_did(bad)
    record = generator_record("did:web:feeds.example.com", "Best", None, T)
    assert record == {
        "$type": "app.bsky.feed.generator",
        "did": "did:web:feeds.example.com",
        "displayName": "Best",
        "createdAt": "2026-11-30T12:00:00.000000Z",
    }


def test_the_generator_app_answers_xrpc_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = Workspace.resolve(tmp_path).engine
    app = create_feed_app(engine, "best", "did:plc:me", "did:web:feeds.example.com")
    client = TestClient(app)
    feed = "at://did:plc:me/app.bsky.feed.generator/best"
    assert client.get("/xrpc/app.bsky.feed.describeFeedGenerator").json() == {
        "did": "did:web:feeds.example.com",
        "feeds": [{"uri": feed}],
    }
    assert client.get("/.well-known/did.json").json()["id"] == "did:web:feeds.example.com"
    empty = client.get("/xrpc/app.bsky.feed.getFeedSkeleton", params={"feed": feed})
    assert (empty.status_code, empty.json()) == (200, {"feed": []})
    other = client.get(
        "/xrpc/app.bsky.feed.getFeedSkeleton",
        params={"feed": "at://did:plc:me/app.bsky.feed.generator/other"},
    )
    assert other.status_code == 400 and other.json()["error"] == "UnknownFeed"
    for params in ({"limit": "many"}, {"limit": "0"}, {"cursor": "garbage"}):
        bad = client.get("/xrpc/app.bsky.feed.getFeedSkeleton", params={"feed": feed, **params})
        assert bad.status_code == 400 and bad.json()["error"] == "InvalidRequest"


def test_the_cli_refuses_bad_feed_names_and_service_dids(kompas: Kompas) -> None:
    bad_name = kompas("feeds", "serve", "Best Of", "--bluesky")
    assert bad_name.exit_code == 1 and "'Best Of' is not a feed name" in bad_name.stderr
    no_flag = kompas("feeds", "serve", "best")
    assert no_flag.exit_code == 2 and "--bluesky" in no_flag.stderr
    bad_did = kompas("feeds", "publish", "best", "--bluesky", "--service-did", "did:plc:notweb")
    assert bad_did.exit_code == 1 and "not a did:web service DID" in bad_did.stderr
    missing = kompas("feeds", "publish", "best", "--bluesky")
    assert missing.exit_code == 2 and "--service-did" in missing.stderr
    not_connected = kompas(
        "feeds", "publish", "best", "--bluesky", "--service-did", "did:web:feeds.example.com"
    )
    assert not_connected.exit_code == 1
    assert "kompas connect bluesky" in not_connected.stderr
