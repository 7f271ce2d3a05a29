"""Recorded-response servers for the sync tests: a Mastodon instance and a Bluesky
PDS/AppView, served from 127.0.0.1 by pytest-httpserver (werkzeug), so the real SDK
clients (Mastodon.py, atproto) talk HTTP to them.

The entities follow the platforms' documentation: Mastodon's API entities (Account,
Status, Notification, Instance, Application, OAuth token) with Link-header pagination
(``max_id``/``since_id``, ``rel="next"``/``rel="prev"``), and the Bluesky lexicons
(``com.atproto.repo.listRecords``, ``app.bsky.notification.listNotifications``,
``app.bsky.graph.getFollowers``/``getFollows``, ``app.bsky.actor.getProfile``,
``app.bsky.feed.getAuthorFeed``) with ``cursor`` pagination.

Faults are injected per path: each request to a path first pops the next fault queued
for it (``429``, ``500``, ``502``, ``503``, ``slow``, ``badjson``), then is served normally.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
#: Secrets the tests look for in every output: they must never appear.
ACCESS_TOKEN = "tok-SECRET-7f3a9c1e5b"
CLIENT_SECRET = "cs-SECRET-0d8e2b4f6a"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
ACCESS_JWT = "jwt-SECRET-access-1234"
REFRESH_JWT = "jwt-SECRET-refresh-5678"
AUTH_CODE = "code-from-the-browser"


def iso(moment: datetime) -> str:
    """An ISO 8601 time as Mastodon and AT Protocol write it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Faults:
    """Faults queued per path (a prefix), consumed one per request."""

    def __init__(self) -> None:
        self.queued: dict[str, deque[str]] = defaultdict(deque)
        self.slow_seconds = 1.0
        self.requests: list[str] = []
        #: Block the n-th request to a path until ``release`` is set (kill tests).
        self.block_at: tuple[str, int] | None = None
        self.reached = threading.Event()
        self.release = threading.Event()
        #: The epoch second a Bluesky-style 429 (``429b``) says the quota resets at.
        self.reset_at = 0

    def add(self, path: str, *faults: str) -> None:
        self.queued[path].extend(faults)

    def apply(self, request: Request) -> Response | None:
        path = request.path
        self.requests.append(request.full_path)
        if self.block_at is not None and path == self.block_at[0]:
            count = sum(1 for r in self.requests if r.split("?")[0] == path)
            if count == self.block_at[1]:
                self.reached.set()
                self.release.wait(30)
                return Response("gone", status=503)
        for prefix, queue in self.queued.items():
            if path.startswith(prefix) and queue:
                fault = queue.popleft()
                if fault == "ok":  # served normally: lets a fault hit a later request
                    return None
                if fault == "429":
                    return Response(
                        json.dumps({"error": "Too many requests"}),
                        status=429,
                        headers={"Retry-After": "7", "Content-Type": "application/json"},
                    )
                if fault == "429b":  # Bluesky: no Retry-After, a ratelimit-reset epoch
                    return Response(
                        json.dumps(
                            {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
                        ),
                        status=429,
                        headers={
                            "ratelimit-limit": "3000",
                            "ratelimit-remaining": "0",
                            "ratelimit-reset": str(self.reset_at),
                            "ratelimit-policy": "3000;w=300",
                            "Content-Type": "application/json",
                        },
                    )
                if fault in ("500", "502", "503"):
                    return Response("<html>oops</html>", status=int(fault))
                if fault == "slow":
                    time.sleep(self.slow_seconds)
                    return None
                if fault == "badjson":
                    return Response('{"id": "1", "trunc', content_type="application/json")
        return None


def json_response(payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload), content_type="application/json", headers=headers or {})


# ----------------------------------------------------------------------------- Mastodon


def m_account(host: str, base: str, number: int, username: str, **extra: Any) -> dict[str, Any]:
    """A Mastodon Account entity (https://docs.joinmastodon.org/entities/Account/)."""
    local = extra.pop("remote_host", None)
    domain = local or host
    acct = username if local is None else f"{username}@{local}"
    scheme_host = base if local is None else f"https://{local}"
    account = {
        "id": str(number),
        "username": username,
        "acct": acct,
        "display_name": username.title(),
        "locked": False,
        "bot": False,
        "discoverable": True,
        "group": False,
        "created_at": "2023-02-01T00:00:00.000Z",
        "note": f"<p>I am {username} on {domain}.</p>",
        "url": f"{scheme_host}/@{username}",
        "uri": f"{scheme_host}/users/{username}",
        "avatar": f"{scheme_host}/avatars/{username}.png",
        "avatar_static": f"{scheme_host}/avatars/{username}.png",
        "header": f"{scheme_host}/headers/missing.png",
        "header_static": f"{scheme_host}/headers/missing.png",
        "followers_count": 10 + number,
        "following_count": 5 + number,
        "statuses_count": 100 + number,
        "last_status_at": "2026-01-05",
        "emojis": [],
        "fields": [],
    }
    account.update(extra)
    return account


def m_status(
    status_id: int,
    account: dict[str, Any],
    text: str,
    *,
    created: datetime,
    reply_to: dict[str, Any] | None = None,
    reblog: dict[str, Any] | None = None,
    mentions: list[dict[str, Any]] = (),  # type: ignore[assignment]
    tags: list[str] = (),  # type: ignore[assignment]
    language: str = "en",
    counts: tuple[int, int, int] = (2, 3, 1),
) -> dict[str, Any]:
    """A Mastodon Status entity (https://docs.joinmastodon.org/entities/Status/);
    ``counts`` are (reblogs, favourites, replies)."""
    actor = account["uri"]
    uri = f"{actor}/statuses/{status_id}" + ("/activity" if reblog else "")
    return {
        "id": str(status_id),
        "uri": uri,
        "url": None if reblog else f"{account['url']}/{status_id}",
        "created_at": iso(created),
        "edited_at": None,
        "account": account,
        "content": "" if reblog else f"<p>{text}</p>",
        "text": None,
        "visibility": "public",
        "sensitive": False,
        "spoiler_text": "",
        "media_attachments": [],
        "application": None if reblog else {"name": "Web", "website": None},
        "mentions": [
            {"id": m["id"], "username": m["username"], "url": m["url"], "acct": m["acct"]}
            for m in mentions
        ],
        "tags": [{"name": t, "url": f"https://example/tags/{t}"} for t in tags],
        "emojis": [],
        "reblogs_count": 0 if reblog else counts[0],
        "favourites_count": 0 if reblog else counts[1],
        "replies_count": 0 if reblog else counts[2],
        "in_reply_to_id": reply_to["id"] if reply_to else None,
        "in_reply_to_account_id": reply_to["account"]["id"] if reply_to else None,
        "reblog": reblog,
        "poll": None,
        "card": None,
        "language": None if reblog else language,
        "favourited": False,
        "reblogged": False,
        "muted": False,
        "bookmarked": False,
        "pinned": False,
    }


@dataclass
class Listing:
    """A paginated Mastodon list: (pagination id, entity) pairs, newest first."""

    items: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    limit: int = 40
    #: Fault: the next page (requested with max_id) links to itself once.
    repeat_cursor: bool = False

    def page(self, base: str, path: str, args: dict[str, str]) -> Response:
        limit = min(int(args.get("limit", self.limit)), self.limit)
        rows = sorted(self.items, key=lambda pair: -pair[0])
        if "max_id" in args:
            rows = [r for r in rows if r[0] < int(args["max_id"])]
        if "since_id" in args:
            rows = [r for r in rows if r[0] > int(args["since_id"])]
        chunk = rows[:limit]
        links = []
        if len(chunk) == limit:
            following = chunk[-1][0]
            if self.repeat_cursor and "max_id" in args:
                following, self.repeat_cursor = int(args["max_id"]), False
            links.append(f'<{base}{path}?{urlencode({"max_id": following})}>; rel="next"')
        if chunk:
            links.append(f'<{base}{path}?{urlencode({"min_id": chunk[0][0]})}>; rel="prev"')
        headers = {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "299",
            "X-RateLimit-Reset": iso(datetime.now(UTC) + timedelta(minutes=5)),
        }
        if links:
            headers["Link"] = ", ".join(links)
        return json_response([entity for _, entity in chunk], headers)


class MastodonFake:
    """A Mastodon instance with one user (``ada``), her timeline, notifications,
    favourites, bookmarks, followers and following. Sizes are chosen by the test."""

    def __init__(
        self,
        base: str,
        *,
        statuses: int = 25,
        followers: int = 24,
        following: int = 13,
        favourites: int = 22,
        bookmarks: int = 7,
        page: int = 10,
        home: int = 30,
    ) -> None:
        self.base = base
        self.host = base.split("://", 1)[1]
        self.faults = Faults()
        self.me = m_account(self.host, base, 1, "ada")
        self.others = [
            m_account(
                self.host,
                base,
                1000 + n,
                f"user{n}",
                **({"remote_host": "other.example"} if n % 2 else {}),
            )
            for n in range(200)
        ]
        self.known_statuses: dict[str, dict[str, Any]] = {}
        self.statuses = Listing(limit=page)
        self.notifications = Listing(limit=page)
        self.favourites = Listing(limit=page)
        self.bookmarks = Listing(limit=page)
        self.followers = Listing(limit=page)
        self.following = Listing(limit=page)
        # Others' statuses that Ada replies to, boosts, favourites or bookmarks.
        self.theirs = []
        for n in range(60):
            other = self.others[n]
            status = m_status(
                5000 + n,
                other,
                f"Post {n} by {other['username']}",
                created=T0 - timedelta(days=2, minutes=n),
            )
            self.theirs.append(status)
            self.known_statuses[status["id"]] = status
        self.add_statuses(statuses)
        for n in range(followers):
            self.followers.items.append((3000 + n, self.others[n]))
        for n in range(following):
            self.following.items.append((4000 + n, self.others[199 - n]))
        for n in range(favourites):
            self.favourites.items.append((9000 + n, self.theirs[n % 60]))
        for n in range(bookmarks):
            self.bookmarks.items.append((9500 + n, self.theirs[59 - n]))
        self.add_notifications()
        self.token_requests: list[dict[str, str]] = []
        #: Writes to the lists API, in order: (what, list id, title or account id).
        self.list_writes: list[tuple[str, str, str]] = []
        self.add_timelines(home, page)
        #: The user's private notes on accounts (API id → text), as Relationships carry them.
        self.account_notes: dict[str, str] = {}
        self.add_posting()

    def add_posting(self) -> None:
        """What posting needs: statuses made through ``POST /api/v1/statuses`` (in order),
        the ``Idempotency-Key`` of each, the uploads of ``POST /api/v2/media``."""
        self.posted: list[dict[str, Any]] = []
        #: Idempotency-Key → the status it made (Mastodon keeps them an hour).
        self.idempotent: dict[str, str] = {}
        #: Every POST /api/v1/statuses received, with its Idempotency-Key.
        self.status_requests: list[str | None] = []
        #: media id → {"entity", "polls_left", "size", "mime_type", "file_name"}
        self.media: dict[str, dict[str, Any]] = {}
        #: The upload answers 202 (url null), and ``GET /api/v1/media/:id`` answers 206
        #: this many times before the attachment is processed (200).
        self.media_processing_polls = 0
        #: ``configuration.media_attachments.image_size_limit`` (None: left out).
        self.image_size_limit: int | None = 16 * 1024 * 1024
        #: The scopes the token was granted (``write`` covers every ``write:*``).
        self.token_scopes = {"read", "write:statuses", "write:media", "write:lists"}

    def add_timelines(self, home: int, page: int) -> None:
        """Ada's home timeline and her two lists (https://docs.joinmastodon.org/entities/List/).

        "Close friends" shows its members' posts in home too; "Python people" is exclusive:
        its members' posts are in the list only, as Mastodon does for exclusive lists.
        Every 6th home post is a boost, every 4th a reply, every 3rd tagged #python, every
        5th in French, every 2nd links to an article.
        """
        followed = [a for _, a in self.following.items]
        self.lists = [
            {"id": "42", "title": "Close friends", "replies_policy": "list", "exclusive": False},
            {"id": "43", "title": "Python people", "replies_policy": "followed", "exclusive": True},
        ]
        self.list_members = {"42": followed[:3], "43": followed[3:5]}
        exclusive = {a["id"] for a in self.list_members["43"]}
        in_home = [a for a in followed if a["id"] not in exclusive]
        self.home = Listing(limit=page)
        self.list_timelines = {"42": Listing(limit=page), "43": Listing(limit=page)}
        for n in range(home):
            author = in_home[n % len(in_home)]
            created = T0 + timedelta(days=3, minutes=10 * n)
            sid = 200000 + n
            link = f' <a href="https://news.example/{n}">read</a>' if n % 2 == 0 else ""
            if n % 6 == 5:
                status = m_status(sid, author, "", created=created, reblog=self.theirs[n])
            else:
                status = m_status(
                    sid,
                    author,
                    f"Home post {n} by {author['username']}{link}",
                    created=created,
                    reply_to=self.theirs[n] if n % 4 == 3 else None,
                    tags=["python"] if n % 3 == 0 else [],
                    language="fr" if n % 5 == 4 else "en",
                    counts=(n % 4, n % 7, n % 3),
                )
            self.known_statuses[status["id"]] = status
            self.home.items.append((sid, status))
            if author in self.list_members["42"]:
                self.list_timelines["42"].items.append((sid, status))
        for n in range(12):
            author = self.list_members["43"][n % 2]
            sid = 210000 + n
            status = m_status(
                sid,
                author,
                f"Exclusive post {n} about python",
                created=T0 + timedelta(days=3, minutes=7 * n),
                tags=["python"],
            )
            self.known_statuses[status["id"]] = status
            self.list_timelines["43"].items.append((sid, status))

    def context(self, status_id: str) -> dict[str, Any]:
        """A Context entity: the status's ancestors, root first."""
        ancestors = []
        status = self.known_statuses[status_id]
        while status.get("in_reply_to_id") and status["in_reply_to_id"] in self.known_statuses:
            status = self.known_statuses[status["in_reply_to_id"]]
            ancestors.insert(0, status)
        return {"ancestors": ancestors, "descendants": []}

    def add_statuses(self, count: int, start: int = 0) -> None:
        """Ada's statuses: every 5th a reply, every 7th a boost, mentions now and then."""
        for n in range(start, start + count):
            created = T0 + timedelta(hours=n)
            sid = 100000 + n
            if n % 7 == 3:
                status = m_status(sid, self.me, "", created=created, reblog=self.theirs[n % 60])
            elif n % 5 == 1:
                status = m_status(
                    sid, self.me, f"Reply {n}", created=created, reply_to=self.theirs[(n * 3) % 60]
                )
            elif n % 11 == 2:
                status = m_status(
                    sid,
                    self.me,
                    f"Hello {n}",
                    created=created,
                    mentions=[self.others[n % 30]],
                    tags=["kompas"],
                )
            else:
                status = m_status(sid, self.me, f"Note {n}", created=created)
            self.statuses.items.append((sid, status))
            self.known_statuses[status["id"]] = status

    def add_notifications(self) -> None:
        """Mentions (some replies to Ada), boosts and favourites of her posts, follows."""
        mine = [s for _, s in self.statuses.items if not s["reblog"]]
        kinds = ["mention", "reblog", "favourite", "follow", "poll"]
        for n in range(30):
            kind = kinds[n % 5]
            actor = self.others[100 + n]
            note: dict[str, Any] = {
                "id": str(70000 + n),
                "type": kind,
                "created_at": iso(T0 + timedelta(days=5, hours=n)),
                "account": actor,
                "group_key": f"ungrouped-{70000 + n}",
            }
            if kind == "mention":
                target = mine[n % len(mine)]
                status = m_status(
                    80000 + n,
                    actor,
                    f"@ada reply {n}",
                    created=T0 + timedelta(days=5, hours=n),
                    reply_to=target if n % 2 == 0 else None,
                    mentions=[self.me],
                )
                self.known_statuses[status["id"]] = status
                note["status"] = status
            elif kind in ("reblog", "favourite", "poll"):
                note["status"] = mine[n % len(mine)]
            self.notifications.items.append((70000 + n, note))

    # -- HTTP --
    def handle(self, request: Request) -> Response:
        fault = self.faults.apply(request)
        if fault is not None:
            return fault
        path = request.path.rstrip("/") or "/"
        args = {k: v for k, v in request.args.items()}
        me = self.me["id"]
        routes = {
            f"/api/v1/accounts/{me}/statuses": self.statuses,
            "/api/v1/notifications": self.notifications,
            "/api/v1/favourites": self.favourites,
            "/api/v1/bookmarks": self.bookmarks,
            f"/api/v1/accounts/{me}/followers": self.followers,
            f"/api/v1/accounts/{me}/following": self.following,
        }
        routes["/api/v1/timelines/home"] = self.home
        for list_id, listing in self.list_timelines.items():
            routes[f"/api/v1/timelines/list/{list_id}"] = listing
        private = (
            "/api/v1/notifications",
            "/api/v1/favourites",
            "/api/v1/bookmarks",
            "/api/v1/timelines/home",
            *(f"/api/v1/timelines/list/{i}" for i in self.list_timelines),
        )
        if path == "/api/v1/accounts/relationships":
            if request.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                return Response(
                    json.dumps({"error": "The access token is invalid"}),
                    status=401,
                    content_type="application/json",
                )
            return json_response(self.relationships(request.args.getlist("id[]")))
        if path.startswith("/api/v1/lists"):
            return self.lists_api(request, path)
        if path in ("/api/v1/statuses", "/api/v2/media", "/api/v2/search") or path.startswith(
            "/api/v1/media/"
        ):
            return self.posting_api(request, path)
        match = re.fullmatch(r"/api/v1/statuses/(\d+)/context", path)
        if match:
            if match.group(1) not in self.known_statuses:
                return Response(
                    json.dumps({"error": "Record not found"}),
                    status=404,
                    content_type="application/json",
                )
            return json_response(self.context(match.group(1)))
        if path in routes:
            # An account's statuses and lists are public; the user's own streams need the token.
            if path in private and request.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                return Response(
                    json.dumps({"error": "The access token is invalid"}),
                    status=401,
                    content_type="application/json",
                )
            return routes[path].page(self.base, path, args)
        if path == "/api/v1/accounts/verify_credentials":
            if request.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                return Response(
                    json.dumps({"error": "The access token is invalid"}),
                    status=401,
                    content_type="application/json",
                )
            return json_response(
                {**self.me, "source": {"privacy": "public", "note": "", "fields": []}}
            )
        match = re.fullmatch(r"/api/v1/statuses/(\d+)", path)
        if match:
            status = self.known_statuses.get(match.group(1))
            if status is None:
                return Response(
                    json.dumps({"error": "Record not found"}),
                    status=404,
                    content_type="application/json",
                )
            return json_response(status)
        if path == "/api/v1/accounts/lookup":
            acct = args.get("acct", "")
            for account in [self.me, *self.others]:
                if account["acct"] == acct:
                    return json_response(account)
            return Response(
                json.dumps({"error": "Record not found"}),
                status=404,
                content_type="application/json",
            )
        match = re.fullmatch(r"/api/v1/accounts/(\d+)/(statuses|followers|following)", path)
        if match and match.group(1) == me:  # public views of Ada (no token needed)
            listing = {
                "statuses": self.statuses,
                "followers": self.followers,
                "following": self.following,
            }[match.group(2)]
            return listing.page(self.base, path, args)
        if path in ("/api/v1/instance", "/api/v2/instance"):
            return json_response(self.instance(path))
        if path == "/api/v1/apps" and request.method == "POST":
            return json_response(
                {
                    "id": "563419",
                    "name": request.form.get("client_name"),
                    "website": request.form.get("website"),
                    "scopes": request.form.get("scopes", "").split(),
                    "redirect_uri": request.form.get("redirect_uris"),
                    "redirect_uris": [request.form.get("redirect_uris")],
                    "vapid_key": "BCk-QqERU0q",
                    "client_id": "client-id-abc",
                    "client_secret": CLIENT_SECRET,
                }
            )
        if path == "/.well-known/oauth-authorization-server":
            return json_response(
                {
                    "issuer": f"{self.base}/",
                    "service_documentation": "https://docs.joinmastodon.org/",
                    "authorization_endpoint": f"{self.base}/oauth/authorize",
                    "token_endpoint": f"{self.base}/oauth/token",
                    "revocation_endpoint": f"{self.base}/oauth/revoke",
                    "scopes_supported": ["read", "write", "follow", "push"],
                    "response_types_supported": ["code"],
                    "response_modes_supported": ["query", "fragment", "form_post"],
                    "code_challenge_methods_supported": ["S256"],
                    "grant_types_supported": [
                        "authorization_code",
                        "client_credentials",
                        "refresh_token",
                    ],
                    "token_endpoint_auth_methods_supported": [
                        "client_secret_basic",
                        "client_secret_post",
                    ],
                    "app_registration_endpoint": f"{self.base}/api/v1/apps",
                }
            )
        if path == "/oauth/token" and request.method == "POST":
            self.token_requests.append(dict(request.form))
            if (
                request.form.get("code") != AUTH_CODE
                or request.form.get("client_secret") != CLIENT_SECRET
            ):
                return Response(
                    json.dumps(
                        {
                            "error": "invalid_grant",
                            "error_description": "The provided authorization grant is invalid",
                        }
                    ),
                    status=400,
                    content_type="application/json",
                )
            return json_response(
                {
                    "access_token": ACCESS_TOKEN,
                    "token_type": "Bearer",
                    "scope": request.form.get("scope", "read"),  # what was granted
                    "created_at": 1767600000,
                }
            )
        return Response(
            json.dumps({"error": "Record not found"}), status=404, content_type="application/json"
        )

    def relationships(self, ids: list[str]) -> list[dict[str, Any]]:
        """Relationship entities (https://docs.joinmastodon.org/entities/Relationship/) in
        the order asked, unknown ids left out as Mastodon does."""
        known = {a["id"]: a for a in [self.me, *self.others]}
        following = {a["id"] for _, a in self.following.items}
        followers = {a["id"] for _, a in self.followers.items}
        return [
            {
                "id": i,
                "following": i in following,
                "showing_reblogs": i in following,
                "notifying": False,
                "languages": None,
                "followed_by": i in followers,
                "blocking": False,
                "blocked_by": False,
                "muting": False,
                "muting_notifications": False,
                "requested": False,
                "requested_by": False,
                "domain_blocking": False,
                "endorsed": False,
                "note": self.account_notes.get(i, ""),
            }
            for i in ids
            if i in known
        ]

    def lists_api(self, request: Request, path: str) -> Response:
        """The lists API (https://docs.joinmastodon.org/methods/lists/) as Mastodon 4.3
        answers it: a blank title is refused (422), only followed accounts can be added
        (404 otherwise), an account already listed is refused (422)."""
        if request.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
            return Response(
                json.dumps({"error": "The access token is invalid"}),
                status=401,
                content_type="application/json",
            )
        form = request.form

        def flag(name: str, default: bool) -> bool:
            value = form.get(name)
            return default if value is None else value.lower() in ("true", "1")

        def refused(status: int, error: str) -> Response:
            return Response(
                json.dumps({"error": error}), status=status, content_type="application/json"
            )

        if path == "/api/v1/lists":
            if request.method == "GET":
                return json_response(self.lists)
            title = form.get("title", "")
            if not title.strip():
                return refused(422, "Validation failed: Title can't be blank")
            made = {
                "id": str(100 + len(self.lists)),
                "title": title,
                "replies_policy": form.get("replies_policy", "list"),
                "exclusive": flag("exclusive", False),
            }
            self.lists.append(made)
            self.list_members[made["id"]] = []
            self.list_writes.append(("create", made["id"], title))
            return json_response(made)
        match = re.fullmatch(r"/api/v1/lists/(\d+)(/accounts)?", path)
        listed = next((x for x in self.lists if match and x["id"] == match.group(1)), None)
        if match is None or listed is None:
            return refused(404, "Record not found")
        list_id = listed["id"]
        if match.group(2) is None:
            if request.method == "PUT":
                listed["title"] = form.get("title", listed["title"])
                listed["exclusive"] = flag("exclusive", listed["exclusive"])
                listed["replies_policy"] = form.get("replies_policy", listed["replies_policy"])
                self.list_writes.append(("update", list_id, listed["title"]))
            return json_response(listed)
        members = self.list_members[list_id]
        if request.method == "GET":
            return json_response(members)
        followed = {a["id"]: a for _, a in self.following.items}
        ids = form.getlist("account_ids[]") or request.args.getlist("account_ids[]")
        if request.method == "POST":
            for account_id in ids:
                if account_id not in followed:
                    return refused(404, "Record not found")
                if any(m["id"] == account_id for m in members):
                    return refused(422, "Validation failed: Account has already been taken")
            for account_id in ids:
                members.append(followed[account_id])
                self.list_writes.append(("add", list_id, account_id))
            return json_response({})
        if request.method == "DELETE":
            for account_id in ids:
                self.list_writes.append(("remove", list_id, account_id))
            self.list_members[list_id] = [m for m in members if m["id"] not in ids]
            return json_response({})
        return refused(405, "Method not allowed")

    def posting_api(self, request: Request, path: str) -> Response:
        """Posting as Mastodon 4.3 answers it (https://docs.joinmastodon.org/methods/statuses/
        and /methods/media/): a repeated ``Idempotency-Key`` gets the status it already
        made; too long a text is refused (422); a reply to an unknown status is 404; media
        still processing cannot be attached (422); a token without the scope gets 403."""

        def answer(payload: Any, status: int = 200) -> Response:
            return Response(json.dumps(payload), status=status, content_type="application/json")

        if request.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
            return answer({"error": "The access token is invalid"}, 401)
        if path == "/api/v2/search":
            wanted = request.args.get("q", "")
            found = [s for s in self.known_statuses.values() if wanted in (s["uri"], s.get("url"))]
            return answer({"accounts": [], "statuses": found[:1], "hashtags": []})
        scope = "write:statuses" if path == "/api/v1/statuses" else "write:media"
        if not {"write", scope} & self.token_scopes:
            return answer({"error": "This action is outside the authorized scopes"}, 403)
        if path == "/api/v2/media":
            return self.upload(request, answer)
        if path.startswith("/api/v1/media/"):
            media = self.media.get(path.rsplit("/", 1)[1])
            if media is None:
                return answer({"error": "Record not found"}, 404)
            if media["polls_left"] > 0:
                media["polls_left"] -= 1
                return answer(media["entity"], 206)
            media["entity"]["url"] = f"{self.base}/system/media/{media['entity']['id']}.png"
            return answer(media["entity"])
        return self.create_status(request, answer)

    def upload(self, request: Request, answer: Any) -> Response:
        upload = request.files.get("file")
        if upload is None:
            return answer({"error": "Validation failed: File can't be blank"}, 422)
        data = upload.read()
        if self.image_size_limit is not None and len(data) > self.image_size_limit:
            message = "Validation failed: File file size must be less than 16 MB"
            return answer({"error": message}, 422)
        media_id = str(900000 + len(self.media))
        processing = self.media_processing_polls > 0
        entity = {
            "id": media_id,
            "type": "image",
            "url": None if processing else f"{self.base}/system/media/{media_id}.png",
            "preview_url": f"{self.base}/system/media/{media_id}-small.png",
            "remote_url": None,
            "text_url": None,
            "meta": {"original": {"width": 640, "height": 480, "size": "640x480", "aspect": 4 / 3}},
            "description": request.form.get("description"),
            "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}",
        }
        self.media[media_id] = {
            "entity": entity,
            "polls_left": self.media_processing_polls,
            "size": len(data),
            "mime_type": upload.mimetype,
            "file_name": upload.filename,
        }
        return answer(entity, 202 if processing else 200)

    def create_status(self, request: Request, answer: Any) -> Response:
        key = request.headers.get("Idempotency-Key")
        self.status_requests.append(key)
        if key is not None and key in self.idempotent:
            return answer(self.known_statuses[self.idempotent[key]])
        form = request.form
        text = form.get("status", "")
        media_ids = form.getlist("media_ids[]")
        if len(text) > 500:
            return answer({"error": "Validation failed: Text character limit of 500 exceeded"}, 422)
        if not text.strip() and not media_ids:
            return answer({"error": "Validation failed: Text can't be blank"}, 422)
        parent = None
        if form.get("in_reply_to_id"):
            parent = self.known_statuses.get(form["in_reply_to_id"])
            if parent is None:
                message = "The post you are trying to reply to does not appear to exist."
                return answer({"error": message}, 404)
        attachments = []
        for media_id in media_ids:
            media = self.media.get(media_id)
            if media is None:
                continue  # Mastodon ignores ids that are not the user's unattached media
            if media["entity"]["url"] is None:
                message = (
                    "Cannot attach files that have not finished processing. Try again in a moment!"
                )
                return answer({"error": message}, 422)
            attachments.append(media["entity"])
        people = [self.me, *self.others]
        mentioned = [
            a for a in people if re.search(rf"(?<![\w@])@{re.escape(a['acct'])}(?![\w@.])", text)
        ]
        tags = re.findall(r"(?<![\w#])#(\w+)", text)
        status_id = 300000 + len(self.posted)
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        status = m_status(
            status_id,
            self.me,
            escaped.replace("\n", "<br>"),
            created=datetime.now(UTC).replace(microsecond=0),
            reply_to=parent,
            mentions=mentioned,
            tags=tags,
            counts=(0, 0, 0),
        )
        status["media_attachments"] = attachments
        status["application"] = {"name": "kompas", "website": "https://github.com/kompas"}
        self.known_statuses[str(status_id)] = status
        self.posted.append(status)
        if key is not None:
            self.idempotent[key] = str(status_id)
        return answer(status)

    def instance(self, path: str) -> dict[str, Any]:
        if path.endswith("v2/instance"):
            media = (
                {}
                if self.image_size_limit is None
                else {
                    "media_attachments": {
                        "supported_mime_types": ["image/jpeg", "image/png", "image/gif"],
                        "image_size_limit": self.image_size_limit,
                        "image_matrix_limit": 33177600,
                        "video_size_limit": 103809024,
                        "video_frame_rate_limit": 120,
                        "video_matrix_limit": 8294400,
                    }
                }
            )
            return {
                "domain": self.host,
                "title": "Test instance",
                "version": "4.3.2",
                "api_versions": {"mastodon": 2},
                "source_url": "https://github.com/mastodon/mastodon",
                "description": "A local test instance",
                "usage": {"users": {"active_month": 3}},
                "thumbnail": {"url": f"{self.base}/thumb.png"},
                "languages": ["en"],
                "configuration": {
                    "urls": {"streaming": f"ws://{self.host}"},
                    "accounts": {"max_featured_tags": 10},
                    "statuses": {
                        "max_characters": 500,
                        "max_media_attachments": 4,
                        "characters_reserved_per_url": 23,
                    },
                    **media,
                },
                "registrations": {"enabled": False, "approval_required": False, "message": None},
                "contact": {"email": "admin@example.org", "account": self.me},
                "rules": [],
            }
        return {
            "uri": self.host,
            "title": "Test instance",
            "short_description": "",
            "description": "A local test instance",
            "email": "admin@example.org",
            "version": "4.3.2",
            "urls": {"streaming_api": f"ws://{self.host}"},
            "stats": {"user_count": 3, "status_count": 100, "domain_count": 2},
            "thumbnail": None,
            "languages": ["en"],
            "registrations": False,
            "approval_required": False,
            "invites_enabled": False,
            "configuration": {},
            "contact_account": self.me,
            "rules": [],
        }

    # -- expectations, computed from the fake's own data (not from kompas) --
    def expected_posts(self) -> set[str]:
        return {s["uri"] for _, s in self.statuses.items}

    def own_ids(self) -> list[int]:
        return [sid for sid, _ in self.statuses.items]


@contextmanager
def mastodon_instance(**sizes: int) -> Iterator[MastodonFake]:
    """A :class:`MastodonFake` served on 127.0.0.1 for the duration of the block."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        made = MastodonFake(server.url_for("").rstrip("/"), **sizes)
        server.expect_request(re.compile(".*")).respond_with_handler(made.handle)
        yield made
    finally:
        server.clear()
        server.stop()


# ----------------------------------------------------------------------------- Bluesky


def _b64(data: dict[str, Any]) -> str:
    import base64

    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def fake_jwt(did: str, marker: str, scope: str) -> str:
    """A JWT shaped like a PDS session token (the SDK reads ``exp``, never the signature)."""
    now = int(time.time())
    header = _b64({"alg": "ES256K", "typ": "at+jwt"})
    payload = _b64(
        {"scope": scope, "sub": did, "iat": now, "exp": now + 7200, "aud": "did:web:localhost"}
    )
    return f"{header}.{payload}.{marker}"


TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def tid(n: int) -> str:
    """A record key in TID form (13 base32-sortable characters), increasing with ``n``."""
    value = 1_700_000_000_000_000 * 1024 + n * 1024
    out = ""
    for _ in range(13):
        out = TID_ALPHABET[value & 31] + out
        value >>= 5
    return out


def b_profile(number: int, handle: str | None = None, **extra: Any) -> dict[str, Any]:
    """An ``app.bsky.actor.defs#profileView``."""
    did = f"did:plc:{'p' * 4}{number:020d}"
    view = {
        "$type": "app.bsky.actor.defs#profileView",
        "did": did,
        "handle": handle or f"user{number}.example.com",
        "displayName": f"User {number}",
        "description": f"Bio of user {number}",
        "avatar": f"https://cdn.example/avatar/{number}.jpg",
        "indexedAt": "2025-01-01T00:00:00.000Z",
        "createdAt": "2024-06-01T00:00:00.000Z",
        "labels": [],
    }
    view.update(extra)
    return view


class BlueskyFake:
    """A PDS with its AppView behind it: one user (``ada.example.com``) with repository
    records, notifications, followers and follows."""

    def __init__(
        self,
        *,
        posts: int = 230,
        likes: int = 40,
        follows: int = 30,
        followers: int = 120,
        notifications: int = 75,
        appview: bool = True,
    ) -> None:
        self.faults = Faults()
        self.appview = appview
        self.me = b_profile(
            1, "ada.example.com", followersCount=followers, followsCount=follows, postsCount=posts
        )
        self.did = self.me["did"]
        self.others = [b_profile(100 + n) for n in range(200)]
        self.sessions = 0
        self.repeat_cursor = False
        self.access = fake_jwt(self.did, ACCESS_JWT, "com.atproto.appPass")
        self.refresh = fake_jwt(self.did, REFRESH_JWT, "com.atproto.refresh")
        # the user's repository: collection -> [(rkey, value)], rkeys increasing
        self.repo: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        self.counter = 0
        self.repo["app.bsky.actor.profile"].append(
            (
                "self",
                {
                    "$type": "app.bsky.actor.profile",
                    "displayName": "Ada Lovelace",
                    "description": "Counting engines.",
                },
            )
        )
        self.their_posts = [
            f"at://{o['did']}/app.bsky.feed.post/{tid(5000 + n)}"
            for n, o in enumerate(self.others[:50])
        ]
        self.add_posts(posts)
        for n in range(likes):
            self.put(
                "app.bsky.feed.like",
                {
                    "$type": "app.bsky.feed.like",
                    "createdAt": iso(T0 + timedelta(minutes=n)),
                    "subject": {"uri": self.their_posts[n % 50], "cid": "bafyreih" + "a" * 50},
                },
            )
        for n in range(follows):
            self.put(
                "app.bsky.graph.follow",
                {
                    "$type": "app.bsky.graph.follow",
                    "createdAt": iso(T0 + timedelta(minutes=n)),
                    "subject": self.others[199 - n]["did"],
                },
            )
        self.followers = [self.others[n] for n in range(followers)]
        self.follow_views = [self.others[199 - n] for n in range(follows)]
        self.notifications: list[dict[str, Any]] = []
        self.add_notifications(notifications)

    def put(self, collection: str, value: dict[str, Any]) -> str:
        self.counter += 1
        key = tid(self.counter)
        self.repo[collection].append((key, value))
        return f"at://{self.did}/{collection}/{key}"

    def add_posts(self, count: int) -> None:
        start = len(self.repo["app.bsky.feed.post"])
        for n in range(start, start + count):
            record: dict[str, Any] = {
                "$type": "app.bsky.feed.post",
                "text": f"post {n}",
                "langs": ["en"],
                "createdAt": iso(T0 + timedelta(hours=n)),
            }
            if n % 4 == 1:
                parent = self.their_posts[n % 50]
                record["reply"] = {
                    "root": {"uri": parent, "cid": "bafyreib" + "b" * 50},
                    "parent": {"uri": parent, "cid": "bafyreib" + "b" * 50},
                }
            self.put("app.bsky.feed.post", record)

    def my_post(self, n: int) -> str:
        key, _ = self.repo["app.bsky.feed.post"][n]
        return f"at://{self.did}/app.bsky.feed.post/{key}"

    def add_notifications(self, count: int) -> None:
        reasons = ["like", "repost", "follow", "reply", "mention"]
        start = len(self.notifications)
        for n in range(start, start + count):
            reason = reasons[n % 5]
            author = self.others[120 + n % 80]
            moment = iso(T0 + timedelta(days=30, minutes=n))
            collection = {
                "like": "app.bsky.feed.like",
                "repost": "app.bsky.feed.repost",
                "follow": "app.bsky.graph.follow",
            }.get(reason, "app.bsky.feed.post")
            uri = f"at://{author['did']}/{collection}/{tid(90000 + n)}"
            subject = self.my_post(n % 20)
            if reason in ("like", "repost"):
                record = {
                    "$type": collection,
                    "createdAt": moment,
                    "subject": {"uri": subject, "cid": "bafyreic" + "c" * 50},
                }
            elif reason == "follow":
                record = {"$type": collection, "createdAt": moment, "subject": self.did}
            elif reason == "reply":
                record = {
                    "$type": collection,
                    "createdAt": moment,
                    "text": f"reply {n}",
                    "reply": {
                        "root": {"uri": subject, "cid": "bafyreic" + "c" * 50},
                        "parent": {"uri": subject, "cid": "bafyreic" + "c" * 50},
                    },
                }
            else:
                record = {
                    "$type": collection,
                    "createdAt": moment,
                    "text": f"hey @ada {n}",
                    "facets": [
                        {
                            "index": {"byteStart": 4, "byteEnd": 8},
                            "features": [
                                {"$type": "app.bsky.richtext.facet#mention", "did": self.did}
                            ],
                        }
                    ],
                }
            view = {
                "uri": uri,
                "cid": "bafyreid" + "d" * 50,
                "author": author,
                "reason": reason,
                "record": record,
                "isRead": False,
                "indexedAt": moment,
                "labels": [],
            }
            if reason in ("like", "repost", "reply"):
                view["reasonSubject"] = subject
            self.notifications.append(view)

    # -- HTTP --
    def handle(self, request: Request) -> Response:
        fault = self.faults.apply(request)
        if fault is not None:
            return fault
        nsid = request.path.removeprefix("/xrpc/")
        args = request.args
        limits = {
            "ratelimit-limit": "3000",
            "ratelimit-remaining": "2999",
            "ratelimit-reset": str(int(time.time()) + 300),
            "ratelimit-policy": "3000;w=300",
        }
        if nsid == "com.atproto.server.createSession":
            body = request.get_json(silent=True) or {}
            if (
                body.get("identifier") not in (self.did, self.me["handle"])
                or body.get("password") != APP_PASSWORD
            ):
                return Response(
                    json.dumps(
                        {
                            "error": "AuthenticationRequired",
                            "message": "Invalid identifier or password",
                        }
                    ),
                    status=401,
                    content_type="application/json",
                )
            self.sessions += 1
            return json_response(
                {
                    "did": self.did,
                    "handle": self.me["handle"],
                    "accessJwt": self.access,
                    "refreshJwt": self.refresh,
                    "active": True,
                    "didDoc": {
                        "@context": ["https://www.w3.org/ns/did/v1"],
                        "id": self.did,
                        "alsoKnownAs": [f"at://{self.me['handle']}"],
                        "verificationMethod": [],
                        "service": [
                            {
                                "id": "#atproto_pds",
                                "type": "AtprotoPersonalDataServer",
                                "serviceEndpoint": request.host_url.rstrip("/"),
                            }
                        ],
                    },
                },
                limits,
            )
        authed = request.headers.get("Authorization") == f"Bearer {self.access}"
        if nsid == "com.atproto.server.getSession":
            if not authed:
                return Response(
                    json.dumps({"error": "AuthMissing", "message": "Authentication Required"}),
                    status=401,
                    content_type="application/json",
                )
            return json_response(
                {"did": self.did, "handle": self.me["handle"], "active": True}, limits
            )
        if nsid == "com.atproto.repo.listRecords":
            rows = sorted(self.repo.get(args.get("collection", ""), []), key=lambda r: r[0])
            if args.get("reverse") != "true":
                rows.reverse()
            if "cursor" in args:
                c = args["cursor"]
                rows = [
                    r for r in rows if (r[0] > c if args.get("reverse") == "true" else r[0] < c)
                ]
            chunk = rows[: int(args.get("limit", 50))]
            body = {
                "records": [
                    {
                        "uri": f"at://{self.did}/{args['collection']}/{k}",
                        "cid": "bafyreie" + "e" * 50,
                        "value": v,
                    }
                    for k, v in chunk
                ]
            }
            if chunk:
                body["cursor"] = chunk[-1][0]
            return json_response(body, limits)
        if nsid.startswith("app.bsky."):
            if not self.appview:
                return Response(
                    json.dumps(
                        {"error": "InvalidRequest", "message": f"No service configured for {nsid}"}
                    ),
                    status=400,
                    content_type="application/json",
                )
            return self.appview_answer(nsid, request, limits)
        return Response(
            json.dumps({"error": "MethodNotImplemented", "message": "Method Not Implemented"}),
            status=501,
            content_type="application/json",
        )

    def _page(self, items: list[Any], args: Any, limit: int) -> tuple[list[Any], str | None]:
        start = int(args.get("cursor", "0") or 0)
        size = int(args.get("limit", limit))
        chunk = items[start : start + size]
        following = str(start + size) if start + size < len(items) else None
        if self.repeat_cursor and "cursor" in args:  # fault: hand the same cursor back, once
            following, self.repeat_cursor = args["cursor"], False
        return chunk, following

    def appview_answer(self, nsid: str, request: Request, limits: dict[str, str]) -> Response:
        args = request.args
        if nsid == "app.bsky.notification.listNotifications":
            items = sorted(self.notifications, key=lambda n: n["indexedAt"], reverse=True)
            chunk, following = self._page(items, args, 50)
            body: dict[str, Any] = {"notifications": chunk, "seenAt": iso(T0)}
            if following:
                body["cursor"] = following
            return json_response(body, limits)
        if nsid in ("app.bsky.graph.getFollowers", "app.bsky.graph.getFollows"):
            key = "followers" if nsid.endswith("Followers") else "follows"
            actor = args.get("actor")
            subject = self.me if actor in (self.did, self.me["handle"]) else None
            if subject is None:
                return Response(
                    json.dumps({"error": "InvalidRequest", "message": "Profile not found"}),
                    status=400,
                    content_type="application/json",
                )
            people = self.followers if key == "followers" else self.follow_views
            chunk, following = self._page(people, args, 50)
            body = {"subject": self.me, key: chunk}
            if following:
                body["cursor"] = following
            return json_response(body, limits)
        if nsid == "app.bsky.actor.getProfiles":
            wanted = request.args.getlist("actors")
            known = {p["did"]: p for p in [self.me, *self.others]}
            return json_response(
                {
                    "profiles": [
                        {
                            **known[d],
                            "$type": "app.bsky.actor.defs#profileViewDetailed",
                            "followersCount": 7,
                            "followsCount": 3,
                            "postsCount": 11,
                        }
                        for d in wanted
                        if d in known
                    ]
                },
                limits,
            )
        if nsid == "app.bsky.actor.getProfile":
            actor = args.get("actor")
            if actor in (self.did, self.me["handle"]):
                return json_response(
                    {**self.me, "$type": "app.bsky.actor.defs#profileViewDetailed"}, limits
                )
            return Response(
                json.dumps({"error": "InvalidRequest", "message": "Profile not found"}),
                status=400,
                content_type="application/json",
            )
        if nsid == "app.bsky.feed.getAuthorFeed":
            posts = sorted(self.repo["app.bsky.feed.post"], key=lambda r: r[0], reverse=True)
            chunk, following = self._page(posts, args, 50)
            feed = [
                {
                    "post": {
                        "uri": f"at://{self.did}/app.bsky.feed.post/{k}",
                        "cid": "bafyreif" + "f" * 50,
                        "author": {
                            k2: v2
                            for k2, v2 in self.me.items()
                            if k2 in ("did", "handle", "displayName", "avatar")
                        },
                        "record": v,
                        "replyCount": 1,
                        "repostCount": 2,
                        "likeCount": 5,
                        "quoteCount": 0,
                        "indexedAt": v["createdAt"],
                        "labels": [],
                    }
                }
                for k, v in chunk
            ]
            body = {"feed": feed}
            if following:
                body["cursor"] = following
            return json_response(body, limits)
        return Response(
            json.dumps({"error": "MethodNotImplemented", "message": "Method Not Implemented"}),
            status=501,
            content_type="application/json",
        )
