"""Bluesky timelines as sources, on the real local network with an AppView
(``tests/appview/start_network.sh``): ``kompas sync bluesky --only timeline`` stores the
home timeline (``getTimeline``) and the user's list feeds (``getListFeed``) as feed items
with author, counts, links, tags and language; the rules decide them; ``digest`` and
``explain`` name the timeline; a second sync adds only what is new. The parents of the
user's replies are fetched once (``getPostThread``), so ``to_tag`` works.

Expected values come from what the test accounts wrote, never from kompas's output.
Collected only when ``KOMPAS_TEST_APPVIEW_PDS_URL`` names the network.
"""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from atproto import client_utils, models

from bluesky_network import PDS_URL, Account, connect, eventually
from conftest import Kompas
from kompas.store import schema
from kompas.store.feeds import feed_items
from kompas.workspace import Workspace

RULES = """\
rules:
  - name: python
    when: {has_tag: python}
    then: {tag: python-posts, score: 5, route: digest}
  - name: liked
    when: {count: {likes: {min: 1}}}
    then: {score: 2}
  - name: questions
    when: {text_regex: '\\?\\s*$'}
    then: {tag: question}
  - name: helped someone
    when: {kind: reply, to_tag: question}
    then: {tag: helped}
"""


def curation_list(owner: Account, name: str, *members: Account) -> str:
    now = owner.client.get_current_time_iso()
    made = owner.client.app.bsky.graph.list.create(
        owner.did,
        models.AppBskyGraphList.Record(
            name=name, purpose="app.bsky.graph.defs#curatelist", created_at=now
        ),
    )
    for member in members:
        owner.client.app.bsky.graph.listitem.create(
            owner.did,
            models.AppBskyGraphListitem.Record(list=made.uri, subject=member.did, created_at=now),
        )
    return str(made.uri)


def stored(home: Path) -> dict[str, dict[str, object]]:
    engine = Workspace.resolve(home).engine
    with engine.connect() as connection:
        rows = connection.execute(sa.select(feed_items)).mappings().all()
    return {str(r["post_id"]): dict(r) for r in rows}


if PDS_URL:

    def test_home_timeline_and_list_feeds_become_decided_feed_items(tmp_path: Path) -> None:
        alice, bob, carol = Account("alice"), Account("bob"), Account("carol")
        alice.client.follow(bob.did)
        text = (
            client_utils.TextBuilder()
            .text("Read ")
            .link("this article", "https://example.org/python-tips")
            .text(" ")
            .tag("#python", "python")
        )
        bobs = bob.client.send_post(text, langs=["fr"])
        carol.client.like(bobs.uri, bobs.cid)
        friends = curation_list(alice, "Close friends", carol)
        carols = carol.client.send_post("Carol, seen only through the list")
        # The AppView has indexed the like and the list item before kompas reads.
        eventually(
            lambda: alice.client.get_timeline().feed,
            lambda feed: any(i.post.uri == bobs.uri and i.post.like_count == 1 for i in feed),
        )
        eventually(
            lambda: alice.client.app.bsky.feed.get_list_feed({"list": friends}).feed,
            lambda feed: any(i.post.uri == carols.uri for i in feed),
        )

        kompas = Kompas(tmp_path / "home")
        connect(kompas, alice)
        (kompas.home / "rules.yaml").write_text(RULES)
        result = kompas("sync", "bluesky", "--only", "timeline", "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["streams"]["timeline"]["items"] == 2
        assert report["streams"]["timeline"]["added"]["feed_items"] == 2
        assert report["rules"] == {"items": 2, "kept": 2}

        items = stored(kompas.home)
        assert set(items) == {bobs.uri, carols.uri}
        bob_item = items[bobs.uri]
        assert bob_item["source"] == "bluesky:timeline"
        assert bob_item["author"] == bob.handle
        assert bob_item["author_id"] == bob.did
        assert bob_item["text"] == "Read this article #python"
        assert bob_item["links"] == ["https://example.org/python-tips"]
        assert bob_item["tags"] == ["python"]
        assert bob_item["language"] == "fr"
        assert bob_item["kind"] == "post"
        assert bob_item["counts"] == {"likes": 1, "reposts": 0, "replies": 0, "quotes": 0}
        assert items[carols.uri]["source"] == "bluesky:list:Close friends"
        assert items[carols.uri]["author"] == carol.handle

        # The rules decided them at sync time; explain and digest name the timeline.
        explained = kompas("rules", "explain", str(bob_item["id"]), "--json")
        assert explained.exit_code == 0, explained.output
        why = json.loads(explained.stdout)
        assert why["source"] == "bluesky:timeline"
        assert why["score"] == 7 and why["tags"] == ["python-posts"]
        assert [f["rule"] for f in why["fired"]] == ["python", "liked"]
        digest = json.loads(kompas("digest", "--json").stdout)
        entries = [e for g in digest["groups"] for e in g["entries"]]
        assert [(e["source"], e["author"]) for e in entries] == [("bluesky:timeline", bob.handle)]

        # A second sync adds only what is new, in the timeline it came from.
        later = bob.client.send_post("Bob again, later")
        eventually(
            lambda: alice.client.get_timeline().feed,
            lambda feed: any(i.post.uri == later.uri for i in feed),
        )
        again = json.loads(kompas("sync", "bluesky", "--only", "timeline", "--json").stdout)
        assert again["streams"]["timeline"]["items"] == 1
        added = {k: v for k, v in again["streams"]["timeline"]["added"].items() if v}
        assert added == {"feed_items": 1, "posts": 1}
        assert set(stored(kompas.home)) == {bobs.uri, carols.uri, later.uri}
        # rules run decides every stored item again, timeline items included.
        ran = json.loads(kompas("rules", "run", "--json").stdout)
        assert ran["items"] == 3

    def test_the_parents_of_the_users_replies_are_fetched_once(tmp_path: Path) -> None:
        alice, bob = Account("alice"), Account("bob")
        question = bob.client.send_post("Does anyone know a good SQLite book?")
        statement = bob.client.send_post("SQLite is fine.")
        replies = []
        for parent, text in ((question, "Try the official docs"), (statement, "Agreed")):
            ref = models.create_strong_ref(parent)
            replies.append(
                alice.client.send_post(
                    text, reply_to=models.AppBskyFeedPost.ReplyRef(parent=ref, root=ref)
                )
            )
        eventually(
            lambda: alice.client.get_posts([r.uri for r in replies]).posts,
            lambda posts: len(posts) == 2,
        )
        kompas = Kompas(tmp_path / "home")
        connect(kompas, alice)
        (kompas.home / "rules.yaml").write_text(RULES)
        assert kompas("sync", "bluesky", "--only", "repo").exit_code == 0
        # Without the parents, kompas cannot tell that a reply answered a question.
        before = json.loads(kompas("rules", "activity", "--since", "1d", "--json").stdout)
        assert "helped" not in before["tags"]

        result = kompas("sync", "bluesky", "--only", "parents", "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["streams"]["parents"]["items"] == 2
        engine = Workspace.resolve(kompas.home).engine
        with engine.connect() as connection:
            texts = dict(
                connection.execute(
                    sa.select(schema.posts.c.id, schema.posts.c.text).where(
                        schema.posts.c.author_id == bob.did
                    )
                ).all()
            )
        assert texts == {
            question.uri: "Does anyone know a good SQLite book?",
            statement.uri: "SQLite is fine.",
        }
        after = json.loads(kompas("rules", "activity", "--since", "1d", "--json").stdout)
        assert after["tags"]["helped"] == 1

        # Once: a parent deleted since is asked for once, then remembered.
        gone = alice.client.send_post(
            "Replying to something about to vanish",
            reply_to=models.AppBskyFeedPost.ReplyRef(
                parent=models.create_strong_ref(
                    vanishing := bob.client.send_post("This will be deleted")
                ),
                root=models.create_strong_ref(vanishing),
            ),
        )
        bob.client.delete_post(vanishing.uri)
        eventually(lambda: alice.client.get_posts([gone.uri]).posts, lambda posts: len(posts) == 1)
        assert kompas("sync", "bluesky", "--only", "repo").exit_code == 0
        first = json.loads(kompas("sync", "bluesky", "--only", "parents", "--json").stdout)
        assert first["streams"]["parents"]["items"] == 0
        second = json.loads(kompas("sync", "bluesky", "--only", "parents", "--json").stdout)
        assert second["streams"]["parents"] == {
            "pages": 0,
            "items": 0,
            "added": {},
            "ended": 0,
            "resumed": 0,
            "warnings": [],
            "skipped": None,
        }
