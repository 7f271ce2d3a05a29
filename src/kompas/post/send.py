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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from kompas.errors import KompasError
from kompas.post.image import NotAnImage, TooLarge
from kompas.sync.bluesky_write import Refused
from kompas.sync.credentials import NotConnected
from kompas.sync.http import PlatformUnreachable, RetryPolicy
from kompas.sync.mastodon import ReadOnly

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
    "connect_command",
    "send",
]

NETWORKS = ("mastodon", "bluesky")


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
    return "kompas connect bluesky --handle YOUR.HANDLE (it asks for an app password)"


def _checked(draft: Draft) -> None:
    if draft.network not in NETWORKS:
        raise KompasError(
            f"cannot post to {draft.network!r} (kompas posts to: {', '.join(NETWORKS)})"
        )
    if not draft.parts or any(not part.strip() for part in draft.parts):
        raise KompasError("nothing to post: the draft (or one of its parts) is empty")
    if draft.alt is not None and draft.image is None:
        raise KompasError("alt text was given without an image (--image FILE --alt TEXT)")


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
