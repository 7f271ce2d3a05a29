"""Relationship-aware ranking on real stores (SQLite, and PostgreSQL when CI names one):
``score_by: relationship`` ranks the people the user talks with higher, ``quiet_first``
lifts those who post rarely, and ``rules explain`` says where each point came from.

The store is written by kompas's own writer from model records (the user's replies and
mentions) and by the timeline path (``timeline_entry``), as a sync would; the expected
points are counted here by hand from those records.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import Kompas
from kompas.model import Account, Platform, Post, PostKind
from kompas.rules import compile_rules
from kompas.rules.item import Item
from kompas.rules.pipeline import stored_item
from kompas.rules.ranking import Ranking, quiet_points
from kompas.rules.signals import ranking_of
from kompas.store import feeds as store
from kompas.store.writer import write_import
from kompas.sync.timeline_items import timeline_entry, timeline_item_id
from kompas.workspace import Workspace

HOST = "https://social.example/users/"
T0 = datetime(2026, 11, 20, 12, tzinfo=UTC)
RULES = """\
version: 1
rules:
  - name: people I talk with
    then: {score_by: relationship}
  - name: quiet voices
    when: {not: {text_contains: [ignore me]}}
    then: {quiet_first: true, tag: ranked}
"""
#: author → (the user's replies to them in the 90 days before T0, timeline posts in 30 days)
PEOPLE = {"alice": (3, 2), "bob": (1, 1), "carol": (0, 20), "dave": (0, 1), "erin": (14, 1)}


def account(name: str, me: bool = False) -> Account:
    return Account(Platform.MASTODON, HOST + name, handle=f"{name}@social.example", is_self=me)


def build_store(home: Path, db_url: str | None) -> Workspace:
    """The user's replies (plus one to dave 200 days ago, outside the window) and the
    timeline posts of PEOPLE, stored the way import and sync store them."""
    workspace = Workspace.resolve(home, db_url)
    records: list[object] = [account("me", me=True), *(account(n) for n in PEOPLE)]
    number = 0
    for name, (replies, _) in PEOPLE.items():
        for k in range(replies):
            number += 1
            records.append(
                Post(
                    Platform.MASTODON,
                    f"https://social.example/statuses/me{number}",
                    HOST + "me",
                    T0 - timedelta(days=1 + k),
                    PostKind.REPLY,
                    text=f"answer {number}",
                    reply_to_id=f"https://social.example/statuses/{name}-q{k}",
                    reply_to_author_id=HOST + name,
                )
            )
    records.append(
        Post(
            Platform.MASTODON,
            "https://social.example/statuses/old",
            HOST + "me",
            T0 - timedelta(days=200),
            PostKind.REPLY,
            text="long ago",
            reply_to_author_id=HOST + "dave",
        )
    )
    write_import(workspace.engine, records, source="test", path="ranking")  # type: ignore[arg-type]
    entries = []
    for name, (_, posts) in PEOPLE.items():
        for k in range(posts):
            post = Post(
                Platform.MASTODON,
                f"https://social.example/statuses/{name}{k}",
                HOST + name,
                T0 - timedelta(hours=2 + k),
                text=f"{name} says {k}",
            )
            entries.append(timeline_entry(post, account(name), "mastodon:home"))
    with workspace.engine.begin() as connection:
        store.add_items(connection, entries, T0)
    (home / "rules.yaml").write_text(RULES, encoding="utf-8")
    return workspace


def expected(name: str) -> int:
    replies, posts = PEOPLE[name]
    return min(replies, 10) + quiet_points(posts)


def first_item(name: str) -> str:
    return timeline_item_id("mastodon", f"https://social.example/statuses/{name}0")


def test_points_follow_the_rules_of_the_doc() -> None:
    # +5 for one post, one less each time the count doubles, never below 0.
    assert [quiet_points(n) for n in (1, 2, 3, 4, 7, 8, 16, 31, 32, 1000)] == [
        5,
        4,
        4,
        3,
        3,
        2,
        1,
        1,
        0,
        0,
    ]


def test_people_you_talk_with_and_quiet_people_rank_higher(
    kompas_db: Kompas, tmp_path: Path
) -> None:
    build_store(kompas_db.home, kompas_db.db_url)
    result = kompas_db("rules", "run", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["items"] == sum(p for _, p in PEOPLE.values())
    scores = {}
    for name in PEOPLE:
        shown = kompas_db("rules", "explain", first_item(name), "--json")
        assert shown.exit_code == 0, shown.output
        scores[name] = json.loads(shown.stdout)["score"]
    # alice 3 + 4, bob 1 + 5, carol 0 + 1 (20 posts: loud), dave 0 (his reply is 200 days
    # old) + 5, erin capped at 10 + 5.
    assert (
        scores
        == {name: expected(name) for name in PEOPLE}
        == {
            "alice": 7,
            "bob": 6,
            "carol": 1,
            "dave": 5,
            "erin": 15,
        }
    )
    # The digest ranks by these scores: erin, alice, bob, dave before loud carol.
    digest = json.loads(kompas_db("digest", "--since", "30d", "--json").stdout)
    entries = [e for group in digest["groups"] for e in group["entries"]]
    first_by_author: dict[str, int] = {}
    for position, entry in enumerate(entries):
        author = str(entry["author"]).split("@")[0]
        first_by_author.setdefault(author, position)
    assert sorted(first_by_author, key=first_by_author.__getitem__) == [
        "erin",
        "alice",
        "bob",
        "dave",
        "carol",
    ]


def test_explain_says_where_each_point_came_from(kompas_db: Kompas) -> None:
    build_store(kompas_db.home, kompas_db.db_url)
    assert kompas_db("rules", "run").exit_code == 0
    shown = json.loads(kompas_db("rules", "explain", first_item("alice"), "--json").stdout)
    relationship, quiet = shown["fired"]
    assert relationship["effects"] == ["score +3 (relationship)"]
    assert relationship["reasons"] == [
        "always",
        "score_by relationship: you and alice@social.example exchanged 3 times in the "
        "90 days to 2026-11-19: +3 (+1 per exchange, up to +10)",
    ]
    assert quiet["effects"] == ["score +4 (quiet first)", "tag ranked"]
    assert quiet["reasons"][-1] == (
        "quiet_first: alice@social.example posted 2 times in your timelines in the 30 days "
        "to 2026-11-20: +4 (+5 for one post, one less each time the count doubles)"
    )
    code, params = quiet["reason_codes"][-1]
    assert code == "rules.why.quiet" and params["count"] == 2 and params["points"] == 4
    # The people-readable explain says it too.
    text = kompas_db("rules", "explain", first_item("dave")).stdout
    assert "no exchange known between you and dave@social.example: +0" in text
    assert "score 5" in text
    assert "from mastodon:home · dave@social.example" in text


def test_batch_one_by_one_and_explain_agree(tmp_path: Path) -> None:
    workspace = build_store(tmp_path / "home", None)
    rules = compile_rules(RULES)
    with workspace.engine.connect() as connection:
        ranking = ranking_of(connection, rules.ranking_needs())
        items = [stored_item(s) for s in store.items(connection)]
    assert ranking.talk == {f"mastodon:{HOST}{n}": r for n, (r, _) in PEOPLE.items() if r}
    batch = list(rules.decide_all(items, T0, ranking=ranking))
    single = [rules.decide(item, T0, ranking=ranking) for item in items]
    explained = [rules.explain(item, T0, ranking=ranking) for item in items]
    assert [d.score for d in batch] == [d.score for d in single] == [d.score for d in explained]
    by_author = {item.author: d.score for item, d in zip(items, batch, strict=True)}
    assert by_author == {f"{n}@social.example": expected(n) for n in PEOPLE}
    # Without a store (rules test), the actions add nothing and say so.
    bare = rules.explain(items[0], T0)
    assert bare.score == 0
    assert "no exchange known" in str(bare.fired[0].reasons[-1])


def test_a_feed_entry_has_no_author_account_to_rank(tmp_path: Path) -> None:
    rules = compile_rules(RULES)
    entry = Item(id="e1", source="https://blog.example/feed", text="hello", author="Ann")
    decision = rules.explain(entry, T0, ranking=Ranking({"x": 1}, {"x": 1}, T0, T0))
    assert decision.score == 0
    assert str(decision.fired[0].reasons[-1]) == (
        "score_by relationship: not a post from a social account: +0"
    )


@pytest.mark.parametrize(
    "then, problem",
    [
        ("{score_by: followers}", "'followers' is not one of ['relationship']"),
        ("{quiet_first: false}", "True was expected"),
    ],
)
def test_bad_ranking_actions_are_refused_with_the_line(
    tmp_path: Path, kompas: Kompas, then: str, problem: str
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(f"rules:\n  - name: r\n    then: {then}\n", encoding="utf-8")
    result = kompas("rules", "check", str(path))
    assert result.exit_code == 1
    assert "line 3" in result.output and problem in result.output
