"""``kompas serve``: the local dashboard."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Annotated

import typer

from kompas.cli._common import State, fail, out
from kompas.errors import KompasError


class TokenRequired(KompasError):
    """Binding beyond loopback without a token would publish the user's data."""


def serve_command(
    port: Annotated[
        int, typer.Option("--port", help="TCP port to listen on.", min=1, max=65535)
    ] = 8765,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to bind. Anything but 127.0.0.1/localhost/::1 requires a token "
            "($KOMPAS_TOKEN or --token-file).",
        ),
    ] = "127.0.0.1",
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            help="File holding the secret every request must carry (default: $KOMPAS_TOKEN). "
            "Never on the command line, where `ps` shows it.",
            dir_okay=False,
        ),
    ] = None,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="Another name this dashboard is reached by (the Host header is checked, "
            "with or without a token); repeatable.",
        ),
    ] = None,
) -> None:
    """Serve the dashboard on this machine (press Ctrl-C to stop)."""
    import uvicorn

    from kompas.web import Guard, create_app
    from kompas.web.security import LOOPBACK, is_loopback
    from kompas.web.server import HeaderTimeoutH11

    try:
        token = _token(token_file)
    except KompasError as error:
        raise fail(error) from None
    if not is_loopback(host) and not token:
        raise fail(
            TokenRequired(
                f"binding to {host} exposes your data to the network: set KOMPAS_TOKEN "
                "or pass --token-file, or keep the default --host 127.0.0.1"
            )
        )
    workspace = State.workspace()
    try:
        engine = workspace.engine
    except KompasError as error:
        raise fail(error) from None
    names = {host, socket.gethostname(), socket.getfqdn(), *(allow_host or [])}
    allowed = frozenset(LOOPBACK | {name.lower() for name in names if name})
    guard = Guard(token=token or None, allowed_hosts=allowed)
    app = create_app(engine, guard, workspace.home)
    from kompas.web.pillars import prepare

    # The first pages' work done meanwhile; a page asked for before it ends waits for it.
    threading.Thread(target=prepare, args=(engine,), name="kompas-prepare", daemon=True).start()
    # Bind first: a busy port is exit 1 before anything says the dashboard is served.
    try:
        sock = listen(host, port)
    except OSError as error:
        problem = error.strerror or str(error)
        raise fail(KompasError(f"cannot listen on {host}:{port}: {problem}")) from None
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    out.print(f"kompas dashboard: {url}", highlight=False, markup=False)
    if token:
        # The token itself is never printed or logged.
        out.print("Open it once with ?token=<your token>; press Ctrl-C to stop.", highlight=False)
    else:
        out.print("Press Ctrl-C to stop.", highlight=False)
    # No access log: a first visit carries ?token= in its URL.
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        http=HeaderTimeoutH11,
        h11_max_incomplete_event_size=16 * 1024,
    )
    with sock:
        uvicorn.Server(config).run(sockets=[sock])


def _token(token_file: Path | None) -> str | None:
    """The dashboard's token: from ``--token-file``, else ``$KOMPAS_TOKEN``."""
    if token_file is None:
        return os.environ.get("KOMPAS_TOKEN") or None
    try:
        token = token_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise KompasError(f"cannot read the token file {token_file}: {error}") from None
    if not token:
        raise KompasError(f"the token file {token_file} is empty")
    return token


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening (the server is handed it)."""
    address = host.strip("[]")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock
