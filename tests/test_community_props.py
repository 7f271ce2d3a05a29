"""Invariants of the community figures over random small record sets, written to a real
temporary SQLite database with the real writer."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kompas.community import Period, report
from kompas.community.report import STYLES
from kompas.model import (
    Account,
    Interaction,
    InteractionKind,
    Platform,
    Post,
    PostKind,
    Record,
)
from kompas.store import identities
from kompas.store.db import create_engine
from kompas.store.writer import write_import

PLATFORMS = (Platform.X, Platform.MASTODON)
OTHERS = ("a", "b", "c")
START = datetime(2026, 1, 1, tzinfo=UTC)
PERIOD = Period(START + timedelta(days=10), START + timedelta(days=30))


@cache
def empty_database() -> Path:
    """One migrated empty database, copied for every example (migrating is the slow part)."""
    folder = tempfile.mkdtemp(prefix="kompas-community-")
    atexit.register(shutil.rmtree, folder, True)
    path = Path(folder) / "empty.db"
    create_engine(f"sqlite:///{path}").dispose()
    return path


days = st.one_of(st.none(), st.integers(0, 40))
other = st.sampled_from(OTHERS)
maybe_person = st.one_of(st.none(), st.just("me"), other)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[Record], list[tuple[str, str]]]:
    found: list[Record] = []
    for platform in PLATFORMS:
        found.append(Account(platform, "me", is_self=True))
        found += [Account(platform, name) for name in OTHERS]
        for n in range(draw(st.integers(0, 6))):
            day = draw(st.integers(0, 40))
            kind = draw(st.sampled_from(list(PostKind)))
            target = draw(maybe_person)
            found.append(
                Post(
                    platform,
                    f"p{n}",
                    "me",
                    START + timedelta(days=day),
                    kind,
                    reply_to_id=f"t{n}" if kind is PostKind.REPLY else None,
                    reply_to_author_id=target if kind is PostKind.REPLY else None,
                    repost_of_author_id=target if kind is PostKind.REPOST else None,
                    mentions=tuple(draw(st.lists(other, max_size=2, unique=True))),
                    links=("https://example.org",) if draw(st.booleans()) else (),
                    like_count=draw(st.one_of(st.none(), st.integers(0, 5))),
                )
            )
        for n in range(draw(st.integers(0, 6))):
            day = draw(days)
            when = None if day is None else START + timedelta(days=day)
            kind = draw(st.sampled_from(list(InteractionKind)))
            if draw(st.booleans()):
                act = Interaction(
                    platform, kind, "me", draw(st.none() | other), f"o{n}", None, when
                )
            else:
                act = Interaction(platform, kind, draw(other), "me", None, f"v{n}", when)
            found.append(act)
    links = draw(st.lists(st.tuples(other, other), max_size=2))
    return found, links


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_invariants(case: tuple[list[Record], list[tuple[str, str]]]) -> None:
    found, links = case
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "kompas.db"
        shutil.copy(empty_database(), database)
        engine = create_engine(f"sqlite:///{database}")
        write_import(engine, found, source="test", path="generated")
        with engine.begin() as connection:
            for n, (x_name, mastodon_name) in enumerate(links):
                identities.link(
                    connection,
                    [
                        identities.AccountRef("x", x_name),
                        identities.AccountRef("mastodon", mastodon_name),
                    ],
                    f"person{n}",
                )
            persons = identities.person_keys(connection)
        with engine.connect() as connection:
            result = report(connection, PERIOD)
        engine.dispose()
    figures = result.figures
    parts = [figures[p.value] for p in PLATFORMS]
    merged = figures["all"]
    for f in figures.values():
        assert f.reciprocity is None or 0 <= f.reciprocity <= 1
        assert f.unanswered_share is None or 0 <= f.unanswered_share <= 1
        shares = [f.mix.conversation, f.mix.sharing, f.mix.broadcast, f.mix.other]
        assert all(0 <= s <= 1 for s in shares)
        assert abs(sum(shares) - (1 if f.posts else 0)) < 1e-9
        assert f.style in STYLES if f.has_data else f.style is None
        assert f.new_connections is None or f.new_connections <= f.people_reached
        assert f.people_reached <= f.people_interacted
        assert f.conversations == f.conversations_started + f.conversations_joined
        assert f.replies_received is None or f.replies_received >= 0
        assert all(r.strength >= 0 for r in result.relationships["all"])
    for name in ("replies_given", "reposts_of_others", "likes_given", "posts", "conversations"):
        assert getattr(merged, name) == sum(getattr(p, name) for p in parts), name
    for name in (
        "people_interacted",
        "new_connections",
        "distinct_sources_learned",
        "distinct_people_shared",
    ):
        value = getattr(merged, name)
        assert value is None or value <= sum(getattr(p, name) or 0 for p in parts), name

    # A person linked across platforms is counted once: the merged count is the number of
    # distinct person keys among everyone the user exchanged anything with in the period.
    def key(platform: str, account: str) -> str:
        return persons.get((platform, account)) or f"{platform}:{account}"

    people: set[str] = set()
    for record in found:
        platform = record.platform.value
        if isinstance(record, Interaction) and PERIOD.contains(record.created_at):
            if record.actor_id == "me" and record.target_account_id not in (None, "me"):
                people.add(key(platform, record.target_account_id))
            elif record.actor_id != "me":
                people.add(key(platform, record.actor_id))
        if isinstance(record, Post) and PERIOD.contains(record.created_at):
            if record.kind is PostKind.REPOST:
                targets = [record.repost_of_author_id]
            else:
                targets = [record.reply_to_author_id, *record.mentions]
            people |= {key(platform, t) for t in targets if t not in (None, "me")}
    assert merged.people_interacted == len(people)
