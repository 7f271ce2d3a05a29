"""``kompas connect bluesky`` and ``kompas sync bluesky`` against a recorded PDS + AppView
on 127.0.0.1 (real atproto client, real HTTP): exact totals per stream, incremental runs,
faults (Bluesky rate-limit headers, 5xx, timeouts, bad JSON, a repeated cursor), a PDS
without AppView, and no app password or session token ever printed or logged.

Expected figures are computed from the fake server's own records, never from kompas.
"""

from __future__ import annotations

import json
import logging
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from conftest import Kompas
from kompas.store import schema
from kompas.store.queries import status
from kompas.sync import bluesky, credentials
from kompas.sync.http import RetryPolicy
from kompas.workspace import Workspace
from sync_support import ACCESS_JWT, APP_PASSWORD, REFRESH_JWT, BlueskyFake

NOW = 1_767_600_000.0
NOTIFICATIONS = "/xrpc/app.bsky.notification.listNotifications"
LIST_RECORDS = "/xrpc/com.atproto.repo.listRecords"


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    running = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    running.start()
    yield running
    running.clear()
    running.stop()


def serve(server: HTTPServer, **options: Any) -> tuple[BlueskyFake, str]:
    made = BlueskyFake(**options)
    server.expect_request(re.compile(".*")).respond_with_handler(made.handle)
    return made, server.url_for("").rstrip("/")


@pytest.fixture
def fake(server: HTTPServer) -> tuple[BlueskyFake, str]:
    return serve(server, posts=120, likes=40, follows=30, followers=120, notifications=75)


def quick(**options: Any) -> RetryPolicy:
    made = RetryPolicy(sleep=lambda _s: None, jitter=lambda: 1.0, clock=lambda: NOW, timeout=5.0)
    for key, value in options.items():
        setattr(made, key, value)
    return made


def connected(home: Path, fake: BlueskyFake, url: str) -> Workspace:
    credentials.save(
        home,
        "bluesky",
        {
            "service": url,
            "handle": fake.me["handle"],
            "did": fake.did,
            "app_password": APP_PASSWORD,
        },
    )
    return Workspace.resolve(home)


def figures(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        counts = status(connection)["bluesky"].as_dict()
    counts.pop("accounts")
    return counts


def expected(fake: BlueskyFake) -> dict[str, int]:
    """``kompas status`` figures from the fake's repository and AppView lists."""
    posts = [v for _, v in fake.repo["app.bsky.feed.post"]]
    # Who follows now is the complete followers list: the fake's follow notifications come
    # from accounts absent from it, i.e. followers who have left since.
    followers = {p["did"] for p in fake.followers}
    return {
        "posts": len(posts) + len(fake.repo["app.bsky.feed.repost"]),
        "replies": sum(1 for v in posts if "reply" in v),
        "reposts": len(fake.repo["app.bsky.feed.repost"]),
        "likes": len({v["subject"]["uri"] for _, v in fake.repo["app.bsky.feed.like"]}),
        "bookmarks": 0,
        "followers": len(followers),
        "following": len({v["subject"] for _, v in fake.repo["app.bsky.graph.follow"]}),
    }


def received(engine: sa.Engine, did: str) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(
            connection.execute(
                sa.select(schema.interactions.c.kind, sa.func.count())
                .where(
                    schema.interactions.c.target_account_id == did,
                    schema.interactions.c.actor_id != did,
                )
                .group_by(schema.interactions.c.kind)
            ).all()
        )


def test_sync_fetches_every_stream_with_exact_totals(
    fake: tuple[BlueskyFake, str], tmp_path: Path
) -> None:
    server, url = fake
    workspace = connected(tmp_path, server, url)
    report = bluesky.sync(workspace.engine, tmp_path, quick())
    want = expected(server)
    assert want == {
        "posts": 120,
        "replies": 30,
        "reposts": 0,
        "likes": 40,
        "bookmarks": 0,
        "followers": 120,
        "following": 30,
    }
    assert figures(workspace.engine) == want
    streams = report.as_dict()["streams"]
    # repo: 1 profile + 120 posts + 40 likes + 30 follows; pages of 100 → 2 + 1 + 1 + 1, plus
    # the empty page that ends each of the 5 collections
    assert streams["repo"]["items"] == 191
    assert streams["notifications"] == {**streams["notifications"], "items": 75, "pages": 2}
    assert streams["followers"]["items"] == 120 and streams["followers"]["pages"] == 2
    assert streams["follows"]["items"] == 30
    # 15 of each reason in 75 notifications; a reply to Ada does not also count as a mention
    assert received(workspace.engine, server.did) == {
        "like": 15,
        "repost": 15,
        "follow": 15,
        "reply": 15,
        "mention": 15,
    }
    with workspace.engine.connect() as connection:
        me = connection.execute(
            sa.select(schema.accounts).where(schema.accounts.c.id == server.did)
        ).one()
    assert (me.handle, me.display_name, me.is_self) == ("ada.example.com", "Ada Lovelace", True)


def test_second_sync_fetches_only_what_is_new(
    fake: tuple[BlueskyFake, str], tmp_path: Path
) -> None:
    server, url = fake
    workspace = connected(tmp_path, server, url)
    bluesky.sync(workspace.engine, tmp_path, quick())
    server.add_posts(7)
    server.add_notifications(4)
    report = bluesky.sync(workspace.engine, tmp_path, quick())
    # the new posts, and what is re-read whole each time: the profile and the 30 follows
    assert report.streams["repo"].items == 7 + 1 + 30
    assert report.streams["repo"].added["posts"] == 7
    assert report.streams["notifications"].items == 4
    assert figures(workspace.engine) == expected(server)


def test_profiles_of_accounts_known_only_by_did_are_fetched(
    fake: tuple[BlueskyFake, str], tmp_path: Path
) -> None:
    server, url = fake
    workspace = connected(tmp_path, server, url)
    report = bluesky.sync(workspace.engine, tmp_path, quick(), streams=("repo", "profiles"))
    # the 30 follow subjects appear in the repo by DID only; getProfiles takes 25 at a time
    assert report.streams["profiles"].items == 30
    assert report.streams["profiles"].pages == 2
    with workspace.engine.connect() as connection:
        missing = connection.execute(
            sa.select(sa.func.count())
            .select_from(schema.accounts)
            .where(schema.accounts.c.handle.is_(None))
        ).scalar_one()
    assert missing == 0


@pytest.mark.parametrize(
    ("fault", "waits"),
    [
        ("429b", [11.0]),  # ratelimit-reset = now + 11, honoured exactly
        ("500", [1.0]),
        ("502", [1.0]),
        ("503", [1.0]),
        ("badjson", [1.0]),
        ("slow", [1.0]),
    ],
)
def test_each_fault_is_retried_and_totals_stay_exact(
    fake: tuple[BlueskyFake, str], tmp_path: Path, fault: str, waits: list[float]
) -> None:
    server, url = fake
    workspace = connected(tmp_path, server, url)
    server.faults.reset_at = int(NOW) + 11
    server.faults.slow_seconds = 0.8
    server.faults.add(NOTIFICATIONS, fault)
    policy = quick(timeout=0.4)
    report = bluesky.sync(workspace.engine, tmp_path, policy, streams=("notifications",))
    assert policy.waits == waits
    assert report.streams["notifications"].items == 75
    assert received(workspace.engine, server.did) == {
        "like": 15,
        "repost": 15,
        "follow": 15,
        "reply": 15,
        "mention": 15,
    }


def test_a_repeated_cursor_stops_the_walk_without_losing_anything(
    fake: tuple[BlueskyFake, str], tmp_path: Path
) -> None:
    server, url = fake
    workspace = connected(tmp_path, server, url)
    server.repeat_cursor = True
    first = bluesky.sync(workspace.engine, tmp_path, quick(), streams=("followers",))
    assert "repeated the cursor" in first.streams["followers"].warnings[0]
    assert first.streams["followers"].items == 120
    assert figures(workspace.engine)["followers"] == 120
    server.followers.pop(0)
    server.repeat_cursor = True
    looped = bluesky.sync(workspace.engine, tmp_path, quick(), streams=("followers",))
    # A walk cut short by the loop saw only part of the list: it ends no edge.
    assert looped.streams["followers"].ended == 0
    assert figures(workspace.engine)["followers"] == 120
    server.followers.insert(0, server.others[0])
    again = bluesky.sync(workspace.engine, tmp_path, quick(), streams=("followers",))
    assert again.streams["followers"].warnings == []
    assert figures(workspace.engine)["followers"] == 120


def test_a_pds_without_appview_syncs_the_repo_and_skips_the_rest(
    server: HTTPServer, tmp_path: Path
) -> None:
    made, url = serve(
        server, posts=20, likes=3, follows=2, followers=5, notifications=5, appview=False
    )
    connected(tmp_path / "home", made, url)
    result = Kompas(tmp_path / "home")("sync", "bluesky", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["streams"]["repo"]["items"] == 1 + 20 + 3 + 2
    for stream in ("notifications", "followers", "follows", "profiles"):
        assert "this PDS has no AppView" in report["streams"][stream]["skipped"]
    assert report["added"]["posts"] == 20


def test_unreachable_pds_exits_3(
    fake: tuple[BlueskyFake, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, url = fake
    connected(tmp_path / "home", server, url)
    server.faults.add(LIST_RECORDS, *["502"] * 5)
    monkeypatch.setenv("KOMPAS_RETRY_ATTEMPTS", "3")
    monkeypatch.setenv("KOMPAS_RETRY_BASE", "0.01")
    result = Kompas(tmp_path / "home")("sync", "bluesky")
    assert result.exit_code == 3
    assert "is unreachable: HTTP 502 (gave up after 3 attempts)" in result.stderr.replace("\n", " ")


def test_connect_saves_the_app_password_0600_and_never_prints_secrets(
    fake: tuple[BlueskyFake, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server, url = fake
    caplog.set_level(logging.DEBUG)
    kompas = Kompas(tmp_path / "home")
    from kompas.cli import app

    result = kompas.runner.invoke(
        app,
        [
            "--home",
            str(tmp_path / "home"),
            "connect",
            "bluesky",
            "--handle",
            "ada.example.com",
            "--service",
            url,
        ],
        input=f"{APP_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert server.did in result.stdout
    file = tmp_path / "home" / "credentials.json"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert json.loads(file.read_text())["bluesky"]["app_password"] == APP_PASSWORD
    sync = kompas("sync", "bluesky")
    assert sync.exit_code == 0, sync.output
    shown = result.stdout + result.stderr + sync.stdout + sync.stderr + caplog.text
    for secret in (APP_PASSWORD, ACCESS_JWT, REFRESH_JWT, server.access):
        assert secret not in shown


def test_a_wrong_app_password_is_a_user_error(
    fake: tuple[BlueskyFake, str], tmp_path: Path
) -> None:
    _, url = fake
    result = Kompas(tmp_path / "home")(
        "connect",
        "bluesky",
        "--handle",
        "ada.example.com",
        "--service",
        url,
        "--app-password",
        "wrong-pass-word-0000",
    )
    assert result.exit_code == 1
    assert "refused the credentials" in result.stderr
    assert "wrong-pass-word-0000" not in result.stderr + result.stdout
    assert not (tmp_path / "home" / "credentials.json").exists()


def test_an_invalid_handle_is_rejected_before_any_request(tmp_path: Path) -> None:
    result = Kompas(tmp_path / "home")(
        "connect", "bluesky", "--handle", "not a handle", "--app-password", "x"
    )
    assert result.exit_code == 1
    assert "is not a valid Bluesky handle" in result.stderr


def ended_edges(engine: sa.Engine) -> set[tuple[str, str]]:
    with engine.connect() as connection:
        return {
            (r.follower_id, r.followee_id)
            for r in connection.execute(
                sa.select(schema.follows).where(schema.follows.c.ended_at.is_not(None))
            )
        }


def test_unfollows_on_both_lists_end_the_edges_and_keep_them(
    fake: tuple[BlueskyFake, str], tmp_path: Path
) -> None:
    server, url = fake
    workspace = connected(tmp_path, server, url)
    engine = workspace.engine
    bluesky.sync(engine, tmp_path, quick())
    assert {k: figures(engine)[k] for k in ("followers", "following")} == {
        "followers": 120,
        "following": 30,
    }
    # The fake's follow notifications come from accounts not in the followers list: ended.
    notified = {n["author"]["did"] for n in server.notifications if n["reason"] == "follow"}
    assert ended_edges(engine) == {(d, server.did) for d in notified}
    # Two followers leave; Ada unfollows one account (its record leaves her repository).
    left = [server.followers.pop(70), server.followers.pop(5)]
    _, record = server.repo["app.bsky.graph.follow"].pop(3)
    server.follow_views = [v for v in server.follow_views if v["did"] != record["subject"]]
    report = bluesky.sync(engine, tmp_path, quick())
    assert report.streams["followers"].ended == 2
    # The repository's follow records are walked first and end the follow.
    assert (report.streams["repo"].ended, report.streams["follows"].ended) == (1, 0)
    assert {k: figures(engine)[k] for k in ("followers", "following")} == {
        "followers": 118,
        "following": 29,
    }
    assert ended_edges(engine) == {(d, server.did) for d in notified} | {
        (p["did"], server.did) for p in left
    } | {(server.did, record["subject"])}
