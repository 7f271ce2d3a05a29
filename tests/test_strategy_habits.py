"""Habit counting over a fixed period of the real X sample, against the raw tweets.js
(read by tests/samples.py, sharing no code with kompas)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import X_ARCHIVE, Kompas
from samples import x_file

DAY = datetime(2026, 3, 1, tzinfo=UTC)  # a day inside the sample (Sep 2025 – Mar 2026)
END = DAY + timedelta(days=1)

STRATEGY = """\
why: test habits
habits:
  - name: Reply to 5 people a day
    count: reply
    distinct: people
    per: day
    target: 5
  - name: Share 3 links a week
    count: link
    per: week
    target: 3
  - name: Repost 40 a week
    count: repost
    per: week
    target: 40
  - name: Like 10 a day
    count: like
    per: day
    target: 10
  - name: Ask a question a week
    tag: question
    per: week
    target: 1
"""


def _when(tweet: dict[str, Any]) -> datetime:
    return datetime.strptime(tweet["created_at"], "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kompas]:
    kompas = Kompas(tmp_path_factory.mktemp("habits") / "home")
    assert kompas("import", "x-archive", X_ARCHIVE).exit_code == 0
    (kompas.home / "strategy.yaml").write_text(STRATEGY, encoding="utf-8")
    yield kompas


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    tweets = [t["tweet"] for t in x_file(X_ARCHIVE, "tweets")]
    me = x_file(X_ARCHIVE, "account")[0]["account"]["accountId"]
    return {"tweets": tweets, "me": me}


def _people_replied(raw: dict[str, Any], since: datetime, until: datetime) -> int:
    return len(
        {
            t["in_reply_to_user_id_str"]
            for t in raw["tweets"]
            if since <= _when(t) < until
            and t.get("in_reply_to_status_id_str")
            and not t["full_text"].startswith("RT @")
            and t.get("in_reply_to_user_id_str")
            and t["in_reply_to_user_id_str"] != raw["me"]
        }
    )


def _links(raw: dict[str, Any], since: datetime, until: datetime) -> int:
    return sum(
        1
        for t in raw["tweets"]
        if since <= _when(t) < until
        and not t["full_text"].startswith("RT @")
        and any(u.get("expanded_url") for u in t.get("entities", {}).get("urls") or [])
    )


def _reposts(raw: dict[str, Any], since: datetime, until: datetime) -> int:
    return sum(
        1 for t in raw["tweets"] if since <= _when(t) < until and t["full_text"].startswith("RT @")
    )


def _streak(met: list[bool], open_window: bool) -> tuple[int, int]:
    tail = met[:-1] if open_window and not met[-1] else met
    streak = 0
    for hit in reversed(tail):
        if not hit:
            break
        streak += 1
    best = run = 0
    for hit in met:
        run = run + 1 if hit else 0
        best = max(best, run)
    return streak, best


def _by_name(habits: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {h["name"]: h for h in habits}


def test_today_counts_habits_from_the_raw_archive(workspace: Kompas, raw: dict[str, Any]) -> None:
    result = workspace("today", "--json", "--date", "2026-03-01")
    assert result.exit_code == 0, result.output
    today = json.loads(result.stdout)
    assert today["date"] == "2026-03-01"
    habits = _by_name(today["habits"])

    replies = habits["Reply to 5 people a day"]
    assert replies["done"] == _people_replied(raw, DAY, END)
    assert replies["left"] == max(0, 5 - replies["done"])
    days = [END - timedelta(days=n) for n in range(60, 0, -1)]
    met = [_people_replied(raw, d, d + timedelta(days=1)) >= 5 for d in days]
    assert (replies["streak"], replies["best_streak"]) == _streak(met, open_window=True)
    assert replies["windows_met"] == sum(met)

    week = END - timedelta(days=7)
    assert habits["Share 3 links a week"]["done"] == _links(raw, week, END)
    assert habits["Repost 40 a week"]["done"] == _reposts(raw, week, END)
    weeks = [END - timedelta(days=7 * n) for n in range(12, 0, -1)]
    met = [_reposts(raw, w, w + timedelta(days=7)) >= 40 for w in weeks]
    reposts = habits["Repost 40 a week"]
    assert (reposts["streak"], reposts["best_streak"]) == _streak(met, open_window=True)

    # X likes carry no date: "no data" with the reason, never 0.
    likes = habits["Like 10 a day"]
    assert likes["done"] is None and likes["status"] == "no data"
    assert "none of them dated" in likes["reason"]
    # No rules file: a tag habit has no data, and says why.
    question = habits["Ask a question a week"]
    assert question["done"] is None and "rules" in question["reason"]

    assert today["posts"]["total"] == sum(
        1 for t in raw["tweets"] if DAY <= _when(t) < END and not t["full_text"].startswith("RT @")
    )
    assert isinstance(today["suggestion"], str) and today["suggestion"]


def test_review_habits_over_the_same_week(workspace: Kompas, raw: dict[str, Any]) -> None:
    result = workspace("review", "--week", "--json", "--date", "2026-03-01")
    assert result.exit_code == 0, result.output
    habits = _by_name(json.loads(result.stdout)["habits"])
    assert habits["Reply to 5 people a day"]["done"] == _people_replied(raw, DAY, END)
    assert habits["Share 3 links a week"]["done"] == _links(raw, END - timedelta(days=7), END)
    assert habits["Like 10 a day"]["done"] is None


def test_today_text_and_bad_date(workspace: Kompas, tmp_path: Path) -> None:
    result = workspace("today", "--date", "2026-03-01")
    assert result.exit_code == 0, result.output
    assert "Reply to 5 people a day" in result.stdout
    bad = workspace("today", "--date", "March 1st")
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.stderr
    missing = workspace("today", "--file", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 1 and "kompas strategy init" in missing.stderr


RULES = """\
version: 1
default: keep
rules:
  - name: conversations
    when: {kind: reply}
    then: {tag: conversation}
"""
TAG_STRATEGY = """\
why: talk with people
habits:
  - name: Converse 100 times a week
    tag: conversation
    per: week
    target: 100
"""


def test_tag_habits_count_through_the_rules_file(workspace: Kompas, raw: dict[str, Any]) -> None:
    rules = workspace.home / "rules.yaml"
    strategy = workspace.home / "tags.yaml"
    strategy.write_text(TAG_STRATEGY, encoding="utf-8")
    rules.write_text(RULES, encoding="utf-8")
    try:
        result = workspace("today", "--json", "--date", "2026-03-01", "--file", strategy)
    finally:
        rules.unlink()
    assert result.exit_code == 0, result.output
    habit = json.loads(result.stdout)["habits"][0]
    week = END - timedelta(days=7)
    replies = sum(
        1
        for t in raw["tweets"]
        if week <= _when(t) < END
        and t.get("in_reply_to_status_id_str")
        and not t["full_text"].startswith("RT @")
    )
    assert habit["done"] == replies and habit["reason"] is None
