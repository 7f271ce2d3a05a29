"""Putting drafts in the local queue, listing it and cancelling from it (sending what is
due is :mod:`kompas.post.runner`'s)."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from kompas.errors import KompasError, UsageError
from kompas.post import queue
from kompas.store import post_queue as store
from kompas.store.post_queue import QueuedPost

if TYPE_CHECKING:
    from kompas.post.check import DraftCheck


class UnknownPost(KompasError):
    """An id that is no post of the queue."""


@dataclass(frozen=True, slots=True)
class Request:
    """A draft to queue, as the user gave it."""

    text: str
    network: str
    when: str
    reply_to: str | None = None
    image: Path | None = None
    alt: str | None = None


def check_network(network: str) -> str:
    """``network`` as stored, or a :class:`UsageError` naming the ones kompas posts to."""
    name = network.strip().lower()
    if name not in queue.NETWORKS:
        raise UsageError(
            f"--to {network!r}: a queued post goes to one network, "
            f"one of: {', '.join(queue.NETWORKS)} (queue it once for each)"
        )
    return name


def check_text(text: str) -> str:
    """The draft as stored: not blank, no NUL or other control character but newline and
    tab (PostgreSQL refuses NUL; the networks, the others)."""
    if not text.strip():
        raise KompasError("the draft is empty: nothing to post")
    bad = [c for c in text if unicodedata.category(c) == "Cc" and c not in "\n\t\r"]
    if bad:
        raise KompasError(f"the draft holds a control character ({ord(bad[0]):#04x}): remove it")
    return text.strip()


def check_image(image: Path | None, alt: str | None) -> str | None:
    """The image's absolute path (it must exist now; a run reads it when sending)."""
    if image is None:
        if alt is not None:
            raise UsageError("--alt describes an image: give the image with --image")
        return None
    if not image.is_file():
        raise KompasError(f"--image {str(image)!r}: no such file")
    return str(image.resolve())


def parts_of(check: DraftCheck, network: str) -> list[str]:
    """The parts the checked draft is posted as on ``network`` (itself when it fits, else
    the thread the check cut), or :class:`DraftError` when a part cannot be made to fit."""
    from kompas.post.check import DraftError

    fit = check.networks[network]
    if not fit.parts_fit:
        raise DraftError(
            f"the draft cannot be posted to {network}: a part of it is longer than the "
            f"{fit.limit:,} {fit.unit} {network} allows and cannot be cut (a link or a word "
            "that long); shorten it"
        )
    return list(fit.parts)


def new_key() -> str:
    """A fresh idempotency key: unique to one queued post, kept for every try of it."""
    return f"kompas-q-{uuid.uuid4().hex}"


def enqueue(
    engine: sa.Engine,
    request: Request,
    now: datetime,
    zone: tzinfo | None = None,
    parts: Sequence[str] | None = None,
) -> QueuedPost:
    """Queue ``request`` to be sent at its ``when`` (refused when that is past); ``parts``
    is the thread it is sent as (the whole text when ``None``)."""
    text = check_text(request.text)
    network = check_network(request.network)
    image = check_image(request.image, request.alt)
    due = queue.parse_when(request.when, now, zone)
    reply_to = request.reply_to.strip() if request.reply_to else None
    with engine.begin() as connection:
        return store.add(
            connection,
            key=new_key(),
            network=network,
            text=text,
            parts=list(parts) if parts else [text],
            reply_to=reply_to or None,
            image=image,
            alt=request.alt,
            due_at=due,
            now=now,
            state=queue.QUEUED,
        )


def parse_id(value: str) -> int:
    """A queued post's id as typed (``7`` or ``#7``)."""
    digits = value.strip().removeprefix("#")
    if not digits.isdigit():
        raise UsageError(f"{value!r} is not a queued post's id (a number: see `kompas post list`)")
    return int(digits)


def pending(engine: sa.Engine, everything: bool = False) -> list[QueuedPost]:
    """The queue: what is not done with (queued, sending, failed), or every row."""
    with engine.connect() as connection:
        return store.listed(connection, None if everything else queue.PENDING)


def find(connection: sa.Connection, post_id: int) -> QueuedPost:
    """The row ``post_id``, or :class:`UnknownPost`."""
    post = store.get(connection, post_id)
    if post is None:
        raise UnknownPost(f"no queued post has the id {post_id} (see `kompas post list --all`)")
    return post


def cancel(engine: sa.Engine, post_id: int, now: datetime) -> QueuedPost:
    """Cancel ``post_id`` if it is queued or failed; :class:`queue.BadMove` (saying why)
    when it is sent, cancelled already, or being sent by a run right now."""
    with engine.begin() as connection:
        post = find(connection, post_id)
        queue.check_move(post, queue.CANCELLED)
        moved = store.move(
            connection,
            post_id,
            from_states=[s for s in queue.STATES if queue.can_move(s, queue.CANCELLED)],
            state=queue.CANCELLED,
            now=now,
        )
        if not moved:  # a run claimed it between the read and the update
            queue.check_move(find(connection, post_id), queue.CANCELLED)
        return find(connection, post_id)


def next_due(engine: sa.Engine) -> QueuedPost | None:
    """The queued post due soonest."""
    with engine.connect() as connection:
        return store.next_due(connection, queue.QUEUED)
