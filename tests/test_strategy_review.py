"""``kompas review``: the JSON's contents against the raw Mastodon archive, "no data"
never shown as 0, and the Markdown and self-contained HTML renderings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from conftest import MASTODON_ARCHIVE, Kompas
from samples import mastodon_file

DATE = "2024-07-14"  # inside the Mastodon sample (Nov 2022 – Jul 2024)
UNTIL = datetime(2024, 7, 15, tzinfo=UTC)
SINCE = UNTIL - timedelta(days=7)


def _published(item: dict[str, Any]) -> datetime:
    value = item["object"].get("published") if item["type"] == "Create" else None
    value = value or item["published"]
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


@pytest.fixture(scope="module")
def outbox() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = mastodon_file(MASTODON_ARCHIVE, "outbox.json")["orderedItems"]
    return items


@pytest.fixture(scope="module")
def posts_in_week(outbox: list[dict[str, Any]]) -> int:
    return sum(1 for item in outbox if SINCE <= _published(item) < UNTIL)


def _strategy(posts: int) -> str:
    return f"""\
why: Learn in public & help <people>
goals:
  - name: Show up
    key_results:
      - community.posts per week >= {posts}
      - community.posts per week > {posts}
      - community.posts per week <= {posts}
      - community.posts per week < {posts}
      - community.posts per week == {posts}
  - name: Be answered
    key_results:
      - community.replies_received per week >= 1
pillars:
  - name: <script>alert(1)</script> Web
    description: the open web, blogs, browsers and Linux
    keywords: [blog, web, firefox, linux]
  - name: Music
    description: songs, albums, concerts, covers and bandcamp
    keywords: [song, album, music, bandcamp]
mix:
  conversation: 50%
  sharing: 30%
  broadcast: 20%
habits:
  - name: Boost 3 a week
    count: repost
    per: week
    target: 3
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, posts_in_week: int) -> Iterator[Kompas]:
    kompas = Kompas(tmp_path_factory.mktemp("review") / "home")
    assert kompas("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    (kompas.home / "strategy.yaml").write_text(_strategy(posts_in_week), encoding="utf-8")
    yield kompas


@pytest.fixture(scope="module")
def review(workspace: Kompas) -> dict[str, Any]:
    result = workspace("review", "--week", "--json", "--date", DATE)
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def test_review_json_keys_and_period(review: dict[str, Any]) -> None:
    for key in ("key_results", "mix", "habits", "pillars", "gaps", "unaligned"):
        assert key in review
    assert review["period"] == {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}


def test_every_operator_against_the_raw_count(review: dict[str, Any], posts_in_week: int) -> None:
    assert posts_in_week > 0
    results = {k["key_result"]: k for k in review["key_results"]}
    expected = {">=": "met", ">": "missed", "<=": "met", "<": "missed", "==": "met"}
    for op, status in expected.items():
        kr = results[f"community.posts per week {op} {posts_in_week}"]
        assert kr["value"] == posts_in_week
        assert kr["status"] == status, kr
        assert kr["target"] == posts_in_week
        assert len(kr["trend"]) == 6 and kr["trend"][-1]["value"] == posts_in_week
        assert kr["direction"] in ("up", "down", "flat")


def test_missing_data_is_no_data_not_zero(review: dict[str, Any]) -> None:
    received = next(k for k in review["key_results"] if "replies_received" in k["metric"])
    assert received["value"] is None
    assert received["status"] == "no data" and received["met"] is None
    assert "no data" in received["reason"]
    assert all(point["value"] is None for point in received["trend"])


def test_mix_pillars_habits_unaligned_and_gaps(
    review: dict[str, Any], outbox: list[dict[str, Any]]
) -> None:
    mix = {row["kind"]: row for row in review["mix"]}
    assert [mix[k]["target"] for k in ("conversation", "sharing", "broadcast")] == [0.5, 0.3, 0.2]
    assert sum(row["actual"] for row in review["mix"]) <= 1.0 + 1e-9
    creates = [i for i in outbox if i["type"] == "Create" and SINCE <= _published(i) < UNTIL]
    announces = [i for i in outbox if i["type"] == "Announce" and SINCE <= _published(i) < UNTIL]
    assert review["unaligned"]["of"] == len(creates)
    assert 0 <= review["unaligned"]["posts"] <= len(creates)
    assert [p["name"] for p in review["pillars"]][1] == "Music"
    assert all(0 <= p["posts"] <= len(creates) for p in review["pillars"])
    habit = review["habits"][0]
    assert habit["done"] == len(announces)
    measured = [g for g in review["gaps"] if g["kind"] != "no_data"]
    assert len(measured) <= 3
    sizes = [g["size"] for g in measured]
    assert sizes == sorted(sizes, reverse=True)
    kinds = {"key_result", "mix", "habit", "pillar", "unaligned"}
    assert all(g["kind"] in kinds and g["sentence"] for g in measured)
    # What cannot be measured is listed after the gaps, with why.
    unknown = review["gaps"][len(measured) :]
    assert unknown and all(g["kind"] == "no_data" and "no data (" in g["sentence"] for g in unknown)
    assert review["status"] == "off track"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.ids: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs
        self.ids |= {v for k, v in attrs if k == "id" and v}

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_review_is_self_contained_with_charts(workspace: Kompas, tmp_path: Path) -> None:
    target = tmp_path / "review.html"
    result = workspace("review", "--week", "--format", "html", "--date", DATE, "-o", target)
    assert result.exit_code == 0, result.output
    page = target.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(page)
    assert parser.tags[0] == "html" and "svg" in parser.tags
    assert parser.tags.count("svg") == 6 + 1  # one chart per key result, and the mix
    assert "polyline" in parser.tags and "rect" in parser.tags
    assert {"gaps", "key-results", "mix", "pillars", "habits", "unaligned"} <= parser.ids
    assert "script" not in parser.tags and "link" not in parser.tags
    for name, value in parser.attributes:
        assert name not in ("src", "href"), (name, value)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Learn in public &amp; help &lt;people&gt;" in page
    assert "no data" in "".join(parser.text)


def test_markdown_and_screen_review(workspace: Kompas) -> None:
    md = workspace("review", "--week", "--format", "md", "--date", DATE)
    assert md.exit_code == 0, md.output
    for heading in (
        "## Biggest gaps",
        "## Key results",
        "## Mix",
        "## Pillars",
        "## Habits",
        "## Unaligned activity",
    ):
        assert heading in md.stdout
    assert "| no data |" in md.stdout
    screen = workspace("review", "--date", DATE)
    assert screen.exit_code == 0, screen.output
    assert "Biggest gaps" in screen.stdout and "no data" in screen.stdout


def test_usage_errors(workspace: Kompas) -> None:
    assert workspace("review", "--week", "--month").exit_code == 2
    assert workspace("review", "--format", "pdf").exit_code == 2
    assert workspace("review", "--json", "--format", "md").exit_code == 2


def test_align_lists_posts_with_reasons(workspace: Kompas) -> None:
    result = workspace("strategy", "align", "--json", "--date", DATE)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all("reason" in row and "pillars" in row for row in rows)
    metrics = json.loads(workspace("strategy", "metrics", "--json").stdout)
    assert any(m["name"] == "community.reciprocity" and m["kind"] == "ratio" for m in metrics)


def test_a_week_before_any_data_is_no_data_never_zero(workspace: Kompas) -> None:
    result = workspace("review", "--week", "--json", "--date", "2010-01-01")
    assert result.exit_code == 0, result.output
    review = json.loads(result.stdout)
    assert all(k["value"] is None and k["status"] == "no data" for k in review["key_results"])
    assert all(row["actual"] is None for row in review["mix"])
    habit = review["habits"][0]
    assert habit["done"] is None and "outside the period your data covers" in habit["reason"]
    assert all(g["kind"] != "key_result" for g in review["gaps"])
    assert review["status"] == "no data"
    assert "nothing in this period can be measured" in review["status_reason"]
