"""The strategy pillar never claims success without data (issue #11): ``review`` has a
top-level status that is "no data" whenever what it would judge is unknown, the default
day is where the data ends, and ``today`` never says "on track" without data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import MASTODON_ARCHIVE, Kompas
from samples import mastodon_file

OUTBOX = mastodon_file(MASTODON_ARCHIVE, "outbox.json")["orderedItems"]
LAST = max(datetime.fromisoformat(i["published"].replace("Z", "+00:00")) for i in OUTBOX)
LAST_DAY = datetime(LAST.year, LAST.month, LAST.day, tzinfo=UTC)


def _posts(since: datetime, until: datetime) -> int:
    return sum(
        1
        for i in OUTBOX
        if since <= datetime.fromisoformat(i["published"].replace("Z", "+00:00")) < until
    )


def _write(kompas: Kompas, key_results: list[str], habits: str = "") -> None:
    kompas.home.mkdir(parents=True, exist_ok=True)
    lines = "\n".join(f"      - {kr}" for kr in key_results)
    text = f"why: test\ngoals:\n  - name: Goal\n    key_results:\n{lines}\n{habits}"
    (kompas.home / "strategy.yaml").write_text(text, encoding="utf-8")


def _review(kompas: Kompas, *args: str) -> dict[str, Any]:
    result = kompas("review", "--week", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_empty_store_is_no_data_never_on_track(kompas: Kompas) -> None:
    assert kompas("strategy", "init").exit_code == 0
    review = _review(kompas)
    assert review["status"] == "no data"
    assert {g["kind"] for g in review["gaps"]} == {"no_data"}
    screen = kompas("review", "--week")
    assert "on track" not in screen.stdout
    assert "Review" in screen.stdout and "no data" in screen.stdout
    assert screen.stdout.startswith("No data yet: import an export")
    for fmt in ("md", "html"):
        rendered = kompas("review", "--week", "--format", fmt).stdout
        assert "on track" not in rendered and "no data" in rendered
    today = kompas("today", "--json")
    assert json.loads(today.stdout)["status"] == "no data"
    assert "on track" not in kompas("today").stdout


def test_default_review_ends_where_the_data_ends(kompas: Kompas) -> None:
    assert kompas("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    _write(kompas, ["community.posts per week >= 1"])
    result = kompas("review", "--week", "--json")
    review = json.loads(result.stdout)
    until = LAST_DAY + timedelta(days=1)
    assert review["period"] == {
        "since": (until - timedelta(days=7)).isoformat(),
        "until": until.isoformat(),
    }
    assert result.stderr.startswith(f"Your data ends {LAST:%Y-%m-%d}; showing the 7 days")
    posts = _posts(until - timedelta(days=7), until)
    assert review["key_results"][0]["value"] == posts > 0
    assert review["status"] == "on track"  # every key result has data and is met
    assert "all 1 key result(s) met" in review["status_reason"]


def test_a_key_result_without_data_is_not_on_track(kompas: Kompas) -> None:
    """Met where measurable, unknown elsewhere: "no data", with the reason and next step."""
    assert kompas("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    _write(kompas, ["community.posts per week >= 1", "community.replies_received per week >= 1"])
    review = _review(kompas)
    assert review["status"] == "no data"
    assert "1 of 2 key result(s) have no data" in review["status_reason"]
    unknown = [g for g in review["gaps"] if g["kind"] == "no_data"]
    assert unknown[0]["name"] == "community.replies_received per week >= 1"
    assert "kompas sync" in unknown[0]["sentence"]  # what would give the data
    screen = kompas("review", "--week")
    assert "no data" in screen.stdout.splitlines()[1]  # the status line, first
    assert "No data:" in screen.stdout and "kompas sync" in screen.stdout


def test_a_missed_key_result_is_off_track(kompas: Kompas) -> None:
    assert kompas("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    _write(kompas, ["community.posts per week >= 100000"])
    review = _review(kompas)
    assert review["status"] == "off track"
    assert review["gaps"][0]["kind"] == "key_result"


def test_today_defaults_to_the_last_day_of_data(kompas: Kompas) -> None:
    assert kompas("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    _write(
        kompas,
        ["community.posts per week >= 1"],
        "habits:\n  - name: Post once a day\n    count: post\n    per: day\n    target: 1\n",
    )
    result = kompas("today", "--json")
    data = json.loads(result.stdout)
    assert data["date"] == f"{LAST:%Y-%m-%d}"
    assert result.stderr.startswith(f"Your data ends {LAST:%Y-%m-%d}; showing that day")
    posts = sum(
        1
        for i in OUTBOX
        if i["type"] == "Create"
        and not i["object"].get("inReplyTo")
        and LAST_DAY
        <= datetime.fromisoformat(i["published"].replace("Z", "+00:00"))
        < LAST_DAY + timedelta(days=1)
    )
    assert data["habits"][0]["done"] == posts
    assert data["status"] == ("on track" if posts >= 1 else "to do")
