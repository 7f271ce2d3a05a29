"""Profiles from three platforms, normalised to one small record.

``kompas people`` reads a Mastodon account entity, a Bluesky ``profileViewDetailed`` or an
X user object (API v1.1 or v2), each optionally with ``recent_posts`` in the platform's
own shape. Everything downstream (signals, the model, the verdict) sees only
:class:`Profile` and :class:`PostFacts`, so adding a platform is one function here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kompas.errors import KompasError


class ProfileError(KompasError):
    """A record that is not a profile kompas can read."""


@dataclass(frozen=True, slots=True)
class PostFacts:
    """What the people pillar needs to know about one recent post."""

    kind: str  # post | reply | repost | quote
    created_at: datetime | None = None
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    links: int = 0
    client: str | None = None
    #: Accounts this post interacts with (reply target, mentions, reposted author).
    partners: tuple[str, ...] = ()
    text: str = ""


@dataclass(frozen=True, slots=True)
class Profile:
    """One account, platform-neutral. ``None`` means "the platform did not say"."""

    platform: str
    id: str
    handle: str
    created_at: datetime | None = None
    followers: int | None = None
    following: int | None = None
    posts: int | None = None
    listed: int | None = None
    bio: str = ""
    display_name: str = ""
    default_avatar: bool | None = None
    default_profile: bool | None = None
    declared_bot: bool = False
    #: When the counts were observed (the record's own time), else ``None`` for "now".
    observed_at: datetime | None = None
    recent_posts: tuple[PostFacts, ...] = field(default_factory=tuple)

    @property
    def as_of(self) -> datetime:
        """The moment ages and rates are measured at."""
        if self.observed_at is not None:
            return self.observed_at
        times = [p.created_at for p in self.recent_posts if p.created_at is not None]
        return max(times) if times else datetime.now(UTC)


_X_TIME = "%a %b %d %H:%M:%S %z %Y"
_TAG = re.compile(r"<[^>]*>")
_ANCHOR = re.compile(r"<a\s[^>]*>", re.IGNORECASE)


_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def _x_time(value: str) -> datetime | None:
    """``Wed Jun 05 21:43:20 +0000 2019`` without ``strptime`` (ten times slower)."""
    if len(value) == 30 and value[19] == " " and value[20] in "+-":
        try:
            moment = datetime(
                int(value[26:30]),
                _MONTHS[value[4:7]],
                int(value[8:10]),
                int(value[11:13]),
                int(value[14:16]),
                int(value[17:19]),
                tzinfo=UTC,
            )
        except (KeyError, ValueError):
            return None
        offset = int(value[21:23]) * 60 + int(value[23:25])
        if offset:
            moment -= timedelta(minutes=offset if value[20] == "+" else -offset)
        return moment
    try:
        return datetime.strptime(value, _X_TIME).astimezone(UTC)
    except ValueError:
        return None


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 (Mastodon, Bluesky, X v2) or X v1.1's ``Wed Jun 05 21:43:20 +0000 2019``."""
    if not isinstance(value, str) or not value:
        return None
    if value[0].isalpha():
        return _x_time(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    zone = moment.tzinfo
    if zone is None:
        return moment.replace(tzinfo=UTC)
    return moment if zone is UTC else moment.astimezone(UTC)


def _int(value: Any) -> int | None:
    if type(value) is int:  # the common case first: this runs for every count of every line
        return value
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value:
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _str(value: Any) -> str:
    return value if type(value) is str or isinstance(value, str) else ""


def _posts(raw: Any, platform: str) -> tuple[PostFacts, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ProfileError("recent_posts is not a list")
    reader = _POST_READERS[platform]
    return tuple(reader(p) for p in raw if isinstance(p, Mapping))


def _mastodon_post(status: Mapping[str, Any]) -> PostFacts:
    reblog = status.get("reblog")
    partners: list[str] = []
    if isinstance(reblog, Mapping):
        kind = "repost"
        author = reblog.get("account")
        if isinstance(author, Mapping):
            partners.append(_str(author.get("acct")) or _str(author.get("id")))
    elif status.get("in_reply_to_id"):
        kind = "reply"
        # The replied-to account by its handle when it is also mentioned (it usually is).
        replied = _str(status.get("in_reply_to_account_id"))
        named = {
            _str(m.get("id")): _str(m.get("acct"))
            for m in status.get("mentions") or ()
            if isinstance(m, Mapping)
        }
        partners.append(named.get(replied) or replied)
    elif status.get("quote"):
        kind = "quote"
    else:
        kind = "post"
    for mention in status.get("mentions") or ():
        if isinstance(mention, Mapping):
            partners.append(_str(mention.get("acct")) or _str(mention.get("id")))
    html = _str(status.get("content"))
    app = status.get("application")
    return PostFacts(
        kind=kind,
        created_at=parse_time(status.get("created_at")),
        likes=_int(status.get("favourites_count")),
        reposts=_int(status.get("reblogs_count")),
        replies=_int(status.get("replies_count")),
        # Mastodon marks mentions and hashtags as anchors with the class "mention".
        links=sum(1 for a in _ANCHOR.findall(html) if "href" in a and "mention" not in a),
        client=_str(app.get("name")) or None if isinstance(app, Mapping) else None,
        partners=tuple(dict.fromkeys(p for p in partners if p)),
        text=_TAG.sub(" ", html),
    )


def _bluesky_post(item: Mapping[str, Any]) -> PostFacts:
    post = item.get("post", item)
    if not isinstance(post, Mapping):
        post = {}
    record = post.get("record") if isinstance(post.get("record"), Mapping) else {}
    assert isinstance(record, Mapping)
    reason = item.get("reason")
    partners: list[str] = []
    if isinstance(reason, Mapping) and "Repost" in _str(reason.get("$type")):
        kind = "repost"
        author = post.get("author")
        if isinstance(author, Mapping):
            partners.append(_str(author.get("handle")) or _str(author.get("did")))
    elif isinstance(record.get("reply"), Mapping):
        kind = "reply"
        parent = item.get("reply", {})
        parent_post = parent.get("parent") if isinstance(parent, Mapping) else None
        author = parent_post.get("author") if isinstance(parent_post, Mapping) else None
        if isinstance(author, Mapping):
            partners.append(_str(author.get("handle")) or _str(author.get("did")))
        else:
            uri = _str(record["reply"].get("parent", {}).get("uri"))
            partners.append(uri.split("/")[2] if uri.startswith("at://") else "")
    elif isinstance(record.get("embed"), Mapping) and "record" in _str(
        record["embed"].get("$type")
    ):
        kind = "quote"
    else:
        kind = "post"
    links = 0
    for facet in record.get("facets") or ():
        for feature in facet.get("features", ()) if isinstance(facet, Mapping) else ():
            feature_type = _str(feature.get("$type")) if isinstance(feature, Mapping) else ""
            if feature_type.endswith("#link"):
                links += 1
            elif feature_type.endswith("#mention"):
                partners.append(_str(feature.get("did")))
    return PostFacts(
        kind=kind,
        created_at=parse_time(record.get("createdAt") or post.get("indexedAt")),
        likes=_int(post.get("likeCount")),
        reposts=_int(post.get("repostCount")),
        replies=_int(post.get("replyCount")),
        links=links,
        client=None,
        partners=tuple(dict.fromkeys(p for p in partners if p)),
        text=_str(record.get("text")),
    )


def _x_post(tweet: Mapping[str, Any]) -> PostFacts:
    partners: list[str] = []
    metrics = (
        tweet.get("public_metrics") if isinstance(tweet.get("public_metrics"), Mapping) else {}
    )
    assert isinstance(metrics, Mapping)
    referenced = {
        _str(r.get("type")) for r in tweet.get("referenced_tweets") or () if isinstance(r, Mapping)
    }
    retweeted = tweet.get("retweeted_status")
    if isinstance(retweeted, Mapping) or "retweeted" in referenced:
        kind = "repost"
        if isinstance(retweeted, Mapping) and isinstance(retweeted.get("user"), Mapping):
            partners.append(_str(retweeted["user"].get("screen_name")))
    elif tweet.get("in_reply_to_status_id_str") or "replied_to" in referenced:
        kind = "reply"
        partners.append(
            _str(tweet.get("in_reply_to_screen_name")) or _str(tweet.get("in_reply_to_user_id"))
        )
    elif tweet.get("is_quote_status") or "quoted" in referenced:
        kind = "quote"
    else:
        kind = "post"
    entities = tweet.get("entities") if isinstance(tweet.get("entities"), Mapping) else {}
    assert isinstance(entities, Mapping)
    for mention in entities.get("user_mentions") or entities.get("mentions") or ():
        if isinstance(mention, Mapping):
            partners.append(_str(mention.get("screen_name")) or _str(mention.get("username")))
    source = _TAG.sub("", _str(tweet.get("source"))) or None
    return PostFacts(
        kind=kind,
        created_at=parse_time(tweet.get("created_at")),
        likes=_int(tweet.get("favorite_count", metrics.get("like_count"))),
        reposts=_int(tweet.get("retweet_count", metrics.get("retweet_count"))),
        replies=_int(tweet.get("reply_count", metrics.get("reply_count"))),
        links=len(entities.get("urls") or ()),
        client=source,
        partners=tuple(dict.fromkeys(p for p in partners if p)),
        text=_str(tweet.get("full_text") or tweet.get("text")),
    )


def _neutral_post(post: Mapping[str, Any]) -> PostFacts:
    """kompas's own shape (``kind``, counts, ``links``, ``partners``), e.g. from the store."""
    kind = _str(post.get("kind")) or "post"
    links = post.get("links", 0)
    return PostFacts(
        kind=kind if kind in {"post", "reply", "repost", "quote"} else "post",
        created_at=parse_time(post.get("created_at")),
        likes=_int(post.get("likes")),
        reposts=_int(post.get("reposts")),
        replies=_int(post.get("replies")),
        links=len(links) if isinstance(links, list) else (_int(links) or 0),
        client=_str(post.get("client")) or None,
        partners=tuple(str(p) for p in post.get("partners") or () if p),
        text=_str(post.get("text")),
    )


def _read_post(platform: str) -> Any:
    native = {"mastodon": _mastodon_post, "bluesky": _bluesky_post, "x": _x_post}[platform]

    def read(post: Mapping[str, Any]) -> PostFacts:
        return _neutral_post(post) if "kind" in post and "partners" in post else native(post)

    return read


_POST_READERS = {name: _read_post(name) for name in ("mastodon", "bluesky", "x")}


def _mastodon(raw: Mapping[str, Any], observed: datetime | None) -> Profile:
    avatar = _str(raw.get("avatar"))
    return Profile(
        platform="mastodon",
        id=_str(raw.get("id")) or _str(raw.get("acct")),
        handle=_str(raw.get("acct")) or _str(raw.get("username")),
        created_at=parse_time(raw.get("created_at")),
        followers=_int(raw.get("followers_count")),
        following=_int(raw.get("following_count")),
        posts=_int(raw.get("statuses_count")),
        bio=_TAG.sub(" ", _str(raw.get("note"))).strip(),
        display_name=_str(raw.get("display_name")),
        default_avatar=("missing.png" in avatar) if avatar else None,
        declared_bot=raw.get("bot") is True,
        observed_at=observed,
        recent_posts=_posts(raw.get("recent_posts"), "mastodon"),
    )


_BOT_LABELS = {"bot", "automated", "!bot"}


def _self_labelled_bot(did: str, labels: Any) -> bool:
    """Whether a Bluesky account labels itself a bot (and has not negated the label)."""
    return any(
        isinstance(label, Mapping)
        and _str(label.get("src")) == did
        and _str(label.get("val")).lower() in _BOT_LABELS
        and not label.get("neg")
        for label in labels or ()
    )


def _bluesky(raw: Mapping[str, Any], observed: datetime | None) -> Profile:
    did = _str(raw.get("did"))
    declared = _self_labelled_bot(did, raw.get("labels"))
    return Profile(
        platform="bluesky",
        id=did,
        handle=_str(raw.get("handle")),
        created_at=parse_time(raw.get("createdAt")),
        followers=_int(raw.get("followersCount")),
        following=_int(raw.get("followsCount")),
        posts=_int(raw.get("postsCount")),
        bio=_str(raw.get("description")),
        display_name=_str(raw.get("displayName")),
        default_avatar=not raw.get("avatar"),
        declared_bot=declared,
        observed_at=observed,
        recent_posts=_posts(raw.get("recent_posts"), "bluesky"),
    )


def _x(raw: Mapping[str, Any], observed: datetime | None) -> Profile:
    metrics = raw.get("public_metrics")
    if isinstance(metrics, Mapping):  # API v2
        followers = _int(metrics.get("followers_count"))
        following = _int(metrics.get("following_count"))
        posts = _int(metrics.get("tweet_count"))
        listed = _int(metrics.get("listed_count"))
        handle = _str(raw.get("username"))
        image = _str(raw.get("profile_image_url"))
        default_avatar: bool | None = ("default_profile_images" in image) if image else None
        default_profile = None
    else:
        followers = _int(raw.get("followers_count"))
        following = _int(raw.get("friends_count"))
        posts = _int(raw.get("statuses_count"))
        listed = _int(raw.get("listed_count"))
        handle = _str(raw.get("screen_name"))
        avatar_flag = raw.get("default_profile_image")
        default_avatar = avatar_flag if isinstance(avatar_flag, bool) else None
        profile_flag = raw.get("default_profile")
        default_profile = profile_flag if isinstance(profile_flag, bool) else None
    return Profile(
        platform="x",
        id=_str(raw.get("id_str")) or str(raw.get("id") or "") or handle,
        handle=handle,
        created_at=parse_time(raw.get("created_at")),
        followers=followers,
        following=following,
        posts=posts,
        listed=listed,
        bio=_str(raw.get("description")),
        display_name=_str(raw.get("name")),
        default_avatar=default_avatar,
        default_profile=default_profile,
        observed_at=observed,
        recent_posts=_posts(raw.get("recent_posts"), "x"),
    )


_PLATFORMS = frozenset(("mastodon", "bluesky", "x"))


def detect(raw: Mapping[str, Any]) -> str:
    """Which platform's shape ``raw`` is: ``mastodon``, ``bluesky`` or ``x``."""
    if "did" in raw and "handle" in raw:
        return "bluesky"
    if "acct" in raw and "username" in raw:
        return "mastodon"
    if "screen_name" in raw or "public_metrics" in raw or "username" in raw:
        return "x"
    raise ProfileError(
        "not a Mastodon account, Bluesky profile view or X user object "
        "(expected keys acct/username, did/handle, or screen_name/username)"
    )


def normalise(raw: Any) -> Profile:
    """Any supported profile (also ``{"created_at", "user": {...}}`` records, whose time is
    when the user object was observed) → :class:`Profile`; raises :class:`ProfileError`."""
    if not isinstance(raw, Mapping):
        raise ProfileError(f"expected a JSON object, got {type(raw).__name__}")
    observed = parse_time(raw.get("observed_at"))
    user = raw.get("user")
    if isinstance(user, Mapping) and "screen_name" not in raw and "acct" not in raw:
        observed = parse_time(raw.get("created_at")) or observed
        if "recent_posts" in raw and "recent_posts" not in user:
            user = {**user, "recent_posts": raw["recent_posts"]}
        raw = user
    platform = raw.get("platform")
    kind = platform if isinstance(platform, str) and platform in _PLATFORMS else detect(raw)
    reader = {"mastodon": _mastodon, "bluesky": _bluesky, "x": _x}[kind]
    try:
        return reader(raw, observed)
    except (AttributeError, TypeError, KeyError, ValueError) as error:
        # A field of an unexpected type deep inside (e.g. a reply that is a string).
        raise ProfileError(f"unexpected {kind} profile layout: {error!r}") from None


#: What :func:`flat` reads from a profile without recent posts: platform, id, handle,
#: created, observed, followers, following, posts, listed, default profile (1.0, 0.0 or
#: NaN when unknown), bio length in characters, declared bot (1.0 or 0.0), display name.
Flat = tuple[
    str,
    str,
    str,
    datetime | None,
    datetime | None,
    int | None,
    int | None,
    int | None,
    int | None,
    float,
    float,
    float,
    str,
]

_NAN = float("nan")


def flat(raw: Any) -> Flat | None:
    """The facts :func:`normalise` would give for a plain profile without recent posts,
    without building a :class:`Profile` (scoring a million lines spends its time here);
    ``None`` for anything else (recent posts, a wrapped user, an unknown or odd shape),
    which goes through :func:`normalise` and gets the same values or its error."""
    if type(raw) is not dict or "recent_posts" in raw or "user" in raw:
        return None
    get = raw.get
    observed_at = get("observed_at")
    observed = None if observed_at is None else parse_time(observed_at)
    kind = get("platform")
    if not isinstance(kind, str) or kind not in _PLATFORMS:
        if "did" in raw and "handle" in raw:
            kind = "bluesky"
        elif "acct" in raw and "username" in raw:
            kind = "mastodon"
        elif "screen_name" in raw or "public_metrics" in raw or "username" in raw:
            kind = "x"
        else:
            return None
    try:
        listed: int | None = None
        if kind == "x":
            metrics = get("public_metrics")
            if type(metrics) is dict or isinstance(metrics, Mapping):  # API v2
                followers = _int(metrics.get("followers_count"))
                following = _int(metrics.get("following_count"))
                posts = _int(metrics.get("tweet_count"))
                listed = _int(metrics.get("listed_count"))
                handle = _str(get("username"))
                image = _str(get("profile_image_url"))
                default = (1.0 if "default_profile_images" in image else 0.0) if image else _NAN
            else:
                followers = _int(get("followers_count"))
                following = _int(get("friends_count"))
                posts = _int(get("statuses_count"))
                listed = _int(get("listed_count"))
                handle = _str(get("screen_name"))
                flags = [
                    flag
                    for flag in (get("default_profile_image"), get("default_profile"))
                    if isinstance(flag, bool)
                ]
                default = float(any(flags)) if flags else _NAN
            ident = _str(get("id_str")) or str(get("id") or "") or handle
            bio = _str(get("description"))
            name = _str(get("name"))
            declared = 0.0
        elif kind == "mastodon":
            ident = _str(get("id")) or _str(get("acct"))
            handle = _str(get("acct")) or _str(get("username"))
            followers = _int(get("followers_count"))
            following = _int(get("following_count"))
            posts = _int(get("statuses_count"))
            bio = _str(get("note"))
            if "<" in bio:
                bio = _TAG.sub(" ", bio)
            avatar = _str(get("avatar"))
            default = (1.0 if "missing.png" in avatar else 0.0) if avatar else _NAN
            declared = 1.0 if get("bot") is True else 0.0
            name = _str(get("display_name"))
        else:
            ident = _str(get("did"))
            handle = _str(get("handle"))
            followers = _int(get("followersCount"))
            following = _int(get("followsCount"))
            posts = _int(get("postsCount"))
            bio = _str(get("description"))
            name = _str(get("displayName"))
            default = 0.0 if get("avatar") else 1.0
            labels = get("labels")
            declared = 1.0 if labels and _self_labelled_bot(ident, labels) else 0.0
        created = parse_time(get("createdAt" if kind == "bluesky" else "created_at"))
    except (AttributeError, TypeError, KeyError, ValueError):
        return None
    return (
        kind,
        ident,
        handle,
        created,
        observed,
        followers,
        following,
        posts,
        listed,
        default,
        float(len(bio.strip())),
        declared,
        name,
    )


def from_stored(
    platform: str,
    account_id: str,
    fields: Mapping[str, Any],
    posts: Sequence[Mapping[str, Any]] = (),
) -> Profile:
    """A profile from the store's account columns and neutral recent posts."""
    bot = fields.get("is_bot")
    return Profile(
        platform=platform,
        id=account_id,
        handle=_str(fields.get("handle")) or account_id,
        created_at=fields.get("created_at"),
        followers=_int(fields.get("followers_count")),
        following=_int(fields.get("following_count")),
        posts=_int(fields.get("posts_count")),
        bio=_str(fields.get("bio")),
        display_name=_str(fields.get("display_name")),
        declared_bot=bot is True,
        recent_posts=tuple(_neutral_post(p) for p in posts),
    )
