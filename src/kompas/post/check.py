"""Checking a draft before anything is sent: per network, its length as that network
counts it, whether it fits, and the thread it becomes if not; which strategy pillar it
serves and what it does to the planned mix; and warnings (a bare link, an image without
alt text, a repeat of a recent post, a reply to an automated account, too many mentions).

Offline: it reads the workspace (strategy.yaml, the store, the saved instance limits) and
never the network. The same check serves ``kompas post check``, ``post send`` (which shows
it before asking) and the dashboard's draft box.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from kompas.errors import KompasError, UsageError
from kompas.i18n import Message, Render, message
from kompas.period import DEFAULT_DAYS, anchor
from kompas.post.length import (
    BLUESKY,
    MASTODON,
    NETWORKS,
    Limits,
    bluesky_length,
    entities,
    mastodon_length,
    mention_count,
    urls,
    workspace_limits,
)
from kompas.post.plan import (
    MONTH,
    Count,
    MixCheck,
    PillarCheck,
    draft_kind,
    mix_check,
    pillar_check,
)
from kompas.post.split import split

#: The longest draft kompas checks (a draft is a post or a thread, not a book).
MAX_DRAFT = 100_000
#: How far back a repeat of one of the user's posts is looked for.
RECENT = timedelta(days=DEFAULT_DAYS)
_WORDS = "draft.unit"


class DraftError(KompasError):
    """A draft kompas cannot check: empty, far too long, or naming a missing image."""


class TooLong(KompasError):
    """A draft that does not fit a network, when splitting it into a thread is not wanted."""


@dataclass(frozen=True, slots=True)
class NetworkFit:
    """A draft on one network: its length as the network counts it (Mastodon: characters,
    URLs as 23; Bluesky: graphemes, and UTF-8 bytes), the limit, whether it fits, and the
    parts it is posted as (the draft itself when it fits, else a numbered thread)."""

    length: int
    limit: int
    fits: bool
    parts: list[str]
    network: str = MASTODON
    unit: str = "characters"
    bytes: int | None = None
    byte_limit: int | None = None
    mentions: int = 0
    mention_limit: int | None = None
    #: Whether every part fits (a single URL longer than the limit cannot be cut).
    parts_fit: bool = True

    def to_json(self) -> dict[str, Any]:
        """``{"length", "limit", "fits", "parts", ...}``."""
        found: dict[str, Any] = {
            "length": self.length,
            "limit": self.limit,
            "fits": self.fits,
            "parts": list(self.parts),
            "unit": self.unit,
        }
        if self.bytes is not None:
            found.update(bytes=self.bytes, byte_limit=self.byte_limit)
        found.update(
            mentions=self.mentions, mention_limit=self.mention_limit, parts_fit=self.parts_fit
        )
        return found


@dataclass(frozen=True, slots=True)
class DraftWarning:
    """Something to look at before sending: a stable ``code`` and the sentence."""

    code: str
    message: Message
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self, text: Render = str) -> dict[str, Any]:
        """``{"code", "message", ...details}``."""
        return {"code": self.code, "message": text(self.message), **self.details}


#: The name the interfaces between the posting parts use.
Warning = DraftWarning


@dataclass(frozen=True, slots=True)
class DraftCheck:
    """Everything checked about one draft."""

    text: str
    networks: dict[str, NetworkFit]
    pillar: PillarCheck
    mix: MixCheck | None
    warnings: list[DraftWarning]

    def too_long(self) -> list[NetworkFit]:
        """The networks the draft does not fit as one post."""
        return [fit for fit in self.networks.values() if not fit.fits]

    def as_json(self, text: Render = str) -> dict[str, Any]:
        """``{"networks": {NETWORK: {"length", "limit", "fits", "parts"}}, "pillar", "mix",
        "warnings"}`` (what kompas says in English, or kept as messages through ``text``)."""
        return {
            "networks": {name: fit.to_json() for name, fit in self.networks.items()},
            "pillar": self.pillar.to_json(text),
            "mix": self.mix.to_json(text) if self.mix else None,
            "warnings": [w.to_json(text) for w in self.warnings],
        }


def parse_networks(value: str | None) -> tuple[str, ...]:
    """``mastodon,bluesky`` (the default when ``None``) as network names, each known."""
    if value is None:
        return NETWORKS
    names = tuple(dict.fromkeys(n.strip().lower() for n in value.split(",") if n.strip()))
    unknown = [n for n in names if n not in NETWORKS]
    if unknown or not names:
        raise UsageError(
            f"--to {value!r}: unknown network {', '.join(unknown) or '(none)'} "
            f"(expected {' or '.join(NETWORKS)}, or both separated by a comma)"
        )
    return names


def prepared(text: str) -> str:
    """The draft as it will be posted: line ends made ``\\n``, outer spaces trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise DraftError(message("draft.empty"))
    if len(text) > MAX_DRAFT:
        raise DraftError(message("draft.too_big", count=len(text), limit=MAX_DRAFT))
    return text


def network_fit(text: str, network: str, limits: Limits) -> NetworkFit:
    """``text`` on ``network``: its length, whether it fits, and its parts."""
    if network == MASTODON:

        def fits(part: str) -> bool:
            return mastodon_length(part, limits.url_characters) <= limits.mastodon_characters

        length = mastodon_length(text, limits.url_characters)
        parts = split(text, fits)
        return NetworkFit(
            length,
            limits.mastodon_characters,
            length <= limits.mastodon_characters,
            parts,
            MASTODON,
            "characters",
            mentions=mention_count(text),
            mention_limit=limits.mastodon_mentions,
            parts_fit=all(fits(p) for p in parts),
        )

    def fits_bluesky(part: str) -> bool:
        graphemes, size = bluesky_length(part)
        return graphemes <= limits.bluesky_graphemes and size <= limits.bluesky_bytes

    graphemes, size = bluesky_length(text)
    parts = split(text, fits_bluesky)
    return NetworkFit(
        graphemes,
        limits.bluesky_graphemes,
        graphemes <= limits.bluesky_graphemes and size <= limits.bluesky_bytes,
        parts,
        BLUESKY,
        "graphemes",
        size,
        limits.bluesky_bytes,
        mention_count(text),
        limits.bluesky_mentions,
        all(fits_bluesky(p) for p in parts),
    )


def require_fit(check: DraftCheck) -> None:
    """Raise :class:`TooLong` naming each network the draft does not fit, with its count
    (for ``--no-split``: the draft must go as one post)."""
    over = check.too_long()
    if not over:
        return
    fit = over[0]
    if fit.length > fit.limit or fit.bytes is None or fit.byte_limit is None:
        said = message(
            "draft.too_long",
            network=fit.network,
            length=fit.length,
            unit=message(f"{_WORDS}.{fit.unit}"),
            limit=fit.limit,
            parts=len(fit.parts),
        )
    else:
        said = message(
            "draft.too_long_bytes",
            network=fit.network,
            length=fit.bytes,
            limit=fit.byte_limit,
            parts=len(fit.parts),
        )
    raise TooLong(said)


def _content_warnings(
    text: str, fits: dict[str, NetworkFit], image: Path | None, alt: str | None
) -> list[DraftWarning]:
    found: list[DraftWarning] = []
    links = urls(text)
    if links:
        rest, last = [], 0
        for entity in entities(text):
            rest.append(text[last : entity.start])
            last = entity.end
        rest.append(text[last:])
        if not any(c.isalnum() for c in "".join(rest)):
            found.append(
                DraftWarning(
                    "link_without_text",
                    message("draft.warning.link_without_text"),
                    {"links": [u.text for u in links]},
                )
            )
    if image is not None and not (alt or "").strip():
        found.append(
            DraftWarning(
                "image_without_alt",
                message("draft.warning.image_without_alt", image=image.name),
                {"image": str(image)},
            )
        )
    for fit in fits.values():
        if fit.mention_limit is not None and fit.mentions > fit.mention_limit:
            found.append(
                DraftWarning(
                    "too_many_mentions",
                    message(
                        "draft.warning.too_many_mentions",
                        count=fit.mentions,
                        network=fit.network,
                        limit=fit.mention_limit,
                    ),
                    {"network": fit.network, "mentions": fit.mentions, "limit": fit.mention_limit},
                )
            )
        if not fit.parts_fit:
            worst = max(fit.parts, key=len)
            length = mastodon_length(worst) if fit.network == MASTODON else bluesky_length(worst)[0]
            found.append(
                DraftWarning(
                    "unsplittable",
                    message(
                        "draft.warning.unsplittable",
                        network=fit.network,
                        length=length,
                        unit=message(f"{_WORDS}.{fit.unit}"),
                        limit=fit.limit,
                    ),
                    {"network": fit.network},
                )
            )
    return found


def workspace_strategy(home: Path | None) -> Any:
    """The workspace's strategy (``None`` without one); a broken file is an error."""
    if home is None:
        return None
    path = home / "strategy.yaml"
    if not path.exists():
        return None
    from kompas.strategy.parse import load_strategy

    return load_strategy(path)


def check_draft(
    text: str,
    networks: tuple[str, ...] | list[str] = NETWORKS,
    *,
    reply_to: str | None = None,
    image: Path | None = None,
    alt: str | None = None,
    connection: sa.Connection | None = None,
    home: Path | None = None,
    limits: Limits | None = None,
    now: datetime | None = None,
    counter: Count | None = None,
) -> DraftCheck:
    """Check ``text`` for ``networks``. With ``connection`` (the store) and ``home`` (the
    workspace: strategy.yaml, saved instance limits) it also reads the post it replies to,
    the user's recent posts, pillars and plan; without them, only what the text says.
    ``counter`` reads the figures the draft is added to (see :func:`plan.metric_count`)."""
    text = prepared(text)
    names = parse_networks(",".join(networks)) if networks else NETWORKS
    if image is not None and not image.is_file():
        raise DraftError(message("draft.no_image", image=str(image)))
    limits = limits or workspace_limits(home)
    fits = {name: network_fit(text, name, limits) for name in names}
    warnings = _content_warnings(text, fits, image, alt)
    strategy = workspace_strategy(home)
    if connection is None:
        if reply_to:
            warnings.append(_unknown_reply(reply_to))
        pillar = pillar_check(strategy, text)
        kind = draft_kind(text, _own_places(strategy, ()), None, False, bool(reply_to))
        mix = MixCheck(kind, (), (message("draft.mix.no_store"),))
        return DraftCheck(text, fits, pillar, mix, warnings)
    from kompas.store.drafts import own_pages
    from kompas.store.queries import data_span
    from kompas.store.strategy import own_posts
    from kompas.strategy.review import corrections_of

    span = data_span(connection)
    until, anchored = anchor(span, now)
    recent = own_posts(connection, until - RECENT, until)
    reply_author, reply_is_self = None, False
    if reply_to:
        found, author, reply_is_self = _reply_warnings(connection, reply_to)
        warnings += found
        reply_author = author
    repeat = _repeat_warning(text, recent)
    if repeat is not None:
        warnings.append(repeat)
    month = [p for p in recent if p.created_at is not None and p.created_at >= until - MONTH]
    pillar = pillar_check(strategy, text, month, corrections_of(connection) if strategy else ())
    own = _own_places(strategy, own_pages(connection))
    kind = draft_kind(text, own, reply_author, reply_is_self, bool(reply_to))
    mix = mix_check(connection, strategy, kind, until, anchored, span.last, counter)
    return DraftCheck(text, fits, pillar, mix, warnings)


def _own_places(strategy: Any, pages: tuple[str, ...]) -> Any:
    from kompas.community.mix import OwnPlaces

    return OwnPlaces.of(strategy.domains if strategy else (), pages)


def _unknown_reply(reply_to: str) -> DraftWarning:
    return DraftWarning(
        "reply_target_unknown",
        message("draft.warning.reply_target_unknown", post=reply_to),
        {"reply_to": reply_to},
    )


def _reply_warnings(
    connection: sa.Connection, reply_to: str
) -> tuple[list[DraftWarning], str | None, bool]:
    """Warnings about the account a reply goes to, its handle, and whether it is the
    user's own (a thread)."""
    from kompas.community.relationships import display_handle
    from kompas.known_bots import is_known_bot
    from kompas.people.stored import automation
    from kompas.store.drafts import replied_post

    post = replied_post(connection, reply_to)
    if post is None:
        return [_unknown_reply(reply_to)], None, False
    who = display_handle(post.platform, post.author_id, post.author_handle) or post.author_id
    if post.author_is_self:
        return [], who, True
    details = {"reply_to": f"{post.platform}:{post.id}", "account": post.author_id}
    if is_known_bot(post.platform, post.author_handle):
        said = message("draft.warning.reply_to_known_bot", who=who)
        return (
            [DraftWarning("reply_to_automated", said, {**details, "why": "known_bot"})],
            who,
            False,
        )
    flag = automation(connection, post.platform, post.author_id)
    if flag.declared:
        said = message("draft.warning.reply_to_declared_bot", who=who)
    elif flag.likely:
        said = message("draft.warning.reply_to_automated", who=who, reason=flag.text())
    else:
        return [], who, False
    return [DraftWarning("reply_to_automated", said, {**details, "why": flag.reason})], who, False


def _repeat_warning(text: str, recent: list[Any]) -> DraftWarning | None:
    from kompas.post.similar import closest_repeat
    from kompas.strategy.review import ALIGNED_KINDS

    repeat = closest_repeat(text, [p for p in recent if p.kind in ALIGNED_KINDS])
    if repeat is None:
        return None
    post = repeat.post
    where = post.url or f"{post.platform}:{post.id}"
    date = post.created_at.date() if post.created_at else "?"
    details = {"post": f"{post.platform}:{post.id}", "url": post.url}
    if repeat.exact:
        said = message("draft.warning.duplicate", date=date, post=where)
        return DraftWarning("duplicate", said, {**details, "similarity": 1.0})
    shown = " ".join(post.text.split())
    shown = shown if len(shown) <= 80 else shown[:79] + "…"
    said = message(
        "draft.warning.near_duplicate",
        share=repeat.similarity,
        date=date,
        post=where,
        text=shown,
    )
    return DraftWarning(
        "near_duplicate", said, {**details, "similarity": round(repeat.similarity, 3)}
    )
