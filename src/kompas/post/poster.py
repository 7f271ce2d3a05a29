"""The steps every network's send takes, in order, with what each step leaves behind.

1. Progress under the idempotency key: parts already posted are not posted again.
2. The image, read and checked against the network's limit before any upload; uploaded
   once (its id kept with the progress) and attached to the first part.
3. Each part posted in turn, answering the reply target (the first) or the part before;
   its records stored with the progress that says it is posted, in one transaction.

An upload is reused for :data:`MEDIA_REUSE` at most: platforms drop an upload that no post
uses after a while (Mastodon after a day, a PDS sooner), so a retry after that uploads
the image once more instead of failing forever on an upload that is gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from kompas.model import Record
from kompas.post import progress
from kompas.post.image import Image, read_image

if TYPE_CHECKING:
    from kompas.post.send import Draft, Sent

MEDIA_REUSE = timedelta(hours=1)


class Poster:
    """One connected account of one network, able to post (a subclass per network)."""

    platform: str
    #: The account the progress of its sends is kept for (an actor URI, a DID).
    account: str
    engine: sa.Engine
    #: How long an upload no post uses yet is attached instead of uploaded again.
    media_reuse: timedelta = MEDIA_REUSE

    # -- what each network provides --
    def ready(self, draft: Draft) -> None:
        """Raise when the connection cannot post ``draft`` (a token without the scope)."""

    def image_limit(self) -> int:
        """The largest image the network takes, in bytes."""
        raise NotImplementedError

    def upload(self, image: Image, alt: str) -> Any:
        """Upload ``image``; what a post needs to attach it (JSON)."""
        raise NotImplementedError

    def processed(self, ref: Any) -> None:
        """Wait until the platform can attach the upload ``ref`` (default: at once)."""

    def reply_target(self, ref: str) -> Any:
        """What a post needs to answer the post ``ref`` (raises when there is no such post)."""
        raise NotImplementedError

    def post(
        self,
        index: int,
        text: str,
        state: progress.Progress,
        target: Any,
        media: Any,
    ) -> tuple[dict[str, Any], Iterable[Record]]:
        """Post part ``index``: its progress entry and the records to store."""
        raise NotImplementedError

    def sent(self, part: dict[str, Any]) -> Sent:
        """A progress entry as :class:`~kompas.post.send.Sent`."""
        from kompas.post.send import Sent

        created = part.get("created_at")
        return Sent(
            self.platform,
            str(part["uri"]),
            part.get("url"),
            datetime.fromisoformat(str(created)) if created else datetime.now(UTC),
        )

    # -- the steps --
    def _media(self, state: progress.Progress, image: Image, alt: str) -> Any:
        kept = state.media if isinstance(state.media, dict) else None
        if kept is not None and "at" in kept:
            uploaded = datetime.fromisoformat(str(kept["at"]))
            if datetime.now(UTC) - uploaded < self.media_reuse:
                self.processed(kept["ref"])
                return kept["ref"]
        ref = self.upload(image, alt)
        # Kept before waiting on it: an upload still processing when the retries run out
        # is attached by the next try, not uploaded again.
        state.media = {"ref": ref, "at": datetime.now(UTC).isoformat()}
        progress.save(self.engine, self.platform, self.account, state)
        self.processed(ref)
        return ref

    def send(self, draft: Draft, key: str, told: Callable[[int, Sent], None] | None) -> list[Sent]:
        """Post what of ``draft`` the progress of ``key`` does not hold yet."""
        from kompas.post.image import check_size

        self.ready(draft)
        state = progress.begin(self.engine, self.platform, self.account, key)
        done = [self.sent(part) for part in state.parts[: len(draft.parts)]]
        for index, sent in enumerate(done):
            if told is not None:
                told(index, sent)
        if len(done) == len(draft.parts):
            return done
        image = read_image(draft.image) if draft.image is not None and not done else None
        if image is not None:
            check_size(image, self.image_limit(), self.platform.title())
        target = self.reply_target(draft.reply_to) if draft.reply_to else None
        media = self._media(state, image, draft.alt or "") if image is not None else None
        for index in range(len(done), len(draft.parts)):
            part, records = self.post(
                index, draft.parts[index], state, target, media if index == 0 else None
            )
            state.parts.append(part)
            if index == 0:
                state.media = None  # attached: nothing left to reuse
            if index == len(draft.parts) - 1:
                state.finished_at = datetime.now(UTC).isoformat()
            progress.save(self.engine, self.platform, self.account, state, records)
            sent = self.sent(part)
            done.append(sent)
            if told is not None:
                told(index, sent)
        return done
