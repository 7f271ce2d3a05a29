"""The dashboard's defences, in one place: who may connect (Host check against DNS
rebinding, a token when bound beyond loopback), CSRF on every state-changing request, and
the response headers that forbid inline script, framing and sniffing."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
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

    def session_value(self) -> str:
        """The cookie value that proves the browser once presented the token."""
        assert self.token is not None
        return hmac.new(self.secret, self.token.encode(), hashlib.sha256).hexdigest()

    def host_allowed(self, request: Request) -> bool:
        """The Host header names this server (blocks DNS-rebinding pages)."""
        if self.allowed_hosts is None:
            return True
        host = request.headers.get("host", "")
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


def csrf_token(request: Request) -> str:
    """This browser's CSRF token (made on its first visit and kept in a cookie)."""
    token: str | None = getattr(request.state, "csrf", None)
    if token is None:
        token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
        request.state.csrf = token
    return token


async def require_csrf(request: Request) -> FormData | None:
    """Dependency of every POST route: the token from the header (HTMX) or the form field
    must equal the cookie's, and the Origin, when sent, must be this server."""
    cookie = request.cookies.get(CSRF_COOKIE)
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise HTTPException(403, "cross-origin request refused")
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
            response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        csrf = getattr(request.state, "csrf", None)
        if csrf is not None and request.cookies.get(CSRF_COOKIE) != csrf:
            response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict")
        return response

    return secure
