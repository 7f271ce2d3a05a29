"""Every reproducer of issue #17 (``tests/data/malformed/``, see its README and PROVENANCE)
as a regression case: fed to ``kompas import`` on a workspace that already holds data, each
gives exit 1 and one line naming the file (or, where the content is valid, a successful
import), the store stays exactly as it was, and no traceback is ever printed. The bombs run
in their own process under a memory cap and must be refused within 5 s of CPU and 300 MB."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import DATA, MASTODON_ARCHIVE, Kompas

MALFORMED = DATA / "malformed"
BOMBS = MALFORMED / "bombs"
KOMPAS = str(Path(sys.executable).with_name("kompas"))
KINDS = {
    "x": "x-archive",
    "mastodon": "mastodon-archive",
    "linkedin": "linkedin",
    "bluesky": "bluesky-car",
    "opml": "opml",
}

#: What each message must say, where the reproducer names a specific defect (the rest must
#: still be exit 1 with one line naming the file).
SAYS = {
    "linkedin-corrupt-deflate-zlib-error.zip": "damaged archive: Shares.csv is corrupt",
    "linkedin-markup-in-header.zip": "found: [/], x",
    "mastodon-actor-name-object.tar.gz": "actor.json, field name: Expected str | null, got object",
    "mastodon-actor-nested-100k.tar.gz": "actor.json: Expected object, got array",
    "mastodon-actor-published-year-0001.tar.gz": "actor.json: published",
    "mastodon-content-list.tar.gz": "field object.content",
    "mastodon-corrupt-gzip-zlib-error.tar.gz": "damaged archive: outbox.json is corrupt",
    "mastodon-damaged-gzip-imported-silently.tar.gz": "damaged archive:",
    "mastodon-damaged-gzip-misleading-no-actor.tar.gz": "damaged archive:",
    "mastodon-duplicate-actor.tar.gz": "actor.json: the archive holds this member twice",
    "mastodon-markup-in-csv-header.tar.gz": "found: [/], x",
    "mastodon-tag-true.tar.gz": "field object.tag",
    "bluesky-createdat-year-0001-overflow.car": "createdAt",
    "bluesky-langs-object-keyerror.car": "field langs",
    "bluesky-mst-cycle-recursion.car": "a cycle",
    "bluesky-text-object-sqlite-error.car": "field text",
    "opml-atheris-udf8-encoding.opml": "unknown text encoding",
    "opml-empty-xmlurl.opml": "is not an http(s) URL",
    "opml-nested-1100.opml": "nested more than",
    "opml-unknown-encoding.opml": "unknown text encoding",
    "x-account-5000-digit-number.zip": "data/account.js",
    "x-account-nested-100k.zip": "data/account.js: Expected object, got array",
    "x-corrupt-deflate-zlib-error.zip": "damaged archive: data/tweets.js is corrupt",
    "x-created-at-number.zip": "record 1, field tweet.created_at: Expected str | null, got float",
    "x-created-at-year-0001.zip": "created_at",
    "x-duplicate-account-js.zip": "data/account.js: the archive holds this member twice",
    "x-full-text-object.zip": "field tweet.full_text",
    "x-lang-list.zip": "field tweet.lang",
    "x-markup-in-member-name.zip": "[/]x.js",
    "x-mention-not-object.zip": "field tweet.entities.user_mentions[0]",
    "x-reply-user-list.zip": "field tweet.in_reply_to_user_id_str",
    "x-source-number.zip": "field tweet.source",
    "x-truncated-zip-message-lists-tar-methods.zip": "truncated zip archive",
    "x-tweets-nested-1m.zip": "data/tweets.js, record 1",
    "x-urls-is-string.zip": "field tweet.entities.urls",
    "x-username-lone-surrogate.zip": "data/account.js",
}
#: Valid content in an unusual shape: imported.
IMPORTED = {"bluesky-mst-5000-deep-recursion.car"}
CASES = sorted(p.name for p in MALFORMED.iterdir() if p.is_file() and p.suffix != ".md")
CASES = [name for name in CASES if not name.endswith(".txt")]


def kind_of(name: str) -> str:
    return KINDS[name.split("-", 1)[0]]


@pytest.fixture(scope="module")
def holding_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace that already holds the Mastodon sample."""
    home = tmp_path_factory.mktemp("template") / "home"
    assert Kompas(home)("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    return home


@pytest.fixture
def kompas_with_data(holding_data: Path, tmp_path: Path) -> Iterator[Kompas]:
    home = tmp_path / "home"
    shutil.copytree(holding_data, home)
    yield Kompas(home)


def snapshot(home: Path) -> list[tuple[object, ...]]:
    """Every row of every table, and the integrity check."""
    with sqlite3.connect(home / "kompas.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows: list[tuple[object, ...]] = []
        for table in sorted(tables):
            rows += [(table, *row) for row in db.execute(f'SELECT * FROM "{table}" ORDER BY 1')]
        return rows


def test_every_reproducer_is_a_case() -> None:
    assert len(CASES) == 37  # the issue counted 36; the folder holds 37
    assert set(SAYS) | IMPORTED == set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_reproducer(kompas_with_data: Kompas, name: str) -> None:
    home = kompas_with_data.home
    before = snapshot(home)
    result = kompas_with_data("import", kind_of(name), MALFORMED / name)
    assert "Traceback" not in result.output
    if name in IMPORTED:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {MALFORMED / name}"), lines[0]
    assert SAYS[name] in lines[0], lines[0]
    assert result.stdout == ""
    assert snapshot(home) == before


# ------------------------------------------------------------------------------- bombs

CPU_SECONDS = 5.0
PEAK_BYTES = 300 * 1024**2
#: The address-space cap the bombs run under (the interpreter and its libraries map about
#: 200 MB before reading anything).
ADDRESS_SPACE = 600 * 1024**2


#: Runs the command under the cap in a child of its own and prints its exit code, CPU time
#: and peak RSS. Linux carries ``ru_maxrss`` across exec, so a child forked straight from this
#: (large) test process would report this process's peak as its own; forked from this small
#: interpreter, it reports only what it used itself.
_MEASURED = """
import json, os, resource, sys
cap = int(sys.argv[1])
pid = os.fork()
if pid == 0:
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
code = os.waitstatus_to_exitcode(status)
print(json.dumps([code, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024]))
"""


def run_capped(*args: str | Path, home: Path) -> tuple[int, str, float, int]:
    """Run kompas under the memory cap; exit code, stderr, CPU seconds and peak RSS."""
    command = [KOMPAS, "--home", str(home), *map(str, args)]
    result = subprocess.run(
        [sys.executable, "-c", _MEASURED, str(ADDRESS_SPACE), *command],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    code, cpu, peak = json.loads(result.stdout)
    return code, result.stderr, cpu, peak


BOMB_SAYS = {
    "linkedin-one-1500MiB-line.zip": "Shares.csv: member inflates 1,028 times",
    "mastodon-400k-members.tar.gz": "more than 50,000 members",
    "x-3-parts-1000MiB-spaces.zip": "data/tweets-part1.js: member inflates 1,028 times",
    "x-account-1500MiB-spaces.zip": "data/account.js: member inflates 1,028 times",
    "x-tweets-1900MiB-spaces.zip": "data/tweets.js: member inflates 1,028 times",
}


def test_every_bomb_is_a_case() -> None:
    assert sorted(p.name for p in BOMBS.iterdir()) == sorted(BOMB_SAYS)


@pytest.mark.parametrize("name", sorted(BOMB_SAYS))
def test_bomb_is_refused_quickly_in_bounded_memory(tmp_path: Path, name: str) -> None:
    code, stderr, cpu, peak = run_capped("import", kind_of(name), BOMBS / name, home=tmp_path)
    assert code == 1, stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert BOMB_SAYS[name] in stderr
    assert "KOMPAS_MAX_" in stderr  # says which limit, and so how to raise it
    assert cpu < CPU_SECONDS, cpu
    assert peak < PEAK_BYTES, peak
