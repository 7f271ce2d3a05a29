"""``kompas post queue``, ``list``, ``cancel`` and ``run``: the local queue of posts to send
later (registered on ``kompas post`` by :mod:`kompas.cli`)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from kompas.cli._common import State, fail, out, say_error
from kompas.cli.post_check import AltOpt, AsJson, FileOpt, ImageOpt, ReplyOpt, TextArg
from kompas.errors import KompasError

if TYPE_CHECKING:
    from kompas.post.runner import Outcome
    from kompas.store.post_queue import QueuedPost

PostId = Annotated[str, typer.Argument(help="The queued post's id, as `kompas post list` shows.")]


def _print_json(payload: object) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def queue_command(
    at: Annotated[
        str,
        typer.Option(
            "--at",
            help='When to send it, in your local time: "in 2h", "tomorrow 9:00", '
            '"friday 18:30", "2026-12-24 09:00" or ISO 8601.',
            metavar="WHEN",
        ),
    ],
    to: Annotated[
        str, typer.Option("--to", help="The network: mastodon or bluesky.", metavar="NETWORK")
    ],
    text: TextArg = None,
    file: FileOpt = None,
    reply_to: ReplyOpt = None,
    image: ImageOpt = None,
    alt: AltOpt = None,
    as_json: AsJson = False,
) -> None:
    """Queue a post to send at a given time, after checking it as `kompas post check` does
    (a draft too long becomes the thread the check shows); `kompas post run` sends what is
    due."""
    from kompas.cli.post_check import read_draft, run_check, show
    from kompas.post import queue, schedule

    try:
        network = schedule.check_network(to)
        draft = read_draft(text, file)
        now = datetime.now(UTC)
        queue.parse_when(at, now)  # a time gone by is refused before anything else
        check = run_check(draft, network, reply_to, image, alt)
        parts = schedule.parts_of(check, network)
        request = schedule.Request(check.text, network, at, reply_to, image, alt)
        post = schedule.enqueue(State.workspace().engine, request, now, parts=parts)
    except KompasError as error:
        raise fail(error) from None
    if as_json:
        _print_json({**post.as_json(), "check": check.as_json()})
        return
    show(check)
    thread = f" as a thread of {len(post.parts)}" if len(post.parts) > 1 else ""
    out.print(
        Text(
            f"Queued #{post.id} for {post.network}{thread}, due "
            f"{queue.describe(post.due_at, now)}. `kompas post run` sends what is due "
            "(from cron or a systemd timer: docs/post.md)."
        )
    )


def list_command(
    everything: Annotated[
        bool,
        typer.Option("--all", help="Also the posts sent and cancelled (default: not done yet)."),
    ] = False,
    as_json: AsJson = False,
) -> None:
    """The queue: posts waiting, being sent or failed (with their errors)."""
    from kompas.post import schedule

    try:
        posts = schedule.pending(State.workspace().engine, everything)
    except KompasError as error:
        raise fail(error) from None
    if as_json:
        _print_json({"posts": [post.as_json() for post in posts]})
        return
    if not posts:
        out.print(
            Text(
                "Nothing was ever queued."
                if everything
                else "The queue is empty (`kompas post list --all` shows what was sent)."
            )
        )
        return
    now = datetime.now(UTC)
    for post in posts:
        _print_post(post, now)


def _short(text: str, size: int = 100) -> str:
    line = " ".join(text.split())
    return line if len(line) <= size else line[: size - 1] + "…"


def _print_post(post: QueuedPost, now: datetime) -> None:
    from kompas.post import queue

    about = [post.state, post.network]
    if post.state in (queue.QUEUED, queue.SENDING, queue.FAILED):
        about.append(f"due {queue.describe(post.due_at, now)}")
    elif post.finished_at is not None:
        about.append(f"{post.state} {queue.describe(post.finished_at, now)}")
    if post.attempts:
        about.append(f"{post.attempts} attempt{'s' if post.attempts != 1 else ''}")
    if len(post.parts) > 1:
        about.append(f"thread of {len(post.parts)}, {len(post.sent)} posted")
    out.print(Text.assemble((f"#{post.id}", "bold"), "  " + "  ".join(about)))
    out.print(Text("    " + _short(post.text)))
    if post.reply_to:
        out.print(Text(f"    in reply to {post.reply_to}"), style="dim")
    if post.image:
        out.print(Text(f"    image {post.image}" + (" (no alt text)" if not post.alt else "")))
    if post.media_id and post.state != queue.SENT:
        out.print(Text(f"    image uploaded as {post.media_id}: the next try attaches it"))
    for part in post.sent:
        out.print(Text(f"    posted: {part.url or part.uri}"))
    if post.last_error and post.state != queue.SENT:
        out.print(Text(f"    error: {post.last_error}"), style="red")


def cancel_command(post_id: PostId) -> None:
    """Cancel a queued (or failed) post: it will not be sent."""
    from kompas.post import schedule

    try:
        number = schedule.parse_id(post_id)
        post = schedule.cancel(State.workspace().engine, number, datetime.now(UTC))
    except KompasError as error:
        raise fail(error) from None
    out.print(Text(f"Cancelled #{post.id} ({post.network}): it will not be sent."))


def run_command(as_json: AsJson = False) -> None:
    """Send the queued posts that are due (for cron or a systemd timer: docs/post.md).

    Exit 3 when a network stays down or rate-limited after retries (those posts stay
    queued for the next run), 1 when a network refused a post (it stays listed as failed,
    with the network's reason)."""
    from kompas.cli.sync import _policy
    from kompas.post import queue, runner

    try:
        workspace = State.workspace()
        report = runner.run_due(
            workspace.home,
            workspace.engine,
            _policy,
            told=None if as_json else _told,
        )
    except KompasError as error:
        raise fail(error) from None
    if as_json:
        _print_json(report.as_json())
    elif not report.outcomes:
        upcoming = report.next_due
        if upcoming is None:
            out.print(Text("Nothing is due: the queue is empty."))
        else:
            out.print(
                Text(
                    f"Nothing is due. The next post, #{upcoming.id} ({upcoming.network}), is "
                    f"due {queue.describe(upcoming.due_at, report.now)}."
                )
            )
    raise typer.Exit(report.exit_code)


def _told(outcome: Outcome) -> None:
    from kompas.post import queue

    post = outcome.post
    if outcome.state == queue.SENT:
        where = ", ".join(part.url or part.uri for part in outcome.sent)
        out.print(Text(f"#{post.id} sent to {post.network}: {where}"))
    elif outcome.state == queue.FAILED:
        say_error(
            f"#{post.id} failed",
            f"{outcome.error} (it stays listed: `kompas post list`; "
            f"`kompas post cancel {post.id}` drops it)",
        )
    else:
        say_error(
            f"#{post.id} not sent",
            f"{outcome.error} (it stays queued: the next `kompas post run` tries again)",
        )
