"""Bluesky repository export (.car, from Settings → Export my data or
``com.atproto.sync.getRepo``), decoded with the atproto SDK's CAR/DAG-CBOR support.

The repository is a Merkle Search Tree whose keys are ``collection/rkey``; kompas walks
it from the signed commit and turns the records it knows (posts, reposts, likes, follows,
the profile) into model records. Records of other collections are ignored.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from atproto_core.car import CAR
from atproto_core.cid import CID

from kompas.errors import SourceError
from kompas.model import (
    Account,
    Follow,
    FollowList,
    Interaction,
    InteractionKind,
    Platform,
    Post,
    PostKind,
    Record,
)
from kompas.sources._json import describe
from kompas.sources._time import checked
from kompas.sources.archive import max_member_bytes
from kompas.sources.bluesky_schema import SCHEMAS

B = Platform.BLUESKY
_MENTION = "app.bsky.richtext.facet#mention"
_LINK = "app.bsky.richtext.facet#link"
_TAG = "app.bsky.richtext.facet#tag"


def _key(link: Any) -> str | None:
    """A CID link in whichever form the decoder gives it, as its string form."""
    if link is None:
        return None
    if isinstance(link, CID):
        return str(link.encode())
    if isinstance(link, bytes):
        return str(CID.from_decoded_bytes(link).encode())
    if isinstance(link, str):
        return link
    raise ValueError(f"not a CID link: {type(link).__name__}")


def did_of(at_uri: str | None) -> str | None:
    """The repository DID of an ``at://`` URI."""
    if not at_uri or not at_uri.startswith("at://"):
        return None
    return at_uri[5:].split("/", 1)[0] or None


def parse_time(value: Any) -> datetime | None:
    """An AT Protocol datetime as UTC (None when absent or unreadable)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    try:
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except OverflowError:
        return None


def walk_mst(blocks: dict[str, Any], root: str) -> Iterator[tuple[str, str]]:
    """``(key, record_cid)`` for every leaf of the tree, in key order.

    Iterative (a 5,000-deep chain is no problem for the stack), and each node is visited
    once: a tree that leads back to a node it has seen (a cycle) is refused.
    """
    seen: set[str] = set()
    stack: list[Iterator[tuple[str, str | None, str | None]]] = [iter([("node", root, None)])]
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            continue
        what, first, second = step
        if what == "leaf":
            assert first is not None and second is not None
            yield first, second
        elif first is not None:
            if first in seen:
                raise ValueError(f"tree node {first} is reached twice (a cycle)")
            seen.add(first)
            stack.append(_node_steps(blocks, first))


def _node_steps(blocks: dict[str, Any], cid: str) -> Iterator[tuple[str, str | None, str | None]]:
    """One node's steps in key order: its left subtree, then each entry and its subtree."""
    node = blocks.get(cid)
    if not isinstance(node, dict) or not isinstance(node.get("e"), list):
        raise ValueError(f"tree node {cid} is missing or malformed")
    yield "node", _key(node.get("l")), None
    previous = b""
    for entry in node["e"]:
        if not isinstance(entry, dict):
            raise ValueError(f"tree node {cid} has an entry that is not a map")
        suffix, prefix = entry.get("k"), entry.get("p")
        if not isinstance(suffix, bytes | str) or not isinstance(prefix, int):
            raise ValueError(f"tree node {cid} has an entry without a key")
        full = previous[:prefix] + (suffix if isinstance(suffix, bytes) else suffix.encode())
        previous = full
        value = _key(entry.get("v"))
        if value is None:
            raise ValueError(f"tree entry {full!r} has no value")
        yield "leaf", full.decode("utf-8", "replace"), value
        yield "node", _key(entry.get("t")), None


def record_to_records(did: str, key: str, record: dict[str, Any]) -> Iterator[Record]:
    """One repository record → model records."""
    collection, _, rkey = key.partition("/")
    uri = f"at://{did}/{key}"
    kind = record.get("$type") or collection
    created = parse_time(record.get("createdAt"))
    if kind == "app.bsky.actor.profile":
        yield Account(
            B,
            did,
            display_name=record.get("displayName") or None,
            bio=record.get("description") or None,
            url=f"https://bsky.app/profile/{did}",
            created_at=created,
            is_self=True,
            is_bot=_self_labelled_bot(record),
        )
    elif kind == "app.bsky.feed.post":
        yield from _post(did, uri, rkey, record, created)
    elif kind == "app.bsky.feed.repost":
        subject = (record.get("subject") or {}).get("uri")
        author = did_of(subject)
        yield Post(
            B,
            uri,
            did,
            created,
            PostKind.REPOST,
            url=None,
            repost_of_id=subject,
            repost_of_author_id=author,
        )
        yield Interaction(B, InteractionKind.REPOST, did, author, subject, uri, created)
    elif kind == "app.bsky.feed.like":
        subject = (record.get("subject") or {}).get("uri")
        yield Interaction(B, InteractionKind.LIKE, did, did_of(subject), subject, None, created)
    elif kind == "app.bsky.graph.follow":
        subject = record.get("subject")
        if isinstance(subject, str):
            yield Account(B, subject, url=f"https://bsky.app/profile/{subject}")
            yield Follow(B, did, subject, created)


def _self_labelled_bot(record: dict[str, Any]) -> bool | None:
    labels = record.get("labels")
    if not isinstance(labels, dict):
        return None
    values = {v.get("val") for v in labels.get("values") or [] if isinstance(v, dict)}
    return "bot" in values or None


def _post(
    did: str, uri: str, rkey: str, record: dict[str, Any], created: datetime | None
) -> Iterator[Record]:
    mentions: list[str] = []
    links: list[str] = []
    tags: list[str] = []
    for facet in record.get("facets") or []:
        for feature in facet.get("features") or []:
            kind = feature.get("$type")
            if kind == _MENTION and feature.get("did"):
                mentions.append(feature["did"])
            elif kind == _LINK and feature.get("uri"):
                links.append(feature["uri"])
            elif kind == _TAG and feature.get("tag"):
                tags.append(feature["tag"])
    embed = record.get("embed") or {}
    quoted = None
    if embed.get("$type") == "app.bsky.embed.record":
        quoted = (embed.get("record") or {}).get("uri")
    elif embed.get("$type") == "app.bsky.embed.recordWithMedia":
        quoted = ((embed.get("record") or {}).get("record") or {}).get("uri")
    elif embed.get("$type") == "app.bsky.embed.external":
        external = (embed.get("external") or {}).get("uri")
        if external:
            links.append(external)
    reply = record.get("reply") or {}
    parent = (reply.get("parent") or {}).get("uri")
    root = (reply.get("root") or {}).get("uri")
    parent_author = did_of(parent)
    kind = PostKind.REPLY if parent else PostKind.QUOTE if quoted else PostKind.POST
    langs = record.get("langs") or []
    yield Post(
        platform=B,
        id=uri,
        author_id=did,
        created_at=created,
        kind=kind,
        text=record.get("text") or "",
        language=langs[0] if langs else None,
        url=f"https://bsky.app/profile/{did}/post/{rkey}",
        reply_to_id=parent,
        reply_to_author_id=parent_author,
        quote_of_id=quoted,
        conversation_id=root or (uri if not parent else None),
        mentions=tuple(dict.fromkeys(mentions)),
        links=tuple(dict.fromkeys(links)),
        hashtags=tuple(dict.fromkeys(tags)),
    )
    if parent and parent_author != did:
        yield Interaction(B, InteractionKind.REPLY, did, parent_author, parent, uri, created)
    if quoted:
        yield Interaction(B, InteractionKind.QUOTE, did, did_of(quoted), quoted, uri, created)
    for mentioned in dict.fromkeys(mentions):
        if mentioned != did:
            yield Account(B, mentioned, url=f"https://bsky.app/profile/{mentioned}")
        if mentioned not in (did, parent_author):
            yield Interaction(B, InteractionKind.MENTION, did, mentioned, None, uri, created)


_TID = "234567abcdefghijklmnopqrstuvwxyz"


def tid_time(tid: str) -> datetime | None:
    """The time a TID (a repository revision, a record key) carries: its top 53 bits count
    microseconds since 1970. ``None`` when ``tid`` is not a TID."""
    if len(tid) != 13 or any(c not in _TID for c in tid):
        return None
    value = 0
    for char in tid:
        value = value * 32 + _TID.index(char)
    if value >> 63:
        return None
    return datetime.fromtimestamp((value >> 10) / 1_000_000, UTC)


def _validate(key: str, record: dict[str, Any]) -> None:
    """Check a record's types against its lexicon and its date's range (ValueError if not)."""
    kind = record.get("$type") or key.partition("/")[0]
    schema = SCHEMAS.get(kind) if isinstance(kind, str) else None
    if schema is None:
        return
    try:
        msgspec.convert(record, schema)
    except msgspec.ValidationError as exc:
        problem, _, field = describe(exc)
        raise ValueError(f"{problem} (field {field})" if field else problem) from None
    created = record.get("createdAt")
    if isinstance(created, str) and created:
        moment = parse_time(created)
        if moment is None:
            raise ValueError(f"createdAt {created[:40]!r} is not a date")
        checked(moment, "createdAt")


def parse_car(path: str) -> Iterator[Record]:
    """Every record of a repository CAR file; raises :class:`SourceError` on bad input."""
    file = Path(path)
    if not file.is_file():
        raise SourceError(path, "no such file", expected="a .car repository export")
    if file.stat().st_size > max_member_bytes():
        raise SourceError(path, "file too large", expected="a CAR under KOMPAS_MAX_MEMBER_BYTES")
    try:
        car = CAR.from_bytes(file.read_bytes())
    except Exception as exc:  # libipld raises plain ValueError/TypeError subclasses
        raise SourceError(
            path, f"not a readable CAR file ({exc})", expected="a CARv1 repository export"
        ) from exc
    blocks = {cid.encode(): block for cid, block in car.blocks.items()}
    commit = blocks.get(car.root.encode())
    if (
        not isinstance(commit, dict)
        or not isinstance(commit.get("did"), str)
        or "data" not in commit
    ):
        raise SourceError(
            path,
            "the root block is not a repository commit",
            location=f"block {car.root.encode()}",
            expected='a commit object with "did" and "data"',
        )
    did = commit["did"]
    yield Account(B, did, url=f"https://bsky.app/profile/{did}", is_self=True)
    try:
        leaves = list(walk_mst(blocks, _key(commit["data"]) or ""))  # _key may raise too
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(
            path, f"damaged repository tree ({exc})", expected="a complete repo export"
        ) from exc
    for key, cid in leaves:
        record = blocks.get(cid)
        if not isinstance(record, dict):
            raise SourceError(
                path,
                "record block missing",
                location=f"record {key}",
                expected="every record's block in the CAR",
            )
        try:
            _validate(key, record)
            yield from record_to_records(did, key, record)
        except (AttributeError, TypeError, ValueError) as exc:
            raise SourceError(
                path,
                f"unexpected record shape ({exc})",
                location=f"record {key}",
                expected="records following the app.bsky lexicons",
            ) from exc
    # The repository holds every follow record there is: the whole "following" list, as of
    # the commit's revision.
    taken_at = tid_time(str(commit.get("rev") or ""))
    if taken_at is not None:
        yield FollowList(B, did, "following", taken_at)
