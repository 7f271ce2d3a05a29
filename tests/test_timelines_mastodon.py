"""Mastodon timelines as sources, against recorded response shapes on 127.0.0.1 (real
Mastodon.py client, real HTTP): ``kompas sync mastodon --only timeline`` stores the home
timeline and each list timeline as feed items (author, counts, links, tags, language),
incrementally and resumably; the rules decide them and ``digest``/``explain`` name the
timeline. ``--only parents`` fetches, once, the posts the user's replies answer.

Expected values are computed from the fake instance's own entities, never from kompas.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from conftest import Kompas
from kompas.sources.mastodon import activity_to_records
from kompas.store import schema
from kompas.store.feeds import feed_items
from kompas.store.sync import sync_state
from kompas.store.writer import write_import
from kompas.sync import mastodon
from kompas.text import html_to_text
from kompas.workspace import Workspace
from sync_support import MastodonFake, mastodon_instance
from test_sync_mastodon import connected, quick

HOME = "/api/v1/timelines/home"
KILLABLE_SYNC = """
import sys
from pathlib import Path
from kompas.sync import mastodon
from kompas.workspace import Workspace
home = Path(sys.argv[1])
mastodon.sync(Workspace.resolve(home).engine, home, streams=("timeline",))
"""


@pytest.fixture
def fake() -> Iterator[MastodonFake]:
    with mastodon_instance() as instance:
        yield instance


def shown(status: dict[str, Any]) -> dict[str, Any]:
    """What a timeline entry stands for: the boosted status for a boost."""
    return status["reblog"] or status


def expected_items(fake: MastodonFake) -> dict[str, str]:
    """Post URI → the timeline it is first seen in (home first, then each list in order)."""
    sources: dict[str, str] = {}
    for _, status in sorted(fake.home.items, key=lambda pair: -pair[0]):
        sources.setdefault(shown(status)["uri"], "mastodon:home")
    for listed in fake.lists:
        timeline = fake.list_timelines[listed["id"]]
        for _, status in sorted(timeline.items, key=lambda pair: -pair[0]):
            sources.setdefault(shown(status)["uri"], f"mastodon:list:{listed['title']}")
    return sources


def stored(engine: sa.Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(feed_items)).mappings().all()
    return {str(r["post_id"]): dict(r) for r in rows}


def test_home_and_list_timelines_become_feed_items(fake: MastodonFake, tmp_path: Path) -> None:
    workspace = connected(tmp_path, fake)
    report = mastodon.sync(workspace.engine, tmp_path, quick(), streams=("timeline",))
    want = expected_items(fake)
    # 30 home posts (5 boosts) + 12 posts only in the exclusive list; "Close friends"
    # shows posts that home showed first.
    assert len(want) == 42
    assert set(want.values()) == {"mastodon:home", "mastodon:list:Python people"}
    entry = report.streams["timeline"]
    assert entry.items == len(fake.home.items) + sum(
        len(t.items) for t in fake.list_timelines.values()
    )
    assert entry.added["feed_items"] == 42
    items = stored(workspace.engine)
    assert {uri: row["source"] for uri, row in items.items()} == want
    for _, status in fake.home.items:
        post = shown(status)
        row = items[post["uri"]]
        text, links = html_to_text(post["content"])
        account = post["account"]
        host = account["uri"].split("/")[2]
        assert row["text"] == text
        assert row["links"] == links
        assert row["author"] == (
            account["acct"] if "@" in account["acct"] else f"{account['acct']}@{host}"
        )
        assert row["author_id"] == account["uri"]
        assert row["language"] == post["language"]
        assert row["tags"] == [t["name"] for t in post["tags"]]
        assert row["url"] == post["url"]
        assert row["kind"] == ("reply" if post["in_reply_to_id"] else "post")
        assert row["counts"] == {
            "likes": post["favourites_count"],
            "reposts": post["reblogs_count"],
            "replies": post["replies_count"],
        }
    # The posts are stored for the other pillars too, with their authors.
    with workspace.engine.connect() as connection:
        posts = set(connection.execute(sa.select(schema.posts.c.id)).scalars())
    assert set(want) <= posts


def test_a_second_sync_fetches_only_what_is_new(fake: MastodonFake, tmp_path: Path) -> None:
    from sync_support import T0, m_status

    workspace = connected(tmp_path, fake)
    mastodon.sync(workspace.engine, tmp_path, quick(), streams=("timeline",))
    newest = max(sid for sid, _ in fake.home.items)
    author = fake.home.items[0][1]["account"]
    for n in range(3):
        status = m_status(newest + 1 + n, author, f"Fresh {n}", created=T0)
        fake.home.items.append((newest + 1 + n, status))
    fake.faults.requests.clear()
    report = mastodon.sync(workspace.engine, tmp_path, quick(), streams=("timeline",))
    assert report.streams["timeline"].items == 3
    assert report.streams["timeline"].added["feed_items"] == 3
    home_requests = [r for r in fake.faults.requests if r.startswith(HOME)]
    assert all(f"since_id={newest}" in r for r in home_requests)
    assert len(stored(workspace.engine)) == 42 + 3


def test_a_timeline_sync_killed_mid_walk_resumes_without_duplicates(
    fake: MastodonFake, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    workspace = connected(home, fake)
    fake.faults.block_at = (HOME, 2)  # the second home page hangs until released
    env = {**os.environ, "KOMPAS_RETRY_ATTEMPTS": "2", "KOMPAS_RETRY_BASE": "0.01"}
    process = subprocess.Popen(
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
    first_page = sorted((sid for sid, _ in fake.home.items), reverse=True)[:10]
    with engine.connect() as connection:
        committed = connection.execute(
            sa.select(sync_state.c.cursor).where(sync_state.c.stream == "timeline:home")
        ).scalar_one()
    assert committed == {"since": None, "max": str(first_page[-1]), "top": str(first_page[0])}
    assert len(stored(engine)) == 10
    fake.faults.block_at = None
    fake.faults.requests.clear()
    mastodon.sync(engine, home, quick(), streams=("timeline",))
    resumed = next(r for r in fake.faults.requests if r.startswith(HOME))
    assert f"max_id={first_page[-1]}" in resumed
    assert {uri: row["source"] for uri, row in stored(engine).items()} == expected_items(fake)


def test_rules_digest_and_explain_name_the_timeline(fake: MastodonFake, tmp_path: Path) -> None:
    kompas = Kompas(tmp_path / "home")
    connected(kompas.home, fake)
    (kompas.home / "rules.yaml").write_text(
        "rules:\n"
        "  - name: python\n"
        "    when: {has_tag: python}\n"
        "    then: {tag: python, score: 3, route: digest}\n"
        "  - name: popular\n"
        "    when: {count: {likes: {min: 5}}}\n"
        "    then: {score: 1}\n"
        "  - name: no french\n"
        "    when: {language: fr}\n"
        "    then: {drop: true}\n"
    )
    # With a rules file, the sync decides the new items itself.
    result = kompas("sync", "mastodon", "--only", "timeline", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    want = expected_items(fake)
    posts = {shown(s)["uri"]: shown(s) for _, s in fake.home.items}
    posts.update({s["uri"]: s for t in fake.list_timelines.values() for _, s in t.items})
    french = {uri for uri in want if posts[uri]["language"] == "fr"}
    assert report["rules"] == {"items": 42, "kept": 42 - len(french)}
    python = {
        uri
        for uri in want
        if "python" in [t["name"] for t in posts[uri]["tags"]] and uri not in french
    }
    digest = json.loads(kompas("digest", "--since", "3650d", "--json").stdout)
    entries = [e for g in digest["groups"] for e in g["entries"]]
    items = stored(Workspace.resolve(kompas.home).engine)
    by_id = {row["id"]: uri for uri, row in items.items()}
    assert {by_id[e["id"]] for e in entries} == python
    assert {e["source"] for e in entries} == {"mastodon:home", "mastodon:list:Python people"}
    exclusive = next(e for e in entries if e["source"] == "mastodon:list:Python people")
    explained = json.loads(kompas("rules", "explain", exclusive["id"], "--json").stdout)
    assert explained["source"] == "mastodon:list:Python people"
    assert explained["fired"][0]["rule"] == "python"


def _archived_reply(reply_uri: str, parent_uri: str, when: str) -> dict[str, Any]:
    """An outbox ``Create`` of one of the user's replies, as a Mastodon archive has it."""
    return {
        "type": "Create",
        "published": when,
        "object": {
            "id": reply_uri,
            "published": when,
            "content": "<p>An archived reply</p>",
            "inReplyTo": parent_uri,
            "url": reply_uri,
            "tag": [],
        },
    }


def test_parents_of_archived_replies_are_fetched_once(fake: MastodonFake, tmp_path: Path) -> None:
    workspace = connected(tmp_path, fake)
    me = fake.me["uri"]
    replies = [s for _, s in fake.statuses.items if s["in_reply_to_id"]]
    activities = [
        _archived_reply(r["uri"], fake.known_statuses[r["in_reply_to_id"]]["uri"], r["created_at"])
        for r in replies
    ]
    # A reply to a post deleted since (the instance answers 404), and one written on
    # another server (no local id to ask about): each asked for at most once.
    activities.append(
        _archived_reply(f"{me}/statuses/777777", f"{fake.base}/users/x/statuses/1", "2026-01-01")
    )
    activities.append(
        _archived_reply(
            "https://elsewhere.example/users/ada/statuses/5",
            "https://elsewhere.example/users/bob/statuses/9",
            "2026-01-01",
        )
    )
    records = [r for a in activities for r in activity_to_records(a, me)]
    write_import(workspace.engine, records, source="mastodon-archive", path="archive.tar.gz")
    parents = {fake.known_statuses[r["in_reply_to_id"]]["uri"] for r in replies}

    report = mastodon.sync(workspace.engine, tmp_path, quick(), streams=("parents",))
    context_calls = [r for r in fake.faults.requests if "/context" in r]
    # one call per local reply (the foreign one is never asked about)
    assert len(context_calls) == len(replies) + 1
    assert report.streams["parents"].items == len(replies)  # the deleted one has none
    with workspace.engine.connect() as connection:
        found = set(
            connection.execute(
                sa.select(schema.posts.c.id).where(schema.posts.c.id.in_(parents))
            ).scalars()
        )
    assert found == parents
    fake.faults.requests.clear()
    again = mastodon.sync(workspace.engine, tmp_path, quick(), streams=("parents",))
    assert [r for r in fake.faults.requests if "/context" in r] == []
    assert again.streams["parents"].items == 0


def test_a_rate_limit_is_waited_out_and_a_timeline_that_stays_down_exits_3(
    fake: MastodonFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = connected(tmp_path, fake)
    fake.faults.add(HOME, "429")
    policy = quick()
    report = mastodon.sync(workspace.engine, tmp_path, policy, streams=("timeline",))
    assert policy.waits == [7.0]  # the instance's Retry-After, honoured
    assert report.streams["timeline"].added["feed_items"] == 42

    kompas = Kompas(tmp_path / "other")
    connected(kompas.home, fake)
    monkeypatch.setenv("KOMPAS_RETRY_ATTEMPTS", "3")
    monkeypatch.setenv("KOMPAS_RETRY_BASE", "0.01")
    fake.faults.add(HOME, "503", "503", "503", "503")
    result = kompas("sync", "mastodon", "--only", "timeline")
    assert result.exit_code == 3
    assert "timeline:home" in result.stderr
