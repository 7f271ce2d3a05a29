"""The dashboard's request handling under hostile input: dates out of range are 400 (never
500), every response carries the security headers (a 500 too), a POST is refused before its
body is read when it is too large or lacks a CSRF cookie signed by this server, the Host is
checked with a token too, the token never comes from the command line, and a client that
trickles its headers is cut off."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from conftest import Kompas
from kompas.web import Guard, create_app
from kompas.web.security import CSRF_COOKIE, HEADERS
from kompas.web.server import HeaderTimeoutH11
from kompas.workspace import Workspace


@pytest.fixture
def app(tmp_path: Path) -> Any:
    return create_app(Workspace.resolve(tmp_path / "home").engine, Guard(), tmp_path / "home")


def _secured(headers: Any) -> bool:
    return all(headers.get(name) == value for name, value in HEADERS.items())


@pytest.mark.parametrize(
    "path",
    [
        "/community?until=9999-12-31",
        "/community?since=0001-01-01",
        "/fragments/community?since=1900-01-01&until=1900-02-01",
        "/feeds?since=999999999999d",
        "/feeds?since=0001-01-01",
        "/strategy?date=9999-12-31",
        "/?days=999999999",
        "/fragments/activity?days=0",
    ],
)
def test_dates_out_of_range_are_400_with_every_header(app: Any, path: str) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(path)
    assert response.status_code == 400, response.text
    assert _secured(response.headers)
    assert "range" in response.text or "expected" in response.text or "long ago" in response.text


def test_an_error_response_keeps_the_security_headers(app: Any) -> None:
    @app.get("/boom-for-this-test")
    def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom-for-this-test")
        missing = client.get("/no-such-page")
    assert response.status_code == 500 and _secured(response.headers)
    assert "a bug" not in response.text  # details go to the log, not the page
    assert missing.status_code == 404 and _secured(missing.headers)


async def _call(app: Any, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    """POST /people/link through the ASGI interface with a body that must never be read."""
    read: list[bool] = []

    async def receive() -> dict[str, Any]:
        read.append(True)
        raise AssertionError("the body was read")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/people/link",
        "raw_path": b"/people/link",
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8765),
        "state": {},
    }
    await app(scope, receive, send)
    assert read == []
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}


def test_a_huge_body_is_refused_before_it_is_read(app: Any) -> None:
    with TestClient(app) as client:
        cookie = client.get("/people").cookies[CSRF_COOKIE]
    headers = {
        "host": "127.0.0.1:8765",
        "content-type": "application/x-www-form-urlencoded",
        "content-length": str(200 * 1024**2),
        "cookie": f"{CSRF_COOKIE}={cookie}",
        "x-csrf-token": cookie,
    }
    started = time.monotonic()
    status, sent = asyncio.run(_call(app, headers))
    assert status == 413 and time.monotonic() - started < 1
    assert sent["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    "cookie",
    [None, "forged-by-the-client", "abc.0123456789abcdef"],
    ids=["no cookie", "unsigned", "badly signed"],
)
def test_a_post_without_a_signed_csrf_cookie_is_refused_before_its_body(
    app: Any, cookie: str | None
) -> None:
    headers = {
        "host": "127.0.0.1:8765",
        "content-type": "application/x-www-form-urlencoded",
        "content-length": "40",
    }
    if cookie is not None:
        headers["cookie"] = f"{CSRF_COOKIE}={cookie}"
        headers["x-csrf-token"] = cookie  # the double submit matches: not enough any more
    status, _ = asyncio.run(_call(app, headers))
    assert status == 403


def test_a_csrf_cookie_from_another_server_run_is_not_accepted(tmp_path: Path) -> None:
    engine = Workspace.resolve(tmp_path / "home").engine
    with TestClient(create_app(engine, Guard())) as first:
        cookie = first.get("/people").cookies[CSRF_COOKIE]
    with TestClient(create_app(engine, Guard())) as second:
        response = second.post(
            "/people/link",
            data={"first": "x:a", "second": "x:b", "csrf_token": cookie},
            cookies={CSRF_COOKIE: cookie},
        )
    assert response.status_code == 403


def test_the_host_is_checked_with_a_token_too(tmp_path: Path) -> None:
    engine = Workspace.resolve(tmp_path / "home").engine
    guard = Guard(token="s3cret", allowed_hosts=frozenset({"127.0.0.1", "dash.example"}))
    bearer = {"Authorization": "Bearer s3cret"}
    with TestClient(create_app(engine, guard), base_url="http://dash.example") as client:
        assert client.get("/data", headers=bearer).status_code == 200
        rebound = client.get("/data", headers={**bearer, "Host": "evil.example"})
    assert rebound.status_code == 400 and _secured(rebound.headers)


def test_the_token_never_comes_from_the_command_line(kompas: Kompas, tmp_path: Path) -> None:
    refused = kompas("serve", "--host", "0.0.0.0", "--token", "s3cret")
    assert refused.exit_code == 2  # no such option
    empty = tmp_path / "token"
    empty.write_text("\n")
    result = kompas("serve", "--host", "0.0.0.0", "--token-file", empty)
    assert result.exit_code == 1 and "is empty" in result.stderr
    from kompas.cli.web import _token

    secret = tmp_path / "secret"
    secret.write_text("  a-long-secret\n")
    assert _token(secret) == "a-long-secret"


class _Quick(HeaderTimeoutH11):
    header_timeout = 0.5


@pytest.fixture
def server(app: Any) -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", http=_Quick, lifespan="off")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield port
    running.should_exit = True
    thread.join(10)
    sock.close()


def test_a_client_that_trickles_its_headers_is_cut_off(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=10) as slow:
        slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        for _ in range(8):  # a header line every 0.25 s, never the blank line
            time.sleep(0.25)
            try:
                slow.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
        assert slow.recv(1024) == b""  # closed by the server
        assert time.monotonic() - started < 5
    with socket.create_connection(("127.0.0.1", server), timeout=10) as quick:
        quick.sendall(b"GET /static/kompas.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert quick.recv(64).startswith(b"HTTP/1.1 200")
