"""X/Twitter account archive: the .zip a user downloads, or its unpacked folder.

One small reader per archive file (like twitter-to-sqlite's registry), each streaming the
``window.YTD.<name>.partN = [...]`` JavaScript with ijson. Files kompas does not use are
ignored. A retweet is a tweet whose ``full_text`` starts with ``RT @``; a reply has
``in_reply_to_status_id_str``; a quote links to another tweet's status URL.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

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
from kompas.sources._js import iter_json_array, load_json, strip_ytd_wrapper
from kompas.sources.archive import Export

X = Platform.X
_STATUS_URL = re.compile(r"^https?://(?:mobile\.)?(?:twitter|x)\.com/(\w+)/status(?:es)?/(\d+)")
_PART = re.compile(r"^(?P<name>[a-z-]+?)(?:-part(?P<part>\d+))?\.js$")
_TAG = re.compile(r"<[^>]+>")
_TWEET_FILES = ("tweets", "tweet")


def _files(export: Export, name: str) -> list[str]:
    """Members for one archive file name, multi-part files (``tweets-part1.js``) in order."""
    found: list[tuple[int, str]] = []
    for member in export.names():
        match = _PART.match(PurePosixPath(member).name)
        if match and match.group("name") == name:
            found.append((int(match.group("part") or 0), member))
    return [member for _, member in sorted(found)]


def _records(export: Export, member: str, key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    with export.open(member) as stream:
        body = strip_ytd_wrapper(stream, export.path, member)
        for number, item in iter_json_array(body, export.path, member):
            if not isinstance(item, dict) or not isinstance(item.get(key), dict):
                raise SourceError(
                    export.path,
                    "unexpected record shape",
                    member=member,
                    location=f"record {number}",
                    expected=f'an object with a "{key}" object',
                )
            yield number, item[key]


def _small(export: Export, name: str, key: str) -> dict[str, Any]:
    """The single record of account.js or profile.js."""
    for member in _files(export, name):
        with export.open(member) as stream:
            text = stream.read()
        body = re.sub(rb"^\s*window\.YTD\.[\w-]+\.part\d+\s*=\s*", b"", text, count=1)
        if body == text:
            strip_ytd_wrapper(io.BytesIO(text), export.path, member)  # raises the wrapper error
        data = load_json(io.BytesIO(body), export.path, member)
        if isinstance(data, list) and data and isinstance(data[0], dict):
            value = data[0].get(key)
            if isinstance(value, dict):
                return value
        raise SourceError(
            export.path, "unexpected content", member=member, expected=f'[{{"{key}": {{...}}}}]'
        )
    return {}


_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
_DAYS = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}


def parse_time(value: str | None) -> datetime | None:
    """X's ``created_at`` (``Fri Mar 06 13:02:05 +0000 2026``) or ISO 8601, as UTC."""
    if not value:
        return None
    parts = value.split(" ")
    # The archive's own layout, read without strptime: faster, and independent of the locale.
    if len(parts) == 6 and parts[4] == "+0000" and parts[0] in _DAYS and parts[1] in _MONTHS:
        try:
            hour, minute, second = parts[3].split(":")
            return datetime(
                int(parts[5]),
                _MONTHS[parts[1]],
                int(parts[2]),
                int(hour),
                int(minute),
                int(second),
                tzinfo=UTC,
            )
        except ValueError:
            pass
    try:
        if value[:1].isdigit():
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def tweet_to_records(tweet: dict[str, Any], self_id: str, username: str) -> Iterator[Record]:
    """One archive tweet → its :class:`Post` and the interactions it carries."""
    tweet_id = str(tweet.get("id_str") or tweet.get("id") or "")
    if not tweet_id:
        raise ValueError('missing "id_str"')
    text = html.unescape(tweet.get("full_text") or tweet.get("text") or "")
    entities = tweet.get("entities") or {}
    raw_mentions = entities.get("user_mentions") or []
    mentions = [
        (str(m.get("id_str") or m.get("id") or ""), m.get("screen_name") or "")
        for m in raw_mentions
    ]
    links = tuple(u["expanded_url"] for u in entities.get("urls") or [] if u.get("expanded_url"))
    hashtags = tuple(h["text"] for h in entities.get("hashtags") or [] if h.get("text"))
    created = parse_time(tweet.get("created_at"))
    reply_to = tweet.get("in_reply_to_status_id_str") or None
    reply_to_author = tweet.get("in_reply_to_user_id_str") or None
    repost_author: str | None = None
    quote_of: str | None = None
    if text.startswith("RT @"):
        kind = PostKind.REPOST
        screen = text[4:].split(":", 1)[0]
        repost_author = next((i for i, s in mentions if s.lower() == screen.lower()), None)
    elif reply_to:
        kind = PostKind.REPLY
    else:
        kind = PostKind.POST
        for link in links:
            match = _STATUS_URL.match(link)
            if match and match.group(2) != tweet_id:
                kind, quote_of = PostKind.QUOTE, match.group(2)
                break
    lang = tweet.get("lang")
    source = tweet.get("source")
    yield Post(
        platform=X,
        id=tweet_id,
        author_id=self_id,
        created_at=created,
        kind=kind,
        text=text,
        language=None if lang in (None, "und", "zxx", "qme", "qht") else lang,
        url=f"https://x.com/{username or 'i'}/status/{tweet_id}",
        reply_to_id=reply_to,
        reply_to_author_id=reply_to_author,
        quote_of_id=quote_of,
        repost_of_author_id=repost_author,
        mentions=tuple(i for i, _ in mentions if i),
        links=links,
        hashtags=hashtags,
        like_count=_int(tweet.get("favorite_count")),
        repost_count=_int(tweet.get("retweet_count")),
        client=_TAG.sub("", source) if source else None,
    )
    for mention in raw_mentions:
        # The archive names everyone the user mentions: keep them as accounts.
        account_id = str(mention.get("id_str") or "")
        if account_id and account_id != self_id:
            screen = mention.get("screen_name")
            yield Account(
                X,
                account_id,
                handle=screen or None,
                display_name=mention.get("name") or None,
                url=f"https://x.com/{screen}" if screen else None,
            )
    if kind is PostKind.REPOST:
        yield Interaction(
            X, InteractionKind.REPOST, self_id, repost_author, None, tweet_id, created
        )
        return
    if kind is PostKind.REPLY and reply_to_author != self_id:
        yield Interaction(
            X, InteractionKind.REPLY, self_id, reply_to_author, reply_to, tweet_id, created
        )
    if kind is PostKind.QUOTE:
        yield Interaction(X, InteractionKind.QUOTE, self_id, None, quote_of, tweet_id, created)
    for account_id, _ in mentions:
        # The leading @ of a real reply names the reply target, already an interaction;
        # a tweet that only starts with an @ (no parent tweet) mentions that person.
        replied = reply_to_author if kind is PostKind.REPLY else None
        if account_id and account_id not in (self_id, replied):
            yield Interaction(
                X, InteractionKind.MENTION, self_id, account_id, None, tweet_id, created
            )


def parse(path: str) -> Iterator[Record]:
    """Every record of an X archive, streamed; raises :class:`SourceError` on bad input."""
    with Export(path) as export:
        yield from _parse(export)


def _parse(export: Export) -> Iterator[Record]:
    account = _small(export, "account", "account")
    if not account:
        manifest = _manifest_user(export)
        account = {"accountId": manifest.get("accountId"), "username": manifest.get("userName")}
    self_id = str(account.get("accountId") or "")
    if not self_id:
        known = {"tweets.js", "tweet.js", "like.js", "follower.js", "following.js"}
        has_known = any(PurePosixPath(n).name in known for n in export.names())
        raise SourceError(
            export.path,
            "no account.js with an accountId" if has_known else "not an X archive",
            expected="an X archive with data/account.js and data/tweets.js",
        )
    username = str(account.get("username") or "")
    profile = _small(export, "profile", "profile")
    description = profile.get("description") or {}
    yield Account(
        platform=X,
        id=self_id,
        handle=username or None,
        display_name=account.get("accountDisplayName"),
        url=f"https://x.com/{username}" if username else None,
        bio=description.get("bio") or None,
        created_at=parse_time(account.get("createdAt")),
        is_self=True,
    )
    tweet_files = next((f for f in (_files(export, n) for n in _TWEET_FILES) if f), [])
    mentioned: set[str] = set()
    for member in tweet_files:
        for number, tweet in _records(export, member, "tweet"):
            try:
                for record in tweet_to_records(tweet, self_id, username):
                    # A mentioned account once per import (archives list newest first).
                    if isinstance(record, Account):
                        if record.id in mentioned:
                            continue
                        mentioned.add(record.id)
                    yield record
            except ValueError as exc:
                raise SourceError(
                    export.path,
                    str(exc),
                    member=member,
                    location=f"record {number}",
                    expected="a tweet with id_str",
                ) from exc
    for member in _files(export, "like"):
        for number, like in _records(export, member, "like"):
            tweet_id = like.get("tweetId")
            if not tweet_id:
                raise SourceError(
                    export.path,
                    'missing "tweetId"',
                    member=member,
                    location=f"record {number}",
                    expected='{"like": {"tweetId": ...}}',
                )
            yield Interaction(X, InteractionKind.LIKE, self_id, None, str(tweet_id))
    taken_at = _taken_at(export)
    for name, key in (("follower", "follower"), ("following", "following")):
        members = _files(export, name)
        for member in members:
            for number, edge in _records(export, member, key):
                other = str(edge.get("accountId") or "")
                if not other:
                    raise SourceError(
                        export.path,
                        'missing "accountId"',
                        member=member,
                        location=f"record {number}",
                        expected=f'{{"{key}": {{"accountId": ...}}}}',
                    )
                yield Account(X, other, url=f"https://x.com/i/user/{other}")
                if key == "follower":
                    yield Follow(X, other, self_id)
                else:
                    yield Follow(X, self_id, other)
        if members and taken_at is not None:
            side = "followers" if key == "follower" else "following"
            yield FollowList(X, self_id, side, taken_at)


def _manifest(export: Export) -> dict[str, Any]:
    for member in export.find("manifest.js"):
        with export.open(member) as stream:
            text = stream.read()
        body = re.sub(rb"^\s*window\.__THAR_CONFIG\s*=\s*", b"", text, count=1)
        data = load_json(io.BytesIO(body), export.path, member)
        if isinstance(data, dict):
            return data
    return {}


def _manifest_user(export: Export) -> dict[str, Any]:
    user = _manifest(export).get("userInfo")
    return user if isinstance(user, dict) else {}


def _taken_at(export: Export) -> datetime | None:
    """When X generated a *whole* archive (its lists are then complete as of that time);
    ``None`` for a partial archive or one that does not say."""
    info = _manifest(export).get("archiveInfo")
    if not isinstance(info, dict) or info.get("isPartialArchive") is not False:
        return None
    try:
        taken = datetime.fromisoformat(str(info.get("generationDate")))
    except ValueError:
        return None
    return taken if taken.tzinfo else taken.replace(tzinfo=UTC)
