"""Benchmark: the community figures of the milahu104 X sample (~2k posts, ~9k interactions).

Run it with ``.venv/bin/python bench/community.py`` (``--runs N``, default 5). It imports
the sample into a fresh temporary workspace, then computes the whole report (all time,
every figure, relationships and weekly trends) ``--runs`` times, loading the rows from the
database each time, and prints the median and the worst wall time. The issue's target is
under 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from kompas.community import Period, report
from kompas.importing import import_export
from kompas.workspace import Workspace

SAMPLE = Path(__file__).parent.parent / "tests" / "data" / "x-archive" / "milahu104" / "archive.zip"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="how many times to compute")
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as home:
        workspace = Workspace.resolve(home)
        import_export(workspace.engine, "x-archive", SAMPLE, None)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            with workspace.engine.connect() as connection:
                result = report(connection, Period())
            times.append(time.perf_counter() - started)
        workspace.engine.dispose()
    x = result.figures["x"]
    print(
        f"community report, X sample ({x.posts:,} posts, {x.people_interacted:,} people): "
        f"median {statistics.median(times):.3f} s, worst {max(times):.3f} s "
        f"over {runs} runs (target < 1 s)"
    )


if __name__ == "__main__":
    main()
