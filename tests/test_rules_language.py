"""The rule language: every condition and action on hand-checkable items, the issue's
minimal file as written, explain output, and malformed files failing with line/column."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from kompas.rules import Item, RuleFileError, compile_rules, load_rules, rules_schema
from kompas.rules.item import domain_of

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TEMPLATES = Path(__file__).parents[1] / "src" / "kompas" / "rules" / "templates"

MINIMAL = """\
rules:
  - name: python news
    when: {text_contains: python}
    then: {tag: python, score: 5}
  - name: no crypto
    when: {any: [{text_regex: "(?i)\\\\bnft\\\\b"}, {link_domain: [example.com]}]}
    then: {drop: true}
"""


def one_rule(when: str, then: str = "{tag: hit}") -> str:
    return f"rules:\n  - name: r\n    when: {when}\n    then: {then}\n"


def fires(when: str, item: Item) -> bool:
    decision = compile_rules(one_rule(when)).decide(item, NOW)
    explained = compile_rules(one_rule(when)).explain(item, NOW)
    # The fast path and the explaining path always agree.
    assert [f.rule for f in decision.fired] == [f.rule for f in explained.fired]
    return bool(decision.fired)


def item(**fields: object) -> Item:
    return Item(**{"id": "i", "source": "https://blog.example.org/feed.xml", **fields})  # type: ignore[arg-type]


def test_the_issues_minimal_file_works_as_written() -> None:
    rules = compile_rules(MINIMAL)
    python = rules.decide(item(title="Python 3.15 released"), NOW)
    assert (python.kept, python.score, python.tags) == (True, 5, ("python",))
    nft = rules.decide(item(text="Buy my NFT today"), NOW)
    assert nft.kept is False and nft.decided_by == "no crypto"
    # \b keeps "nfts" and "unfteen" out: the regex is a word match.
    assert rules.decide(item(text="unftable"), NOW).kept is True
    linked = rules.decide(item(url="https://shop.example.com/x"), NOW)
    assert linked.kept is False
    assert rules.decide(item(url="https://notexample.com/x"), NOW).kept is True


@pytest.mark.parametrize(
    ("when", "hit", "miss"),
    [
        ("{text_contains: python}", item(text="I like PYTHON"), item(text="I like snakes")),
        ("{text_contains: [rust, go]}", item(title="Go 1.30"), item(title="Zig")),
        ("{title_contains: release}", item(title="A Release"), item(text="release")),
        ("{text_regex: '\\d{4}-\\d{2}'}", item(text="on 2026-11 we"), item(text="on 26-1")),
        ("{title_regex: '^Show HN'}", item(title="Show HN: x"), item(title="x Show HN")),
        ("{language: en}", item(language="en-GB"), item(language="eno")),
        ("{language: [de, fr]}", item(language="fr"), item(language=None)),
        ("{author: [Ada Lovelace, Grace]}", item(author="ada lovelace"), item(author="Ada")),
        ("{source: blog.example.org}", item(), item(source="https://other.org/feed")),
        ("{source: mastodon}", item(source="mastodon"), item(source="bluesky")),
        ("{link_domain: example.com}", item(links=("https://a.example.com/p",)), item()),
        ("{link_domain: [github.com]}", item(url="https://www.github.com/x"), item(url="x")),
        ("{age: {under: 2d}}", item(published=NOW - timedelta(hours=47)), item()),
        (
            "{age: {over: 3h, under: 1w}}",
            item(published=NOW - timedelta(days=6)),
            item(published=NOW - timedelta(hours=2)),
        ),
        ("{count: {likes: {min: 10}}}", item(counts={"likes": 10}), item(counts={"likes": 9})),
        ("{count: {words: {max: 3}}}", item(text="one two three"), item(text="a b c d")),
        ("{count: {links: {min: 2}}}", item(url="https://a", links=("https://b",)), item()),
        ("{has_tag: python}", item(tags=("Python",)), item(tags=("rust",))),
        ("{kind: reply}", item(kind="reply"), item(kind="post")),
        (
            "{kind: reply, to_tag: question}",
            item(kind="reply", to_tags=("question",)),
            item(kind="reply", to_tags=("news",)),
        ),
        ("{all: [{text_contains: a}, {text_contains: b}]}", item(text="ab"), item(text="a")),
        ("{any: [{text_contains: a}, {text_contains: b}]}", item(text="b"), item(text="c")),
        ("{not: {text_contains: a}}", item(text="xyz"), item(text="abc")),
        ("{text_contains: x, language: en}", item(text="x", language="en"), item(text="x")),
    ],
)
def test_each_condition(when: str, hit: Item, miss: Item) -> None:
    assert fires(when, hit)
    assert not fires(when, miss)


def test_actions_keep_drop_score_tag_route_and_stop() -> None:
    rules = compile_rules(
        """\
default: drop
rules:
  - {name: keep python, when: {text_contains: python}, then: {keep: true, score: +3}}
  - {name: tags, when: {text_contains: python}, then: {tag: [py, lang], route: [digest, "feed:py"]}}
  - {name: minus, when: {text_contains: java}, then: {score: "-2"}}
  - {name: stop here, when: {text_contains: stop}, then: {stop: true}}
  - {name: never after stop, then: {drop: true, route: notify}}
"""
    )
    python = rules.decide(item(text="python and java, then stop"), NOW)
    assert python.kept is True and python.decided_by == "keep python"
    assert python.score == 3 - 2
    assert python.tags == ("py", "lang")
    assert python.routes == ("digest", "feed:py")
    assert [f.rule for f in python.fired] == ["keep python", "tags", "minus", "stop here"]
    # Without "stop", the last rule (no condition: always) drops and routes.
    other = rules.decide(item(text="python"), NOW)
    assert other.kept is False and other.decided_by == "never after stop"
    assert "notify" in other.routes
    # default: drop applies when no rule decides.
    assert compile_rules("default: drop\nrules: []\n").decide(item(), NOW).kept is False


def test_has_tag_sees_tags_given_by_earlier_rules_only() -> None:
    rules = compile_rules(
        """\
rules:
  - {name: late, when: {has_tag: python}, then: {route: "feed:late"}}
  - {name: tag, when: {text_contains: python}, then: {tag: python}}
  - {name: early, when: {has_tag: python}, then: {route: digest}}
"""
    )
    decision = rules.decide(item(text="python"), NOW)
    assert decision.routes == ("digest",)


def test_disabled_rules_are_skipped() -> None:
    rules = compile_rules("rules:\n  - {name: off, enabled: false, then: {drop: true}}\n")
    assert rules.decide(item(), NOW).kept is True


def test_explain_names_each_rule_its_line_effects_and_reasons() -> None:
    decision = compile_rules(MINIMAL).explain(
        item(text="python NFT", url="https://example.com/a"), NOW
    )
    payload = decision.as_json()
    assert payload["kept"] is False
    first, second = payload["fired"]
    assert first == {
        "rule": "python news",
        "line": 2,
        "reasons": ["text_contains: text contains 'python'"],
        # The same reason as a code and its values, for other languages (kompas.i18n).
        "reason_codes": [
            ["rules.why.contains", {"key": "text_contains", "field": "text", "needle": "'python'"}]
        ],
        "effects": ["score +5", "tag python"],
    }
    assert second["rule"] == "no crypto" and second["line"] == 5
    assert second["effects"] == ["drop"]
    # "any" explains with the first alternative that holds: the regex, quoting the match.
    assert second["reasons"] == ["text_regex: /(?i)\\bnft\\b/ matched 'NFT'"]
    negated = compile_rules(one_rule("{not: {text_contains: rust}}")).explain(item(), NOW)
    assert [str(r) for r in negated.fired[0].reasons] == [
        "not: {text_contains: 'rust'} does not hold"
    ]
    assert (
        negated.fired[0].reasons[0].render("fr") == "not : {text_contains: 'rust'} n’est pas vrai"
    )


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        # An unknown condition: the key's position, and the known conditions listed.
        (
            "rules:\n  - name: x\n    when: {text_contain: python}\n    then: {tag: a}\n",
            3,
            12,
            ["unknown key 'text_contain'", "text_contains"],
        ),
        # A rule without a name.
        (
            "rules:\n  - when: {text_contains: a}\n    then: {tag: a}\n",
            2,
            5,
            ["'name' is a required property", "a rule"],
        ),
        # A score that is not a number.
        ("rules:\n  - name: x\n    then: {score: lots}\n", 3, 19, ["'lots'", "score"]),
        # Broken YAML: an unclosed flow sequence.
        ("rules: [\n  {name: x\n", 3, 1, ["expected"]),
        # A bad indentation: "then" (line 3, column 4) is not under "name".
        ("rules:\n  - name: x\n   then: {tag: a}\n", 3, 4, ["expected <block end>"]),
        # An invalid regular expression.
        (
            "rules:\n  - name: x\n    when: {text_regex: '(('}\n    then: {tag: a}\n",
            3,
            12,
            ["invalid regular expression", "regular expression"],
        ),
        # A route that is not one of the known ones.
        ("rules:\n  - name: x\n    then: {route: somewhere}\n", 3, 19, ["somewhere", "route"]),
        # keep and drop together.
        (
            "rules:\n  - name: x\n    then: {keep: true, drop: true}\n",
            3,
            11,
            ["should not be valid"],
        ),
        # A top-level key that does not exist.
        ("rule:\n  - name: x\n", 1, 1, ["'rules' is a required property"]),
        # A condition of the wrong type.
        ("rules:\n  - name: x\n    when: {age: 3}\n    then: {tag: a}\n", 3, 17, ["age"]),
        # A duplicate key.
        ("rules:\n  - name: x\n    name: y\n    then: {tag: a}\n", 3, 5, ["duplicate key"]),
        # Empty file.
        ("", 1, 1, ["empty"]),
    ],
)
def test_malformed_files_fail_with_line_column_and_expectation(
    text: str, line: int, column: int, words: list[str]
) -> None:
    with pytest.raises(RuleFileError) as caught:
        compile_rules(text, "rules.yaml")
    error = caught.value
    assert (error.line, error.column) == (line, column), str(error)
    message = str(error)
    assert message.startswith(f"rules.yaml, line {line}, column {column}: ")
    for word in words:
        assert word in message


def test_the_published_schema_is_valid_and_accepts_every_template() -> None:
    schema = rules_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    from ruamel.yaml import YAML

    for template in sorted(TEMPLATES.glob("*.yaml")):
        jsonschema.validate(YAML(typ="safe").load(template.read_text()), schema)
        assert load_rules(template).rules


def test_domain_of() -> None:
    assert domain_of("https://User@WWW.Example.com:8443/a?b#c") == "example.com"
    assert domain_of("http://[::1]:80/x") == "[::1]"
    assert domain_of("mailto:x@y") == ""


def test_items_from_json_refuse_bad_fields() -> None:
    good = Item.from_json({"id": "1", "source": "s", "published": "2026-11-01T00:00:00Z"})
    assert good.published == datetime(2026, 11, 1, tzinfo=UTC)
    for bad in (
        [],
        {"id": "1"},
        {"id": "1", "source": "s", "tags": "x"},
        {"id": "1", "source": "s", "evil": 1},
    ):
        with pytest.raises(Exception, match=r"field|JSON object|unknown"):
            Item.from_json(bad)


# --------------------------------------------------------------------------- the CLI


def test_rules_schema_command_prints_the_schema(kompas) -> None:  # type: ignore[no-untyped-def]
    result = kompas("rules", "schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == rules_schema()


def test_rules_init_writes_each_style_and_needs_force(kompas) -> None:  # type: ignore[no-untyped-def]
    for style in ("connector", "curator", "promoter", "all-rounder", "lurker"):
        result = kompas("rules", "init", "--style", style, "--force")
        assert result.exit_code == 0, result.output
        written = (kompas.home / "rules.yaml").read_text()
        assert written == (TEMPLATES / f"{style}.yaml").read_text()
        assert kompas("rules", "check").exit_code == 0
    again = kompas("rules", "init", "--style", "curator")
    assert again.exit_code == 1 and "--force" in again.stderr
    assert kompas("rules", "init", "--style", "influencer").exit_code == 2


def test_rules_test_prints_one_decision_per_item(kompas, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rules = tmp_path / "rules.yaml"
    rules.write_text(MINIMAL)
    items = tmp_path / "items.jsonl"
    lines = [
        {"id": "a", "source": "feed", "title": "Python tips", "text": "x"},
        {"id": "b", "source": "feed", "text": "an NFT drop", "url": "https://x.org"},
        {"id": "c", "source": "feed", "text": "nothing", "url": "https://example.com/p"},
    ]
    items.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    result = kompas("rules", "test", rules, items)
    assert result.exit_code == 0, result.output
    decisions = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["id"] for d in decisions] == ["a", "b", "c"]
    assert decisions[0]["kept"] is True and decisions[0]["tags"] == ["python"]
    assert decisions[0]["score"] == 5 and decisions[0]["routes"] == []
    assert [f["rule"] for f in decisions[0]["fired"]] == ["python news"]
    assert decisions[1]["kept"] is False and decisions[2]["kept"] is False
    assert decisions[2]["fired"][0]["reasons"] == ["link_domain: links to example.com"]


def test_rules_test_rejects_bad_rules_and_bad_items(kompas, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: x\n    when: {text_contains: [python}\n    then: {}\n")
    items = tmp_path / "items.jsonl"
    items.write_text('{"id": "a", "source": "s"}\n{"id": "b", source}\n')
    result = kompas("rules", "test", rules, items)
    assert result.exit_code == 1
    assert "line 3, column" in result.stderr
    rules.write_text(MINIMAL)
    result = kompas("rules", "test", rules, items)
    assert result.exit_code == 1
    assert "line 2, column 13" in result.stderr  # where `source` starts
