"""Bluesky lists kept by kompas (``kompas lists plan|apply``): curation lists are records
in the user's own repository, ``app.bsky.graph.list`` for the list and one
``app.bsky.graph.listitem`` per member, written with ``putRecord``.

Record keys are derived from the list's name (and the member's DID), as valid TIDs: a
write repeated after a lost answer replaces the same record instead of making a second
one, so an interrupted ``apply`` resumes without duplicates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kompas.lists.config import ListSpec
from kompas.lists.plan import Current
from kompas.sync.bluesky_write import BlueskyWriter
from kompas.sync.http import RetryPolicy

LIST = "app.bsky.graph.list"
LISTITEM = "app.bsky.graph.listitem"
CURATELIST = "app.bsky.graph.defs#curatelist"
_TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"


def stable_tid(*parts: str) -> str:
    """A valid TID (13 base32-sortable characters, top bit 0) derived from ``parts``."""
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "big") & ((1 << 63) - 1)
    return "".join(_TID_CHARS[(value >> (5 * (12 - i))) & 31] for i in range(13))


def _rkey(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class BlueskyLists:
    """The connected Bluesky account's curation lists."""

    platform = "bluesky"
    refusal = "not a Bluesky account (no DID)"

    def __init__(self, home: Path, policy: RetryPolicy, write: bool = False) -> None:
        self.writer = BlueskyWriter(home, policy)
        self._lists: dict[str, str] | None = None  # name → at-uri
        self._items: dict[str, dict[str, str]] | None = None  # list uri → DID → rkey

    def _read(self) -> None:
        if self._lists is None:
            self._lists = {}
            for uri, value in self.writer.records(LIST):
                name = value.get("name")
                if isinstance(name, str) and value.get("purpose") == CURATELIST:
                    self._lists.setdefault(name, uri)
        if self._items is None:
            self._items = {}
            for uri, value in self.writer.records(LISTITEM):
                subject, owner = value.get("subject"), value.get("list")
                if isinstance(subject, str) and isinstance(owner, str):
                    self._items.setdefault(owner, {}).setdefault(subject, _rkey(uri))

    def current(self, spec: ListSpec) -> Current:
        """The curation list named ``spec.name`` and its members (DID → record key)."""
        self._read()
        assert self._lists is not None and self._items is not None
        uri = self._lists.get(spec.name)
        if uri is None:
            return Current()
        return Current(uri, dict(self._items.get(uri, {})))

    def addable(self, accounts: Iterable[str]) -> dict[str, str]:
        """Accounts with a DID can be listed, whether or not the user follows them."""
        return {a: a for a in accounts if a.startswith("did:")}

    def create(self, spec: ListSpec) -> str:
        """Write the list record; its at-uri."""
        record: dict[str, Any] = {
            "$type": LIST,
            "purpose": CURATELIST,
            "name": spec.name,
            "createdAt": _now(),
        }
        if spec.description:
            record["description"] = spec.description
        written = self.writer.put(
            LIST, stable_tid("list", spec.name), record, f"the list name {spec.name!r}"
        )
        return written.uri

    def set_exclusive(self, list_id: str, spec: ListSpec, current: Current) -> None:
        """Bluesky lists have no exclusive setting (the configuration refuses it)."""

    def add(self, list_id: str, spec: ListSpec, account: str, ref: str) -> None:
        """Write the listitem record of ``ref`` (a DID) in the list."""
        record = {"$type": LISTITEM, "subject": ref, "list": list_id, "createdAt": _now()}
        self.writer.put(
            LISTITEM,
            stable_tid("listitem", list_id, ref),
            record,
            f"adding {account} to the list {spec.name!r}",
        )

    def remove(self, list_id: str, spec: ListSpec, account: str, ref: str) -> None:
        """Delete the member's listitem record (``ref`` is its record key)."""
        self.writer.delete(LISTITEM, ref, f"removing {account} from the list {spec.name!r}")
