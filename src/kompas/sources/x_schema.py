"""The records of an X archive as kompas reads them: msgspec structs that decode and
validate in one pass (strings are strings, ids are digit strings of a sane length, lists
are lists). Keys kompas does not use are skipped unread; a key it uses with the wrong type
stops the import with the record and the field named."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct, field

#: An account or tweet id: X's ids are 64-bit integers written as decimal strings.
Id = Annotated[str, Meta(pattern=r"^[0-9]{1,20}$")]
#: A count written as a decimal string ("favorite_count" : "12").
Count = Annotated[str, Meta(pattern=r"^[0-9]{1,12}$")]
#: Any text field: bounded so one value cannot be the whole archive.
Text = Annotated[str, Meta(max_length=1_000_000)]
Short = Annotated[str, Meta(max_length=10_000)]


class Mention(Struct):
    """An entry of ``entities.user_mentions``."""

    id_str: Id | None = None
    id: Id | None = None
    screen_name: Short | None = None
    name: Short | None = None


class Url(Struct):
    """An entry of ``entities.urls``."""

    expanded_url: Text | None = None


class Hashtag(Struct):
    """An entry of ``entities.hashtags``."""

    text: Short | None = None


class Entities(Struct):
    """What a tweet links to."""

    user_mentions: list[Mention] = field(default_factory=list)
    urls: list[Url] = field(default_factory=list)
    hashtags: list[Hashtag] = field(default_factory=list)


class Tweet(Struct):
    """One tweet of ``tweets.js``."""

    id_str: Id | None = None
    id: Id | None = None
    full_text: Text | None = None
    text: Text | None = None
    created_at: Short | None = None
    lang: Short | None = None
    source: Text | None = None
    in_reply_to_status_id_str: Id | None = None
    in_reply_to_user_id_str: Id | None = None
    favorite_count: Count | None = None
    retweet_count: Count | None = None
    entities: Entities = field(default_factory=Entities)


class TweetItem(Struct):
    """An element of ``tweets.js``: ``{"tweet": {...}}``."""

    tweet: Tweet


class Like(Struct):
    """One like of ``like.js``."""

    tweetId: Id


class LikeItem(Struct):
    """An element of ``like.js``."""

    like: Like


class Edge(Struct):
    """One account of ``follower.js`` / ``following.js``."""

    accountId: Id


class FollowerItem(Struct):
    """An element of ``follower.js``."""

    follower: Edge


class FollowingItem(Struct):
    """An element of ``following.js``."""

    following: Edge


class Account(Struct):
    """The user, from ``account.js``."""

    accountId: Id | None = None
    username: Short | None = None
    accountDisplayName: Short | None = None
    createdAt: Short | None = None


class AccountItem(Struct):
    """An element of ``account.js``."""

    account: Account


class Description(Struct):
    """The profile's description."""

    bio: Text | None = None


class Profile(Struct):
    """The user's profile, from ``profile.js``."""

    description: Description = field(default_factory=Description)


class ProfileItem(Struct):
    """An element of ``profile.js``."""

    profile: Profile


class UserInfo(Struct):
    """The user, as ``manifest.js`` names them."""

    accountId: Id | None = None
    userName: Short | None = None


class ArchiveInfo(Struct):
    """What ``manifest.js`` says about the archive itself."""

    generationDate: Short | None = None
    isPartialArchive: bool | None = None


class Manifest(Struct):
    """``manifest.js`` (``window.__THAR_CONFIG``)."""

    userInfo: UserInfo | None = None
    archiveInfo: ArchiveInfo | None = None
