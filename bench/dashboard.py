"""Benchmark: every dashboard page at 1,000,000 posts in SQLite (target: p95 < 100 ms).

Run it with ``.venv/bin/python bench/dashboard.py`` (``--posts N`` and ``--runs N`` make a
quicker try). What it does:

1. Builds (once; cached as ``bench/out/dashboard-<N>.db``) a database from the real
   samples in ``tests/data/`` (X archive, Mastodon archive, LinkedIn export, Bluesky CAR,
   OPML): every sample is parsed by kompas's own parsers, then its posts and interactions
   are repeated with fresh ids, copy ``k`` shifted ``k * 30`` days into the past, until
   there are ``--posts`` posts. Accounts, follows and feeds are written once. Everything
   goes through the store's writer, the way an import does.
2. Serves the dashboard app in-process (FastAPI's TestClient: the full ASGI stack,
   middleware included, without a socket) and requests every page ``--runs`` times after
   one cold request, printing p50/p95 per page, plus the cold (first) request: some
   figures (the status counts, the overview's pillar glance) are computed once per import
   and reused until the next import lands.
3. Prints the SQLite query plans of the dashboard's own queries, so a missing index shows.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DATA = ROOT / "tests" / "data"
SAMPLES = (
    ("x-archive", DATA / "x-archive" / "milahu104" / "archive.zip"),
    ("mastodon-archive", DATA / "mastodon-archive" / "dealingwith" / "archive.tar.gz"),
    ("linkedin", DATA / "linkedin" / "sanand0" / "export.zip"),
    ("bluesky-car", DATA / "bluesky" / "repo.car"),
    ("opml", DATA / "opml" / "subscriptions.opml"),
)
PAGES = (
    "/",
    "/community",
    "/community?all=true",
    "/people",
    "/feeds",
    "/strategy",
    "/data",
    "/fragments/activity?days=28",
    "/fragments/posts?platform=x",
    "/fragments/glance/community",
    "/fragments/glance/rules",
    "/fragments/glance/people",
    "/fragments/glance/strategy",
)
SHIFT = timedelta(days=30)


def _post_ids(records: list[Any]) -> set[str]:
    """The distinct post ids of a sample (an export may list a post twice)."""
    from kompas.model import Post

    return {r.id for r in records if isinstance(r, Post)}


def _copies(records: list[Any], target_posts: int) -> Iterator[Any]:
    """The sample's records, then copies with fresh ids until ``target_posts`` posts."""
    from kompas.model import Interaction, Post

    per_copy = len(_post_ids(records))
    copies = max(1, -(-target_posts // max(per_copy, 1)))
    written: set[str] = set()
    for k in range(copies):
        for record in records:
            if isinstance(record, Post):
                new_id = record.id if k == 0 else f"{record.id}~{k}"
                if new_id not in written and len(written) >= target_posts:
                    continue
                written.add(new_id)
                if k == 0:
                    yield record
                    continue

                def fresh(value: str | None, k: int = k) -> str | None:
                    return None if value is None else f"{value}~{k}"

                yield dataclasses.replace(
                    record,
                    id=f"{record.id}~{k}",
                    created_at=record.created_at - k * SHIFT if record.created_at else None,
                    reply_to_id=fresh(record.reply_to_id),
                    quote_of_id=fresh(record.quote_of_id),
                    repost_of_id=fresh(record.repost_of_id),
                    conversation_id=fresh(record.conversation_id),
                )
            elif isinstance(record, Interaction):
                if k == 0:
                    yield record
                    continue
                yield dataclasses.replace(
                    record,
                    target_post_id=f"{record.target_post_id}~{k}"
                    if record.target_post_id
                    else None,
                    via_post_id=f"{record.via_post_id}~{k}" if record.via_post_id else None,
                    created_at=record.created_at - k * SHIFT if record.created_at else None,
                )
            elif k == 0:
                yield record


def build(posts: int) -> Path:
    """The benchmark database (built once, then reused from ``bench/out/``)."""
    from kompas.importing import parser_for
    from kompas.store.db import create_engine, sqlite_url
    from kompas.store.writer import write_import

    path = OUT / f"dashboard-{posts}.db"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.db")
    for leftover in OUT.glob(partial.name + "*"):
        leftover.unlink()
    engine = create_engine(sqlite_url(partial))
    parsed = {kind: list(parser_for(kind)(str(file))) for kind, file in SAMPLES}
    sample_posts = sum(len(_post_ids(rs)) for rs in parsed.values())
    started = time.perf_counter()
    allotted = 0
    kinds = list(parsed)
    for kind, records in parsed.items():
        share = len(_post_ids(records))
        target = round(posts * share / sample_posts) if sample_posts else 0
        if kind == kinds[-1] or kind == max(kinds, key=lambda k: len(_post_ids(parsed[k]))):
            # The largest sample takes the rounding, so the total is exactly ``posts``.
            rest = kinds[kinds.index(kind) + 1 :]
            later = sum(round(posts * len(_post_ids(parsed[k])) / sample_posts) for k in rest)
            target = posts - allotted - later
        allotted += target
        added = write_import(engine, _copies(records, target), source=kind, path=f"bench:{kind}")
        print(f"  {kind}: {added}", file=sys.stderr)
    print(f"built {partial.name} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    engine.dispose()  # the last connection checkpoints and removes the write-ahead log
    for stale in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    partial.rename(path)
    return path


def _plans(engine: Any) -> None:
    from kompas.store import dashboard

    with engine.connect() as connection:
        own = dashboard.self_accounts(connection)
        if not own:
            return
        account = own[0]
        for label, sql in (
            (
                "own posts in a window",
                "SELECT kind, count(*) FROM posts WHERE platform=? AND author_id=? "
                "AND created_at >= ? AND created_at < ? GROUP BY kind",
            ),
            (
                "own interactions in a window",
                "SELECT kind, count(*) FROM interactions WHERE platform=? AND actor_id=? "
                "AND created_at >= ? AND created_at < ? GROUP BY kind",
            ),
            (
                "latest own posts",
                "SELECT id FROM posts WHERE platform=? AND author_id=? "
                "AND created_at IS NOT NULL ORDER BY created_at DESC LIMIT 20",
            ),
        ):
            args = (
                (account.platform, account.id)
                if sql.count("?") == 2
                else (account.platform, account.id, "2020-01-01", "2030-01-01")
            )
            plan = "; ".join(
                str(row[-1])
                for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, args)
            )
            print(f"  plan, {label}: {plan}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000, help="posts in the database")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page")
    parser.add_argument(
        "--budget", type=float, default=60.0, help="seconds at most per page (fewer runs)"
    )
    parser.add_argument("--build-only", action="store_true", help="only build the database")
    args = parser.parse_args()
    if args.build_only:
        print(build(args.posts))
        return

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from kompas.store.db import create_engine, sqlite_url
    from kompas.web import create_app

    path = build(args.posts)
    engine = create_engine(sqlite_url(path))
    with engine.connect() as connection:
        counted = connection.exec_driver_sql("SELECT count(*) FROM posts").scalar_one()
        interactions = connection.exec_driver_sql("SELECT count(*) FROM interactions").scalar_one()
    print(f"database: {path.relative_to(ROOT)} ({counted:,} posts, {interactions:,} interactions)")
    _plans(engine)
    client = TestClient(create_app(engine))
    print(f"{'page':<34} {'cold ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'runs':>5}")
    worst = 0.0
    for page in PAGES:
        started = time.perf_counter()
        response = client.get(page)
        cold = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (page, response.status_code)
        times: list[float] = []
        deadline = time.perf_counter() + args.budget
        while len(times) < args.runs and time.perf_counter() < deadline:
            started = time.perf_counter()
            client.get(page)
            times.append((time.perf_counter() - started) * 1000)
        p50 = statistics.median(times)
        p95 = statistics.quantiles(times, n=20)[-1] if len(times) >= 2 else times[0]
        worst = max(worst, p95)
        print(f"{page:<34} {cold:>9.1f} {p50:>8.1f} {p95:>8.1f} {len(times):>5}")
    print(f"worst p95: {worst:.1f} ms (target < 100 ms)")


if __name__ == "__main__":
    main()
