"""How fast ``kompas sync`` stores pages from a local recorded server (no network).

    .venv/bin/python bench/sync.py [STATUSES]

Serves the test suite's recorded Mastodon instance and Bluesky PDS+AppView on 127.0.0.1
and times one full first sync of each, printing items per second. Most of the Mastodon
time is Mastodon.py turning JSON into its typed entities.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from pytest_httpserver import HTTPServer

from kompas.sync import bluesky, credentials, mastodon
from kompas.sync.http import RetryPolicy
from kompas.workspace import Workspace
from sync_support import (
    ACCESS_TOKEN,
    APP_PASSWORD,
    CLIENT_SECRET,
    BlueskyFake,
    MastodonFake,
)


def main(size: int) -> None:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    base = server.url_for("").rstrip("/")
    try:
        fake = MastodonFake(base, statuses=size, page=40)
        server.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
        home = Path(tempfile.mkdtemp())
        credentials.save(
            home,
            "mastodon",
            {
                "instance": base,
                "client_id": "c",
                "client_secret": CLIENT_SECRET,
                "access_token": ACCESS_TOKEN,
                "account_id": fake.me["uri"],
                "api_id": "1",
            },
        )
        engine = Workspace.resolve(home).engine
        started = time.perf_counter()
        report = mastodon.sync(engine, home, RetryPolicy(), streams=("statuses",))
        took = time.perf_counter() - started
        items = report.streams["statuses"].items
        print(f"mastodon statuses: {items} in {took:.2f} s = {items / took:,.0f}/s")
        server.clear()

        sky = BlueskyFake(posts=size * 5, likes=50, follows=50, followers=50, notifications=50)
        server.expect_request(re.compile(".*")).respond_with_handler(sky.handle)
        home = Path(tempfile.mkdtemp())
        credentials.save(
            home,
            "bluesky",
            {
                "service": base,
                "handle": sky.me["handle"],
                "did": sky.did,
                "app_password": APP_PASSWORD,
            },
        )
        engine = Workspace.resolve(home).engine
        started = time.perf_counter()
        report = bluesky.sync(engine, home, RetryPolicy(), streams=("repo",))
        took = time.perf_counter() - started
        items = report.streams["repo"].items
        print(f"bluesky repo records: {items} in {took:.2f} s = {items / took:,.0f}/s")
    finally:
        server.clear()
        server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
