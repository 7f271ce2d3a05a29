"""What each of the user's posts is (conversation, sharing, broadcast or other) and the
style the mix adds up to, with reasons in plain words.

Self-promotion is a link to the user's *own* places (the domains in strategy.yaml, the
profile's own links, the user's own posts); anyone else's link is sharing, as a repost is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from kompas.community.contacts import Index
from kompas.community.report import LURKER_POSTS_PER_WEEK, STYLE_SHARE, Mix
from kompas.i18n import Message, message
from kompas.model import Post, PostKind

CONVERSATION = "conversation"
SHARING = "sharing"
BROADCAST = "broadcast"
OTHER = "other"
KINDS = (CONVERSATION, SHARING, BROADCAST, OTHER)

#: Link shorteners say nothing about whose page a link is (an X profile's website is a t.co).
_SHORTENERS = frozenset({"t.co", "bit.ly", "buff.ly", "ow.ly", "tinyurl.com", "lnkd.in"})


def _host(url: str) -> str:
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.lower().removeprefix("www.")


@dataclass(frozen=True, slots=True)
class OwnPlaces:
    """The user's own domains (a domain covers its subdomains) and own pages (URL prefixes,
    such as the profile URL, which covers the user's own posts on the platform)."""

    domains: frozenset[str] = frozenset()
    pages: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, domains: Iterable[str] = (), pages: Iterable[str] = ()) -> OwnPlaces:
        """From domain names or URLs (``example.com``, ``https://blog.example.com/``) and
        page URLs; shorteners are ignored."""
        hosts = set()
        for item in domains:
            host = _host(item if "//" in item else f"https://{item}")
            if host and host not in _SHORTENERS:
                hosts.add(host)
        prefixes = set()
        for page in pages:
            host = _host(page)
            if not host or host in _SHORTENERS:
                continue
            path = urlsplit(page.strip()).path.rstrip("/")
            prefixes.add(f"{host}{path}/")
        return cls(frozenset(hosts), tuple(sorted(prefixes)))

    def owns(self, url: str) -> bool:
        """Whether ``url`` points to one of the user's own places."""
        host = _host(url)
        if not host:
            return False
        if any(host == d or host.endswith("." + d) for d in self.domains):
            return True
        if not self.pages:
            return False
        try:
            path = urlsplit(url.strip()).path.rstrip("/")
        except ValueError:
            return False
        where = f"{host}{path}/"
        return any(where.startswith(prefix) for prefix in self.pages)


@dataclass(frozen=True, slots=True)
class Kind:
    """One post's place in the mix; ``self_promotion`` and ``shared_link`` say why."""

    kind: str
    self_promotion: bool = False
    shared_link: bool = False


def classify(post: Post, index: Index, own: OwnPlaces) -> Kind:
    """The mix kind of one of the user's posts."""
    platform = post.platform.value
    if post.kind in (PostKind.REPOST, PostKind.QUOTE):
        author = (
            post.repost_of_author_id
            if post.kind is PostKind.REPOST
            else index.quote_authors.get((platform, post.id))
        )
        if index.is_self(platform, author):
            return Kind(BROADCAST, self_promotion=True)
        return Kind(SHARING)
    if post.kind is PostKind.REPLY and not index.is_self(platform, post.reply_to_author_id):
        return Kind(CONVERSATION)
    if any(own.owns(link) for link in post.links):
        return Kind(BROADCAST, self_promotion=True)
    if post.links:
        return Kind(SHARING, shared_link=True)
    return Kind(OTHER)


def _kind(kind: str) -> Message:
    return message(f"common.kind.{kind}")


#: The style each kind of post gives when it reaches ``STYLE_SHARE`` of the mix.
_STYLE_OF_KIND = {
    CONVERSATION: "connector",
    SHARING: "curator",
    BROADCAST: "promoter",
    OTHER: "writer",
}


def style_of(
    mix: Mix, posts: int, per_week: float, one_way: Message | None = None
) -> tuple[str, tuple[Message, ...]]:
    """The user's style from the mix (plain posts count too), with the reasons; a mostly
    replying user whom few answer (``one_way`` says how few) is a ``replier``, not a
    ``connector``."""
    if posts == 0 or per_week < LURKER_POSTS_PER_WEEK:
        return "lurker", (
            message("community.style.lurker", per_week=per_week, limit=LURKER_POSTS_PER_WEEK),
        )
    shares = {kind: getattr(mix, kind) for kind in KINDS}
    kind, share = max(shares.items(), key=lambda item: item[1])
    if share < STYLE_SHARE:
        return "all-rounder", (
            message(
                "community.style.all_rounder", limit=STYLE_SHARE, kind=_kind(kind), share=share
            ),
        )
    reason = message("community.style.share", kind=_kind(kind), share=share, limit=STYLE_SHARE)
    style = _STYLE_OF_KIND[kind]
    if style == "connector" and one_way is not None:
        return "replier", (reason, one_way)
    return style, (reason,)
