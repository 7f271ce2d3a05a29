"""``kompas serve``: the local dashboard."""

from __future__ import annotations

import socket
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
            help="Address to bind. Anything but 127.0.0.1/localhost/::1 requires --token.",
        ),
    ] = "127.0.0.1",
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="KOMPAS_TOKEN",
            show_envvar=True,
            help="Secret every request must carry (?token= once, then a cookie; or Bearer).",
        ),
    ] = None,
) -> None:
    """Serve the dashboard on this machine (press Ctrl-C to stop)."""
    import uvicorn

    from kompas.web import Guard, create_app
    from kompas.web.security import LOOPBACK, is_loopback

    if not is_loopback(host) and not token:
        raise fail(
            TokenRequired(
                f"binding to {host} exposes your data to the network: "
                "pass --token (or set KOMPAS_TOKEN), or keep the default --host 127.0.0.1"
            )
        )
    workspace = State.workspace()
    try:
        engine = workspace.engine
    except KompasError as error:
        raise fail(error) from None
    allowed = None if not is_loopback(host) else frozenset(LOOPBACK | {host})
    guard = Guard(token=token or None, allowed_hosts=allowed)
    app = create_app(engine, guard, workspace.home)
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
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    with sock:
        uvicorn.Server(config).run(sockets=[sock])


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
