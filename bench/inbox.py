"""Benchmark: ``kompas inbox`` and ``kompas today`` on 1,000,000 posts and 3,000,000
interactions in SQLite (target: under 1 s of CPU each).

Run it with ``.venv/bin/python bench/inbox.py`` (``--posts`` and ``--interactions`` make a
quicker try). What it does:

1. Builds (once; cached as ``bench/out/inbox-<posts>-<interactions>.db``) a store through
   kompas's own migrations, then fills it with plain inserts: two own accounts (Mastodon,
   Bluesky) and 40,000 others (1 % declared bots); six years of posts, where 10 % are the
   user's own (about 45 a day; with their answers to 60 % of what others addressed to
   them), 6 % others' replies to the user and the rest others' posts (timelines, the
   parents of replies), 5 % of which mention the user; interactions: a reply or mention
   row for each post that addresses the user, the user's likes and reposts, likes
   received, follows (20,000 dated followers). That is a very busy account: about 1,400
   items addressed to the user per month, ~45 own posts a day.
2. Runs the real CLI (``kompas inbox``, ``kompas inbox --json``, ``kompas today --json``)
   in-process against it, several times after one cold run, and prints the CPU time
   (``time.process_time``) and wall time of each, median and worst.
3. Prints the SQLite plans of the inbox's own queries, so a missing index shows.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
END = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
YEARS = 6
OTHERS = 40_000
STRATEGY = """\
why: Write about the open web, and stay a person.
pillars:
  - name: Web
    description: the open web, blogs, browsers and Linux
    keywords: [blog, web, firefox, linux, browser]
  - name: Life
    description: family, walks, bike rides and small joys
    keywords: [family, walk, ride, kids]
habits:
  - name: reply
    target: 3
    per: day
    count: reply
"""
RULES = """\
rules:
  - name: questions
    when: {text_regex: '\\\\?\\\\s*$'}
    then: {tag: question}
"""
WORDS = [
    "web",
    "blog",
    "firefox",
    "linux",
    "walk",
    "family",
    "ride",
    "kids",
    "coffee",
    "book",
    "city",
    "rain",
    "music",
]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def build(posts: int, interactions: int) -> Path:
    """The benchmark database (built once, then reused from ``bench/out/``)."""
    from kompas.store.db import create_engine, sqlite_url

    path = OUT / f"inbox-{posts}-{interactions}.db"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.db")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    create_engine(sqlite_url(partial)).dispose()  # the schema, through the migrations
    rng = random.Random(13)
    db = sqlite3.connect(partial)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    # Bulk load without the secondary indexes, then build them once.
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL "
        "AND tbl_name IN ('posts','interactions','follows','accounts')"
    ).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    platforms = {"mastodon": "https://example.social/users/me", "bluesky": "did:plc:me"}

    def other(platform: str, n: int) -> str:
        return (
            f"https://host{n % 97}.example/users/u{n}"
            if platform == "mastodon"
            else f"did:plc:u{n}"
        )

    accounts = []
    for platform, me in platforms.items():
        accounts.append((platform, me, "me", None, 1, 0, _stamp(END - timedelta(days=2200))))
        for n in range(OTHERS):
            handle = f"u{n}@host{n % 97}.example" if platform == "mastodon" else f"u{n}.bsky.social"
            accounts.append(
                (
                    platform,
                    other(platform, n),
                    handle,
                    f"U {n}",
                    0,
                    int(n % 100 == 0),
                    _stamp(END - timedelta(days=rng.randint(30, 3000))),
                )
            )
    db.executemany(
        "INSERT INTO accounts (platform, id, handle, display_name, is_self, is_bot, created_at,"
        " followers_count, following_count, posts_count) VALUES (?,?,?,?,?,?,?,120,80,900)",
        accounts,
    )
    span = YEARS * 365 * 86400
    own_count, reply_count = int(posts * 0.10), int(posts * 0.06)
    post_rows: list[tuple[Any, ...]] = []
    act_rows: list[tuple[Any, ...]] = []
    own_ids: dict[str, list[str]] = {p: [] for p in platforms}
    for n in range(own_count):
        platform = "mastodon" if n % 2 else "bluesky"
        me = platforms[platform]
        pid = f"{me}/own/{n}"
        at = END - timedelta(seconds=span * n / own_count)
        own_ids[platform].append(pid)
        text = " ".join(rng.choice(WORDS) for _ in range(8))
        post_rows.append((platform, pid, me, _stamp(at), "post", text, None, None, None))
    own_total = len(post_rows)
    answered = 0
    for n in range(reply_count):
        platform = "mastodon" if n % 2 else "bluesky"
        me = platforms[platform]
        mine = own_ids[platform][rng.randrange(len(own_ids[platform]))]
        author = other(platform, rng.randrange(OTHERS))
        pid = f"{author}/r/{n}"
        at = END - timedelta(seconds=span * n / reply_count)
        question = "?" if n % 7 == 0 else "."
        post_rows.append(
            (
                platform,
                pid,
                author,
                _stamp(at),
                "reply",
                f"what about {rng.choice(WORDS)}{question}",
                mine,
                me,
                None,
            )
        )
        act_rows.append((platform, f"i{len(act_rows)}", "reply", author, me, mine, pid, _stamp(at)))
        if n % 5 < 3:  # the user answers 60 %
            answered += 1
            back = at + timedelta(minutes=rng.randint(5, 600))
            post_rows.append(
                (platform, f"{me}/ans/{n}", me, _stamp(back), "reply", "thanks!", pid, author, None)
            )
    for n in range(posts - len(post_rows)):
        platform = "mastodon" if n % 2 else "bluesky"
        author = other(platform, rng.randrange(OTHERS))
        at = END - timedelta(seconds=span * rng.random())
        post_rows.append(
            (platform, f"{author}/p/{n}", author, _stamp(at), "post", "hello @me", None, None, None)
        )
        if n % 20 == 0:  # one in twenty mentions the user
            me = platforms[platform]
            act_rows.append(
                (
                    platform,
                    f"i{len(act_rows)}",
                    "mention",
                    author,
                    me,
                    None,
                    f"{author}/p/{n}",
                    _stamp(at),
                )
            )
    db.executemany(
        "INSERT INTO posts (platform, id, author_id, created_at, kind, text, reply_to_id,"
        " reply_to_author_id, conversation_id, mentions, links, hashtags)"
        " VALUES (?,?,?,?,?,?,?,?,?,'[]','[]','[]')",
        post_rows,
    )
    del post_rows
    kinds = ("like", "like", "like", "repost", "like_received")
    while len(act_rows) < interactions:
        n = len(act_rows)
        platform = "mastodon" if n % 2 else "bluesky"
        me = platforms[platform]
        them = other(platform, rng.randrange(OTHERS))
        at = _stamp(END - timedelta(seconds=span * rng.random()))
        kind = kinds[n % len(kinds)]
        if kind == "like_received":
            mine = own_ids[platform][rng.randrange(len(own_ids[platform]))]
            act_rows.append((platform, f"i{n}", "like", them, me, mine, None, at))
        else:
            act_rows.append((platform, f"i{n}", kind, me, them, f"{them}/p/x{n}", None, at))
    db.executemany(
        "INSERT INTO interactions (platform, id, kind, actor_id, target_account_id,"
        " target_post_id, via_post_id, created_at) VALUES (?,?,?,?,?,?,?,?)",
        act_rows,
    )
    del act_rows
    follows = []
    for platform, me in platforms.items():
        for n in range(10_000):
            at = END - timedelta(seconds=span * n / 10_000)
            follows.append((platform, other(platform, n * 3), me, _stamp(at), _stamp(END)))
    db.executemany(
        "INSERT INTO follows (platform, follower_id, followee_id, followed_at, seen_at)"
        " VALUES (?,?,?,?,?)",
        follows,
    )
    db.commit()
    for _, sql in indexes:
        db.execute(sql)
    db.execute("ANALYZE")
    db.commit()
    db.close()
    partial.rename(path)
    print(
        f"built {path.name} ({own_total:,} own posts) in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return path


def _run(home: Path, path: Path, args: list[str], runs: int) -> tuple[list[float], list[float]]:
    from typer.testing import CliRunner

    from kompas.cli import app

    runner = CliRunner()
    cpu: list[float] = []
    wall: list[float] = []
    for number in range(runs + 1):
        c0, w0 = time.process_time(), time.perf_counter()
        result = runner.invoke(app, ["--home", str(home), "--db", f"sqlite:///{path}", *args])
        c1, w1 = time.process_time(), time.perf_counter()
        if result.exit_code != 0:
            raise SystemExit(f"kompas {' '.join(args)} failed: {result.output}")
        if number:  # the first run is the cold one (imports, model load)
            cpu.append(c1 - c0)
            wall.append(w1 - w0)
        else:
            print(f"  cold {' '.join(args)}: cpu {c1 - c0:.2f} s, wall {w1 - w0:.2f} s")
    return cpu, wall


def _plans(path: Path) -> None:
    db = sqlite3.connect(path)
    for label, sql in (
        (
            "addressed to the user in a window",
            "SELECT kind, actor_id FROM interactions WHERE platform='mastodon' AND "
            "target_account_id IN ('https://example.social/users/me') AND created_at >= "
            "'2026-10-01' AND created_at < '2026-11-01' AND kind IN ('reply','quote','mention')",
        ),
        (
            "what the user said to others (fading ties)",
            "SELECT target_account_id, count(*) FROM interactions WHERE platform='mastodon' AND "
            "actor_id IN ('https://example.social/users/me') AND created_at >= '2026-06-01' AND "
            "created_at < '2026-10-01' AND kind IN ('reply','mention','quote') "
            "GROUP BY target_account_id",
        ),
        (
            "replies to the user in a window",
            "SELECT id FROM posts WHERE platform='mastodon' AND reply_to_author_id IN "
            "('https://example.social/users/me') AND created_at >= '2026-10-01'",
        ),
        (
            "the user's answers",
            "SELECT reply_to_id, author_id, created_at FROM posts WHERE platform='mastodon' "
            "AND reply_to_id IN ('a','b')",
        ),
    ):
        plan = "; ".join(str(r[-1]) for r in db.execute("EXPLAIN QUERY PLAN " + sql))
        print(f"  plan, {label}: {plan}")
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=3_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    path = build(args.posts, args.interactions)
    home = OUT / "inbox-home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "strategy.yaml").write_text(STRATEGY)
    (home / "rules.yaml").write_text(RULES)
    print(f"{path.name}: {path.stat().st_size / 1e9:.2f} GB")
    for command in (["inbox"], ["inbox", "--json"], ["today", "--json"]):
        cpu, wall = _run(home, path, command, args.runs)
        if not cpu:
            continue
        print(
            f"  kompas {' '.join(command)}: cpu median {statistics.median(cpu):.3f} s, "
            f"worst {max(cpu):.3f} s; wall median {statistics.median(wall):.3f} s "
            f"({len(cpu)} runs)"
        )
    _plans(path)


if __name__ == "__main__":
    main()
