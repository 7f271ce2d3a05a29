"""Benchmark: how kompas grows with the size of a user's history (issue #18, point 5).

Run it with ``make scale`` or ``.venv/bin/python bench/scale.py`` (``--sizes 10000,100000``
for a quicker try; the default is 10,000, 100,000 and 1,000,000 posts). Never part of the
test suite: at a million posts it takes the better part of an hour.

Per size it:

1. builds an X archive shaped like the real sample (``tests/data/x-archive/milahu104``): its
   2,045 tweets repeated with fresh ids, copy ``k`` moved ``k`` days into the past and the
   newest copy ending today, so that ``review --week`` and the dashboard see a recent week
   as dense as the sample's (the sample's other files, follows and likes, as they are);
2. imports it (``kompas import x-archive``) into a fresh workspace and measures the CPU
   time (user + system) and the peak RSS of that process;
3. runs ``kompas status``, ``kompas community --all --json`` and ``kompas review --week``
   (after ``kompas strategy init``) in their own processes, the same way;
4. serves the dashboard in a fresh process (FastAPI's TestClient: the whole ASGI stack)
   and times the first (cold) and the median of three more (warm) requests of the
   Overview, Community and Strategy pages.

and prints one table, every figure measured in this run: the rows of
``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from import_x import (
    MB,
    OUT,
    SAMPLE,
    Run,
    _covering_first,
    child_environment,
    measure,
    write_archive,
)

BIN = Path(sys.executable).parent
PAGES = ("/", "/community", "/strategy")
_ID = "__KOMPAS_SCALE_ID__"
_WHEN = "__KOMPAS_SCALE_WHEN__"
FIRST_ID = 2_000_000_000_000_000_000
#: A first, unshown round this small compiles the bytecode every measured run then reuses.
WARM_UP_POSTS = 500
X_TIME = "%a %b %d %H:%M:%S +0000 %Y"


def build_archive(posts: int, target: Path, today: datetime, spread: int = 1) -> None:
    """An X archive of ``posts`` tweets: the sample's tweets repeated with fresh ids, copy
    ``k`` moved ``k * spread`` days back, the newest ending ``today`` (see the module
    docstring). ``spread`` 1 is this bench's shape (200,000 posts in 41 weeks, ~700 a day);
    ``bench/community.py`` also uses 14, four years of a busy account (~130 a day)."""
    with zipfile.ZipFile(SAMPLE) as sample:
        members = {Path(name).name: name for name in sample.namelist() if name.endswith(".js")}
        others = {name: sample.read(member) for name, member in members.items()}
    source = others.pop("tweets.js")
    items = _covering_first(json.loads(source[source.index(b"=") + 1 :]))
    moments = [datetime.strptime(i["tweet"]["created_at"], X_TIME) for i in items]
    forward = today.replace(tzinfo=None) - max(moments)  # the newest copy ends today
    templates = []
    for item in items:
        item["tweet"]["id_str"] = item["tweet"]["id"] = _ID
        item["tweet"]["created_at"] = _WHEN
        text = json.dumps([item], indent=2, separators=(",", " : "), ensure_ascii=False)
        templates.append(text[2:-2])

    def tweet(number: int) -> str:
        copy, index = divmod(number, len(templates))
        when = moments[index] + forward - timedelta(days=copy * spread)
        return (
            templates[index]
            .replace(f'"{_ID}"', f'"{FIRST_ID + number}"')
            .replace(_WHEN, when.strftime(X_TIME))
        )

    write_archive(target, others, "tweets.js", posts, tweet)


def cpu_model() -> str:
    """The processor's name, as ``/proc/cpuinfo`` gives it (Linux), else the platform's."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} {five:.1f} {fifteen:.1f}"


def kompas(home: Path, *args: str) -> list[str]:
    """The command line of ``kompas --home HOME ARGS``."""
    return [str(BIN / "kompas"), "--home", str(home), *args]


def dashboard_times(home: Path, limit: float) -> dict[str, tuple[float, float]]:
    """Cold and warm milliseconds per page, from a fresh process; the pages not served
    within ``limit`` seconds in all are missing."""
    script = f"""
import json, statistics, sys, time, warnings
warnings.simplefilter("ignore")
from fastapi.testclient import TestClient
from kompas.web import create_app
from kompas.workspace import Workspace
workspace = Workspace.resolve({str(home)!r})
client = TestClient(create_app(workspace.engine, home=workspace.home))
for page in {PAGES!r}:
    started = time.perf_counter()
    assert client.get(page).status_code == 200, page
    cold = (time.perf_counter() - started) * 1000
    warm = []
    for _ in range(3):
        started = time.perf_counter()
        client.get(page)
        warm.append((time.perf_counter() - started) * 1000)
    print(json.dumps([page, cold, statistics.median(warm)]), flush=True)
"""
    try:
        output = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env=child_environment(),
            check=True,
            timeout=limit,
        ).stdout
    except subprocess.TimeoutExpired as expired:
        output = expired.stdout.decode() if isinstance(expired.stdout, bytes) else ""
    return {page: (cold, warm) for page, cold, warm in map(json.loads, output.splitlines())}


def one_size(posts: int, work: Path, today: datetime, limit: float) -> dict[str, Any]:
    """Every figure for one archive size."""
    archive = work / f"x-{posts}.zip"
    started = time.perf_counter()
    build_archive(posts, archive, today)
    print(f"  built {archive.name} in {time.perf_counter() - started:.0f} s", flush=True)
    home = work / f"home-{posts}"
    shutil.rmtree(home, ignore_errors=True)
    runs: dict[str, Run] = {}

    def run(name: str, *args: str) -> None:
        runs[name] = found = measure(kompas(home, *args), work / "log")
        print(
            f"  {name}: {found.cpu_seconds:.2f} s CPU, {found.peak_bytes / MB:.0f} MB", flush=True
        )

    run("import", "import", "x-archive", str(archive))
    run("status", "status")
    run("community --all", "community", "--all", "--json")
    subprocess.run(kompas(home, "strategy", "init"), capture_output=True, check=True)
    run("review --week", "review", "--week")
    pages = dashboard_times(home, limit)
    for page in PAGES:
        cold, warm = pages.get(page, (None, None))
        shown = f"{cold:,.0f} ms cold, {warm:,.0f} ms warm" if cold else f"over {limit:.0f} s"
        print(f"  dashboard {page}: {shown}", flush=True)
    return {"runs": runs, "pages": pages}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="posts per archive")
    parser.add_argument(
        "--page-limit", type=float, default=1800, help="seconds for all the dashboard pages"
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    today = datetime.now(UTC)
    OUT.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {os.cpu_count()} cores ({cpu_model()}), {_load()} at the start; "
        "CPU seconds are user + system of each process",
        flush=True,
    )
    figures: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="scale-", dir=OUT) as folder:
        one_size(WARM_UP_POSTS, Path(folder), today, args.page_limit)  # fills bytecode caches
        for posts in sizes:
            print(f"{posts:,} posts", flush=True)
            figures[posts] = one_size(posts, Path(folder), today, args.page_limit)
            print(f"  {_load()} after {posts:,} posts", flush=True)
    header = "| | " + " | ".join(f"{posts:,} posts" for posts in sizes) + " |"
    print(header)
    print("|---" * (len(sizes) + 1) + "|")
    for name in ("import", "status", "community --all", "review --week"):
        cells = [
            f"{figures[p]['runs'][name].cpu_seconds:.2f} s CPU, "
            f"{figures[p]['runs'][name].peak_bytes / MB:.0f} MB"
            for p in sizes
        ]
        print(f"| `{name}` | " + " | ".join(cells) + " |")
    for page in PAGES:
        cells = [
            "{:,.0f} ms cold, {:,.0f} ms warm".format(*figures[p]["pages"][page])
            if page in figures[p]["pages"]
            else f"over {args.page_limit:.0f} s"
            for p in sizes
        ]
        print(f"| dashboard `{page}` | " + " | ".join(cells) + " |")
    per_post = [figures[p]["runs"]["import"].cpu_seconds / p * 1e6 for p in sizes]
    print("import CPU per post: " + ", ".join(f"{v:.0f} µs" for v in per_post))
    print(f"median import CPU per post: {statistics.median(per_post):.0f} µs")
    print(f"machine: {os.cpu_count()} cores ({cpu_model()}), {_load()} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
