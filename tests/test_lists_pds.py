"""``kompas lists plan|apply`` on Bluesky against a real local PDS (``tests/pds/start_pds.sh``),
when ``KOMPAS_TEST_PDS_URL`` names it (CI sets it): the ``app.bsky.graph.list`` and
``app.bsky.graph.listitem`` records are written and read back from the repository; a
second apply writes nothing (the repository's revision does not move); a list half
written resumes without duplicates; a name the PDS refuses exits 1 naming it.

Members come from the rules (timeline posts routed to ``list:friends``, stored the way a
timeline sync stores them: a bare PDS has no AppView) and from relationships (the user's
reply to bob, synced from the repository). Without ``KOMPAS_TEST_PDS_URL`` nothing here
is collected.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from atproto import models

from conftest import Kompas
from kompas.model import Account, Platform, Post
from kompas.store import feeds as store
from kompas.sync.timeline_items import timeline_entry
from kompas.workspace import Workspace
from test_sync_pds import Actor

PDS_URL = os.environ.get("KOMPAS_TEST_PDS_URL")
RULES = """\
rules:
  - name: python friends
    when: {has_tag: python}
    then: {route: "list:friends"}
"""
LISTS = """\
lists:
  - name: friends
    platform: bluesky
  - name: talked with
    platform: bluesky
    members: talked
    days: 30
"""


def records(actor: Actor, collection: str) -> list[dict[str, Any]]:
    found = actor.client.com.atproto.repo.list_records(
        models.ComAtprotoRepoListRecords.Params(repo=actor.did, collection=collection, limit=100)
    )
    return [{"uri": r.uri, **r.value.model_dump(by_alias=True)} for r in found.records]


def revision(actor: Actor) -> str:
    latest = actor.client.com.atproto.sync.get_latest_commit(
        models.ComAtprotoSyncGetLatestCommit.Params(did=actor.did)
    )
    return str(latest.rev)


def timeline_posts(home: Path, authors: list[Actor]) -> None:
    """Two #python posts by each author in alice's timeline, stored as a sync stores them."""
    now = datetime.now(UTC)
    entries = []
    for n, author in enumerate(authors):
        for k in range(2):
            post = Post(
                Platform.BLUESKY,
                f"at://{author.did}/app.bsky.feed.post/3kpost{n}{k}",
                author.did,
                now - timedelta(hours=n + k),
                text=f"{author.handle} on python {k}",
                hashtags=("python",),
            )
            account = Account(Platform.BLUESKY, author.did, handle=author.handle)
            entries.append(timeline_entry(post, account, "bluesky:timeline"))
    with Workspace.resolve(home).engine.begin() as connection:
        store.add_items(connection, entries, now)


if PDS_URL:

    def test_bluesky_lists_written_read_back_and_kept(tmp_path: Path) -> None:
        assert PDS_URL is not None
        alice, bob, carol = (Actor(PDS_URL, n) for n in ("alice", "bob", "carol"))
        first = models.create_strong_ref(bob.client.send_post("Bob asks something"))
        alice.client.send_post(
            "Alice answers Bob", reply_to=models.AppBskyFeedPost.ReplyRef(parent=first, root=first)
        )
        home = tmp_path / "home"
        kompas = Kompas(home)
        connected = kompas(
            "connect", "bluesky", "--handle", alice.handle, "--service", PDS_URL,
            "--app-password", alice.app_password(),
        )  # fmt: skip
        assert connected.exit_code == 0, connected.output
        assert kompas("sync", "bluesky", "--only", "repo").exit_code == 0
        timeline_posts(home, [bob, carol])
        (home / "rules.yaml").write_text(RULES, encoding="utf-8")
        (home / "lists.yaml").write_text(LISTS, encoding="utf-8")
        assert kompas("rules", "run").exit_code == 0

        planned = kompas("lists", "plan", "--json")
        assert planned.exit_code == 0, planned.output
        friends, talked = json.loads(planned.stdout)["lists"]
        assert friends["create"] and {m["account"] for m in friends["add"]} == {bob.did, carol.did}
        assert talked["create"] and [m["account"] for m in talked["add"]] == [bob.did]
        assert records(alice, "app.bsky.graph.list") == []  # the plan wrote nothing

        applied = kompas("lists", "apply", "--yes", "--json")
        assert applied.exit_code == 0, applied.output
        assert json.loads(applied.stdout)["added"] == 3
        lists = {r["name"]: r for r in records(alice, "app.bsky.graph.list")}
        assert set(lists) == {"friends", "talked with"}
        assert {r["purpose"] for r in lists.values()} == {"app.bsky.graph.defs#curatelist"}
        items = records(alice, "app.bsky.graph.listitem")
        by_list = {
            name: sorted(i["subject"] for i in items if i["list"] == r["uri"])
            for name, r in lists.items()
        }
        assert by_list == {"friends": sorted([bob.did, carol.did]), "talked with": [bob.did]}

        # A second apply writes nothing: the repository does not move.
        before = revision(alice)
        again = kompas("lists", "apply", "--yes", "--json")
        assert again.exit_code == 0, again.output
        assert json.loads(again.stdout)["added"] == 0
        assert revision(alice) == before

        # Half applied (carol's record lost): the next apply adds exactly what is missing.
        carol_item = next(i for i in items if i["subject"] == carol.did)
        alice.client.com.atproto.repo.delete_record(
            models.ComAtprotoRepoDeleteRecord.Data(
                repo=alice.did,
                collection="app.bsky.graph.listitem",
                rkey=carol_item["uri"].rsplit("/", 1)[1],
            )
        )
        resumed = json.loads(kompas("lists", "apply", "--yes", "--json").stdout)
        assert resumed["added"] == 1 and resumed["created"] == 0
        subjects = [i["subject"] for i in records(alice, "app.bsky.graph.listitem")]
        assert sorted(subjects) == sorted([bob.did, carol.did, bob.did])  # no duplicate

        # Carol leaves the route: her listitem is deleted.
        (home / "rules.yaml").write_text(
            RULES.replace("has_tag: python", f"author: [{bob.handle}]"), encoding="utf-8"
        )
        assert kompas("rules", "run").exit_code == 0
        removed = json.loads(kompas("lists", "apply", "--yes", "--json").stdout)
        assert removed["removed"] == 1 and removed["added"] == 0
        subjects = [i["subject"] for i in records(alice, "app.bsky.graph.listitem")]
        assert sorted(subjects) == [bob.did, bob.did]

    def test_a_name_the_pds_refuses_exits_1_naming_it(tmp_path: Path) -> None:
        assert PDS_URL is not None
        alice, bob = Actor(PDS_URL, "alice"), Actor(PDS_URL, "bob")
        home = tmp_path / "home"
        kompas = Kompas(home)
        connected = kompas(
            "connect", "bluesky", "--handle", alice.handle, "--service", PDS_URL,
            "--app-password", alice.app_password(),
        )  # fmt: skip
        assert connected.exit_code == 0, connected.output
        timeline_posts(home, [bob])
        (home / "rules.yaml").write_text(RULES, encoding="utf-8")
        long_name = "a list name far longer than the sixty-four graphemes Bluesky allows, surely"
        (home / "lists.yaml").write_text(
            f"lists:\n  - {{name: '{long_name}', platform: bluesky, route: friends}}\n",
            encoding="utf-8",
        )
        assert kompas("rules", "run").exit_code == 0
        result = kompas("lists", "apply", "--yes")
        assert result.exit_code == 1
        assert f"Bluesky refused the list name {long_name!r}" in result.stderr
        assert records(alice, "app.bsky.graph.list") == []
