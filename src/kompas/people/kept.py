"""One person as the user keeps them: every linked account, the last exchanges both ways,
the user's notes and tags, the reconnect cadence and when it is due, and the research
verdict — what ``kompas people show`` prints and the dashboard's person page draws.

The figures come from :mod:`kompas.store.keep` and the verdict from
:func:`kompas.people.stored.research_account`, so the page and ``people research`` never
disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from kompas.people import authenticity
from kompas.people.stored import research_account
from kompas.people.verdict import Research
from kompas.store import keep
from kompas.store import people as store
from kompas.store.identities import AccountRef


@dataclass(frozen=True, slots=True)
class LinkedAccount:
    """One account of the person, as the store knows it."""

    account: str
    platform: str
    id: str
    handle: str | None
    display_name: str | None

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` shape."""
        return {
            "account": self.account,
            "platform": self.platform,
            "id": self.id,
            "handle": self.handle,
            "display_name": self.display_name,
        }


@dataclass(frozen=True)
class PersonView:
    """Everything kompas keeps on one person.

    ``exchanges`` is ``None`` when the store holds none of the user's own accounts on the
    person's platforms, and one way (``given``, ``received``) is ``None`` when the store
    holds no exchange that way with anyone there (an archive holds only the user's side):
    then whether they talked is unknown, not "never".
    ``cadence`` is ``None`` when the user set none.
    """

    account: LinkedAccount
    person: str | None
    accounts: list[LinkedAccount]
    exchanges: dict[str, list[keep.Exchange] | None] | None
    last_exchange: datetime | None
    notes: list[keep.Note]
    tags: list[str]
    cadence: keep.Cadence | None
    research: Research

    def as_json(self, lang: str = "en") -> dict[str, Any]:
        """The ``kompas people show --json`` shape (``research`` as ``people research
        --json`` prints it)."""
        exchanges = (
            None
            if self.exchanges is None
            else {
                way: None if items is None else [e.as_json() for e in items]
                for way, items in self.exchanges.items()
            }
        )
        return {
            "account": self.account.account,
            "handle": self.account.handle,
            "display_name": self.account.display_name,
            "person": self.person,
            "accounts": [a.as_json() for a in self.accounts],
            "exchanges": exchanges,
            "last_exchange": self.last_exchange.isoformat() if self.last_exchange else None,
            "notes": [n.as_json() for n in self.notes],
            "tags": list(self.tags),
            "cadence": self.cadence.as_json() if self.cadence else None,
            "research": self.research.as_json(lang),
        }


def _linked(connection: sa.Connection, ref: AccountRef) -> LinkedAccount:
    row = store.account(connection, ref.platform, ref.id)
    return LinkedAccount(
        ref.key,
        ref.platform,
        ref.id,
        row.handle if row else None,
        row.display_name if row else None,
    )


def show(
    connection: sa.Connection,
    ref: AccountRef,
    model: authenticity.Model,
    as_of: datetime,
    limit: int = 5,
) -> PersonView:
    """The person ``ref`` belongs to, seen from ``ref``: cadence due as of ``as_of``, the
    latest ``limit`` exchanges each way."""
    person, refs = keep.person_of(connection, ref)
    days = keep.cadence_for(connection, refs)
    cadence = None
    if days is not None:
        cadence = keep.cadence_state(connection, ref, days, as_of)
    found = research_account(connection, ref.platform, ref.id, model)
    if found is None:  # the caller resolved ref in the store
        raise LookupError(ref.key)
    return PersonView(
        account=_linked(connection, ref),
        person=person,
        accounts=[_linked(connection, r) for r in refs],
        exchanges=keep.exchanges(connection, refs, limit),
        last_exchange=keep.last_exchange(connection, refs),
        notes=keep.notes_for(connection, refs),
        tags=keep.tags_for(connection, refs),
        cadence=cadence,
        research=found,
    )
