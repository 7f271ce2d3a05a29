"""The strategy file: starters, schema, and every way it can be wrong (with the line and
column, and the valid metric names for a bad key result)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Kompas
from kompas.strategy import STYLES, StrategyFileError, parse_strategy, starter
from kompas.strategy.metrics import metric_names
from kompas.strategy.model import OPERATORS, compare
from kompas.strategy.parse import parse_key_result

BASE = """\
why: to learn from people
goals:
  - name: talk more
    key_results:
      - community.replies_given per week >= 20
"""


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_starter_parses_and_uses_community_metrics(style: str, lang: str) -> None:
    text = starter(style, lang)
    strategy = parse_strategy(text)
    assert text.lstrip().startswith("#")  # commented
    assert strategy.key_results and strategy.pillars and strategy.habits
    assert all(kr.metric.startswith("community.") for _, kr in strategy.key_results)
    assert sum(strategy.mix.values()) == pytest.approx(1.0)
    if lang == "fr":
        assert "Pourquoi" in text and "par semaine" in text


def test_init_writes_the_starter_and_refuses_to_overwrite(kompas: Kompas) -> None:
    result = kompas("strategy", "init", "--lang", "fr", "--style", "connector")
    assert result.exit_code == 0, result.output
    written = (kompas.home / "strategy.yaml").read_text(encoding="utf-8")
    assert written == starter("connector", "fr")
    again = kompas("strategy", "init")
    assert again.exit_code == 1
    assert "already exists" in again.stderr
    assert kompas("strategy", "init", "--force").exit_code == 0
    assert (kompas.home / "strategy.yaml").read_text(encoding="utf-8") == starter()
    assert kompas("strategy", "init", "--lang", "de", "--force").exit_code == 2
    checked = kompas("strategy", "check", "--json")
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout)["goals"] == 1


def test_schema_is_published(kompas: Kompas) -> None:
    result = kompas("strategy", "schema")
    schema = json.loads(result.stdout)
    assert schema["required"] == ["why"]
    assert schema["properties"]["pillars"]["items"]["required"] == ["name", "description"]


def _error(text: str) -> StrategyFileError:
    with pytest.raises(StrategyFileError) as caught:
        parse_strategy(text, "strategy.yaml")
    return caught.value


def test_unknown_metric_names_line_column_and_valid_metrics(kompas: Kompas) -> None:
    text = BASE + "      - community.replies_givn >= 3\n"
    error = _error(text)
    assert (error.line, error.column) == (6, 9)
    assert "unknown metric 'community.replies_givn'" in str(error)
    for name in metric_names():
        assert name in str(error)
    # The same through the CLI: exit 1, the message on stderr.
    path = kompas.home / "strategy.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    result = kompas("strategy", "check")
    assert result.exit_code == 1
    assert "line 6, column 9" in result.stderr
    assert "community.reciprocity" in result.stderr


@pytest.mark.parametrize(
    "key_result",
    [
        "community.replies_given per week >= lots",
        "community.replies_given per week 20",
        "community.replies_given per week => 20",
        "community.replies_given per week >= 20 30",
        "community.replies_given per week >= 2O",
    ],
)
def test_malformed_threshold(key_result: str) -> None:
    error = _error(BASE + f"      - {key_result}\n")
    assert (error.line, error.column) == (6, 9)
    assert "malformed threshold" in str(error)
    assert "community.replies_given" in str(error)  # the valid names are listed


def test_pillar_without_description() -> None:
    text = BASE + "pillars:\n  - name: AI\n    keywords: [llm]\n"
    error = _error(text)
    assert (error.line, error.column) == (7, 5)
    assert "'description' is a required property" in str(error)


@pytest.mark.parametrize(
    ("extra", "where", "message"),
    [
        ("mix:\n  conversation: 50%\n  sharing: 30%\n  broadcast: 30%\n", (7, 3), "110%"),
        ("mix:\n  chat: 50%\n", (7, 3), "unknown key 'chat'"),
        (
            "habits:\n  - name: x\n    count: reply\n    tag: q\n    per: day\n    target: 1\n",
            (7, 5),
            "both count and tag",
        ),
        ("habits:\n  - name: x\n    count: shout\n    per: day\n    target: 1\n", (8, 12), "shout"),
        ("colour: blue\n", (6, 1), "unknown key 'colour'"),
    ],
)
def test_other_mistakes_have_positions(extra: str, where: tuple[int, int], message: str) -> None:
    error = _error(BASE + extra)
    assert (error.line, error.column) == where
    assert message in str(error)


def test_per_only_on_counts_and_yaml_syntax_errors() -> None:
    error = _error(BASE + "      - community.reciprocity per week >= 0.4\n")
    assert "not a count" in str(error)
    error = _error("why: [unclosed\n")
    assert error.line >= 1 and "strategy.yaml" in str(error)
    assert "empty" in str(_error(""))


@pytest.mark.parametrize(
    ("written", "op", "target", "per", "percent"),
    [
        ("community.replies_given per week >= 20", ">=", 20.0, "week", False),
        ("community.replies_given per day > 5", ">", 5.0, "day", False),
        ("community.self_promotion per month <= 4", "<=", 4.0, "month", False),
        ("community.unanswered_share < 25%", "<", 0.25, None, True),
        ("community.reciprocity == 0.5", "==", 0.5, None, False),
        ("community.reciprocity ≥ 0,4", ">=", 0.4, None, False),
        ("community.new_connections par mois ≤ 10", "<=", 10.0, "month", False),
    ],
)
def test_key_result_forms(
    written: str, op: str, target: float, per: str | None, percent: bool
) -> None:
    kr = parse_key_result(written)
    assert (kr.op, kr.target, kr.per, kr.percent) == (op, pytest.approx(target), per, percent)


@pytest.mark.parametrize(
    ("op", "below", "at", "above"),
    [
        (">=", False, True, True),
        (">", False, False, True),
        ("<=", True, True, False),
        ("<", True, False, False),
        ("==", False, True, False),
    ],
)
def test_every_operator(op: str, below: bool, at: bool, above: bool) -> None:
    assert op in OPERATORS
    assert compare(19.0, op, 20.0) is below
    assert compare(20.0, op, 20.0) is at
    assert compare(21.0, op, 20.0) is above
    assert compare(0.1 + 0.2, op, 0.3) is at  # float rounding is not a miss
    kr = parse_key_result(f"community.replies_given per week {op} 20")
    assert kr.met(20.0) is at
    assert kr.shortfall(10.0) == (0.0 if compare(10.0, op, 20.0) else pytest.approx(0.5))


def test_file_errors(tmp_path: Path) -> None:
    from kompas.strategy import load_strategy

    with pytest.raises(StrategyFileError, match="no such file"):
        load_strategy(tmp_path / "missing.yaml")
    big = tmp_path / "big.yaml"
    big.write_text("why: x\n" + "#" * 300_000, encoding="utf-8")
    with pytest.raises(StrategyFileError, match="bytes"):
        load_strategy(big)


def test_the_documented_examples_parse() -> None:
    docs = Path(__file__).resolve().parent.parent / "docs" / "strategy.md"
    text = docs.read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```yaml\n")[1:]]
    assert len(blocks) == 2  # the English and the French example
    english, french = (parse_strategy(b) for b in blocks)
    assert english.language == "en" and french.language == "fr"
    assert len(english.key_results) == 5 and len(french.key_results) == 3
    assert any(kr.per == "week" for _, kr in french.key_results)
    assert [h.tag for h in english.habits][-1] == "helped"
