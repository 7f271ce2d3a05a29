"""Mastodon account archive: the .tar.gz/.zip Mastodon delivers, or its folder.

``outbox.json`` (ActivityPub ``Create`` and ``Announce`` activities) is streamed with
ijson; ``actor.json`` is the user; ``likes.json`` and ``bookmarks.json`` list status
URLs; ``following_accounts.csv`` (Preferences → Import and export) lists who the user
follows. Accounts are identified by their ActivityPub actor URI.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec

from kompas.errors import SourceError
from kompas.model import (
    Account,
    Follow,
    Interaction,
    InteractionKind,
    Platform,
    Post,
    PostKind,
    Record,
)
from kompas.sources import mastodon_schema as ms
from kompas.sources._csv import iter_csv
from kompas.sources._js import iter_json_array
from kompas.sources._json import decode_small, describe
from kompas.sources._time import checked
from kompas.sources.archive import Export
from kompas.text import html_to_text

M = Platform.MASTODON
_STATUS = re.compile(r"^(?P<actor>https?://[^/]+/users/[^/]+)/statuses/[^/]+")
_PROFILE_URL = re.compile(r"^https?://(?P<host>[^/]+)/@(?P<user>[^/@]+)/\d+")


def parse_time(value: Any) -> datetime | None:
    """ActivityPub's ISO 8601 time as UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _time(value: str | None, field: str) -> datetime | None:
    """A checked ActivityPub time: readable, and between 1990 and tomorrow."""
    if not value:
        return None
    moment = parse_time(value)
    if moment is None:
        raise ValueError(f"{field} {value[:40]!r} is not a date")
    return checked(moment, field)


def author_of(status_url: str | None) -> str | None:
    """The actor URI of a status URI (``https://host/users/NAME/statuses/ID``), if it has one."""
    if not status_url:
        return None
    match = _STATUS.match(status_url)
    if match:
        return match.group("actor")
    match = _PROFILE_URL.match(status_url)
    if match:
        return f"https://{match.group('host')}/users/{match.group('user')}"
    return None


def actor_of_address(address: str) -> tuple[str, str]:
    """``user@host`` → (actor URI as Mastodon servers write it, the handle)."""
    handle = address.strip().lstrip("@")
    user, _, host = handle.partition("@")
    if not user or not host:
        raise ValueError(f"not an account address: {address!r}")
    return f"https://{host}/users/{user}", handle


def _object_id(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def boost_records(
    boost_id: str, author_id: str, target: str, target_author: str | None, created: datetime | None
) -> Iterator[Record]:
    """A boost (from the archive or the API): the repost and its interaction."""
    yield Post(
        platform=M,
        id=boost_id,
        author_id=author_id,
        created_at=created,
        kind=PostKind.REPOST,
        url=target,
        repost_of_id=target,
        repost_of_author_id=target_author,
    )
    yield Interaction(
        M, InteractionKind.REPOST, author_id, target_author, target, boost_id, created
    )


def activity_to_records(activity: dict[str, Any], self_id: str) -> Iterator[Record]:
    """One outbox activity → its :class:`Post` and the interactions it carries."""
    kind = activity.get("type")
    created = _time(activity.get("published"), "published")
    if kind == "Announce":
        target = _object_id(activity.get("object"))
        post_id = activity.get("id")
        if not post_id or not target:
            raise ValueError('an Announce needs "id" and "object"')
        yield from boost_records(post_id, self_id, target, author_of(target), created)
        return
    if kind != "Create":
        return
    note = activity.get("object")
    if not isinstance(note, dict) or not note.get("id"):
        raise ValueError('a Create needs an "object" with an "id"')
    post_id = str(note["id"])
    created = _time(note.get("published"), "object.published") or created
    content = note.get("content") or ""
    text, links = html_to_text(content)
    summary = note.get("summary")
    if summary:
        text = f"{summary}\n\n{text}"
    tags = note.get("tag") or []
    if isinstance(tags, dict):
        tags = [tags]
    mentions = tuple(
        t["href"]
        for t in tags
        if isinstance(t, dict) and t.get("type") == "Mention" and t.get("href")
    )
    hashtags = tuple(
        str(t["name"]).lstrip("#")
        for t in tags
        if isinstance(t, dict) and t.get("type") == "Hashtag" and t.get("name")
    )
    reply_to = _object_id(note.get("inReplyTo"))
    quote_of = next(
        (q for q in (_object_id(note.get(k)) for k in ("quote", "quoteUri", "quoteUrl")) if q),
        None,
    )
    reply_to_author = author_of(reply_to)
    content_map = note.get("contentMap")
    language = next(iter(content_map), None) if isinstance(content_map, dict) else None
    post_kind = PostKind.REPLY if reply_to else PostKind.QUOTE if quote_of else PostKind.POST
    yield Post(
        platform=M,
        id=post_id,
        author_id=self_id,
        created_at=created,
        kind=post_kind,
        text=text,
        html=content or None,
        language=language,
        url=note.get("url") if isinstance(note.get("url"), str) else post_id,
        reply_to_id=reply_to,
        reply_to_author_id=reply_to_author,
        quote_of_id=quote_of,
        conversation_id=note.get("conversation"),
        mentions=mentions,
        links=tuple(links),
        hashtags=hashtags,
    )
    for tag in tags:
        is_mention = isinstance(tag, dict) and tag.get("type") == "Mention"
        if is_mention and tag.get("href") and tag["href"] != self_id:
            name = str(tag.get("name") or "").lstrip("@")
            yield Account(M, tag["href"], handle=name or None, url=tag["href"])
    if reply_to and reply_to_author != self_id:
        yield Interaction(
            M, InteractionKind.REPLY, self_id, reply_to_author, reply_to, post_id, created
        )
    if quote_of:
        yield Interaction(
            M, InteractionKind.QUOTE, self_id, author_of(quote_of), quote_of, post_id, created
        )
    for mentioned in mentions:
        if mentioned not in (self_id, reply_to_author):
            yield Interaction(
                M, InteractionKind.MENTION, self_id, mentioned, None, post_id, created
            )


def _validate(value: Any, kind: type[msgspec.Struct]) -> None:
    """Check ``value``'s types against ``kind``; a ValueError naming the field if wrong."""
    try:
        msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        problem, _, field = describe(exc)
        raise ValueError(f"{problem} (field {field})" if field else problem) from None


def parse_archive(path: str) -> Iterator[Record]:
    """Every record of a Mastodon archive, streamed; raises :class:`SourceError` on bad input."""
    with Export(path) as export:
        yield from _parse(export)


def _one(export: Export, name: str) -> str | None:
    found = export.find(name)
    return min(found, key=len) if found else None


def _parse(export: Export) -> Iterator[Record]:
    actor_member = _one(export, "actor.json")
    outbox_member = _one(export, "outbox.json")
    if actor_member is None:
        raise SourceError(
            export.path,
            "not a Mastodon archive: no actor.json"
            if outbox_member is None
            else "no actor.json beside outbox.json",
            expected="a Mastodon archive with actor.json and outbox.json",
        )
    actor = decode_small(
        export.read_small(actor_member),
        ms.Actor,
        export.path,
        actor_member,
        'an ActivityPub actor: an object with an "id" and string fields',
    )
    self_id = actor.id
    username = actor.preferredUsername
    host = self_id.split("/")[2] if self_id.count("/") >= 2 else ""
    bio, _ = html_to_text(actor.summary or "")
    try:
        created_at = _time(actor.published, "published")
    except ValueError as exc:
        raise SourceError(export.path, str(exc), member=actor_member) from None
    yield Account(
        platform=M,
        id=self_id,
        handle=f"{username}@{host}" if username else None,
        display_name=actor.name or None,
        url=actor.url or self_id,
        bio=bio or None,
        created_at=created_at,
        is_self=True,
        is_bot=actor.type == "Service",
    )
    if outbox_member is not None:
        with export.open(outbox_member) as stream:
            for number, activity in iter_json_array(
                stream, export.path, outbox_member, "orderedItems.item"
            ):
                try:
                    if not isinstance(activity, dict):
                        raise ValueError("not an object")
                    _validate(activity, ms.Activity)
                    yield from activity_to_records(activity, self_id)
                except ValueError as exc:
                    raise SourceError(
                        export.path,
                        str(exc),
                        member=outbox_member,
                        location=f"orderedItems record {number}",
                        expected="an ActivityPub Create or Announce activity",
                    ) from exc
    for name, kind in (
        ("likes.json", InteractionKind.LIKE),
        ("bookmarks.json", InteractionKind.BOOKMARK),
    ):
        member = _one(export, name)
        if member is None:
            continue
        with export.open(member) as stream:
            for number, item in iter_json_array(stream, export.path, member, "orderedItems.item"):
                target = _object_id(item)
                if not target:
                    raise SourceError(
                        export.path,
                        "not a status URL",
                        member=member,
                        location=f"orderedItems record {number}",
                        expected="a status URL string",
                    )
                yield Interaction(M, kind, self_id, author_of(target), target)
    following = _one(export, "following_accounts.csv")
    if following is not None:
        with export.open(following) as stream:
            for line, row in iter_csv(stream, export.path, following, ("Account address",)):
                try:
                    other, handle = actor_of_address(row["Account address"])
                except ValueError as exc:
                    raise SourceError(
                        export.path,
                        str(exc),
                        member=following,
                        location=f"line {line}",
                        expected="an address like user@instance.social",
                    ) from exc
                yield Account(
                    M,
                    other,
                    handle=handle,
                    url=f"https://{handle.split('@')[1]}/@{handle.split('@')[0]}",
                )
                yield Follow(M, self_id, other)
