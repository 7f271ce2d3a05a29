"""``kompas today --json`` as a plan, on a small constructed store (every expected value
worked out by hand in the comments): a reply to the item waiting, a reconnect for a due
cadence and for a fading tie, a check of a new follower that declares itself a bot, a post
on the quiet pillar, and the feed item a rule routes to notify."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import WEB_AND_LIFE_STRATEGY, Kompas
from kompas.model import (
    Account,
    Follow,
    Interaction,
    InteractionKind,
    Platform,
    Post,
    PostKind,
    Record,
)
from kompas.store.writer import write_import
from kompas.workspace import Workspace

M = Platform.MASTODON
END = datetime(2026, 3, 1, 12, tzinfo=UTC)  # the newest activity: the day `today` looks at


def days_before(days: float) -> datetime:
    return END - timedelta(days=days)


def plan_records() -> list[Record]:
    """The constructed store: bo waits for an answer, ann's tie fades, dan's cadence is
    due, robot (a declared bot) just followed."""
    me = "me"
    return [
        Account(M, me, handle="me@example.social", is_self=True),
        Account(M, "ann", handle="ann@example.social"),
        Account(M, "bo", handle="bo@example.social"),
        Account(M, "dan", handle="dan@example.social"),
        Account(M, "robot", handle="robot@example.social", is_bot=True),
        # ann: four replies of the user 40 to 100 days ago, nothing in the last 30 days.
        *(
            Post(
                M,
                f"to-ann-{n}",
                me,
                days_before(40 + 20 * n),
                PostKind.REPLY,
                reply_to_id=f"ann-{n}",
                reply_to_author_id="ann",
            )
            for n in range(4)
        ),
        # The user's own post today (about the family: the Life pillar; Web stays quiet).
        Post(M, "mine", me, END, text="A long walk with the family"),
        # bo replies to it and waits.
        Post(
            M,
            "bo-1",
            "bo",
            END + timedelta(minutes=5),
            PostKind.REPLY,
            text="Where did you walk?",
            reply_to_id="mine",
            reply_to_author_id=me,
        ),
        Interaction(M, InteractionKind.REPLY, "bo", me, "mine", "bo-1", END + timedelta(minutes=5)),
        # dan: one exchange 20 days ago (a cadence of 7 days is due).
        Interaction(M, InteractionKind.MENTION, me, "dan", None, "to-dan", days_before(20)),
        # robot: a new follower (3 days ago), a declared bot.
        Follow(M, "robot", me, days_before(3)),
    ]


@pytest.fixture
def kompas(tmp_path: Path) -> Kompas:
    home = tmp_path / "home"
    write_import(Workspace.resolve(home).engine, plan_records(), source="test", path="constructed")
    made = Kompas(home)
    (home / "strategy.yaml").write_text(WEB_AND_LIFE_STRATEGY)
    assert made("people", "cadence", "mastodon:dan", "7d").exit_code == 0
    return made


def test_today_proposes_each_kind_with_why(kompas: Kompas) -> None:
    result = kompas("today", "--json")
    assert result.exit_code == 0, result.output
    actions = json.loads(result.stdout)["actions"]
    assert 3 <= len(actions) <= 7
    by_kind = [(a["kind"], a["person"], a["post"]) for a in actions]
    assert by_kind == [
        ("reply", "bo@example.social", "bo-1"),
        ("reconnect", "dan@example.social", None),  # the cadence first
        ("reconnect", "ann@example.social", None),  # then the fading tie
        ("post", None, None),  # Web: nothing in 7 days
        ("check", "robot@example.social", None),
    ]
    why = {a["person"] or a["kind"]: a["why"] for a in actions}
    assert "Where did you walk?" in actions[0]["text"]
    assert "first reply" in why["bo@example.social"]
    assert "every 7 days" in why["dan@example.social"] and "20 days" in why["dan@example.social"]
    assert "4 times" in why["ann@example.social"]
    assert "40 days" in why["ann@example.social"]
    assert "Web" in actions[3]["text"]
    assert "automated" in why["robot@example.social"] or "bot" in why["robot@example.social"]


def test_a_marked_item_leaves_the_plan(kompas: Kompas) -> None:
    item = json.loads(kompas("inbox", "--json").stdout)["items"][0]
    assert item["post"] == "bo-1"
    assert kompas("inbox", "ignore", item["id"]).exit_code == 0
    actions = json.loads(kompas("today", "--json").stdout)["actions"]
    assert "reply" not in {a["kind"] for a in actions}


def test_today_prints_the_plan(kompas: Kompas) -> None:
    result = kompas("today")
    assert result.exit_code == 0
    assert "1. [reply] Reply to bo@example.social: “Where did you walk?”" in result.stdout
    assert "why: Their first reply to you" in result.stdout
    assert "[reconnect] Reconnect with ann@example.social." in result.stdout


def test_share_and_notify_come_from_the_feeds(kompas: Kompas) -> None:
    """The feeds' newest week: a kept item about browsers serves Web (the pillar with no
    post this week: the user's only post is about a family walk), a routed one notifies."""
    from kompas.model import FeedItem
    from kompas.rules.engine import compile_rules
    from kompas.rules.pipeline import ingest

    rules = compile_rules(
        "rules:\n"
        "  - name: urgent\n"
        "    when: {text_contains: urgent}\n"
        "    then: {route: notify, score: 1}\n"
        "  - name: browsers\n"
        "    when: {text_contains: firefox}\n"
        "    then: {score: 5}\n"
    )
    items = [
        FeedItem(
            "f-web",
            "https://news.example/feed",
            "Firefox ships a faster browser",
            "The web browser gets faster on Linux.",
            "https://news.example/firefox",
            published=END - timedelta(days=1),
        ),
        FeedItem(
            "f-urgent",
            "https://news.example/feed",
            "An urgent notice",
            "Something urgent about the city.",
            "https://news.example/urgent",
            published=END - timedelta(days=2),
        ),
    ]
    with Workspace.resolve(kompas.home).engine.begin() as connection:
        ingest(connection, items, rules, END)
    actions = json.loads(kompas("today", "--json").stdout)["actions"]
    assert len(actions) == 7  # the most today proposes
    kinds = [a["kind"] for a in actions]
    assert kinds[0] == "notify" and "An urgent notice" in actions[0]["text"]
    share = next(a for a in actions if a["kind"] == "share")
    assert share["post"] == "f-web" and share["url"] == "https://news.example/firefox"
    assert "Web" in share["why"] and "score 5" in share["why"]


def test_a_one_way_tie_says_only_the_user_wrote(kompas: Kompas) -> None:
    """ann never wrote back (the store holds only the user's four replies): the reason says
    the user wrote to them, not that they talked."""
    actions = json.loads(kompas("today", "--json").stdout)["actions"]
    why = next(a["why"] for a in actions if a["person"] == "ann@example.social")
    assert why.startswith("You wrote to them 4 times")
    assert "nothing from them is in the store" in why


def test_today_needs_no_strategy_file(tmp_path: Path) -> None:
    """The X sample with no strategy.yaml: today still proposes reconnects (an export holds
    only the user's side, so each says so), never proposes a known bot, and says how to
    write a strategy instead of claiming every pillar had a post."""
    from conftest import X_ARCHIVE
    from samples import x_file

    kompas = Kompas(tmp_path / "home")
    assert kompas("import", "x-archive", X_ARCHIVE).exit_code == 0
    result = kompas("today", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["habits"] == [] and found["status"] == "no data"
    assert "kompas strategy init" in found["suggestion"]
    reconnects = [a for a in found["actions"] if a["kind"] == "reconnect"]
    assert reconnects, "the sample's fading ties give reconnects"
    # Independently: the people the user replied to in the raw export, by screen name.
    tweets = [t["tweet"] for t in x_file(X_ARCHIVE, "tweets")]
    replied = {t["in_reply_to_screen_name"] for t in tweets if t.get("in_reply_to_screen_name")}
    assert "iluminatibot" in replied  # a utility bot the user tagged often ...
    for action in reconnects:
        assert action["person"] != "iluminatibot"  # ... is never a tie to reconnect
        assert action["person"] in replied
        assert action["why"].startswith("You wrote to them")
    printed = kompas("today").stdout
    assert "every pillar had a post" not in printed
    assert "habit" not in printed.splitlines()[1]  # no empty habits table


def test_today_on_an_empty_workspace_says_only_that_there_is_no_data(tmp_path: Path) -> None:
    """No "Posts today: 0" and no list of reasons on a store with nothing of the user's:
    one line says there is no data and what brings it, with or without --date."""
    kompas = Kompas(tmp_path / "home")
    for args in (("today",), ("today", "--date", "2026-01-01")):
        result = kompas(*args)
        assert result.exit_code == 0, result.output
        assert result.stdout.strip().splitlines() == [
            "No data yet: import an export with `kompas import ...` (see docs/import.md)."
        ]
