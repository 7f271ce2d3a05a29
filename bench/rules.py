"""Benchmark: one rules file over 1,000,000 feed items, kompas against ``rule-engine``.

Run it with ``.venv/bin/python bench/rules.py`` (the ``bench`` extra installs rule-engine).
``--items N`` and ``--peer-items N`` make a quicker try.

What it does:

1. Builds the items from the real-shaped feed entries in ``tests/data/feeds/`` (parsed
   by kompas's own feed parser), repeated until there are ``--items`` of them, each copy
   with varied fields: a fresh id, a published time spread over 30 days, an author,
   a language, a like count and a number in the title.
2. Runs the 20-rule file below (the kind of rules the style templates hold: keywords,
   regexes, domains, authors, languages, ages, counts, ``has_tag``, ``all``/``any``/``not``)
   through kompas: compiled once, then ``RuleSet.decide_all`` over every item.
3. Runs the same 20 rules written as ``rule-engine`` expressions (same actions applied in
   Python, in the same order, including ``stop``) over the first ``--peer-items`` items
   (rule-engine is slow enough that a million items would take the better part of an hour;
   items/s is what is compared). The peer gets help kompas does not: lowercased text, word
   counts, link domains and ages computed for it in the item dict (that time is counted).
4. Checks that both made the same decisions (kept, score, tags, routes) on the shared items,
   and that ``decide_all`` (batches) and ``decide`` (one item at a time) made identical
   decisions (every field, fired rules included) on them, then prints items/s for both
   (CPU time of this process, so other load on the machine barely matters; wall time
   too) and the ratio. The issue's targets: >= 300,000 items/s
   on 2 cores and >= 10x rule-engine.
5. Judges the same items again on two cores (``decide_all(..., parallel=True)``: a forked
   worker judges every other batch), checks the decisions are the same, and prints the
   wall-time rate (what two cores give, when the machine lends them) and the rate per CPU
   second of both processes (what the split costs).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from operator import eq
from pathlib import Path
from typing import Any

from kompas.rules import Item, compile_rules, parallel
from kompas.rules.item import domain_of
from kompas.sources.feed_fetch import parse_feed

FEEDS = Path(__file__).parents[1] / "tests" / "data" / "feeds"
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)

RULES = r"""
version: 1
rules:
  - name: no engagement bait
    when: {text_regex: "(?i)\\b(you won't believe|like and share|follow for more|giveaway)\\b"}
    then: {drop: true, stop: true}
  - name: no crypto hype
    when: {any: [{text_regex: "(?i)\\b(nft|airdrop|memecoin)s?\\b"}, {link_domain: [opensea.io]}]}
    then: {drop: true, stop: true}
  - name: no outrage
    when: {text_contains: [ratio, dunk, "you people"]}
    then: {drop: true}
  - name: python
    when: {text_contains: [python, pypi, pep 8]}
    then: {tag: python, score: 5}
  - name: databases
    when: {text_contains: [sqlite, postgres, database]}
    then: {tag: databases, score: 4}
  - name: open web
    when: {text_contains: [indieweb, rss, atom feed, fediverse, activitypub]}
    then: {tag: open-web, score: 4}
  - name: release notes
    when: {title_contains: [release, released, announcing]}
    then: {tag: releases, score: 3}
  - name: long reads
    when: {count: {words: {min: 60}}}
    then: {score: 2}
  - name: fresh
    when: {age: {under: 2d}}
    then: {score: 2}
  - name: questions
    when: {text_regex: "\\?\\s*$"}
    then: {tag: question, score: 3}
  - name: asking for help
    when: {text_contains: [does anyone know, any recommendations, help wanted, looking for]}
    then: {tag: question, route: notify}
  - name: introductions
    when: {text_contains: [introduction, new here, hello world]}
    then: {route: people-to-meet, score: 5}
  - name: events
    when: {text_contains: [meetup, conference, workshop, sprint]}
    then: {tag: events, score: 3}
  - name: trusted authors
    when: {author: [Simon Willison, Julia Evans]}
    then: {keep: true, score: 5}
  - name: other languages
    when: {not: {language: [en, de]}}
    then: {score: -2}
  - name: popular
    when: {count: {likes: {min: 50}}}
    then: {score: 1}
  - name: security releases
    when: {all: [{text_contains: security}, {title_contains: [python, release]}]}
    then: {tag: security, route: notify}
  - name: learning
    when: {text_contains: [tutorial, how to, guide, til, today i learned]}
    then: {tag: learning}
  - name: best of the week
    when: {all: [{has_tag: [python, databases, open-web]}, {age: {under: 7d}}]}
    then: {route: "feed:best"}
  - name: digest
    when: {has_tag: [question, events, learning, python]}
    then: {route: digest}
"""


def _any_in(words: list[str], field: str = "hay") -> str:
    return " or ".join(f"{w!r} in {field}".replace("'", '"') for w in words)


#: The same rules for rule-engine: (name, expression, keep, score, tags, routes, stop).
PEER_RULES: list[tuple[str, str, bool | None, int, list[str], list[str], bool]] = [
    (
        "no engagement bait",
        r'full =~~ "(?i)\\b(you won\'t believe|like and share|follow for more|giveaway)\\b"',
        False,
        0,
        [],
        [],
        True,
    ),
    (
        "no crypto hype",
        r'full =~~ "(?i)\\b(nft|airdrop|memecoin)s?\\b" or "opensea.io" in domains',
        False,
        0,
        [],
        [],
        True,
    ),
    ("no outrage", _any_in(["ratio", "dunk", "you people"]), False, 0, [], [], False),
    ("python", _any_in(["python", "pypi", "pep 8"]), None, 5, ["python"], [], False),
    ("databases", _any_in(["sqlite", "postgres", "database"]), None, 4, ["databases"], [], False),
    (
        "open web",
        _any_in(["indieweb", "rss", "atom feed", "fediverse", "activitypub"]),
        None,
        4,
        ["open-web"],
        [],
        False,
    ),
    (
        "release notes",
        _any_in(["release", "released", "announcing"], "title_lower"),
        None,
        3,
        ["releases"],
        [],
        False,
    ),
    ("long reads", "words >= 60", None, 2, [], [], False),
    ("fresh", "age_hours != null and age_hours < 48", None, 2, [], [], False),
    ("questions", r'full =~~ "\\?\\s*$"', None, 3, ["question"], [], False),
    (
        "asking for help",
        _any_in(["does anyone know", "any recommendations", "help wanted", "looking for"]),
        None,
        0,
        ["question"],
        ["notify"],
        False,
    ),
    (
        "introductions",
        _any_in(["introduction", "new here", "hello world"]),
        None,
        5,
        [],
        ["people-to-meet"],
        False,
    ),
    (
        "events",
        _any_in(["meetup", "conference", "workshop", "sprint"]),
        None,
        3,
        ["events"],
        [],
        False,
    ),
    (
        "trusted authors",
        'author_lower in ["simon willison", "julia evans"]',
        True,
        5,
        [],
        [],
        False,
    ),
    ("other languages", 'not (language =~ "^(en|de)(-.*)?$")', None, -2, [], [], False),
    ("popular", "likes != null and likes >= 50", None, 1, [], [], False),
    (
        "security releases",
        '"security" in hay and (' + _any_in(["python", "release"], "title_lower") + ")",
        None,
        0,
        ["security"],
        ["notify"],
        False,
    ),
    (
        "learning",
        _any_in(["tutorial", "how to", "guide", "til", "today i learned"]),
        None,
        0,
        ["learning"],
        [],
        False,
    ),
    (
        "best of the week",
        '("python" in tags or "databases" in tags or "open-web" in tags) '
        "and age_hours != null and age_hours < 168",
        None,
        0,
        [],
        ["feed:best"],
        False,
    ),
    (
        "digest",
        '"question" in tags or "events" in tags or "learning" in tags or "python" in tags',
        None,
        0,
        [],
        ["digest"],
        False,
    ),
]

AUTHORS = [None, "Simon Willison", "Julia Evans", "Hugo", "ada", "Mariatta"]
LANGUAGES = [None, "en", "en-us", "de", "fr", "pt-BR"]


def build_items(count: int) -> list[Item]:
    """The fixtures' entries, repeated with varied fields."""
    base: list[Item] = []
    for path in sorted(FEEDS.glob("*.xml")):
        try:
            parsed = parse_feed(path.read_bytes(), f"https://feeds.test/{path.name}")
        except Exception:  # the deliberately malformed fixture
            continue
        base += [Item.from_feed_item(e.item, links=e.links) for e in parsed.entries]
    items = []
    for i in range(count):
        item = base[i % len(base)]
        items.append(
            replace(
                item,
                id=f"bench-{i}",
                title=f"{item.title} #{i % 97}",
                published=NOW - timedelta(minutes=(i * 37) % (30 * 24 * 60)),
                author=AUTHORS[i % len(AUTHORS)] if i % 3 else item.author,
                language=LANGUAGES[i % len(LANGUAGES)],
                counts={"likes": (i * 7) % 120},
            )
        )
    return items


def peer_item(item: Item) -> dict[str, Any]:
    full = f"{item.title}\n{item.text}" if item.title else item.text
    published = item.published
    return {
        "full": full,
        "hay": full.lower(),
        "title_lower": item.title.lower(),
        "words": len(full.split()),
        "domains": [d for d in (domain_of(u) for u in ((item.url or ""), *item.links)) if d],
        "author_lower": (item.author or "").lower(),
        "language": (item.language or "").lower(),
        "likes": item.counts.get("likes"),
        "age_hours": (NOW - published).total_seconds() / 3600 if published else None,
        "tags": [t.lower() for t in item.tags],
    }


def run_peer(items: list[Item]) -> list[tuple[bool, int, tuple[str, ...], tuple[str, ...]]]:
    import rule_engine  # here, so bench/timelines.py can share this file without it

    context = rule_engine.Context(default_value=None)
    compiled = [
        (rule_engine.Rule(expression, context=context), keep, score, tags, routes, stop)
        for _, expression, keep, score, tags, routes, stop in PEER_RULES
    ]
    results = []
    for item in items:
        data = peer_item(item)
        kept: bool | None = None
        total = 0
        tags: list[str] = []
        routes: list[str] = []
        for rule, keep, score, add_tags, add_routes, stop in compiled:
            if not rule.matches(data):
                continue
            if keep is not None:
                kept = keep
            total += score
            for tag in add_tags:
                if tag not in tags:
                    tags.append(tag)
                    data["tags"].append(tag)
            for route in add_routes:
                if route not in routes:
                    routes.append(route)
            if stop:
                break
        results.append((True if kept is None else kept, total, tuple(tags), tuple(routes)))
    return results


def timed(work: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--peer-items", type=int, default=20_000)
    args = parser.parse_args()
    items = build_items(args.items)
    rules = compile_rules(RULES)
    assert len(rules.rules) == 20
    decisions, cpu, wall = timed(lambda: list(rules.decide_all(items, NOW, parallel=False)))
    kompas_rate = len(items) / cpu
    print(
        f"kompas:      {len(items):>9,} items  {cpu:7.2f} s CPU  {wall:7.2f} s wall  "
        f"{kompas_rate:>10,.0f} items/s (CPU, one process)"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    two, two_cpu, two_wall = timed(lambda: list(rules.decide_all(items, NOW, parallel=True)))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(
        f"two cores:   {len(items):>9,} items  {two_cpu + worker_cpu:7.2f} s CPU  "
        f"{two_wall:7.2f} s wall  {len(items) / two_wall:>10,.0f} items/s (wall, "
        f"{parallel.cores()} CPUs here)  {len(items) / (two_cpu + worker_cpu):>10,.0f} "
        f"items/s (CPU of both processes)"
    )
    print(f"two cores and one process agree on {sum(map(eq, two, decisions)):,} of {len(items):,}")
    shared = items[: args.peer_items]
    peer, peer_cpu, peer_wall = timed(lambda: run_peer(shared))
    peer_rate = len(shared) / peer_cpu
    print(
        f"rule-engine: {len(shared):>9,} items  {peer_cpu:7.2f} s CPU  {peer_wall:7.2f} s wall  "
        f"{peer_rate:>10,.0f} items/s (CPU)  {len(shared) / peer_wall:>10,.0f} items/s (wall)"
    )
    ours = [(d.kept, d.score, d.tags, d.routes) for d in decisions[: len(shared)]]
    agree = sum(a == b for a, b in zip(ours, peer, strict=True))
    print(f"same decisions on {agree:,} of {len(shared):,} shared items")
    alone = [rules.decide(item, NOW) for item in shared]
    same = sum(a == b for a, b in zip(alone, decisions, strict=False))
    print(f"decide_all and decide agree on {same:,} of {len(shared):,} shared items")
    print(
        f"ratio kompas / rule-engine: {kompas_rate / peer_rate:.1f}x "
        f"(targets: >= 10x and >= 300,000 items/s)"
    )
    kept = sum(d.kept for d in decisions)
    print(f"kompas kept {kept:,} of {len(decisions):,}")
    return 0 if agree == same == len(shared) and two == decisions else 1


if __name__ == "__main__":
    sys.exit(main())
