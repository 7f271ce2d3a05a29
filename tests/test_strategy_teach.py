"""``kompas strategy teach``: a correction is stored in the workspace's database and
changes the next alignment of similar posts, on the real Mastodon sample; and the
evaluation split never puts a post and its translation on both sides."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import DATA, MASTODON_ARCHIVE, Kompas
from samples import mastodon_file

STRATEGY = """\
why: Write about the open web, and stay a person.
pillars:
  - name: Web
    description: the open web, blogs, browsers and Linux
    keywords: [blog, web, firefox, linux, browser]
    examples:
      - Moved my blog to a static site generator.
  - name: Life
    description: family, walks, bike rides and small joys
    keywords: [family, walk, ride, kids]
    examples:
      - Rode forty miles this morning and napped all afternoon.
"""


def _text(item: dict[str, Any]) -> str:
    return str(item["object"].get("content") or "") if item["type"] == "Create" else ""


@pytest.fixture(scope="module")
def coffee_posts() -> list[str]:
    """The ids of the sample's own posts about coffee, read from the raw outbox."""
    items = mastodon_file(MASTODON_ARCHIVE, "outbox.json")["orderedItems"]
    return [
        str(item["object"]["id"])
        for item in items
        if item["type"] == "Create" and "coffee" in _text(item).lower()
    ]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kompas]:
    kompas = Kompas(tmp_path_factory.mktemp("teach") / "home")
    assert kompas("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    (kompas.home / "strategy.yaml").write_text(STRATEGY, encoding="utf-8")
    yield kompas


def _alignments(kompas: Kompas) -> dict[str, dict[str, Any]]:
    result = kompas("strategy", "align", "--json", "--days", "2000", "--date", "2024-07-14")
    assert result.exit_code == 0, result.output
    return {row["post"]: row for row in json.loads(result.stdout)}


def _life(rows: dict[str, dict[str, Any]], ids: list[str]) -> int:
    return sum(
        1 for i in ids if any(p["pillar"] == "life" for p in rows[f"mastodon:{i}"]["pillars"])
    )


def test_a_correction_changes_the_alignment_of_similar_posts(
    workspace: Kompas, coffee_posts: list[str]
) -> None:
    assert len(coffee_posts) >= 8
    before = _alignments(workspace)
    taught, others = coffee_posts[:3], coffee_posts[3:]
    for post in taught:
        result = workspace("strategy", "teach", f"mastodon:{post}", "life", "--json")
        assert result.exit_code == 0, result.output
        answer = json.loads(result.stdout)
        assert answer["post"] == f"mastodon:{post}" and answer["pillars"] == ["life"]
        assert answer["after"] == ["life"]
    assert answer["corrections"] == 3
    after = _alignments(workspace)
    for post in taught:  # what the user said, exactly, and said why
        row = after[f"mastodon:{post}"]
        assert [p["pillar"] for p in row["pillars"]] == ["life"]
        assert "you taught kompas" in row["reason"]
    # The coffee posts kompas was not told about now lean to the pillar they were
    # taught: more of them serve "life" than before.
    assert _life(after, others) > _life(before, others)
    assert all(
        "learnt from your corrections" in p["reason"]
        for p in after[f"mastodon:{others[0]}"]["pillars"]
    )


def test_none_and_bad_corrections(workspace: Kompas, coffee_posts: list[str]) -> None:
    post = f"mastodon:{coffee_posts[-1]}"
    result = workspace("strategy", "teach", post, "--none", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["after"] == []
    assert _alignments(workspace)[post]["pillars"] == []
    unknown_pillar = workspace("strategy", "teach", post, "cooking")
    assert unknown_pillar.exit_code == 1 and "unknown pillar 'cooking'" in unknown_pillar.stderr
    unknown_post = workspace("strategy", "teach", "mastodon:nope", "life")
    assert unknown_post.exit_code == 1 and "no post of yours" in unknown_post.stderr
    assert workspace("strategy", "teach", post).exit_code == 2
    assert workspace("strategy", "teach", post, "life", "--none").exit_code == 2


def _bench() -> Any:
    path = Path(__file__).parent.parent / "bench" / "strategy_alignment.py"
    spec = importlib.util.spec_from_file_location("strategy_alignment_bench", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_split_keeps_each_translation_with_its_original() -> None:
    bench = _bench()
    for folder in sorted((DATA / "alignment").iterdir()):
        if not (folder / "labelled.jsonl").is_file():
            continue
        records, _strategy = bench.load(folder.name)
        fold_of = bench.folds(records)
        where = {r["id"]: f for r, f in zip(records, fold_of, strict=True)}
        translated = [r for r in records if r.get("translation_of")]
        for record in translated:
            assert where[record["id"]] == where[record["translation_of"]], record["id"]
        sizes = [fold_of.count(f) for f in range(bench.FOLDS)]
        assert min(sizes) >= 0.6 * max(sizes), sizes
        # A draw of corrections only ever takes posts from the folds it is given.
        train = [r for r, f in zip(records, fold_of, strict=True) if f != 0]
        labels = sorted({label for r in records for label in r["labels"]})
        drawn = bench.draw(train, labels, 5, __import__("random").Random(0))
        assert {c.post for c in drawn} <= {r["id"] for r in train}
