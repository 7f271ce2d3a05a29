"""``kompas lookup``: account syntax checked against the AT Protocol interop fixtures,
public profiles fetched from a recorded Mastodon instance and a recorded Bluesky AppView
on 127.0.0.1, and cached in the store with their fetch time."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from conftest import DATA, Kompas
from kompas.model import Platform
from kompas.store import schema
from kompas.store.sync import lookup_cache
from kompas.sync.identifiers import (
    InvalidAccount,
    check_did,
    check_handle,
    parse_account,
)
from sync_support import BlueskyFake, MastodonFake

SYNTAX = DATA / "atproto-interop" / "syntax"


def fixture_lines(name: str) -> list[str]:
    text = (SYNTAX / f"{name}.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize("handle", fixture_lines("handle_syntax_valid"))
def test_every_valid_handle_is_accepted(handle: str) -> None:
    assert check_handle(handle) == handle.lower()
    ref = parse_account(handle)
    assert (ref.platform, ref.identifier) == (Platform.BLUESKY, handle.lower())


@pytest.mark.parametrize("handle", fixture_lines("handle_syntax_invalid"))
def test_every_invalid_handle_is_rejected_clearly(handle: str) -> None:
    with pytest.raises(InvalidAccount, match=r"not a valid (Bluesky handle|DID)"):
        check_handle(handle) if not handle.startswith("did:") else check_did(handle)
    if "@" not in handle:  # user@host is a Mastodon address, not a handle
        with pytest.raises(InvalidAccount):
            parse_account(handle)


@pytest.mark.parametrize("did", fixture_lines("did_syntax_valid"))
def test_every_valid_did_is_accepted(did: str) -> None:
    assert check_did(did) == did
    assert parse_account(did).identifier == did


@pytest.mark.parametrize("did", fixture_lines("did_syntax_invalid"))
def test_every_invalid_did_is_rejected_clearly(did: str) -> None:
    with pytest.raises(InvalidAccount, match="is not a valid DID"):
        check_did(did)
    if did.lower().startswith("did:"):
        with pytest.raises(InvalidAccount):
            parse_account(did)


@pytest.mark.parametrize("identifier", fixture_lines("atidentifier_syntax_valid"))
def test_every_valid_at_identifier_is_accepted(identifier: str) -> None:
    assert parse_account(identifier).platform is Platform.BLUESKY


@pytest.mark.parametrize("identifier", fixture_lines("atidentifier_syntax_invalid"))
def test_every_invalid_at_identifier_is_rejected(identifier: str) -> None:
    with pytest.raises(InvalidAccount):
        check_did(identifier) if identifier.startswith("did:") else check_handle(identifier)


@pytest.mark.parametrize(
    ("text", "platform", "identifier", "base"),
    [
        ("@ada@mastodon.social", "mastodon", "ada@mastodon.social", "https://mastodon.social"),
        ("ada@Mastodon.Social", "mastodon", "ada@mastodon.social", "https://mastodon.social"),
        ("https://hachyderm.io/@ada", "mastodon", "ada@hachyderm.io", "https://hachyderm.io"),
        ("https://hachyderm.io/@ada@other.org", "mastodon", "ada@other.org", "https://other.org"),
        ("https://hachyderm.io/users/ada", "mastodon", "ada@hachyderm.io", "https://hachyderm.io"),
        ("http://127.0.0.1:8080/@ada", "mastodon", "ada@127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("@alice.bsky.social", "bluesky", "alice.bsky.social", None),
        ("https://bsky.app/profile/alice.bsky.social", "bluesky", "alice.bsky.social", None),
        (
            "https://bsky.app/profile/did:plc:z72i7hdynmk6r22z27h6tvur",
            "bluesky",
            "did:plc:z72i7hdynmk6r22z27h6tvur",
            None,
        ),
    ],
)
def test_account_forms(text: str, platform: str, identifier: str, base: str | None) -> None:
    ref = parse_account(text)
    assert (ref.platform.value, ref.identifier, ref.base_url) == (platform, identifier, base)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no account given"),
        ("@a@b@c", "not an account address"),
        ("@ada@not a host", "is not a valid instance host name"),
        ("@a!da@mastodon.social", "is not a valid Mastodon username"),
        ("https://bsky.app/search?q=x", "expected a profile URL"),
        ("https://example.com/about", "is not a profile URL kompas knows"),
        ("alice", "is not a valid Bluesky handle"),
    ],
)
def test_bad_accounts_are_rejected_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(InvalidAccount, match=re.escape(message)):
        parse_account(text)


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    running = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    running.start()
    yield running
    running.clear()
    running.stop()


def test_mastodon_lookup_uses_public_endpoints_and_is_cached(
    server: HTTPServer, tmp_path: Path
) -> None:
    fake = MastodonFake(server.url_for("").rstrip("/"))
    server.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    kompas = Kompas(tmp_path / "home")
    result = kompas("lookup", f"{fake.base}/@ada", "--json", "--posts", "8", "--sample", "5")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["platform"] == "mastodon"
    assert found["account"]["id"] == fake.me["uri"]
    assert found["account"]["handle"] == f"ada@{fake.host}"
    assert found["account"]["followers_count"] == fake.me["followers_count"]
    newest = sorted(fake.statuses.items, key=lambda pair: -pair[0])[:8]
    assert [p["id"] for p in found["posts"]] == [s["uri"] for _, s in newest]
    assert [f["id"] for f in found["followers"]] == [
        a["uri"] for _, a in sorted(fake.followers.items, key=lambda p: -p[0])[:5]
    ]
    assert len(found["follows"]) == 5
    assert found["cached"] is False
    # no credentials were used
    assert not (tmp_path / "home" / "credentials.json").exists()
    before = len(fake.faults.requests)
    # the same account by its address: one cache entry, no request
    again = json.loads(kompas("lookup", f"@ada@{fake.host}", "--json").stdout)
    assert again["cached"] is True and again["account"] == found["account"]
    assert len(fake.faults.requests) == before


def test_bluesky_lookup_on_the_public_appview_is_cached_with_its_fetch_time(
    server: HTTPServer, tmp_path: Path
) -> None:
    fake = BlueskyFake(posts=30, likes=2, follows=12, followers=70, notifications=0)
    server.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    appview = server.url_for("").rstrip("/")
    kompas = Kompas(tmp_path / "home")
    started = datetime.now(UTC)
    result = kompas("lookup", "ada.example.com", "--json", "--appview", appview)
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["account"]["id"] == fake.did
    assert found["account"]["posts_count"] == 30
    newest = sorted(fake.repo["app.bsky.feed.post"], key=lambda r: r[0], reverse=True)[:20]
    assert [p["id"] for p in found["posts"]] == [
        f"at://{fake.did}/app.bsky.feed.post/{key}" for key, _ in newest
    ]
    assert {p["like_count"] for p in found["posts"]} == {5}
    assert len(found["followers"]) == 50 and len(found["follows"]) == 12
    fetched = datetime.fromisoformat(found["fetched_at"])
    assert started <= fetched <= datetime.now(UTC)
    requests = len(fake.faults.requests)
    cached = json.loads(kompas("lookup", "@ADA.example.com", "--json").stdout)
    assert cached["cached"] is True and cached["fetched_at"] == found["fetched_at"]
    assert len(fake.faults.requests) == requests  # served from the store
    refreshed = json.loads(
        kompas("lookup", "ada.example.com", "--json", "--refresh", "--appview", appview).stdout
    )
    assert refreshed["cached"] is False and refreshed["fetched_at"] > found["fetched_at"]
    assert len(fake.faults.requests) == requests + 4  # profile, feed, followers, follows
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'home' / 'kompas.db'}")
    with engine.connect() as connection:
        row = connection.execute(sa.select(lookup_cache)).one()
        stored = connection.execute(
            sa.select(sa.func.count())
            .select_from(schema.follows)
            .where(schema.follows.c.followee_id == fake.did)
        ).scalar_one()
    assert row.key == "bluesky:ada.example.com"
    assert row.fetched_at.isoformat() == refreshed["fetched_at"]
    assert stored == 50  # the sampled followers are records the people pillar can read


def test_stale_cache_is_fetched_again(server: HTTPServer, tmp_path: Path) -> None:
    from kompas.sync.http import RetryPolicy
    from kompas.sync.lookup import lookup
    from kompas.workspace import Workspace

    fake = BlueskyFake(posts=5, likes=0, follows=1, followers=2, notifications=0)
    server.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    appview = server.url_for("").rstrip("/")
    engine = Workspace.resolve(tmp_path).engine
    ref = parse_account("ada.example.com")
    policy = RetryPolicy(sleep=lambda _s: None)
    then = datetime(2026, 1, 1, tzinfo=UTC)
    first = lookup(engine, ref, policy=policy, appview=appview, now=then)
    within = lookup(engine, ref, policy=policy, appview=appview, now=then + timedelta(hours=23))
    after = lookup(engine, ref, policy=policy, appview=appview, now=then + timedelta(hours=25))
    assert (first.cached, within.cached, after.cached) == (False, True, False)
    assert after.fetched_at == (then + timedelta(hours=25)).isoformat()


def test_lookup_of_an_invalid_account_exits_1(tmp_path: Path) -> None:
    result = Kompas(tmp_path / "home")("lookup", "did:METHOD:val")
    assert result.exit_code == 1
    assert "is not a valid DID" in result.stderr


def test_lookup_when_the_appview_stays_down_exits_3(
    server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = BlueskyFake(posts=5, likes=0, follows=1, followers=2, notifications=0)
    fake.faults.add("/xrpc/app.bsky.actor.getProfile", *["500"] * 5)
    server.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    monkeypatch.setenv("KOMPAS_RETRY_ATTEMPTS", "2")
    monkeypatch.setenv("KOMPAS_RETRY_BASE", "0.01")
    result = Kompas(tmp_path / "home")(
        "lookup", "ada.example.com", "--appview", server.url_for("").rstrip("/")
    )
    assert result.exit_code == 3
    assert "unreachable: HTTP 500 (gave up after 2 attempts)" in result.stderr.replace("\n", " ")
