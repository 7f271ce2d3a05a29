"""``RuleSet.decide_all`` on two cores (a forked worker judging every other batch) makes
exactly the decisions of the one-process path, in the same order, on items from the real
feed fixtures; and when the worker dies, the rest of its batches are judged here."""

from __future__ import annotations

import os
import signal
from dataclasses import replace
from datetime import timedelta
from itertools import islice

import pytest

from kompas.rules import Item, compile_rules, parallel
from kompas.rules import engine as rules_engine
from kompas.rules.ranking import Ranking
from test_rules_batch import NOW, RULE_FILES, TEXTS

pytestmark = pytest.mark.skipif(not parallel.can_fork(), reason="no fork here")

RANKED = """\
rules:
  - name: people i talk with
    when: {text_contains: python}
    then: {score_by: relationship, tag: python}
  - name: the quiet
    when: {not: {language: de}}
    then: {quiet_first: true}
  - name: questions
    when: {text_regex: "\\\\?\\\\s*$"}
    then: {score: 1, stop: true}
  - name: no crypto
    when: {text_regex: "(?i)\\\\bnft\\\\b"}
    then: {drop: true}
"""
ACCOUNTS = [None, "x:1", "x:2", "mastodon:7", "bluesky:did:plc:q"]
RANKING = Ranking(
    talk={"x:1": 3, "mastodon:7": 40},
    posts={"x:1": 1, "x:2": 9, "bluesky:did:plc:q": 100},
    talk_until=NOW,
    posts_until=NOW,
)


def fixture_items(count: int) -> list[Item]:
    """The feed fixtures' and the X sample's texts, repeated with varied fields."""
    return [
        Item(
            id=f"item-{i}",
            source=["python-insider", "simonwillison", "mastodon-blog", "x"][i % 4],
            title=TEXTS[i % len(TEXTS)][0],
            text=TEXTS[i % len(TEXTS)][1],
            url=[None, "https://t.co/x", "https://simonwillison.net/a"][i % 3],
            author=[None, "simon", "łukasz", "Ada"][i % 4],
            published=NOW - timedelta(hours=(i * 7) % 400),
            language=[None, "en", "de", "fr"][i % 4],
            tags=(("python",), (), ("question", "news"))[i % 3],
            kind=["entry", "reply", "post"][i % 3],
            counts={"likes": i % 9},
            account=ACCOUNTS[i % len(ACCOUNTS)],
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("name", [*sorted(RULE_FILES), "ranked"])
def test_two_cores_decide_as_one(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = compile_rules(RANKED if name == "ranked" else RULE_FILES[name])
    items = fixture_items(len(TEXTS) * 3 + 5)
    monkeypatch.setattr(rules_engine, "BATCH_SIZE", 37)  # many batches, the last one short
    one = list(rules.decide_all(items, NOW, ranking=RANKING, parallel=False))
    forked = parallel.forked
    two = list(rules.decide_all(items, NOW, ranking=RANKING, parallel=True))
    assert parallel.forked == forked + 1
    assert two == one
    assert two == [rules.decide(item, NOW, ranking=RANKING) for item in items]
    assert [d.item_id for d in two] == [i.id for i in items]


def test_two_cores_on_a_tuple_and_a_single_batch() -> None:
    rules = compile_rules(RULE_FILES["every-condition"])
    items = tuple(fixture_items(50))  # one batch: nothing for a worker to do
    forked = parallel.forked
    assert list(rules.decide_all(items, NOW, parallel=True)) == [
        rules.decide(item, NOW) for item in items
    ]
    assert parallel.forked == forked


def test_only_large_lists_go_to_two_cores() -> None:
    rules = compile_rules(RULE_FILES["every-condition"])
    items = fixture_items(100)
    forked = parallel.forked
    list(rules.decide_all(items, NOW))  # too few
    list(rules.decide_all(iter(items), NOW, parallel=True))  # not a list: nothing inherited
    assert parallel.forked == forked


def test_a_killed_worker_leaves_its_batches_to_this_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rules = compile_rules(RULE_FILES["every-condition"])
    # Eight full batches: the worker's four messages (32 KB of keys each) outgrow the
    # pipe, so it is still running when it is killed after the first batch.
    items = [
        replace(item, id=f"{item.id}-{n}")
        for n in range(8 * rules_engine.BATCH_SIZE // len(TEXTS) + 1)
        for item in fixture_items(len(TEXTS))
    ][: 8 * rules_engine.BATCH_SIZE]
    expected = list(rules.decide_all(items, NOW, parallel=False))
    decisions = rules.decide_all(items, NOW, parallel=True)
    first = list(islice(decisions, rules_engine.BATCH_SIZE))
    assert parallel.worker is not None
    os.kill(parallel.worker, signal.SIGKILL)
    assert first + list(decisions) == expected
    assert "the rules worker stopped" in caplog.text


def test_stopping_early_ends_the_worker() -> None:
    rules = compile_rules(RULE_FILES["every-condition"])
    items = fixture_items(4 * rules_engine.BATCH_SIZE)
    decisions = rules.decide_all(items, NOW, parallel=True)
    next(decisions)
    worker = parallel.worker
    assert worker is not None
    decisions.close()
    with pytest.raises(ChildProcessError):  # killed and reaped
        os.waitpid(worker, os.WNOHANG)
