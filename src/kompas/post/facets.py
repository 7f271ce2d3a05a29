"""Bluesky rich text: the links, mentions and hashtags of a post as ``app.bsky.richtext.facet``
records, whose ranges are UTF-8 byte offsets into the text.

A Bluesky post is plain text; without facets a link is not clickable, a mention notifies no
one and a hashtag is not searchable. Detection is Bluesky's own (``detectFacets`` of
``@atproto/api``, ``packages/api/src/rich-text/detection.ts``), as the atproto SDK ports it
(``atproto.client_utils.detect_facets`` for links, ``#tags`` and ``$cashtags``,
``detect_mentions`` for ``@handles``, atproto 0.0.73 and later): a bare ``example.org`` is
a link when its TLD is real, trailing punctuation stays out of links and tags, a mention
needs a handle whose TLD is real (or ``.test``). A mention becomes a facet only once its
handle resolves to a DID (the caller's ``resolve``, through the user's session); one that
does not resolve stays plain text, as in Bluesky's own app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from atproto import client_utils, models

Facet = dict[str, Any]

LINK = "app.bsky.richtext.facet#link"
MENTION = "app.bsky.richtext.facet#mention"
TAG = "app.bsky.richtext.facet#tag"


def _feature(feature: Any) -> dict[str, str]:
    if isinstance(feature, models.AppBskyRichtextFacet.Link):
        return {"$type": LINK, "uri": feature.uri}
    if isinstance(feature, models.AppBskyRichtextFacet.Tag):
        return {"$type": TAG, "tag": feature.tag}
    raise TypeError(f"unexpected facet feature {type(feature).__name__}")


def _facet(start: int, end: int, feature: dict[str, str]) -> Facet:
    return {"index": {"byteStart": start, "byteEnd": end}, "features": [feature]}


def handles(text: str) -> list[str]:
    """The handles ``text`` mentions (without ``@``), in order, each once: what
    :func:`facets` will ask ``resolve`` about."""
    return list(dict.fromkeys(m.handle.lower() for m in client_utils.detect_mentions(text)))


def facets(text: str, resolve: Callable[[str], str | None]) -> list[Facet]:
    """The facets of ``text`` as lexicon JSON, ordered by where they start.

    ``resolve`` maps a handle (lower case, without ``@``) to its DID, or ``None`` when it
    names no account; it is called once per distinct handle.
    """
    found: list[Facet] = []
    for detected in client_utils.detect_facets(text):
        index = detected.index
        for feature in detected.features:
            found.append(_facet(index.byte_start, index.byte_end, _feature(feature)))
    dids: dict[str, str | None] = {}
    for mention in client_utils.detect_mentions(text):
        handle = mention.handle.lower()
        if handle not in dids:
            dids[handle] = resolve(handle)
        did = dids[handle]
        if did:
            feature = {"$type": MENTION, "did": did}
            found.append(_facet(mention.byte_start, mention.byte_end, feature))
    found.sort(key=lambda f: (f["index"]["byteStart"], f["index"]["byteEnd"]))
    return found


def facet_text(text: str, facet: Facet) -> str:
    """The part of ``text`` a facet covers (its byte range, decoded): for tests and messages."""
    raw = text.encode("utf-8")
    return raw[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode("utf-8")
