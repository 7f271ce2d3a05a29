"""Mastodon live sync over Mastodon.py: the OAuth connection, and an incremental,
resumable fetch of the user's statuses, notifications, followers, following, favourites
and bookmarks.

Every stream is walked from newest to oldest with ``max_id`` (the Link header's next page)
and bounded below by ``since_id``, the newest item of the last finished walk. The cursor
``{"since", "max", "top"}`` is committed with each page's records, so a killed sync resumes
at the next page, and a finished one only fetches what is newer next time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import sqlalchemy as sa
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonUnauthorizedError,
)

from kompas.errors import KompasError
from kompas.model import InteractionKind, Platform, Record
from kompas.store.sync import ListWalk, log_sync, read_cursor
from kompas.store.unfollows import Side
from kompas.sync import credentials
from kompas.sync.http import PlatformUnreachable, RetryingSession, RetryPolicy, policy_from_env
from kompas.sync.mastodon_records import (
    Resolver,
    account_record,
    account_uri,
    follow_records,
    marked_records,
    notification_records,
    status_records,
)
from kompas.sync.report import Committer, SyncReport, resume_walk

log = logging.getLogger(__name__)

PLATFORM = Platform.MASTODON.value
SCOPES = ["read"]
REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
APP_NAME = "kompas"
STREAMS = ("statuses", "notifications", "favourites", "bookmarks", "followers", "following")
#: Streams that are complete lists, walked whole each time so unfollows show.
LISTS = ("followers", "following")
PAGE_LIMITS = {"followers": 80, "following": 80}

T = TypeVar("T")


class AuthError(KompasError):
    """The platform refused the saved credentials or the authorisation code."""


class PlatformError(PlatformUnreachable):
    """The platform answered, but not with what kompas asked for (exit code 3)."""


class ClientBroke(PlatformError):
    """Mastodon.py itself failed on what the instance sent (exit code 3)."""


def normalise_instance(url: str) -> str:
    """``mastodon.social`` or ``https://mastodon.social/`` → ``https://mastodon.social``."""
    url = url.strip().rstrip("/")
    if not url:
        raise KompasError("no instance given (expected a URL like https://mastodon.social)")
    if "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise KompasError(f"{url!r} is not an instance URL (expected https://HOST)")
    return f"{parts.scheme}://{parts.netloc}"


def call(what: str, function: Callable[[], T]) -> T:
    """Run one Mastodon.py call, turning its errors into kompas's own."""
    try:
        return function()
    except MastodonNetworkError as exc:
        cause = exc.__context__ or exc.__cause__
        if isinstance(cause, PlatformUnreachable):
            raise PlatformUnreachable(f"{what}: {cause}") from None
        raise PlatformUnreachable(f"{what}: network failure ({type(exc).__name__})") from None
    except MastodonUnauthorizedError:
        raise AuthError(
            f"{what}: the instance refused the saved token; run `kompas connect mastodon` again"
        ) from None
    except MastodonAPIError as exc:
        status = exc.args[1] if len(exc.args) > 1 else "?"
        raise PlatformError(f"{what}: the instance answered HTTP {status}") from None
    except MastodonError as exc:
        raise PlatformError(f"{what}: {type(exc).__name__}") from None
    except KompasError:
        raise
    except Exception as exc:
        # Mastodon.py itself failed on what the instance sent (seen: a RecursionError when
        # the version probe fails): a platform failure, not a kompas crash.
        raise ClientBroke(
            f"{what}: the instance's answer broke Mastodon.py ({type(exc).__name__})"
        ) from None


def client(instance: str, policy: RetryPolicy, **auth: Any) -> Mastodon:
    """A Mastodon.py client whose HTTP goes through kompas's retry policy."""
    return Mastodon(
        api_base_url=instance,
        session=RetryingSession(policy),
        ratelimit_method="throw",  # the session waits out rate limits itself
        request_timeout=policy.timeout,
        version_check_mode="none",
        user_agent="kompas",
        **auth,
    )


@dataclass
class PendingConnection:
    """The first half of the OAuth flow: the app is registered, the user must authorise."""

    instance: str
    client_id: str
    client_secret: str
    authorize_url: str


def begin_connect(instance: str, policy: RetryPolicy) -> PendingConnection:
    """Register kompas as an app on ``instance`` and build the authorisation URL."""
    instance = normalise_instance(instance)
    session = RetryingSession(policy)
    client_id, client_secret = call(
        "registering the app",
        lambda: Mastodon.create_app(
            APP_NAME,
            scopes=SCOPES,
            redirect_uris=REDIRECT,
            website="https://github.com/kompas",
            api_base_url=instance,
            session=session,
            request_timeout=policy.timeout,
        ),
    )
    api = client(instance, policy, client_id=client_id, client_secret=client_secret)
    url = call(
        "building the authorisation URL",
        lambda: api.auth_request_url(
            redirect_uris=REDIRECT, scopes=SCOPES, allow_http=instance.startswith("http://")
        ),
    )
    return PendingConnection(instance, client_id, client_secret, url)


def finish_connect(home: Path, pending: PendingConnection, code: str, policy: RetryPolicy) -> str:
    """Exchange the authorisation code for a token, save it (mode 0600); return the handle."""
    api = client(
        pending.instance, policy, client_id=pending.client_id, client_secret=pending.client_secret
    )
    try:
        token = call(
            "exchanging the authorisation code",
            lambda: api.log_in(
                code=code.strip(),
                redirect_uri=REDIRECT,
                scopes=SCOPES,
                allow_http=pending.instance.startswith("http://"),
            ),
        )
    except ClientBroke:
        raise
    except PlatformError:
        raise AuthError(
            "the instance did not accept the authorisation code; run the command again"
        ) from None
    me = call("reading your account", api.account_verify_credentials)
    home_host = urlsplit(pending.instance).netloc
    credentials.save(
        home,
        PLATFORM,
        {
            "instance": pending.instance,
            "client_id": pending.client_id,
            "client_secret": pending.client_secret,
            "access_token": token,
            "account_id": account_uri(me, home_host),
            "api_id": str(me["id"]),
        },
    )
    return str(me.get("acct") or me.get("username") or "")


def _next_max(page: Any) -> str | None:
    info = getattr(page, "_pagination_next", None)
    if isinstance(info, Mapping) and info.get("max_id") is not None:
        return str(info["max_id"])
    return None


def _top(page: Any) -> str | None:
    info = getattr(page, "_pagination_prev", None)
    if isinstance(info, Mapping):
        for key in ("min_id", "since_id"):
            if info.get(key) is not None:
                return str(info[key])
    if page and isinstance(page[0], Mapping) and page[0].get("id") is not None:
        return str(page[0]["id"])
    return None


class MastodonSync:
    """One run of ``kompas sync mastodon`` for the saved account."""

    def __init__(self, engine: sa.Engine, home: Path, policy: RetryPolicy) -> None:
        saved = credentials.load(home, PLATFORM)
        self.engine = engine
        self.instance = str(saved["instance"])
        self.api = client(self.instance, policy, access_token=saved["access_token"])
        self.home_host = urlsplit(self.instance).netloc
        self.resolver = Resolver(self.home_host)
        self.report = SyncReport(PLATFORM, str(saved.get("account_id") or ""))
        self.committer = Committer(engine, self.report)
        self.api_id = str(saved.get("api_id") or "")

    def run(self, streams: tuple[str, ...] = STREAMS) -> SyncReport:
        """Sync every stream named, in order; raise on a platform that stays unreachable."""
        me = call("reading your account", self.api.account_verify_credentials)
        self.api_id = str(me["id"])
        self.self_id = self.resolver.learn_account(me)
        self.report.account = self.self_id
        self.committer.page(
            "profile", 1, [account_record(me, is_self=True, home=self.home_host)], None
        )
        for stream in streams:
            if stream in LISTS:
                self._walk_list(stream)
            else:
                self._walk(stream)
        log_sync(self.engine, "mastodon-sync", self.instance, self.report.added())
        return self.report

    def _fetch(self, stream: str, max_id: str | None, since_id: str | None) -> Any:
        limit = PAGE_LIMITS.get(stream, 40)
        api = self.api
        calls: dict[str, Callable[[], Any]] = {
            "statuses": lambda: api.account_statuses(
                self.api_id, max_id=max_id, since_id=since_id, limit=limit
            ),
            "notifications": lambda: api.notifications(
                max_id=max_id, since_id=since_id, limit=limit
            ),
            "favourites": lambda: api.favourites(max_id=max_id, since_id=since_id, limit=limit),
            "bookmarks": lambda: api.bookmarks(max_id=max_id, since_id=since_id, limit=limit),
            "followers": lambda: api.account_followers(
                self.api_id, max_id=max_id, since_id=since_id, limit=limit
            ),
            "following": lambda: api.account_following(
                self.api_id, max_id=max_id, since_id=since_id, limit=limit
            ),
        }
        return call(f"fetching {stream}", calls[stream])

    def _walk(self, stream: str) -> None:
        state = read_cursor(self.engine, PLATFORM, self.report.account, stream) or {}
        since, position, top = state.get("since"), state.get("max"), state.get("top")
        seen: set[str | None] = {position}
        entry = self.report.stream(stream)
        while True:
            page = self._fetch(stream, position, since)
            if not page:
                self.committer.page(
                    stream, 0, [], {"since": top or since, "max": None, "top": None}
                )
                return
            top = top or _top(page)
            records = list(self._records(stream, page))
            following = _next_max(page)
            if following is None:
                cursor = {"since": top or since, "max": None, "top": None}
            elif following in seen:
                entry.warnings.append(
                    f"the instance repeated the page cursor max_id={following}; "
                    "stopped here and will resume from it next time"
                )
                self.committer.page(
                    stream, len(page), records, {"since": since, "max": position, "top": top}
                )
                return
            else:
                cursor = {"since": since, "max": following, "top": top}
            self.committer.page(stream, len(page), records, cursor)
            if following is None:
                return
            seen.add(following)
            position = following

    def _walk_list(self, stream: str) -> None:
        """Followers or following: the whole list each time (it also shrinks), resumable;
        a walk that reaches the end ends the edges it never showed (unfollows)."""
        state = read_cursor(self.engine, PLATFORM, self.report.account, stream)
        position, started = resume_walk(state, "max")
        seen: set[str | None] = {position}
        side: Side = "followers" if stream == "followers" else "following"
        while True:
            page = self._fetch(stream, position, None) or []
            records = list(self._records(stream, page))
            following = _next_max(page) if page else None
            if following is not None and following in seen:
                self.report.stream(stream).warnings.append(
                    f"the instance repeated the page cursor max_id={following}; "
                    "stopped here and will resume from it next time"
                )
                cursor = {"max": position, "started": started.isoformat()}
                self.committer.page(
                    stream, len(page), records, cursor, ListWalk(side, started, last=False)
                )
                return
            last = following is None
            cursor = {"max": following, "started": None if last else started.isoformat()}
            self.committer.page(stream, len(page), records, cursor, ListWalk(side, started, last))
            if last:
                return
            seen.add(following)
            position = following

    def _resolve_parents(self, statuses: list[Mapping[str, Any]]) -> None:
        """Fetch the statuses replied to that no page has shown yet (for their URIs)."""
        for status in statuses:
            parent = self.resolver.missing_status(status)
            if parent is None:
                continue
            try:
                found = call("fetching a replied-to status", lambda p=parent: self.api.status(p))  # type: ignore[misc]
            except PlatformError:
                continue  # deleted or private: the reply keeps its author, without the URI
            self.resolver.learn_status(found)

    def _records(self, stream: str, page: list[Any]) -> Iterator[Record]:
        resolver = self.resolver
        if stream == "statuses":
            for status in page:
                resolver.learn_status(status)
            self._resolve_parents(page)
            for status in page:
                yield from status_records(status, resolver)
        elif stream == "notifications":
            statuses = [n["status"] for n in page if isinstance(n.get("status"), Mapping)]
            for status in statuses:
                resolver.learn_status(status)
            self._resolve_parents([s for s in statuses if s.get("in_reply_to_id") is not None])
            for notification in page:
                yield from notification_records(notification, self.self_id, resolver)
        elif stream in ("favourites", "bookmarks"):
            kind = InteractionKind.LIKE if stream == "favourites" else InteractionKind.BOOKMARK
            for status in page:
                yield from marked_records(status, kind, self.self_id, resolver)
        else:
            for account in page:
                yield from follow_records(
                    account, self.self_id, follower=stream == "followers", resolver=resolver
                )


def sync(
    engine: sa.Engine,
    home: Path,
    policy: RetryPolicy | None = None,
    streams: tuple[str, ...] = STREAMS,
) -> SyncReport:
    """Fetch what is new on the connected Mastodon account into the store."""
    return MastodonSync(engine, home, policy or policy_from_env()).run(streams)
