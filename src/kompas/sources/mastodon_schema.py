"""The records of a Mastodon archive as kompas reads them (ActivityPub, as Mastodon writes
it): msgspec structs that check each value's type before it becomes a record. Keys kompas
does not read are skipped; one it reads with the wrong type stops the import, naming the
record and the field."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct, field

Text = Annotated[str, Meta(max_length=1_000_000)]
Short = Annotated[str, Meta(max_length=10_000)]


class Ref(Struct):
    """An object given by reference with its id (``{"id": "https://..."}``)."""

    id: Short | None = None


class Tag(Struct):
    """A mention, hashtag or emoji of a note."""

    type: Short | None = None
    href: Short | None = None
    name: Short | None = None


class Note(Struct):
    """The post a ``Create`` activity carries."""

    id: Short | None = None
    published: Short | None = None
    content: Text | None = None
    summary: Text | None = None
    url: Short | None = None
    conversation: Short | None = None
    inReplyTo: Short | Ref | None = None
    quote: Short | Ref | None = None
    quoteUri: Short | Ref | None = None
    quoteUrl: Short | Ref | None = None
    contentMap: dict[Short, Text] | None = None
    tag: list[Tag] | Tag | None = None


class Activity(Struct):
    """One element of ``outbox.json``'s ``orderedItems``."""

    type: Short | None = None
    id: Short | None = None
    published: Short | None = None
    object: Short | Note | None = field(default=None)


class Actor(Struct):
    """The user, from ``actor.json``."""

    id: Short
    type: Short | None = None
    preferredUsername: Short | None = None
    name: Short | None = None
    summary: Text | None = None
    url: Short | None = None
    published: Short | None = None
