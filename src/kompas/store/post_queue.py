"""The local post queue's rows: drafts waiting for their time, and what became of them.

Every change of state is one ``UPDATE ... WHERE`` that names the state (and, for a claim,
the attempt) it expects, so two ``kompas post run`` at once can never both claim a row: the
second one's update matches nothing. Which moves are allowed is :mod:`kompas.post.queue`'s
business; this module only makes each one atomic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from kompas.store import schema

post_queue = sa.Table(
    "post_queue",
    schema.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    #: Sent with every try, so the platform (and kompas's own send progress) recognise a
    #: retry of the same post and never publish it twice.
    sa.Column("idempotency_key", sa.String(64), nullable=False),
    sa.Column("network", sa.String(16), nullable=False),
    #: The whole draft as the user wrote it.
    sa.Column("text", sa.Text, nullable=False),
    #: The thread it is sent as (one part when it fits), fixed when it was queued so that a
    #: resumed thread continues the same parts.
    sa.Column("parts", sa.JSON, nullable=False),
    sa.Column("reply_to", sa.String(512)),
    sa.Column("image", sa.Text),
    sa.Column("alt", sa.Text),
    sa.Column("due_at", schema.UTCDateTime, nullable=False),
    sa.Column("created_at", schema.UTCDateTime, nullable=False),
    #: queued | sending | sent | failed | cancelled (kompas.post.queue.STATES).
    sa.Column("state", sa.String(16), nullable=False),
    #: How many times a run claimed it.
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    #: Each part posted so far, in order: ``{"part", "uri", "url", "created_at"}``.
    sa.Column("sent", sa.JSON, nullable=False),
    #: The uploaded image's id on the network, once uploaded.
    sa.Column("media_id", sa.String(512)),
    #: Which run holds a row in ``sending`` (``host:pid``) and when it last said so.
    sa.Column("claimed_by", sa.String(300)),
    sa.Column("claimed_at", schema.UTCDateTime),
    #: When it was sent, failed for good or was cancelled.
    sa.Column("finished_at", schema.UTCDateTime),
    sa.Index(None, "idempotency_key", unique=True),
    sa.Index(None, "state", "due_at"),
)


@dataclass(frozen=True, slots=True)
class PostedPart:
    """One part of a queued post that is on the network."""

    part: int
    uri: str
    url: str | None
    created_at: str | None

    def as_json(self) -> dict[str, Any]:
        """The part as stored and as ``--json`` prints it."""
        return {"part": self.part, "uri": self.uri, "url": self.url, "created_at": self.created_at}


@dataclass(frozen=True, slots=True)
class QueuedPost:
    """A row of the queue."""

    id: int
    key: str
    network: str
    text: str
    parts: tuple[str, ...]
    reply_to: str | None
    image: str | None
    alt: str | None
    due_at: datetime
    created_at: datetime
    state: str
    attempts: int
    last_error: str | None
    sent: tuple[PostedPart, ...]
    media_id: str | None
    claimed_by: str | None
    claimed_at: datetime | None
    finished_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        """The row for ``--json``: times as ISO 8601 UTC."""
        return {
            "id": self.id,
            "key": self.key,
            "network": self.network,
            "text": self.text,
            "parts": list(self.parts),
            "reply_to": self.reply_to,
            "image": self.image,
            "alt": self.alt,
            "due_at": self.due_at.isoformat(),
            "created_at": self.created_at.isoformat(),
            "state": self.state,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "sent": [part.as_json() for part in self.sent],
            "media_id": self.media_id,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


def _parts_of(stored: Any) -> tuple[PostedPart, ...]:
    found = []
    for item in stored or ():
        if isinstance(item, dict) and item.get("uri"):
            found.append(
                PostedPart(
                    int(item.get("part") or 0),
                    str(item["uri"]),
                    item.get("url"),
                    item.get("created_at"),
                )
            )
    return tuple(found)


def _row(row: sa.Row[Any]) -> QueuedPost:
    return QueuedPost(
        id=int(row.id),
        key=row.idempotency_key,
        network=row.network,
        text=row.text,
        parts=tuple(str(p) for p in row.parts or ()),
        reply_to=row.reply_to,
        image=row.image,
        alt=row.alt,
        due_at=row.due_at,
        created_at=row.created_at,
        state=row.state,
        attempts=int(row.attempts),
        last_error=row.last_error,
        sent=_parts_of(row.sent),
        media_id=row.media_id,
        claimed_by=row.claimed_by,
        claimed_at=row.claimed_at,
        finished_at=row.finished_at,
    )


def add(
    connection: sa.Connection,
    *,
    key: str,
    network: str,
    text: str,
    parts: Sequence[str],
    reply_to: str | None,
    image: str | None,
    alt: str | None,
    due_at: datetime,
    now: datetime,
    state: str,
) -> QueuedPost:
    """Queue a draft; returns the row with its id."""
    new_id = connection.execute(
        sa.insert(post_queue)
        .values(
            idempotency_key=key,
            network=network,
            text=text,
            parts=list(parts),
            reply_to=reply_to,
            image=image,
            alt=alt,
            due_at=due_at,
            created_at=now,
            state=state,
            attempts=0,
            sent=[],
        )
        .returning(post_queue.c.id)
    ).scalar_one()
    found = get(connection, int(new_id))
    assert found is not None
    return found


def get(connection: sa.Connection, post_id: int) -> QueuedPost | None:
    """The row ``post_id``, if there is one."""
    row = connection.execute(sa.select(post_queue).where(post_queue.c.id == post_id)).first()
    return None if row is None else _row(row)


def listed(connection: sa.Connection, states: Sequence[str] | None = None) -> list[QueuedPost]:
    """The rows in ``states`` (every row when ``None``), soonest due first."""
    query = sa.select(post_queue).order_by(post_queue.c.due_at, post_queue.c.id)
    if states is not None:
        query = query.where(post_queue.c.state.in_(list(states)))
    return [_row(row) for row in connection.execute(query)]


def candidates(
    connection: sa.Connection, now: datetime, queued: str, sending: str
) -> list[QueuedPost]:
    """What a run may have to send: rows ``queued`` and due at ``now``, and every row left
    ``sending`` (whether its run is gone is the caller's question)."""
    query = (
        sa.select(post_queue)
        .where(
            ((post_queue.c.state == queued) & (post_queue.c.due_at <= now))
            | (post_queue.c.state == sending)
        )
        .order_by(post_queue.c.due_at, post_queue.c.id)
    )
    return [_row(row) for row in connection.execute(query)]


def next_due(connection: sa.Connection, queued: str) -> QueuedPost | None:
    """The queued row due soonest."""
    row = connection.execute(
        sa.select(post_queue)
        .where(post_queue.c.state == queued)
        .order_by(post_queue.c.due_at, post_queue.c.id)
        .limit(1)
    ).first()
    return None if row is None else _row(row)


def claim(
    connection: sa.Connection, post: QueuedPost, *, sending: str, by: str, now: datetime
) -> bool:
    """Move ``post`` to ``sending`` for the run ``by`` if nobody changed it since it was
    read (same state, same attempt count); whether this run got it."""
    done = connection.execute(
        sa.update(post_queue)
        .where(
            (post_queue.c.id == post.id)
            & (post_queue.c.state == post.state)
            & (post_queue.c.attempts == post.attempts)
        )
        .values(
            state=sending,
            attempts=post_queue.c.attempts + 1,
            claimed_by=by,
            claimed_at=now,
        )
    )
    return bool(done.rowcount)


def _held(post_id: int, by: str, sending: str) -> sa.ColumnElement[bool]:
    return (
        (post_queue.c.id == post_id)
        & (post_queue.c.state == sending)
        & (post_queue.c.claimed_by == by)
    )


def progress(
    connection: sa.Connection,
    post_id: int,
    *,
    sending: str,
    by: str,
    now: datetime,
    sent: Sequence[PostedPart] | None = None,
    media_id: str | None = None,
) -> bool:
    """Record that the run ``by`` still works on ``post_id`` (and what it posted so far);
    whether it still holds it."""
    values: dict[str, Any] = {"claimed_at": now}
    if sent is not None:
        values["sent"] = [part.as_json() for part in sent]
    if media_id is not None:
        values["media_id"] = media_id
    done = connection.execute(
        sa.update(post_queue).where(_held(post_id, by, sending)).values(**values)
    )
    return bool(done.rowcount)


def release(
    connection: sa.Connection,
    post_id: int,
    *,
    sending: str,
    by: str,
    state: str,
    now: datetime,
    error: str | None,
    sent: Sequence[PostedPart] | None = None,
    media_id: str | None = None,
    finished: bool,
) -> bool:
    """End the run ``by``'s hold on ``post_id``: move it to ``state`` with ``error`` (and
    what was posted, and the image uploaded); whether it still held it."""
    values: dict[str, Any] = {
        "state": state,
        "last_error": error,
        "claimed_by": None,
        "claimed_at": None,
        "finished_at": now if finished else None,
    }
    if sent is not None:
        values["sent"] = [part.as_json() for part in sent]
    if media_id is not None:
        values["media_id"] = media_id
    done = connection.execute(
        sa.update(post_queue).where(_held(post_id, by, sending)).values(**values)
    )
    return bool(done.rowcount)


def uploaded_media(connection: sa.Connection, platform: str, stream: str) -> str | None:
    """The image a send uploaded and has not attached yet, as the send's progress keeps it
    (:mod:`kompas.post.progress`, stream ``stream``): a Mastodon media id, or the CID of a
    Bluesky blob. ``None`` when there is none."""
    from kompas.store.sync import sync_state

    row = connection.execute(
        sa.select(sync_state.c.cursor).where(
            (sync_state.c.platform == platform) & (sync_state.c.stream == stream)
        )
    ).first()
    cursor = row.cursor if row is not None else None
    media = cursor.get("media") if isinstance(cursor, dict) else None
    ref = media.get("ref") if isinstance(media, dict) else None
    if isinstance(ref, str | int):
        return str(ref)
    blob = ref.get("blob") if isinstance(ref, dict) else None
    link = blob.get("ref") if isinstance(blob, dict) else None
    cid = link.get("$link") if isinstance(link, dict) else None
    return str(cid) if cid else None


def move(
    connection: sa.Connection,
    post_id: int,
    *,
    from_states: Sequence[str],
    state: str,
    now: datetime,
) -> bool:
    """Move ``post_id`` to ``state`` if it is in one of ``from_states`` (cancelling);
    whether it was."""
    done = connection.execute(
        sa.update(post_queue)
        .where((post_queue.c.id == post_id) & post_queue.c.state.in_(list(from_states)))
        .values(state=state, finished_at=now, claimed_by=None, claimed_at=None)
    )
    return bool(done.rowcount)
