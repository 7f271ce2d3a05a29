"""Posting to Bluesky over the atproto SDK: an ``app.bsky.feed.post`` record written with
``com.atproto.repo.createRecord`` on the user's PDS, with its facets (links, mentions
resolved to DIDs, hashtags), its reply refs (the post answered and the root of its
thread), and an image (``uploadBlob``, then ``app.bsky.embed.images`` with its alt text).

Record keys are TIDs made from the time the send first started (kept with its progress)
plus the part's index, with a clock id derived from the idempotency key: valid TIDs, in
time order like any client's, and the same on every try of one send. A part whose record
key already holds a record was posted by an earlier try that lost its answer; it is read
back, not written again (the PDS would refuse a second create of the same key).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from atproto import exceptions as at_errors
from atproto import models

from kompas.errors import KompasError
from kompas.model import Account, Platform, Post, Record
from kompas.post import progress
from kompas.post.facets import facets
from kompas.post.image import BLUESKY_IMAGE_LIMIT, Image
from kompas.post.poster import Poster
from kompas.sources.bluesky import parse_time, record_to_records
from kompas.store.posted import known_post
from kompas.sync import credentials
from kompas.sync.bluesky import PLATFORM, PlatformError, body_of, call
from kompas.sync.bluesky_records import split_at_uri
from kompas.sync.bluesky_write import BlueskyWriter, refusing
from kompas.sync.http import PlatformUnreachable, RetryPolicy

POST = "app.bsky.feed.post"
_TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"


def tid(microseconds: int, clock: int) -> str:
    """The TID of a moment (microseconds since 1970) and a clock id (0–1023): 13
    base32-sortable characters, as the AT Protocol spells record keys."""
    value = ((microseconds & ((1 << 53) - 1)) << 10) | (clock & 1023)
    return "".join(_TID_CHARS[(value >> (5 * (12 - i))) & 31] for i in range(13))


def part_key(started: int, key: str, index: int) -> str:
    """The record key of part ``index`` of the send ``key`` that started at ``started``."""
    clock = int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=2).digest(), "big")
    return tid(started + index, clock)


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class BlueskyPoster(Poster):
    """The connected Bluesky account, for posting."""

    platform = PLATFORM
    #: A PDS drops an upload no record references within minutes.
    media_reuse = timedelta(minutes=5)

    def __init__(self, home: Path, engine: sa.Engine, policy: RetryPolicy) -> None:
        from kompas.post.send import account_of

        account_of(home, PLATFORM)  # not connected: says the command to run
        saved = credentials.load(home, PLATFORM)
        self.handle = str(saved.get("handle") or "") or None
        self.engine = engine
        self.writer = BlueskyWriter(home, policy)
        self.api = self.writer.api
        self.account = self.writer.did
        self._dids: dict[str, str | None] = {}

    # -- lookups --
    def _resolve(self, handle: str) -> str | None:
        """The DID of ``handle``, through the user's PDS (``None``: no such account)."""
        if handle not in self._dids:

            def lookup() -> str | None:
                try:
                    found = self.api.com.atproto.identity.resolve_handle({"handle": handle})
                except at_errors.BadRequestError:
                    return None
                return str(found.did)

            self._dids[handle] = call(f"resolving @{handle}", lookup)
        return self._dids[handle]

    def _record(self, uri: str) -> dict[str, Any] | None:
        """``com.atproto.repo.getRecord`` of ``uri`` (any repository: the PDS asks the
        AppView for one it does not host): ``{"uri", "cid", "value"}``, or ``None``."""
        did, key = split_at_uri(uri)
        collection, _, rkey = key.partition("/")

        def read() -> Any:
            try:
                return self.api.invoke_query(
                    "com.atproto.repo.getRecord",
                    params=models.ComAtprotoRepoGetRecord.Params(
                        repo=did, collection=collection, rkey=rkey
                    ),
                )
            except at_errors.BadRequestError:
                return None

        response = call(f"reading {uri}", read)
        if response is None:
            return None
        body = body_of(response)
        if not isinstance(body.get("value"), dict) or not body.get("cid"):
            raise PlatformError(f"reading {uri}: the PDS answered a record without value or cid")
        return {"uri": str(body.get("uri") or uri), "cid": str(body["cid"]), "value": body["value"]}

    def _at_uri(self, ref: str) -> str | None:
        """``ref`` as a post's at-uri: an at-uri (a handle in it resolved), a
        ``bsky.app/profile/WHO/post/KEY`` URL, or a post kompas knows."""
        if ref.startswith("at://"):
            try:
                actor, key = split_at_uri(ref)
            except ValueError:
                return None
        else:
            parts = urlsplit(ref)
            segments = parts.path.strip("/").split("/")
            if len(segments) != 4 or segments[0] != "profile" or segments[2] != "post":
                with self.engine.connect() as connection:
                    known = known_post(connection, PLATFORM, ref)
                return known.id if known is not None else None
            actor, key = segments[1], f"{POST}/{segments[3]}"
        did = actor if actor.startswith("did:") else self._resolve(actor.lower())
        return f"at://{did}/{key}" if did else None

    # -- what the base asks --
    def image_limit(self) -> int:
        """The ``app.bsky.embed.images`` lexicon's 1,000,000 bytes."""
        return BLUESKY_IMAGE_LIMIT

    def upload(self, image: Image, alt: str) -> Any:
        """``com.atproto.repo.uploadBlob``; the blob ref as JSON."""
        response = refusing(
            f"the image {image.path.name}",
            lambda: self.api.invoke_procedure(
                "com.atproto.repo.uploadBlob",
                data=image.data,
                input_encoding=image.mime_type,
                output_encoding="application/json",
            ),
        )
        blob = body_of(response).get("blob")
        if not isinstance(blob, dict):
            raise PlatformError("the PDS answered an upload without a blob")
        return {"blob": blob, "alt": alt, "width": image.width, "height": image.height}

    def reply_target(self, ref: str) -> Any:
        """The reply refs of an answer to ``ref``: the post itself (parent) and the root
        of its thread (its own root when it is a reply, else itself)."""
        uri = self._at_uri(ref.strip())
        found = self._record(uri) if uri else None
        if found is None:
            raise KompasError(
                f"Bluesky does not know the post {ref!r} (give its bsky.app URL or its at:// URI)"
            )
        parent = {"uri": found["uri"], "cid": found["cid"]}
        reply = found["value"].get("reply") if isinstance(found["value"], dict) else None
        root = reply.get("root") if isinstance(reply, dict) else None
        if not (isinstance(root, dict) and root.get("uri") and root.get("cid")):
            root = parent
        return {"root": {"uri": root["uri"], "cid": root["cid"]}, "parent": parent}

    def post(
        self,
        index: int,
        text: str,
        state: progress.Progress,
        target: Any,
        media: Any,
    ) -> tuple[dict[str, Any], Iterable[Record]]:
        """Create part ``index`` under its own record key, or read it back if an earlier
        try already did."""
        rkey = part_key(state.started, state.key, index)
        uri = f"at://{self.account}/{POST}/{rkey}"
        existing = self._record(uri)
        if existing is None:
            record = self._compose(index, text, state, target, media)
            what = "the post" if index == 0 else f"part {index + 1} of the thread"
            try:
                written = self.writer.create(POST, record, what, rkey=rkey)
                existing = {"uri": written.uri, "cid": written.cid, "value": record}
            except PlatformUnreachable:
                # The create may have landed and only its answer been lost.
                existing = self._record(uri)
                if existing is None:
                    raise
        value = existing["value"]
        records: list[Record] = [
            Account(
                Platform.BLUESKY,
                self.account,
                handle=self.handle,
                url=f"https://bsky.app/profile/{self.account}",
                is_self=True,
            )
        ]
        records += record_to_records(self.account, f"{POST}/{rkey}", dict(value))
        post = next(r for r in records if isinstance(r, Post) and r.id == uri)
        created = post.created_at or parse_time(value.get("createdAt"))
        entry = {
            "uri": uri,
            "cid": existing["cid"],
            "url": post.url,
            "created_at": created.isoformat() if created else None,
        }
        return entry, records

    def _compose(
        self, index: int, text: str, state: progress.Progress, target: Any, media: Any
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "$type": POST,
            "text": text,
            "createdAt": _time(datetime.now(UTC)),
        }
        found = facets(text, self._resolve)
        if found:
            record["facets"] = found
        if index > 0:
            previous = state.parts[index - 1]
            first = state.parts[0]
            parent = {"uri": previous["uri"], "cid": previous["cid"]}
            root = target["root"] if target else {"uri": first["uri"], "cid": first["cid"]}
            record["reply"] = {"root": root, "parent": parent}
        elif target is not None:
            record["reply"] = target
        if media is not None:
            image: dict[str, Any] = {"alt": media.get("alt") or "", "image": media["blob"]}
            if media.get("width") and media.get("height"):
                image["aspectRatio"] = {"width": media["width"], "height": media["height"]}
            record["embed"] = {"$type": "app.bsky.embed.images", "images": [image]}
        return record
