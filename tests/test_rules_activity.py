"""Rules over the user's own activity: own posts and interactions become items (kind,
to_tags…), and ``count_tagged`` counts the habits the strategy pillar tracks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kompas.model import Account, Interaction, InteractionKind, Platform, Post, PostKind
from kompas.rules import compile_rules
from kompas.rules.pipeline import count_tagged
from kompas.store.writer import write_import
from kompas.workspace import Workspace

RULES = """\
rules:
  - name: questions
    when: {text_regex: '\\?\\s*$'}
    then: {tag: question}
  - name: helped
    when: {kind: reply, to_tag: question}
    then: {tag: helped}
  - name: conversations
    when: {kind: reply}
    then: {tag: conversation}
  - name: cheered
    when: {kind: like, to_tag: [question, rust]}
    then: {tag: supported}
  - name: ignore bots
    when: {text_contains: "#bot"}
    then: {drop: true}
"""

START = datetime(2026, 11, 1, tzinfo=UTC)


def at(hours: int) -> datetime:
    return START + timedelta(hours=hours)


def records() -> list[object]:
    m = Platform.MASTODON
    return [
        Account(m, "me", handle="me@example.social", is_self=True),
        Account(m, "ada", handle="ada@example.social"),
        Post(m, "q1", "ada", at(1), text="How do I parse RSS in Python?"),
        Post(m, "n1", "ada", at(2), text="Shipped a release today.", hashtags=("rust",)),
        # Mine: a reply to the question (helped + conversation), a reply to news
        # (conversation only), a post, a dropped bot-tagged reply, one reply too late.
        Post(
            m,
            "r1",
            "me",
            at(3),
            PostKind.REPLY,
            text="Use feedparser.",
            reply_to_id="q1",
            reply_to_author_id="ada",
        ),
        Post(
            m,
            "r2",
            "me",
            at(4),
            PostKind.REPLY,
            text="Congrats!",
            reply_to_id="n1",
            reply_to_author_id="ada",
        ),
        Post(m, "p1", "me", at(5), text="Writing about feeds."),
        Post(m, "r3", "me", at(6), PostKind.REPLY, text="auto answer #bot", reply_to_id="q1"),
        Post(m, "r4", "me", at(200), PostKind.REPLY, text="Late reply", reply_to_id="q1"),
        # Likes: the question (supported) and the tagged news post (supported via #rust).
        Interaction(m, InteractionKind.LIKE, "me", "ada", "q1", created_at=at(7)),
        Interaction(m, InteractionKind.LIKE, "me", "ada", "n1", created_at=at(8)),
        # Someone else's like is not the user's activity.
        Interaction(m, InteractionKind.LIKE, "ada", "me", "p1", created_at=at(9)),
    ]


def test_count_tagged_counts_own_habits_in_a_window(tmp_path: Path) -> None:
    engine = Workspace.resolve(tmp_path).engine
    write_import(engine, records(), source="test", path="test")  # type: ignore[arg-type]
    rules = compile_rules(RULES)
    with engine.connect() as connection:
        counts = count_tagged(connection, rules, START, at(100))
    assert counts == {"conversation": 2, "helped": 1, "supported": 2}
    with engine.connect() as connection:
        everything = count_tagged(connection, rules, None, at(1000))
    assert everything == {"conversation": 3, "helped": 2, "supported": 2}


def test_rules_activity_command(kompas, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine = Workspace.resolve(kompas.home).engine
    write_import(engine, records(), source="test", path="test")  # type: ignore[arg-type]
    (kompas.home / "rules.yaml").write_text(RULES)
    result = kompas("rules", "activity", "--since", "2026-11-01", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tags"] == {"conversation": 3, "helped": 2, "supported": 2}


def test_any_iterable_of_feed_items_can_be_ingested_and_decided(tmp_path: Path) -> None:
    """Timelines from other sources (Mastodon hashtags, Bluesky feeds) are plain FeedItems."""
    from kompas.model import FeedItem
    from kompas.rules.pipeline import ingest
    from kompas.store import feeds as store

    engine = Workspace.resolve(tmp_path).engine
    timeline = [
        FeedItem("m1", "mastodon:#python", text="New Python release", url="https://a.test/1"),
        FeedItem("m2", "mastodon:#python", text="NFT giveaway", url="https://a.test/2"),
        FeedItem("m3", "bluesky:search", text="New Python release", url="https://b.test/3"),
    ]
    rules = compile_rules(
        "rules:\n  - {name: py, when: {text_contains: python}, then: {tag: py}}\n"
        "  - {name: nft, when: {text_regex: '(?i)nft'}, then: {drop: true}}\n"
    )
    with engine.begin() as connection:
        decisions = ingest(connection, timeline, rules)
        # m3 repeats m1's content under another URL: stored once.
        assert [(d.item_id, d.kept, d.tags) for d in decisions] == [
            ("m1", True, ("py",)),
            ("m2", False, ()),
        ]
        assert store.decision(connection, "m2") is not None
        assert ingest(connection, timeline, rules) == []
