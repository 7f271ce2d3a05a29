"""Benchmark: a timeline of 100,000 posts decided at the rules engine's batch speed.

Run it with ``.venv/bin/python bench/timelines.py`` (``--items N`` for a quicker try).

What it does:

1. Builds the timeline from the real posts of the Mastodon archive in
   ``tests/data/mastodon-archive/`` (parsed by kompas's own importer), turned into timeline
   items the way ``kompas sync mastodon --only timeline`` stores them
   (:func:`kompas.sync.timeline_items.timeline_entry`), repeated until there are
   ``--items`` of them, each copy with a fresh id, a time over 30 days, one of 2,000
   authors (a few loud, most quiet: author ``k`` posts about ``1/k`` as often), a kind
   (post, reply, quote), public counts and a language.
2. Decides them with a 21-rule file of the timeline kind — the feed rules of
   ``bench/rules.py`` plus ``kind``, ``count`` on likes and replies, ``score_by:
   relationship`` and ``quiet_first`` over a :class:`~kompas.rules.ranking.Ranking` of
   500 people talked with and every author's post count — through ``RuleSet.decide_all``.
3. In the same run, decides ``--items`` RSS items of ``bench/rules.py`` with its own rule
   file, and prints both rates (CPU time of this process) and their ratio; checks on the
   first 5,000 timeline items that ``decide_all`` and ``decide`` agree (scores included).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from kompas.model import Post, PostKind
from kompas.rules import Item, compile_rules
from kompas.rules.pipeline import stored_item
from kompas.rules.ranking import Ranking
from kompas.sources.mastodon import parse_archive
from kompas.store.feeds import StoredItem
from kompas.sync.timeline_items import timeline_entry
from rules import NOW, RULES, build_items, timed

ARCHIVE = Path(__file__).parents[1] / "tests/data/mastodon-archive/dealingwith/archive.tar.gz"
AUTHORS = 2000
KINDS = ("post", "post", "reply", "post", "quote")
LANGUAGES = (None, "en", "en", "de", "fr", "en-GB")

TIMELINE_RULES = RULES.replace(
    """  - name: trusted authors""",
    """  - name: people I talk with
    when: {kind: [post, quote]}
    then: {score_by: relationship}
  - name: quiet voices
    then: {quiet_first: true}
  - name: conversations
    when: {all: [{kind: reply}, {count: {replies: {min: 2}}}]}
    then: {tag: conversation, score: 2}
  - name: trusted authors""",
)


def _without(text: str, *names: str) -> str:
    """The rules file ``text`` without the rules named ``names`` (each is three lines)."""
    lines = text.splitlines(keepends=True)
    for name in names:
        at = lines.index(f"  - name: {name}\n")
        del lines[at : at + 3]
    return "".join(lines)


#: Timeline posts have no titles: the two title rules give way to timeline ones.
TIMELINE_RULES = _without(TIMELINE_RULES, "release notes", "security releases")


def author_of(i: int) -> int:
    """Author ``k`` (1-based) posts about ``1/k`` as often: a few loud, most quiet."""
    x = (i * 2654435761) % 1_000_003 / 1_000_003  # a fixed spread over [0, 1)
    return min(AUTHORS, int(AUTHORS**x))


def timeline(count: int) -> list[Item]:
    """``count`` timeline items made from the archive's real posts."""
    posts = [
        r
        for r in parse_archive(str(ARCHIVE))
        if isinstance(r, Post) and r.kind is not PostKind.REPOST and r.text
    ]
    base = []
    for post in posts:
        entry = timeline_entry(post, None, "mastodon:home")
        stored = StoredItem(entry.item, entry.html, entry.links, NOW, entry.social)
        base.append(stored_item(stored))
    items = []
    for i in range(count):
        item = base[i % len(base)]
        author = author_of(i)
        items.append(
            replace(
                item,
                id=f"tl-{i}",
                published=NOW - timedelta(minutes=(i * 37) % (30 * 24 * 60)),
                author=f"user{author}@social.example",
                account=f"mastodon:https://social.example/users/user{author}",
                kind=KINDS[i % len(KINDS)],
                language=LANGUAGES[i % len(LANGUAGES)],
                counts={"likes": (i * 7) % 120, "reposts": i % 13, "replies": i % 5},
            )
        )
    return items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    items = timeline(args.items)
    posts = Counter(item.account or "" for item in items)
    talk = {f"mastodon:https://social.example/users/user{k}": k % 13 for k in range(1, 501)}
    ranking = Ranking(talk, dict(posts), NOW, NOW)
    rules = compile_rules(TIMELINE_RULES)
    assert len(rules.rules) == 21 and rules.ranks
    decisions, cpu, wall = timed(lambda: list(rules.decide_all(items, NOW, ranking=ranking)))
    rate = len(items) / cpu
    print(
        f"timeline: {len(items):>9,} posts  {cpu:6.2f} s CPU  {wall:6.2f} s wall  "
        f"{rate:>10,.0f} items/s (CPU)  ({len(posts):,} authors)"
    )
    rss_items = build_items(args.items)
    rss_rules = compile_rules(RULES)
    _, rss_cpu, rss_wall = timed(lambda: list(rss_rules.decide_all(rss_items, NOW)))
    rss_rate = len(rss_items) / rss_cpu
    print(
        f"RSS:      {len(rss_items):>9,} items  {rss_cpu:6.2f} s CPU  {rss_wall:6.2f} s wall  "
        f"{rss_rate:>10,.0f} items/s (CPU)"
    )
    print(f"ratio timeline / RSS batch speed: {rate / rss_rate:.2f}")
    shared = items[:5000]
    alone = [rules.decide(item, NOW, ranking=ranking) for item in shared]
    same = sum(a == b for a, b in zip(alone, decisions, strict=False))
    print(f"decide_all and decide agree on {same:,} of {len(shared):,} posts")
    ranked = sum(1 for d in decisions if d.score)
    print(f"{ranked:,} of {len(decisions):,} posts scored; kept {sum(d.kept for d in decisions):,}")
    return 0 if same == len(shared) else 1


if __name__ == "__main__":
    sys.exit(main())
