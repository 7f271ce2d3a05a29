"""``kompas post run``: send what is due in the local queue, once.

Each due post is claimed with one atomic update before anything is sent, so two runs at
once never both send it. It is sent with the idempotency key it was given when queued —
the same key on every try — so a run that died between posting and recording (the post
left ``sending``) is finished by the next run without a second post: the platform (and the
send's own progress) recognise the key. What happens to a post that is not sent is
written on it and shown: a network that stays down or rate-limited past the retry policy
puts it back in the queue for the next run (exit 3); a network that refuses it (too long,
a reply to a deleted post) marks it ``failed`` with the network's own words (exit 1).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from kompas.errors import KompasError
from kompas.post import queue
from kompas.post.queue import Claimant
from kompas.store import post_queue as store
from kompas.store.post_queue import PostedPart, QueuedPost

if TYPE_CHECKING:
    from kompas.sync.http import RetryPolicy

#: Exit codes of a run (kompas's own: 1 a problem to fix, 3 a platform failure).
FIXABLE = 1
UNREACHABLE = 3


def this_run() -> Claimant:
    """This process, as it marks the posts it claims."""
    return Claimant(socket.gethostname(), os.getpid())


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host still exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


@dataclass(frozen=True)
class Outcome:
    """What became of one post a run tried."""

    post: QueuedPost
    state: str
    error: str | None = None
    sent: tuple[PostedPart, ...] = ()
    #: 0 sent, 1 refused or not postable (fix it), 3 the network failed (retried later).
    code: int = 0

    def as_json(self) -> dict[str, Any]:
        """One post of ``kompas post run --json``."""
        return {
            "id": self.post.id,
            "network": self.post.network,
            "state": self.state,
            "attempts": self.post.attempts + 1,
            "error": self.error,
            "sent": [part.as_json() for part in self.sent],
        }


@dataclass
class RunReport:
    """A run: what it tried, and when the next queued post is due."""

    now: datetime
    outcomes: list[Outcome] = field(default_factory=list)
    next_due: QueuedPost | None = None

    @property
    def exit_code(self) -> int:
        """3 when a network failed (those posts stay queued), else 1 when a post was
        refused or cannot be sent as it is, else 0."""
        codes = {outcome.code for outcome in self.outcomes}
        return UNREACHABLE if UNREACHABLE in codes else FIXABLE if FIXABLE in codes else 0

    def as_json(self) -> dict[str, Any]:
        """``kompas post run --json``."""
        return {
            "posts": [outcome.as_json() for outcome in self.outcomes],
            "next_due_at": self.next_due.due_at.isoformat() if self.next_due else None,
            "next_due_id": self.next_due.id if self.next_due else None,
        }


def run_due(
    home: Path,
    engine: sa.Engine,
    policy: Callable[[], RetryPolicy],
    *,
    now: datetime | None = None,
    me: Claimant | None = None,
    alive: Callable[[int], bool] = pid_alive,
    told: Callable[[Outcome], None] | None = None,
) -> RunReport:
    """Send every post due at ``now`` (queued and due, or left ``sending`` by a run that is
    gone), soonest first, under the retry policy ``policy()`` makes; ``told`` hears of each
    as it ends. With nothing due, no network library is loaded (a timer runs this every
    few minutes)."""
    now = now or datetime.now(UTC)
    me = me or this_run()
    with engine.connect() as connection:
        found = store.candidates(connection, now, queue.QUEUED, queue.SENDING)
    report = RunReport(now)
    retry: RetryPolicy | None = None
    #: Networks that failed this run (down, or not connected): their other posts wait.
    skipped: dict[str, str] = {}
    for post in queue.to_send(found, now, me, alive):
        if post.network in skipped:
            continue
        with engine.begin() as connection:
            claimed = store.claim(
                connection, post, sending=queue.SENDING, by=str(me), now=datetime.now(UTC)
            )
            if not claimed:
                continue  # another run has it
        retry = retry or policy()
        outcome = _send(home, engine, retry, post, me)
        if outcome.code and outcome.state == queue.QUEUED:
            skipped[post.network] = outcome.error or ""
        report.outcomes.append(outcome)
        if told is not None:
            told(outcome)
    with engine.connect() as connection:
        report.next_due = store.next_due(connection, queue.QUEUED)
    return report


def _send(
    home: Path, engine: sa.Engine, policy: RetryPolicy, post: QueuedPost, me: Claimant
) -> Outcome:
    """Send one claimed post and release it in the state that says what happened."""
    from kompas.post.send import Draft, NotConnected, ReadOnly, Sent, send
    from kompas.sync.http import PlatformUnreachable

    posted = {part.part: part for part in post.sent}

    def alive_still(sent: list[PostedPart] | None = None) -> None:
        with engine.begin() as connection:
            store.progress(
                connection,
                post.id,
                sending=queue.SENDING,
                by=str(me),
                now=datetime.now(UTC),
                sent=sent,
            )

    def on_part(index: int, sent: Sent) -> None:
        posted[index] = _part(index, sent)
        alive_still(sorted(posted.values(), key=lambda part: part.part))

    notify = policy.notify

    def on_wait(message: str) -> None:
        alive_still()  # a long rate-limit wait must not look like a dead run
        if notify is not None:
            notify(message)

    policy.notify = on_wait
    draft = Draft(
        post.network,
        post.parts,
        post.reply_to,
        Path(post.image) if post.image else None,
        post.alt,
    )
    try:
        if post.image and not Path(post.image).is_file():
            raise KompasError(f"the image {post.image} is gone: queue the post again with it")
        result = send(home, engine, draft, policy, key=post.key, progress=on_part)
    except PlatformUnreachable as error:
        return _release(engine, post, me, queue.QUEUED, str(error), posted, UNREACHABLE)
    except (NotConnected, ReadOnly) as error:
        # Connecting (or granting write access) is all it takes: it waits in the queue.
        return _release(engine, post, me, queue.QUEUED, str(error), posted, FIXABLE)
    except KompasError as error:
        # Refused by the network, an image too large or gone: trying again would not help.
        return _release(engine, post, me, queue.FAILED, str(error), posted, FIXABLE)
    finally:
        policy.notify = notify
    for index, sent in enumerate(result):
        posted[index] = _part(index, sent)
    return _release(engine, post, me, queue.SENT, None, posted, 0)


def _part(index: int, sent: Any) -> PostedPart:
    created = sent.created_at.isoformat() if sent.created_at else None
    return PostedPart(index, sent.uri, sent.url, created)


def _release(
    engine: sa.Engine,
    post: QueuedPost,
    me: Claimant,
    state: str,
    error: str | None,
    posted: dict[int, PostedPart],
    code: int,
) -> Outcome:
    from kompas.post.progress import stream_of

    parts = tuple(sorted(posted.values(), key=lambda part: part.part))
    now = datetime.now(UTC)
    with engine.begin() as connection:
        # An image uploaded by a try that failed is attached by the next one, not uploaded
        # again: say so on the post.
        media = store.uploaded_media(connection, post.network, stream_of(post.key))
        held = store.release(
            connection,
            post.id,
            sending=queue.SENDING,
            by=str(me),
            state=state,
            now=now,
            error=error,
            sent=parts,
            media_id=media,
            finished=state in (queue.SENT, queue.FAILED),
        )
    if not held:  # silent past the lease, and another run took it over
        error = f"another run took post {post.id} over before this one finished; see its state"
        return Outcome(post, queue.SENDING, error, parts, FIXABLE)
    return Outcome(post, state, error, parts, code)
