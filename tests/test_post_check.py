"""``kompas post check`` on real data: the JSON contract, the pillar and the planned mix
(self-promotion counted against the raw Mastodon archive, as ``kompas review`` counts
it), and every warning on posts taken from the sample exports themselves."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from conftest import DATA, MASTODON_ARCHIVE, WEB_AND_LIFE_STRATEGY, X_ARCHIVE, Kompas
from kompas.i18n import LANGUAGES
from kompas.post.check import check_draft
from kompas.post.length import Limits
from samples import mastodon_file, x_file

IMAGE = DATA / "images" / "python.png"
OWN_SITE = "daniel.industries"
OWN_PROFILE = ("https://indieweb.social/@dealingwith", "https://indieweb.social/users/dealingwith")


def published(item: dict[str, Any]) -> datetime:
    value = item["object"].get("published") if item["type"] == "Create" else None
    value = value or item["published"]
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def plain(content: str) -> str:
    """A post's HTML as text (for posts with no link: paragraphs and line breaks only)."""
    content = re.sub(r"<br\s*/?>", "\n", content)
    content = re.sub(r"</p>\s*<p>", "\n\n", content)
    return html.unescape(re.sub(r"<[^>]+>", "", content)).strip()


@pytest.fixture(scope="module")
def outbox() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = mastodon_file(MASTODON_ARCHIVE, "outbox.json")["orderedItems"]
    return items


@pytest.fixture(scope="module")
def month(outbox: list[dict[str, Any]]) -> tuple[datetime, datetime]:
    """The month up to the end of the archive's last day: where kompas anchors."""
    end = max(published(i) for i in outbox)
    until = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
    return until - timedelta(days=30), until


def self_promotions(outbox: list[dict[str, Any]], since: datetime, until: datetime) -> int:
    """Posts of the period linking the user's own site or profile, and boosts of their own
    posts, read from the raw outbox."""
    count = 0
    for item in outbox:
        if not since <= published(item) < until:
            continue
        if item["type"] == "Announce":
            count += str(item["object"]).startswith(OWN_PROFILE[1])
            continue
        anchors = re.findall(r"<a\s[^>]*>", item["object"].get("content") or "")
        links = [
            re.search(r'href="([^"]+)"', a).group(1)  # type: ignore[union-attr]
            for a in anchors
            if "mention" not in a and "hashtag" not in a
        ]
        count += any(
            re.match(rf"https?://(www\.)?{re.escape(OWN_SITE)}/", link)
            or link.startswith(OWN_PROFILE)
            for link in links
        )
    return count


def strategy(self_promotion: int) -> str:
    return (
        WEB_AND_LIFE_STRATEGY
        + f"""goals:
  - name: Less shouting
    key_results:
      - community.self_promotion per month <= {self_promotion}
mix:
  conversation: 50%
  sharing: 30%
  broadcast: 20%
domains: [{OWN_SITE}]
"""
    )


@pytest.fixture(scope="module")
def planned(
    tmp_path_factory: pytest.TempPathFactory,
    outbox: list[dict[str, Any]],
    month: tuple[datetime, datetime],
) -> Iterator[tuple[Kompas, int]]:
    """The Mastodon archive with a strategy that allows exactly the self-promotions the
    month already holds."""
    kompas = Kompas(tmp_path_factory.mktemp("planned") / "home")
    assert kompas("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    already = self_promotions(outbox, *month)
    assert already > 3  # the sample links its owner's blog often
    (kompas.home / "strategy.yaml").write_text(strategy(already), encoding="utf-8")
    yield kompas, already


def checked(kompas: Kompas, *args: str | Path) -> dict[str, Any]:
    result = kompas("post", "check", *args, "--json")
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def codes(found: dict[str, Any]) -> list[str]:
    return [w["code"] for w in found["warnings"]]


def test_the_json_has_the_issues_keys(planned: tuple[Kompas, int]) -> None:
    kompas, _ = planned
    found = checked(kompas, "Moved my blog to a static site, and Firefox renders it fine.")
    assert list(found) == ["networks", "pillar", "mix", "warnings"]
    assert list(found["networks"]) == ["mastodon", "bluesky"]
    for network in found["networks"].values():
        assert {"length", "limit", "fits", "parts"} <= set(network)
    assert found["networks"]["mastodon"]["limit"] == 500
    assert found["networks"]["bluesky"]["limit"] == 300
    assert found["networks"]["bluesky"]["byte_limit"] == 3000
    assert found["pillar"]["status"] == "aligned"
    assert [p["id"] for p in found["pillar"]["pillars"]] == ["web"]
    only = checked(kompas, "Moved my blog.", "--to", "bluesky")
    assert list(only["networks"]) == ["bluesky"]


def test_self_promotion_is_counted_against_the_plan(
    planned: tuple[Kompas, int], month: tuple[datetime, datetime]
) -> None:
    kompas, already = planned
    found = checked(kompas, f"New on the blog: https://www.{OWN_SITE}/2024/07/22/new/")
    mix = found["mix"]
    assert (mix["kind"], mix["self_promotion"]) == ("broadcast", True)
    assert mix["anchored"] is True and mix["until"] == month[1].isoformat()
    (effect,) = [e for e in mix["effects"] if e["what"] == "community.self_promotion"]
    assert (effect["before"], effect["after"]) == (already, already + 1)
    assert effect["since"] == month[0].isoformat()
    assert effect["within_plan"] is False
    assert (
        f"self-promotion this month (the 30 days up to 2024-07-23); your plan allows "
        f"{already}." in effect["sentence"]
    )
    assert any(e["what"] == "mix.broadcast" for e in mix["effects"])
    assert "Your data ends 2024-07-23" in mix["notes"][0]
    # Someone else's link is sharing: no self-promotion counted.
    other = checked(kompas, "Good read https://www.theverge.com/some/article")["mix"]
    assert other["kind"] == "sharing"
    assert not [e for e in other["effects"] if e["what"] == "community.self_promotion"]


def test_human_output_says_the_same(planned: tuple[Kompas, int]) -> None:
    kompas, already = planned
    result = kompas("post", "check", f"https://{OWN_SITE}/2024/07/22/new/ my new post")
    assert result.exit_code == 0
    assert f"your plan allows {already}." in result.stdout
    assert "mastodon  " in result.stdout and "fits" in result.stdout


def test_without_a_strategy_no_pillar_is_invented(tmp_path: Path) -> None:
    kompas = Kompas(tmp_path / "home")
    assert kompas("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    found = checked(kompas, "Moved my blog to a static site generator.")
    assert found["pillar"]["status"] == "no strategy"
    assert found["pillar"]["pillars"] == []
    assert "kompas strategy init" in found["pillar"]["reason"]
    assert found["mix"]["effects"] == []
    assert any("kompas strategy init" in note for note in found["mix"]["notes"])


def test_an_empty_store_says_no_data_instead_of_zero(tmp_path: Path) -> None:
    kompas = Kompas(tmp_path / "home")
    kompas.home.mkdir(parents=True)
    (kompas.home / "strategy.yaml").write_text(strategy(3), encoding="utf-8")
    found = checked(kompas, f"https://{OWN_SITE}/x/ my post")
    assert found["mix"]["effects"] == []
    assert "No posts of yours are in the store yet" in found["mix"]["notes"][0]


# --- warnings, each on real posts of the samples -----------------------------------------


def test_a_bare_link_is_a_link_without_text(
    planned: tuple[Kompas, int], outbox: list[dict[str, Any]]
) -> None:
    kompas, _ = planned
    bare = [
        item
        for item in outbox
        if item["type"] == "Create"
        and re.fullmatch(r"https?://\S+", plain(item["object"]["content"]))
    ]
    assert len(bare) >= 5  # the sample has such posts
    for item in bare[:5]:
        text = plain(item["object"]["content"])
        found = checked(kompas, text)
        (warning,) = [w for w in found["warnings"] if w["code"] == "link_without_text"]
        assert warning["links"] == [text]
    said = checked(kompas, "Underrated musician of the day: https://laish.bandcamp.com/")
    assert "link_without_text" not in codes(said)


def test_an_image_without_alt_text(planned: tuple[Kompas, int], tmp_path: Path) -> None:
    kompas, _ = planned
    found = checked(kompas, "The page works.", "--image", IMAGE)
    (warning,) = [w for w in found["warnings"] if w["code"] == "image_without_alt"]
    assert "python.png" in warning["message"]
    described = checked(kompas, "The page works.", "--image", IMAGE, "--alt", "The Python logo")
    assert "image_without_alt" not in codes(described)
    missing = kompas("post", "check", "x", "--image", tmp_path / "nope.png")
    assert missing.exit_code == 1 and "nope.png: no such file" in missing.stderr
    alone = kompas("post", "check", "x", "--alt", "words")
    assert alone.exit_code == 2 and "--image" in alone.stderr


def test_a_repeat_of_a_recent_post(
    planned: tuple[Kompas, int], outbox: list[dict[str, Any]], month: tuple[datetime, datetime]
) -> None:
    kompas, _ = planned
    until = month[1]
    linkless = [i for i in outbox if i["type"] == "Create" and "<a" not in i["object"]["content"]]
    recent = next(i for i in reversed(linkless) if len(plain(i["object"]["content"])) > 100)
    assert published(recent) >= until - timedelta(days=90)
    text = plain(recent["object"]["content"])
    found = checked(kompas, text)
    (warning,) = [w for w in found["warnings"] if w["code"] == "duplicate"]
    assert warning["url"] == recent["object"]["url"]
    assert published(recent).strftime("%Y-%m-%d") in warning["message"]
    words = text.split()
    words[3] = "definitely"
    near = checked(kompas, " ".join(words))
    (warning,) = [w for w in near["warnings"] if w["code"] == "near_duplicate"]
    assert 0.8 <= warning["similarity"] < 1 and warning["url"] == recent["object"]["url"]
    old = next(i for i in linkless if published(i) < until - timedelta(days=90))
    assert not {"duplicate", "near_duplicate"} & set(
        codes(checked(kompas, plain(old["object"]["content"])))
    )


@pytest.fixture(scope="module")
def x_home(tmp_path_factory: pytest.TempPathFactory) -> Kompas:
    kompas = Kompas(tmp_path_factory.mktemp("x") / "home")
    assert kompas("import", "x-archive", X_ARCHIVE).exit_code == 0
    return kompas


def test_a_reply_to_an_automated_account(x_home: Kompas) -> None:
    tweets = [t["tweet"] for t in x_file(X_ARCHIVE, "tweets")]
    to_grok = next(t for t in tweets if t.get("in_reply_to_screen_name") == "grok")
    found = checked(
        x_home, "@grok is this true?", "--reply-to", f"x:{to_grok['in_reply_to_status_id_str']}"
    )
    (warning,) = [w for w in found["warnings"] if w["code"] == "reply_to_automated"]
    assert warning["why"] == "known_bot" and "grok" in warning["message"]
    assert found["mix"]["kind"] == "conversation"
    to_person = next(t for t in tweets if t.get("in_reply_to_screen_name") == "SamaHoole")
    human = checked(x_home, "Thanks!", "--reply-to", f"x:{to_person['in_reply_to_status_id_str']}")
    assert "reply_to_automated" not in codes(human)
    unknown = checked(x_home, "Hello", "--reply-to", "x:1")
    assert codes(unknown) == ["reply_target_unknown"]


def test_more_mentions_than_a_network_allows(x_home: Kompas) -> None:
    tweets = [t["tweet"] for t in x_file(X_ARCHIVE, "tweets")]
    text = next(
        t["full_text"] for t in tweets if len(set(re.findall(r"@\w+", t["full_text"]))) == 4
    )
    # Neither network publishes a limit on mentions: nothing to warn about.
    found = checked(x_home, text)
    assert found["networks"]["mastodon"]["mentions"] == 4
    assert found["networks"]["bluesky"]["mention_limit"] is None
    assert "too_many_mentions" not in codes(found)
    # An instance that sets one (given as a limit) is held to it.
    limited = check_draft(text, ["mastodon"], limits=Limits(mastodon_mentions=3))
    (warning,) = [w for w in limited.warnings if w.code == "too_many_mentions"]
    assert warning.details == {"network": "mastodon", "mentions": 4, "limit": 3}
    assert str(warning.message) == "It mentions 4 accounts; mastodon allows 3."


def test_no_split_refuses_a_draft_too_long_for_one_network(
    planned: tuple[Kompas, int], outbox: list[dict[str, Any]]
) -> None:
    kompas, _ = planned
    long = next(
        plain(i["object"]["content"])
        for i in outbox
        if i["type"] == "Create"
        and "<a" not in i["object"]["content"]
        and 300 < len(plain(i["object"]["content"])) <= 500
        and plain(i["object"]["content"]).isascii()
    )
    refused = kompas("post", "check", long, "--to", "bluesky", "--no-split")
    assert refused.exit_code == 1
    assert f"too long for bluesky: {len(long)} graphemes (limit 300)" in refused.stderr
    threaded = checked(kompas, long, "--to", "mastodon,bluesky")
    assert threaded["networks"]["mastodon"]["fits"] is True
    parts = threaded["networks"]["bluesky"]["parts"]
    assert len(parts) == 2 and all(len(p) <= 300 for p in parts)
    fine = kompas("post", "check", long, "--to", "mastodon", "--no-split")
    assert fine.exit_code == 0


def test_bad_input_is_named(planned: tuple[Kompas, int], tmp_path: Path) -> None:
    kompas, _ = planned
    empty = kompas("post", "check", "   ")
    assert empty.exit_code == 1 and "the draft is empty" in empty.stderr
    both = kompas("post", "check", "x", "--file", tmp_path / "d.txt")
    assert both.exit_code == 2
    missing = kompas("post", "check", "--file", tmp_path / "d.txt")
    assert missing.exit_code == 1 and "d.txt: no such file" in missing.stderr
    (tmp_path / "draft.txt").write_text("From a file, with a final newline.\n", encoding="utf-8")
    found = checked(kompas, "--file", tmp_path / "draft.txt")
    assert found["networks"]["mastodon"]["parts"] == ["From a file, with a final newline."]
    network = kompas("post", "check", "x", "--to", "mastodon,threads")
    assert network.exit_code == 2 and "threads" in network.stderr


def test_every_warning_reads_in_french(planned: tuple[Kompas, int]) -> None:
    kompas, _ = planned
    engine = sa.create_engine(f"sqlite:///{kompas.home / 'kompas.db'}")
    with engine.connect() as connection:
        found = check_draft(
            "https://poorlydrawnlines.com/comic/save-my-life/ @a @b",
            ["mastodon", "bluesky"],
            image=IMAGE,
            reply_to="mastodon:nowhere",
            connection=connection,
            home=kompas.home,
            limits=Limits(mastodon_mentions=1),
        )
    engine.dispose()
    assert set(codes(found.as_json())) == {
        "link_without_text",
        "image_without_alt",
        "too_many_mentions",
        "reply_target_unknown",
    }
    for warning in found.warnings:
        texts = {lang: warning.message.render(lang) for lang in LANGUAGES}
        assert texts["fr"] != texts["en"] and "{" not in texts["fr"]
    assert "pilier" in found.pillar.sentence.render("fr")
