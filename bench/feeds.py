"""Benchmark: ``kompas feeds pull`` over 500 feeds served from 127.0.0.1, then again with
conditional GET.

Run it with ``.venv/bin/python bench/feeds.py`` (``--feeds N`` for a quicker try).

What it does:

1. Serves ``--feeds`` distinct feeds from a local threaded HTTP server on 127.0.0.1: each
   is one of the real-shaped fixtures in ``tests/data/feeds/`` with its guids and links
   made unique per feed, an ``ETag`` and a ``Last-Modified``, and honours
   ``If-None-Match``/``If-Modified-Since`` with ``304 Not Modified``.
2. Subscribes a fresh workspace to all of them and pulls twice, in process, through
   ``kompas.rules.pipeline.pull`` (what ``kompas feeds pull`` runs: fetch, store, dedupe,
   apply the curator style's rules), with kompas's default politeness: 16 requests at
   once, 4 per host (all 500 feeds share one host here, so 4 is the effective limit).
3. Prints both wall times, the items stored and how many feeds answered 304 the second
   time (all of them should).
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from kompas.rules import RuleSet, load_rules, pipeline
from kompas.rules.pipeline import PullReport
from kompas.store import feeds as store
from kompas.workspace import Workspace

ROOT = Path(__file__).parents[1]
FIXTURES = [
    (ROOT / "tests" / "data" / "feeds" / name).read_text(encoding="utf-8")
    for name in ("simonwillison-atom.xml", "pythoninsider-rss.xml", "mastodon-blog-rss.xml")
]
LAST_MODIFIED = "Tue, 25 Nov 2026 12:00:00 GMT"


def feed_body(number: int) -> bytes:
    text = FIXTURES[number % len(FIXTURES)]
    # Unique guids and links per feed, so every feed's entries are new items.
    for marker in (
        "tag:simonwillison.net,2026:",
        "post-",
        "https://blog.joinmastodon.org/2026/",
        "https://simonwillison.net/2026/",
        "https://pythoninsider.blogspot.com/2026/",
    ):
        text = text.replace(marker, f"{marker}f{number}-")
    # ...and unique titles, or the content-hash dedupe would (rightly) store one copy.
    text = text.replace("</title>", f" [{number}]</title>")
    return text.encode("utf-8")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        number = int(self.path.strip("/").split(".")[0].removeprefix("feed"))
        body = feed_body(number)
        etag = '"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"'
        if self.headers.get("If-None-Match") == etag or (
            self.headers.get("If-Modified-Since") == LAST_MODIFIED
        ):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/xml; charset=utf-8")
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", LAST_MODIFIED)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Server(ThreadingHTTPServer):
    """A threaded server whose listen backlog takes a burst of connections (the default,
    5, drops SYNs under 16 concurrent connects and costs a 1 s retransmit each)."""

    request_queue_size = 256
    daemon_threads = True


def serve(ports: multiprocessing.Queue[int]) -> None:
    """Serve the feeds forever, after telling the parent the port."""
    server = Server(("127.0.0.1", 0), Handler)
    ports.put(server.server_address[1])
    server.serve_forever()


def pull(workspace: Workspace, rules: RuleSet, per_host: int) -> tuple[float, PullReport]:
    started = time.perf_counter()
    report = pipeline.pull(workspace.engine, rules, per_host=per_host)
    return time.perf_counter() - started, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument(
        "--per-host",
        type=int,
        default=4,
        help="requests at once per host (kompas's default); every feed here is on one host",
    )
    args = parser.parse_args()
    # The server runs in its own process: in this one it would fight the client for the GIL.
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports,), daemon=True)
    server.start()
    port = ports.get(timeout=30)
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        workspace = Workspace.resolve(home)
        with workspace.engine.begin() as connection:
            for number in range(args.feeds):
                store.add_subscription(connection, f"http://127.0.0.1:{port}/feed{number}.xml")
        rules = load_rules(ROOT / "src" / "kompas" / "rules" / "templates" / "curator.yaml")
        first, report = pull(workspace, rules, args.per_host)
        second, again = pull(workspace, rules, args.per_host)
        workspace.engine.dispose()
    server.terminate()
    server.join()
    unchanged = sum(f.result.status == "not-modified" for f in again.feeds)
    print(
        f"first pull:  {args.feeds} feeds, {len(report.new_ids):,} new items, "
        f"{report.failed} failed: {first:.2f} s wall"
    )
    print(
        f"second pull: {unchanged} of {args.feeds} feeds 304 Not Modified, "
        f"{len(again.new_ids)} new items: {second:.2f} s wall"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
