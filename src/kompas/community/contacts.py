"""Who the user exchanged what with: every interaction given or received, read once from
the store's rows and keyed by *person* (the linked person's name, else ``platform:id``), so a
person linked across platforms is one person in ``all``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from kompas.model import InteractionKind, Post, PostKind
from kompas.store.community import CommunityData

GIVEN = "given"
RECEIVED = "received"


@dataclass(frozen=True, slots=True)
class Contact:
    """One interaction between the user and another person (``person`` is ``None`` when
    the export does not say whom, e.g. an X like)."""

    platform: str
    direction: str
    kind: InteractionKind
    person: str | None
    account: str | None
    when: datetime | None
    via_post_id: str | None
    target_post_id: str | None


@dataclass
class Index:
    """The rows, sorted out once: the user's accounts, contacts, and who is whom."""

    selves: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    self_persons: set[str] = field(default_factory=set)
    contacts: list[Contact] = field(default_factory=list)
    received_known: set[str] = field(default_factory=set)
    quote_authors: dict[tuple[str, str], str | None] = field(default_factory=dict)
    persons: dict[tuple[str, str], str] = field(default_factory=dict)

    keys: dict[tuple[str, str], str] = field(default_factory=dict)
    own: dict[tuple[str, str], bool] = field(default_factory=dict)

    def person(self, platform: str, account: str) -> str:
        """The account's person key (memoised: called for every exchange)."""
        key = self.keys.get((platform, account))
        if key is None:
            key = self.persons.get((platform, account)) or f"{platform}:{account}"
            self.keys[(platform, account)] = key
        return key

    def is_self(self, platform: str, account: str | None) -> bool:
        """Whether the account is the user's own (or linked to the user's person)."""
        if account is None:
            return False
        found = self.own.get((platform, account))
        if found is None:
            found = account in self.selves[platform] or (
                self.person(platform, account) in self.self_persons
            )
            self.own[(platform, account)] = found
        return found

    def authored(self, post: Post) -> bool:
        """Whether the user wrote ``post``."""
        return post.author_id in self.selves[post.platform.value]


def _contacts_of(index: Index, post: Post) -> list[Contact]:
    """Whom one of the user's posts interacts with: a repost its author; otherwise whom it
    replies to, quotes and mentions, each person once per post (never the user)."""
    platform = post.platform.value
    if post.kind is PostKind.REPOST:
        found = [(post.repost_of_author_id, InteractionKind.REPOST)]
    else:
        found = [(post.reply_to_author_id, InteractionKind.REPLY)]
        if post.kind is PostKind.QUOTE:
            found.append((index.quote_authors.get((platform, post.id)), InteractionKind.QUOTE))
        found += [(m, InteractionKind.MENTION) for m in post.mentions]
    contacts: dict[str, Contact] = {}
    for account, kind in found:
        if account is None or index.is_self(platform, account):
            continue
        person = index.person(platform, account)
        if person not in contacts:
            contacts[person] = Contact(
                platform, GIVEN, kind, person, account, post.created_at, post.id, None
            )
    return list(contacts.values())


def index_of(data: CommunityData) -> Index:
    """Every contact of the user, given (their interactions and posts) and received
    (interactions targeting them, others' posts replying to them), each once."""
    index = Index(persons=data.persons)
    for me in data.selves:
        index.selves[me.platform.value].add(me.id)
        index.self_persons.add(index.person(me.platform.value, me.id))
    own_ids = {(p.platform.value, p.id) for p in data.posts if index.authored(p)}
    seen_in: set[tuple[str, str, str, str | None]] = set()
    for act in data.interactions:
        platform = act.platform.value
        if act.actor_id in index.selves[platform]:
            other = act.target_account_id
            if act.kind is InteractionKind.QUOTE and act.via_post_id:
                # The smallest known author, whatever order the rows came in (as in SQL).
                quoted = (platform, act.via_post_id)
                known = index.quote_authors.get(quoted)
                index.quote_authors[quoted] = other if known is None else min(known, other or known)
            if (platform, act.via_post_id or "") in own_ids or index.is_self(platform, other):
                continue  # read off the user's own post below; or the user to themselves
            direction, person = GIVEN, None if other is None else index.person(platform, other)
            account = other
        elif index.is_self(platform, act.target_account_id):
            if index.is_self(platform, act.actor_id):
                continue
            direction, account = RECEIVED, act.actor_id
            person = index.person(platform, act.actor_id)
            index.received_known.add(platform)
            seen_in.add((platform, act.kind.value, act.actor_id, act.via_post_id))
        else:
            continue
        index.contacts.append(
            Contact(
                platform,
                direction,
                act.kind,
                person,
                account,
                act.created_at,
                act.via_post_id,
                act.target_post_id,
            )
        )
    for post in data.posts:
        if (post.platform.value, post.id) in own_ids:
            index.contacts.extend(_contacts_of(index, post))
    for post in data.posts:
        platform = post.platform.value
        if index.authored(post) or index.is_self(platform, post.author_id):
            continue
        index.received_known.add(platform)
        replies_to_user = index.is_self(platform, post.reply_to_author_id) or (
            (platform, post.reply_to_id or "") in own_ids
        )
        key = (platform, InteractionKind.REPLY.value, post.author_id, post.id)
        if replies_to_user and key not in seen_in:
            index.contacts.append(
                Contact(
                    platform,
                    RECEIVED,
                    InteractionKind.REPLY,
                    index.person(platform, post.author_id),
                    post.author_id,
                    post.created_at,
                    post.id,
                    post.reply_to_id,
                )
            )
    return index
