"""Benchmark: people you keep on 1,000,000 posts and 3,000,000 interactions in SQLite —
``cadence_due`` (what ``kompas today`` reads for its reconnect actions), ``kompas today
--json`` with those cadences, and the store's part of ``kompas people show``.

Run it with ``.venv/bin/python bench/people_keep.py`` (``--posts`` and ``--interactions``
make a quicker try). What it does:

1. Takes the inbox benchmark's store (``bench/inbox.py``'s ``build``: a very busy
   Mastodon and Bluesky account) and copies it once to
   ``bench/out/people-keep-<posts>-<interactions>.db``, so the inbox benchmark's own store
   is never changed.
2. Sets 60 cadences, as a person would by hand (and generously): on the 50 accounts that
   exchanged most with the user on Mastodon, each with a tag and a note, and on 10
   Bluesky accounts that never did (due now).
3. Times, in-process, ``cadence_due`` and the store's part of ``people show`` (exchanges
   both ways, last exchange, notes, tags, cadence) by CPU (``time.process_time``) and
   wall time, median and worst after one cold run; then ``kompas today --json`` through
   the real CLI. The research verdict ``people show`` adds is ``people research``'s own
   cost (see ``bench/people.py``), not measured here.
4. Prints the SQLite plans of the two exchange look-ups, so a wrong index shows.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import inbox  # noqa: E402  (the inbox benchmark's store builder)

ME = "https://example.social/users/me"


def prepare(posts: int, interactions: int) -> tuple[Path, list[tuple[str, str]]]:
    """The copied store with its 60 cadences; returns it and the accounts kept."""
    from kompas.store import keep
    from kompas.store.db import create_engine, sqlite_url
    from kompas.store.identities import AccountRef

    source = inbox.build(posts, interactions)
    path = inbox.OUT / f"people-keep-{posts}-{interactions}.db"
    if not path.exists():
        partial = path.with_suffix(".partial.db")
        shutil.copyfile(source, partial)
        partial.rename(path)
    engine = create_engine(sqlite_url(path))
    now = datetime.now(UTC)
    with engine.begin() as connection:
        busiest = connection.exec_driver_sql(
            "SELECT actor_id, count(*) AS n FROM interactions WHERE platform = 'mastodon' "
            "AND kind IN ('reply', 'mention', 'quote') AND actor_id != ? "
            "GROUP BY actor_id ORDER BY n DESC, actor_id LIMIT 50",
            (ME,),
        ).all()
        quiet = connection.exec_driver_sql(
            "SELECT id FROM accounts WHERE platform = 'bluesky' AND NOT is_self "
            "AND id NOT IN (SELECT actor_id FROM interactions WHERE platform = 'bluesky' "
            "AND kind IN ('reply', 'mention', 'quote')) ORDER BY id LIMIT 10"
        ).all()
        kept = [("mastodon", str(a)) for a, _ in busiest] + [("bluesky", str(a)) for (a,) in quiet]
        for table in ("person_cadences", "person_tags", "person_notes"):
            connection.exec_driver_sql(f"DELETE FROM {table}")
        for number, (platform, account) in enumerate(kept):
            ref = AccountRef(platform, account)
            keep.set_cadence(connection, ref, 7 + number, now)
            keep.add_tag(connection, ref, "friend", now)
            keep.add_note(connection, ref, f"note {number}", now)
    engine.dispose()
    return path, kept


def timed(label: str, runs: int, work: Callable[[], object]) -> None:
    cpu: list[float] = []
    wall: list[float] = []
    for number in range(runs + 1):
        c0, w0 = time.process_time(), time.perf_counter()
        work()
        c1, w1 = time.process_time(), time.perf_counter()
        if number:
            cpu.append(c1 - c0)
            wall.append(w1 - w0)
        else:
            print(f"  cold {label}: cpu {c1 - c0:.3f} s, wall {w1 - w0:.3f} s")
    print(
        f"  {label}: cpu median {statistics.median(cpu):.3f} s, worst {max(cpu):.3f} s; "
        f"wall median {statistics.median(wall):.3f} s ({runs} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=3_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    path, kept = prepare(args.posts, args.interactions)

    from kompas.store import keep
    from kompas.store.db import create_engine, sqlite_url
    from kompas.store.identities import AccountRef

    engine = create_engine(sqlite_url(path))
    as_of = inbox.END
    with engine.connect() as connection:
        due = keep.cadence_due(connection, as_of)
    print(f"{path.name}: {len(kept)} cadences, {len(due)} due at {as_of:%Y-%m-%d}")

    def cadences() -> object:
        with engine.connect() as connection:
            return keep.cadence_due(connection, as_of)

    def show() -> object:
        ref = AccountRef(*kept[0])
        with engine.connect() as connection:
            _, refs = keep.person_of(connection, ref)
            days = keep.cadence_for(connection, refs)
            assert days is not None
            return (
                keep.exchanges(connection, refs),
                keep.last_exchange(connection, refs),
                keep.notes_for(connection, refs),
                keep.tags_for(connection, refs),
                keep.cadence_state(connection, ref, days, as_of),
            )

    timed("cadence_due (60 cadences)", args.runs, cadences)
    timed("people show, the store's part", args.runs, show)
    home = inbox.OUT / "people-keep-home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "strategy.yaml").write_text(inbox.STRATEGY)
    cpu, wall = inbox._run(home, path, ["today", "--json"], args.runs)
    print(
        f"  kompas today --json (with the cadences): cpu median {statistics.median(cpu):.3f} s, "
        f"worst {max(cpu):.3f} s; wall median {statistics.median(wall):.3f} s"
    )
    engine.dispose()
    db = sqlite3.connect(path)
    other = kept[0][1]
    for label, sql, values in (
        (
            "given (the user to them)",
            "SELECT max(created_at) FROM interactions WHERE platform = 'mastodon' "
            "AND target_account_id = ? AND (actor_id || '') = ? "
            "AND kind IN ('reply', 'mention', 'quote')",
            (other, ME),
        ),
        (
            "received (them to the user)",
            "SELECT max(created_at) FROM interactions WHERE platform = 'mastodon' "
            "AND actor_id = ? AND (target_account_id || '') = ? "
            "AND kind IN ('reply', 'mention', 'quote')",
            (other, ME),
        ),
    ):
        plan = "; ".join(str(r[-1]) for r in db.execute("EXPLAIN QUERY PLAN " + sql, values))
        print(f"  plan, {label}: {plan}")
    db.close()


if __name__ == "__main__":
    main()
