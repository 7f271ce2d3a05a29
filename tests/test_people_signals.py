"""People pillar: profiles from three platforms and each signal, on hand-checkable inputs."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from kompas.people.metrics import auc, f1, fpr
from kompas.people.profiles import ProfileError, normalise, parse_time
from kompas.people.signals import (
    columns_from_profiles,
    fit_handle_model,
    handle_name,
    handle_signals,
    signal_table,
)

FLAT = fit_handle_model(["placeholder"])


def _signals(raw: dict) -> dict[str, float]:  # type: ignore[type-arg]
    table = signal_table(columns_from_profiles([normalise(raw)]), FLAT)
    return {name: float(values[0]) for name, values in table.items()}


MASTODON = {
    "id": "109",
    "username": "ada",
    "acct": "ada@example.social",
    "display_name": "Ada",
    "note": "<p>Engines and poems</p>",
    "avatar": "https://example.social/avatars/original/missing.png",
    "bot": False,
    "created_at": "2024-01-01T00:00:00.000Z",
    "followers_count": 199,
    "following_count": 99,
    "statuses_count": 300,
    "observed_at": "2024-04-10T00:00:00Z",  # 100 days later
    "recent_posts": [
        {
            "id": "1",
            "created_at": "2024-04-09T00:00:00Z",
            "in_reply_to_id": None,
            "reblog": None,
            "content": '<p>See <a href="https://a.example/x">a link</a></p>',
            "favourites_count": 6,
            "reblogs_count": 2,
            "replies_count": 0,
            "mentions": [],
            "tags": [],
            "application": {"name": "Web"},
        },
        {
            "id": "2",
            "created_at": "2024-04-08T00:00:00Z",
            "in_reply_to_id": "77",
            "in_reply_to_account_id": "5",
            "reblog": None,
            "content": "<p>yes</p>",
            "favourites_count": 0,
            "reblogs_count": 0,
            "replies_count": 1,
            "mentions": [{"id": "5", "acct": "bob@example.social"}],
            "tags": [],
            "application": {"name": "Tusky"},
        },
        {
            "id": "3",
            "created_at": "2024-04-07T00:00:00Z",
            "reblog": {"id": "9", "account": {"id": "6", "acct": "cy@example.social"}},
            "content": "",
            "favourites_count": 0,
            "reblogs_count": 0,
            "mentions": [],
            "application": None,
        },
        {
            "id": "4",
            "created_at": "2024-04-06T00:00:00Z",
            "reblog": {"id": "10", "account": {"id": "6", "acct": "cy@example.social"}},
            "content": "",
            "mentions": [],
        },
    ],
}


def test_mastodon_signals_by_hand() -> None:
    signals = _signals(MASTODON)
    assert signals["age_days"] == 100.0
    assert signals["posts_per_day"] == 3.0  # 300 posts over 100 days
    assert signals["followers_following_ratio"] == 2.0  # (199 + 1) / (99 + 1)
    assert math.isnan(signals["lists_per_follower"])  # Mastodon has no lists count
    assert signals["original_share"] == 0.25
    assert signals["repost_share"] == 0.5
    assert signals["reply_share"] == 0.25
    assert signals["clients"] == 2.0  # Web, Tusky
    # Own posts (not reposts): one link in two posts.
    assert signals["links_per_post"] == 0.5
    # Likes on own posts: (6 + 0) / 2 per post, over 199 followers.
    assert signals["likes_per_post_per_follower"] == pytest.approx(3 / 199)
    assert signals["reposts_per_post_per_follower"] == pytest.approx(1 / 199)
    assert signals["default_profile"] == 1.0  # the missing.png avatar
    assert signals["empty_bio"] == 0.0
    assert signals["handle_digits"] == 0.0
    assert signals["declared_bot"] == 0.0
    assert signals["bio_length"] == len("Engines and poems")
    assert signals["handle_length"] == 3.0  # "ada"
    # "ada" has the pairs "ad" and "da"; the name "Ada" has "ad" and "da": all found.
    assert signals["name_handle_similarity"] == 1.0
    # Gaps between the four posts: one day each, so perfectly regular.
    assert signals["posting_regularity"] == 0.0
    profile = normalise(MASTODON)
    # The reply's target, known by id, is the mentioned bob: one partner, by handle.
    assert profile.recent_posts[1].partners == ("bob@example.social",)
    assert profile.recent_posts[2].partners == ("cy@example.social",)


def test_bluesky_self_label_and_rate_from_posts() -> None:
    raw = {
        "did": "did:plc:abc",
        "handle": "news4242.bsky.social",
        "displayName": "",
        "description": "",
        "createdAt": "2024-01-01T00:00:00Z",
        "followersCount": 10,
        "followsCount": 1000,
        "labels": [{"src": "did:plc:abc", "uri": "at://did:plc:abc/x", "val": "bot"}],
        "recent_posts": [
            {
                "post": {
                    "record": {
                        "text": "hello https://x.example",
                        "createdAt": "2024-03-01T00:00:00Z",
                        "facets": [
                            {"features": [{"$type": "app.bsky.richtext.facet#link"}]},
                        ],
                    },
                    "likeCount": 1,
                    "repostCount": 0,
                }
            },
            {
                "post": {
                    "record": {"text": "again", "createdAt": "2024-03-03T00:00:00Z"},
                    "likeCount": 3,
                    "repostCount": 1,
                }
            },
        ],
    }
    signals = _signals(raw)
    # No postsCount: the rate comes from the posts, one interval of two days.
    assert signals["posts_per_day"] == 0.5
    assert signals["followers_following_ratio"] == pytest.approx(11 / 1001)
    assert signals["links_per_post"] == 0.5
    assert signals["likes_per_post_per_follower"] == pytest.approx(2 / 10)
    assert signals["default_profile"] == 1.0  # no avatar
    assert signals["empty_bio"] == 1.0
    assert signals["declared_bot"] == 1.0
    # "news4242": four digits of eight characters.
    assert signals["handle_digits"] == 0.5
    assert math.isnan(signals["clients"])  # Bluesky does not say
    # A label by someone else is not a self-label.
    raw["labels"] = [{"src": "did:plc:labeller", "val": "bot"}]
    assert _signals(raw)["declared_bot"] == 0.0


def test_x_v1_and_v2_users() -> None:
    v1 = {
        "created_at": "Sat Jun 01 00:00:00 +0000 2019",
        "user": {
            "id_str": "42",
            "screen_name": "Ab12",
            "followers_count": 100,
            "friends_count": 0,
            "listed_count": 5,
            "statuses_count": 10,
            "created_at": "Fri Jun 01 00:00:00 +0000 2018",
            "description": "",
            "default_profile": True,
            "default_profile_image": False,
        },
    }
    signals = _signals(v1)
    assert signals["age_days"] == 365.0
    assert signals["lists_per_follower"] == 0.05
    assert signals["followers_following_ratio"] == 101.0
    assert signals["handle_digits"] == 0.5
    assert signals["default_profile"] == 1.0
    v2 = {
        "id": "7",
        "username": "ada",
        "created_at": "2020-01-01T00:00:00.000Z",
        "observed_at": "2020-01-11T00:00:00Z",
        "public_metrics": {"followers_count": 9, "following_count": 4, "tweet_count": 20},
        "recent_posts": [
            {"id": "1", "text": "x", "referenced_tweets": [{"type": "retweeted", "id": "2"}]},
            {"id": "3", "text": "@b y", "referenced_tweets": [{"type": "replied_to", "id": "4"}]},
        ],
    }
    profile = normalise(v2)
    assert (profile.platform, profile.id, profile.handle) == ("x", "7", "ada")
    signals = _signals(v2)
    assert signals["posts_per_day"] == 2.0
    assert signals["repost_share"] == 0.5
    assert signals["reply_share"] == 0.5


def test_unknown_shapes_are_refused() -> None:
    with pytest.raises(ProfileError, match="not a Mastodon account"):
        normalise({"name": "someone"})
    with pytest.raises(ProfileError, match="JSON object"):
        normalise([1, 2])
    with pytest.raises(ProfileError, match="recent_posts"):
        normalise({"screen_name": "a", "recent_posts": "many"})
    # A reply whose parent is not an object: refused as a profile, not a crash.
    odd = {"did": "did:plc:a", "handle": "a.bsky.social"}
    odd["recent_posts"] = [{"post": {"record": {"reply": {"parent": "nope"}}}}]
    with pytest.raises(ProfileError, match="unexpected bluesky profile layout"):
        normalise(odd)


def test_times() -> None:
    expected = datetime(2019, 6, 5, 20, 13, 20, tzinfo=UTC)
    assert parse_time("Wed Jun 05 21:43:20 +0130 2019") == expected
    assert parse_time("2019-06-05T20:13:20Z") == expected
    assert parse_time("not a time") is None


def test_handle_randomness_by_hand() -> None:
    # Trained on "ab" alone, without smoothing: ^→a, a→b and b→$ are certain.
    logp = fit_handle_model(["ab"], smoothing=0.0)
    digits, randomness, length = handle_signals(["@ab@example.social", "ab.bsky.social"], logp)
    assert list(randomness) == [0.0, 0.0]
    assert list(digits) == [0.0, 0.0]
    assert list(length) == [2.0, 2.0]
    # With add-one smoothing over the 40 symbols after "a": P(b|a) = 2/41 etc.
    logp = fit_handle_model(["ab"], smoothing=1.0)
    _, randomness, _ = handle_signals(["ab"], logp)
    # With add-one smoothing: three steps ^a, ab, b$, each seen once among 39 possible
    # next symbols (37 characters, "any other", the end mark), so P = 2 / (1 + 39) each.
    assert randomness[0] == pytest.approx(-math.log(2 / 40))
    assert handle_name("@Ada_9@hachyderm.io") == "ada_9"


def test_metrics_by_hand() -> None:
    labels = np.array([1, 0, 1, 0])
    # Pairs (bot, human): 0.9>0.1, 0.9>0.4, 0.4>0.1, 0.4=0.4 (half): 3.5 of 4.
    assert auc(labels, np.array([0.9, 0.1, 0.4, 0.4])) == 0.875
    flagged = np.array([True, True, False, False])
    assert f1(labels, flagged) == 0.5  # one hit, one false alarm, one miss
    assert fpr(labels, flagged) == 0.5
