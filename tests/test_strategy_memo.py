"""A strategy file parsed once is remembered (issue #18: `review --week` under 1 s): the
next run builds the same strategy without the YAML parser, the schema validator, the rules
engine or the people pillar, and anything else (a changed file, changed code, a damaged
memo) is parsed and checked again, with its errors where they were."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import X_ARCHIVE, Kompas, run_importing
from kompas.strategy import STYLES, starter
from kompas.strategy import parse as parse_module
from kompas.strategy.parse import StrategyFileError, _from_plain, _parse, parse_strategy

FILES = [starter(style, language) for style in STYLES for language in ("en", "fr")]


@pytest.fixture
def memo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KOMPAS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "strategies.json"


@pytest.mark.parametrize(
    "text", FILES, ids=[f"{s}-{lang}" for s in STYLES for lang in ("en", "fr")]
)
def test_a_remembered_strategy_is_the_parsed_one(memo: Path, text: str) -> None:
    fresh = _parse(text, "strategy.yaml")
    first = parse_strategy(text, "strategy.yaml")
    assert memo.exists()
    second = parse_strategy(text, "elsewhere.yaml")
    assert first == fresh
    assert second == fresh.__class__(**{**_fields(fresh), "path": "elsewhere.yaml"})
    # What the memo holds is JSON, and reads back to the same strategy, positions included.
    entries = json.loads(memo.read_text(encoding="utf-8"))["files"]
    assert [_from_plain(entry, "strategy.yaml") for entry in entries.values()] == [fresh]


def _fields(strategy: object) -> dict[str, object]:
    return {name: getattr(strategy, name) for name in strategy.__dataclass_fields__}  # type: ignore[attr-defined]


def test_a_changed_file_is_parsed_and_checked_again(memo: Path) -> None:
    text = FILES[0]
    parse_strategy(text)
    broken = text.replace("per week >=", "per fortnight >=", 1)
    assert broken != text
    with pytest.raises(StrategyFileError) as caught:
        parse_strategy(broken, "strategy.yaml")
    line = next(n for n, row in enumerate(broken.splitlines(), 1) if "fortnight" in row)
    assert caught.value.line == line
    assert "unknown period 'fortnight'" in str(caught.value)
    # Nothing that failed is remembered.
    assert len(json.loads(memo.read_text(encoding="utf-8"))["files"]) == 1


def test_changed_code_is_a_new_key(memo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = FILES[0]
    key = parse_module._memo_key(text)
    monkeypatch.setattr(parse_module, "PARSE_VERSION", parse_module.PARSE_VERSION + 1)
    assert parse_module._memo_key(text) != key


@pytest.mark.parametrize(
    "entry", [None, [], {"why": "x"}, {"goals": [{"name": "g"}]}, "text", {"why": 1, "goals": 3}]
)
def test_a_damaged_entry_is_parsed_again(memo: Path, entry: object) -> None:
    text = FILES[1]
    memo.parent.mkdir(parents=True)
    key = parse_module._memo_key(text)
    memo.write_text(json.dumps({"version": parse_module.PARSE_VERSION, "files": {key: entry}}))
    assert parse_strategy(text) == _parse(text, "<strategy>")
    remembered = json.loads(memo.read_text())["files"][key]
    assert _from_plain(remembered, "<strategy>") == _parse(text, "<strategy>")


def test_only_the_newest_files_are_kept(memo: Path) -> None:
    texts = [
        FILES[0].replace("why:", f"# {n}\nwhy:", 1) for n in range(parse_module.REMEMBERED + 3)
    ]
    for text in texts:
        parse_strategy(text)
    kept = json.loads(memo.read_text())["files"]
    assert list(kept) == [parse_module._memo_key(t) for t in texts[-parse_module.REMEMBERED :]]


def test_review_with_a_remembered_strategy_loads_no_parser(kompas: Kompas, tmp_path: Path) -> None:
    kompas("import", "x-archive", str(X_ARCHIVE))
    kompas("strategy", "init")
    env = {**os.environ, "KOMPAS_HOME": str(kompas.home), "KOMPAS_CACHE": str(tmp_path / "c")}
    env.pop("KOMPAS_DB", None)

    def review() -> tuple[str, set[str]]:
        return run_importing("review", "--week", env=env)

    first, loaded_first = review()
    second, loaded_second = review()
    assert first == second
    assert {"ruamel.yaml", "jsonschema"} <= loaded_first  # the first run parsed the file
    for module in ("ruamel.yaml", "jsonschema", "kompas.rules.engine", "kompas.people"):
        assert module not in loaded_second, module
