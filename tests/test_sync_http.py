"""The retry policy: exact waits for rate limits, capped exponential backoff with jitter,
and a clear give-up — checked without sleeping (sleep, jitter and clock are injected)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from kompas.sync.http import PlatformUnreachable, RetryPolicy, _Outcome

NOW = 1_767_600_000.0


def policy(**options: object) -> tuple[RetryPolicy, list[float]]:
    slept: list[float] = []
    made = RetryPolicy(sleep=slept.append, jitter=lambda: 1.0, clock=lambda: NOW, **options)  # type: ignore[arg-type]
    return made, slept


def test_backoff_doubles_and_is_capped() -> None:
    made, _ = policy(base=1.0, cap=10.0)
    # jitter 1.0 → the full ceiling: 1, 2, 4, 8, then the cap
    assert [made.backoff(n) for n in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    made.jitter = lambda: 0.0  # the lower half of the ceiling, never less
    assert [made.backoff(n) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 5.0]
    made.jitter = lambda: 0.5
    assert made.backoff(2) == 3.0


def test_retry_after_seconds_and_date_are_honoured_exactly() -> None:
    made, _ = policy()
    assert made.rate_limit_wait({"Retry-After": "7"}) == 7.0
    moment = datetime.fromtimestamp(NOW + 42, UTC)
    assert made.rate_limit_wait({"retry-after": format_datetime(moment, usegmt=True)}) == 42.0
    # Mastodon: an ISO reset time; Bluesky: epoch seconds
    reset = datetime.fromtimestamp(NOW + 90, UTC).isoformat()
    assert made.rate_limit_wait({"X-RateLimit-Reset": reset}) == 90.0
    assert made.rate_limit_wait({"ratelimit-reset": str(int(NOW) + 11)}) == 11.0
    assert made.rate_limit_wait({}) is None
    made.max_wait = 30.0
    assert made.rate_limit_wait({"Retry-After": "3600"}) == 30.0


def test_run_retries_transient_failures_then_succeeds() -> None:
    made, slept = policy(base=1.0, cap=60.0)
    outcomes = iter(
        [
            _Outcome(False, status=500, headers={}, problem="HTTP 500"),
            _Outcome(False, status=429, headers={"Retry-After": "7"}, problem="429"),
            _Outcome(False, problem="timed out"),
            _Outcome(False, status=503, headers={}, problem="HTTP 503"),
            _Outcome(True, "done", 200, {}),
        ]
    )
    assert made.run("https://example.social/api", lambda: next(outcomes)) == "done"
    # 500 → backoff 1; 429 → exactly 7, not counted as backoff; timeout → 2; 503 → 4
    assert slept == [1.0, 7.0, 2.0, 4.0]
    assert made.waits == slept


def test_exhausted_quota_pauses_until_the_reset() -> None:
    made, slept = policy()
    headers = {"ratelimit-remaining": "0", "ratelimit-reset": str(int(NOW) + 25)}
    assert made.run("https://pds.example", lambda: _Outcome(True, 1, 200, headers)) == 1
    assert slept == [25.0]
    slept.clear()
    headers = {"X-RateLimit-Remaining": "12", "X-RateLimit-Reset": "2030-01-01T00:00:00Z"}
    made.run("https://pds.example", lambda: _Outcome(True, 1, 200, headers))
    assert slept == []


def test_gives_up_with_a_clear_message_after_the_attempts() -> None:
    made, slept = policy(attempts=4, base=2.0, cap=5.0)
    with pytest.raises(PlatformUnreachable) as caught:
        made.run(
            "https://down.example/api/v1/x",
            lambda: _Outcome(False, status=502, headers={}, problem="HTTP 502"),
        )
    assert str(caught.value) == "down.example is unreachable: HTTP 502 (gave up after 4 attempts)"
    assert slept == [2.0, 4.0, 5.0]  # three waits between four attempts, capped at 5
