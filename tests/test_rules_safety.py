"""A rule cannot run code, and a hostile rules file or regex cannot hang kompas: YAML
tags, anchors, deep nesting, huge files and catastrophic regexes are refused or bounded."""

from __future__ import annotations

import functools
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from kompas.rules import Item, RuleFileError, RuleSet, compile_rules, load_rules
from kompas.rules.item import FOLD_RISKY_CHARS
from kompas.rules.literals import required_literals
from kompas.rules.schema import MAX_DEPTH, MAX_FILE_BYTES

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def quoted(text: str) -> str:
    """``text`` as a YAML single-quoted scalar (no escapes inside)."""
    return "'" + text.replace("'", "''") + "'"


def refused(text: str) -> RuleFileError:
    with pytest.raises(RuleFileError) as caught:
        compile_rules(text, "rules.yaml")
    return caught.value


@pytest.mark.parametrize(
    "attack",
    [
        "!!python/object/apply:os.system ['touch /tmp/kompas-pwned']",
        "rules:\n  - name: !!python/name:os.system x\n    then: {tag: a}\n",
        "rules:\n  - name: x\n    when: !!python/object/new:os.system [echo]\n    then: {tag: a}\n",
        "rules:\n  - name: x\n    then: !custom {tag: a}\n",
    ],
)
def test_yaml_tags_that_would_construct_objects_are_refused(attack: str, tmp_path: Path) -> None:
    error = refused(attack)
    assert "tag" in str(error) and "not allowed" in str(error)
    assert not Path("/tmp/kompas-pwned").exists()


@pytest.mark.parametrize(
    "code",
    ["__import__('os').system('id')", "{{ 7*7 }}", "${7*7}", "lambda: 1", "item.__class__"],
)
def test_code_in_a_rule_is_only_ever_text(code: str) -> None:
    """Code in a condition is a string to look for, never evaluated."""
    rules = compile_rules(
        "rules:\n  - name: x\n    when: {text_contains: " + quoted(code) + "}\n    then: {tag: t}\n"
    )
    assert rules.decide(Item("1", "s", text=f"quote: {code}"), NOW).tags == ("t",)
    assert rules.decide(Item("2", "s", text="49"), NOW).tags == ()


def test_even_plain_yaml_tags_are_refused() -> None:
    error = refused("rules:\n  - name: x\n    then: {score: !!int 2}\n")
    assert (error.line, error.column) == (3, 19)


def test_unknown_keys_cannot_reach_attributes() -> None:
    assert "unknown key '__class__'" in str(
        refused("rules:\n  - name: x\n    when: {__class__: x}\n    then: {tag: a}\n")
    )
    assert "unknown key 'eval'" in str(refused("rules:\n  - name: x\n    then: {eval: '1'}\n"))


def test_anchors_and_aliases_are_refused_so_no_billion_laughs() -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    laughs += "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nrules: [*c]\n"
    error = refused(laughs)
    assert (error.line, error.column) == (1, 4)
    assert "anchors and aliases" in str(error)


def test_deep_condition_nesting_is_refused_with_its_position() -> None:
    depth = MAX_DEPTH + 1
    when = "{not: " * depth + "{text_contains: a}" + "}" * depth
    error = refused(f"rules:\n  - name: deep\n    when: {when}\n    then: {{tag: a}}\n")
    assert "nested too deep" in str(error) and error.line == 3
    ok = "{not: " * (MAX_DEPTH - 1) + "{text_contains: a}" + "}" * (MAX_DEPTH - 1)
    compile_rules(f"rules:\n  - name: ok\n    when: {ok}\n    then: {{tag: a}}\n")


def test_pathological_yaml_nesting_is_refused_fast() -> None:
    started = time.perf_counter()
    error = refused("rules: " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert "nesting too deep" in str(error)
    assert time.perf_counter() - started < 2


def test_huge_files_are_refused_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "rules.yaml"
    rule = "  - {name: r, when: {text_contains: abcdefgh}, then: {tag: a}}\n"
    huge.write_text("rules:\n" + rule * (MAX_FILE_BYTES // len(rule) + 1))
    with pytest.raises(RuleFileError, match="bytes"):
        load_rules(huge)
    with pytest.raises(RuleFileError, match="too large"):
        compile_rules(huge.read_text())


def test_catastrophic_regex_is_cut_off_and_the_item_kept_and_tagged() -> None:
    # No nested repetition (that is refused when the file is read), yet exponential: the
    # item's time budget cuts the search off; the item is kept and tagged rules-timeout.
    rules = compile_rules(
        "rules:\n  - name: evil\n    when: {text_regex: '(a|a)*$'}\n    then: {drop: true}\n"
        "  - name: after\n    when: {text_contains: a}\n    then: {tag: seen}\n"
    )
    hostile = Item("1", "s", text="a" * 40 + "!")  # 2**40 paths without a guard
    started = time.process_time()  # CPU: a busy machine stretches wall time, not work
    decision = rules.decide(hostile, NOW)
    explained = rules.explain(hostile, NOW)
    (batched,) = rules.decide_all([hostile], NOW)
    assert time.process_time() - started < 2
    for made in (decision, batched):
        assert made.kept is True and made.tags == ("seen", "rules-timeout")
        assert made.decided_by is None
    assert [f.rule for f in explained.fired] == ["after"]
    assert "rules-timeout" in explained.tags


def test_the_fold_risky_characters_are_exactly_those_unicode_has() -> None:
    """Recomputed over all of Unicode: the characters that make lowercasing unsound for a
    case-insensitive literal prefilter."""
    risky = set()
    for point in range(128, sys.maxunicode + 1):
        char = chr(point)
        if 0xD800 <= point <= 0xDFFF:
            continue
        forms = (char.lower(), char.upper(), char.casefold())
        if any(any(ord(c) < 128 for c in form) for form in forms):
            risky.add(char)
    assert risky == set(FOLD_RISKY_CHARS)


PATTERNS = [
    r"(?i)\b(nft|airdrop|memecoin)s?\b",
    r"(?i)\bss\b",
    r"(?i)kelvin|fish",
    r"Show HN",
    r"\?\s*$",
    r"(?i)(ab)+c",
    r"x?yz",
]


@functools.cache
def _regex_rules(pattern: str) -> RuleSet:
    return compile_rules(
        "rules:\n  - name: r\n    when: {text_regex: " + quoted(pattern) + "}\n    then: {tag: t}\n"
    )


@settings(max_examples=300, deadline=None)
@given(
    pattern=st.sampled_from(PATTERNS),
    text=st.text(
        alphabet=st.sampled_from([*"abcnftsSKkhowHN ?yzxi", "ß", "ſ", "K", "ı", "İ", "ﬁ"]),
        max_size=30,
    ),
)
def test_the_literal_prefilter_never_hides_a_match(pattern: str, text: str) -> None:
    """Property: whenever the regex matches, the prefilter lets it through."""
    rules = _regex_rules(pattern)
    expected = regex.search(pattern, text) is not None
    assert bool(rules.decide(Item("1", "s", text=text), NOW).fired) == expected


def test_required_literals() -> None:
    assert required_literals(r"(?i)\b(nft|airdrop)s?\b") == {"nft", "airdrop"}
    assert required_literals(r"[A-Z]{6,}|!!") is None
    assert required_literals(r"\p{L}+") is None  # regex-only syntax: no prefilter
    assert required_literals("Show HN") == {"show hn"}
    assert re.compile("x").pattern == "x"
