"""Benchmark: cold dashboard pages on the bundled samples (issue #18: under 1 s).

Run it with ``OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/pages.py``. It builds the
``make demo`` workspace (the X, Mastodon, LinkedIn, Bluesky and OPML samples imported, the
starter strategy), then serves each page from a fresh process (FastAPI's TestClient: the
full app, no socket) and prints the first request's wall and CPU milliseconds, and a second
request's: once right after the imports (the first read derives the store's exchanges) and
once after what ``kompas serve`` does when it starts (``kompas.web.pillars.prepare``: the
exchanges derived, the pillars imported, the language detector loaded, in a thread while
the server comes up), which is what a user who opens the dashboard meets.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
BIN = Path(sys.executable).parent
IMPORTS = (
    ("x-archive", DATA / "x-archive" / "milahu104" / "archive.zip"),
    ("mastodon-archive", DATA / "mastodon-archive" / "dealingwith" / "archive.tar.gz"),
    ("linkedin", DATA / "linkedin" / "sanand0" / "export.zip"),
    ("bluesky-car", DATA / "bluesky" / "repo.car"),
    ("opml", DATA / "opml" / "subscriptions.opml"),
)
PAGES = ("/", "/community", "/strategy", "/people", "/inbox")
SCRIPT = """
import sys, time, warnings
warnings.simplefilter("ignore")
from fastapi.testclient import TestClient
from kompas.web import create_app
from kompas.workspace import Workspace
workspace = Workspace.resolve(sys.argv[1])
if sys.argv[3] == "prepared":
    from kompas.web.pillars import prepare
    prepare(workspace.engine)
client = TestClient(create_app(workspace.engine, home=workspace.home))
page = sys.argv[2]
wall, cpu = time.perf_counter(), time.process_time()
assert client.get(page).status_code == 200, page
cold = (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000
wall = time.perf_counter()
client.get(page)
print(f"{cold[0]:.0f} {cold[1]:.0f} {(time.perf_counter() - wall) * 1000:.0f}")
"""


def _demo(home: Path) -> None:
    """The ``make demo`` workspace."""
    for kind, path in IMPORTS:
        subprocess.run(
            [str(BIN / "kompas"), "--home", str(home), "import", kind, str(path)],
            check=True,
            capture_output=True,
        )
    subprocess.run(
        [str(BIN / "kompas"), "--home", str(home), "strategy", "init"],
        check=True,
        capture_output=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", nargs="*", default=list(PAGES), help="the pages to time")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="pages-") as folder:
        built = Path(folder) / "demo"
        _demo(built)
        for when in ("after the imports", "prepared"):
            print(f"{when}:")
            for page in args.pages:
                home = Path(folder) / "home"
                shutil.rmtree(home, ignore_errors=True)
                shutil.copytree(built, home)
                output = subprocess.run(
                    [sys.executable, "-c", SCRIPT, str(home), page, when.split()[0]],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.split()
                wall, cpu, again = (float(v) for v in output)
                mark = "✓" if wall < 1000 else "✗"
                print(
                    f"  {page:12s} cold {wall:6.0f} ms wall {cpu:6.0f} ms CPU {mark}   "
                    f"second request {again:5.0f} ms"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
