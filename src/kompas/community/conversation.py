"""Conversations over loaded rows (the reference path): the threads the user took part in
with someone else."""

from __future__ import annotations

from kompas.community.contacts import RECEIVED, Contact, Index
from kompas.model import InteractionKind, Post, PostKind
from kompas.period import Period

ADDRESSING = (InteractionKind.REPLY, InteractionKind.MENTION)


def thread_of(post: Post, by_id: dict[tuple[str, str], Post]) -> tuple[str, str]:
    """The thread a post belongs to: its conversation id, else the oldest post its reply
    chain reaches among the loaded ones (or the first post it names that is not loaded)."""
    platform = post.platform.value
    if post.conversation_id:
        return (platform, "c:" + post.conversation_id)
    current, seen = post, set()
    while current.reply_to_id is not None:
        key = (platform, current.reply_to_id)
        if key not in by_id or key in seen:
            break
        seen.add(key)
        current = by_id[key]
    return (platform, "r:" + (current.reply_to_id or current.id))


def threads(
    index: Index, period: Period, own: list[Post], others: list[Post], contacts: list[Contact]
) -> tuple[int, int]:
    """Threads the user posted in during the period with at least one other person:
    (started by the user, joined)."""
    by_id = {(p.platform.value, p.id): p for p in (*own, *others)}
    active: set[tuple[str, str]] = set()
    root_own: set[tuple[str, str]] = set()
    with_others: set[tuple[str, str]] = set()
    post_thread: dict[tuple[str, str], tuple[str, str]] = {}
    for post in own:
        if post.kind is PostKind.REPOST:
            continue  # sharing, not conversation
        platform = post.platform.value
        key = thread_of(post, by_id)
        post_thread[(platform, post.id)] = key
        if period.contains(post.created_at):
            active.add(key)
        if post.reply_to_id is None:
            root_own.add(key)
        elif not index.is_self(platform, post.reply_to_author_id):
            with_others.add(key)
        if any(not index.is_self(platform, m) for m in post.mentions):
            with_others.add(key)
    for post in others:
        with_others.add(thread_of(post, by_id))
    for contact in contacts:
        if contact.direction == RECEIVED and contact.kind in ADDRESSING:
            addressed = post_thread.get((contact.platform, contact.target_post_id or ""))
            if addressed is not None:
                with_others.add(addressed)
    talking = active & with_others
    started = len(talking & root_own)
    return started, len(talking) - started
