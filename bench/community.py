"""Benchmark: the community report against ``kompas status`` on the same store (issue #18).

Run it with ``OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/community.py --posts 200000``
(``--home DIR`` reuses a store it built before; ``--reference`` also times the pure-Python
reference over loaded rows). It builds an X archive shaped like the real sample (as
``bench/scale.py`` does), imports it, then runs, each in its own process, alternating
``--rounds`` times: ``kompas status``, ``kompas community --all --json`` and ``kompas review
--week``, and prints each one's CPU seconds (user + system) and peak RSS, and the ratios the
issue sets: community ≤ 3x the CPU and ≤ 2x the peak memory of status.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from import_x import MB, OUT, Run, measure
from scale import build_archive, kompas

REFERENCE = """
import sys, warnings
warnings.simplefilter("ignore")
from kompas.community import Period, compute
from kompas.store import community
from kompas.workspace import Workspace
with Workspace.resolve(sys.argv[1]).engine.connect() as connection:
    compute(community.load(connection), Period())
"""


def _store(posts: int, home: Path) -> None:
    archive = home.parent / f"x-{posts}.zip"
    build_archive(posts, archive, datetime.now(UTC))
    subprocess.run(kompas(home, "import", "x-archive", str(archive)), check=True)
    subprocess.run(kompas(home, "strategy", "init"), capture_output=True, check=True)
    archive.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200_000, help="posts in the archive")
    parser.add_argument("--home", type=Path, help="a workspace this bench built before")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds")
    parser.add_argument("--reference", action="store_true", help="time the reference too")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} at the start")
    with tempfile.TemporaryDirectory(prefix="community-", dir=OUT) as folder:
        home = args.home or Path(folder) / "home"
        if args.home is None:
            _store(args.posts, home)
        commands = {
            "status": kompas(home, "status"),
            "community --all --json": kompas(home, "community", "--all", "--json"),
            "review --week": kompas(home, "review", "--week"),
        }
        if args.reference:
            commands["reference (loaded rows)"] = [sys.executable, "-c", REFERENCE, str(home)]
        runs: dict[str, list[Run]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, command in commands.items():
                runs[name].append(measure(command, Path(folder) / "log"))
    cpu = {name: statistics.median(r.cpu_seconds for r in found) for name, found in runs.items()}
    peak = {name: max(r.peak_bytes for r in found) for name, found in runs.items()}
    for name in commands:
        print(f"{name}: {cpu[name]:.2f} s CPU, {peak[name] / MB:.0f} MB peak")
    community, status = "community --all --json", "status"
    print(
        f"community / status: {cpu[community] / cpu[status]:.1f}x CPU (target ≤ 3x), "
        f"{peak[community] / peak[status]:.2f}x peak memory (target ≤ 2x)"
    )
    print(f"review --week: {cpu['review --week']:.2f} s CPU (target < 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
