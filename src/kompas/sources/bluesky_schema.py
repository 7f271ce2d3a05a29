"""The records of a Bluesky repository as kompas reads them (the app.bsky lexicons):
msgspec structs that check each value's type before it becomes a record. Fields kompas
does not read (blobs, images) are skipped; one it reads with the wrong type stops the
import, naming the record and the field."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct, field

Text = Annotated[str, Meta(max_length=1_000_000)]
Short = Annotated[str, Meta(max_length=10_000)]


class Subject(Struct):
    """A strong reference to another record."""

    uri: Short | None = None


class Feature(Struct):
    """One feature of a rich-text facet: a mention, a link or a tag."""

    type: Short | None = field(default=None, name="$type")
    did: Short | None = None
    uri: Short | None = None
    tag: Short | None = None


class Facet(Struct):
    """A rich-text facet of a post."""

    features: list[Feature] = field(default_factory=list)


class Quoted(Struct):
    """The record a ``recordWithMedia`` embed quotes."""

    record: Subject | None = None
    uri: Short | None = None


class External(Struct):
    """A link card."""

    uri: Short | None = None


class Embed(Struct):
    """What a post embeds: a quoted record, a link card, media."""

    type: Short | None = field(default=None, name="$type")
    record: Quoted | None = None
    external: External | None = None


class Reply(Struct):
    """A post's place in a thread."""

    parent: Subject | None = None
    root: Subject | None = None


class Post(Struct):
    """``app.bsky.feed.post``."""

    text: Text = ""
    createdAt: Short | None = None
    langs: list[Short] = field(default_factory=list)
    facets: list[Facet] = field(default_factory=list)
    embed: Embed | None = None
    reply: Reply | None = None


class Repost(Struct):
    """``app.bsky.feed.repost`` and ``app.bsky.feed.like``."""

    subject: Subject | None = None
    createdAt: Short | None = None


class Follow(Struct):
    """``app.bsky.graph.follow``."""

    subject: Short | None = None
    createdAt: Short | None = None


class Label(Struct):
    """A self-label."""

    val: Short | None = None


class Labels(Struct):
    """A record's self-labels."""

    values: list[Label] = field(default_factory=list)


class Profile(Struct):
    """``app.bsky.actor.profile``."""

    displayName: Short | None = None
    description: Text | None = None
    createdAt: Short | None = None
    labels: Labels | None = None


#: The struct that checks each collection kompas reads.
SCHEMAS: dict[str, type[Struct]] = {
    "app.bsky.feed.post": Post,
    "app.bsky.feed.repost": Repost,
    "app.bsky.feed.like": Repost,
    "app.bsky.graph.follow": Follow,
    "app.bsky.actor.profile": Profile,
}
