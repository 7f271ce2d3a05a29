"""One writer at a time: a second import (or sync, or feed pull) into the same workspace
waits for the first, saying so, and gives up with exit 1 and one line after
KOMPAS_LOCK_TIMEOUT; never a ``database is locked`` traceback. The workspace is private:
the folder 0700, the database 0600."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import OPML, X_ARCHIVE, Kompas
from kompas.workspace import Workspace

KOMPAS = str(Path(sys.executable).with_name("kompas"))


def start(*args: str | Path, home: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [KOMPAS, "--home", str(home), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def test_two_imports_at_once_both_succeed_one_after_the_other(tmp_path: Path) -> None:
    home = tmp_path / "home"
    Workspace.resolve(home).engine.dispose()  # the schema exists before both start
    first = start("import", "x-archive", X_ARCHIVE, home=home)
    second = start("import", "x-archive", X_ARCHIVE, home=home)
    outcomes = [p.communicate(timeout=300) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outcomes
    assert not any("Traceback" in err for _, err in outcomes)
    # Whichever came second found everything there already.
    assert sum("added nothing new" in out for out, _ in outcomes) == 1
    assert sum("waiting for another kompas import" in err for _, err in outcomes) <= 1


def test_a_second_writer_gives_up_after_the_timeout(tmp_path: Path) -> None:
    home = tmp_path / "home"
    workspace = Workspace.resolve(home)
    assert Kompas(home)("import", "opml", OPML).exit_code == 0  # feeds to pull
    with workspace.writing("a test"):
        started = time.monotonic()
        for command in (
            ["import", "x-archive", X_ARCHIVE],
            ["sync", "mastodon"],
            ["feeds", "pull"],
        ):
            process = start(*command, home=home, KOMPAS_LOCK_TIMEOUT="0.5")
            out, err = process.communicate(timeout=120)
            assert process.returncode == 1, (command, err)
            assert "waiting for another kompas import or sync" in err
            lines = [line for line in err.splitlines() if line.startswith("error:")]
            assert len(lines) == 1 and "another import is running" in lines[0], err
            assert "KOMPAS_LOCK_TIMEOUT" in lines[0] and "Traceback" not in err
            assert out == ""
    assert time.monotonic() - started < 120


def test_a_second_writer_waits_and_then_runs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    workspace = Workspace.resolve(home)
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with workspace.writing("a test"):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    process = start("import", "x-archive", X_ARCHIVE, home=home)
    assert process.stderr is not None
    said = process.stderr.readline()  # printed once it finds the lock held
    assert said == "waiting for another kompas import or sync to finish (importing archive.zip)…\n"
    time.sleep(0.5)
    assert process.poll() is None  # still waiting
    release.set()
    holder.join()
    out, err = process.communicate(timeout=300)
    assert "Imported" in out
    assert process.returncode == 0, err
    status = json.loads(Kompas(home)("status", "--json").stdout)
    assert status["platforms"]["x"]["posts"] > 0


def test_the_workspace_is_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    old = os.umask(0o022)
    try:
        assert Kompas(home)("import", "opml", OPML).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "kompas.db").stat().st_mode) == 0o600
    for sidecar in home.glob("kompas.db-*"):
        assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600, sidecar
