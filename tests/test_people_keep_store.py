"""People you keep, in the store: notes, tags and cadences on every test database, the
exchanges both ways, and which reconnects are due (what ``today`` reads)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from kompas.errors import UsageError
from kompas.model import Account, Interaction, InteractionKind, Platform, Post, PostKind
from kompas.store import identities, keep
from kompas.store.db import create_engine
from kompas.store.identities import AccountRef
from kompas.store.writer import write_import

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
M = Platform.MASTODON
B = Platform.BLUESKY
ME_M = "https://a.example/users/me"
ME_B = "did:plc:me"
ANN_M = "https://b.example/users/ann"
ANN_B = "did:plc:ann"
BOB = "https://c.example/users/bob"
CAT = "https://c.example/users/cat"


def _talk(platform: Platform, kind: InteractionKind, actor: str, target: str, n: int, at: datetime):  # type: ignore[no-untyped-def]
    post = Post(platform, f"{actor}/p/{n}", actor, at, PostKind.REPLY, text=f"words {n}")
    return [post, Interaction(platform, kind, actor, target, None, post.id, at)]


def _engine(db_url: str) -> sa.Engine:
    engine = create_engine(db_url)
    records = [
        Account(M, ME_M, "me@a.example", is_self=True),
        Account(B, ME_B, "me.bsky.social", is_self=True),
        Account(M, ANN_M, "ann@b.example"),
        Account(B, ANN_B, "ann.bsky.social"),
        Account(M, BOB, "bob@c.example"),
        Account(M, CAT, "cat@c.example"),
        # Ann and the user: the user replied 40 days ago on Mastodon; Ann mentioned the
        # user 10 days ago on Bluesky (her other account).
        *_talk(M, InteractionKind.REPLY, ME_M, ANN_M, 1, T0 - timedelta(days=40)),
        *_talk(B, InteractionKind.MENTION, ANN_B, ME_B, 2, T0 - timedelta(days=10)),
        # A like is attention, not an exchange: it never moves the last exchange.
        Interaction(M, InteractionKind.LIKE, ANN_M, ME_M, "x", None, T0 - timedelta(days=1)),
        # Bob quoted the user 20 days ago.
        *_talk(M, InteractionKind.QUOTE, BOB, ME_M, 3, T0 - timedelta(days=20)),
    ]
    write_import(engine, records, source="test", path="test")
    return engine


def test_notes_tags_cadences_round_trip(db_url: str) -> None:
    engine = _engine(db_url)
    ann = AccountRef("mastodon", ANN_M)
    with engine.begin() as connection:
        first = keep.add_note(connection, ann, "  met at FOSDEM <script>x</script> ", T0)
        keep.add_note(connection, ann, "line one\nline two", T0 + timedelta(minutes=1))
        assert keep.add_tag(connection, ann, "Friend", T0) == "friend"
        keep.add_tag(connection, ann, "friend", T0)  # twice is one tag
        keep.add_tag(connection, ann, "met-at-fosdem", T0)
        keep.set_cadence(connection, ann, 30, T0)
    with engine.connect() as connection:
        notes = keep.notes_for(connection, ann)
        assert [n.text for n in notes] == ["met at FOSDEM <script>x</script>", "line one\nline two"]
        assert notes[0].id == first.id and notes[0].source == "kompas"
        assert notes[0].created_at == T0
        assert keep.tags_for(connection, ann) == ["friend", "met-at-fosdem"]
        assert keep.tagged(connection, "FRIEND") == [ann]
        assert keep.cadence_for(connection, ann) == 30
    with engine.begin() as connection:
        keep.remove_note(connection, [ann], first.id)
        with pytest.raises(keep.UnknownNote, match=f"no note {first.id} on mastodon:"):
            keep.remove_note(connection, [ann], first.id)
        assert keep.remove_tag(connection, [ann], "friend") is True
        assert keep.remove_tag(connection, [ann], "friend") is False
        keep.set_cadence(connection, ann, None, T0)
    with engine.connect() as connection:
        assert [n.text for n in keep.notes_for(connection, ann)] == ["line one\nline two"]
        assert keep.tags_for(connection, ann) == ["met-at-fosdem"]
        assert keep.cadence_for(connection, ann) is None


def test_a_note_on_one_account_is_not_another_s(db_url: str) -> None:
    engine = _engine(db_url)
    ann, bob = AccountRef("mastodon", ANN_M), AccountRef("mastodon", BOB)
    with engine.begin() as connection:
        note = keep.add_note(connection, ann, "Ann's", T0)
        with pytest.raises(keep.UnknownNote):
            keep.remove_note(connection, [bob], note.id)
    with engine.connect() as connection:
        assert keep.notes_for(connection, bob) == []
        assert len(keep.notes_for(connection, ann)) == 1


def test_exchanges_both_ways_across_linked_accounts(db_url: str) -> None:
    engine = _engine(db_url)
    ann_m, ann_b = AccountRef("mastodon", ANN_M), AccountRef("bluesky", ANN_B)
    with engine.begin() as connection:
        identities.link(connection, [ann_m, ann_b], "Ann")
    with engine.connect() as connection:
        person, refs = keep.person_of(connection, ann_m)
        assert person == "Ann" and refs == [ann_m, ann_b]
        found = keep.exchanges(connection, refs)
        assert found is not None
        assert [(e.account, e.kind, e.at, e.text) for e in found["given"]] == [
            (ann_m.key, "reply", T0 - timedelta(days=40), "words 1")
        ]
        assert [(e.account, e.kind, e.at) for e in found["received"]] == [
            (ann_b.key, "mention", T0 - timedelta(days=10))
        ]
        # The like a day ago is not an exchange.
        assert keep.last_exchange(connection, refs) == T0 - timedelta(days=10)
        assert keep.last_exchange(connection, [ann_m]) == T0 - timedelta(days=40)
        assert keep.last_exchange(connection, refs, as_of=T0 - timedelta(days=30)) == (
            T0 - timedelta(days=40)
        )
        # Cat never exchanged with the user: nothing, honestly (not a date).
        assert keep.last_exchange(connection, [AccountRef("mastodon", CAT)]) is None


def test_a_way_the_store_never_holds_is_unknown(db_url: str) -> None:
    engine = _engine(db_url)
    cat = AccountRef("mastodon", CAT)
    with engine.connect() as connection:
        # Bob quoted the user on Mastodon: the store holds that side there, and Cat never
        # exchanged with the user either way.
        assert keep.exchanges(connection, [cat]) == {"given": [], "received": []}
    # Only the user's side (an archive): whether anyone answered on Mastodon is unknown.
    alone = create_engine(db_url.replace("kompas.db", "alone.db"))
    if alone.dialect.name == "postgresql":
        return  # one PostgreSQL database per test: the case above runs on SQLite
    write_import(
        alone,
        [
            Account(M, ME_M, "me@a.example", is_self=True),
            Account(M, ANN_M, "ann@b.example"),
            Account(M, CAT, "cat@c.example"),
            *_talk(M, InteractionKind.REPLY, ME_M, ANN_M, 1, T0),
        ],
        source="t",
        path="t",
    )
    with alone.connect() as connection:
        found = keep.exchanges(connection, [AccountRef("mastodon", ANN_M)])
        assert found is not None and found["received"] is None
        assert [e.kind for e in found["given"] or []] == ["reply"]
        assert keep.exchanges(connection, [cat]) == {"given": [], "received": None}


def test_exchanges_unknown_without_an_own_account(db_url: str) -> None:
    engine = create_engine(db_url)
    write_import(engine, [Account(M, ANN_M, "ann@b.example")], source="t", path="t")
    with engine.connect() as connection:
        assert keep.exchanges(connection, [AccountRef("mastodon", ANN_M)]) is None


def test_cadence_due(db_url: str) -> None:
    engine = _engine(db_url)
    ann_m, ann_b = AccountRef("mastodon", ANN_M), AccountRef("bluesky", ANN_B)
    bob, cat = AccountRef("mastodon", BOB), AccountRef("mastodon", CAT)
    with engine.begin() as connection:
        identities.link(connection, [ann_m, ann_b], "Ann")
        keep.set_cadence(connection, ann_m, 30, T0)  # last exchange 10 days ago: not due
        keep.set_cadence(connection, ann_b, 60, T0)  # Ann's other account: one person
        keep.set_cadence(connection, bob, 14, T0)  # 20 days ago: due 6 days ago
        keep.set_cadence(connection, cat, 7, T0)  # never: due, most overdue
    with engine.connect() as connection:
        due = keep.cadence_due(connection, T0)
        assert [(c.account, c.last_exchange, c.cadence_days) for c in due] == [
            (cat.key, None, 7),
            (bob.key, T0 - timedelta(days=20), 14),
        ]
        assert due[0].due_at is None and due[0].handle == "cat@c.example"
        assert due[1].due_at == T0 - timedelta(days=6)
        every = keep.cadences(connection, T0)
        assert [(c.account, c.person, c.due) for c in every] == [
            (cat.key, None, True),
            (bob.key, None, True),
            (ann_m.key, "Ann", False),
        ]
        assert every[2].due_at == T0 + timedelta(days=20)
        later = keep.cadence_due(connection, T0 + timedelta(days=21))
        assert [c.account for c in later] == [cat.key, bob.key, ann_m.key]
        assert later[2].as_json()["last_exchange"] == (T0 - timedelta(days=10)).isoformat()


def test_platform_notes_replace_the_imported_one(db_url: str) -> None:
    engine = _engine(db_url)
    ann = AccountRef("mastodon", ANN_M)
    with engine.begin() as connection:
        keep.add_note(connection, ann, "mine", T0)
        assert keep.put_platform_notes(connection, "mastodon", [(ANN_M, "from Mastodon")], T0) == 1
        assert keep.put_platform_notes(connection, "mastodon", [(ANN_M, "from Mastodon")], T0) == 0
    with engine.connect() as connection:
        assert [(n.text, n.source) for n in keep.notes_for(connection, ann)] == [
            ("mine", "kompas"),
            ("from Mastodon", "mastodon"),
        ]
    with engine.begin() as connection:
        keep.put_platform_notes(connection, "mastodon", [(ANN_M, "changed")], T0)
    with engine.connect() as connection:
        assert [n.text for n in keep.notes_for(connection, ann)] == ["mine", "changed"]
    with engine.begin() as connection:
        keep.put_platform_notes(connection, "mastodon", [(ANN_M, "")], T0)  # cleared there
    with engine.connect() as connection:
        assert [n.text for n in keep.notes_for(connection, ann)] == ["mine"]


@pytest.mark.parametrize(
    ("text", "days"), [("30d", 30), ("2w", 14), (" 1D ", 1), ("off", None), ("3650d", 3650)]
)
def test_parse_cadence(text: str, days: int | None) -> None:
    assert keep.parse_cadence(text) == days


@pytest.mark.parametrize("text", ["30", "0d", "3651d", "30x", "d", "-3d", "1.5d", ""])
def test_bad_cadence_named(text: str) -> None:
    with pytest.raises(UsageError, match="is not a cadence"):
        keep.parse_cadence(text)


@pytest.mark.parametrize("tag", ["", "two words", "-lead", "a" * 65, "semi;colon", "<b>"])
def test_bad_tag_named(tag: str) -> None:
    with pytest.raises(UsageError, match="is not a tag"):
        keep.check_tag(tag)


@pytest.mark.parametrize(
    ("text", "problem"),
    [("   ", "empty"), ("a" * 10_001, "at most"), ("nul\x00", "control"), ("bell\x07", "control")],
)
def test_bad_note_named(text: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        keep.check_note(text)
