"""``kompas community`` on the real samples: every figure, with the expected value derived
here from the raw export files (tests/samples.py readers), over small hand-checkable slices.

The X slice is 2026-01-15..2026-01-16 of milahu104's archive: 20 tweets (10 replies,
3 retweets, 2 originals on the 15th; 3 replies, 1 retweet, 1 original on the 16th).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import MASTODON_ARCHIVE, X_ARCHIVE, Kompas
from samples import mastodon_file, x_file

SINCE, UNTIL = "2026-01-15", "2026-01-16"
START = datetime(2026, 1, 15, tzinfo=UTC)
END = datetime(2026, 1, 17, tzinfo=UTC)  # --until includes its whole day
HALF_LIFE = 30.0


@dataclass
class Tweet:
    """A tweet as the raw archive says it, read without kompas."""

    id: str
    when: datetime
    text: str
    reply_to: str | None
    reply_to_user: str | None
    mentions: list[tuple[str, str]]
    urls: list[str]
    likes: int
    retweets: int

    @property
    def is_rt(self) -> bool:
        return self.text.startswith("RT @")


def _tweets() -> tuple[str, str, list[Tweet]]:
    account = x_file(X_ARCHIVE, "account")[0]["account"]
    found = []
    for item in x_file(X_ARCHIVE, "tweets"):
        t = item["tweet"]
        entities = t.get("entities") or {}
        found.append(
            Tweet(
                id=t["id_str"],
                when=datetime.strptime(t["created_at"], "%a %b %d %H:%M:%S %z %Y"),
                text=t["full_text"],
                reply_to=t.get("in_reply_to_status_id_str") or None,
                reply_to_user=t.get("in_reply_to_user_id_str") or None,
                mentions=[(m["id_str"], m["screen_name"]) for m in entities["user_mentions"]],
                urls=[u["expanded_url"] for u in entities.get("urls", [])],
                likes=int(t["favorite_count"]),
                retweets=int(t["retweet_count"]),
            )
        )
    return account["accountId"], account["username"], found


ME, USERNAME, TWEETS = _tweets()
STATUS = re.compile(r"^https?://(?:mobile\.)?(?:twitter|x)\.com/\w+/status(?:es)?/(\d+)")


def rt_author(t: Tweet) -> str | None:
    screen = t.text[4:].split(":", 1)[0].lower()
    return next((i for i, s in t.mentions if s.lower() == screen), None)


def is_quote(t: Tweet) -> bool:
    return (
        not t.is_rt
        and not t.reply_to
        and any((m := STATUS.match(u)) and m.group(1) != t.id for u in t.urls)
    )


def people_of(t: Tweet) -> set[str]:
    """Whom a tweet interacts with: a retweet its author; otherwise whom it replies to and
    mentions (never the user)."""
    if t.is_rt:
        author = rt_author(t)
        return {author} - {ME} if author else set()
    found = {i for i, _ in t.mentions}
    if t.reply_to and t.reply_to_user:
        found.add(t.reply_to_user)
    return found - {ME}


def in_slice(t: Tweet) -> bool:
    return START <= t.when < END


SLICE = [t for t in TWEETS if in_slice(t)]


OWN_PAGE = re.compile(rf"^https?://(?:www\.)?(?:twitter|x)\.com/{USERNAME}(?:/|$)", re.I)


def classify(t: Tweet) -> str:
    """The mix category, per docs/community.md: a link to the user's own pages (here, their
    own X profile and posts) is broadcast; a link to anyone else's page is sharing."""
    if t.is_rt:
        return "broadcast" if rt_author(t) == ME else "sharing"
    if is_quote(t):
        return "sharing"
    if t.reply_to and t.reply_to_user != ME:
        return "conversation"
    if any(OWN_PAGE.match(u) for u in t.urls):
        return "broadcast"
    return "sharing" if t.urls else "other"


FOLLOWERS = {f["follower"]["accountId"] for f in x_file(X_ARCHIVE, "follower")}
#: Automated accounts the user talks to (X's assistant and a utility bot the user tags),
#: never counted as people.
BOTS = {i for t in TWEETS for i, s in t.mentions if s.lower() in ("grok", "iluminatibot")}
FOLLOWING = {f["following"]["accountId"] for f in x_file(X_ARCHIVE, "following")}


def replied_to(tweets: list[Tweet]) -> set[str]:
    """The distinct accounts the user replied to (never the user)."""
    return {t.reply_to_user for t in tweets if not t.is_rt and t.reply_to and t.reply_to_user}


@pytest.fixture(scope="module")
def x_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("community-x")
    assert Kompas(home)("import", "x-archive", X_ARCHIVE).exit_code == 0
    return home


def run_json(home: Path, *args: str) -> dict[str, Any]:
    result = Kompas(home)("community", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def x_slice(x_home: Path) -> dict[str, Any]:
    return run_json(x_home, "--since", SINCE, "--until", UNTIL)


def test_slice_is_small_and_mixed() -> None:
    kinds = Counter(classify(t) for t in SLICE)
    assert len(SLICE) == 20
    assert kinds["conversation"] and kinds["sharing"]


def test_required_keys_keyed_by_platform_and_all(x_slice: dict[str, Any]) -> None:
    for key in (
        "replies_given",
        "replies_received",
        "conversations_started",
        "conversations_joined",
        "reposts_of_others",
        "people_interacted",
        "new_connections",
        "reciprocity",
        "mix",
        "style",
        "vanity",
    ):
        assert set(x_slice[key]) == {"x", "all"}, key


def test_conversation_figures(x_slice: dict[str, Any]) -> None:
    replies = [t for t in SLICE if not t.is_rt and t.reply_to and t.reply_to_user != ME]
    assert x_slice["replies_given"] == {"x": len(replies), "all": len(replies)}
    # An X archive holds only what the user did: what others did is unknown, not zero.
    for key in ("replies_received", "median_reply_minutes", "unanswered_share"):
        assert x_slice[key] == {"x": None, "all": None}, key
    assert x_slice["received_data"]["x"] is False
    # ... but its follower list says who follows back: reciprocity falls back to that.
    replied = replied_to(SLICE) - {ME}
    back = replied & FOLLOWERS
    assert x_slice["follow_back_of"]["x"] == len(replied)
    assert x_slice["follow_back"]["x"] == pytest.approx(len(back) / len(replied))
    assert x_slice["reciprocity"] == x_slice["follow_back"]
    assert x_slice["reciprocity_basis"] == {"x": "follow_back", "all": "follow_back"}
    assert x_slice["mutuals"] == {
        "x": len(FOLLOWERS & FOLLOWING),
        "all": len(FOLLOWERS & FOLLOWING),
    }

    # Threads: follow replies up through the user's own tweets.
    own = {t.id: t for t in TWEETS if not t.is_rt}

    def thread(t: Tweet) -> str:
        top = t
        while top.reply_to in own:
            top = own[top.reply_to]
        return top.reply_to or top.id

    started: set[str] = set()
    with_others: set[str] = set()
    active: set[str] = set()
    for t in own.values():
        key = thread(t)
        if in_slice(t):
            active.add(key)
        if t.reply_to is None:
            started.add(key)
        elif t.reply_to_user != ME:
            with_others.add(key)
        if any(i != ME for i, _ in t.mentions):
            with_others.add(key)
    talking = active & with_others
    assert x_slice["conversations_started"]["x"] == len(talking & started)
    assert x_slice["conversations_joined"]["x"] == len(talking - started)
    assert x_slice["conversations"]["x"] == len(talking)


def test_sharing_figures(x_slice: dict[str, Any]) -> None:
    of_others = [t for t in SLICE if (t.is_rt and rt_author(t) != ME) or is_quote(t)]
    # Self-promotion: reposts of the user's own posts, and links to the user's own pages.
    self_promotion = [t for t in SLICE if classify(t) == "broadcast"]
    sources = Counter(rt_author(t) for t in SLICE if t.is_rt and rt_author(t) not in (ME, None))
    assert x_slice["reposts_of_others"]["x"] == len(of_others)
    sharing = x_slice["sharing"]["x"]
    assert sharing["self_promotion"] == len(self_promotion)
    assert sharing["links_shared"] == sum(
        1 for t in SLICE if classify(t) == "sharing" and not t.is_rt and not is_quote(t)
    )
    assert sharing["distinct_people"] == len(sources)
    assert sharing["top_source_share"] == pytest.approx(
        max(sources.values()) / sum(sources.values())
    )


def test_learning_figures(x_home: Path, x_slice: dict[str, Any]) -> None:
    likes = x_file(X_ARCHIVE, "like")
    # X likes carry no date: a bounded period cannot hold them, and says so.
    assert x_slice["learning"]["x"] == {
        "likes": 0,
        "bookmarks": 0,
        "distinct_sources": 0,
        "undated_excluded": len(likes),
    }
    everything = run_json(x_home, "--all")
    # ... while all time counts them; their authors are unknown, so no sources.
    assert everything["learning"]["x"]["likes"] == len(likes)
    assert everything["learning"]["x"]["distinct_sources"] == 0
    assert everything["learning"]["x"]["undated_excluded"] == 0


def test_connection_figures(x_slice: dict[str, Any]) -> None:
    now = set().union(*(people_of(t) for t in SLICE)) - BOTS
    first: dict[str, datetime] = {}
    for t in sorted(TWEETS, key=lambda t: t.when):
        for person in people_of(t):
            first.setdefault(person, t.when)
    reached = {p for p in now if START <= first[p] < END}
    assert x_slice["people_interacted"]["x"] == len(now)
    assert x_slice["people_reached"]["x"] == len(reached)
    assert 0 < len(reached) < len(now)  # the slice has both old and new acquaintances
    # A new connection goes both ways: here (no replies received) the person follows back.
    assert x_slice["new_connections"]["x"] == len(reached & FOLLOWERS)


def test_rates_mix_style_vanity(x_slice: dict[str, Any]) -> None:
    rated = [t for t in SLICE if not t.is_rt]
    assert x_slice["rates"]["x"] == {
        "conversation_rate": None,  # the archive has no reply counts
        "amplification_rate": pytest.approx(sum(t.retweets for t in rated) / len(rated)),
        "applause_rate": pytest.approx(sum(t.likes for t in rated) / len(rated)),
        "posts_counted": len(rated),
    }
    counts = Counter(classify(t) for t in SLICE)
    mix = x_slice["mix"]["x"]
    for kind in ("conversation", "sharing", "broadcast", "other"):
        assert mix[kind] == pytest.approx(counts[kind] / len(SLICE)), kind
    assert sum(mix.values()) == pytest.approx(1.0)
    top_kind, top_count = counts.most_common(1)[0]
    # Both days fall in one week, so 20 posts per week: not a lurker; a kind with at least
    # half of the posts names the style.
    styles = {
        "conversation": "connector",
        "sharing": "curator",
        "broadcast": "promoter",
        "other": "writer",
    }
    expected = styles[top_kind] if top_count / len(SLICE) >= 0.5 else "all-rounder"
    replied = replied_to(SLICE) - {ME}
    if expected == "connector" and len(replied & FOLLOWERS) / len(replied) < 0.1:
        expected = "replier"  # talks to many, few answer: one-way
    assert x_slice["style"]["x"] == expected
    assert x_slice["vanity"]["x"] == {
        "followers": len(x_file(X_ARCHIVE, "follower")),
        "following": len(x_file(X_ARCHIVE, "following")),
        "posts": len(SLICE),
    }
    assert x_slice["vanity"]["all"] == x_slice["vanity"]["x"]


def test_weekly_trends(x_home: Path) -> None:
    data = run_json(x_home, "--since", "2026-01-12", "--until", "2026-01-25")
    trends = data["trends"]["x"]
    assert trends["weeks"] == ["2026-01-12", "2026-01-19"]
    for i, monday in enumerate(
        (datetime(2026, 1, 12, tzinfo=UTC), datetime(2026, 1, 19, tzinfo=UTC))
    ):
        week = [t for t in TWEETS if monday <= t.when < monday + timedelta(days=7)]
        assert trends["posts"][i] == len(week)
        assert trends["replies_given"][i] == sum(
            1 for t in week if not t.is_rt and t.reply_to and t.reply_to_user != ME
        )
        assert trends["people_interacted"][i] == len(set().union(*map(people_of, week)) - BOTS)
    assert trends["replies_received"] is None
    assert trends["followers_gained"] is None  # the archive's follower list has no dates


def strengths(at: datetime, before: datetime | None = None) -> dict[str, float]:
    found: Counter[str] = Counter()
    for t in TWEETS:
        if t.when < (before or at):
            for person in people_of(t):
                found[person] += 0.5 ** ((at - t.when).total_seconds() / 86400 / HALF_LIFE)
    return dict(found)


def test_top_relationships(x_home: Path) -> None:
    result = Kompas(x_home)(
        "community", "people", "--since", SINCE, "--until", UNTIL, "--top", "5", "--json"
    )
    assert result.exit_code == 0, result.output
    top = json.loads(result.stdout)["top"]
    people = ((p, s) for p, s in strengths(END).items() if p not in BOTS)
    expected = sorted(people, key=lambda kv: (-kv[1], f"x:{kv[0]}"))[:5]
    assert [r["person"] for r in top] == [f"x:{p}" for p, _ in expected]
    assert [r["strength"] for r in top] == pytest.approx([s for _, s in expected], abs=1e-3)
    assert top[0]["given"] == sum(1 for t in SLICE if expected[0][0] in people_of(t))


def test_fading_relationships(x_home: Path) -> None:
    since, until = datetime(2026, 2, 15, tzinfo=UTC), datetime(2026, 3, 7, tzinfo=UTC)
    result = Kompas(x_home)(
        "community",
        "people",
        "--fading",
        "--since",
        "2026-02-15",
        "--until",
        "2026-03-06",
        "--json",
    )
    assert result.exit_code == 0, result.output
    fading = json.loads(result.stdout)["fading"]
    active = set().union(*(people_of(t) for t in TWEETS if since <= t.when < until))
    before = strengths(since)
    expected = sorted(
        ((p, s) for p, s in before.items() if s >= 1.0 and p not in active and p not in BOTS),
        key=lambda kv: (-kv[1], f"x:{kv[0]}"),
    )[:20]
    assert [r["person"] for r in fading] == [f"x:{p}" for p, _ in expected]
    assert fading and all(r["given"] == r["received"] == 0 for r in fading)


def test_mastodon_all_time_learning_and_sharing(kompas_db: Kompas) -> None:
    """Also runs on PostgreSQL when the test server is configured."""
    assert kompas_db("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    result = kompas_db("community", "--all", "--platform", "mastodon", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    me = mastodon_file(MASTODON_ARCHIVE, "actor.json")["id"]

    def author(url: str) -> str | None:
        if m := re.match(r"^(https?://[^/]+/users/[^/]+)/statuses/", url):
            return m.group(1)
        if m := re.match(r"^https?://([^/]+)/@([^/@]+)/\d+", url):
            return f"https://{m.group(1)}/users/{m.group(2)}"
        return None

    def items(name: str) -> list[str]:
        found = mastodon_file(MASTODON_ARCHIVE, name)["orderedItems"]
        return [i if isinstance(i, str) else i["id"] for i in found]

    likes = [u for u in items("likes.json") if author(u) != me]
    bookmarks = [u for u in items("bookmarks.json") if author(u) != me]
    assert data["learning"]["mastodon"] == {
        "likes": len(likes),
        "bookmarks": len(bookmarks),
        "distinct_sources": len({author(u) for u in likes + bookmarks} - {None}),
        "undated_excluded": 0,
    }
    outbox = mastodon_file(MASTODON_ARCHIVE, "outbox.json")["orderedItems"]
    announced = [author(a["object"]) for a in outbox if a["type"] == "Announce"]
    assert data["reposts_of_others"]["mastodon"] == sum(1 for a in announced if a != me)
    replies = [
        a["object"] for a in outbox if a["type"] == "Create" and a["object"].get("inReplyTo")
    ]
    assert data["replies_given"]["mastodon"] == sum(
        1 for note in replies if author(note["inReplyTo"]) != me
    )
    assert data["vanity"]["mastodon"]["posts"] == len(outbox)
    # Neither followers nor following are in this archive: unknown, not zero.
    assert data["vanity"]["mastodon"]["followers"] is None


def test_linked_person_counted_once_in_all(x_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(x_home, home)  # the X import already done, WAL and all
    kompas = Kompas(home)
    assert kompas("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    before = run_json(home, "--all")
    x_person = next(iter(sorted(people_of(SLICE[0]) or people_of(SLICE[1]))))
    mentioned = next(
        tag["href"]
        for item in mastodon_file(MASTODON_ARCHIVE, "outbox.json")["orderedItems"]
        if item["type"] == "Create"
        for tag in item["object"].get("tag", [])
        if tag.get("type") == "Mention"
    )
    result = kompas("people", "link", f"x:{x_person}", f"mastodon:{mentioned}", "--as", "Sam")
    assert result.exit_code == 0, result.output
    after = run_json(home, "--all")
    people = before["people_interacted"]
    assert people["all"] == people["x"] + people["mastodon"]
    assert after["people_interacted"]["all"] == people["all"] - 1
    assert after["people_interacted"]["x"] == people["x"]
    top = kompas("community", "people", "--all", "--top", "5000", "--json")
    sam = next(r for r in json.loads(top.stdout)["top"] if r["person"] == "Sam")
    assert sam["accounts"] == [f"mastodon:{mentioned}", f"x:{x_person}"]


def test_empty_period_hints_at_the_data_range(x_home: Path) -> None:
    result = Kompas(x_home)("community", "--since", "2020-01-01", "--until", "2020-03-31")
    assert result.exit_code == 0, result.output
    first = min(t.when for t in TWEETS).date()
    last = max(t.when for t in TWEETS).date()
    assert f"Your data runs from {first} to {last}" in result.stdout
    # An empty period is no data, never zeros or a "lurker".
    assert "lurker" not in result.stdout
    assert "style no data" in result.stdout


def test_bad_input(x_home: Path) -> None:
    kompas = Kompas(x_home)
    for args, message in (
        (("--since", "yesterday"), "not a date"),
        (("--since", "2026-02-01", "--until", "2026-01-01"), "is not before"),
        (("--platform", "myspace"), "unknown platform"),
        (("--half-life", "0"), "positive"),
        (("--all", "--since", "2026-01-01"), "--all cannot"),
    ):
        result = kompas("community", *args)
        assert result.exit_code == 2, args  # a bad flag value is a usage error
        assert message in result.stderr, args
    assert kompas("community", "people", "--top", "0").exit_code == 2


def test_readable_summary(x_home: Path) -> None:
    result = Kompas(x_home)("community", "--since", SINCE, "--until", UNTIL)
    assert result.exit_code == 0, result.output
    assert "replies given" in result.stdout
    assert "no data" in result.stdout
    assert "Week by week" in result.stdout
    people = Kompas(x_home)("community", "people", "--since", SINCE, "--until", UNTIL)
    assert people.exit_code == 0 and "Top relationships" in people.stdout


def test_x_sample_computes_fast(x_home: Path) -> None:
    from kompas.community import Period, report
    from kompas.workspace import Workspace

    engine = Workspace.resolve(x_home).engine
    with engine.connect() as connection:
        report(connection, Period())  # warm the caches once
        started = time.perf_counter()
        result = report(connection, Period())
        elapsed = time.perf_counter() - started
    assert result.figures["x"].posts == len(TWEETS)
    assert elapsed < 3.0  # ~0.3 s on the 2-core dev machine; see bench/community.py


def test_metric_names(x_home: Path) -> None:
    from kompas.community import METRICS, metric
    from kompas.workspace import Workspace

    engine = Workspace.resolve(x_home).engine
    with engine.connect() as connection:
        replies = metric(connection, "replies_given", START, END)
        received = metric(connection, "replies_received", START, END, platform="x")
        share = metric(connection, "mix.conversation", START, END, platform="x")
        with pytest.raises(KeyError):
            metric(connection, "followers_bought", START, END)
    assert replies == sum(1 for t in SLICE if not t.is_rt and t.reply_to and t.reply_to_user != ME)
    assert received is None
    assert share == pytest.approx(Counter(map(classify, SLICE))["conversation"] / len(SLICE))
    assert {"replies_given", "new_connections", "reciprocity"} <= set(METRICS)
