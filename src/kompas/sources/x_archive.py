"""X/Twitter account archive: the .zip a user downloads, or its unpacked folder.

One small reader per archive file (like twitter-to-sqlite's registry), each streaming the
``window.YTD.<name>.partN = [...]`` JavaScript with ijson. Files kompas does not use are
ignored. A retweet is a tweet whose ``full_text`` starts with ``RT @``; a reply has
``in_reply_to_status_id_str``; a quote links to another tweet's status URL.

:func:`parse_rows` builds the store's rows straight from the tweets, a batch at a time
(issue #18: an import of a large archive is mostly this loop); :func:`parse` gives the same
data as records.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import IO, Any, TypeVar

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
    interaction_id,
)
from kompas.sources import x_schema as xs
from kompas.sources._js import strip_ytd_wrapper
from kompas.sources._json import decode_small, iter_records
from kompas.sources._time import checked
from kompas.sources.archive import Export
from kompas.store.rows import Rows

T = TypeVar("T")

X = Platform.X
_STATUS_URL = re.compile(r"^https?://(?:mobile\.)?(?:twitter|x)\.com/(\w+)/status(?:es)?/(\d+)")
_PART = re.compile(r"^(?P<name>[a-z-]+?)(?:-part(?P<part>\d+))?\.js$")
_TAG = re.compile(r"<[^>]+>")
_TWEET_FILES = ("tweets", "tweet")
#: Rows are built with the enums' plain values (the driver binds a plain ``str`` directly).
_X = X.value
_POST, _REPLY, _REPOST, _QUOTE = (k.value for k in PostKind)
_NO_LANGUAGE = frozenset((None, "und", "zxx", "qme", "qht"))
#: Tweets per batch of rows.
ROWS_PER_BATCH = 4000
Row = tuple[Any, ...]


def _files(export: Export, name: str) -> list[str]:
    """Members for one archive file name, multi-part files (``tweets-part1.js``) in order."""
    found: list[tuple[int, str]] = []
    for member in export.names():
        match = _PART.match(PurePosixPath(member).name)
        if match and match.group("name") == name:
            found.append((int(match.group("part") or 0), member))
    return [member for _, member in sorted(found)]


#: What each file's records look like, for error messages.
_SHAPES: dict[type, str] = {
    xs.TweetItem: '{"tweet": {"id_str": "<digits>", "full_text": "...", ...}}',
    xs.LikeItem: '{"like": {"tweetId": "<digits>"}}',
    xs.FollowerItem: '{"follower": {"accountId": "<digits>"}}',
    xs.FollowingItem: '{"following": {"accountId": "<digits>"}}',
}


def _records(export: Export, member: str, kind: type[T]) -> Iterator[tuple[int, T]]:
    """The validated records of one ``window.YTD.*`` file, streamed in batches."""

    def body() -> IO[bytes]:
        stream = export.open(member)
        return strip_ytd_wrapper(stream, export.path, member)  # type: ignore[return-value]

    yield from iter_records(body, kind, export.path, member, _SHAPES.get(kind, "an X record"))


def _small(export: Export, name: str, kind: type[T]) -> T | None:
    """The single record of account.js or profile.js (read with a size cap)."""
    for member in _files(export, name):
        text = export.read_small(member)
        body = re.sub(rb"^\s*window\.YTD\.[\w-]+\.part\d+\s*=\s*", b"", text, count=1)
        if body == text:
            strip_ytd_wrapper(io.BytesIO(text), export.path, member)  # raises the wrapper error
        items = decode_small(
            body.removeprefix(b"\xef\xbb\xbf"),
            list[kind],  # type: ignore[valid-type]
            export.path,
            member,
            f'[{{"{name}": {{...}}}}]',
        )
        if items:
            return items[0]
        raise SourceError(
            export.path, "no record", member=member, expected=f'[{{"{name}": {{...}}}}]'
        )
    return None


_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
_MONTH_DIGITS = {name: f"{number:02d}" for name, number in _MONTHS.items()}
_DAYS = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}


def parse_time(value: str | None) -> datetime | None:
    """X's ``created_at`` (``Fri Mar 06 13:02:05 +0000 2026``) or ISO 8601, as UTC."""
    if not value:
        return None
    parts = value.split(" ")
    # The archive's own layout, read without strptime: faster, and independent of the locale.
    if len(parts) == 6 and parts[4] == "+0000" and parts[0] in _DAYS and parts[1] in _MONTHS:
        clock = parts[3]
        if len(parts[5]) == 4 and len(parts[2]) == 2 and len(clock) == 8 and clock[2::3] == "::":
            try:  # as ISO 8601, read by one C call (its digits are checked there)
                return datetime.fromisoformat(
                    f"{parts[5]}-{_MONTH_DIGITS[parts[1]]}-{parts[2]}T{clock}+00:00"
                )
            except ValueError:
                pass
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
    except (ValueError, OverflowError):
        return None


def _time(value: str | None, field: str) -> datetime | None:
    """A checked ``created_at``: readable, and between 1990 and tomorrow."""
    if not value:
        return None
    moment = parse_time(value)
    if moment is None:
        raise ValueError(f"{field} {value[:40]!r} is not a date")
    return checked(moment, field)


class _Batch:
    """The rows of a batch of tweets, per table (in :func:`kompas.store.writer.columns`
    order; ``tests/test_x_archive.py`` checks it)."""

    def __init__(self) -> None:
        self.posts: list[Row] = []
        self.accounts: list[Row] = []
        self.interactions: list[Row] = []
        #: The client of each distinct ``source`` (a handful per archive), markup removed.
        self.clients: dict[str, str] = {}

    def take(self) -> Iterator[Rows]:
        """The rows so far, as :class:`Rows`; the batch is then empty."""
        for kind, rows in ((Post, self.posts), (Account, self.accounts)):
            if rows:
                yield Rows(kind, rows)
        if self.interactions:
            yield Rows(Interaction, self.interactions)
        self.posts, self.accounts, self.interactions = [], [], []


def _interaction(
    kind: str, actor: str, account: str | None, post: str | None, via: str | None, created: Any
) -> Row:
    return (
        _X,
        interaction_id(kind, actor, account, post, via),
        kind,
        actor,
        account,
        post,
        via,
        created,
    )


def _tweet_rows(
    tweet: xs.Tweet, self_id: str, username: str, mentioned: set[str], batch: _Batch
) -> None:
    """One archive tweet → its post row, the rows of the accounts it is the first to
    mention (``mentioned`` holds those seen before), and the interactions it carries."""
    tweet_id: str = tweet.id_str or tweet.id or ""
    if not tweet_id:
        raise ValueError('missing "id_str"')
    text = html.unescape(tweet.full_text or tweet.text or "")
    entities = tweet.entities
    raw_mentions = entities.user_mentions
    mentions = [(m.id_str or m.id or "", m.screen_name or "") for m in raw_mentions]
    urls, tags = entities.urls, entities.hashtags
    links = tuple(u.expanded_url for u in urls if u.expanded_url) if urls else ()
    hashtags = tuple(h.text for h in tags if h.text) if tags else ()
    created = _time(tweet.created_at, "created_at")
    reply_to = tweet.in_reply_to_status_id_str or None
    reply_to_author = tweet.in_reply_to_user_id_str or None
    repost_author: str | None = None
    quote_of: str | None = None
    if text.startswith("RT @"):
        kind = _REPOST
        screen = text[4:].split(":", 1)[0].lower()
        repost_author = next((i for i, s in mentions if s.lower() == screen), None)
    elif reply_to:
        kind = _REPLY
    else:
        kind = _POST
        for link in links:
            match = _STATUS_URL.match(link)
            if match and match.group(2) != tweet_id:
                kind, quote_of = _QUOTE, match.group(2)
                break
    lang = tweet.lang
    source = tweet.source
    client = None
    if source:
        client = batch.clients.get(source)
        if client is None:
            client = batch.clients[source] = _TAG.sub("", source)
    favorites, retweets = tweet.favorite_count, tweet.retweet_count
    batch.posts.append(
        (
            _X,
            tweet_id,
            self_id,
            created,
            kind,
            text,
            None,
            None if lang in _NO_LANGUAGE else lang,
            f"https://x.com/{username or 'i'}/status/{tweet_id}",
            reply_to,
            reply_to_author,
            quote_of,
            None,
            repost_author,
            None,
            tuple(i for i, _ in mentions if i) if mentions else (),
            links,
            hashtags,
            int(favorites) if favorites else None,
            int(retweets) if retweets else None,
            None,
            None,
            client,
        )
    )
    for mention in raw_mentions:
        # The archive names everyone the user mentions: keep them as accounts, once.
        mentioned_id = mention.id_str or ""
        if mentioned_id and mentioned_id != self_id and mentioned_id not in mentioned:
            mentioned.add(mentioned_id)
            handle = mention.screen_name
            url = f"https://x.com/{handle}" if handle else None
            batch.accounts.append(
                _account_row(mentioned_id, handle or None, mention.name or None, url)
            )
    interactions = batch.interactions
    if kind == _REPOST:
        interactions.append(_interaction(_REPOST, self_id, repost_author, None, tweet_id, created))
        return
    if kind == _REPLY and reply_to_author != self_id:
        interactions.append(
            _interaction(_REPLY, self_id, reply_to_author, reply_to, tweet_id, created)
        )
    if kind == _QUOTE:
        interactions.append(_interaction(_QUOTE, self_id, None, quote_of, tweet_id, created))
    # The leading @ of a real reply names the reply target, already an interaction; a
    # tweet that only starts with an @ (no parent tweet) mentions that person.
    replied = reply_to_author if kind == _REPLY else None
    for account_id, _ in mentions:
        if account_id and account_id != self_id and account_id != replied:
            interactions.append(
                _interaction("mention", self_id, account_id, None, tweet_id, created)
            )


def _records_of(rows: Rows) -> Iterator[Record]:
    """The records the rows of :func:`_tweet_rows` (and :func:`_parse_rows`) stand for."""
    kind = rows.kind
    if kind is Post:
        for row in rows.rows:
            yield Post(X, row[1], row[2], row[3], PostKind(row[4]), *row[5:])
    elif kind is Account:
        for row in rows.rows:
            yield Account(X, *row[1:])
    elif kind is Interaction:
        for row in rows.rows:
            yield Interaction(X, InteractionKind(row[2]), *row[3:])
    elif kind is Follow:
        for row in rows.rows:
            yield Follow(X, *row[1:])
    else:  # pragma: no cover - the rows above are all _parse_rows makes
        raise TypeError(f"no records for rows of {kind.__name__}")


def parse(path: str) -> Iterator[Record]:
    """Every record of an X archive, streamed; raises :class:`SourceError` on bad input."""
    for item in parse_rows(path):
        if isinstance(item, Rows):
            yield from _records_of(item)
        else:
            yield item


def parse_rows(path: str) -> Iterator[Rows | Record]:
    """What :func:`parse` yields, with the posts, accounts, interactions and follows as
    :class:`Rows` (their values as the records hold them, enums as plain values), built
    without the records; raises :class:`SourceError` on bad input."""
    with Export(path) as export:
        yield from _parse_rows(export)


def _parse_rows(export: Export) -> Iterator[Rows | Record]:
    item = _small(export, "account", xs.AccountItem)
    account = item.account if item is not None else None
    if account is None or not account.accountId:
        user = _manifest_user(export)
        account = xs.Account(accountId=user.accountId, username=user.userName)
    self_id = account.accountId or ""
    if not self_id:
        known = {"tweets.js", "tweet.js", "like.js", "follower.js", "following.js"}
        has_known = any(PurePosixPath(n).name in known for n in export.names())
        raise SourceError(
            export.path,
            "no account.js with an accountId" if has_known else "not an X archive",
            expected="an X archive with data/account.js and data/tweets.js",
        )
    username = account.username or ""
    profile = _small(export, "profile", xs.ProfileItem)
    try:
        created_at = _time(account.createdAt, "createdAt")
    except ValueError as exc:
        raise SourceError(export.path, str(exc), member="account.js") from None
    yield Account(
        platform=X,
        id=self_id,
        handle=username or None,
        display_name=account.accountDisplayName,
        url=f"https://x.com/{username}" if username else None,
        bio=(profile.profile.description.bio or None) if profile is not None else None,
        created_at=created_at,
        is_self=True,
    )
    tweet_files = next((f for f in (_files(export, n) for n in _TWEET_FILES) if f), [])
    mentioned: set[str] = set()  # a mentioned account once per import
    batch = _Batch()
    for member in tweet_files:
        for number, tweet in _records(export, member, xs.TweetItem):
            try:
                _tweet_rows(tweet.tweet, self_id, username, mentioned, batch)
            except ValueError as exc:
                raise SourceError(
                    export.path,
                    str(exc),
                    member=member,
                    location=f"record {number}",
                    expected="a tweet with id_str and a created_at date",
                ) from exc
            if len(batch.posts) >= ROWS_PER_BATCH:
                yield from batch.take()
    yield from batch.take()
    for member in _files(export, "like"):
        likes: list[Row] = []
        for _, like in _records(export, member, xs.LikeItem):
            likes.append(_interaction("like", self_id, None, like.like.tweetId, None, None))
            if len(likes) >= ROWS_PER_BATCH:
                yield Rows(Interaction, likes)
                likes = []
        if likes:
            yield Rows(Interaction, likes)
    taken_at = _taken_at(export)
    for name, side in (("follower", "followers"), ("following", "following")):
        members = _files(export, name)
        for member in members:
            yield from _edge_rows(export, member, name, self_id)
        if members and taken_at is not None:
            yield FollowList(X, self_id, side, taken_at)


def _account_row(account_id: str, handle: str | None, name: str | None, url: str | None) -> Row:
    return (_X, account_id, handle, name, url, None, None, None, None, None, False, None)


def _edge_rows(export: Export, member: str, name: str, self_id: str) -> Iterator[Rows]:
    """The accounts and follow edges of ``follower.js`` or ``following.js``."""
    accounts: list[Row] = []
    follows: list[Row] = []
    if name == "follower":
        for _, follower in _records(export, member, xs.FollowerItem):
            other = follower.follower.accountId
            accounts.append(_account_row(other, None, None, f"https://x.com/i/user/{other}"))
            follows.append((_X, other, self_id, None))
    else:
        for _, followed in _records(export, member, xs.FollowingItem):
            other = followed.following.accountId
            accounts.append(_account_row(other, None, None, f"https://x.com/i/user/{other}"))
            follows.append((_X, self_id, other, None))
    if follows:
        yield Rows(Account, accounts)
        yield Rows(Follow, follows)


def _manifest(export: Export) -> xs.Manifest:
    for member in export.find("manifest.js"):
        text = export.read_small(member)
        body = re.sub(rb"^\s*window\.__THAR_CONFIG\s*=\s*", b"", text, count=1)
        return decode_small(body, xs.Manifest, export.path, member, "the manifest's userInfo")
    return xs.Manifest()


def _manifest_user(export: Export) -> xs.UserInfo:
    return _manifest(export).userInfo or xs.UserInfo()


def _taken_at(export: Export) -> datetime | None:
    """When X generated a *whole* archive (its lists are then complete as of that time);
    ``None`` for a partial archive or one that does not say."""
    info = _manifest(export).archiveInfo
    if info is None or info.isPartialArchive is not False:
        return None
    try:
        taken = datetime.fromisoformat(info.generationDate or "")
    except ValueError:
        return None
    return taken if taken.tzinfo else taken.replace(tzinfo=UTC)
