"""LinkedIn data export (.zip or folder): Shares.csv, Comments.csv, Connections.csv,
Reactions.csv and Profile.csv when present; other files are ignored.

LinkedIn's CSV is irregular: Comments.csv escapes quotes as ``\\"``, and Shares.csv
wraps every line of a multi-line post in its own quotes (``line one"\\n"line two``),
which :func:`unwrap_lines` undoes. The export does not name the user's own account id,
so the user is the account ``me``; people are identified by their profile URL.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import unquote

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
from kompas.sources._csv import iter_csv
from kompas.sources._time import checked
from kompas.sources.archive import Export
from kompas.text import links_in

L = Platform.LINKEDIN
SELF_ID = "me"
_URN = re.compile(r"urn:li:[A-Za-z]+:[0-9A-Za-z_-]+")
_FEED_POST = re.compile(r"^https?://(?:www\.)?linkedin\.com/feed/update/")


def unwrap_lines(value: str) -> str:
    """Undo LinkedIn's per-line quoting of multi-line text, when every line break has it."""
    if "\n" in value and value.count('"\n"') >= value.count("\n"):
        return value.replace('"\n"', "\n")
    return value


def parse_time(
    value: str, formats: tuple[str, ...] = ("%Y-%m-%d %H:%M:%S", "%d %b %Y")
) -> datetime:
    """LinkedIn's dates (UTC) as aware datetimes; raises ValueError when unreadable."""
    for layout in formats:
        try:
            moment = datetime.strptime(value.strip(), layout).replace(tzinfo=UTC)
        except ValueError:
            continue
        checked(moment, "date")
        return moment
    raise ValueError(f"unreadable date {value[:40]!r}")


def post_id_of(link: str) -> str:
    """The URN a LinkedIn link points to (``urn:li:activity:123``), or the link itself."""
    match = _URN.search(unquote(link))
    return match.group(0) if match else link


def _stable_id(*parts: str) -> str:
    return "comment:" + hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).hexdigest()


def parse(path: str) -> Iterator[Record]:
    """Every record of a LinkedIn export, streamed; raises :class:`SourceError` on bad input."""
    with Export(path) as export:
        yield from _parse(export)


def _one(export: Export, name: str) -> str | None:
    found = export.find(name)
    return min(found, key=len) if found else None


def _parse(export: Export) -> Iterator[Record]:
    members = {
        name: _one(export, name)
        for name in (
            "Shares.csv",
            "Comments.csv",
            "Connections.csv",
            "Reactions.csv",
            "Profile.csv",
        )
    }
    if not any(members.values()):
        raise SourceError(
            export.path,
            "not a LinkedIn export: none of Shares.csv, Comments.csv, Connections.csv, "
            "Reactions.csv",
            expected="the .zip from LinkedIn's 'Get a copy of your data'",
        )
    display_name = None
    profile = members["Profile.csv"]
    if profile:
        with export.open(profile) as stream:
            for _, row in iter_csv(stream, export.path, profile, ("First Name", "Last Name")):
                display_name = f"{row['First Name']} {row['Last Name']}".strip() or None
                break
    yield Account(L, SELF_ID, display_name=display_name, is_self=True)

    def rows(name: str, required: tuple[str, ...]) -> Iterator[tuple[str, int, dict[str, str]]]:
        member = members[name]
        if member is None:
            return
        with export.open(member) as stream:
            for line, row in iter_csv(stream, export.path, member, required, escapechar="\\"):
                yield member, line, row

    def bad(member: str, line: int, exc: Exception, expected: str) -> SourceError:
        return SourceError(
            export.path, str(exc), member=member, location=f"line {line}", expected=expected
        )

    for member, line, row in rows("Shares.csv", ("Date", "ShareLink", "ShareCommentary")):
        try:
            created = parse_time(row["Date"])
        except ValueError as exc:
            raise bad(member, line, exc, "Date as YYYY-MM-DD HH:MM:SS") from exc
        text = unwrap_lines(row["ShareCommentary"]).strip()
        shared = (row.get("SharedUrl") or "").strip()
        links = [*links_in(text), *([shared] if shared else [])]
        post_id = (
            post_id_of(row["ShareLink"]) if row["ShareLink"] else _stable_id(row["Date"], text)
        )
        reshared = shared if _FEED_POST.match(shared) else None
        kind = PostKind.POST
        if reshared:
            kind = PostKind.QUOTE if text else PostKind.REPOST
        yield Post(
            platform=L,
            id=post_id,
            author_id=SELF_ID,
            created_at=created,
            kind=kind,
            text=text,
            url=row["ShareLink"] or None,
            quote_of_id=post_id_of(reshared) if reshared and text else None,
            repost_of_id=post_id_of(reshared) if reshared and not text else None,
            links=tuple(dict.fromkeys(links)),
        )
        if reshared:
            yield Interaction(
                L,
                InteractionKind.QUOTE if text else InteractionKind.REPOST,
                SELF_ID,
                None,
                post_id_of(reshared),
                post_id,
                created,
            )

    for member, line, row in rows("Comments.csv", ("Date", "Link", "Message")):
        try:
            created = parse_time(row["Date"])
        except ValueError as exc:
            raise bad(member, line, exc, "Date as YYYY-MM-DD HH:MM:SS") from exc
        target = post_id_of(row["Link"])
        text = unwrap_lines(row["Message"]).strip()
        comment_id = _stable_id(row["Date"], row["Link"])
        yield Post(
            platform=L,
            id=comment_id,
            author_id=SELF_ID,
            created_at=created,
            kind=PostKind.REPLY,
            text=text,
            url=row["Link"] or None,
            reply_to_id=target,
            links=tuple(links_in(text)),
        )
        yield Interaction(L, InteractionKind.REPLY, SELF_ID, None, target, comment_id, created)

    for member, line, row in rows("Reactions.csv", ("Date", "Link")):
        try:
            created = parse_time(row["Date"])
        except ValueError as exc:
            raise bad(member, line, exc, "Date as YYYY-MM-DD HH:MM:SS") from exc
        yield Interaction(
            L, InteractionKind.LIKE, SELF_ID, None, post_id_of(row["Link"]), None, created
        )

    for member, line, row in rows("Connections.csv", ("First Name", "Last Name", "URL")):
        url = row["URL"].strip()
        if not url:
            continue  # LinkedIn leaves URL empty for members who hid their profile
        connected = None
        if row.get("Connected On"):
            try:
                connected = parse_time(row["Connected On"])
            except ValueError as exc:
                raise bad(member, line, exc, "Connected On as '05 Jul 2025'") from exc
        name = f"{row['First Name']} {row['Last Name']}".strip()
        yield Account(L, url, display_name=name or None, url=url)
        # A LinkedIn connection is mutual: each side follows the other.
        yield Follow(L, SELF_ID, url, connected)
        yield Follow(L, url, SELF_ID, connected)
