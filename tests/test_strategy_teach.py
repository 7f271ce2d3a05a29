"""``kompas strategy teach``: a correction is stored in the workspace's database and
changes the next alignment of similar posts, on the real Mastodon sample; the dashboard's
"right / wrong, it is X" buttons store the same corrections; and the evaluation split
never puts a post and its translation on both sides."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import warnings
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette suggests httpx2; httpx works
    from fastapi.testclient import TestClient

from conftest import DATA, MASTODON_ARCHIVE, WEB_AND_LIFE_STRATEGY, Kompas
from kompas.store.strategy import corrections
from kompas.web import create_app
from kompas.web.security import CSRF_COOKIE
from kompas.workspace import Workspace
from samples import mastodon_file


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
    (kompas.home / "strategy.yaml").write_text(WEB_AND_LIFE_STRATEGY, encoding="utf-8")
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
    answers = []
    for post in taught:
        result = workspace("strategy", "teach", f"mastodon:{post}", "life", "--json")
        assert result.exit_code == 0, result.output
        answer = json.loads(result.stdout)
        assert answer["post"] == f"mastodon:{post}" and answer["pillars"] == ["life"]
        assert answer["after"] == ["life"]
        answers.append(answer)
    assert answer["corrections"] == 3
    # One correction moves the posts like it, not the whole history: a model fitted on a
    # single post must not re-decide most of the 1,255 posts (it re-decided 80% before
    # it started from the rule-based verdict).
    assert 0 < answers[0]["changed"] < answers[0]["of"] / 4
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


# --- the dashboard's "right / wrong, it is X" buttons ------------------------------------

ROW = re.compile(r'<tr data-post="([^"]+)" data-labels="([^"]*)" data-taught="(\w+)">')
PERIOD = {"date": "2024-07-14", "days": "30"}


def _rows(html: str) -> dict[str, tuple[list[str], bool]]:
    return {
        unescape(post): (labels.split(), taught == "true")
        for post, labels, taught in ROW.findall(html)
    }


def test_dashboard_buttons_store_corrections_like_teach(tmp_path: Path, db_url: str) -> None:
    cli = Kompas(tmp_path / "home", db_url)
    assert cli("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    (cli.home / "strategy.yaml").write_text(WEB_AND_LIFE_STRATEGY, encoding="utf-8")
    workspace = Workspace.resolve(cli.home, db_url)
    cli_rows = {
        row["post"]: [p["pillar"] for p in row["pillars"]]
        for row in json.loads(
            cli("strategy", "align", "--json", "--days", "30", "--date", "2024-07-14").stdout
        )
    }
    with TestClient(
        create_app(workspace.engine, home=workspace.home), base_url="http://127.0.0.1:8765"
    ) as browser:
        page = browser.get("/strategy?date=2024-07-14&days=30")
        assert page.status_code == 200
        shown = _rows(page.text)
        # The table lists the period's posts with exactly the pillars `strategy align` gives.
        assert len(shown) == min(50, len(cli_rows))
        assert all(cli_rows[post] == labels for post, (labels, _) in shown.items())
        assert 'name="csrf_token"' in page.text and "Wrong, it is" in page.text
        token = browser.cookies[CSRF_COOKIE]
        unaligned = next(post for post, (labels, _) in shown.items() if not labels)
        aligned = next(post for post, (labels, _) in shown.items() if labels)
        wrong = {**PERIOD, "post": unaligned, "verdict": "wrong", "pillar": "life"}

        # Without the CSRF token, or from another origin: refused, nothing stored.
        assert browser.post("/strategy/teach", data=wrong).status_code == 403
        forged = browser.post(
            "/strategy/teach", data=wrong, headers={"X-CSRF-Token": token, "Origin": "https://x.y"}
        )
        assert forged.status_code == 403
        # "Wrong" without choosing the pillar: said on the page, nothing stored.
        unchosen = browser.post(
            "/strategy/teach",
            data={**wrong, "pillar": ""},
            headers={"X-CSRF-Token": token, "HX-Request": "true"},
        )
        assert unchosen.status_code == 200 and 'class="problem"' in unchosen.text
        unknown = browser.post(
            "/strategy/teach",
            data={**wrong, "pillar": "cooking"},
            headers={"X-CSRF-Token": token, "HX-Request": "true"},
        )
        assert "unknown pillar &#39;cooking&#39;" in unknown.text
        with workspace.engine.connect() as connection:
            assert corrections(connection) == []

        # "Wrong, it is life" over HTMX: the report comes back with the new alignment.
        taught = browser.post(
            "/strategy/teach", data=wrong, headers={"X-CSRF-Token": token, "HX-Request": "true"}
        )
        assert taught.status_code == 200
        assert taught.text.lstrip().startswith('<div id="strategy-report">')
        assert _rows(taught.text)[unaligned] == (["life"], True)
        notice = re.search(r'id="teach-notice">(.*?)</p>', taught.text, re.S)
        assert notice is not None and "1 correction so far" in unescape(notice.group(1))

        # "Right" on an aligned post, without HTMX: stored as shown, back to the page.
        right = browser.post(
            "/strategy/teach",
            data={
                **PERIOD,
                "post": aligned,
                "verdict": "right",
                "shown": shown[aligned][0],
                "csrf_token": token,
            },
            follow_redirects=False,
        )
        assert right.status_code == 303
        assert right.headers["location"] == "/strategy?days=30&date=2024-07-14"
        after = _rows(browser.get(right.headers["location"]).text)
        assert after[aligned] == (shown[aligned][0], True)
        french = browser.get("/strategy?date=2024-07-14&days=30&lang=fr").text
        assert "Faux, c’est" in french and "vous avez appris à kompas" in french

    # Stored exactly as `kompas strategy teach` stores it, and the CLI now says so too.
    with workspace.engine.connect() as connection:
        stored = {f"{c.platform}:{c.post_id}": list(c.pillars) for c in corrections(connection)}
    assert stored == {unaligned: ["life"], aligned: sorted(shown[aligned][0])}
    rows = {
        row["post"]: row
        for row in json.loads(
            cli("strategy", "align", "--json", "--days", "30", "--date", "2024-07-14").stdout
        )
    }
    assert [p["pillar"] for p in rows[unaligned]["pillars"]] == ["life"]
    assert "you taught kompas" in rows[unaligned]["reason"]
