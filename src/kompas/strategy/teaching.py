"""``kompas strategy teach``: the user corrects a post's pillars, kompas stores it and
aligns with it from then on (:mod:`kompas.strategy.learning`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from kompas.errors import KompasError
from kompas.i18n import Message, message
from kompas.store import strategy as store
from kompas.strategy.alignment import Aligner, Alignment
from kompas.strategy.model import Strategy
from kompas.strategy.review import ALIGNED_KINDS, corrections_of


class TeachError(KompasError):
    """A correction kompas cannot take (unknown post or pillar)."""


@dataclass(frozen=True, slots=True)
class Taught:
    """What one correction changed."""

    post: str
    pillars: tuple[str, ...]
    before: Alignment
    after: Alignment
    corrections: int
    changed: int
    of: int

    def summary(self) -> Message:
        """What was taught and what it changed, in words for any language."""
        return message(
            "strategy.teach.done",
            post=self.post,
            serves=message("strategy.teach.serves", pillars=list(self.pillars))
            if self.pillars
            else message("strategy.teach.serves_none"),
            before=self.before.labels or message("strategy.teach.said_none"),
            count=self.corrections,
            changed=self.changed,
            of=self.of,
        )

    def to_json(self) -> dict[str, object]:
        """The ``kompas strategy teach --json`` shape."""
        return {
            "post": self.post,
            "pillars": list(self.pillars),
            "before": self.before.labels,
            "after": self.after.labels,
            "corrections": self.corrections,
            "changed": self.changed,
            "of": self.of,
        }


def split_reference(reference: str) -> tuple[str, str]:
    """``("mastodon", "123")`` from ``mastodon:123`` (ids may hold colons)."""
    platform, _, post_id = reference.partition(":")
    if not platform or not post_id:
        raise TeachError(
            f"{reference!r} is not a post (expected PLATFORM:ID as `kompas strategy align "
            "--json` prints it, for example mastodon:109876)"
        )
    return platform, post_id


def teach(
    connection: sa.Connection, strategy: Strategy, reference: str, pillars: Sequence[str]
) -> Taught:
    """Store that the post ``reference`` serves ``pillars`` (none: empty), and say how
    the alignment of the user's posts changed."""
    platform, post_id = split_reference(reference)
    known = {p.id for p in strategy.pillars}
    unknown = [p for p in pillars if p not in known]
    if unknown:
        raise TeachError(
            f"unknown pillar {unknown[0]!r}; your pillars are: {', '.join(sorted(known))}"
        )
    post = store.own_post(connection, platform, post_id)
    if post is None:
        raise TeachError(f"no post of yours is {reference} (see `kompas strategy align --json`)")
    if not post.text.strip():
        raise TeachError(f"{reference} has no text of its own to learn from")
    mine = [p for p in store.own_posts(connection) if p.kind in ALIGNED_KINDS and p.text.strip()]
    texts = [p.text for p in mine]
    ids = [f"{p.platform}:{p.id}" for p in mine]
    languages = [p.language for p in mine]
    # The posts are read and scored once; only the model is learnt again.
    base = Aligner(strategy.pillars, corpus=texts)
    before_all = base.learn(corrections_of(connection)).align_many(texts, ids, languages, False)
    store.save_correction(connection, platform, post_id, pillars, post.text)
    after_aligner = base.learn(corrections_of(connection))
    after_all = after_aligner.align_many(texts, ids, languages, False)
    changed = sum(
        1 for b, a in zip(before_all, after_all, strict=True) if set(b.labels) != set(a.labels)
    )
    index = ids.index(reference) if reference in ids else None
    before = (
        before_all[index]
        if index is not None
        else Aligner(strategy.pillars).align(post.text, reference, post.language)
    )
    after = (
        after_all[index]
        if index is not None
        else after_aligner.align(post.text, reference, post.language)
    )
    return Taught(
        post=reference,
        pillars=tuple(sorted(set(pillars))),
        before=before,
        after=after,
        corrections=len(store.corrections(connection)),
        changed=changed,
        of=len(mine),
    )
