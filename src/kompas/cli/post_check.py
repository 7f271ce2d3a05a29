"""``kompas post check``: a draft against each network's length rules, the user's strategy
and the warnings, offline; and what ``post send`` and ``post queue`` share with it (reading
the draft, the ``--to`` list, showing a check)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from kompas.cli._common import State, fail, out
from kompas.errors import KompasError, UsageError

if TYPE_CHECKING:
    from kompas.post.check import DraftCheck

TextArg = Annotated[
    str | None, typer.Argument(help="The draft (or use --file).", show_default=False)
]
FileOpt = Annotated[
    Path | None,
    typer.Option("--file", help="Read the draft from this file (- for standard input)."),
]
ToOpt = Annotated[
    str | None,
    typer.Option("--to", help="Networks, comma-separated: mastodon, bluesky (default: both)."),
]
ReplyOpt = Annotated[
    str | None,
    typer.Option(
        "--reply-to", help="The post it answers: PLATFORM:ID, its id, or its URL.", metavar="POST"
    ),
]
ImageOpt = Annotated[Path | None, typer.Option("--image", help="An image to attach.")]
AltOpt = Annotated[str | None, typer.Option("--alt", help="The image's alt text.")]
NoSplitOpt = Annotated[
    bool,
    typer.Option(
        "--no-split", help="The draft must fit as one post: exit 1 if a network needs a thread."
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for programs.")]


class DraftFileError(KompasError):
    """The ``--file`` of a draft cannot be read."""


def read_draft(text: str | None, file: Path | None) -> str:
    """The draft from ``TEXT`` or ``--file`` (exactly one of them)."""
    if text is not None and file is not None:
        raise UsageError("give the draft as TEXT or with --file, not both")
    if file is None:
        if text is None:
            raise UsageError("give the draft as TEXT or with --file F")
        return text
    if str(file) == "-":
        return sys.stdin.read()
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DraftFileError(f"{file}: no such file") from None
    except UnicodeDecodeError:
        raise DraftFileError(f"{file}: not UTF-8 text") from None
    except OSError as error:
        raise DraftFileError(f"{file}: cannot be read ({error.strerror or error})") from None


def run_check(
    text: str,
    to: str | None,
    reply_to: str | None,
    image: Path | None,
    alt: str | None,
) -> DraftCheck:
    """The check of a draft in the current workspace (its store, strategy and limits)."""
    from kompas.post.check import check_draft, parse_networks

    if alt is not None and image is None:
        raise UsageError("--alt describes an image: give the image with --image F")
    networks = parse_networks(to)
    workspace = State.workspace()
    with workspace.engine.connect() as connection:
        return check_draft(
            text,
            networks,
            reply_to=reply_to,
            image=image,
            alt=alt,
            connection=connection,
            home=workspace.home,
        )


def show(check: DraftCheck) -> None:
    """The check for people: per network, then pillar, mix and warnings."""
    for fit in check.networks.values():
        size = f"{fit.length:,}/{fit.limit:,} {fit.unit}"
        if fit.bytes is not None:
            size += f", {fit.bytes:,}/{fit.byte_limit or 0:,} bytes"
        verdict = "fits" if fit.fits else f"too long: a thread of {len(fit.parts)}"
        out.print(Text.assemble((f"{fit.network:<9}", "bold"), f" {size}  {verdict}"))
        if not fit.fits:
            for part in fit.parts:
                out.print(Text("    " + " ".join(part.split())), style="dim")
    out.print(Text.assemble(("pillar   ", "bold"), str(check.pillar.sentence)))
    for served in check.pillar.pillars:
        reasons = "; ".join(str(r) for r in served.reasons)
        out.print(Text(f"    {served.name} ({served.confidence:.2f}): {reasons}"), style="dim")
    if check.mix is not None:
        if check.mix.kind is not None:
            out.print(Text.assemble(("mix      ", "bold"), str(check.mix.kind.why)))
        for effect in check.mix.effects:
            style = "red" if effect.within_plan is False else ""
            out.print(Text("    " + str(effect.sentence)), style=style)
        for note in check.mix.notes:
            out.print(Text("    " + str(note)), style="dim")
    if not check.warnings:
        out.print(Text.assemble(("warnings ", "bold"), "none"))
    for warning in check.warnings:
        out.print(Text.assemble(("warning  ", "bold yellow"), f"{warning.code}: {warning.message}"))


def check_command(
    text: TextArg = None,
    file: FileOpt = None,
    to: ToOpt = None,
    reply_to: ReplyOpt = None,
    image: ImageOpt = None,
    alt: AltOpt = None,
    no_split: NoSplitOpt = False,
    as_json: AsJson = False,
) -> None:
    """Check a draft before posting it: its length per network (and the thread it becomes
    if too long), the pillar it serves, its effect on your planned mix, and warnings.
    Offline: no account needed."""
    from kompas.post.check import require_fit

    try:
        check = run_check(read_draft(text, file), to, reply_to, image, alt)
    except KompasError as error:
        raise fail(error) from None
    if as_json:
        sys.stdout.write(json.dumps(check.as_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        show(check)
    if no_split:
        try:
            require_fit(check)
        except KompasError as error:
            raise fail(error) from None
