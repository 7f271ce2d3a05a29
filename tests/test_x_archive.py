"""The X archive parser, record by record, against values read by hand from the sample."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

from conftest import X_ARCHIVE
from kompas.model import Account, Follow, Interaction, InteractionKind, Post, PostKind
from kompas.sources import x_archive
from samples import x_file


def _records() -> list[object]:
    return list(x_archive.parse(str(X_ARCHIVE)))


def test_first_tweet_is_a_reply_with_its_mention_and_link() -> None:
    # Read by hand from data/tweets.js, record 1.
    post = next(r for r in _records() if isinstance(r, Post))
    assert post.id == "2029905358261502168"
    assert post.kind is PostKind.REPLY
    assert post.author_id == "1964312974236991488"
    assert post.reply_to_id == "2029903943413772741"
    assert post.reply_to_author_id == "1964312974236991488"
    assert post.mentions == ("2253756806",)
    assert post.links == ("https://x.com/milahu104/status/2027739112069878026",)
    assert post.like_count == 0 and post.repost_count == 0
    assert post.client == "Twitter Web App"
    assert post.created_at is not None and post.created_at.tzinfo is not None


def test_self_account_from_account_and_profile_files() -> None:
    me = next(r for r in _records() if isinstance(r, Account) and r.is_self)
    assert me.id == "1964312974236991488"
    assert me.handle == "milahu104"
    assert me.display_name == "Milan Hauth"
    assert me.created_at == datetime(2025, 9, 6, 13, 2, 20, 496000, tzinfo=UTC)
    assert me.bio is not None and me.bio.startswith("shadowbanned")


def test_retweets_carry_a_repost_interaction_to_the_original_author() -> None:
    records = _records()
    raw = [t["tweet"] for t in x_file(X_ARCHIVE, "tweets")]
    retweet = next(t for t in raw if t["full_text"].startswith("RT @"))
    post = next(r for r in records if isinstance(r, Post) and r.id == retweet["id_str"])
    assert post.kind is PostKind.REPOST
    author = retweet["entities"]["user_mentions"][0]["id_str"]
    assert post.repost_of_author_id == author
    reposts = [
        r
        for r in records
        if isinstance(r, Interaction)
        and r.kind is InteractionKind.REPOST
        and r.via_post_id == post.id
    ]
    assert [r.target_account_id for r in reposts] == [author]


def test_text_is_unescaped_from_the_archive_html_entities() -> None:
    raw = [t["tweet"] for t in x_file(X_ARCHIVE, "tweets")]
    escaped = [t for t in raw if "&amp;" in t["full_text"] or "&gt;" in t["full_text"]]
    assert escaped, "the sample has escaped text"
    posts = {r.id: r for r in _records() if isinstance(r, Post)}
    for tweet in escaped:
        assert "&amp;" not in posts[tweet["id_str"]].text
        assert "&gt;" not in posts[tweet["id_str"]].text


def test_follow_edges_point_the_right_way() -> None:
    records = _records()
    me = "1964312974236991488"
    follows = [r for r in records if isinstance(r, Follow)]
    followers = {f.follower_id for f in follows if f.followee_id == me}
    following = {f.followee_id for f in follows if f.follower_id == me}
    assert followers == {f["follower"]["accountId"] for f in x_file(X_ARCHIVE, "follower")}
    assert following == {f["following"]["accountId"] for f in x_file(X_ARCHIVE, "following")}


def test_unpacked_folder_and_older_multi_part_file_names(tmp_path: Path) -> None:
    # Older archives call the file tweet.js and split big ones into tweet-part1.js, ...
    with zipfile.ZipFile(X_ARCHIVE) as z:
        z.extractall(tmp_path)
        tweets = z.read("data/tweets.js")
    data = tmp_path / "data"
    (data / "tweets.js").unlink()
    _, body = tweets.split(b"=", 1)
    items = body.strip()[1:-1].split(b"\n  },\n  {")
    half = len(items) // 2
    part0 = b"[" + b"\n  },\n  {".join(items[:half]) + b"\n  }\n]"
    part1 = b"[\n  {" + b"\n  },\n  {".join(items[half:]) + b"]"
    (data / "tweet.js").write_bytes(b"window.YTD.tweet.part0 = " + part0)
    (data / "tweet-part1.js").write_bytes(b"window.YTD.tweet.part1 = " + part1)
    posts = [r for r in x_archive.parse(str(tmp_path)) if isinstance(r, Post)]
    assert len(posts) == len(x_file(X_ARCHIVE, "tweets"))
    assert len({p.id for p in posts}) == len(posts)


def test_a_tweet_that_starts_with_a_mention_but_has_no_parent_mentions_that_person() -> None:
    raw = [t["tweet"] for t in x_file(X_ARCHIVE, "tweets")]
    orphans = [
        t
        for t in raw
        if t.get("in_reply_to_user_id_str")
        and not t.get("in_reply_to_status_id_str")
        and not t["full_text"].startswith("RT @")
    ]
    assert orphans, "the sample has such tweets"
    mentions = {
        (i.via_post_id, i.target_account_id)
        for i in _records()
        if isinstance(i, Interaction) and i.kind is InteractionKind.MENTION
    }
    for tweet in orphans:
        assert (tweet["id_str"], tweet["in_reply_to_user_id_str"]) in mentions


def test_created_at_is_read_exactly_as_strptime_reads_it() -> None:
    for tweet in x_file(X_ARCHIVE, "tweets"):
        value = tweet["tweet"]["created_at"]
        assert x_archive.parse_time(value) == datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y")
    assert x_archive.parse_time("2025-09-06T13:02:20.496Z") == datetime(
        2025, 9, 6, 13, 2, 20, 496000, tzinfo=UTC
    )
    assert x_archive.parse_time("Fri Feb 30 13:02:05 +0000 2026") is None
