"""Mastodon lists kept by kompas (``kompas lists plan|apply``), over Mastodon.py and the
shared retry policy: ``GET/POST/PUT /api/v1/lists``, ``GET/POST/DELETE
/api/v1/lists/:id/accounts`` (https://docs.joinmastodon.org/methods/lists/).

A Mastodon list holds only accounts the user follows, so the accounts kompas can add are
those of the following list (read live, with their API ids). Writing needs the
``write:lists`` scope, asked for only by ``kompas connect mastodon --write``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kompas.lists.config import ListSpec
from kompas.lists.plan import Current
from kompas.sync import credentials
from kompas.sync.http import RetryPolicy
from kompas.sync.mastodon import PLATFORM, call, client, refusing, require_write
from kompas.sync.mastodon_records import account_handle, account_uri

PAGE = 80


class MastodonLists:
    """The connected Mastodon account's lists."""

    platform = PLATFORM
    refusal = "not followed (a Mastodon list holds only accounts you follow)"

    def __init__(self, home: Path, policy: RetryPolicy, write: bool = False) -> None:
        saved = credentials.load(home, PLATFORM)
        if write:
            require_write(saved, ("write:lists",), "change your lists")
        self.instance = str(saved["instance"])
        self.home_host = urlsplit(self.instance).netloc
        self.api = client(self.instance, policy, access_token=saved["access_token"])
        self.api_id = str(saved.get("api_id") or "")
        self._lists: list[Any] | None = None
        self._following: dict[str, str] | None = None

    def _all(self, first: Any, what: str) -> list[Any]:
        pages = list(first or [])
        page = first
        while page:
            page = call(what, lambda p=page: self.api.fetch_next(p))  # type: ignore[misc]
            pages += list(page or [])
        return pages

    def _find(self, name: str) -> Any | None:
        if self._lists is None:
            self._lists = list(call("listing your lists", self.api.lists))
        return next((x for x in self._lists if str(x.get("title")) == name), None)

    def current(self, spec: ListSpec) -> Current:
        """The list named ``spec.name`` as it stands (the first one of that title)."""
        found = self._find(spec.name)
        if found is None:
            return Current()
        list_id = str(found["id"])
        what = f"reading the members of the list {spec.name!r}"
        accounts = self._all(call(what, lambda: self.api.list_accounts(list_id, limit=PAGE)), what)
        members = {account_uri(a, self.home_host): str(a["id"]) for a in accounts}
        handles = {
            account_uri(a, self.home_host): h
            for a in accounts
            if (h := account_handle(a, self.home_host))
        }
        return Current(
            list_id,
            members,
            handles,
            bool(found.get("exclusive", False)),
            str(found.get("replies_policy") or "list"),
        )

    def addable(self, accounts: Iterable[str]) -> dict[str, str]:
        """Of ``accounts`` (actor URIs), those the user follows → their API ids."""
        if self._following is None:
            what = "reading whom you follow"
            first = call(what, lambda: self.api.account_following(self.api_id, limit=PAGE))
            self._following = {
                account_uri(a, self.home_host): str(a["id"]) for a in self._all(first, what)
            }
        return {a: self._following[a] for a in accounts if a in self._following}

    def create(self, spec: ListSpec) -> str:
        """Create the list; its id."""
        made = refusing(
            f"the list name {spec.name!r}",
            lambda: self.api.list_create(spec.name, exclusive=spec.exclusive),
        )
        return str(made["id"])

    def set_exclusive(self, list_id: str, spec: ListSpec, current: Current) -> None:
        """Make the list exclusive, or not, as ``spec`` says."""
        refusing(
            f"the list {spec.name!r}",
            lambda: self.api.list_update(
                list_id,
                spec.name,
                replies_policy=current.replies_policy or "list",
                exclusive=spec.exclusive,
            ),
        )

    def add(self, list_id: str, spec: ListSpec, account: str, ref: str) -> None:
        """Add one followed account (by API id) to the list."""
        refusing(
            f"adding {account} to the list {spec.name!r}",
            lambda: self.api.list_accounts_add(list_id, [ref]),
        )

    def remove(self, list_id: str, spec: ListSpec, account: str, ref: str) -> None:
        """Remove one account (by API id) from the list."""
        refusing(
            f"removing {account} from the list {spec.name!r}",
            lambda: self.api.list_accounts_delete(list_id, [ref]),
        )
