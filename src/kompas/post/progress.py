"""How far a send got, kept in the store under its idempotency key, so a send that fails
half-way resumes where it stopped instead of posting again.

A send's progress is one row of live sync's own state table (platform, account, stream
``send:<digest of the key>``): when it started (Bluesky record keys are derived from that
time), the image already uploaded for it (so a retry attaches it instead of uploading it
again), and each part posted. Each part's records and the progress that says it is posted
are committed in one transaction (:func:`kompas.store.sync.write_page`, as a synced page
is), so the store never holds a post the progress does not know of, or the reverse.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from kompas.model import Record
from kompas.store.sync import drop_cursor, read_cursor, write_page

#: Streams of the sync state table that are sends, not syncs.
PREFIX = "send:"


def stream_of(key: str) -> str:
    """The state row name of the idempotency key ``key`` (fits the 64-character column
    whatever the key's length)."""
    return PREFIX + hashlib.blake2b(key.encode("utf-8"), digest_size=16).hexdigest()


@dataclass
class Progress:
    """What a send has done so far."""

    key: str
    #: When the send was first tried, in microseconds since 1970.
    started: int
    #: Each part posted, in order: ``{"uri", "url", "created_at", ...platform ids}``.
    parts: list[dict[str, Any]] = field(default_factory=list)
    #: The uploaded image (a Mastodon media id, a Bluesky blob ref), until it is attached.
    media: Any = None
    finished_at: str | None = None

    def as_cursor(self) -> dict[str, Any]:
        """The JSON stored for it."""
        return {
            "key": self.key,
            "started": self.started,
            "parts": self.parts,
            "media": self.media,
            "finished_at": self.finished_at,
        }


def load(engine: sa.Engine, platform: str, account: str, key: str) -> Progress | None:
    """The progress of the send ``key`` from ``account``, if it was ever tried."""
    stored = read_cursor(engine, platform, account, stream_of(key))
    if not isinstance(stored, dict):
        return None
    return Progress(
        key=str(stored.get("key") or key),
        started=int(stored.get("started") or 0),
        parts=[dict(p) for p in stored.get("parts") or [] if isinstance(p, dict)],
        media=stored.get("media"),
        finished_at=stored.get("finished_at"),
    )


def begin(engine: sa.Engine, platform: str, account: str, key: str) -> Progress:
    """The progress of ``key``, started now (and stored) if it had none."""
    found = load(engine, platform, account, key)
    if found is not None:
        return found
    now = datetime.now(UTC)
    made = Progress(key, int(now.timestamp() * 1_000_000))
    save(engine, platform, account, made)
    return made


def save(
    engine: sa.Engine,
    platform: str,
    account: str,
    progress: Progress,
    records: Iterable[Record] = (),
) -> None:
    """Store ``progress`` and, in the same transaction, the records of what was posted."""
    write_page(
        engine,
        records,
        platform=platform,
        account_id=account,
        stream=stream_of(progress.key),
        cursor=progress.as_cursor(),
    )


def forget(engine: sa.Engine, platform: str, account: str, key: str) -> bool:
    """Drop the progress of ``key`` (a new send of the same draft starts afresh); whether
    there was any."""
    return drop_cursor(engine, platform, account, stream_of(key))
