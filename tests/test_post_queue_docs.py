"""The cron line and the systemd units of ``docs/post.md`` (the Queue section) work as
printed: the units parse as systemd reads them (and pass ``systemd-analyze verify`` where
systemd is installed), and the cron line and the service's ``ExecStart`` — run as written,
in a home folder with ``kompas`` at ``~/.local/bin`` and the default workspace — send the
posts that are due to a Mastodon instance on 127.0.0.1."""

from __future__ import annotations

import configparser
import html
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kompas.workspace import Workspace
from sync_support import MastodonFake, mastodon_instance
from test_post_queue_run import writable

DOC = Path(__file__).parents[1] / "docs" / "post.md"
KOMPAS = Path(sys.executable).with_name("kompas")


def queue_section() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("\n## Queue\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def block(after: str, language: str) -> str:
    """The fenced ``language`` block that follows the text ``after`` in the Queue section."""
    section = queue_section()
    found = re.search(re.escape(after) + r".*?```" + language + r"\n(.*?)```", section, flags=re.S)
    assert found, f"no ```{language} block after {after!r} in docs/post.md"
    return found.group(1)


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(block(f"`~/.config/systemd/user/{name}`", "ini"))
    return parser


def a_home(tmp_path: Path) -> dict[str, str]:
    """An environment whose home has kompas at ~/.local/bin, and no workspace override."""
    home = tmp_path / "user"
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".local" / "state").mkdir(parents=True)
    (home / ".local" / "bin" / "kompas").symlink_to(KOMPAS)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KOMPAS_HOME", "KOMPAS_DB", "XDG_"))
    }
    return {**env, "HOME": str(home), "KOMPAS_RETRY_ATTEMPTS": "2", "KOMPAS_RETRY_MAX_WAIT": "0"}


def published(fake: MastodonFake) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", s["content"])) for s in fake.posted]


def queue_now(env: dict[str, str], text: str) -> None:
    done = subprocess.run(
        [str(KOMPAS), "post", "queue", text, "--at", "now", "--to", "mastodon"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture
def fake() -> object:
    with mastodon_instance() as instance:
        yield instance


def test_the_systemd_units_are_what_systemd_reads(tmp_path: Path) -> None:
    service, timer = unit("kompas-post.service"), unit("kompas-post.timer")
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["ExecStart"] == "%h/.local/bin/kompas post run"
    assert timer["Timer"]["OnCalendar"] == "*:0/5"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"
    # The timer starts the service of its own name: the file names the docs give.
    assert "kompas-post.service`" in queue_section() and "kompas-post.timer`" in queue_section()
    if shutil.which("systemd-analyze"):
        folder = tmp_path / "units"
        folder.mkdir()
        text = block("`~/.config/systemd/user/kompas-post.service`", "ini")
        (folder / "kompas-post.service").write_text(
            text.replace("%h/.local/bin/kompas", str(KOMPAS)), encoding="utf-8"
        )
        (folder / "kompas-post.timer").write_text(
            block("`~/.config/systemd/user/kompas-post.timer`", "ini"), encoding="utf-8"
        )
        checked = subprocess.run(
            ["systemd-analyze", "verify", *sorted(map(str, folder.iterdir()))],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert checked.returncode == 0, checked.stderr
        assert "ignoring" not in checked.stderr and "Unknown" not in checked.stderr


def test_the_cron_line_and_the_services_command_send_what_is_due(
    fake: MastodonFake, tmp_path: Path
) -> None:
    env = a_home(tmp_path)
    workspace = Workspace.resolve(None, None)  # the default workspace, under this HOME
    home = Path(env["HOME"]) / ".local" / "share" / "kompas"
    assert workspace.home != home  # (the test's own HOME is another)
    writable(home, fake)

    line = block("With **cron**", "cron").strip()
    fields = line.split(None, 5)
    assert fields[:5] == ["*/5", "*", "*", "*", "*"]
    queue_now(env, "Sent by cron")
    cron = subprocess.run(["/bin/sh", "-c", fields[5]], env=env, timeout=120)
    assert cron.returncode == 0
    log = (Path(env["HOME"]) / ".local" / "state" / "kompas-post.log").read_text()
    assert "#1 sent to mastodon: " in log
    assert published(fake) == ["Sent by cron"]

    queue_now(env, "Sent by the systemd timer")
    command = unit("kompas-post.service")["Service"]["ExecStart"].replace("%h", env["HOME"])
    started = subprocess.run(
        shlex.split(command), env=env, capture_output=True, text=True, timeout=120
    )
    assert started.returncode == 0, started.stderr
    assert "#2 sent to mastodon: " in started.stdout
    assert published(fake) == ["Sent by cron", "Sent by the systemd timer"]
