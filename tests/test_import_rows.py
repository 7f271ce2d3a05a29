"""The import's fast path (issue #18): the X parser builds the store's rows without records,
batches are decoded without regex patterns and checked by plain string tests, and rows are
turned into SQLite's stored form a column at a time. Each is checked against the slow path
it replaces: the records, the real (patterned) types, SQLAlchemy's own conversion."""

from __future__ import annotations

import io
import json
import pickle
import struct
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum
from operator import attrgetter
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from conftest import X_ARCHIVE
from kompas import parse_worker
from kompas.model import Platform, Post, PostKind
from kompas.sources import x_archive
from kompas.sources import x_schema as xs
from kompas.sources._json import _refusal, iter_records, loosened
from kompas.store import schema
from kompas.store.rows import Rows, stored
from kompas.store.writer import columns, stored_forms

EXPECTED = "a tweet"


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def test_the_x_rows_are_the_records_in_the_writers_column_order() -> None:
    records = list(x_archive.parse(str(X_ARCHIVE)))
    layouts = columns()
    expected: dict[str, list[tuple[Any, ...]]] = {}
    for record in records:
        name = type(record).__name__
        if name in layouts:
            row = attrgetter(*layouts[name])(record)
            expected.setdefault(name, []).append(tuple(map(_plain, row)))
    found: dict[str, list[tuple[Any, ...]]] = {}
    for item in x_archive.parse_rows(str(X_ARCHIVE)):
        if isinstance(item, Rows):
            assert not item.stored
            found.setdefault(item.kind.__name__, []).extend(item.rows)
        else:
            name = type(item).__name__
            if name in layouts:
                found.setdefault(name, []).append(
                    tuple(map(_plain, attrgetter(*layouts[name])(item)))
                )
    assert found == expected
    assert sum(map(len, found.values())) > 10_000
    assert {len(row) for row in found["Post"]} == {len(layouts["Post"])}
    assert {len(row) for row in found["Interaction"]} == {len(layouts["Interaction"])}


# ------------------------------------------------- the loose decode says what the strict one says

_IDS = st.one_of(
    st.from_regex(r"\A[0-9]{1,20}\Z"),  # valid
    st.sampled_from(["", "12\n", "١٢٣", "1" * 21, "12a", " 12", "-1", "1.5"]),
    st.text(max_size=4),
    st.integers(0, 99),  # not a string at all
    st.none(),
)
_COUNTS = st.one_of(st.from_regex(r"\A[0-9]{1,12}\Z"), st.sampled_from(["", "1" * 13, "x"]))


@st.composite
def _tweets(draw: st.DrawFn) -> list[dict[str, Any]]:
    tweets = []
    for _ in range(draw(st.integers(1, 6))):
        tweet: dict[str, Any] = {
            "id_str": draw(_IDS),
            "full_text": draw(st.text(max_size=10)),
            "created_at": "Fri Mar 06 13:02:05 +0000 2026",
        }
        if draw(st.booleans()):
            tweet["in_reply_to_user_id_str"] = draw(_IDS)
        if draw(st.booleans()):
            tweet["favorite_count"] = draw(_COUNTS)
        mentions = draw(st.lists(st.fixed_dictionaries({"id_str": _IDS}), max_size=2))
        tweet["entities"] = {"user_mentions": mentions}
        tweets.append({"tweet": tweet})
    return tweets


def _outcome(read: Any) -> Any:
    try:
        return ("records", [msgspec.to_builtins(r) for _, r in read()])
    except Exception as error:  # what the reader raised, as text
        return ("error", type(error).__name__, str(error))


@settings(max_examples=300, deadline=None)
@given(_tweets())
def test_the_loose_batch_decode_accepts_and_refuses_as_the_real_type(
    tweets: list[dict[str, Any]],
) -> None:
    body = json.dumps(tweets, indent=2).encode()  # the archive's layout: the batch reader

    def batched() -> Iterator[tuple[int, Any]]:
        return iter_records(lambda: io.BytesIO(body), xs.TweetItem, "a.zip", "t.js", EXPECTED)

    def strict() -> Iterator[tuple[int, Any]]:
        try:
            records = msgspec.json.decode(body, type=list[xs.TweetItem])
        except msgspec.ValidationError as exc:
            raise _refusal("a.zip", "t.js", exc, 0, EXPECTED) from None
        return enumerate(records, start=1)

    assert _outcome(batched) == _outcome(strict)


def test_a_patternless_twin_is_the_type_itself() -> None:
    assert loosened(xs.Hashtag) == (xs.Hashtag, None)
    twin, check = loosened(xs.TweetItem)
    assert twin is not xs.TweetItem and check is not None


# ---------------------------------------------- the stored form is what SQLAlchemy would store

_TIME = schema.posts.c.created_at.type._cached_bind_processor(sqlite.dialect())
_MOMENTS = st.one_of(
    st.none(),
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-3))]),
    ),
)


@given(st.lists(_MOMENTS, min_size=1, max_size=20))
def test_a_column_of_times_is_stored_as_sqlalchemy_stores_each(moments: list[Any]) -> None:
    assert _TIME is not None
    rows = [(m,) for m in moments]
    assert stored(rows, [(0, "time")]) == [(_TIME(m),) for m in moments]


def test_the_stored_form_covers_every_converted_column() -> None:
    forms = stored_forms("sqlite")
    assert forms is not None
    assert dict(forms["Post"]) == {
        0: "enum",
        3: "time",
        4: "enum",
        15: "json",
        16: "json",
        17: "json",
    }
    assert stored_forms("postgresql") is None


# ------------------------------------------------------- the worker leaves a bad value alone


def naive_posts(path: str) -> Iterator[Post]:
    """A parser with a bug: a naive time (the worker's test below runs it by name)."""
    yield Post(Platform.X, "1", "me", datetime(2026, 1, 1), PostKind.POST)


def test_a_value_the_stored_form_refuses_reaches_the_writer_as_it_was() -> None:
    out = io.BytesIO()
    parse_worker.serve(
        "test_import_rows", "naive_posts", "-", columns(), out, stored_forms("sqlite")
    )
    out.seek(0)
    (size,) = struct.unpack("<Q", out.read(8))
    tag, items = pickle.loads(out.read(size))
    assert tag == "items"
    (rows,) = items
    assert not rows.stored and rows.rows[0][3] == datetime(2026, 1, 1)


def test_the_worker_sends_rows_in_the_stored_form(tmp_path: Path) -> None:
    received = list(
        parse_worker.parsed_in_worker(
            "kompas.sources.x_archive",
            "parse_rows",
            str(X_ARCHIVE),
            columns(),
            stored_forms("sqlite"),
        )
    )
    posts = [r for r in received if isinstance(r, Rows) and r.kind is Post]
    assert posts and all(r.stored for r in posts)
    first = posts[0].rows[0]
    assert isinstance(first[3], str) and first[3].count(":") == 2  # the time as SQLite's text
    assert first[0] == "x" and type(first[0]) is str


# ------------------------------------------ X's created_at, read by one C call when it can be


def _old_parse_time(value: str) -> datetime | None:
    """``x_archive.parse_time`` as it was (each part through ``int``), the reference."""
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    parts = value.split(" ")
    days = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
    if len(parts) == 6 and parts[4] == "+0000" and parts[0] in days and parts[1] in months:
        try:
            hour, minute, second = parts[3].split(":")
            return datetime(
                int(parts[5]),
                months.index(parts[1]) + 1,
                int(parts[2]),
                int(hour),
                int(minute),
                int(second),
                tzinfo=UTC,
            )
        except ValueError:
            pass
    try:
        if value[:1].isdigit():
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
    except (ValueError, OverflowError):
        return None


_PIECES = st.one_of(
    st.from_regex(r"\A[0-9]{1,5}\Z"),
    st.sampled_from(["٠٦", "+1", "-1", " 6", "6 ", "1_0", "0", "00"]),
    st.text(max_size=3),
)


@st.composite
def _created_at(draw: st.DrawFn) -> str:
    day = draw(st.sampled_from(["Fri", "Mon", "Xyz"]))
    month = draw(st.sampled_from(["Mar", "Feb", "Dec", "Foo"]))
    clock = draw(
        st.one_of(
            st.builds(lambda h, m, s: f"{h}:{m}:{s}", _PIECES, _PIECES, _PIECES),
            st.sampled_from(["130205.0", "13:02:05", "24:00:00", "1:02:055", "13:60:00"]),
        )
    )
    zone = draw(st.sampled_from(["+0000", "+0100"]))
    return f"{day} {month} {draw(_PIECES)} {clock} {zone} {draw(_PIECES)}"


@settings(max_examples=500, deadline=None)
@given(_created_at())
def test_created_at_is_read_as_the_part_by_part_reader_read_it(value: str) -> None:
    assert x_archive.parse_time(value) == _old_parse_time(value)


def test_the_batch_check_follows_optional_fields_and_lists() -> None:
    twin, check = loosened(xs.Manifest)  # userInfo: UserInfo | None, with a patterned id
    assert check is not None
    one = [
        msgspec.convert({"userInfo": None}, twin),
        msgspec.convert({"userInfo": {"accountId": "12"}}, twin),
        msgspec.convert({"userInfo": {"accountId": None}}, twin),
    ]
    assert check(one)
    assert not check([*one, msgspec.convert({"userInfo": {"accountId": "1x"}}, twin)])
    tweets, check_tweets = loosened(xs.TweetItem)
    assert check_tweets is not None
    mention = {"entities": {"user_mentions": [{"id_str": "7"}, {"id_str": ""}]}}
    assert not check_tweets([msgspec.convert({"tweet": mention}, tweets)])  # "" is no id
    assert check_tweets([msgspec.convert({"tweet": {"id_str": "1"}}, tweets)])
