"""Each error case gets the right message and the documented exit code (issue #11, point
10): ``--version``; one exit code (2) for a bad flag value everywhere; a busy port is exit 1
before anything is announced; an offline host fails fast and retries are never silent; an
SDK that breaks on what a platform sent is exit 3; and the last line of defence turns an
unexpected error into one line plus a log in the workspace."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
import requests
from pytest_httpserver import HTTPServer

from conftest import Kompas

KOMPAS = str(Path(sys.executable).with_name("kompas"))


def run(*args: str | Path, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KOMPAS, "--home", str(home), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def test_version(tmp_path: Path) -> None:
    result = run("--version", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"kompas {version('kompas')}\n"


@pytest.mark.parametrize(
    "command",
    [
        ["digest", "--format", "pdf"],
        ["review", "--format", "pdf"],
        ["community", "--since", "yesterday"],
        ["community", "--half-life", "0"],
        ["today", "--date", "someday"],
        ["rules", "activity", "--since", "last tuesday"],
        ["digest", "--since", "last tuesday"],
        ["serve", "--port", "0"],
        ["lookup", "@a@b.example", "--posts", "-1"],
    ],
    ids=lambda c: " ".join(c),
)
def test_a_bad_flag_value_is_exit_2_everywhere(kompas: Kompas, command: list[str]) -> None:
    # With the files the commands read in place, so only the flag value is wrong.
    assert kompas("strategy", "init").exit_code == 0
    assert kompas("rules", "init", "--style", "connector").exit_code == 0
    result = kompas(*command)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def _busy_port() -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock, sock.getsockname()[1]


def test_serve_on_a_busy_port_is_exit_1_before_announcing(tmp_path: Path) -> None:
    sock, port = _busy_port()
    with sock:
        result = run("serve", "--port", str(port), home=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""  # never "kompas dashboard: http://..."
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# ------------------------------------------------------------- platforms and the network


def _gaierror() -> socket.gaierror:
    return socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def test_a_host_that_does_not_resolve_fails_fast_through_httpx() -> None:
    from kompas.sync.http import PlatformUnreachable, RetryingTransport, RetryPolicy

    calls: list[str] = []

    def offline(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        raise httpx.ConnectError("[Errno -2] Name or service not known") from _gaierror()

    waited: list[float] = []
    policy = RetryPolicy(sleep=waited.append)
    client = httpx.Client(transport=RetryingTransport(policy, httpx.MockTransport(offline)))
    with pytest.raises(PlatformUnreachable, match="does not resolve"):
        client.get("https://bsky.example/xrpc/app.bsky.actor.getProfile")
    assert len(calls) == 1 and waited == []


def test_a_host_that_does_not_resolve_fails_fast_through_requests() -> None:
    from kompas.sync.http import PlatformUnreachable, RetryingSession, RetryPolicy

    class Offline(requests.adapters.BaseAdapter):
        sent = 0

        def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
            Offline.sent += 1
            raise requests.ConnectionError("Failed to resolve") from _gaierror()

        def close(self) -> None:
            pass

    waited: list[float] = []
    session = RetryingSession(RetryPolicy(sleep=waited.append))
    session.mount("https://", Offline())
    with pytest.raises(PlatformUnreachable, match="does not resolve"):
        session.get("https://mastodon.example/api/v1/accounts/lookup")
    assert Offline.sent == 1 and waited == []


def test_a_refused_connection_is_still_retried_and_each_retry_is_announced() -> None:
    from kompas.sync.http import PlatformUnreachable, RetryingTransport, RetryPolicy

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    said: list[str] = []
    policy = RetryPolicy(attempts=3, sleep=lambda s: None, jitter=lambda: 0.0)
    policy.notify = said.append
    client = httpx.Client(transport=RetryingTransport(policy, httpx.MockTransport(refused)))
    with pytest.raises(PlatformUnreachable, match="gave up after 3 attempts"):
        client.get("https://bsky.example/xrpc/x")
    assert said == [
        "bsky.example: connection failed (ConnectError); retrying in 0 s (attempt 2 of 3)",
        "bsky.example: connection failed (ConnectError); retrying in 1 s (attempt 3 of 3)",
    ]


@pytest.fixture
def broken_instance() -> Iterator[str]:
    """A Mastodon instance that registers apps but whose version probe fails (HTTP 500 on
    /api/v1/instance): Mastodon.py recurses until RecursionError on it."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    server.expect_request("/api/v1/apps", method="POST").respond_with_json(
        {"client_id": "id", "client_secret": "secret"}
    )
    server.expect_request("/.well-known/oauth-authorization-server").respond_with_data(
        "not found", status=404
    )
    server.expect_request("/oauth/token", method="POST").respond_with_json(
        {"access_token": "t", "scope": "read", "token_type": "Bearer", "created_at": 1}
    )
    for path in ("/api/v1/instance", "/api/v2/instance"):
        server.expect_request(path).respond_with_data("oops", status=500)
    yield server.url_for("").rstrip("/")
    server.clear()
    server.stop()


def test_an_sdk_that_breaks_on_a_platform_answer_is_exit_3(
    broken_instance: str, tmp_path: Path
) -> None:
    result = run(
        "connect",
        "mastodon",
        "--instance",
        broken_instance,
        "--code",
        "abc",
        home=tmp_path,
        KOMPAS_RETRY_ATTEMPTS="2",
        KOMPAS_RETRY_BASE="0.01",
    )
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("platform")]
    assert len(lines) == 1 and "RecursionError" in lines[0], result.stderr
    assert not list(tmp_path.glob("logs/*"))  # a platform failure, not an internal error


# ------------------------------------------------------------- the last line of defence

_BOOM = """
import sys
from kompas.cli import app, main

@app.command("boom")
def boom() -> None:
    {}.get("a")["b"]  # a genuine bug: TypeError, 'NoneType' object is not subscriptable

sys.argv = ["kompas", "--home", sys.argv[1], "boom"]
main()
"""


def test_an_unexpected_error_is_one_line_and_a_log_in_the_workspace(tmp_path: Path) -> None:
    home = tmp_path / "home"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", _BOOM, str(home)], capture_output=True, text=True, timeout=60
    )
    assert time.monotonic() - started < 60
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("internal error: while running `kompas --home")
    assert "TypeError" in lines[0] and "please report it" in lines[0]
    (log,) = (home / "logs").glob("kompas-error-*.log")
    assert str(log) in lines[0]
    assert "Traceback" in log.read_text() and ", in boom\nTypeError" in log.read_text()
    assert oct(log.stat().st_mode & 0o777) == "0o600"


def test_the_test_runner_still_sees_unexpected_errors(tmp_path: Path) -> None:
    from kompas.cli import app

    @app.command("boom-in-process")
    def boom() -> None:
        raise ZeroDivisionError("a bug")

    try:
        with pytest.raises(ZeroDivisionError):
            Kompas(tmp_path / "home")("boom-in-process")
    finally:
        app.registered_commands.pop()
