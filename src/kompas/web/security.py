"""The dashboard's defences, in one place: who may connect (Host check against DNS
rebinding, always, and a token when bound beyond loopback), CSRF on every state-changing
request (a token signed with a server-side secret, checked before the body is read), bounded
request bodies, dates checked before they reach a pillar (400, not 500), and the response
headers that forbid inline script, framing and sniffing, on every response, errors too."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from fastapi import HTTPException, Request
from starlette.datastructures import FormData
from starlette.responses import PlainTextResponse, RedirectResponse, Response

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
CSRF_COOKIE = "kompas_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
TOKEN_COOKIE = "kompas_session"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
SAFE_METHODS = frozenset({"GET", "HEAD"})
#: The largest request body accepted: the dashboard's forms are a few hundred bytes.
MAX_BODY = 64 * 1024
#: The dates a page may ask about.
FIRST_YEAR, LAST_YEAR = 1990, 2100

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    """Whether binding to ``host`` keeps the dashboard on this machine."""
    return host in LOOPBACK


@dataclass
class Guard:
    """The security settings of one running dashboard.

    ``token`` is required on every request when set (the ``serve`` command sets it whenever
    it binds beyond loopback); ``allowed_hosts`` are the Host header values accepted, or
    ``None`` to accept any (only for in-process tests).
    """

    token: str | None = None
    allowed_hosts: frozenset[str] | None = None
    #: Signs the session cookie, so the cookie never holds the token itself.
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def sign(self, nonce: str) -> str:
        """A CSRF token: a nonce and its signature with this server's secret."""
        mac = hmac.new(self.secret, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()
        return f"{nonce}.{mac}"

    def signed(self, token: str | None) -> bool:
        """Whether ``token`` was made by :meth:`sign` (so a cookie the client set itself,
        or one from an earlier run, does not count)."""
        if not token or "." not in token:
            return False
        nonce = token.rsplit(".", 1)[0]
        return hmac.compare_digest(token.encode(), self.sign(nonce).encode())

    def session_value(self) -> str:
        """The cookie value that proves the browser once presented the token."""
        assert self.token is not None
        return hmac.new(self.secret, self.token.encode(), hashlib.sha256).hexdigest()

    def host_allowed(self, request: Request) -> bool:
        """The Host header names this server (blocks DNS-rebinding pages)."""
        if self.allowed_hosts is None:
            return True
        host = request.headers.get("host", "").lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return host in self.allowed_hosts or name in self.allowed_hosts

    def token_ok(self, request: Request) -> bool:
        """The request carries the token: bearer header, session cookie, or ``?token=``."""
        if self.token is None:
            return True
        bearer = request.headers.get("authorization", "")
        if bearer.lower().startswith("bearer ") and hmac.compare_digest(
            bearer[7:].strip().encode(), self.token.encode()
        ):
            return True
        cookie = request.cookies.get(TOKEN_COOKIE)
        if cookie and hmac.compare_digest(cookie.encode(), self.session_value().encode()):
            return True
        given = request.query_params.get("token")
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())


def _guard(request: Request) -> Guard:
    guard: Guard = request.app.state.guard
    return guard


def csrf_token(request: Request) -> str:
    """This browser's CSRF token: signed with the server's secret, made on the first visit
    and kept in a cookie."""
    token: str | None = getattr(request.state, "csrf", None)
    if token is None:
        guard = _guard(request)
        cookie = request.cookies.get(CSRF_COOKIE)
        token = cookie if cookie and guard.signed(cookie) else guard.sign(secrets.token_urlsafe(24))
        request.state.csrf = token
    return token


def _before_body(request: Request, guard: Guard) -> str | None:
    """Why a POST is refused before its body is read, or None: a body too large or of
    unknown length, another origin, no CSRF cookie signed by this server."""
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        return "411 a request body needs its Content-Length"
    if int(length) > MAX_BODY:
        return f"413 request body larger than {MAX_BODY:,} bytes"
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        return "403 cross-origin request refused"
    if not guard.signed(request.cookies.get(CSRF_COOKIE)):
        return "403 missing or wrong CSRF token: reload the page and try again"
    return None


async def require_csrf(request: Request) -> FormData | None:
    """Dependency of every POST route: the token from the header (HTMX) or the form field
    must equal the cookie's (whose signature the middleware checked before the body)."""
    cookie = request.cookies.get(CSRF_COOKIE)
    form: FormData | None = None
    kind = request.headers.get("content-type", "")
    if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and form is not None:
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not cookie or not sent or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
    return form


#: Query parameters that are dates, and those that are day counts.
DATE_PARAMETERS = ("since", "until", "date")
DAY_PARAMETERS = ("days",)


def bad_dates(request: Request) -> str | None:
    """Why a page's date or period parameters are out of range, or None: dates (YYYY-MM-DD or
    an ISO time) lie between 1990 and 2100, durations (``since=7d``) reach back at most 100
    years, day counts run from 1 to 36,500. Text that is no date at all is left to the page,
    which says so."""
    for name in DATE_PARAMETERS:
        value = request.query_params.get(name)
        if not value:
            continue
        if value[-1:] in ("m", "h", "d", "w") and value[:-1].isdigit():
            if len(value) > 7 or int(value[:-1]) > {"m": 52_560_000, "h": 876_000}.get(
                value[-1], 36_500 if value[-1] == "d" else 5_200
            ):
                return f"{name}={value[:40]!r} is too long ago (at most 100 years)"
            continue
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            continue  # not a date at all: the page says so, as the CLI would
        if not FIRST_YEAR <= moment.year <= LAST_YEAR:
            return f"{name}={value[:40]!r} is out of range ({FIRST_YEAR} to {LAST_YEAR})"
    for name in DAY_PARAMETERS:
        value = request.query_params.get(name)
        if value and (not value.isdigit() or not 1 <= int(value) <= 36_500):
            return f"{name}={value[:40]!r}: expected a number of days from 1 to 36,500"
    return None


def middleware(
    guard: Guard,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """The HTTP middleware enforcing ``guard`` and adding the security headers."""

    async def secure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response: Response
        if not guard.host_allowed(request):
            response = PlainTextResponse("unknown Host header", status_code=400)
        elif not guard.token_ok(request):
            response = PlainTextResponse(
                "this dashboard needs its token: open it with ?token=… once", status_code=401
            )
        elif request.method not in SAFE_METHODS and request.method != "POST":
            response = PlainTextResponse("method not allowed", status_code=405)
        elif request.method == "POST" and (refused := _before_body(request, guard)):
            code, _, why = refused.partition(" ")
            response = PlainTextResponse(why, status_code=int(code))
        elif (bad := bad_dates(request)) is not None:
            response = PlainTextResponse(bad, status_code=400)
        elif guard.token is not None and "token" in request.query_params:
            # Trade the token in the URL for a cookie at once, so it leaves the address bar
            # and history.
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(
                TOKEN_COOKIE, guard.session_value(), httponly=True, samesite="strict"
            )
        else:
            try:
                response = await call_next(request)
            except Exception:  # still a response with every security header
                log.exception("dashboard error on %s", request.url.path)
                response = PlainTextResponse("internal error (see the log)", status_code=500)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        csrf = getattr(request.state, "csrf", None)
        if csrf is not None and request.cookies.get(CSRF_COOKIE) != csrf:
            response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict")
        return response

    return secure
