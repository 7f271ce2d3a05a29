"""How kompas talks to platforms: rate limits honoured, transient failures retried.

One :class:`RetryPolicy` decides, for every response or transport failure, whether to try
again and after how long: HTTP 429 waits exactly what ``Retry-After`` (or the rate-limit
reset header) says; 5xx, timeouts, dropped connections and unparsable JSON back off
exponentially with jitter, capped. It is plugged *under* the platforms' own SDKs — a
``requests.Session`` for Mastodon.py, an ``httpx`` transport for atproto — so the SDKs
keep doing what they do well and kompas only decides when to wait.

The sleep and the jitter are parameters, so tests check the delays without waiting.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import requests

from kompas.errors import KompasError

log = logging.getLogger(__name__)

#: Statuses worth another try: rate limited, or the server (or a proxy) failing.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class PlatformUnreachable(KompasError):
    """A platform kept failing after every retry (CLI exit code 3)."""


@dataclass
class RetryPolicy:
    """When to try a request again, and how long to wait first.

    ``attempts`` counts every try (the first included). The n-th backoff (n from 0) is
    ``min(cap, base * 2**n)``, of which the upper half is scaled by ``jitter()`` (a number
    in [0, 1]) so that many clients don't retry in step. ``Retry-After`` and rate-limit
    resets are honoured exactly (up to ``max_wait``), without jitter.
    """

    attempts: int = 6
    base: float = 1.0
    cap: float = 60.0
    max_wait: float = 900.0
    timeout: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random
    clock: Callable[[], float] = time.time
    #: Every wait taken, in seconds, in order (tests and ``--verbose`` read it).
    waits: list[float] = field(default_factory=list)
    #: Told, in a sentence, before each wait (the CLI prints it, so a retry is never silent).
    notify: Callable[[str], None] | None = None

    def backoff(self, retry: int) -> float:
        """The wait before retry number ``retry`` (0-based) of a transient failure."""
        ceiling = min(self.cap, self.base * 2.0**retry)
        return ceiling / 2 + ceiling / 2 * min(1.0, max(0.0, self.jitter()))

    def rate_limit_wait(self, headers: Mapping[str, str]) -> float | None:
        """What the server asked us to wait, from ``Retry-After`` or a reset header."""
        lowered = {k.lower(): v for k, v in headers.items()}
        retry_after = lowered.get("retry-after")
        if retry_after is not None:
            wait = _seconds_or_date(retry_after, self.clock())
            if wait is not None:
                return min(self.max_wait, max(0.0, wait))
        for name in ("x-ratelimit-reset", "ratelimit-reset"):
            if name in lowered:
                reset = _reset_time(lowered[name], self.clock())
                if reset is not None:
                    return min(self.max_wait, max(0.0, reset - self.clock()))
        return None

    def pause_before_next(self, headers: Mapping[str, str]) -> None:
        """Wait out an exhausted quota (remaining 0) before the next request."""
        lowered = {k.lower(): v for k, v in headers.items()}
        remaining = lowered.get("x-ratelimit-remaining", lowered.get("ratelimit-remaining"))
        if remaining is None:
            return
        try:
            exhausted = int(float(remaining)) <= 0
        except ValueError:
            return
        if exhausted:
            wait = self.rate_limit_wait({k: v for k, v in lowered.items() if k != "retry-after"})
            if wait:
                self._wait(wait)

    def _wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.sleep(seconds)

    def run(self, url: str, send: Callable[[], _Outcome]) -> Any:
        """Call ``send`` until it succeeds or the attempts run out."""
        host = urlsplit(url).netloc or url
        last = "no attempt"
        retry = 0
        for attempt in range(self.attempts):
            outcome = send()
            if outcome.ok:
                if outcome.headers is not None:
                    self.pause_before_next(outcome.headers)
                return outcome.value
            last = outcome.problem
            if outcome.final:
                # A name that does not resolve (offline, or a typo) will not resolve in a
                # minute either: say so now rather than after six attempts.
                raise PlatformUnreachable(f"{host} is unreachable: {last}")
            if attempt == self.attempts - 1:
                break
            wait = None
            if outcome.status == 429 or outcome.status == 503:
                wait = self.rate_limit_wait(outcome.headers or {})
            if wait is None:
                wait = self.backoff(retry)
                retry += 1
            log.info("%s: %s; retrying in %.1fs", host, last, wait)
            if self.notify is not None:
                self.notify(
                    f"{host}: {last}; retrying in {wait:.0f} s "
                    f"(attempt {attempt + 2} of {self.attempts})"
                )
            self._wait(wait)
        raise PlatformUnreachable(
            f"{host} is unreachable: {last} (gave up after {self.attempts} attempts)"
        )


@dataclass
class _Outcome:
    ok: bool
    value: Any = None
    status: int | None = None
    headers: Mapping[str, str] | None = None
    problem: str = ""
    #: No retry can help (the host name does not resolve).
    final: bool = False


def _unresolved(error: BaseException) -> bool:
    """Whether a connection failed because the host name did not resolve."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror) or type(current).__name__ == "NameResolutionError":
            return True
        current = current.__cause__ or current.__context__
    text = str(error)
    return any(sign in text for sign in _RESOLUTION_FAILURES)


#: How the resolver's failure reads when an SDK kept only the message.
_RESOLUTION_FAILURES = (
    "Name or service not known",
    "Temporary failure in name resolution",
    "nodename nor servname provided",
    "No address associated with hostname",
    "getaddrinfo failed",
)


def _connection_failed(error: BaseException) -> _Outcome:
    if _unresolved(error):
        return _Outcome(False, problem="the host name does not resolve (offline?)", final=True)
    return _Outcome(False, problem=f"connection failed ({type(error).__name__})")


def _seconds_or_date(value: str, now: float) -> float | None:
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).timestamp() - now
    except (TypeError, ValueError):
        return None


def _reset_time(value: str, now: float) -> float | None:
    """A reset header as an epoch time: Mastodon sends an ISO time, Bluesky epoch seconds."""
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        from datetime import datetime

        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    # A small number is "seconds from now" (some servers), a large one an epoch time.
    return number if number > 1e9 else now + number


def _is_bad_json(content_type: str | None, body: bytes) -> bool:
    if not content_type or "json" not in content_type.lower():
        return False
    try:
        json.loads(body)
    except ValueError:
        return True
    return False


def _describe(status: int) -> str:
    return "rate limited (HTTP 429)" if status == 429 else f"HTTP {status}"


class RetryingSession(requests.Session):
    """A ``requests`` session (for Mastodon.py) that retries under a :class:`RetryPolicy`."""

    def __init__(self, policy: RetryPolicy) -> None:
        super().__init__()
        self.policy = policy

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        target = url if isinstance(url, str) else url.decode()
        verb = method if isinstance(method, str) else method.decode()
        kwargs.setdefault("timeout", self.policy.timeout)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.policy.timeout

        def send() -> _Outcome:
            try:
                response = requests.Session.request(self, verb, target, *args, **kwargs)
            except requests.Timeout:
                return _Outcome(False, problem="timed out")
            except requests.ConnectionError as exc:
                return _connection_failed(exc)
            if response.status_code in RETRY_STATUSES:
                return _Outcome(
                    False,
                    status=response.status_code,
                    headers=response.headers,
                    problem=_describe(response.status_code),
                )
            if response.ok and _is_bad_json(response.headers.get("content-type"), response.content):
                return _Outcome(False, problem="malformed JSON in the response")
            return _Outcome(True, response, response.status_code, response.headers)

        return self.policy.run(target, send)


class RetryingTransport(httpx.BaseTransport):
    """An ``httpx`` transport (for the atproto SDK) that retries under a :class:`RetryPolicy`."""

    def __init__(self, policy: RetryPolicy, inner: httpx.BaseTransport | None = None) -> None:
        self.policy = policy
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        def send() -> _Outcome:
            try:
                response = self.inner.handle_request(request)
                response.read()
            except httpx.TimeoutException:
                return _Outcome(False, problem="timed out")
            except httpx.TransportError as exc:
                return _connection_failed(exc)
            status = response.status_code
            if status in RETRY_STATUSES:
                return _Outcome(
                    False, status=status, headers=response.headers, problem=_describe(status)
                )
            if 200 <= status < 300 and _is_bad_json(
                response.headers.get("content-type"), response.content
            ):
                return _Outcome(False, problem="malformed JSON in the response")
            return _Outcome(True, response, status, response.headers)

        response: httpx.Response = self.policy.run(str(request.url), send)
        return response

    def close(self) -> None:
        self.inner.close()


def policy_from_env() -> RetryPolicy:
    """The retry policy, tunable by ``KOMPAS_RETRY_ATTEMPTS``, ``KOMPAS_RETRY_BASE``,
    ``KOMPAS_RETRY_CAP`` and ``KOMPAS_HTTP_TIMEOUT`` (seconds)."""
    policy = RetryPolicy()
    for name, attribute, kind in (
        ("KOMPAS_RETRY_ATTEMPTS", "attempts", int),
        ("KOMPAS_RETRY_BASE", "base", float),
        ("KOMPAS_RETRY_CAP", "cap", float),
        ("KOMPAS_RETRY_MAX_WAIT", "max_wait", float),
        ("KOMPAS_HTTP_TIMEOUT", "timeout", float),
    ):
        value = os.environ.get(name)
        if value:
            try:
                setattr(policy, attribute, kind(value))
            except ValueError:
                raise KompasError(f"{name}={value!r} is not a number") from None
    return policy
