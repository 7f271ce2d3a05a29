"""The strategy's pillar texts come back on every run: their detected languages are
remembered, so `kompas review` and `today` do not load py3langid's model (0.5 s) each time,
and what is remembered is what detection says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kompas import memo as memos
from kompas.strategy import language
from kompas.strategy.alignment import Aligner, pillar_languages
from kompas.strategy.model import Pillar

TEXTS = [
    "Writing about the open web, blogs, browsers and the people who build them.",
    "Des balades en famille, des vélos et les petites joies du quotidien.",
    "Datenanalyse, Diagramme und Visualisierung offener Daten aus der Stadt.",
    "short",
    "数据分析、图表和可视化。",
]


@pytest.fixture
def memo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KOMPAS_CACHE", str(tmp_path / "cache"))
    language._identifier.cache_clear()
    return tmp_path / "cache" / "languages.json"


def test_remembered_answers_are_detections_and_skip_the_model(memo: Path) -> None:
    fresh = language.detect_many(TEXTS)
    assert [found for found, _ in fresh[:3]] == ["en", "fr", "de"]
    language._identifier.cache_clear()

    first = language.detect_remembered(TEXTS)
    assert first == fresh
    assert language._identifier.cache_info().currsize > 0  # the model was needed once
    assert memo.exists()

    language._identifier.cache_clear()
    second = language.detect_remembered(TEXTS)
    assert second == fresh
    assert language._identifier.cache_info().currsize == 0  # never loaded this time


def test_a_new_text_is_detected_and_added(memo: Path) -> None:
    language.detect_remembered(TEXTS[:2])
    found = language.detect_remembered(TEXTS)
    assert found == language.detect_many(TEXTS)
    assert len(json.loads(memo.read_text())["texts"]) == len(TEXTS)


@pytest.mark.parametrize(
    "content",
    ['{"version": 1, "texts": {"x": ["en"]}', "[1, 2]", '{"version": 0, "texts": {}}', "\x00"],
)
def test_a_damaged_or_old_memo_is_only_not_used(memo: Path, content: str) -> None:
    memo.parent.mkdir(parents=True)
    memo.write_text(content)
    assert language.detect_remembered(TEXTS) == language.detect_many(TEXTS)
    assert json.loads(memo.read_text())["version"] == language.MEMO_VERSION


def test_a_wrong_remembered_entry_is_asked_again(memo: Path) -> None:
    language.detect_remembered(TEXTS)
    saved = json.loads(memo.read_text())
    key = next(iter(saved["texts"]))
    saved["texts"][key] = "not a pair"
    memo.write_text(json.dumps(saved))
    assert language.detect_remembered(TEXTS) == language.detect_many(TEXTS)


def test_an_unwritable_cache_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("KOMPAS_CACHE", str(blocker / "cache"))
    assert language.detect_remembered(TEXTS) == language.detect_many(TEXTS)


def test_pillar_languages_are_the_same_remembered(memo: Path) -> None:
    pillars = [
        Pillar(id="web", name="Web", description=TEXTS[0], examples=(TEXTS[2],)),
        Pillar(id="life", name="Life", description=TEXTS[1], keywords=("vélo",)),
    ]
    first = pillar_languages(pillars)
    assert {"en", "fr", "de"} <= first
    language._identifier.cache_clear()
    assert pillar_languages(pillars) == first
    assert language._identifier.cache_info().currsize == 0


def test_tagged_texts_need_no_memo_and_the_rest_are_remembered(memo: Path) -> None:
    declared = ["en-GB", None, "und", "qam", None]
    fresh = language.detect_many(TEXTS, declared)
    assert fresh[0] == ("en", "platform")
    language._identifier.cache_clear()
    assert language.detect_remembered(TEXTS, declared, name="posts") == fresh
    posts_memo = memo.with_name("posts.json")
    assert len(json.loads(posts_memo.read_text())["texts"]) == 4  # the tagged one is not kept
    language._identifier.cache_clear()
    assert language.detect_remembered(TEXTS, declared, name="posts") == fresh
    assert language._identifier.cache_info().currsize == 0
    assert not memo.exists()  # the pillars' memo is another file


def test_only_the_newest_answers_are_kept(memo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(language, "MEMO_TEXTS", 3)
    assert language.detect_remembered(TEXTS) == language.detect_many(TEXTS)
    kept = list(json.loads(memo.read_text())["texts"])
    assert kept == [memos.digest(text) for text in TEXTS[-3:]]
    # One that aged out is detected again, and comes back as the newest.
    assert language.detect_remembered(TEXTS[:1]) == language.detect_many(TEXTS[:1])
    kept = list(json.loads(memo.read_text())["texts"])
    assert kept == [memos.digest(text) for text in [*TEXTS[-2:], TEXTS[0]]]


def test_a_review_week_aligned_again_loads_no_model(memo: Path) -> None:
    pillars = (
        Pillar(id="web", name="Web", description=TEXTS[0]),
        Pillar(id="life", name="Life", description=TEXTS[1]),
    )
    posts = [*TEXTS, "Un petit tour à vélo ce matin, avant le travail et la pluie."]
    first = Aligner(pillars).align_many(posts, languages=[None] * len(posts))
    assert any(found.language_source == "detected" for found in first)
    language._identifier.cache_clear()
    again = Aligner(pillars).align_many(posts, languages=[None] * len(posts))
    assert again == first
    assert language._identifier.cache_info().currsize == 0
