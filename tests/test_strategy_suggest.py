"""``kompas strategy suggest`` and ``strategy init --from-history`` on the real Mastodon
sample: the pillars cover most posts, every example is one of the user's own posts (read
from the raw outbox), and the written strategy.yaml aligns most posts to some pillar."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest

from conftest import MASTODON_ARCHIVE, Kompas
from kompas.strategy.suggest import suggest, terms
from samples import mastodon_file


def _plain(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture(scope="module")
def own_posts() -> dict[str, str]:
    """The user's own posts with text (content warning, then content), by id, from the
    raw outbox."""
    items = mastodon_file(MASTODON_ARCHIVE, "outbox.json")["orderedItems"]
    found = {}
    for item in items:
        if item["type"] == "Create":
            post = item["object"]
            text = _plain(str(post.get("summary") or "") + " " + str(post.get("content") or ""))
            if _plain(str(post.get("content") or "")):
                found[str(post["id"])] = text
    return found


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kompas]:
    kompas = Kompas(tmp_path_factory.mktemp("suggest") / "home")
    assert kompas("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    yield kompas


def test_suggested_pillars_cover_most_posts_with_the_users_own_examples(
    workspace: Kompas, own_posts: dict[str, str]
) -> None:
    result = workspace("strategy", "suggest", "--json")
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.stdout)
    assert found["posts"] == len(own_posts)
    assert 3 <= len(found["pillars"]) <= 6
    assert found["covered"] >= 0.8
    assert sum(p["posts"] for p in found["pillars"]) / len(own_posts) == pytest.approx(
        found["covered"], abs=1e-3
    )
    ids = [p["id"] for p in found["pillars"]]
    assert len(set(ids)) == len(ids)
    for pillar in found["pillars"]:
        assert pillar["name"] and len(pillar["keywords"]) >= 3
        assert len(pillar["examples"]) == 3
        for example in pillar["examples"]:
            platform, _, post_id = example["post"].partition(":")
            assert platform == "mastodon" and post_id in own_posts
            raw = re.sub(r"\s+", "", own_posts[post_id])
            assert re.sub(r"\s+", "", example["text"][:30]) in raw
        # Each keyword is a term of at least one of the pillar's example posts' history.
        assert any(
            k in terms(own_posts[e["post"].partition(":")[2]])
            for k in pillar["keywords"]
            for e in pillar["examples"]
        )


def test_init_from_history_writes_the_suggested_pillars(workspace: Kompas) -> None:
    assert workspace("strategy", "init").exit_code == 0
    again = workspace("strategy", "init", "--from-history")
    assert again.exit_code == 1 and "already exists" in again.stderr
    suggested = json.loads(workspace("strategy", "suggest", "--pillars", "4", "--json").stdout)
    result = workspace("strategy", "init", "--from-history", "--pillars", "4", "--force")
    assert result.exit_code == 0, result.output
    assert "Pillars proposed from" in result.stdout
    check = workspace("strategy", "check", "--json")
    assert check.exit_code == 0, check.output
    assert json.loads(check.stdout)["pillars"] == [p["id"] for p in suggested["pillars"]]
    aligned = workspace("strategy", "align", "--json", "--days", "2000", "--date", "2024-07-14")
    rows = json.loads(aligned.stdout)
    used = {p["pillar"] for r in rows for p in r["pillars"]}
    assert used == {p["id"] for p in suggested["pillars"]}  # every proposed pillar is served


def test_suggest_refuses_too_few_posts_and_bad_counts() -> None:
    from kompas.strategy.suggest import SuggestError

    with pytest.raises(SuggestError, match="only 0 of your posts"):  # terms seen once go
        suggest(["hello world data", "more data here"], ["a", "b"])
    with pytest.raises(SuggestError, match="between 3 and 6"):
        suggest(["x"], ["a"], pillars=9)


def test_cjk_posts_get_character_pair_terms() -> None:
    assert terms("我们做了数据可视化") == [
        "我们",
        "们做",
        "做了",
        "了数",
        "数据",
        "据可",
        "可视",
        "视化",
    ]
