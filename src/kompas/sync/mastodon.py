"""Mastodon live sync over Mastodon.py: the OAuth connection, and an incremental,
resumable fetch of the user's statuses, notifications, followers, following, favourites,
bookmarks, home and list timelines, the posts the user's replies answer, and the notes the
user keeps on accounts.

Every stream is walked from newest to oldest with ``max_id`` (the Link header's next page)
and bounded below by ``since_id``, the newest item of the last finished walk. The cursor
``{"since", "max", "top"}`` is committed with each page's records, so a killed sync resumes
at the next page, and a finished one only fetches what is newer next time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
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

from kompas.errors import KompasError, Refused
from kompas.model import InteractionKind, Platform, Record
from kompas.store.feeds import NewEntry
from kompas.store.keep import put_platform_notes
from kompas.store.sync import ListWalk, log_sync, read_cursor, replies_missing_parents
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
from kompas.sync.timeline_items import source_name, timeline_entries

log = logging.getLogger(__name__)

PLATFORM = Platform.MASTODON.value
SCOPES = ["read"]
#: ``kompas connect mastodon --write``: reading, changing the user's lists, and posting
#: (statuses, and the images attached to them).
WRITE_SCOPES = ["read", "write:lists", "write:statuses", "write:media"]
REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
APP_NAME = "kompas"
STREAMS = (
    "statuses",
    "notifications",
    "favourites",
    "bookmarks",
    "followers",
    "following",
    "timeline",
    "parents",
    "notes",
)
#: Streams that are complete lists, walked whole each time so unfollows show.
LISTS = ("followers", "following")
PAGE_LIMITS = {"followers": 80, "following": 80}
#: The first walk of a timeline goes back this many posts (an instance keeps ~800 in a
#: home timeline); later walks stop at the newest post of the last one.
FIRST_WALK = 800
#: Parents of the user's replies looked up per run (one ``context`` call each); the rest
#: wait for the next run.
PARENTS_PER_RUN = 200
#: Accounts asked about per ``GET /api/v1/accounts/relationships`` (its ``id[]`` list).
RELATIONSHIPS_PER_CALL = 40

T = TypeVar("T")


class AuthError(KompasError):
    """The platform refused the saved credentials or the authorisation code."""


class ReadOnly(KompasError):
    """The saved Mastodon token lacks a write scope the command needs."""


def granted(saved: Mapping[str, Any], scope: str) -> bool:
    """Whether the saved token's scopes allow ``scope`` (``write`` allows every
    ``write:*``; a token saved before kompas recorded scopes was read-only)."""
    scopes = set(str(saved.get("scopes") or "read").split())
    return scope in scopes or scope.partition(":")[0] in scopes


def require_write(saved: Mapping[str, Any], scopes: tuple[str, ...], purpose: str) -> None:
    """:class:`ReadOnly`, with the exact command that grants them, unless the saved token
    has every one of ``scopes``."""
    missing = [s for s in scopes if not granted(saved, s)]
    if missing:
        raise ReadOnly(
            f"the saved Mastodon token cannot {purpose} (it lacks {' '.join(missing)}); run "
            f"`kompas connect mastodon --instance {saved.get('instance')} --write` to allow it"
        )


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


def refusing(what: str, function: Callable[[], T], *, forbidden_is_read_only: bool = False) -> T:
    """One write under :func:`call`. An instance that refuses it (HTTP 4xx but 401: too
    long, a blank or duplicate title, an upload it cannot take) is the user's problem,
    :class:`~kompas.errors.Refused` with the instance's own words. A 403 (the instance
    narrowed the token's grant) is :class:`ReadOnly` with ``forbidden_is_read_only``, else
    a platform error like any other answer."""

    def attempt() -> T:
        try:
            return function()
        except MastodonAPIError as exc:
            status = exc.args[1] if len(exc.args) > 1 else None
            detail = exc.args[3] if len(exc.args) > 3 else None
            said = f"Mastodon refused {what}: HTTP {status} {detail or ''}".rstrip()
            if status == 403 and forbidden_is_read_only:
                raise ReadOnly(said) from None
            if isinstance(status, int) and 400 <= status < 500 and status not in (401, 403):
                raise Refused(said) from None
            raise

    return call(what, attempt)


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
    scopes: tuple[str, ...] = tuple(SCOPES)


def begin_connect(
    instance: str, policy: RetryPolicy, scopes: list[str] | None = None
) -> PendingConnection:
    """Register kompas as an app on ``instance`` and build the authorisation URL, for
    ``scopes`` (default: read-only)."""
    scopes = list(scopes or SCOPES)
    instance = normalise_instance(instance)
    session = RetryingSession(policy)
    client_id, client_secret = call(
        "registering the app",
        lambda: Mastodon.create_app(
            APP_NAME,
            scopes=scopes,
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
            redirect_uris=REDIRECT, scopes=scopes, allow_http=instance.startswith("http://")
        ),
    )
    return PendingConnection(instance, client_id, client_secret, url, tuple(scopes))


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
                scopes=list(pending.scopes),
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
    values: dict[str, Any] = {
        "instance": pending.instance,
        "client_id": pending.client_id,
        "client_secret": pending.client_secret,
        "access_token": token,
        "account_id": account_uri(me, home_host),
        "api_id": str(me["id"]),
        "scopes": " ".join(pending.scopes),
    }
    limits = instance_limits(api)
    if limits:
        values["configuration"] = limits
    credentials.save(home, PLATFORM, values)
    return str(me.get("acct") or me.get("username") or "")


def instance_limits(api: Mastodon) -> dict[str, Any]:
    """What the instance allows a post (``configuration.statuses`` and the image size of
    ``configuration.media_attachments`` of ``GET /api/v2/instance``), saved with the
    connection so a draft is checked against them offline; ``{}`` when the instance does
    not say (an older one, or one that fails to answer)."""
    try:
        instance = call("reading the instance's limits", api.instance_v2)
    except PlatformUnreachable:
        return {}
    configuration = instance.get("configuration") if isinstance(instance, Mapping) else None
    if not isinstance(configuration, Mapping):
        return {}
    found: dict[str, Any] = {}
    statuses = configuration.get("statuses")
    if isinstance(statuses, Mapping):
        kept = {
            k: v
            for k, v in statuses.items()
            if k in ("max_characters", "characters_reserved_per_url", "max_media_attachments")
            and isinstance(v, int)
            and not isinstance(v, bool)
        }
        if kept:
            found["statuses"] = kept
    media = configuration.get("media_attachments")
    limit = media.get("image_size_limit") if isinstance(media, Mapping) else None
    if isinstance(limit, int) and not isinstance(limit, bool):
        found["media_attachments"] = {"image_size_limit": limit}
    return found


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
        #: Timeline streams of this run: stream → (source name, fetch(max_id, since_id, limit)).
        self.timelines: dict[str, tuple[str, Callable[[Any, Any, int], Any]]] = {}

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
            elif stream == "timeline":
                self._timelines()
            elif stream == "parents":
                self._parents()
            elif stream == "notes":
                self._notes()
            else:
                self._walk(stream)
        log_sync(self.engine, "mastodon-sync", self.instance, self.report.added())
        return self.report

    def _fetch(self, stream: str, max_id: str | None, since_id: str | None) -> Any:
        limit = PAGE_LIMITS.get(stream, 40)
        if stream in self.timelines:
            _, fetch = self.timelines[stream]
            return call(f"fetching {stream}", lambda: fetch(max_id, since_id, limit))
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

    def _walk(self, stream: str, first_walk: int | None = None) -> None:
        """Newest to oldest down to the last walk's top (or, on a first walk bounded by
        ``first_walk``, that many items), committing each page with its cursor."""
        state = read_cursor(self.engine, PLATFORM, self.report.account, stream) or {}
        since, position, top = state.get("since"), state.get("max"), state.get("top")
        seen: set[str | None] = {position}
        entry = self.report.stream(stream)
        walked = 0
        while True:
            page = self._fetch(stream, position, since)
            if not page:
                self.committer.page(
                    stream, 0, [], {"since": top or since, "max": None, "top": None}
                )
                return
            top = top or _top(page)
            records = list(self._records(stream, page))
            entries = self._entries(stream, page, records)
            following = _next_max(page)
            walked += len(page)
            if since is None and first_walk is not None and walked >= first_walk:
                following = None  # a first walk goes back this far, no further
            if following is None:
                cursor = {"since": top or since, "max": None, "top": None}
            elif following in seen:
                entry.warnings.append(
                    f"the instance repeated the page cursor max_id={following}; "
                    "stopped here and will resume from it next time"
                )
                self.committer.page(
                    stream,
                    len(page),
                    records,
                    {"since": since, "max": position, "top": top},
                    entries=entries,
                )
                return
            else:
                cursor = {"since": since, "max": following, "top": top}
            self.committer.page(stream, len(page), records, cursor, entries=entries)
            if following is None:
                return
            seen.add(following)
            position = following

    def _timelines(self) -> None:
        """The home timeline and each of the user's lists, as feed items named
        ``mastodon:home`` and ``mastodon:list:TITLE``; reported as one stream."""
        api = self.api
        self.timelines = {
            "timeline:home": (
                source_name(PLATFORM, "home"),
                lambda m, s, n: api.timeline_home(max_id=m, since_id=s, limit=n),
            )
        }

        def of_list(list_id: str) -> Callable[[Any, Any, int], Any]:
            return lambda m, s, n: api.timeline_list(list_id, max_id=m, since_id=s, limit=n)

        for listed in call("listing your lists", api.lists):
            list_id = str(listed["id"])
            title = str(listed.get("title") or list_id)
            self.timelines[f"timeline:list:{list_id}"] = (
                source_name(PLATFORM, "list", title),
                of_list(list_id),
            )
        for stream in self.timelines:
            self._walk(stream, first_walk=FIRST_WALK)
        self.report.merge("timeline:", "timeline")

    def _entries(self, stream: str, page: list[Any], records: list[Record]) -> list[NewEntry]:
        """A timeline page's posts as feed items (a boost stands for the boosted post)."""
        if stream not in self.timelines:
            return []
        shown = []
        for status in page:
            inner = status.get("reblog")
            shown.append(str((inner if isinstance(inner, Mapping) else status).get("uri")))
        return timeline_entries(records, shown, self.timelines[stream][0])

    def _parents(self) -> None:
        """Fetch, once, the posts the user's replies answer that the store lacks: the
        reply's ``context`` gives its ancestors. A parent that cannot be had (deleted,
        private, not a local reply) is remembered, so it is asked for only once."""
        stream = "parents"
        state = read_cursor(self.engine, PLATFORM, self.report.account, stream) or {}
        tried = [str(t) for t in state.get("tried") or []]
        missing = replies_missing_parents(
            self.engine, PLATFORM, self.self_id, tried, PARENTS_PER_RUN
        )
        entry = self.report.stream(stream)
        for reply_id, parent_id in missing:
            local = local_status_id(reply_id, self.home_host)
            ancestors: list[Any] = []
            if local is not None:
                try:
                    context = call(
                        "fetching a reply's thread",
                        lambda i=local: self.api.status_context(i),  # type: ignore[misc]
                    )
                    ancestors = [a for a in context.get("ancestors") or [] if a.get("uri")]
                except PlatformError:
                    ancestors = []  # deleted or private: remembered below
            for status in ancestors:
                self.resolver.learn_status(status)
            records = [r for status in ancestors for r in status_records(status, self.resolver)]
            if not any(str(a["uri"]) == parent_id for a in ancestors):
                tried.append(reply_id)
            self.committer.page(stream, len(ancestors), records, {"tried": tried})
        if len(missing) == PARENTS_PER_RUN:
            entry.warnings.append(
                f"looked up {PARENTS_PER_RUN} replies' parents; the rest come with the next sync"
            )

    def _notes(self) -> None:
        """The notes the user keeps on Mastodon itself (the ``note`` of each
        Relationship), for every account this run has seen: each batch of accounts is one
        transaction; a note cleared on Mastodon is removed here too. Accounts the instance
        does not answer for (suspended, gone) keep what was imported before."""
        entry = self.report.stream("notes")
        seen = sorted(
            (api_id, uri) for api_id, uri in self.resolver.accounts.items() if uri != self.self_id
        )
        if not seen:
            entry.warnings.append(
                "no accounts seen in this run: sync followers, following or notifications "
                "with it to import your notes on them"
            )
            return
        for start in range(0, len(seen), RELATIONSHIPS_PER_CALL):
            batch = dict(seen[start : start + RELATIONSHIPS_PER_CALL])
            relations = call(
                "fetching your notes on accounts",
                lambda ids=list(batch): self.api.account_relationships(ids),  # type: ignore[misc]
            )
            notes = [
                (batch[str(r["id"])], r["note"] if isinstance(r.get("note"), str) else "")
                for r in relations or []
                if isinstance(r, Mapping) and str(r.get("id")) in batch and "note" in r
            ]
            with self.engine.begin() as connection:
                changed = put_platform_notes(connection, PLATFORM, notes, datetime.now(UTC))
            entry.pages += 1
            entry.items += sum(1 for _, text in notes if text.strip())
            entry.added["person_notes"] = entry.added.get("person_notes", 0) + changed

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

    def _resolve_parents(self, statuses: list[Mapping[str, Any]]) -> list[Any]:
        """Fetch the statuses replied to that no page has shown yet (for their URIs, and
        to store them: the parents of the user's replies); return those found."""
        found: list[Any] = []
        for status in statuses:
            parent = self.resolver.missing_status(status)
            if parent is None:
                continue
            try:
                fetched = call("fetching a replied-to status", lambda p=parent: self.api.status(p))  # type: ignore[misc]
            except PlatformError:
                continue  # deleted or private: the reply keeps its author, without the URI
            self.resolver.learn_status(fetched)
            found.append(fetched)
        return found

    def _records(self, stream: str, page: list[Any]) -> Iterator[Record]:
        resolver = self.resolver
        if stream == "statuses":
            for status in page:
                resolver.learn_status(status)
            for parent in self._resolve_parents(page):
                yield from status_records(parent, resolver)
            for status in page:
                yield from status_records(status, resolver)
        elif stream in self.timelines:
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


def local_status_id(uri: str, home_host: str) -> str | None:
    """The API id of a status of this instance, from its URI (``https://HOST/users/NAME/
    statuses/ID``, as Mastodon writes them); ``None`` for another server's status."""
    parts = urlsplit(uri)
    segments = parts.path.strip("/").split("/")
    if (
        parts.netloc == home_host
        and len(segments) == 4
        and segments[0] == "users"
        and segments[2] == "statuses"
        and segments[3].isdigit()
    ):
        return segments[3]
    return None


def sync(
    engine: sa.Engine,
    home: Path,
    policy: RetryPolicy | None = None,
    streams: tuple[str, ...] = STREAMS,
) -> SyncReport:
    """Fetch what is new on the connected Mastodon account into the store."""
    return MastodonSync(engine, home, policy or policy_from_env()).run(streams)
