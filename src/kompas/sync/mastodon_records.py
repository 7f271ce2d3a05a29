"""Mastodon API entities (Account, Status, Notification) → kompas records, purely.

The ids are the ones a Mastodon *archive* gives, so a live sync and an imported export
land on the same rows: accounts by their ActivityPub actor URI (``uri``, or built from the
address as servers write it), statuses by their ``uri``, a boost by its activity URI. The
API's own numeric ids are local to one instance and never stored as record ids.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

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
from kompas.sources.mastodon import boost_records, parse_time
from kompas.text import html_to_text

M = Platform.MASTODON
Entity = Mapping[str, Any]


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return parse_time(value)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _host(url: Any) -> str | None:
    return urlsplit(url).netloc or None if isinstance(url, str) and url else None


def account_uri(account: Entity, home: str | None = None) -> str:
    """The actor URI of an API Account: its ``uri``, else built from ``acct`` and ``url``."""
    uri = account.get("uri")
    if isinstance(uri, str) and uri:
        return uri
    acct = str(account.get("acct") or account.get("username") or "")
    user, _, host = acct.partition("@")
    host = host or _host(account.get("url")) or home or ""
    if not user or not host:
        raise ValueError("an Account needs a uri, or an acct and a url")
    return f"https://{host}/users/{user}"


def account_handle(account: Entity, home: str | None = None) -> str | None:
    """``user@host`` for an API Account (local accounts' ``acct`` lacks the host)."""
    acct = account.get("acct") or account.get("username")
    if not isinstance(acct, str) or not acct:
        return None
    if "@" in acct:
        return acct
    host = _host(account.get("url")) or _host(account.get("uri")) or home
    return f"{acct}@{host}" if host else acct


def account_record(account: Entity, *, is_self: bool = False, home: str | None = None) -> Account:
    """One API Account as an :class:`Account` (bio as plain text)."""
    bio, _ = html_to_text(str(account.get("note") or ""))
    return Account(
        platform=M,
        id=account_uri(account, home),
        handle=account_handle(account, home),
        display_name=account.get("display_name") or None,
        url=account.get("url") if isinstance(account.get("url"), str) else None,
        bio=bio or None,
        created_at=_time(account.get("created_at")),
        followers_count=_int(account.get("followers_count")),
        following_count=_int(account.get("following_count")),
        posts_count=_int(account.get("statuses_count")),
        is_self=is_self,
        is_bot=account.get("bot") if isinstance(account.get("bot"), bool) else None,
    )


class Resolver:
    """What the API's local ids stand for: account id → actor URI, status id → status URI.

    Filled from every entity seen; a status the sync never saw is looked up by the caller
    (``missing_status``) before its replies are converted.
    """

    def __init__(self, home: str | None = None) -> None:
        self.home = home
        self.accounts: dict[str, str] = {}
        self.statuses: dict[str, tuple[str, str]] = {}

    def learn_account(self, account: Entity) -> str:
        """Remember an Account; return its actor URI."""
        uri = account_uri(account, self.home)
        if account.get("id") is not None:
            self.accounts[str(account["id"])] = uri
        return uri

    def learn_status(self, status: Entity) -> None:
        """Remember a Status (and its reblogged status) by API id."""
        author = status.get("account")
        if isinstance(author, Mapping) and status.get("id") is not None and status.get("uri"):
            self.statuses[str(status["id"])] = (str(status["uri"]), self.learn_account(author))
        inner = status.get("reblog")
        if isinstance(inner, Mapping):
            self.learn_status(inner)

    def mention_uri(self, mention: Entity) -> str:
        """The actor URI of a Status mention (which carries no ``uri`` of its own)."""
        known = self.accounts.get(str(mention.get("id")))
        return known or account_uri(mention, self.home)

    def missing_status(self, status: Entity) -> str | None:
        """The API id of the status ``status`` replies to, if it is not known yet."""
        parent = status.get("in_reply_to_id")
        if parent is None or str(parent) in self.statuses:
            return None
        return str(parent)


def _quote_uri(status: Entity) -> str | None:
    quote = status.get("quote")
    if isinstance(quote, Mapping):
        inner = quote.get("quoted_status") if "quoted_status" in quote else quote
        if isinstance(inner, Mapping) and inner.get("uri"):
            return str(inner["uri"])
    return None


def status_records(status: Entity, resolver: Resolver) -> Iterator[Record]:
    """One Status (a post, a reply, a quote, or a boost) → its Post, Accounts, Interactions."""
    resolver.learn_status(status)
    author_entity = status.get("account")
    if not isinstance(author_entity, Mapping) or not status.get("uri"):
        raise ValueError('a Status needs "uri" and "account"')
    author = resolver.learn_account(author_entity)
    yield account_record(author_entity, home=resolver.home)
    post_id = str(status["uri"])
    created = _time(status.get("created_at"))
    reblog = status.get("reblog")
    if isinstance(reblog, Mapping) and reblog.get("uri"):
        yield from status_records(reblog, resolver)
        target = str(reblog["uri"])
        target_author = resolver.learn_account(reblog["account"])
        yield from boost_records(post_id, author, target, target_author, created)
        return
    content = str(status.get("content") or "")
    text, links = html_to_text(content)
    spoiler = status.get("spoiler_text")
    if spoiler:
        text = f"{spoiler}\n\n{text}"
    mentions = tuple(
        dict.fromkeys(
            resolver.mention_uri(m) for m in status.get("mentions") or [] if isinstance(m, Mapping)
        )
    )
    hashtags = tuple(
        str(t["name"]).lstrip("#")
        for t in status.get("tags") or []
        if isinstance(t, Mapping) and t.get("name")
    )
    reply_to: str | None = None
    reply_to_author: str | None = None
    parent_id = status.get("in_reply_to_id")
    if parent_id is not None:
        known = resolver.statuses.get(str(parent_id))
        if known:
            reply_to, reply_to_author = known
        parent_author_id = status.get("in_reply_to_account_id")
        if reply_to_author is None and parent_author_id is not None:
            reply_to_author = resolver.accounts.get(str(parent_author_id))
    quote_of = _quote_uri(status)
    kind = (
        PostKind.REPLY if parent_id is not None else PostKind.QUOTE if quote_of else PostKind.POST
    )
    application = status.get("application")
    yield Post(
        platform=M,
        id=post_id,
        author_id=author,
        created_at=created,
        kind=kind,
        text=text,
        html=content or None,
        language=status.get("language") or None,
        url=status.get("url") if isinstance(status.get("url"), str) else post_id,
        reply_to_id=reply_to,
        reply_to_author_id=reply_to_author,
        quote_of_id=quote_of,
        mentions=mentions,
        links=tuple(links),
        hashtags=hashtags,
        like_count=_int(status.get("favourites_count")),
        repost_count=_int(status.get("reblogs_count")),
        reply_count=_int(status.get("replies_count")),
        client=application.get("name") if isinstance(application, Mapping) else None,
    )
    for mention in status.get("mentions") or []:
        if isinstance(mention, Mapping):
            uri = resolver.mention_uri(mention)
            if uri != author:
                yield Account(
                    M, uri, handle=account_handle(mention, resolver.home), url=mention.get("url")
                )
    if reply_to and reply_to_author != author:
        yield Interaction(
            M, InteractionKind.REPLY, author, reply_to_author, reply_to, post_id, created
        )
    if quote_of:
        quoted = status["quote"].get("quoted_status") or {}
        quoted_author = (
            resolver.learn_account(quoted["account"])
            if isinstance(quoted.get("account"), Mapping)
            else None
        )
        yield Interaction(
            M, InteractionKind.QUOTE, author, quoted_author, quote_of, post_id, created
        )
    for mentioned in mentions:
        if mentioned not in (author, reply_to_author):
            yield Interaction(M, InteractionKind.MENTION, author, mentioned, None, post_id, created)


def marked_records(
    status: Entity, kind: InteractionKind, self_id: str, resolver: Resolver
) -> Iterator[Record]:
    """A status the user favourited or bookmarked: the status, and the user's interaction.

    The interaction has no time and no carrying post, exactly as an archive's
    ``likes.json``/``bookmarks.json`` gives it, so both dedupe to one row.
    """
    yield from status_records(status, resolver)
    target = str(status["uri"])
    author = resolver.learn_account(status["account"])
    yield Interaction(M, kind, self_id, author, target)


def notification_records(
    notification: Entity, self_id: str, resolver: Resolver
) -> Iterator[Record]:
    """A Notification → what someone did to the user (mention, reply, boost, favourite, follow)."""
    kind = notification.get("type")
    actor_entity = notification.get("account")
    if not isinstance(actor_entity, Mapping):
        raise ValueError('a Notification needs an "account"')
    actor = resolver.learn_account(actor_entity)
    created = _time(notification.get("created_at"))
    status = notification.get("status")
    if kind in ("mention", "quote", "reblog", "favourite", "follow"):
        yield account_record(actor_entity, home=resolver.home)
    if kind in ("mention", "quote") and isinstance(status, Mapping):
        # The status itself carries the reply, quote or mention interaction from its author
        # (a ``quote`` notification, Mastodon 4.5, carries the quoting status).
        yield from status_records(status, resolver)
    elif kind in ("reblog", "favourite") and isinstance(status, Mapping) and status.get("uri"):
        yield from status_records(status, resolver)
        target = str(status["uri"])
        interaction = InteractionKind.REPOST if kind == "reblog" else InteractionKind.LIKE
        yield Interaction(M, interaction, actor, self_id, target, None, created)
    elif kind == "follow":
        yield Follow(M, actor, self_id, created)
        yield Interaction(M, InteractionKind.FOLLOW, actor, self_id, None, None, created)


def follow_records(
    account: Entity, self_id: str, *, follower: bool, resolver: Resolver
) -> Iterator[Record]:
    """One account of the user's followers (``follower``) or following list."""
    other = resolver.learn_account(account)
    yield account_record(account, home=resolver.home)
    yield Follow(M, other, self_id) if follower else Follow(M, self_id, other)
