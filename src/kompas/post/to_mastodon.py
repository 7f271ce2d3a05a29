"""Posting to Mastodon over Mastodon.py: ``POST /api/v1/statuses`` (``status_post``) with an
``Idempotency-Key``, ``POST /api/v2/media`` (``media_post``) for an image with its alt text,
waiting on ``GET /api/v1/media/:id`` while the instance processes it (the upload answered
202). https://docs.joinmastodon.org/methods/statuses/#create and /methods/media/.

A reply needs the replied-to status's id *on the user's instance*: a status of the instance
itself has it in its URI or URL; any other is resolved by the instance's search
(``GET /api/v2/search?resolve=true``), as Mastodon's own web app does with a pasted URL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from kompas.errors import KompasError
from kompas.model import Post, Record
from kompas.post import progress
from kompas.post.image import MASTODON_IMAGE_LIMIT, Image
from kompas.post.poster import Poster
from kompas.store.posted import known_post
from kompas.sync import credentials
from kompas.sync.http import PlatformUnreachable, RetryPolicy
from kompas.sync.mastodon import (
    PLATFORM,
    PlatformError,
    call,
    client,
    local_status_id,
    refusing,
    require_write,
)
from kompas.sync.mastodon_records import Resolver, account_record, status_records

if TYPE_CHECKING:
    from kompas.post.send import Draft


class MastodonPoster(Poster):
    """The connected Mastodon account, for posting."""

    platform = PLATFORM

    def __init__(self, home: Path, engine: sa.Engine, policy: RetryPolicy) -> None:
        from kompas.post.send import account_of

        account_of(home, PLATFORM)  # not connected: says the command to run
        saved = credentials.load(home, PLATFORM)
        self.saved = saved
        self.engine = engine
        self.policy = policy
        self.instance = str(saved["instance"])
        self.home_host = urlsplit(self.instance).netloc
        self.account = str(saved.get("account_id") or "")
        self.api = client(self.instance, policy, access_token=saved["access_token"])
        self.resolver = Resolver(self.home_host)
        self._me: Mapping[str, Any] | None = None
        #: Uploads the instance answered processed.
        self._ready: set[str] = set()

    def ready(self, draft: Draft) -> None:
        """:class:`ReadOnly` unless the token may post (and upload, for an image)."""
        scopes = ("write:statuses", "write:media") if draft.image else ("write:statuses",)
        require_write(self.saved, scopes, "post")

    # -- image --
    def image_limit(self) -> int:
        """``configuration.media_attachments.image_size_limit`` of the instance, as saved
        when it was connected or else asked now (v2, then v1), else Mastodon's default of
        16 MB."""
        from kompas.post.send import saved_image_limit

        saved = saved_image_limit(PLATFORM, self.saved)
        if saved is not None:
            return saved
        for fetch in (self.api.instance_v2, self.api.instance_v1):
            try:
                instance = call("reading the instance's limits", fetch)
            except PlatformError:
                continue
            configuration = instance.get("configuration") if instance else None
            media = configuration.get("media_attachments") if configuration else None
            limit = media.get("image_size_limit") if media else None
            if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
                return limit
        return MASTODON_IMAGE_LIMIT

    def upload(self, image: Image, alt: str) -> Any:
        """``POST /api/v2/media`` with the alt text as description; the media id."""
        made = refusing(
            f"the image {image.path.name}",
            lambda: self.api.media_post(
                image.data,
                mime_type=image.mime_type,
                description=alt or None,
                file_name=image.path.name,
            ),
            forbidden_is_read_only=True,
        )
        if made.get("url") is not None:
            self._ready.add(str(made["id"]))  # processed at once (200)
        return str(made["id"])

    def processed(self, ref: Any) -> None:
        """Wait while the instance processes the upload (it answered 202, and ``GET
        /api/v1/media/:id`` answers 206 with no ``url`` yet), backing off as the retry
        policy does; give up, keeping the upload for the next try, after its attempts."""
        media_id = str(ref)
        if media_id in self._ready:
            return
        made = call("reading the uploaded image", lambda: self.api.media(media_id))
        retry = 0
        while made.get("url") is None:
            if retry >= self.policy.attempts:
                raise PlatformUnreachable(
                    f"{self.home_host}: the instance has not finished processing the image "
                    f"(media {media_id}); the next try of this post attaches it"
                )
            wait = self.policy.backoff(retry)
            retry += 1
            self.policy.waits.append(wait)
            self.policy.sleep(wait)
            made = call("waiting for the image to be processed", lambda: self.api.media(media_id))

    # -- reply --
    def reply_target(self, ref: str) -> Any:
        """The status ``ref`` names (its id here, its URI or URL, or a post kompas knows),
        as this instance knows it."""
        wanted = ref.strip()
        with self.engine.connect() as connection:
            known = known_post(connection, PLATFORM, wanted)
        candidates = [wanted] + ([known.id] if known and known.id != wanted else [])
        for candidate in candidates:
            local = (
                candidate
                if candidate.isdigit()
                else local_status_id(candidate, self.home_host) or self._local_url_id(candidate)
            )
            if local is not None:
                try:
                    status = call("reading the post you answer", lambda i=local: self.api.status(i))  # type: ignore[misc]
                except PlatformError:
                    continue
                self.resolver.learn_status(status)
                return status
        for candidate in candidates:
            if not candidate.startswith(("http://", "https://")):
                continue
            found = call(
                "looking up the post you answer",
                lambda c=candidate: self.api.search_v2(c, resolve=True, result_type="statuses"),  # type: ignore[misc]
            )
            statuses = list((found or {}).get("statuses") or [])
            if statuses:
                self.resolver.learn_status(statuses[0])
                return statuses[0]
        raise KompasError(
            f"Mastodon does not know the post {wanted!r} (give its URL, its URI, or its id "
            f"on {self.home_host})"
        )

    def _local_url_id(self, url: str) -> str | None:
        """The id in a web URL of this instance's status: ``https://HOST/@user/ID``."""
        parts = urlsplit(url)
        segments = parts.path.strip("/").split("/")
        if (
            parts.netloc == self.home_host
            and len(segments) == 2
            and segments[0].startswith("@")
            and segments[1].isdigit()
        ):
            return segments[1]
        return None

    # -- post --
    def post(
        self,
        index: int,
        text: str,
        state: progress.Progress,
        target: Any,
        media: Any,
    ) -> tuple[dict[str, Any], Iterable[Record]]:
        """``POST /api/v1/statuses`` with ``Idempotency-Key: KEY:INDEX``."""
        if index > 0:
            previous = state.parts[index - 1]
            parent: Any = previous["id"]
            self.resolver.statuses[str(parent)] = (str(previous["uri"]), self._self_uri())
        else:
            parent = target["id"] if target is not None else None
        status = refusing(
            "the post" if index == 0 else f"part {index + 1} of the thread",
            lambda: self.api.status_post(
                text,
                in_reply_to_id=parent,
                media_ids=[media] if media else None,
                idempotency_key=f"{state.key}:{index}",
            ),
            forbidden_is_read_only=True,
        )
        author = status.get("account")
        if isinstance(author, Mapping):
            self._me = author
        records: list[Record] = []
        if isinstance(author, Mapping):
            records.append(account_record(author, is_self=True, home=self.home_host))
        records += status_records(status, self.resolver)
        post = next(r for r in records if isinstance(r, Post) and r.id == str(status["uri"]))
        created = post.created_at
        entry = {
            "id": str(status["id"]),
            "uri": post.id,
            "url": post.url,
            "created_at": created.isoformat() if created else None,
        }
        return entry, records

    def _self_uri(self) -> str:
        if self._me is not None:
            return self.resolver.learn_account(self._me)
        return self.account
