"""Independent readers of the raw sample exports, so tests compare kompas against the
files themselves and never against numbers typed in from a kompas run. They read whole
files with the standard library only, sharing no code with ``kompas.sources``."""

from __future__ import annotations

import csv
import io
import json
import re
import tarfile
import zipfile
from pathlib import Path
from typing import Any


def x_file(archive: Path, name: str) -> list[dict[str, Any]]:
    """The records of ``data/<name>.js`` in an X archive .zip."""
    with zipfile.ZipFile(archive) as z:
        text = z.read(f"data/{name}.js").decode("utf-8")
    return json.loads(text.split("=", 1)[1])  # type: ignore[no-any-return]


def x_counts(archive: Path) -> dict[str, int]:
    """What ``kompas status --json`` must say for an X archive."""
    tweets = [t["tweet"] for t in x_file(archive, "tweets")]
    retweets = [t for t in tweets if t["full_text"].startswith("RT @")]
    replies = [
        t
        for t in tweets
        if t.get("in_reply_to_status_id_str") and not t["full_text"].startswith("RT @")
    ]
    return {
        "posts": len(tweets),
        "replies": len(replies),
        "reposts": len(retweets),
        "likes": len(x_file(archive, "like")),
        "bookmarks": 0,
        "followers": len(x_file(archive, "follower")),
        "following": len(x_file(archive, "following")),
    }


def mastodon_file(archive: Path, name: str) -> Any:
    """One JSON file of a Mastodon archive .tar.gz."""
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.split("/")[-1] == name)
        handle = tar.extractfile(member)
        assert handle is not None
        return json.load(handle)


def mastodon_counts(archive: Path) -> dict[str, int | None]:
    """What ``kompas status --json`` must say for a Mastodon archive: an archive lists no
    followers, and whom the user follows only in ``following_accounts.csv`` (no data
    without it)."""
    items = mastodon_file(archive, "outbox.json")["orderedItems"]
    creates = [i for i in items if i["type"] == "Create"]
    return {
        "posts": len(items),
        "replies": sum(1 for i in creates if i["object"].get("inReplyTo")),
        "reposts": sum(1 for i in items if i["type"] == "Announce"),
        "likes": len(mastodon_file(archive, "likes.json")["orderedItems"]),
        "bookmarks": len(mastodon_file(archive, "bookmarks.json")["orderedItems"]),
        "followers": None,
        "following": _mastodon_following(archive),
    }


def _mastodon_following(archive: Path) -> int | None:
    with tarfile.open(archive) as tar:
        member = next(
            (m for m in tar.getmembers() if m.name.endswith("following_accounts.csv")), None
        )
        if member is None:
            return None
        stream = tar.extractfile(member)
        assert stream is not None
        return len(list(csv.DictReader(io.TextIOWrapper(stream, "utf-8")))) or None


_DATED_ROW = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,", re.MULTILINE)


def linkedin_text(export: Path, name: str) -> str:
    with zipfile.ZipFile(export) as z:
        return z.read(name).decode("utf-8")


def linkedin_counts(export: Path) -> dict[str, int | None]:
    """Shares are counted by distinct share link (one post can fill several rows, one per
    media image); comments by the rows that start with a timestamp."""
    shares = linkedin_text(export, "Shares.csv")
    share_links = set(re.findall(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,([^,]+),", shares, re.MULTILINE))
    comments = len(_DATED_ROW.findall(linkedin_text(export, "Comments.csv")))
    return {
        "posts": len(share_links) + comments,
        "replies": comments,
        "reposts": 0,
        "likes": 0,
        "bookmarks": 0,
        "followers": _linkedin_connections(export),
        "following": _linkedin_connections(export),
    }


def _linkedin_connections(export: Path) -> int | None:
    with zipfile.ZipFile(export) as z:
        if "Connections.csv" not in z.namelist():
            return None
    rows = [r for r in csv_rows(linkedin_text(export, "Connections.csv")) if len(r) > 2]
    return max(len(rows) - 1, 0) or None


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def grown_x_archive(source: Path, target: Path, tweets: int) -> Path:
    """An X archive with ``tweets`` tweets made by repeating the sample's with fresh ids."""
    with zipfile.ZipFile(source) as z:
        members = {name: z.read(name) for name in z.namelist()}
    originals = [t["tweet"] for t in x_file(source, "tweets")]
    grown = []
    for i in range(tweets):
        tweet = dict(originals[i % len(originals)])
        tweet["id_str"] = tweet["id"] = str(10**18 + i)
        grown.append({"tweet": tweet})
    members["data/tweets.js"] = b"window.YTD.tweets.part0 = " + json.dumps(grown).encode()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return target
