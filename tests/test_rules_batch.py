"""The batch path (``RuleSet.decide_all``, used for throughput) makes exactly the decisions
the one-item path (``decide``) makes, on every template and on a file using every condition,
over items drawn from the real feed fixtures and sample posts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DATA, X_ARCHIVE
from kompas.rules import Item, compile_rules
from kompas.rules import engine as rules_engine
from samples import x_file

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TEMPLATES = Path(__file__).parents[1] / "src" / "kompas" / "rules" / "templates"

EVERY_CONDITION = """\
rules:
  - name: python
    when: {text_contains: python}
    then: {tag: python, score: 5}
  - name: titled release
    when: {all: [{title_contains: [release, "3.1"]}, {not: {language: de}}]}
    then: {tag: release, route: digest}
  - name: question
    when: {text_regex: "\\\\?\\\\s*$"}
    then: {tag: question, score: 1}
  - name: people i read
    when: {any: [{author: [simon, "Łukasz"]}, {source: [python-insider]}]}
    then: {score: 3, route: "feed:friends"}
  - name: tracked links
    when: {link_domain: [t.co, example.com]}
    then: {score: -2}
  - name: fresh
    when: {age: {under: 2d}}
    then: {score: 1}
  - name: popular
    when: {count: {likes: {min: 3}}}
    then: {tag: popular}
  - name: answered a question
    when: {all: [{kind: reply}, {to_tag: question}]}
    then: {tag: helped}
  - name: python questions
    when: {all: [{has_tag: python}, {has_tag: question}]}
    then: {route: notify}
  - name: no crypto
    when: {text_regex: "(?i)\\\\bnft\\\\b"}
    then: {drop: true, stop: true}
"""


def _texts() -> list[tuple[str, str]]:
    """(title, text) pairs from the real feed fixtures and the X sample's tweets."""
    pairs: list[tuple[str, str]] = []
    for path in sorted((DATA / "feeds").glob("*.xml")):
        for entry in feedparser.parse(path.read_bytes()).entries:
            pairs.append((entry.get("title", ""), entry.get("summary", "")))
    for tweet in x_file(X_ARCHIVE, "tweets")[:200]:
        pairs.append(("", tweet["tweet"]["full_text"]))
    pairs += [("NFT drop", "buy my nft now"), ("Python 3.13 release", "Is it out?  ")]
    return pairs


TEXTS = _texts()


@st.composite
def items(draw: st.DrawFn) -> Item:
    title, text = draw(st.sampled_from(TEXTS))
    return Item(
        id=str(draw(st.integers(0, 10**6))),
        source=draw(st.sampled_from(["python-insider", "simonwillison", "mastodon-blog", "x"])),
        title=title,
        text=text,
        url=draw(st.sampled_from([None, "https://t.co/x", "https://simonwillison.net/a"])),
        author=draw(st.sampled_from([None, "simon", "łukasz", "Ada"])),
        published=draw(st.sampled_from([None, NOW - timedelta(hours=5), NOW - timedelta(days=9)])),
        language=draw(st.sampled_from([None, "en", "de", "fr"])),
        tags=tuple(draw(st.lists(st.sampled_from(["python", "question", "news"]), max_size=2))),
        kind=draw(st.sampled_from(["entry", "reply", "post", "like"])),
        to_tags=tuple(draw(st.lists(st.sampled_from(["question", "python"]), max_size=2))),
        links=tuple(
            draw(st.lists(st.sampled_from(["https://example.com/x", "https://a.org"]), max_size=2))
        ),
        counts=draw(st.sampled_from([{}, {"likes": 1}, {"likes": 5}])),
    )


RULE_FILES = {"every-condition": EVERY_CONDITION} | {
    path.stem: path.read_text() for path in sorted(TEMPLATES.glob("*.yaml"))
}
COMPILED = {name: compile_rules(text) for name, text in RULE_FILES.items()}


@pytest.mark.parametrize("name", sorted(RULE_FILES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(items(), min_size=1, max_size=40), size=st.sampled_from([1, 3, 4096]))
def test_batch_and_single_decisions_agree(name: str, batch: list[Item], size: int) -> None:
    rules = COMPILED[name]
    single = [rules.decide(item, NOW) for item in batch]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rules_engine, "BATCH_SIZE", size)  # several batches, and one
        assert list(rules.decide_all(batch, NOW)) == single
