"""Accounts on the local Bluesky network with an AppView (``tests/appview/start_network.sh``).

The network is real: a PDS that stores records, a PLC directory, and an AppView that
indexes the PDS's firehose. Writes land on the PDS at once; the AppView sees them a moment
later, so reads that go through it wait with :func:`eventually`.

Tests that need the network read :data:`PDS_URL` and are collected only when it is set
(CI sets it; locally ``eval "$(bash tests/appview/start_network.sh)"``).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from typing import TypeVar

from atproto import Client, models

from conftest import Kompas

#: The PDS of the network (proxies ``app.bsky.*`` reads to the AppView).
PDS_URL = os.environ.get("KOMPAS_TEST_APPVIEW_PDS_URL")
#: The AppView itself, for public unauthenticated reads.
APPVIEW_URL = os.environ.get("KOMPAS_TEST_APPVIEW_URL")

T = TypeVar("T")


class Account:
    """A fresh account on the network's PDS, logged in through the atproto SDK."""

    def __init__(self, name: str, base: str | None = None) -> None:
        base = base or PDS_URL
        assert base is not None, "KOMPAS_TEST_APPVIEW_PDS_URL is not set"
        self.base = base
        self.handle = f"{name}{secrets.token_hex(3)}.test"
        self.password = secrets.token_urlsafe(12)
        self.client = Client(base_url=base)
        created = self.client.com.atproto.server.create_account(
            models.ComAtprotoServerCreateAccount.Data(
                handle=self.handle, email=f"{self.handle}@example.com", password=self.password
            )
        )
        self.did = created.did
        # The AppView may not have indexed the new account yet: skip the profile read.
        self.client.login(self.handle, self.password, fetch_bsky_profile=False)
        self.client.me = models.AppBskyActorDefs.ProfileViewDetailed(
            did=self.did, handle=self.handle
        )

    def indexed(self, *uris: str, timeout: float = 30.0) -> None:
        """Wait until the AppView has indexed these posts. Do it before another account
        answers one of them: the AppView indexes each repository on its own, so an answer
        can be indexed before the post it answers, and then it notifies no one."""
        eventually(
            lambda: self.client.get_posts(list(uris)).posts,
            lambda found: len(found) == len(uris),
            timeout,
        )

    def app_password(self) -> str:
        """An app password, as a user would create one for kompas."""
        made = self.client.com.atproto.server.create_app_password(
            models.ComAtprotoServerCreateAppPassword.Data(name="kompas-test")
        )
        return str(made.password)


def connect(kompas: Kompas, account: Account) -> None:
    """``kompas connect bluesky`` as ``account``, on the local network."""
    result = kompas(
        "connect",
        "bluesky",
        "--handle",
        account.handle,
        "--service",
        account.base,
        "--app-password",
        account.app_password(),
    )
    assert result.exit_code == 0, result.output


def eventually(read: Callable[[], T], ready: Callable[[T], bool], timeout: float = 30.0) -> T:
    """Call ``read`` until ``ready`` holds of its result (the AppView indexes
    asynchronously); fail with the last result after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = read()
        if ready(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not ready after {timeout:.0f} s: {result!r}")
        time.sleep(0.25)
