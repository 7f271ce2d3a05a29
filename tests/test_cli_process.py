"""The installed ``kompas`` command as a user runs it: help everywhere, exit codes, a
kill -9 in the middle of an import, and memory that stays flat as the archive grows."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import MASTODON_ARCHIVE, X_ARCHIVE
from samples import grown_x_archive, mastodon_counts

KOMPAS = str(Path(sys.executable).with_name("kompas"))


def run(*args: str | Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KOMPAS, "--home", str(home), *map(str, args)], capture_output=True, text=True, timeout=120
    )


COMMANDS = [
    [],
    ["import"],
    ["import", "x-archive"],
    ["import", "mastodon-archive"],
    ["import", "bluesky-car"],
    ["import", "linkedin"],
    ["import", "opml"],
    ["status"],
    ["people"],
    ["people", "link"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "kompas")
def test_help_on_every_command(tmp_path: Path, command: list[str]) -> None:
    result = run(*command, "--help", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout and "--help" in result.stdout


def test_exit_codes(tmp_path: Path) -> None:
    assert run("import", "x-archive", home=tmp_path).returncode == 2  # missing argument
    assert run("no-such-command", home=tmp_path).returncode == 2
    missing = run("import", "x-archive", tmp_path / "nope.zip", home=tmp_path)
    assert missing.returncode == 1
    assert "nope.zip: no such file or folder" in missing.stderr
    assert missing.stdout == ""


def _peak_rss_kib(*args: str | Path, home: Path) -> int:
    process = subprocess.Popen(
        [KOMPAS, "--home", str(home), *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return usage.ru_maxrss


def test_memory_stays_flat_as_the_archive_grows(tmp_path: Path) -> None:
    small = grown_x_archive(X_ARCHIVE, tmp_path / "small.zip", 3_000)
    large = grown_x_archive(X_ARCHIVE, tmp_path / "large.zip", 30_000)
    small_rss = _peak_rss_kib("import", "x-archive", small, home=tmp_path / "a")
    large_rss = _peak_rss_kib("import", "x-archive", large, home=tmp_path / "b")
    # Ten times the tweets; a reader that loads the file whole grows by well over 100 MB here.
    assert large_rss < small_rss + 40 * 1024, (small_rss, large_rss)


def test_kill_9_mid_import_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run("import", "mastodon-archive", MASTODON_ARCHIVE, home=home).returncode == 0
    before = run("status", "--json", home=home).stdout
    archive = grown_x_archive(X_ARCHIVE, tmp_path / "big.zip", 30_000)
    process = subprocess.Popen(
        [KOMPAS, "--home", str(home), "import", "x-archive", str(archive)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wal = home / "kompas.db-wal"
    deadline = time.monotonic() + 60
    # Kill once the import has written several batches into the write-ahead log.
    while time.monotonic() < deadline and (not wal.exists() or wal.stat().st_size < 2 << 20):
        time.sleep(0.01)
    assert process.poll() is None, "the import finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert run("status", "--json", home=home).stdout == before
    # And the next run imports everything, once.
    assert run("import", "x-archive", archive, home=home).returncode == 0
    platforms = json.loads(run("status", "--json", home=home).stdout)["platforms"]
    assert platforms["x"]["posts"] == 30_000
    assert platforms["mastodon"] == mastodon_counts(MASTODON_ARCHIVE)
