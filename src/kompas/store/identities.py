"""Cross-platform identity: the user declares that accounts on several platforms are the
same person, and every merged figure then counts that person once."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from kompas.errors import KompasError
from kompas.i18n import message
from kompas.model import Platform
from kompas.store.schema import accounts, identity_links


class UnknownAccount(KompasError):
    """An account reference that matches nothing in the store."""


@dataclass(frozen=True, slots=True)
class AccountRef:
    """An account the store knows: its platform and the platform's own id."""

    platform: str
    id: str

    @property
    def key(self) -> str:
        """The account's person key when it is linked to nobody: ``platform:id``."""
        return f"{self.platform}:{self.id}"


def resolve(connection: sa.Connection, reference: str) -> AccountRef:
    """``platform:id-or-handle`` (e.g. ``x:milahu104``, ``mastodon:@me@example.social``)
    → the stored account; raises :class:`UnknownAccount` with what was tried."""
    platform, _, ident = reference.partition(":")
    if platform not in {p.value for p in Platform} or not ident:
        raise UnknownAccount(
            message(
                "errors.not_an_account",
                reference=repr(reference),
                platforms=", ".join(p.value for p in Platform),
            )
        )
    bare = ident.lstrip("@").lower()
    row = connection.execute(
        sa.select(accounts.c.id)
        .where(accounts.c.platform == platform)
        .where(sa.or_(accounts.c.id == ident, sa.func.lower(accounts.c.handle) == bare))
        .limit(1)
    ).first()
    if row is None:
        raise UnknownAccount(
            message("errors.unknown_account", platform=platform, account=repr(ident))
        )
    return AccountRef(platform, row.id)


def link(connection: sa.Connection, refs: list[AccountRef], person: str | None = None) -> str:
    """Declare ``refs`` one person (named ``person``, or after the first account); returns
    the person's name. Linking an account again moves it to the new person."""
    if not refs:
        raise UnknownAccount(message("errors.nothing_to_link"))
    name = person or refs[0].key
    for ref in refs:
        connection.execute(
            sa.delete(identity_links).where(
                (identity_links.c.platform == ref.platform)
                & (identity_links.c.account_id == ref.id)
            )
        )
        connection.execute(
            sa.insert(identity_links).values(platform=ref.platform, account_id=ref.id, person=name)
        )
    return name


def unlink(connection: sa.Connection, ref: AccountRef) -> bool:
    """Forget ``ref``'s link; returns whether there was one."""
    result = connection.execute(
        sa.delete(identity_links).where(
            (identity_links.c.platform == ref.platform) & (identity_links.c.account_id == ref.id)
        )
    )
    return bool(result.rowcount)


def people(connection: sa.Connection) -> dict[str, list[AccountRef]]:
    """Every declared person with their accounts."""
    found: dict[str, list[AccountRef]] = {}
    rows = connection.execute(
        sa.select(identity_links).order_by(identity_links.c.person, identity_links.c.platform)
    )
    for row in rows:
        found.setdefault(row.person, []).append(AccountRef(row.platform, row.account_id))
    return found


def person_keys(connection: sa.Connection) -> dict[tuple[str, str], str]:
    """``(platform, account_id) → person`` for every linked account. An account that is not
    linked is its own person, keyed ``platform:id`` (see :attr:`AccountRef.key`)."""
    return {
        (row.platform, row.account_id): row.person
        for row in connection.execute(sa.select(identity_links))
    }
