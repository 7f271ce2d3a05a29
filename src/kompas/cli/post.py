"""``kompas post``: check a draft against each network's rules and your strategy, send it,
or queue it for later."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Check a draft against each network's rules and your strategy, send it, or queue it.",
    no_args_is_help=True,
)

# Each command lives in its own module and imports its library inside the command.
from kompas.cli.post_check import check_command  # noqa: E402

app.command("check")(check_command)

from kompas.cli.post_send import send_command  # noqa: E402

app.command("send")(send_command)

from kompas.cli.post_queue import (  # noqa: E402
    cancel_command,
    list_command,
    queue_command,
    run_command,
)

app.command("queue")(queue_command)
app.command("list")(list_command)
app.command("cancel")(cancel_command)
app.command("run")(run_command)
