"""``kompas connect mastodon`` and ``kompas sync mastodon`` against a recorded Mastodon
instance on 127.0.0.1 (real Mastodon.py client, real HTTP): exact totals, incremental
runs, every fault, resume after SIGKILL, and no token ever printed or logged.

Expected figures are computed from the fake instance's own entities, never from kompas.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from conftest import Kompas
from kompas.store import schema
from kompas.store.sync import sync_state
from kompas.sync import credentials, mastodon
from kompas.sync.http import PlatformUnreachable, RetryPolicy
from kompas.workspace import Workspace
from sync_support import ACCESS_TOKEN, AUTH_CODE, CLIENT_SECRET, MastodonFake

STATUSES = "/api/v1/accounts/1/statuses"
KILLABLE_SYNC = """
import sys
from pathlib import Path
from kompas.sync import mastodon
from kompas.workspace import Workspace
home = Path(sys.argv[1])
mastodon.sync(Workspace.resolve(home).engine, home)
"""


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    running = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    running.start()
    yield running
    running.clear()
    running.stop()


@pytest.fixture
def fake(server: HTTPServer) -> MastodonFake:
    made = MastodonFake(server.url_for("").rstrip("/"))
    server.expect_request(re.compile(".*")).respond_with_handler(made.handle)
    return made


def connected(home: Path, fake: MastodonFake) -> Workspace:
    """A workspace whose Mastodon credentials are saved (as connect would save them)."""
    credentials.save(
        home,
        "mastodon",
        {
            "instance": fake.base,
            "client_id": "client-id-abc",
            "client_secret": CLIENT_SECRET,
            "access_token": ACCESS_TOKEN,
            "account_id": fake.me["uri"],
            "api_id": fake.me["id"],
        },
    )
    return Workspace.resolve(home)


def quick(**options: Any) -> RetryPolicy:
    """A policy that records its waits instead of sleeping."""
    made = RetryPolicy(sleep=lambda _s: None, jitter=lambda: 1.0, timeout=5.0)
    for key, value in options.items():
        setattr(made, key, value)
    return made


def expected(fake: MastodonFake) -> dict[str, int]:
    """``kompas status`` figures, from the fake's raw entities."""
    own = [s for _, s in fake.statuses.items]
    # Who follows now is the complete followers list: the fake's follow notifications come
    # from accounts absent from it, i.e. followers who have left since.
    followers = {a["uri"] for _, a in fake.followers.items}
    return {
        "posts": len(own),
        "replies": sum(1 for s in own if s["in_reply_to_id"] is not None),
        "reposts": sum(1 for s in own if s["reblog"] is not None),
        "likes": len({s["uri"] for _, s in fake.favourites.items}),
        "bookmarks": len({s["uri"] for _, s in fake.bookmarks.items}),
        "followers": len(followers),
        "following": len({a["uri"] for _, a in fake.following.items}),
    }


def status_of(engine: sa.Engine) -> dict[str, int]:
    from kompas.store.queries import status

    with engine.connect() as connection:
        counts = status(connection)["mastodon"].as_dict()
    counts.pop("accounts")
    return counts


def test_sync_fetches_every_stream_with_exact_totals(fake: MastodonFake, tmp_path: Path) -> None:
    workspace = connected(tmp_path, fake)
    report = mastodon.sync(workspace.engine, tmp_path, quick())
    want = expected(fake)
    assert want == {
        "posts": 25,
        "replies": 5,
        "reposts": 4,
        "likes": 22,
        "bookmarks": 7,
        "followers": 24,
        "following": 13,
    }
    assert status_of(workspace.engine) == want
    streams = report.as_dict()["streams"]
    assert {k: v["items"] for k, v in streams.items()} == {
        "profile": 1,
        "statuses": 25,
        "notifications": 30,
        "favourites": 22,
        "bookmarks": 7,
        "followers": 24,
        "following": 13,
        # home, then each list; the parents of Ada's replies came with her statuses
        "timeline": len(fake.home.items) + sum(len(t.items) for t in fake.list_timelines.values()),
        "parents": 0,
        "notes": 0,  # Ada keeps no note on anyone (tests/test_sync_mastodon_notes.py)
    }
    # 25 statuses in pages of 10: 10 + 10 + 5 (the last page has no next link)
    assert streams["statuses"]["pages"] == 3
    with workspace.engine.connect() as connection:
        posts = connection.execute(
            sa.select(schema.posts.c.id, schema.posts.c.reply_to_id, schema.posts.c.kind).where(
                schema.posts.c.author_id == fake.me["uri"]
            )
        ).all()
        kinds = dict(
            connection.execute(
                sa.select(schema.interactions.c.kind, sa.func.count())
                .where(schema.interactions.c.target_account_id == fake.me["uri"])
                .group_by(schema.interactions.c.kind)
            ).all()
        )
    assert {p.id for p in posts} == fake.expected_posts()
    # Replies point at the replied-to status's URI (fetched by API id when needed).
    replies = {s["uri"]: s for _, s in fake.statuses.items if s["in_reply_to_id"]}
    for post in posts:
        if post.id in replies:
            parent = fake.known_statuses[replies[post.id]["in_reply_to_id"]]
            assert post.reply_to_id == parent["uri"]
    # Notifications: 6 of each kind in 30; mentions n=0,10,20 are replies to Ada.
    assert kinds == {"follow": 6, "like": 6, "repost": 6, "reply": 3, "mention": 3}


def test_second_sync_fetches_only_what_is_new(fake: MastodonFake, tmp_path: Path) -> None:
    workspace = connected(tmp_path, fake)
    mastodon.sync(workspace.engine, tmp_path, quick())
    fake.add_statuses(5, start=25)
    fake.faults.requests.clear()
    report = mastodon.sync(workspace.engine, tmp_path, quick())
    assert report.streams["statuses"].items == 5
    assert report.streams["statuses"].added["posts"] == 5
    first = next(r for r in fake.faults.requests if r.startswith(STATUSES))
    top = max(sid for sid, _ in fake.statuses.items if sid < 100025)
    assert f"since_id={top}" in first
    assert status_of(workspace.engine)["posts"] == 30


@pytest.mark.parametrize(
    ("fault", "waits"),
    [
        ("429", [7.0]),  # Retry-After: 7, honoured exactly
        ("500", [1.0]),
        ("502", [1.0]),
        ("503", [1.0]),
        ("badjson", [1.0]),
        ("slow", [1.0]),
    ],
)
def test_each_fault_is_retried_and_totals_stay_exact(
    fake: MastodonFake, tmp_path: Path, fault: str, waits: list[float]
) -> None:
    workspace = connected(tmp_path, fake)
    # Only the slow answer outlasts the timeout, with wide margins both ways: a loaded CI
    # machine can take well over 0.4 s to answer an ordinary request.
    fake.faults.slow_seconds = 4.0
    fake.faults.add(STATUSES, fault)
    policy = quick(timeout=2.0)
    report = mastodon.sync(workspace.engine, tmp_path, policy, streams=("statuses",))
    assert policy.waits == waits
    assert report.streams["statuses"].items == 25
    own = [s for _, s in fake.statuses.items]
    boosted = {s["reblog"]["uri"] for s in own if s["reblog"]}
    parents = {fake.known_statuses[s["in_reply_to_id"]]["uri"] for s in own if s["in_reply_to_id"]}
    assert len(boosted) == 4 and len(parents) == 4
    # + the boosted posts and the posts Ada's replies answer
    assert report.streams["statuses"].added["posts"] == 25 + len(boosted | parents)
    want = expected(fake)
    got = status_of(workspace.engine)
    assert {k: got[k] for k in ("posts", "replies", "reposts")} == {
        k: want[k] for k in ("posts", "replies", "reposts")
    }


def test_several_faults_in_a_row_back_off_exponentially(fake: MastodonFake, tmp_path: Path) -> None:
    workspace = connected(tmp_path, fake)
    fake.faults.add("/api/v1/notifications", "500", "502", "503", "429", "500")
    policy = quick(base=1.0, cap=3.0)
    mastodon.sync(workspace.engine, tmp_path, policy)
    assert policy.waits == [1.0, 2.0, 3.0, 7.0, 3.0]
    assert status_of(workspace.engine) == expected(fake)


def test_a_repeated_cursor_stops_the_walk_and_the_next_sync_fills_the_gap(
    fake: MastodonFake, tmp_path: Path
) -> None:
    workspace = connected(tmp_path, fake)
    fake.statuses.repeat_cursor = True
    only = ("statuses",)
    report = mastodon.sync(workspace.engine, tmp_path, quick(), streams=only)
    assert report.streams["statuses"].items == 20
    assert "repeated the page cursor" in report.streams["statuses"].warnings[0]
    assert status_of(workspace.engine)["posts"] == 20
    report = mastodon.sync(workspace.engine, tmp_path, quick(), streams=only)
    assert report.streams["statuses"].warnings == []
    assert report.streams["statuses"].items == 15  # page 2 again (no duplicates) + 5
    assert status_of(workspace.engine)["posts"] == expected(fake)["posts"]


def test_unreachable_instance_exits_3_with_a_clear_message(
    fake: MastodonFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connected(tmp_path / "home", fake)
    fake.faults.add(STATUSES, *["503"] * 10)
    monkeypatch.setenv("KOMPAS_RETRY_ATTEMPTS", "3")
    monkeypatch.setenv("KOMPAS_RETRY_BASE", "0.01")
    result = Kompas(tmp_path / "home")("sync", "mastodon")
    assert result.exit_code == 3
    host = fake.host
    assert f"fetching statuses: {host} is unreachable: HTTP 503 (gave up after 3 attempts)" in (
        result.stderr.replace("\n", " ")
    )
    with pytest.raises(PlatformUnreachable):
        mastodon.sync(
            Workspace.resolve(tmp_path / "home").engine, tmp_path / "home", quick(attempts=2)
        )


def test_sync_without_connecting_is_a_user_error(tmp_path: Path) -> None:
    result = Kompas(tmp_path / "home")("sync", "mastodon")
    assert result.exit_code == 1
    assert "run `kompas connect mastodon` first" in result.stderr


def test_connect_runs_oauth_and_never_prints_the_token(
    fake: MastodonFake, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    kompas = Kompas(tmp_path / "home")
    result = kompas.runner.invoke(
        __import__("kompas.cli", fromlist=["app"]).app,
        ["--home", str(tmp_path / "home"), "connect", "mastodon", "--instance", fake.base],
        input=f"{AUTH_CODE}\n",
    )
    assert result.exit_code == 0, result.output
    assert f"{fake.base}/oauth/authorize?client_id=client-id-abc" in result.stderr
    assert "Connected Mastodon account ada" in result.stdout
    # the code went to the token endpoint with the registered client
    assert fake.token_requests[0]["grant_type"] == "authorization_code"
    assert fake.token_requests[0]["code"] == AUTH_CODE
    file = tmp_path / "home" / "credentials.json"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    saved = json.loads(file.read_text())["mastodon"]
    assert saved["access_token"] == ACCESS_TOKEN
    assert saved["account_id"] == fake.me["uri"]
    sync = kompas("sync", "mastodon", "--json")
    assert sync.exit_code == 0, sync.output
    assert json.loads(sync.stdout)["added"]["posts"] > 0
    shown = result.stdout + result.stderr + sync.stdout + sync.stderr + caplog.text
    for secret in (ACCESS_TOKEN, CLIENT_SECRET):
        assert secret not in shown
    assert repr(credentials.load(tmp_path / "home", "mastodon")).count("SECRET") == 0


def test_a_wrong_code_is_a_user_error(fake: MastodonFake, tmp_path: Path) -> None:
    result = Kompas(tmp_path / "home")(
        "connect", "mastodon", "--instance", fake.base, "--code", "not-the-code"
    )
    assert result.exit_code == 1
    assert "did not accept the authorisation code" in result.stderr
    assert not (tmp_path / "home" / "credentials.json").exists()


def test_credentials_file_is_0600_even_with_a_loose_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        credentials.save(tmp_path, "mastodon", {"access_token": "x"})
        credentials.save(tmp_path, "bluesky", {"app_password": "y"})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "credentials.json").stat().st_mode) == 0o600
    assert set(json.loads((tmp_path / "credentials.json").read_text())) == {"mastodon", "bluesky"}


def test_a_sync_killed_mid_walk_resumes_from_its_last_committed_cursor(
    fake: MastodonFake, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    workspace = connected(home, fake)
    fake.faults.block_at = (STATUSES, 2)  # the second statuses page hangs until released
    env = {**os.environ, "KOMPAS_RETRY_ATTEMPTS": "2", "KOMPAS_RETRY_BASE": "0.01"}
    process = subprocess.Popen(
        # the library call behind `kompas sync mastodon` (the CLI's own imports of every
        # pillar would only slow the test down)
        [sys.executable, "-c", KILLABLE_SYNC, str(home)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert fake.faults.reached.wait(60), "the sync never reached page 2"
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(10) == -signal.SIGKILL
    finally:
        fake.faults.release.set()
        if process.poll() is None:
            process.kill()
    engine = workspace.engine
    with engine.connect() as connection:
        committed = connection.execute(
            sa.select(sync_state.c.cursor).where(sync_state.c.stream == "statuses")
        ).scalar_one()
    first_page = sorted((sid for sid, _ in fake.statuses.items), reverse=True)[:10]
    assert committed == {"since": None, "max": str(first_page[-1]), "top": str(first_page[0])}
    assert status_of(engine)["posts"] == 10
    fake.faults.block_at = None
    fake.faults.requests.clear()
    mastodon.sync(engine, home, quick())
    resumed = next(r for r in fake.faults.requests if r.startswith(STATUSES))
    assert f"max_id={first_page[-1]}" in resumed
    assert status_of(engine) == expected(fake)
    with engine.connect() as connection:
        duplicates = (
            connection.execute(sa.select(sa.func.count()).select_from(schema.posts)).scalar_one()
            - connection.execute(
                sa.select(sa.func.count(sa.distinct(schema.posts.c.id)))
            ).scalar_one()
        )
    assert duplicates == 0


def test_synced_statuses_dedupe_against_an_archive_import(
    fake: MastodonFake, tmp_path: Path
) -> None:
    """The archive's Create activity and the API's Status of one post are one row."""
    from kompas.sources.mastodon import activity_to_records
    from kompas.store.writer import write_import

    workspace = connected(tmp_path, fake)
    reply = next(s for _, s in fake.statuses.items if s["in_reply_to_id"])
    parent = fake.known_statuses[reply["in_reply_to_id"]]
    activity = {
        "type": "Create",
        "published": reply["created_at"],
        "object": {
            "id": reply["uri"],
            "published": reply["created_at"],
            "content": reply["content"],
            "inReplyTo": parent["uri"],
            "url": reply["url"],
            "tag": [],
        },
    }
    write_import(
        workspace.engine, activity_to_records(activity, fake.me["uri"]), source="t", path="t"
    )
    mastodon.sync(workspace.engine, tmp_path, quick(), streams=("statuses",))
    with workspace.engine.connect() as connection:
        rows = connection.execute(
            sa.select(schema.interactions.c.id).where(
                schema.interactions.c.via_post_id == reply["uri"]
            )
        ).all()
    assert status_of(workspace.engine)["posts"] == 25
    assert len(rows) == 1  # the archive's reply interaction and the API's are one row


def edges(engine: sa.Engine) -> dict[tuple[str, str], Any]:
    """Every stored follow edge, current and ended: (follower, followee) → its row."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(schema.follows)).all()
    return {(r.follower_id, r.followee_id): r for r in rows}


LISTS = ("followers", "following")


def test_an_unfollow_ends_the_edge_keeps_it_and_a_return_reopens_it(
    fake: MastodonFake, tmp_path: Path
) -> None:
    workspace = connected(tmp_path, fake)
    engine = workspace.engine
    me = fake.me["uri"]
    mastodon.sync(engine, tmp_path, quick(), streams=LISTS)
    assert {k: status_of(engine)[k] for k in LISTS} == {"followers": 24, "following": 13}
    # One follower leaves (from the middle of the second page), Ada unfollows one account.
    left = fake.followers.items.pop(12)
    dropped = fake.following.items.pop(0)
    before = datetime.now(UTC)
    report = mastodon.sync(engine, tmp_path, quick(), streams=LISTS)
    after = datetime.now(UTC)
    assert (report.streams["followers"].ended, report.streams["following"].ended) == (1, 1)
    assert report.as_dict()["streams"]["followers"]["ended"] == 1
    assert {k: status_of(engine)[k] for k in LISTS} == {"followers": 23, "following": 12}
    stored = edges(engine)
    assert len(stored) == 24 + 13  # history: no edge is deleted
    gone = stored[(left[1]["uri"], me)]
    assert gone.ended_at is not None and before <= gone.ended_at <= after
    assert stored[(me, dropped[1]["uri"])].ended_at is not None
    current = {k for k, r in stored.items() if r.ended_at is None}
    assert current == {(a["uri"], me) for _, a in fake.followers.items} | {
        (me, a["uri"]) for _, a in fake.following.items
    }
    # The audit and the community figures count who follows now.
    kompas = Kompas(tmp_path)
    audit = json.loads(kompas("people", "audit", "--json").stdout)
    assert audit["followers"] == 23
    community = json.loads(kompas("community", "--all", "--json").stdout)
    assert community["vanity"]["mastodon"]["followers"] == 23
    assert community["vanity"]["mastodon"]["following"] == 12
    # A sync that sees nothing new ends nothing more.
    again = mastodon.sync(engine, tmp_path, quick(), streams=LISTS)
    assert (again.streams["followers"].ended, again.streams["followers"].resumed) == (0, 0)
    # The follower comes back: the same edge is current again.
    fake.followers.items.append(left)
    back = kompas("sync", "mastodon", "--only", "followers")
    assert back.exit_code == 0, back.output
    assert "followers: 0 follow(s) ended (no longer listed), 1 back again" in back.stdout
    assert edges(engine)[(left[1]["uri"], me)].ended_at is None
    assert status_of(engine)["followers"] == 24


def test_a_walk_cut_short_ends_no_edge(fake: MastodonFake, tmp_path: Path) -> None:
    workspace = connected(tmp_path, fake)
    engine = workspace.engine
    mastodon.sync(engine, tmp_path, quick(), streams=("followers",))
    fake.followers.items.pop(20)  # on the last page, which the cut-short walk never reaches
    fake.followers.repeat_cursor = True
    report = mastodon.sync(engine, tmp_path, quick(), streams=("followers",))
    assert "repeated the page cursor" in report.streams["followers"].warnings[0]
    assert report.streams["followers"].ended == 0
    assert status_of(engine)["followers"] == 24
    # The next run resumes that walk (its start kept in the cursor) and finishes it.
    report = mastodon.sync(engine, tmp_path, quick(), streams=("followers",))
    assert report.streams["followers"].ended == 1
    assert status_of(engine)["followers"] == 23
