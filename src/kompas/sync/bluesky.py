"""Bluesky live sync over the ``atproto`` SDK: the app-password connection, and an
incremental, resumable fetch of the user's repository records, notifications, followers,
follows, home timeline and list feeds, the posts the user's replies answer, and the
profiles of the accounts involved.

The user's own records come from their PDS (``com.atproto.repo.listRecords``, walked in
record-key order, which is creation order, so the cursor is simply the last key stored).
Notifications, followers, timelines, parents and profiles come from the AppView through the
PDS; a PDS with no AppView (a bare self-hosted one) skips those streams with a note instead
of failing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import sqlalchemy as sa
from atproto import Client, Request, models
from atproto import exceptions as at_errors

from kompas.errors import KompasError
from kompas.model import Account, Follow, Platform, Record
from kompas.store.sync import (
    ListWalk,
    accounts_without_handle,
    log_sync,
    read_cursor,
    replies_missing_parents,
)
from kompas.store.unfollows import Side
from kompas.sync import credentials
from kompas.sync.bluesky_records import (
    feed_view_records,
    notification_records,
    post_view_records,
    profile_record,
    repo_records,
    split_at_uri,
)
from kompas.sync.http import PlatformUnreachable, RetryingTransport, RetryPolicy, policy_from_env
from kompas.sync.identifiers import DEFAULT_SERVICE, check_handle
from kompas.sync.report import Committer, SyncReport, resume_walk
from kompas.sync.timeline_items import source_name, timeline_entries

log = logging.getLogger(__name__)

PLATFORM = Platform.BLUESKY.value
COLLECTIONS = (
    "app.bsky.actor.profile",
    "app.bsky.feed.post",
    "app.bsky.feed.repost",
    "app.bsky.feed.like",
    "app.bsky.graph.follow",
)
FOLLOW = "app.bsky.graph.follow"
STREAMS = ("repo", "notifications", "followers", "follows", "timeline", "parents", "profiles")
PAGE = 100
#: The first walk of a timeline goes back this many posts; later walks stop at the newest
#: post of the last one.
FIRST_WALK = 800
#: Parents of the user's replies looked up per run (one ``getPostThread`` each).
PARENTS_PER_RUN = 200
CURATELIST = "app.bsky.graph.defs#curatelist"

T = TypeVar("T")


class AuthError(KompasError):
    """The PDS refused the handle or app password."""


class PlatformError(PlatformUnreachable):
    """The PDS or AppView answered, but with an error (exit code 3)."""


class NoAppView(KompasError):
    """The PDS serves no ``app.bsky`` AppView, so this stream cannot be synced there."""


def error_text(error: at_errors.RequestErrorBase) -> str:
    """The status, error and message of a failed XRPC call, for messages to the user."""
    response = getattr(error, "response", None)
    content = getattr(response, "content", None)
    parts = [str(getattr(response, "status_code", "?"))]
    for attribute in ("error", "message"):
        value = getattr(content, attribute, None)
        if value:
            parts.append(str(value))
    return " ".join(parts)


def call(what: str, function: Callable[[], T]) -> T:
    """Run one atproto call, turning its errors into kompas's own."""
    try:
        return function()
    except PlatformUnreachable:
        raise
    except at_errors.UnauthorizedError as exc:
        raise AuthError(
            f"{what}: the PDS refused the credentials ({error_text(exc)}); "
            "run `kompas connect bluesky` again"
        ) from None
    except at_errors.BadRequestError as exc:
        text = error_text(exc)
        if "No service configured" in text or "MethodNotImplemented" in text:
            raise NoAppView(f"{what}: this PDS has no AppView ({text})") from None
        raise PlatformError(f"{what}: the server answered {text}") from None
    except at_errors.RequestErrorBase as exc:
        text = error_text(exc) if getattr(exc, "response", None) else type(exc).__name__
        if "501" in text.split(" ", 1)[0] or "MethodNotImplemented" in text:
            raise NoAppView(f"{what}: this server does not serve it ({text})") from None
        raise PlatformError(f"{what}: the server answered {text}") from None
    except at_errors.AtProtocolError as exc:
        raise PlatformError(f"{what}: {type(exc).__name__}") from None
    except KompasError:
        raise
    except Exception as exc:
        # The SDK failed on what the server sent: a platform failure, not a kompas crash.
        raise PlatformError(
            f"{what}: the server's answer broke the atproto SDK ({type(exc).__name__})"
        ) from None


def client(service: str, policy: RetryPolicy) -> Client:
    """An atproto client whose HTTP goes through kompas's retry policy."""
    request = Request(transport=RetryingTransport(policy), timeout=httpx.Timeout(policy.timeout))
    return Client(base_url=_xrpc(service), request=request)


def _xrpc(service: str) -> str:
    service = service.strip().rstrip("/")
    if "://" not in service:
        service = f"https://{service}"
    return service if service.endswith("/xrpc") else f"{service}/xrpc"


def login(api: Client, login: str, password: str) -> tuple[str, str]:
    """Log ``api`` in; return the account's DID and handle."""
    call("logging in", lambda: api.login(login, password, fetch_bsky_profile=False))
    session = call("reading the session", api.com.atproto.server.get_session)
    return str(session.did), str(session.handle)


def connect(home: Path, handle: str, app_password: str, service: str, policy: RetryPolicy) -> str:
    """Log in with an app password and save it (mode 0600); return the account's DID."""
    login_as = handle if handle.startswith("did:") else check_handle(handle.lstrip("@"))
    service = service.strip().rstrip("/") or DEFAULT_SERVICE
    api = client(service, policy)
    did, resolved = login(api, login_as, app_password)
    credentials.save(
        home,
        PLATFORM,
        {"service": service, "handle": resolved, "did": did, "app_password": app_password},
    )
    return did


def saved_session(home: Path, policy: RetryPolicy) -> tuple[Client, str]:
    """A client logged in as the connected account, and the account's DID."""
    saved = credentials.load(home, PLATFORM)
    api = client(str(saved["service"]), policy)
    did, _ = login(api, str(saved.get("did") or saved["handle"]), str(saved["app_password"]))
    return api, did


class BlueskySync:
    """One run of ``kompas sync bluesky`` for the saved account."""

    def __init__(self, engine: sa.Engine, home: Path, policy: RetryPolicy) -> None:
        saved = credentials.load(home, PLATFORM)
        self.engine = engine
        self.service = str(saved["service"])
        self.api = client(self.service, policy)
        self._password = str(saved["app_password"])
        self._login = str(saved.get("did") or saved["handle"])
        self.report = SyncReport(PLATFORM, str(saved.get("did") or ""))
        self.committer = Committer(engine, self.report)

    def run(self, streams: tuple[str, ...] = STREAMS) -> SyncReport:
        """Sync every stream named, in order."""
        did, handle = login(self.api, self._login, self._password)
        self.did = did
        self.report.account = did
        me = Account(
            Platform.BLUESKY,
            did,
            handle=handle,
            url=f"https://bsky.app/profile/{did}",
            is_self=True,
        )
        self.committer.page("profile", 1, [me], None)
        steps: dict[str, Callable[[], None]] = {
            "repo": self._repo,
            "notifications": self._notifications,
            "followers": lambda: self._graph("followers"),
            "follows": lambda: self._graph("follows"),
            "timeline": self._timelines,
            "parents": self._parents,
            "profiles": self._profiles,
        }
        for stream in streams:
            try:
                steps[stream]()
            except NoAppView as note:
                self.report.stream(stream).skipped = str(note)
        log_sync(self.engine, "bluesky-sync", self.service, self.report.added())
        return self.report

    def _cursor(self, stream: str) -> Any:
        return read_cursor(self.engine, PLATFORM, self.did, stream)

    def _repo(self) -> None:
        for collection in COLLECTIONS:
            stream = f"repo:{collection}"
            state = self._cursor(stream) or {}
            # The profile is one record edited in place (rkey "self"), and a follow record
            # is deleted on unfollow: read those whole every time.
            whole = collection in (COLLECTIONS[0], FOLLOW)
            position: str | None = None if whole else state.get("after")
            started = datetime.now(UTC)
            seen = {position}
            while True:
                params = models.ComAtprotoRepoListRecords.Params(
                    repo=self.did, collection=collection, limit=PAGE, reverse=True, cursor=position
                )
                response = call(
                    f"listing {collection}",
                    lambda p=params: self.api.invoke_query(
                        "com.atproto.repo.listRecords", params=p
                    ),  # type: ignore[misc]
                )
                body = body_of(response)
                listed = body.get("records") or []
                following = body.get("cursor")
                records = [r for item in listed for r in repo_records(self.did, item)]
                looped = bool(listed) and following is not None and following in seen
                if looped:
                    self.report.stream(stream).warnings.append(
                        f"the PDS repeated the cursor {following!r}; stopped here"
                    )
                    following = None
                last = _rkey(listed[-1]) if listed else position
                done = not listed or not following
                walk = (
                    ListWalk("following", started, last=done and not looped)
                    if collection == FOLLOW
                    else None
                )
                self.committer.page(stream, len(listed), records, {"after": last}, walk)
                if done:
                    break
                seen.add(following)
                position = last
        self.report.merge("repo:", "repo")

    def _notifications(self) -> None:
        """Newest first; stop at what the last finished walk already stored."""
        stream = "notifications"
        state = self._cursor(stream) or {}
        since, position, top = state.get("since"), state.get("cursor"), state.get("top")
        seen = {position}
        while True:
            params = models.AppBskyNotificationListNotifications.Params(limit=50, cursor=position)
            response = call(
                "listing notifications",
                lambda p=params: self.api.invoke_query(  # type: ignore[misc]
                    "app.bsky.notification.listNotifications", params=p
                ),
            )
            body = body_of(response)
            items = body.get("notifications") or []
            fresh = [n for n in items if since is None or str(n.get("indexedAt")) > since]
            top = top or (max((str(n.get("indexedAt")) for n in items), default=None))
            records = [r for n in fresh for r in notification_records(n, self.did)]
            following = body.get("cursor")
            done = not items or not following or len(fresh) < len(items)
            if following is not None and following in seen and not done:
                self.report.stream(stream).warnings.append(
                    f"the AppView repeated the cursor {following!r}; stopped here"
                )
                self.committer.page(
                    stream, len(fresh), records, {"since": since, "cursor": position, "top": top}
                )
                return
            cursor = (
                {"since": top or since, "cursor": None, "top": None}
                if done
                else {"since": since, "cursor": following, "top": top}
            )
            self.committer.page(stream, len(fresh), records, cursor)
            if done:
                return
            seen.add(following)
            position = following

    def _timelines(self) -> None:
        """The home timeline (``getTimeline``) and the feed of each of the user's curation
        lists (``getListFeed``), as feed items named ``bluesky:timeline`` and
        ``bluesky:list:NAME``; reported as one stream."""
        try:
            self._feed(
                "timeline:home",
                source_name(PLATFORM, "timeline"),
                "app.bsky.feed.getTimeline",
                lambda cursor: models.AppBskyFeedGetTimeline.Params(limit=PAGE, cursor=cursor),
            )
            for uri, name in self._curation_lists():
                _, key = split_at_uri(uri)
                self._feed(
                    f"timeline:list:{key.rsplit('/', 1)[-1]}",
                    source_name(PLATFORM, "list", name),
                    "app.bsky.feed.getListFeed",
                    lambda cursor, u=uri: models.AppBskyFeedGetListFeed.Params(  # type: ignore[misc]
                        list=u, limit=PAGE, cursor=cursor
                    ),
                )
        finally:
            self.report.merge("timeline:", "timeline")

    def _curation_lists(self) -> list[tuple[str, str]]:
        """The user's curation lists (at-uri, name); moderation lists have no feed."""
        found: list[tuple[str, str]] = []
        position: str | None = None
        seen = {position}
        while True:
            params = models.AppBskyGraphGetLists.Params(actor=self.did, limit=PAGE, cursor=position)
            body = body_of(
                call(
                    "listing your lists",
                    lambda p=params: self.api.invoke_query("app.bsky.graph.getLists", params=p),  # type: ignore[misc]
                )
            )
            for view in body.get("lists") or []:
                if view.get("purpose") == CURATELIST and isinstance(view.get("uri"), str):
                    found.append((str(view["uri"]), str(view.get("name") or view["uri"])))
            following = body.get("cursor")
            if not body.get("lists") or not following or following in seen:
                return found
            seen.add(following)
            position = following

    def _feed(
        self, stream: str, source: str, nsid: str, params: Callable[[str | None], Any]
    ) -> None:
        """Walk one feed newest first, down to the newest post of the last finished walk
        (the first walk: :data:`FIRST_WALK` posts), committing each page with its cursor."""
        state = self._cursor(stream) or {}
        since, position, top = state.get("since"), state.get("cursor"), state.get("top")
        seen = {position}
        walked = 0
        while True:
            query = params(position)
            response = call(
                f"reading {source}",
                lambda q=query: self.api.invoke_query(nsid, params=q),  # type: ignore[misc]
            )
            body = body_of(response)
            feed = [v for v in body.get("feed") or [] if isinstance(v, dict)]
            keyed = [(_sort_key(v), v) for v in feed]
            fresh = [v for key, v in keyed if since is None or key > since]
            top = top or max((key for key, _ in keyed), default=None)
            records: list[Record] = []
            for view in fresh:
                records += feed_view_records(view)
            shown = [str(v["post"]["uri"]) for v in fresh]
            entries = timeline_entries(records, shown, source)
            walked += len(fresh)
            following = body.get("cursor")
            done = (
                not feed
                or not following
                or len(fresh) < len(feed)
                or (since is None and walked >= FIRST_WALK)
            )
            if following is not None and following in seen and not done:
                self.report.stream(stream).warnings.append(
                    f"the AppView repeated the cursor {following!r}; stopped here"
                )
                cursor = {"since": since, "cursor": position, "top": top}
                self.committer.page(stream, len(fresh), records, cursor, entries=entries)
                return
            cursor = (
                {"since": top or since, "cursor": None, "top": None}
                if done
                else {"since": since, "cursor": following, "top": top}
            )
            self.committer.page(stream, len(fresh), records, cursor, entries=entries)
            if done:
                return
            seen.add(following)
            position = following

    def _parents(self) -> None:
        """Fetch, once, the posts the user's replies answer that the store lacks
        (``getPostThread`` of the reply, one level up). A parent that cannot be had
        (deleted, blocked) is remembered, so it is asked for only once."""
        stream = "parents"
        state = self._cursor(stream) or {}
        tried = [str(t) for t in state.get("tried") or []]
        missing = replies_missing_parents(self.engine, PLATFORM, self.did, tried, PARENTS_PER_RUN)
        entry = self.report.stream(stream)
        for reply_id, parent_id in missing:
            params = models.AppBskyFeedGetPostThread.Params(uri=reply_id, depth=0, parent_height=1)
            try:
                body = body_of(
                    call(
                        "fetching a reply's thread",
                        lambda p=params: self.api.invoke_query(  # type: ignore[misc]
                            "app.bsky.feed.getPostThread", params=p
                        ),
                    )
                )
            except PlatformError:
                body = {}  # the reply itself is gone: remembered below
            thread = body.get("thread") if isinstance(body.get("thread"), dict) else {}
            parent = thread.get("parent") if isinstance(thread, dict) else None
            view = parent.get("post") if isinstance(parent, dict) else None
            records: list[Record] = []
            if isinstance(view, dict) and view.get("uri") == parent_id:
                records = list(post_view_records(view))
            else:
                tried.append(reply_id)
            self.committer.page(stream, 1 if records else 0, records, {"tried": tried})
        if len(missing) == PARENTS_PER_RUN:
            entry.warnings.append(
                f"looked up {PARENTS_PER_RUN} replies' parents; the rest come with the next sync"
            )

    def _graph(self, stream: str) -> None:
        """Followers or follows: the whole list each time (it also shrinks), resumable; a
        walk that reaches the end ends the edges it never showed (unfollows)."""
        position, started = resume_walk(self._cursor(stream), "cursor")
        side: Side = "followers" if stream == "followers" else "following"
        seen = {position}
        nsid, key = (
            ("app.bsky.graph.getFollowers", "followers")
            if stream == "followers"
            else ("app.bsky.graph.getFollows", "follows")
        )
        while True:
            params: Any = (
                models.AppBskyGraphGetFollowers.Params(actor=self.did, limit=PAGE, cursor=position)
                if stream == "followers"
                else models.AppBskyGraphGetFollows.Params(
                    actor=self.did, limit=PAGE, cursor=position
                )
            )
            response = call(
                f"listing {stream}",
                lambda p=params: self.api.invoke_query(nsid, params=p),  # type: ignore[misc]
            )
            body = body_of(response)
            people = body.get(key) or []
            records: list[Record] = []
            for view in people:
                other = profile_record(view)
                records.append(other)
                pair = (other.id, self.did) if stream == "followers" else (self.did, other.id)
                records.append(Follow(Platform.BLUESKY, *pair))
            following = body.get("cursor")
            looped = following is not None and following in seen and bool(people)
            if looped:
                self.report.stream(stream).warnings.append(
                    f"the AppView repeated the cursor {following!r}; stopped here"
                )
                following = None
            done = not people or not following
            cursor = {"cursor": None if done else following, "started": started.isoformat()}
            # A walk cut short by a loop saw only part of the list: it ends nothing.
            walk = ListWalk(side, started, last=done and not looped)
            self.committer.page(stream, len(people), records, cursor, walk)
            if done:
                return
            seen.add(following)
            position = following

    def _profiles(self) -> None:
        """Profiles (handle, names, counts) of accounts known only by DID so far."""
        stream = "profiles"
        tried: set[str] = set()
        while True:
            missing = [
                d for d in accounts_without_handle(self.engine, PLATFORM, 200) if d not in tried
            ]
            if not missing:
                return
            batch = missing[:25]
            tried.update(batch)
            params = models.AppBskyActorGetProfiles.Params(actors=batch)
            response = call(
                "fetching profiles",
                lambda p=params: self.api.invoke_query("app.bsky.actor.getProfiles", params=p),  # type: ignore[misc]
            )
            views = body_of(response).get("profiles") or []
            records = [profile_record(v, is_self=v.get("did") == self.did) for v in views]
            self.committer.page(stream, len(views), records, None)


def body_of(response: Any) -> dict[str, Any]:
    """The JSON object an XRPC call answered (anything else is a platform error)."""
    content = getattr(response, "content", None)
    if not isinstance(content, dict):
        raise PlatformError("the server answered something that is not a JSON object")
    return content


def _sort_key(view: dict[str, Any]) -> str:
    """When a feed item entered the feed: the repost's time for a repost, else the post's
    indexing time (the order the AppView sorts feeds by)."""
    reason = view.get("reason")
    if isinstance(reason, dict) and reason.get("indexedAt"):
        return str(reason["indexedAt"])
    post = view.get("post")
    return str(post.get("indexedAt") or "") if isinstance(post, dict) else ""


def _rkey(listed: dict[str, Any]) -> str:
    return str(listed.get("uri", "")).rsplit("/", 1)[-1]


def sync(
    engine: sa.Engine,
    home: Path,
    policy: RetryPolicy | None = None,
    streams: tuple[str, ...] = STREAMS,
) -> SyncReport:
    """Fetch what is new on the connected Bluesky account into the store."""
    return BlueskySync(engine, home, policy or policy_from_env()).run(streams)
