"""``kompas serve``: the local dashboard."""

from __future__ import annotations

from typing import Annotated

import typer

from kompas.cli._common import State, err, fail, out
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
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    out.print(f"kompas dashboard: {url}", highlight=False)
    if token:
        # The token itself is never printed or logged.
        out.print("Open it once with ?token=<your token>; press Ctrl-C to stop.", highlight=False)
    else:
        out.print("Press Ctrl-C to stop.", highlight=False)
    try:
        # No access log: a first visit carries ?token= in its URL.
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    except OSError as error:
        err.print(f"[bold red]error:[/] cannot listen on {host}:{port}: {error}", markup=True)
        raise typer.Exit(1) from None
