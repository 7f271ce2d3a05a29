"""Writing to the user's Bluesky repository, only when the user asks: the feed generator
record of a feed made from rules, and lists (``app.bsky.graph.list``, ``listitem``).

Every write goes through ``com.atproto.repo.*`` on the user's own PDS with the saved app
password. A record the PDS refuses (a name too long, an invalid record) is the user's
input problem: :class:`Refused`, naming it (exit code 1); a PDS that stays down is
:class:`~kompas.sync.http.PlatformUnreachable` (exit code 3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from atproto import Client, models
from atproto import exceptions as at_errors

from kompas.errors import Refused
from kompas.sync.bluesky import body_of, call, error_text, saved_session
from kompas.sync.http import RetryPolicy

T = TypeVar("T")
PAGE = 100


@dataclass(frozen=True, slots=True)
class Written:
    """A record written: its at-uri and CID."""

    uri: str
    cid: str


def refusing(what: str, function: Callable[[], T]) -> T:
    """Run one write; a 400 answer (invalid record, bad name) becomes :class:`Refused`."""

    def attempt() -> T:
        try:
            return function()
        except at_errors.BadRequestError as exc:
            raise Refused(f"Bluesky refused {what}: {error_text(exc)}") from None

    return call(what, attempt)


class BlueskyWriter:
    """The connected account's repository, for writing."""

    def __init__(self, home: Path, policy: RetryPolicy) -> None:
        self.api: Client
        self.api, self.did = saved_session(home, policy)

    def put(self, collection: str, rkey: str, record: dict[str, Any], what: str) -> Written:
        """Create or replace the record ``rkey`` of ``collection`` (idempotent)."""
        data = models.ComAtprotoRepoPutRecord.Data(
            repo=self.did, collection=collection, rkey=rkey, record=record
        )
        made = refusing(what, lambda: self.api.com.atproto.repo.put_record(data))
        return Written(str(made.uri), str(made.cid))

    def create(
        self, collection: str, record: dict[str, Any], what: str, rkey: str | None = None
    ) -> Written:
        """Create a record under a new key (``rkey``, or one the PDS picks)."""
        data = models.ComAtprotoRepoCreateRecord.Data(
            repo=self.did, collection=collection, record=record, rkey=rkey
        )
        made = refusing(what, lambda: self.api.com.atproto.repo.create_record(data))
        return Written(str(made.uri), str(made.cid))

    def delete(self, collection: str, rkey: str, what: str) -> None:
        """Delete the record ``rkey`` (deleting one already gone is not an error)."""
        data = models.ComAtprotoRepoDeleteRecord.Data(
            repo=self.did, collection=collection, rkey=rkey
        )
        refusing(what, lambda: self.api.com.atproto.repo.delete_record(data))

    def records(self, collection: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every record of ``collection`` in the user's repository: (at-uri, value)."""
        cursor: str | None = None
        seen = {cursor}
        while True:
            params = models.ComAtprotoRepoListRecords.Params(
                repo=self.did, collection=collection, limit=PAGE, cursor=cursor
            )
            body = body_of(
                call(
                    f"listing {collection}",
                    lambda p=params: self.api.invoke_query(  # type: ignore[misc]
                        "com.atproto.repo.listRecords", params=p
                    ),
                )
            )
            for listed in body.get("records") or []:
                if isinstance(listed.get("value"), dict) and isinstance(listed.get("uri"), str):
                    yield str(listed["uri"]), dict(listed["value"])
            following = body.get("cursor")
            if not body.get("records") or not following or following in seen:
                return
            seen.add(following)
            cursor = following
