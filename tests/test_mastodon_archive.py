"""The Mastodon archive parser against values read by hand from the sample's outbox."""

from __future__ import annotations

from conftest import MASTODON_ARCHIVE
from kompas.model import Account, Interaction, InteractionKind, Post, PostKind
from kompas.sources import mastodon
from samples import mastodon_file

ME = "https://indieweb.social/users/dealingwith"


def _records() -> list[object]:
    return list(mastodon.parse_archive(str(MASTODON_ARCHIVE)))


def test_a_reply_with_its_mention_from_the_sample() -> None:
    # Read by hand: outbox item .../109309145334822499, a reply to @mcg@social.lol.
    posts = {r.id: r for r in _records() if isinstance(r, Post)}
    reply = posts["https://indieweb.social/users/dealingwith/statuses/109309145334822499"]
    assert reply.kind is PostKind.REPLY
    assert reply.reply_to_id == "https://social.lol/users/mcg/statuses/109308078398027392"
    assert reply.reply_to_author_id == "https://social.lol/users/mcg"
    assert reply.mentions == ("https://social.lol/users/mcg",)
    assert reply.language == "en"
    assert reply.text == "@mcg 😜"
    assert reply.html is not None and reply.html.startswith('<p><span class="h-card"')
    assert reply.links == ()  # a mention is not a shared link


def test_first_post_shares_its_link_as_plain_text() -> None:
    posts = [r for r in _records() if isinstance(r, Post)]
    first = posts[0]
    assert first.id == "https://indieweb.social/users/dealingwith/statuses/109305976208011760"
    assert first.links == ("https://daniel.industries/2022/11/07/less-twitter-more-indieweb/",)
    assert "https://daniel.industries/2022/11/07/less-twitter-more-indieweb/" in first.text
    assert "<" not in first.text


def test_boosts_are_reposts_of_the_boosted_author() -> None:
    records = _records()
    raw = mastodon_file(MASTODON_ARCHIVE, "outbox.json")["orderedItems"]
    announce = next(i for i in raw if i["type"] == "Announce")
    post = next(r for r in records if isinstance(r, Post) and r.id == announce["id"])
    assert post.kind is PostKind.REPOST
    assert post.repost_of_id == announce["object"]
    assert post.repost_of_author_id == announce["object"].split("/statuses/")[0]


def test_likes_and_bookmarks_name_the_author_from_the_status_url() -> None:
    records = _records()
    likes = [r for r in records if isinstance(r, Interaction) and r.kind is InteractionKind.LIKE]
    first = mastodon_file(MASTODON_ARCHIVE, "likes.json")["orderedItems"][0]
    assert likes[0].target_post_id == first
    assert likes[0].target_account_id == "https://mastodon.social/users/robotspacer"
    assert all(i.actor_id == ME for i in likes)


def test_self_account_and_mentioned_accounts() -> None:
    records = _records()
    actor = mastodon_file(MASTODON_ARCHIVE, "actor.json")
    me = next(r for r in records if isinstance(r, Account) and r.is_self)
    assert me.id == actor["id"] == ME
    assert me.handle == f"{actor['preferredUsername']}@indieweb.social"
    mcg = next(
        r for r in records if isinstance(r, Account) and r.id == "https://social.lol/users/mcg"
    )
    assert mcg.handle == "mcg@social.lol"


def test_following_csv_adds_follow_edges(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import tarfile

    folder = tmp_path / "archive"
    with tarfile.open(MASTODON_ARCHIVE) as tar:
        tar.extractall(folder, filter="data")
    (folder / "following_accounts.csv").write_text(
        "Account address,Show boosts,Notify on new posts,Languages\n"
        "mcg@social.lol,true,false,\nGargron@mastodon.social,true,false,en\n"
    )
    from kompas.model import Follow

    follows = [r for r in mastodon.parse_archive(str(folder)) if isinstance(r, Follow)]
    assert {(f.follower_id, f.followee_id) for f in follows} == {
        (ME, "https://social.lol/users/mcg"),
        (ME, "https://mastodon.social/users/Gargron"),
    }
