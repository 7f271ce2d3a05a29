"""Regexes are checked before they are compiled (nesting and size of repetitions) and
searched within a time budget per item and per run (issue #17)."""

from __future__ import annotations

import resource
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kompas.rules import Item, RuleFileError, compile_rules
from kompas.rules.regexes import MAX_COUNT, Budget, PatternError, check, compile_pattern

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
TEMPLATES = Path(__file__).parents[1] / "src" / "kompas" / "rules" / "templates"


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("(a+)+$", "repetition inside a repetition"),
        ("(x+x+)+y", "repetition inside a repetition"),
        ("((a{1000}){1000}){1000}", "repetition inside a repetition"),
        ("(?:a?){30}a{30}", "repetition inside a repetition"),
        ("(a*)*", "repetition inside a repetition"),
        ("(?:(?:ab)+c)+", "repetition inside a repetition"),
        ("(?:abc){1001}", f"repetition count above {MAX_COUNT}"),
        ("(?:abcdefghij){4294967294}", "repetition count above"),
        (r"\p{L}+", "re syntax"),
        ("(unclosed", "re syntax"),
    ],
)
def test_refused_patterns(pattern: str, why: str) -> None:
    with pytest.raises(PatternError, match=why.replace("(", r"\(")):
        check(pattern)


def test_a_refused_pattern_names_its_line_in_the_rules_file() -> None:
    with pytest.raises(RuleFileError) as caught:
        compile_rules("rules:\n  - name: r\n    when: {text_regex: '(a+)+'}\n    then: {tag: x}\n")
    assert "line 3" in str(caught.value) and "repetition inside a repetition" in str(caught.value)


def test_every_template_pattern_and_common_ones_are_admitted() -> None:
    for path in TEMPLATES.glob("*.yaml"):
        compile_rules(path.read_text(encoding="utf-8"))  # raises if one were refused
    for pattern in (r"\?\s*$", r"(?i)\b(nft|airdrop)s?\b", "[A-Z]{6,}|!!", "(?:ab){1000}"):
        check(pattern)


def test_the_largest_admitted_patterns_compile_in_bounded_time_and_memory() -> None:
    # 500 characters (the schema's limit) of the costliest admitted shape.
    worst = ["(?:abcdefghi){1000}" * 26, "[a-z]{1000}" * 45, "(?:a|b|c|d){1000}" * 29]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.process_time()
    for pattern in worst:
        compile_pattern(pattern[:500].rpartition("}")[0] + "}")
    assert time.process_time() - started < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB


def test_a_spent_run_budget_keeps_and_tags_the_items_it_could_not_judge() -> None:
    rules = compile_rules(
        "rules:\n  - name: drop questions\n    when: {text_regex: '\\?$'}\n"
        "    then: {drop: true}\n"
        "  - name: python\n    when: {text_contains: python}\n    then: {tag: python}\n"
    )
    items = [Item("1", "s", text="python?"), Item("2", "s", text="no question here")]
    spent = Budget(deadline=time.perf_counter())  # nothing left
    decisions = list(rules.decide_all(items, NOW, spent))
    assert [(d.kept, d.tags) for d in decisions] == [
        (True, ("python", "rules-timeout")),  # the regex could not run: kept, tagged
        (True, ()),  # no "?": the literal prefilter answered without a search
    ]
    alone = [rules.decide(item, NOW, Budget(deadline=time.perf_counter())) for item in items]
    assert alone == decisions
    fresh = list(rules.decide_all(items, NOW))
    assert [(d.kept, d.tags) for d in fresh] == [(False, ("python",)), (True, ())]


@pytest.mark.parametrize(
    ("pattern", "hostile"),
    [("a*a*a*b", "a"), (r"\?\s*$", "? "), ("[A-Z]{6,}|!!", "A"), ("(?:a|b)c*c*d", "c")],
)
def test_searches_run_without_a_timeout_only_where_their_cost_is_bounded(
    pattern: str, hostile: str
) -> None:
    checked = compile_pattern(pattern)
    assert 0 < checked.cheap_length < 10_000
    text = (hostile * checked.cheap_length)[: checked.cheap_length] + "!"
    started = time.process_time()
    checked.pattern.search(text[:-1])  # the longest text searched without a timeout
    assert time.process_time() - started < 1


def test_shapes_with_unbounded_cost_always_search_with_a_timeout() -> None:
    for pattern in ("x(x|x)*y", "(a|a)*$", r"(\w)\1", "(?<=a)b", "(?!a)b"):
        assert compile_pattern(pattern).cheap_length == 0
