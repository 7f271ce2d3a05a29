"""``kompas inbox``: who is waiting for your answer, and marking items done, snoozed or
ignored (each reversible with ``undo``)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from kompas.cli._common import State, err, fail, out
from kompas.errors import KompasError, UsageError

if TYPE_CHECKING:
    from kompas.inbox import Inbox

PLATFORMS = ("mastodon", "bluesky")

app = typer.Typer(
    help="Inbox: replies, mentions and quotes addressed to you that you have not answered.",
    invoke_without_command=True,
)

PlatformOpt = Annotated[
    str | None, typer.Option("--platform", help="Only this platform: mastodon or bluesky.")
]
AllOpt = Annotated[
    bool,
    typer.Option(
        "--all",
        help="Every item of the whole history, in every state (answered, done, snoozed, "
        "ignored); default: open items of the 30 days up to where your data ends.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for programs.")]
ItemId = Annotated[str, typer.Argument(help="The item's id, as `kompas inbox` prints it.")]


def load(platform: str | None, show_all: bool) -> Inbox:
    """The inbox the flags name (raises the kompas error to print)."""
    from kompas.inbox import build_inbox, rules_of

    if platform is not None and platform not in PLATFORMS:
        raise UsageError(f"--platform {platform!r} has no inbox (one of: {', '.join(PLATFORMS)})")
    workspace = State.workspace()
    rules = rules_of(workspace.home)
    with workspace.engine.connect() as connection:
        return build_inbox(connection, platform, show_all, rules)


@app.callback()
def inbox_command(
    context: typer.Context,
    platform: PlatformOpt = None,
    show_all: AllOpt = False,
    as_json: AsJson = False,
) -> None:
    """Replies, mentions and quotes addressed to you that you have not answered: questions
    first, then people by relationship, newest first."""
    if context.invoked_subcommand is not None:
        return
    try:
        inbox = load(platform, show_all)
    except KompasError as error:
        raise fail(error) from None
    if as_json:
        sys.stdout.write(json.dumps(inbox.to_json(), indent=2, ensure_ascii=False) + "\n")
        if inbox.note:
            err.print(Text(inbox.note))
        return
    _print(inbox, show_all)


#: Why an inbox built from exports alone is empty, and what fills it.
NO_DATA = (
    "No data: nothing addressed to you is in the store. Exports hold what you did, not the "
    "replies, mentions and quotes others sent you; `kompas sync mastodon` or "
    "`kompas sync bluesky` brings them."
)


def _print(inbox: Inbox, show_all: bool) -> None:
    if inbox.note:
        out.print(Text(inbox.note))
    if not inbox.has_accounts:
        return  # the note said what to do first
    if not inbox.items:
        if inbox.addressed:
            out.print(Text(f"Nothing waits for you: all {inbox.addressed} answered or marked."))
        elif not inbox.ever_addressed:
            out.print(Text(NO_DATA))
        else:
            out.print(Text("Nothing was addressed to you in this period."))
    for item in inbox.items:
        when = item.at.strftime("%Y-%m-%d %H:%M") if item.at else "undated"
        tie = item.relationship
        about = [item.kind, tie.way, f"strength {tie.strength:.2f}"]
        if tie.first_contact:
            about.append("first contact")
        if item.automated:
            about.append("looks automated")
        if item.tags:
            about.append("tags: " + ", ".join(item.tags))
        if show_all:
            about.append(item.state)
        head = Text.assemble(
            (item.id, "bold"), f"  {when}  {item.platform}  @{item.who}  ({'; '.join(about)})"
        )
        out.print(head)
        out.print(Text("    " + _short(item.text, 200)))
        if item.thread and item.thread.get("text"):
            out.print(
                Text("    ↳ your post: " + _short(str(item.thread["text"]), 100)), style="dim"
            )
    if inbox.addressed:
        minutes = inbox.median_reply_minutes
        median = "no answer dated" if minutes is None else f"{minutes:.0f} min"
        share = inbox.unanswered_share or 0.0
        out.print(
            Text(
                f"{inbox.open} open; {inbox.unanswered} of {inbox.addressed} addressed to you "
                f"in this period unanswered ({share:.0%}); median time to answer: {median}."
            )
        )
    if inbox.items:
        out.print(
            Text(
                "Answer one: kompas inbox reply ID TEXT. Mark one: kompas inbox done|ignore "
                "ID, kompas inbox snooze ID 3d."
            )
        )


def _short(text: str, size: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= size else line[: size - 1] + "…"


def _mark(ref: str, state: str, duration: str | None = None) -> None:
    from kompas.inbox import mark, parse_duration

    try:
        length = parse_duration(duration) if duration is not None else None
        with State.workspace().engine.begin() as connection:
            row, until = mark(connection, ref, state, length)
    except KompasError as error:
        raise fail(error) from None
    extra = f" until {until:%Y-%m-%d %H:%M} UTC" if until else ""
    out.print(Text(f"{row.id} {state}{extra} (undo: kompas inbox undo {row.id})."))


@app.command("done")
def done_command(item: ItemId) -> None:
    """Mark an item done: it leaves the inbox (as an answer would)."""
    _mark(item, "done")


@app.command("snooze")
def snooze_command(
    item: ItemId,
    duration: Annotated[str, typer.Argument(help="For how long: 30m, 12h, 3d or 2w.")],
) -> None:
    """Hide an item for a while; it comes back when the time is up."""
    _mark(item, "snoozed", duration)


@app.command("ignore")
def ignore_command(item: ItemId) -> None:
    """Ignore an item: it leaves the inbox and today's plan."""
    _mark(item, "ignored")


@app.command("undo")
def undo_command(item: ItemId) -> None:
    """Take your mark off an item: it is open again (unless you answered it)."""
    from kompas.inbox import unmark

    try:
        with State.workspace().engine.begin() as connection:
            row, had = unmark(connection, item)
    except KompasError as error:
        raise fail(error) from None
    said = "open again" if had else "had no mark"
    out.print(Text(f"{row.id} {said}."))


@app.command("reply")
def reply_command(
    item: ItemId,
    text: Annotated[str, typer.Argument(help="Your answer.")],
    yes: Annotated[bool, typer.Option("--yes", help="Send without asking.")] = False,
    no_split: Annotated[
        bool,
        typer.Option("--no-split", help="Never a thread: an answer too long fails."),
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Answer an item on its network, after the same check as `kompas post send`; the
    answer is stored at once and the item leaves the inbox."""
    from datetime import UTC, datetime

    from kompas.cli.post_send import NETWORKS, deliver, finish
    from kompas.inbox import resolve
    from kompas.post.reply import settle

    try:
        engine = State.workspace().engine
        with engine.connect() as connection:
            row = resolve(connection, item)
        if row.platform not in NETWORKS:
            raise KompasError(
                f"kompas cannot answer on {row.platform} (it posts to {', '.join(NETWORKS)})"
            )
        delivery = deliver(
            text,
            [row.platform],
            reply_to=row.post,
            image=None,
            alt=None,
            yes=yes,
            no_split=no_split,
            as_json=as_json,
        )
    except KompasError as error:
        raise fail(error) from None
    state = None
    if delivery.sent:
        with engine.begin() as connection:
            state = "answered" if settle(connection, row, datetime.now(UTC)) else "done"
    extra = {"item": {"id": row.id, "state": state}} if as_json else None
    if state is not None and not as_json:
        said = "answered" if state == "answered" else "marked done (your answer is posted)"
        out.print(Text(f"{row.id} {said}: it leaves the inbox."))
    finish(delivery, as_json, extra)
