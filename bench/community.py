"""Benchmark: the community report against ``kompas status`` on the same store (issue #18).

Run it with ``OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/community.py --posts 200000``
(``--home DIR`` reuses a store it built before; ``--reference`` also times the pure-Python
reference over loaded rows). It builds an X archive shaped like the real sample (as
``bench/scale.py`` does), imports it, then runs, each in its own process, alternating
``--rounds`` times: ``kompas status``, ``kompas community --all --json`` and ``kompas review
--week``, and prints each one's CPU seconds (user + system) and peak RSS, and the ratios the
issue sets: community ≤ 3x the CPU and ≤ 2x the peak memory of status.

The first read after an import derives the store's exchange tables
(:mod:`kompas.store.exchanges`); it is timed on its own (``community --all``, first after
the import) before the rounds.

With ``--before SRC`` (the ``src`` folder of another checkout, e.g. from ``git archive``)
the same commands also run with that code, alternating, on their own copy of the store
(imported by that code, so its schema is the one it knows).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from import_x import (
    MB,
    OUT,
    Run,
    child_environment,
    measure,
)
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


@contextmanager
def code(src: Path | None) -> Iterator[None]:
    """Run kompas from ``src`` (``None``: this checkout) inside the block."""
    saved = os.environ.get("PYTHONPATH")
    if src is not None:
        os.environ["PYTHONPATH"] = str(src.resolve())
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def _store(posts: int, home: Path, src: Path | None, spread: int) -> None:
    archive = home.parent / f"x-{posts}.zip"
    build_archive(posts, archive, datetime.now(UTC), spread)
    with code(src):
        env = child_environment()
        subprocess.run(kompas(home, "import", "x-archive", str(archive)), check=True, env=env)
        subprocess.run(kompas(home, "strategy", "init"), capture_output=True, check=True, env=env)
    archive.unlink()


def _commands(home: Path, reference: bool) -> dict[str, list[str]]:
    found = {
        "status": kompas(home, "status"),
        "community --all --json": kompas(home, "community", "--all", "--json"),
        "review --week": kompas(home, "review", "--week"),
    }
    if reference:
        found["reference (loaded rows)"] = [sys.executable, "-c", REFERENCE, str(home)]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200_000, help="posts in the archive")
    parser.add_argument("--home", type=Path, help="a workspace this bench built before")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds")
    parser.add_argument("--reference", action="store_true", help="time the reference too")
    parser.add_argument("--before", type=Path, help="another checkout's src folder")
    parser.add_argument(
        "--spread", type=int, default=1, help="days between copies of the sample (see above)"
    )
    parser.add_argument("--keep", type=Path, help="keep the store built here")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} at the start")
    with tempfile.TemporaryDirectory(prefix="community-", dir=OUT) as folder:
        home = Path(folder) / "home"
        if args.home is None:
            _store(args.posts, home, args.before, args.spread)
            if args.keep is not None:
                shutil.copytree(home, args.keep)
        else:
            shutil.copytree(args.home, home)
        codes: dict[str, Path | None] = {"": None}
        commands = {name: (None, c) for name, c in _commands(home, args.reference).items()}
        if args.before is not None:
            before = Path(folder) / "before"
            shutil.copytree(home, before)
            codes["before: "] = args.before
            for name, command in _commands(before, False).items():
                commands[f"before: {name}"] = (args.before, command)
        log = Path(folder) / "log"
        for prefix, src in codes.items():  # compile each code's bytecode before timing it
            with code(src):
                measure(commands[f"{prefix}status"][1], log)
        for prefix, src in codes.items():  # the first read after the import derives
            with code(src):
                first = measure(commands[f"{prefix}community --all --json"][1], log)
            print(
                f"{prefix}community --all --json, first after the import (derives the "
                f"exchanges): {first.cpu_seconds:.2f} s CPU, {first.peak_bytes / MB:.0f} MB peak",
                flush=True,
            )
        runs: dict[str, list[Run]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, (src, command) in commands.items():
                with code(src):
                    runs[name].append(measure(command, log))
    cpu = {name: statistics.median(r.cpu_seconds for r in found) for name, found in runs.items()}
    peak = {name: max(r.peak_bytes for r in found) for name, found in runs.items()}
    for name in commands:
        print(f"{name}: {cpu[name]:.2f} s CPU, {peak[name] / MB:.0f} MB peak")
    for prefix in codes:
        community, status = f"{prefix}community --all --json", f"{prefix}status"
        print(
            f"{prefix}community / status: {cpu[community] / cpu[status]:.1f}x CPU (target ≤ 3x), "
            f"{peak[community] / peak[status]:.2f}x peak memory (target ≤ 2x)"
        )
        print(f"{prefix}review --week: {cpu[f'{prefix}review --week']:.2f} s CPU (target < 1 s)")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
