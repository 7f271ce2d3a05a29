"""``kompas post send``, and the sending half of ``kompas inbox reply``: check the draft
against each network and the strategy, show the check, ask, send, say where it went.

Everything that can be found wrong without posting is found before the question: a network
not connected or read-only, an image that cannot be read or is over a known limit, a draft
too long with ``--no-split``. Exit codes: 1 for those and for a post the platform refuses
(with its words), 3 when the platform stays down or rate-limited after the retry policy.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from kompas.cli._common import State, err, fail, out, say_error
from kompas.errors import KompasError, UsageError

if TYPE_CHECKING:
    from kompas.post.check import DraftCheck
    from kompas.post.send import Sent

NETWORKS = ("mastodon", "bluesky")  # kompas.post.send.NETWORKS, without importing it


@dataclass
class Delivery:
    """What a send did: the check shown, each part posted (``earlier``: by an earlier try
    of the same draft), and per network the error that stopped it."""

    check: DraftCheck | None = None
    sent: list[tuple[str, int, Sent, bool]] = field(default_factory=list)
    errors: dict[str, KompasError] = field(default_factory=dict)
    declined: bool = False

    def as_json(self) -> dict[str, Any]:
        """``{"check", "sent": [{"network", "part", "uri", "url", "created_at", "earlier"}]}``,
        and ``"errors": {NETWORK: message}`` when a network failed."""
        payload: dict[str, Any] = {
            "check": self.check.as_json() if self.check is not None else None,
            "sent": [
                {
                    "network": network,
                    "part": index + 1,
                    "uri": sent.uri,
                    "url": sent.url,
                    "created_at": sent.created_at.isoformat(),
                    "earlier": earlier,
                }
                for network, index, sent, earlier in self.sent
            ],
        }
        if self.declined:
            payload["declined"] = True
        if self.errors:
            payload["errors"] = {network: str(e) for network, e in self.errors.items()}
        return payload


def networks_of(to: str) -> list[str]:
    """``--to mastodon,bluesky`` as a list (a :class:`UsageError` naming an unknown one)."""
    from kompas.post.check import parse_networks

    return list(parse_networks(to))


def _confirm(plan: dict[str, tuple[str, ...]]) -> bool:
    """Ask before posting; ``False`` when the user says no. Without a terminal to answer
    (no ``--yes``), nothing is sent and the exit code is 1."""
    where = ", ".join(
        f"{network} ({'one post' if len(parts) == 1 else f'a thread of {len(parts)} posts'})"
        for network, parts in plan.items()
    )
    try:
        return typer.confirm(f"Send to {where}?", default=False, err=True)
    except typer.Abort:
        raise KompasError(
            "not sent: nobody answered the question (use --yes to send without asking)"
        ) from None


def deliver(
    text: str,
    networks: list[str],
    *,
    reply_to: str | None,
    image: Path | None,
    alt: str | None,
    yes: bool,
    no_split: bool,
    as_json: bool,
) -> Delivery:
    """Check ``text``, show the check (unless ``as_json``), ask (unless ``yes``), send to
    each network in turn. Input problems found before sending raise; what happens while
    sending is in the :class:`Delivery` returned (the parts sent, the error)."""
    from kompas.cli.post_check import show
    from kompas.cli.sync import _policy
    from kompas.post import send as sending
    from kompas.post.check import check_draft, require_fit
    from kompas.post.reply import addressed

    if reply_to is not None and len(networks) > 1:
        raise UsageError("--reply-to answers one post, on one network: give one --to")
    if reply_to is not None and reply_to.startswith(f"{networks[0]}:"):
        reply_to = reply_to.partition(":")[2]  # PLATFORM:ID, as other commands print posts
    workspace = State.workspace()
    home, engine = workspace.home, workspace.engine
    for network in networks:
        sending.ready(home, sending.Draft(network, (text,), reply_to, image, alt))
    with engine.connect() as connection:
        if reply_to is not None:
            text = addressed(connection, networks[0], reply_to, text)
        check = check_draft(
            text,
            networks,
            reply_to=reply_to,
            image=image,
            alt=alt,
            connection=connection,
            home=home,
        )
    if no_split:
        require_fit(check)  # too long: exit 1 naming the network and the count
    plan: dict[str, tuple[str, ...]] = {}
    for network in networks:
        fit = check.networks[network]
        if not fit.fits and not fit.parts_fit:
            raise KompasError(
                f"the draft cannot be cut into {network} posts that fit (a single word, link "
                "or mention is longer than a post); shorten it"
            )
        plan[network] = (check.text,) if fit.fits else tuple(fit.parts)
    delivery = Delivery(check)
    if not as_json:
        show(check)
    if not yes and not _confirm(plan):
        delivery.declined = True
        return delivery
    policy = _policy()
    data = image.read_bytes() if image is not None else None
    for network, parts in plan.items():
        draft = sending.Draft(network, parts, reply_to, image, alt)
        key = sending.draft_key(draft, data)
        before = sending.earlier(home, engine, network, key)
        if before is not None and sending.stale(before, datetime.now(UTC)):
            sending.forget(home, engine, network, key)
            before = None
        done_before = len(before.parts) if before is not None else 0

        told = _reporter(delivery, network, len(parts), done_before, as_json)
        try:
            sending.send(home, engine, draft, policy, key=key, progress=told)
        except KompasError as error:
            # One network failing does not keep the draft from the other.
            delivery.errors[network] = error
    return delivery


def _reporter(
    delivery: Delivery, network: str, total: int, done_before: int, as_json: bool
) -> Callable[[int, Sent], None]:
    """What to do as each part is posted: note it, and say it (unless JSON)."""

    def told(index: int, sent: Sent) -> None:
        earlier = index < done_before
        delivery.sent.append((network, index, sent, earlier))
        if not as_json:
            _say_sent(network, index, total, sent, earlier)

    return told


def _say_sent(network: str, index: int, total: int, sent: Sent, earlier: bool) -> None:
    part = f" (part {index + 1} of {total})" if total > 1 else ""
    when = " — already sent earlier, not posted again" if earlier else ""
    out.print(Text(f"Sent to {network}{part}: {sent.url or sent.uri}{when}"))


def finish(delivery: Delivery, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    """Print ``delivery`` (JSON for programs) and exit with its code: 0 sent (or declined);
    1 when a network refused the post (trying again would be refused again); 3 when a
    network stayed down or rate-limited (the same command resumes)."""
    from kompas.sync.http import PlatformUnreachable

    if as_json:
        payload = {**delivery.as_json(), **(extra or {})}
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    elif delivery.declined:
        err.print(Text("Nothing was sent."))
    if not delivery.errors:
        return
    down = False
    for network, error in delivery.errors.items():
        if isinstance(error, PlatformUnreachable):
            down = True
            say_error("platform unreachable", f"{network}: {error}")
        else:
            say_error("error", f"{network}: {error}")
    if down and any(n in delivery.errors for n, *_ in delivery.sent):
        err.print(Text("The parts above were posted; the same command resumes after them."))
    refused = any(not isinstance(e, PlatformUnreachable) for e in delivery.errors.values())
    raise typer.Exit(1 if refused else 3)


def send_command(
    to: Annotated[
        str,
        typer.Option("--to", help="The network: mastodon or bluesky (or both, comma-separated)."),
    ],
    text: Annotated[str | None, typer.Argument(help="The draft (or use --file).")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="Read the draft from F.")] = None,
    reply_to: Annotated[
        str | None,
        typer.Option(
            "--reply-to",
            help="The post it answers: its URL or URI (or PLATFORM:ID), for a post kompas "
            "knows or any the network can find.",
        ),
    ] = None,
    image: Annotated[Path | None, typer.Option("--image", help="An image to attach.")] = None,
    alt: Annotated[
        str | None, typer.Option("--alt", help="The image's alt text (what it shows).")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Send without asking.")] = False,
    no_split: Annotated[
        bool,
        typer.Option("--no-split", help="Never a thread: a draft too long for a network fails."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for programs.")] = False,
) -> None:
    """Check a draft, show the check, ask, and post it (a thread when too long)."""
    from kompas.cli.post_check import read_draft

    try:
        draft = read_draft(text, file)
        delivery = deliver(
            draft,
            networks_of(to),
            reply_to=reply_to,
            image=image,
            alt=alt,
            yes=yes,
            no_split=no_split,
            as_json=as_json,
        )
    except KompasError as error:
        raise fail(error) from None
    finish(delivery, as_json)
