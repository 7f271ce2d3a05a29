"""The strategy's pillar texts come back on every run: their detected languages are
remembered, so `kompas review` and `today` do not load py3langid's model (0.5 s) each time,
and what is remembered is what detection says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kompas.strategy import language
from kompas.strategy.alignment import pillar_languages
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
