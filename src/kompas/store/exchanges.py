"""The user's exchanges, derived once from posts and interactions and kept in the store, so
that the community figures of any period are a few grouped queries over small tables.

What is derived (see :mod:`kompas.store.exchange_build`):

- ``exchange_own``: one row per post of the user, with what the figures read off it (its
  kind in the mix, whom it shares, whether it answers someone else, its thread), and
  ``exchange_own_links`` the links of those whose kind depends on whose links they are;
- ``exchange_contacts``: one row per exchange between the user and someone else, both
  ways, keyed by *person*;
- ``exchange_threads``: per thread, whether the user started it, took part in it, and
  whether someone else did;
- ``exchange_weeks`` and ``exchange_own_weeks``: the two above added up per person (or
  kind of post) and week, which answer every week a period covers whole, and
  ``exchange_days``, ``exchange_own_days`` the same per day, for the whole days of the
  weeks a period's bound cuts, and ``exchange_totals``, ``exchange_own_totals`` over the
  whole history (dated and undated apart), for the all-time figures;
- ``exchange_people``: per person and account, the first exchange (and the first from the
  other side) and whether undated ones exist, what a period's figures read of the past;
- ``exchange_spans``: per platform, the first and last dated activity.

They are rebuilt whenever they are stale: ``exchange_state`` holds a data version that
every write of posts or interactions raises (:func:`bump`, inside the import's own
transaction, so a failed import leaves both the rows and the version as they were), and
the stamp of what the derived tables were built from (that version, the user's accounts,
the identity links, the derivation's own version). A request whose own accounts differ
from the whole store's (one platform asked for, where an account on it is linked to the
user's person on another) derives its own temporary tables instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from kompas.store.schema import UTCDateTime, accounts, metadata

#: Raise when what the derived tables hold, or how, changes: stores rebuild them.
DERIVATION = 2
#: The half-life (days) whose decay the weekly summary carries; other half-lives read rows.
SUMMARY_HALF_LIFE_DAYS = 30.0
#: Week numbers count from Monday 1900-01-01 00:00 UTC (epoch seconds), so they are
#: positive for any plausible date.
MONDAY = -2208988800.0
DAY_SECONDS = 86400
WEEK_SECONDS = 7 * DAY_SECONDS

_S = sa.String(512)
_PERSON = sa.String(1040)


@dataclass(frozen=True, slots=True)
class Derived:
    """One set of derived tables: the store's own, or a request's temporary ones."""

    own: sa.Table
    own_links: sa.Table
    contacts: sa.Table
    threads: sa.Table
    weeks: sa.Table
    own_weeks: sa.Table
    days: sa.Table
    own_days: sa.Table
    totals: sa.Table
    own_totals: sa.Table
    people: sa.Table
    spans: sa.Table
    persisted: bool

    @property
    def tables(self) -> tuple[sa.Table, ...]:
        """Every table, in the order they are filled."""
        return (
            self.own,
            self.own_links,
            self.contacts,
            self.threads,
            self.weeks,
            self.own_weeks,
            self.days,
            self.own_days,
            self.totals,
            self.own_totals,
            self.people,
            self.spans,
        )


def _contact_sums(unit: str) -> list[sa.Column[Any]]:
    """The exchanges added up per person, account, way, kind and ``unit`` (week or day;
    ``dated``: 1 for all the dated ones, whose ``at`` is then the last moment)."""
    return [
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("person", _PERSON),
        sa.Column("account", _S),
        sa.Column("given", sa.Boolean, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        #: the week or day (counted from MONDAY), its first moment; null when undated
        sa.Column(unit, sa.Integer),
        sa.Column("at", UTCDateTime),
        sa.Column("at_s", sa.Float),
        sa.Column("exchanges", sa.Integer, nullable=False),
        sa.Column("first_at", UTCDateTime),
        sa.Column("last_at", UTCDateTime),
        #: sum of each exchange's decay (SUMMARY_HALF_LIFE_DAYS) from ``at``
        sa.Column("decayed", sa.Float, nullable=False),
    ]


def _own_sums(unit: str) -> list[sa.Column[Any]]:
    """The user's posts added up per ``unit``, kind, place in the mix, shared person and
    answered account."""
    return [
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column(unit, sa.Integer),
        sa.Column("at", UTCDateTime),
        sa.Column("at_s", sa.Float),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("base", sa.String(16), nullable=False),
        sa.Column("answers_other", sa.Boolean, nullable=False),
        sa.Column("shared_person", _PERSON),
        #: whom the posts answer (only for answers to someone else)
        sa.Column("replied", _S),
        sa.Column("posts", sa.Integer, nullable=False),
        sa.Column("replies_known", sa.Integer, nullable=False),
        sa.Column("replies", sa.Integer),
        sa.Column("amplification_known", sa.Integer, nullable=False),
        sa.Column("amplification", sa.Integer),
        sa.Column("likes_known", sa.Integer, nullable=False),
        sa.Column("likes", sa.Integer),
    ]


def _derived(meta: sa.MetaData, prefix: str, temporary: bool) -> Derived:
    extra: dict[str, Any] = {"prefixes": ["TEMPORARY"]} if temporary else {}

    def table(name: str, *columns: Any) -> sa.Table:
        return sa.Table(f"{prefix}{name}", meta, *columns, **extra)

    def index(name: str, *columns: str) -> sa.Index:
        return sa.Index(f"ix_{prefix}{name}_{'_'.join(columns)}", *columns)

    return Derived(
        own=table(
            "own",
            sa.Column("platform", sa.String(16), primary_key=True),
            sa.Column("id", _S, primary_key=True),
            sa.Column("at", UTCDateTime),
            sa.Column("at_s", sa.Float),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("reply_to_id", _S),
            sa.Column("reply_to_author_id", _S),
            sa.Column("answers_other", sa.Boolean, nullable=False),
            #: conversation, sharing, broadcast (a repost or quote of the user's own),
            #: links (decided per request by whose links they are) or other
            sa.Column("base", sa.String(16), nullable=False),
            sa.Column("shared_person", _PERSON),
            sa.Column("reply_count", sa.Integer),
            sa.Column("amplification", sa.Integer),
            sa.Column("like_count", sa.Integer),
            sa.Column("thread", sa.Text),
            index("own", "platform", "at"),
        ),
        own_links=table(
            "own_links",
            sa.Column("platform", sa.String(16), primary_key=True),
            sa.Column("id", _S, primary_key=True),
            sa.Column("position", sa.Integer, primary_key=True),
            sa.Column("url", sa.Text, nullable=False),
        ),
        contacts=table(
            "contacts",
            sa.Column("platform", sa.String(16), nullable=False),
            sa.Column("given", sa.Boolean, nullable=False),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("person", _PERSON),
            sa.Column("account", _S),
            sa.Column("at", UTCDateTime),
            sa.Column("at_s", sa.Float),
            sa.Column("via_post_id", _S),
            sa.Column("target_post_id", _S),
            index("contacts", "platform", "at"),
        ),
        threads=table(
            "threads",
            sa.Column("platform", sa.String(16), primary_key=True),
            sa.Column("thread", _PERSON, primary_key=True),
            sa.Column("root_own", sa.Boolean, nullable=False),
            sa.Column("with_others", sa.Boolean, nullable=False),
            #: the user posted in it (a post of theirs other than a repost)
            sa.Column("own", sa.Boolean, nullable=False),
        ),
        weeks=table("weeks", *_contact_sums("week"), index("weeks", "platform", "week")),
        own_weeks=table("own_weeks", *_own_sums("week"), index("own_weeks", "platform", "week")),
        days=table("days", *_contact_sums("day"), index("days", "platform", "day")),
        own_days=table("own_days", *_own_sums("day"), index("own_days", "platform", "day")),
        totals=table("totals", *_contact_sums("dated")),
        own_totals=table("own_totals", *_own_sums("dated")),
        people=table(
            "people",
            sa.Column("platform", sa.String(16), nullable=False),
            sa.Column("person", _PERSON, nullable=False),
            sa.Column("account", _S),
            #: the first dated exchange, and the first dated one the other side started
            sa.Column("first_at", UTCDateTime),
            sa.Column("first_received_at", UTCDateTime),
            #: whether there are undated exchanges, and undated ones from the other side
            sa.Column("undated", sa.Boolean, nullable=False),
            sa.Column("undated_received", sa.Boolean, nullable=False),
            index("people", "person"),
        ),
        spans=table(
            "spans",
            sa.Column("platform", sa.String(16), primary_key=True),
            sa.Column("first_at", UTCDateTime),
            sa.Column("last_at", UTCDateTime),
            #: whether the data holds what others did to the user
            sa.Column("received", sa.Boolean, nullable=False),
        ),
        persisted=not temporary,
    )


STORED = _derived(metadata, "exchange_", temporary=False)
exchange_state = sa.Table(
    "exchange_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    #: raised by every write of posts, interactions or accounts
    sa.Column("data_version", sa.Integer, nullable=False),
    #: the stamp of what the derived tables were built from (null: never built)
    sa.Column("derived", sa.Text),
)
_STATE_ROW = 1


def temporary() -> Derived:
    """A fresh set of temporary derived tables (their own metadata, so each request may
    create them)."""
    return _derived(sa.MetaData(), "kompas_", temporary=True)


def bump(connection: sa.Connection) -> None:
    """Note that posts, interactions or accounts changed, inside the writer's transaction:
    the derived tables are stale from its commit on (and not if it rolls back)."""
    s = exchange_state.c
    done = connection.execute(
        sa.update(exchange_state).where(s.id == _STATE_ROW).values(data_version=s.data_version + 1)
    )
    if not done.rowcount:
        connection.execute(sa.insert(exchange_state).values(id=_STATE_ROW, data_version=1))


def self_rows(
    selves: Iterable[tuple[str, str]], persons: dict[tuple[str, str], str]
) -> dict[tuple[str, str], bool]:
    """The accounts that are the user: their own (strict), and every account whose person
    is one of theirs."""
    strict = set(selves)
    mine = {persons.get(pair) or f"{pair[0]}:{pair[1]}" for pair in strict}
    rows = {pair: True for pair in strict}
    for pair, person in persons.items():
        if person in mine:
            rows.setdefault(pair, False)
    for person in mine:  # an unlinked account whose own key names the user's person
        platform, _, account = person.partition(":")
        if account and (platform, account) not in persons:
            rows.setdefault((platform, account), False)
    return rows


def every_self(connection: sa.Connection) -> list[tuple[str, str]]:
    """The user's own accounts on every platform."""
    return [
        (row[0], row[1])
        for row in connection.execute(
            sa.select(accounts.c.platform, accounts.c.id).where(accounts.c.is_self)
        )
    ]


def stamp(
    data_version: int, selves: dict[tuple[str, str], bool], persons: dict[tuple[str, str], str]
) -> str:
    """What a build depends on, as one string."""
    text = json.dumps(
        [
            DERIVATION,
            data_version,
            sorted([p, a, s] for (p, a), s in selves.items()),
            sorted([p, a, n] for (p, a), n in persons.items()),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def state(connection: sa.Connection) -> tuple[int, str | None]:
    """The data version and the stamp of the stored derived tables."""
    row = connection.execute(
        sa.select(exchange_state.c.data_version, exchange_state.c.derived).where(
            exchange_state.c.id == _STATE_ROW
        )
    ).first()
    return (0, None) if row is None else (int(row[0]), row[1])


def serves(
    platforms: Sequence[str],
    wanted: dict[tuple[str, str], bool],
    stored: dict[tuple[str, str], bool],
) -> bool:
    """Whether tables derived for the ``stored`` accounts give a request for
    ``platforms`` with its own ``wanted`` accounts the same rows: every derived row
    belongs to one platform and depends only on that platform's accounts."""
    scope = set(platforms)
    return {k: v for k, v in wanted.items() if k[0] in scope} == {
        k: v for k, v in stored.items() if k[0] in scope
    }


def mark_built(connection: sa.Connection, built: str) -> None:
    """Record the stamp the derived tables were just built from."""
    connection.execute(
        sa.update(exchange_state).where(exchange_state.c.id == _STATE_ROW).values(derived=built)
    )


def lock(connection: sa.Connection) -> None:
    """Take the write lock of the state row first (SQLite: the database's), so two
    processes never build at once; the second then finds the tables fresh."""
    s = exchange_state.c
    done = connection.execute(
        sa.update(exchange_state).where(s.id == _STATE_ROW).values(data_version=s.data_version)
    )
    if not done.rowcount:
        connection.execute(sa.insert(exchange_state).values(id=_STATE_ROW, data_version=0))
