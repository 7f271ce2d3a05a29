"""Sending a checked draft to one network, once.

:func:`send` posts a draft's parts (one post, or a thread whose every part answers the one
before) through the SDKs sync already uses — Mastodon.py's ``status_post`` and
``media_post``, atproto's ``com.atproto.repo.createRecord`` — under kompas's retry policy,
and stores each posted record at once with the record builders sync uses, so the inbox,
community and strategy see it without waiting for a sync.

The idempotency ``key`` makes a send safe to repeat: Mastodon gets ``Idempotency-Key:
KEY:PART`` (the instance answers a repeated request with the status it already made), and
Bluesky records get a record key derived from the key and the part (a part whose record
exists is read back, not written again). What the send did is kept under the key
(:mod:`kompas.post.progress`): a thread that failed at its second part resumes there, and
an image uploaded before its post failed is attached on the next try, not uploaded again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from kompas.errors import KompasError, Refused, UsageError
from kompas.post import progress
from kompas.post.image import BLUESKY_IMAGE_LIMIT, NotAnImage, TooLarge, check_size, read_image
from kompas.post.progress import Progress
from kompas.sync import credentials
from kompas.sync.credentials import NotConnected
from kompas.sync.http import PlatformUnreachable, RetryPolicy
from kompas.sync.mastodon import ReadOnly, require_write

__all__ = [
    "NETWORKS",
    "Draft",
    "NotAnImage",
    "NotConnected",
    "PlatformUnreachable",
    "ReadOnly",
    "Refused",
    "Sent",
    "TooLarge",
    "account_of",
    "connect_command",
    "draft_key",
    "earlier",
    "forget",
    "ready",
    "send",
    "stale",
]

NETWORKS = ("mastodon", "bluesky")
#: The same draft sent again within this time is a retry (nothing is posted twice); after
#: it, a new post.
REPEAT_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Draft:
    """What to post on one network: its parts (one, or a thread), what it answers (a post
    URL, URI or id), and an image with its alt text (on the first part)."""

    network: str
    parts: tuple[str, ...]
    reply_to: str | None = None
    image: Path | None = None
    alt: str | None = None


@dataclass(frozen=True)
class Sent:
    """One part as posted: its platform id (status URI, at-uri), its web address, when."""

    network: str
    uri: str
    url: str | None
    created_at: datetime


def connect_command(network: str, instance: str | None = None) -> str:
    """The exact command that connects ``network`` for posting."""
    if network == "mastodon":
        return f"kompas connect mastodon --instance {instance or 'https://YOUR.INSTANCE'} --write"
    return "kompas connect bluesky --handle YOUR.HANDLE"


def account_of(home: Path, network: str) -> str:
    """The account that posts on ``network`` from the workspace ``home`` (an actor URI, a
    DID), read from the saved credentials: :class:`NotConnected` (with the command to run)
    when there are none. No network is asked."""
    try:
        saved = credentials.load(home, network)
    except credentials.NotConnected:
        raise NotConnected(
            f"{network.title()} is not connected in this workspace: run "
            f"`{connect_command(network)}`"
            + (" (it asks for an app password)" if network == "bluesky" else "")
        ) from None
    return str(saved.get("account_id") or saved.get("did") or saved.get("handle") or "")


def ready(home: Path, draft: Draft) -> str:
    """Check, before anything is shown or asked, that ``draft`` can be sent from ``home``:
    the network is connected and (Mastodon) the token may post and upload. The account."""
    _checked(draft)
    account = account_of(home, draft.network)
    saved = credentials.load(home, draft.network)
    if draft.network == "mastodon":
        scopes = ("write:statuses", "write:media") if draft.image else ("write:statuses",)
        require_write(saved, scopes, "post")
    if draft.image is not None:
        image = read_image(draft.image)
        limit = saved_image_limit(draft.network, saved)
        if limit is not None:
            check_size(image, limit, draft.network.title())
    return account


def saved_image_limit(network: str, saved: Mapping[str, Any]) -> int | None:
    """The largest image ``network`` takes, known without asking it: Bluesky's lexicon
    limit; the Mastodon instance's, as saved when it was connected (``None``: not saved)."""
    if network == "bluesky":
        return BLUESKY_IMAGE_LIMIT
    configuration = saved.get("configuration")
    media = configuration.get("media_attachments") if isinstance(configuration, dict) else None
    limit = media.get("image_size_limit") if isinstance(media, dict) else None
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        return limit
    return None


def draft_key(draft: Draft, image: bytes | None = None) -> str:
    """An idempotency key that names the draft's content (network, parts, what it answers,
    the image and its alt text): the same draft sent again gets the same key."""
    digest = hashlib.blake2b(digest_size=16)
    for piece in (draft.network, *draft.parts, draft.reply_to or "", draft.alt or ""):
        digest.update(piece.encode("utf-8") + b"\x1f")
    digest.update(hashlib.blake2b(image or b"").digest())
    return f"draft:{digest.hexdigest()}"


def earlier(home: Path, engine: sa.Engine, network: str, key: str) -> Progress | None:
    """What an earlier send of ``key`` from the connected account did, if any."""
    return progress.load(engine, network, account_of(home, network), key)


def stale(before: Progress, now: datetime) -> bool:
    """Whether an earlier send of the same draft finished long enough ago
    (:data:`REPEAT_AFTER`) that sending the draft again means a new post, not a retry."""
    if before.finished_at is None:
        return False
    return now - datetime.fromisoformat(before.finished_at) > REPEAT_AFTER


def forget(home: Path, engine: sa.Engine, network: str, key: str) -> bool:
    """Drop what was kept of the send ``key`` (the same draft is then a new post)."""
    return progress.forget(engine, network, account_of(home, network), key)


def _checked(draft: Draft) -> None:
    if draft.network not in NETWORKS:
        raise KompasError(
            f"cannot post to {draft.network!r} (kompas posts to: {', '.join(NETWORKS)})"
        )
    if not draft.parts or any(not part.strip() for part in draft.parts):
        raise KompasError("nothing to post: the draft (or one of its parts) is empty")
    if draft.alt is not None and draft.image is None:
        raise UsageError("--alt describes an image: give the image with --image F")


def send(
    home: Path,
    engine: sa.Engine,
    draft: Draft,
    policy: RetryPolicy,
    *,
    key: str,
    progress: Callable[[int, Sent], None] | None = None,
) -> list[Sent]:
    """Post ``draft`` from the account connected in the workspace ``home``, store what was
    posted in ``engine``, and return each part as posted (``progress`` is told of each
    part, those posted by an earlier try of the same ``key`` included).

    Raises :class:`NotConnected` or :class:`ReadOnly` (with the command to run),
    :class:`NotAnImage` or :class:`TooLarge` (before any upload), :class:`Refused` (the
    platform's own reason), all exit code 1; :class:`PlatformUnreachable` (exit code 3)
    once the retry policy gives up — the progress kept, so the same key resumes.
    """
    _checked(draft)
    if not key:
        raise KompasError("a send needs an idempotency key")
    if draft.network == "mastodon":
        from kompas.post.to_mastodon import MastodonPoster

        return MastodonPoster(home, engine, policy).send(draft, key, progress)
    from kompas.post.to_bluesky import BlueskyPoster

    return BlueskyPoster(home, engine, policy).send(draft, key, progress)
