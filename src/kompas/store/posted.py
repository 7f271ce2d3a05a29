"""What posting needs from the store: the post a reply answers, as kompas knows it (its
platform id, its author's handle), and whether the user's reply to a post is stored."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from kompas.store.schema import accounts, posts


@dataclass(frozen=True, slots=True)
class KnownPost:
    """A post in the store, named by its platform id (a status URI, an at-uri)."""

    id: str
    url: str | None
    author_id: str
    author_handle: str | None


def known_post(connection: sa.Connection, platform: str, ref: str) -> KnownPost | None:
    """The post of ``platform`` whose id or URL is ``ref`` (``None``: kompas does not know
    it). The id is a key lookup; a URL is looked for only when no id matches."""
    query = (
        sa.select(posts.c.id, posts.c.url, posts.c.author_id, accounts.c.handle)
        .select_from(
            posts.outerjoin(
                accounts,
                (accounts.c.platform == posts.c.platform) & (accounts.c.id == posts.c.author_id),
            )
        )
        .where(posts.c.platform == platform)
    )
    row = connection.execute(query.where(posts.c.id == ref)).first()
    if row is None:
        row = connection.execute(query.where(posts.c.url == ref).limit(1)).first()
    if row is None:
        return None
    return KnownPost(row.id, row.url, row.author_id, row.handle)


def replied_by(connection: sa.Connection, platform: str, post: str, authors: list[str]) -> bool:
    """Whether the store holds a reply to ``post`` by one of ``authors`` (the user's own
    accounts): what makes an inbox item answered."""
    if not authors:
        return False
    found = connection.execute(
        sa.select(posts.c.id)
        .where(
            (posts.c.platform == platform)
            & (posts.c.reply_to_id == post)
            & posts.c.author_id.in_(authors)
        )
        .limit(1)
    ).first()
    return found is not None
