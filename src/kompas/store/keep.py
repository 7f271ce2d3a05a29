"""People you keep: the user's own notes and tags on accounts, how often they mean to be
in touch (a *cadence*), and the exchanges that say when they last were.

Notes, tags and cadences are kept per account (``platform`` + the platform's id), so a
later ``kompas people link`` never loses them; what is shown for a person gathers every
account linked to it. Notes are the user's plain text and never leave the machine; a note
the user wrote on Mastodon itself (``source = "mastodon"``) is imported by sync and
replaced by the next one.

The API the other parts use (``today``'s "reconnect" action, the dashboard):

- :func:`notes_for`, :func:`tags_for`, :func:`cadence_for` for one account (or person);
- :func:`cadence_due` — every cadence whose reconnect is due at a given moment, with the
  last exchange both ways and since when it is due;
- :func:`last_exchange` and :func:`exchanges` — replies, mentions and quotes between the
  user and an account, either way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from kompas.errors import KompasError, UsageError
from kompas.i18n import message
from kompas.model import InteractionKind
from kompas.store import schema
from kompas.store.identities import AccountRef
from kompas.store.schema import accounts, identity_links, interactions, posts
from kompas.store.upsert import insert_for

#: Where a note comes from: written with kompas, or imported from Mastodon's account note.
LOCAL = "kompas"
MASTODON = "mastodon"
NOTE_LIMIT = 10_000
TAG_LIMIT = 64
#: Longest cadence: ten years (a longer one is no cadence).
CADENCE_LIMIT = 3650

person_notes = sa.Table(
    "person_notes",
    schema.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("platform", sa.String(16), nullable=False),
    sa.Column("account_id", sa.String(512), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    #: ``kompas`` (written here) or ``mastodon`` (the user's note on Mastodon, imported).
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("created_at", schema.UTCDateTime, nullable=False),
    sa.Index(None, "platform", "account_id"),
)

person_tags = sa.Table(
    "person_tags",
    schema.metadata,
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("account_id", sa.String(512), primary_key=True),
    sa.Column("tag", sa.String(TAG_LIMIT), primary_key=True),
    sa.Column("created_at", schema.UTCDateTime, nullable=False),
    sa.Index(None, "tag"),
)

person_cadences = sa.Table(
    "person_cadences",
    schema.metadata,
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("account_id", sa.String(512), primary_key=True),
    #: Reconnect at least every this many days.
    sa.Column("days", sa.Integer, nullable=False),
    sa.Column("set_at", schema.UTCDateTime, nullable=False),
)

#: Interactions that are an exchange between two people (likes and reposts are attention,
#: not a word to each other).
EXCHANGE = (
    InteractionKind.REPLY.value,
    InteractionKind.MENTION.value,
    InteractionKind.QUOTE.value,
)

_UTC = schema.UTCDateTime()
_TAG = re.compile(r"[^\W_][\w.+-]*")
_CADENCE = re.compile(r"(\d{1,5})\s*([dw])")


class UnknownNote(KompasError):
    """A note id that is not a note on that account."""


# --- values the user types --------------------------------------------------------------


def check_note(text: str) -> str:
    """A note as stored: trimmed, non-empty, at most :data:`NOTE_LIMIT` characters, no NUL
    (PostgreSQL refuses it) and no other control character but newline and tab."""
    text = text.strip()
    if not text:
        raise UsageError(message("keep.note_empty"))
    if len(text) > NOTE_LIMIT:
        raise UsageError(message("keep.note_too_long", length=len(text), limit=NOTE_LIMIT))
    bad = [c for c in text if unicodedata.category(c) == "Cc" and c not in "\n\t"]
    if bad:
        raise UsageError(message("keep.note_control", char=f"{ord(bad[0]):#04x}"))
    return text


def check_tag(tag: str) -> str:
    """A tag as stored: case-folded, a word of letters, digits and ``. + - _`` starting
    with a letter or digit, at most :data:`TAG_LIMIT` characters (``friend``, ``python``,
    ``met-at-fosdem``)."""
    folded = tag.strip().casefold()
    if not _TAG.fullmatch(folded) or len(folded) > TAG_LIMIT:
        raise UsageError(message("keep.not_a_tag", tag=repr(tag), limit=TAG_LIMIT))
    return folded


def parse_cadence(text: str) -> int | None:
    """``30d`` → 30, ``2w`` → 14, ``off`` → ``None`` (clear the cadence)."""
    value = text.strip().lower()
    if value in ("off", "none"):
        return None
    match = _CADENCE.fullmatch(value)
    days = 0
    if match:
        days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
    if not match or not 1 <= days <= CADENCE_LIMIT:
        raise UsageError(message("keep.not_a_cadence", value=repr(text), limit=CADENCE_LIMIT))
    return days


# --- people: an account and those linked to it -------------------------------------------


def person_of(connection: sa.Connection, ref: AccountRef) -> tuple[str | None, list[AccountRef]]:
    """The person ``ref`` is linked to (``None`` when it is linked to nobody) and every
    account of that person, ``ref`` first."""
    name = connection.execute(
        sa.select(identity_links.c.person).where(
            (identity_links.c.platform == ref.platform) & (identity_links.c.account_id == ref.id)
        )
    ).scalar_one_or_none()
    if name is None:
        return None, [ref]
    rows = connection.execute(
        sa.select(identity_links.c.platform, identity_links.c.account_id)
        .where(identity_links.c.person == name)
        .order_by(identity_links.c.platform, identity_links.c.account_id)
    )
    others = [AccountRef(p, i) for p, i in rows if (p, i) != (ref.platform, ref.id)]
    return name, [ref, *others]


def _of(table: sa.Table, refs: Sequence[AccountRef]) -> sa.ColumnElement[bool]:
    return sa.or_(*((table.c.platform == r.platform) & (table.c.account_id == r.id) for r in refs))


# --- notes ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Note:
    """One note on an account: ``id`` (to remove it), its plain ``text``, where it comes
    from (``kompas`` or ``mastodon``) and when it was written or imported."""

    id: int
    account: str
    text: str
    source: str
    created_at: datetime

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` shape."""
        return {
            "id": self.id,
            "account": self.account,
            "text": self.text,
            "source": self.source,
            "at": self.created_at.isoformat(),
        }


def add_note(connection: sa.Connection, ref: AccountRef, text: str, at: datetime) -> Note:
    """Keep a note on ``ref`` (checked by :func:`check_note`); returns it with its id."""
    text = check_note(text)
    new_id = connection.execute(
        sa.insert(person_notes)
        .values(platform=ref.platform, account_id=ref.id, text=text, source=LOCAL, created_at=at)
        .returning(person_notes.c.id)
    ).scalar_one()
    return Note(int(new_id), ref.key, text, LOCAL, at)


def remove_note(connection: sa.Connection, refs: Sequence[AccountRef], note_id: int) -> None:
    """Delete note ``note_id`` of one of ``refs`` (an account and those linked to it);
    :class:`UnknownNote` when it is no note of theirs."""
    done = connection.execute(
        sa.delete(person_notes).where((person_notes.c.id == note_id) & _of(person_notes, refs))
    )
    if not done.rowcount:
        raise UnknownNote(message("keep.no_note", note=note_id, account=refs[0].key))


def notes_for(connection: sa.Connection, refs: AccountRef | Sequence[AccountRef]) -> list[Note]:
    """The notes on an account (or on every account of a person), oldest first."""
    chosen = [refs] if isinstance(refs, AccountRef) else list(refs)
    rows = connection.execute(
        sa.select(person_notes).where(_of(person_notes, chosen)).order_by(person_notes.c.id)
    )
    return [
        Note(r.id, f"{r.platform}:{r.account_id}", r.text, r.source, r.created_at) for r in rows
    ]


def put_platform_notes(
    connection: sa.Connection, platform: str, notes: Iterable[tuple[str, str]], at: datetime
) -> int:
    """Store the notes the user keeps on the platform itself, ``(account_id, text)``: each
    replaces the one imported before for that account; an empty text removes it. Returns
    how many notes were added or changed."""
    changed = 0
    for account_id, raw in notes:
        text = raw.strip()[:NOTE_LIMIT]
        text = "".join(c for c in text if unicodedata.category(c) != "Cc" or c in "\n\t")
        mine = (
            (person_notes.c.platform == platform)
            & (person_notes.c.account_id == account_id)
            & (person_notes.c.source == platform)
        )
        old = connection.execute(sa.select(person_notes.c.id, person_notes.c.text).where(mine))
        previous = old.all()
        if len(previous) == 1 and previous[0].text == text:
            continue
        connection.execute(sa.delete(person_notes).where(mine))
        if text:
            connection.execute(
                sa.insert(person_notes).values(
                    platform=platform,
                    account_id=account_id,
                    text=text,
                    source=platform,
                    created_at=at,
                )
            )
            changed += 1
    return changed


# --- tags -------------------------------------------------------------------------------


def add_tag(connection: sa.Connection, ref: AccountRef, tag: str, at: datetime) -> str:
    """Tag ``ref`` (checked by :func:`check_tag`; tagging twice is one tag)."""
    tag = check_tag(tag)
    connection.execute(
        insert_for(connection, person_tags)
        .values(platform=ref.platform, account_id=ref.id, tag=tag, created_at=at)
        .on_conflict_do_nothing(index_elements=["platform", "account_id", "tag"])
    )
    return tag


def remove_tag(connection: sa.Connection, refs: Sequence[AccountRef], tag: str) -> bool:
    """Untag an account (and those linked to it); returns whether it had the tag."""
    tag = check_tag(tag)
    done = connection.execute(
        sa.delete(person_tags).where((person_tags.c.tag == tag) & _of(person_tags, refs))
    )
    return bool(done.rowcount)


def tags_for(connection: sa.Connection, refs: AccountRef | Sequence[AccountRef]) -> list[str]:
    """The tags of an account (or of every account of a person), sorted, each once."""
    chosen = [refs] if isinstance(refs, AccountRef) else list(refs)
    rows = connection.execute(
        sa.select(person_tags.c.tag).where(_of(person_tags, chosen)).distinct()
    )
    return sorted(tag for (tag,) in rows)


def tagged(connection: sa.Connection, tag: str) -> list[AccountRef]:
    """Every account with ``tag``."""
    rows = connection.execute(
        sa.select(person_tags.c.platform, person_tags.c.account_id)
        .where(person_tags.c.tag == check_tag(tag))
        .order_by(person_tags.c.platform, person_tags.c.account_id)
    )
    return [AccountRef(p, i) for p, i in rows]


# --- exchanges --------------------------------------------------------------------------


def _selves(connection: sa.Connection) -> dict[str, str]:
    return {
        row.platform: row.id
        for row in connection.execute(
            sa.select(accounts.c.platform, accounts.c.id).where(accounts.c.is_self)
        )
    }


@dataclass(frozen=True, slots=True)
class Exchange:
    """One reply, mention or quote between the user and an account: ``direction`` is
    ``given`` (by the user) or ``received``; ``post`` the platform id of the post that
    carries it; ``text`` its plain text when the store has it."""

    account: str
    direction: str
    kind: str
    at: datetime | None
    post: str | None
    text: str | None

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` shape."""
        return {
            "account": self.account,
            "direction": self.direction,
            "kind": self.kind,
            "at": self.at.isoformat() if self.at else None,
            "post": self.post,
            "text": self.text,
        }


def _between(platform: str, me: str, other: str, given: bool) -> sa.ColumnElement[bool]:
    # One direction at a time, each on the index of the other person's side: given on
    # (platform, target_account_id, ...), received on (platform, actor_id, ...); an OR of
    # both would scan. The user's own side is compared as ``column || ''`` so SQLite never
    # picks the user's index instead (a million rows on a busy account, where the other
    # person's holds a handful); PostgreSQL plans from its own statistics either way.
    if given:
        mine = interactions.c.actor_id.concat("") == me
        theirs = interactions.c.target_account_id == other
    else:
        mine = interactions.c.target_account_id.concat("") == me
        theirs = interactions.c.actor_id == other
    return (interactions.c.platform == platform) & theirs & mine & interactions.c.kind.in_(EXCHANGE)


def _holds_any(connection: sa.Connection, platform: str, me: str, given: bool) -> bool:
    """Does the store hold any exchange of the user's on ``platform`` that way, with
    anyone? An archive holds only the user's side: nothing received at all means the
    store cannot tell, not that nobody answered."""
    if given:
        mine = (interactions.c.actor_id == me) & (interactions.c.target_account_id.concat("") != me)
    else:
        mine = (interactions.c.target_account_id == me) & (interactions.c.actor_id.concat("") != me)
    query = sa.select(sa.literal(1)).where(
        (interactions.c.platform == platform) & mine & interactions.c.kind.in_(EXCHANGE)
    )
    return connection.execute(query.limit(1)).first() is not None


def exchanges(
    connection: sa.Connection, refs: Sequence[AccountRef], limit: int = 5
) -> dict[str, list[Exchange] | None] | None:
    """The latest ``limit`` exchanges each way (``given``, ``received``) between the user
    and these accounts, newest first. ``None`` when the store holds no account of the user
    on any of their platforms; a way is ``None`` when the store holds no exchange that way
    with anyone on those platforms (an archive holds only the user's side): then nothing
    can be said, which is not "never"."""
    selves = _selves(connection)
    found: dict[str, list[Exchange]] = {"given": [], "received": []}
    held = {"given": False, "received": False}
    known = False
    for ref in refs:
        me = selves.get(ref.platform)
        if me is None:
            continue
        known = True
        for direction in found:
            held[direction] = held[direction] or _holds_any(
                connection, ref.platform, me, direction == "given"
            )
            rows = connection.execute(
                sa.select(
                    interactions.c.kind,
                    interactions.c.created_at,
                    interactions.c.via_post_id,
                    posts.c.text,
                )
                .select_from(
                    interactions.outerjoin(
                        posts,
                        (posts.c.platform == interactions.c.platform)
                        & (posts.c.id == interactions.c.via_post_id),
                    )
                )
                .where(_between(ref.platform, me, ref.id, direction == "given"))
                .order_by(interactions.c.created_at.desc(), interactions.c.kind.desc())
                # A reply that also names the person is a reply and a mention: one exchange.
                .limit(limit * len(EXCHANGE))
            )
            shown: set[str] = set()
            for kind, at, post, text in rows:
                if post is not None and post in shown:
                    continue
                shown.add(post)
                found[direction].append(Exchange(ref.key, direction, kind, at, post, text or None))
    if not known:
        return None
    result: dict[str, list[Exchange] | None] = {}
    for direction, items in found.items():
        items.sort(key=lambda e: e.at.timestamp() if e.at else float("-inf"), reverse=True)
        result[direction] = items[:limit] if held[direction] or items else None
    return result


def last_exchange(
    connection: sa.Connection,
    refs: Sequence[AccountRef],
    as_of: datetime | None = None,
    selves: dict[str, str] | None = None,
) -> datetime | None:
    """When the user and these accounts last exchanged a word, either way (at or before
    ``as_of`` when given); ``None`` when the store shows none. ``selves`` (the user's
    account per platform) saves reading them again when asking about many people."""
    selves = _selves(connection) if selves is None else selves
    latest: datetime | None = None
    for ref in refs:
        me = selves.get(ref.platform)
        if me is None:
            continue
        for given in (True, False):
            query = sa.select(sa.func.max(interactions.c.created_at)).where(
                _between(ref.platform, me, ref.id, given)
            )
            if as_of is not None:
                query = query.where(interactions.c.created_at <= as_of)
            # An aggregate loses the column type (SQLite hands back text, PostgreSQL a
            # naive time): read it back as the column would.
            raw = connection.execute(query).scalar_one_or_none()
            value = _UTC.process_result_value(raw, connection.dialect)
            if value is not None and (latest is None or value > latest):
                latest = value
    return latest


# --- cadences ---------------------------------------------------------------------------


def set_cadence(connection: sa.Connection, ref: AccountRef, days: int | None, at: datetime) -> None:
    """Reconnect with ``ref`` every ``days`` days; ``None`` clears its cadence."""
    connection.execute(
        sa.delete(person_cadences).where(
            (person_cadences.c.platform == ref.platform) & (person_cadences.c.account_id == ref.id)
        )
    )
    if days is not None:
        connection.execute(
            sa.insert(person_cadences).values(
                platform=ref.platform, account_id=ref.id, days=days, set_at=at
            )
        )


def cadence_for(connection: sa.Connection, refs: AccountRef | Sequence[AccountRef]) -> int | None:
    """The cadence in days of an account (for a person, the shortest of its accounts');
    ``None`` when none is set."""
    chosen = [refs] if isinstance(refs, AccountRef) else list(refs)
    return connection.execute(
        sa.select(sa.func.min(person_cadences.c.days)).where(_of(person_cadences, chosen))
    ).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class Cadence:
    """A reconnect cadence and where it stands: the ``account`` it was set on (its
    ``platform:id`` key), its ``handle``, the ``person`` it is linked to (if any),
    ``cadence_days``, the ``last_exchange`` either way with any of the person's accounts
    (``None``: the store shows none), ``due_at`` (``last_exchange + cadence``; ``None``
    when no exchange is known, so it is due now) and whether it is ``due`` at the moment
    asked."""

    account: str
    handle: str | None
    person: str | None
    cadence_days: int
    last_exchange: datetime | None
    due_at: datetime | None
    due: bool

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` shape."""
        return {
            "account": self.account,
            "handle": self.handle,
            "person": self.person,
            "cadence_days": self.cadence_days,
            "last_exchange": self.last_exchange.isoformat() if self.last_exchange else None,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "due": self.due,
        }


def cadence_state(
    connection: sa.Connection,
    ref: AccountRef,
    days: int,
    as_of: datetime,
    selves: dict[str, str] | None = None,
) -> Cadence:
    """Where the cadence ``days`` set on ``ref`` stands at ``as_of``."""
    person, refs = person_of(connection, ref)
    last = last_exchange(connection, refs, as_of, selves)
    due_at = last + timedelta(days=days) if last is not None else None
    handle = connection.execute(
        sa.select(accounts.c.handle).where(
            (accounts.c.platform == ref.platform) & (accounts.c.id == ref.id)
        )
    ).scalar_one_or_none()
    return Cadence(ref.key, handle, person, days, last, due_at, due_at is None or due_at <= as_of)


def cadences(connection: sa.Connection, as_of: datetime) -> list[Cadence]:
    """Every cadence the user set, where it stands at ``as_of``; most overdue first (no
    exchange known counts as most overdue), then by account."""
    rows = connection.execute(
        sa.select(
            person_cadences.c.platform, person_cadences.c.account_id, person_cadences.c.days
        ).order_by(person_cadences.c.days, person_cadences.c.platform, person_cadences.c.account_id)
    ).all()
    found: list[Cadence] = []
    people: set[str] = set()
    selves = _selves(connection) if rows else {}
    for platform, account_id, days in rows:
        state = cadence_state(connection, AccountRef(platform, account_id), days, as_of, selves)
        # Cadences on two linked accounts are one person's: the shortest stands.
        if state.person is not None:
            if state.person in people:
                continue
            people.add(state.person)
        found.append(state)
    found.sort(key=lambda c: (c.due_at.timestamp() if c.due_at else float("-inf"), c.account))
    return found


def cadence_due(connection: sa.Connection, as_of: datetime) -> list[Cadence]:
    """The cadences due at ``as_of`` (``today``'s reconnect actions): each with
    ``account``, ``last_exchange`` and ``cadence_days``, most overdue first. Two indexed
    look-ups per account; cadences are set by hand, so they are few."""
    return [c for c in cadences(connection, as_of) if c.due]
