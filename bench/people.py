"""Benchmark: score 1,000,000 profiles from a JSON Lines file with ``kompas people score``.

The profiles are the labelled ones (Botwiki's user objects and the Gilani accounts, the
latter rebuilt as profiles from their band, ratio and age) repeated with jitter on counts
and dates, written in turn as X API v2 users, Mastodon accounts and Bluesky profile views.
Prints profiles/s end to end (a fresh ``kompas`` process reading the file and writing every
result) and the peak RSS of that process and its workers.

    .venv/bin/python bench/people.py [--profiles 1000000] [--data ../shared/data/bots]
        [--jobs N] [--keep /tmp/profiles.jsonl]

Also prints the CPU time of kompas and its workers (the machine may be shared, so wall
time alone understates the speed).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

from kompas.people.datasets import GILANI_COLUMNS, band_followers, gilani_files

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "bots"
NOW = datetime(2019, 6, 1, tzinfo=UTC)


def seeds(data: Path) -> list[dict[str, Any]]:
    """Platform-neutral seeds: handle, followers, following, posts, created, bio."""
    found: list[dict[str, Any]] = []
    botwiki = next(data.rglob("*botwiki*.json.gz"))
    with gzip.open(botwiki, "rt", encoding="utf-8") as handle:
        for record in json.load(handle):
            user = record["user"]
            found.append(
                {
                    "handle": user["screen_name"],
                    "followers": user["followers_count"],
                    "following": user["friends_count"],
                    "posts": user["statuses_count"],
                    "created": datetime.strptime(user["created_at"], "%a %b %d %H:%M:%S %z %Y"),
                    "bio": user["description"] or "",
                }
            )
    for folder in sorted({p.parent for p in data.rglob("bots.*.csv")}):
        for path, _label, band in gilani_files(folder):
            lines = path.read_text(encoding="utf-8").splitlines()[1:]
            for line in lines:
                values = dict(
                    zip(GILANI_COLUMNS, (v.strip() for v in line.split(",")), strict=False)
                )
                followers = int(band_followers(band))
                ratio = max(float(values["follower_friend_ratio"]), 1e-3)
                age = float(values["age_of_account_in_days"])
                found.append(
                    {
                        "handle": values["screen_name"],
                        "followers": followers,
                        "following": int(followers / ratio),
                        "posts": int(float(values["tweet_frequency"]) * age),
                        "created": NOW - timedelta(days=age),
                        "bio": "",
                    }
                )
    return found


def profile(seed: dict[str, Any], n: int, rng: random.Random) -> dict[str, Any]:
    """One jittered profile of ``seed``, in the shape of platform ``n % 3``."""

    def jitter(value: int) -> int:
        return max(0, int(value * rng.uniform(0.9, 1.1)))

    created = (seed["created"] + timedelta(days=rng.uniform(-30, 30))).isoformat()
    followers, following, posts = (jitter(seed[k]) for k in ("followers", "following", "posts"))
    kind = n % 3
    if kind == 0:
        return {
            "id": str(n),
            "username": seed["handle"],
            "name": seed["handle"],
            "created_at": created,
            "description": seed["bio"],
            "public_metrics": {
                "followers_count": followers,
                "following_count": following,
                "tweet_count": posts,
                "listed_count": jitter(3),
            },
        }
    if kind == 1:
        return {
            "id": str(n),
            "username": seed["handle"],
            "acct": f"{seed['handle']}@example.social",
            "display_name": seed["handle"],
            "bot": False,
            "created_at": created,
            "note": seed["bio"],
            "followers_count": followers,
            "following_count": following,
            "statuses_count": posts,
        }
    return {
        "did": f"did:plc:{n:024d}",
        "handle": f"{seed['handle'].lower()}.bsky.social",
        "displayName": seed["handle"],
        "description": seed["bio"],
        "createdAt": created,
        "followersCount": followers,
        "followsCount": following,
        "postsCount": posts,
    }


def write_profiles(path: Path, count: int, data: Path) -> None:
    """``count`` jittered profiles as JSON Lines."""
    rng = random.Random(0)
    pool = seeds(data)
    with path.open("w", encoding="utf-8") as handle:
        for n in range(count):
            handle.write(json.dumps(profile(pool[n % len(pool)], n, rng)) + "\n")


def main() -> None:
    """Writes the profiles, runs ``kompas people score`` on them, prints the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--jobs", type=int, default=0)
    parser.add_argument(
        "--keep",
        type=Path,
        help="Reuse this profile file if it exists (else write it there and keep it).",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        source = args.keep or Path(folder) / "profiles.jsonl"
        if not source.exists():
            write_profiles(source, args.profiles, args.data)
        size = source.stat().st_size
        kompas = Path(sys.executable).with_name("kompas")
        command = [str(kompas), "people", "score", str(source), "-o", str(Path(folder) / "out")]
        command += ["--jobs", str(args.jobs)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        process = psutil.Popen(command, stderr=subprocess.PIPE)
        peak = 0
        while process.poll() is None:
            try:
                family = [process, *process.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in family))
            except psutil.Error:
                pass
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # kompas and its workers (reaped by kompas) as CPU seconds: the machine may be shared.
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        if process.returncode != 0:
            sys.exit(f"kompas failed: {process.stderr.read().decode() if process.stderr else ''}")
        lines = sum(1 for _ in (Path(folder) / "out").open("rb"))
    print(
        f"scored {lines:,} profiles ({size / 1e6:,.0f} MB) in {elapsed:.1f} s: "
        f"{lines / elapsed:,.0f} profiles/s; peak RSS {peak / 1e6:,.0f} MB (kompas + workers)"
    )
    print(
        f"CPU {cpu:.1f} s (kompas + workers, user + system): {cpu / lines * 1e6:.2f} µs/profile, "
        f"{lines / cpu:,.0f} profiles per CPU-second; load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
