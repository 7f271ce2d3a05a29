"""The local post queue (issue #14, point 4): when ``--at`` is, in the user's own zone; the
states a queued post goes through and the atomic claims that keep two runs from sending the
same post; and ``kompas post queue``, ``list`` and ``cancel`` on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from conftest import Kompas
from kompas.errors import UsageError
from kompas.post import queue, schedule
from kompas.post.queue import Claimant, PastWhen, parse_when
from kompas.store import post_queue as store
from kompas.store.db import create_engine

PARIS = ZoneInfo("Europe/Paris")
#: Saturday 28 March 2026, 11:00 in Paris (CET, UTC+1); summer time starts the next night.
NOW = datetime(2026, 3, 28, 10, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("now", NOW),
        ("in 2h", NOW + timedelta(hours=2)),
        ("In 1h 30m", NOW + timedelta(minutes=90)),
        ("in 90 minutes", NOW + timedelta(minutes=90)),
        ("in 1d", NOW + timedelta(days=1)),
        ("in 2 weeks", NOW + timedelta(days=14)),
        # Today in Paris is still winter time (UTC+1).
        ("today 18:30", utc(2026, 3, 28, 17, 30)),
        ("18:30", utc(2026, 3, 28, 17, 30)),
        ("at 9pm", utc(2026, 3, 28, 20, 0)),
        ("11:00", NOW),
        # Tomorrow is summer time (UTC+2): 9:00 in Paris is 07:00 UTC, not 08:00.
        ("tomorrow 9:00", utc(2026, 3, 29, 7, 0)),
        ("tomorrow at 9am", utc(2026, 3, 29, 7, 0)),
        ("tomorrow 12am", utc(2026, 3, 28, 23, 0)),
        ("monday 9h15", utc(2026, 3, 30, 7, 15)),
        # The same weekday: later today if still ahead, else a week on.
        ("saturday 18:00", utc(2026, 3, 28, 17, 0)),
        ("saturday 9:00", utc(2026, 4, 4, 7, 0)),
        ("2026-12-24 09:00", utc(2026, 12, 24, 8, 0)),
        ("2026-12-24T9:00", utc(2026, 12, 24, 8, 0)),
        ("2026-12-24T09:00:00+05:00", utc(2026, 12, 24, 4, 0)),
        ("2026-12-24T09:00Z", utc(2026, 12, 24, 9, 0)),
        ("2026-07-01T09:00:30", utc(2026, 7, 1, 7, 0, 30)),
    ],
)
def test_when_is_read_in_the_users_zone(said: str, expected: datetime) -> None:
    moment = parse_when(said, NOW, PARIS)
    assert moment == expected
    assert moment.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("said", "error", "words"),
    [
        ("2026-03-28 09:00", PastWhen, "is in the past (2026-03-28 09:00 CET, 2 h ago)"),
        ("10:59", PastWhen, "in the past"),
        ("2026-03-28T09:59Z", PastWhen, "in the past"),
        ("tomorrow", UsageError, 'has no time of day: say when, e.g. "tomorrow 9:00"'),
        ("2026-12-24", UsageError, 'has no time of day: say when, e.g. "2026-12-24 09:00"'),
        ("in 2 fortnights", UsageError, "'fortnights' is not a unit"),
        ("yesterday 9:00", UsageError, "is not a time kompas understands"),
        ("soon", UsageError, '"in 2h", "tomorrow 9:00"'),
        ("25:00", UsageError, "25:00 is not a time of day"),
        ("tomorrow 13pm", UsageError, "13pm is not a time"),
        ("2026-02-30 10:00", UsageError, "2026-02-30 is not a date"),
        ("", UsageError, "is not a time kompas understands"),
    ],
)
def test_a_when_that_is_past_or_not_understood_is_refused(
    said: str, error: type[Exception], words: str
) -> None:
    with pytest.raises(error) as raised:
        parse_when(said, NOW, PARIS)
    assert words in str(raised.value)
    assert repr(said) in str(raised.value)


@pytest.fixture
def new_york() -> Iterator[None]:
    """The system's local zone set to New York, as a user there has it."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_without_a_zone_when_is_the_systems_local_time(new_york: None) -> None:
    assert parse_when("2026-12-24 09:00", NOW) == utc(2026, 12, 24, 14, 0)  # EST
    assert parse_when("2026-07-04 09:00", NOW) == utc(2026, 7, 4, 13, 0)  # EDT
    # 10:00 UTC is 06:00 in New York: "tomorrow" is the 29th there.
    assert parse_when("tomorrow 9:00", NOW) == utc(2026, 3, 29, 13, 0)
    assert queue.describe(utc(2026, 12, 24, 14, 0), NOW).startswith("2026-12-24 09:00 EST, in ")


def test_how_far_in_words() -> None:
    assert queue.how_far(NOW + timedelta(seconds=30), NOW) == "now"
    assert queue.how_far(NOW + timedelta(minutes=5), NOW) == "in 5 min"
    assert queue.how_far(NOW + timedelta(minutes=90), NOW) == "in 1.5 h"
    assert queue.how_far(NOW + timedelta(hours=14), NOW) == "in 14 h"
    assert queue.how_far(NOW - timedelta(days=3), NOW) == "3 days ago"


def test_which_moves_are_allowed() -> None:
    allowed = {
        (old, new) for old in queue.STATES for new in queue.STATES if queue.can_move(old, new)
    }
    assert allowed == {
        ("queued", "sending"),
        ("queued", "cancelled"),
        ("sending", "sent"),
        ("sending", "queued"),
        ("sending", "failed"),
        ("sending", "sending"),
        ("failed", "cancelled"),
    }


def _post(state: str, **changes: object) -> store.QueuedPost:
    values: dict[str, object] = {
        "id": 1,
        "key": "k",
        "network": "mastodon",
        "text": "t",
        "parts": ("t",),
        "reply_to": None,
        "image": None,
        "alt": None,
        "due_at": NOW,
        "created_at": NOW,
        "state": state,
        "attempts": 1,
        "last_error": None,
        "sent": (),
        "media_id": None,
        "claimed_by": None,
        "claimed_at": None,
        "finished_at": None,
    }
    values.update(changes)
    return store.QueuedPost(**values)  # type: ignore[arg-type]


def _gone_pid() -> int:
    """The id of a process that has exited."""
    process = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(process.stdout)


def test_a_run_takes_over_a_sending_post_only_when_its_run_is_gone() -> None:
    me = Claimant("here", os.getpid())
    gone = _gone_pid()

    def alive(pid: int) -> bool:
        return pid != gone

    fresh = NOW - timedelta(minutes=1)
    dead_here = _post("sending", claimed_by=f"here:{gone}", claimed_at=fresh)
    live_here = _post("sending", id=2, claimed_by="here:1", claimed_at=fresh)
    elsewhere = _post("sending", id=3, claimed_by=f"there:{gone}", claimed_at=fresh)
    silent = _post("sending", id=4, claimed_by="there:5", claimed_at=NOW - queue.LEASE)
    due = _post("queued", id=5, due_at=NOW - timedelta(days=1))
    later = _post("queued", id=6, due_at=NOW + timedelta(seconds=1))
    failed = _post("failed", id=7, due_at=NOW - timedelta(days=2))
    chosen = queue.to_send(
        [dead_here, live_here, elsewhere, silent, due, later, failed], NOW, me, alive
    )
    # A live run keeps its post; another host's run is trusted until its lease runs out.
    assert [post.id for post in chosen] == [5, 1, 4]


def test_check_move_says_why_not() -> None:
    sent = _post("sent", sent=(store.PostedPart(0, "at://x", "https://bsky.app/x", None),))
    with pytest.raises(queue.BadMove, match=r"post 1 was already sent \(https://bsky.app/x\)"):
        queue.check_move(sent, queue.CANCELLED)
    with pytest.raises(queue.BadMove, match="is being sent right now"):
        queue.check_move(_post("sending", claimed_by="h:1"), queue.CANCELLED)


# --- the store, on both databases --------------------------------------------------------


def _queue(engine: sa.Engine, text: str = "Hello", when: str = "in 1h") -> store.QueuedPost:
    return schedule.enqueue(engine, schedule.Request(text, "mastodon", when), NOW, PARIS)


def test_two_runs_never_claim_the_same_post(db_url: str) -> None:
    engine = create_engine(db_url)
    first = _queue(engine)
    assert first.state == "queued" and first.attempts == 0 and first.sent == ()
    assert first.key.startswith("kompas-q-") and first.key != _queue(engine).key
    with engine.begin() as a:
        seen_by_a = store.get(a, first.id)
    with engine.begin() as b:
        seen_by_b = store.get(b, first.id)
    assert seen_by_a == seen_by_b and seen_by_a is not None and seen_by_b is not None
    with engine.begin() as a:
        assert store.claim(a, seen_by_a, sending="sending", by="h:1", now=NOW)
    with engine.begin() as b:  # read before the first claim: its update matches nothing
        assert not store.claim(b, seen_by_b, sending="sending", by="h:2", now=NOW)
    with engine.begin() as connection:
        held = store.get(connection, first.id)
        assert held is not None
        assert (held.state, held.attempts, held.claimed_by) == ("sending", 1, "h:1")
        # A run taking over from a dead one claims with what it read (attempt 1)...
        assert store.claim(connection, held, sending="sending", by="h:3", now=NOW)
        # ...and a second run that read the same can no longer.
        assert not store.claim(connection, held, sending="sending", by="h:4", now=NOW)
        # The dead run's late write changes nothing: it no longer holds the row.
        assert not store.release(
            connection,
            first.id,
            sending="sending",
            by="h:1",
            state="sent",
            now=NOW,
            error=None,
            finished=True,
        )
        part = store.PostedPart(0, "https://m.example/statuses/1", "https://m.example/@me/1", None)
        assert store.progress(
            connection, first.id, sending="sending", by="h:3", now=NOW, sent=[part]
        )
        assert store.release(
            connection,
            first.id,
            sending="sending",
            by="h:3",
            state="sent",
            now=NOW,
            error=None,
            finished=True,
        )
        done = store.get(connection, first.id)
    assert done is not None
    assert (done.state, done.attempts, done.claimed_by, done.sent) == ("sent", 2, None, (part,))
    assert done.finished_at == NOW


def test_cancel_only_what_is_not_sent_or_being_sent(db_url: str) -> None:
    engine = create_engine(db_url)
    waiting, claimed = _queue(engine, "one"), _queue(engine, "two")
    with engine.begin() as connection:
        assert store.claim(connection, claimed, sending="sending", by="h:1", now=NOW)
    cancelled = schedule.cancel(engine, waiting.id, NOW)
    assert cancelled.state == "cancelled" and cancelled.finished_at == NOW
    with pytest.raises(queue.BadMove, match="already cancelled"):
        schedule.cancel(engine, waiting.id, NOW)
    with pytest.raises(queue.BadMove, match=r"post \d+ is being sent right now \(by h:1\)"):
        schedule.cancel(engine, claimed.id, NOW)
    with pytest.raises(schedule.UnknownPost, match="no queued post has the id 999"):
        schedule.cancel(engine, 999, NOW)
    assert [p.id for p in schedule.pending(engine)] == [claimed.id]
    assert [p.id for p in schedule.pending(engine, everything=True)] == [waiting.id, claimed.id]


# --- the commands ------------------------------------------------------------------------


def _json(result: object) -> object:
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    return json.loads(result.stdout)  # type: ignore[attr-defined]


def test_queue_list_and_cancel(kompas_db: Kompas, tmp_path: Path) -> None:
    before = datetime.now(UTC)
    made = _json(
        kompas_db("post", "queue", "Hello, queue", "--at", "in 2h", "--to", "Mastodon", "--json")
    )
    assert isinstance(made, dict)
    assert (
        made["network"] == "mastodon"
        and made["state"] == "queued"
        and made["parts"] == ["Hello, queue"]
    )
    due = datetime.fromisoformat(made["due_at"])
    assert before + timedelta(hours=2) <= due <= datetime.now(UTC) + timedelta(hours=2)

    draft = tmp_path / "draft.txt"
    draft.write_text("From a file ✨\n\nsecond paragraph\n", encoding="utf-8")
    image = tmp_path / "photo.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    result = kompas_db(
        "post",
        "queue",
        "--file",
        draft,
        "--at",
        "2099-01-01 09:00",
        "--to",
        "bluesky",
        "--reply-to",
        "at://did:plc:abc/app.bsky.feed.post/3k",
        "--image",
        image,
        "--alt",
        "A photo",
    )
    assert result.exit_code == 0, result.output
    assert "Queued #2 for bluesky, due 2099-01-01 09:00" in result.stdout
    assert "kompas post run" in result.stdout

    listed = _json(kompas_db("post", "list", "--json"))
    assert isinstance(listed, dict)
    assert [p["id"] for p in listed["posts"]] == [1, 2]
    second = listed["posts"][1]
    assert second["text"] == "From a file ✨\n\nsecond paragraph"
    assert second["reply_to"] == "at://did:plc:abc/app.bsky.feed.post/3k"
    assert second["image"] == str(image.resolve()) and second["alt"] == "A photo"
    assert set(second) >= {
        "id",
        "key",
        "network",
        "text",
        "due_at",
        "created_at",
        "state",
        "attempts",
        "last_error",
        "sent",
        "media_id",
    }

    shown = kompas_db("post", "list")
    assert shown.exit_code == 0
    assert "#1  queued  mastodon  due " in shown.stdout and "Hello, queue" in shown.stdout
    assert "in reply to at://did:plc:abc/app.bsky.feed.post/3k" in shown.stdout

    cancelled = kompas_db("post", "cancel", "#1")
    assert cancelled.exit_code == 0 and "Cancelled #1 (mastodon)" in cancelled.stdout
    again = kompas_db("post", "cancel", "1")
    assert again.exit_code == 1 and "post 1 was already cancelled" in again.stderr
    assert [p["id"] for p in _json(kompas_db("post", "list", "--json"))["posts"]] == [2]  # type: ignore[index]
    everything = _json(kompas_db("post", "list", "--all", "--json"))["posts"]  # type: ignore[index]
    assert [(p["id"], p["state"]) for p in everything] == [(1, "cancelled"), (2, "queued")]


def test_an_empty_queue_says_so(kompas: Kompas) -> None:
    assert "The queue is empty" in kompas("post", "list").stdout
    assert "Nothing was ever queued." in kompas("post", "list", "--all").stdout
    assert _json(kompas("post", "list", "--json")) == {"posts": []}


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (
            ["hi", "--at", "2020-01-01 09:00", "--to", "mastodon"],
            1,
            "--at '2020-01-01 09:00' is in the past",
        ),
        (
            ["hi", "--at", "whenever", "--to", "mastodon"],
            2,
            "--at 'whenever' is not a time kompas understands",
        ),
        (
            ["hi", "--at", "in 1h", "--to", "x"],
            2,
            "--to 'x': a queued post goes to one network",
        ),
        (
            ["hi", "--at", "in 1h", "--to", "mastodon,bluesky"],
            2,
            "one of: mastodon, bluesky (queue it once for each)",
        ),
        (["--at", "in 1h", "--to", "mastodon"], 2, "give the draft as TEXT or with --file F"),
        (["   ", "--at", "in 1h", "--to", "mastodon"], 1, "the draft is empty"),
        (["a\x00b", "--at", "in 1h", "--to", "mastodon"], 1, "control character (0x00)"),
        (["hi", "--at", "in 1h", "--to", "mastodon", "--file", "none.txt"], 2, "not both"),
        (
            ["--file", "none.txt", "--at", "in 1h", "--to", "mastodon"],
            1,
            "none.txt: no such file",
        ),
        (
            ["hi", "--at", "in 1h", "--to", "mastodon", "--image", "no.png"],
            1,
            "no.png",
        ),
        (
            ["hi", "--at", "in 1h", "--to", "mastodon", "--alt", "a cat"],
            2,
            "--alt describes an image",
        ),
        (
            ["Look https://example.org/" + "a" * 400, "--at", "in 1h", "--to", "bluesky"],
            1,
            "a part of it is longer than the 300 graphemes bluesky allows and cannot be cut",
        ),
    ],
)
def test_bad_input_is_refused_naming_it(
    kompas: Kompas, args: list[str], code: int, words: str
) -> None:
    result = kompas("post", "queue", *args)
    assert result.exit_code == code, result.output
    assert words in result.stderr
    assert _json(kompas("post", "list", "--json")) == {"posts": []}  # nothing queued


def test_cancel_names_a_bad_id(kompas: Kompas) -> None:
    result = kompas("post", "cancel", "seven")
    assert result.exit_code == 2 and "'seven' is not a queued post's id" in result.stderr
    result = kompas("post", "cancel", "7")
    assert result.exit_code == 1 and "no queued post has the id 7" in result.stderr


def test_a_draft_too_long_is_queued_as_the_thread_the_check_shows(kompas_db: Kompas) -> None:
    sentences = " ".join(f"Sentence number {n} is here." for n in range(30))
    checked = _json(kompas_db("post", "check", sentences, "--to", "bluesky", "--json"))
    made = _json(
        kompas_db("post", "queue", sentences, "--at", "in 1h", "--to", "bluesky", "--json")
    )
    assert isinstance(checked, dict) and isinstance(made, dict)
    parts = checked["networks"]["bluesky"]["parts"]
    assert len(parts) == 3 and made["parts"] == parts and made["text"] == sentences
    assert made["check"]["networks"]["bluesky"] == checked["networks"]["bluesky"]
    # Each part is whole sentences, and together they are the draft.
    assert " ".join(p.rsplit(" ", 1)[0] for p in parts) == sentences
    shown = kompas_db("post", "queue", sentences, "--at", "in 1h", "--to", "bluesky")
    assert "too long: a thread of 3" in shown.stdout  # the check, as `post check` shows it
    assert "Queued #2 for bluesky as a thread of 3, due " in shown.stdout
    listed = kompas_db("post", "list").stdout
    assert "#2  queued  bluesky  due " in listed and "thread of 3, 0 posted" in listed
