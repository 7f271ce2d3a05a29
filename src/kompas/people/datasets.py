"""Labelled public data in its published layouts, read into signal columns.

- **Gilani 2017**: a folder of ``bots.<band>.csv`` and ``humans.<band>.csv`` (bands by
  follower count: ``1k``, ``100k``, ``10M`` ...), columns as in the dataset's README.
- **Botwiki 2019**: a JSON list (optionally gzipped) of ``{"created_at", "user"}`` records,
  every one a self-declared bot.

Users add their own labelled sets in the same layouts (see ``kompas people train``).
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kompas.errors import SourceError
from kompas.people.profiles import ProfileError, normalise
from kompas.people.signals import NAN, Columns, columns_from_profiles

GILANI_COLUMNS = (
    "screen_name",
    "user_tweeted",
    "user_retweeted",
    "user_favourited",
    "user_replied",
    "likes_per_tweet",
    "retweets_per_tweet",
    "lists_per_user",
    "follower_friend_ratio",
    "tweet_frequency",
    "favourite_tweet_ratio",
    "age_of_account_in_days",
    "sources_count",
    "urls_count",
    "cdn_content_in_kb",
    "source_identity",
)
_GILANI_FILE = re.compile(r"^(bots|humans)\.([^.]+)\.csv$")
_BAND = re.compile(r"^(\d+(?:\.\d+)?)([kKmM]?)$")


@dataclass
class Labelled:
    """Accounts with their labels (1 = automated) and the group each came from
    (``gilani:1k``, ``botwiki`` ...), for leave-one-group-out evaluation."""

    columns: Columns
    automated: np.ndarray[Any, np.dtype[np.int8]]
    groups: list[str]


def band_followers(band: str) -> float:
    """A Gilani band's nominal follower count: ``1k`` → 1,000, ``10M`` → 10,000,000."""
    match = _BAND.match(band)
    if not match:
        return NAN
    scale = {"": 1, "k": 1e3, "m": 1e6}[match.group(2).lower()]
    return float(match.group(1)) * scale


def gilani_files(folder: Path) -> list[tuple[Path, int, str]]:
    """The ``bots.*.csv``/``humans.*.csv`` files in ``folder``: (path, label, band)."""
    found = []
    for path in sorted(folder.iterdir()):
        match = _GILANI_FILE.match(path.name)
        if match:
            found.append((path, int(match.group(1) == "bots"), match.group(2)))
    return found


def _float(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return NAN


def read_gilani(folder: Path) -> Labelled:
    """Every account of a Gilani folder; raises :class:`SourceError` on a bad file."""
    files = gilani_files(folder)
    if not files:
        raise SourceError(
            str(folder), "no Gilani files", expected="bots.<band>.csv and humans.<band>.csv"
        )
    rows: list[list[float]] = []
    handles: list[str] = []
    labels: list[int] = []
    groups: list[str] = []
    for path, label, band in files:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, skipinitialspace=True)
            header = next(reader, None)
            if header is None or tuple(h.strip() for h in header) != GILANI_COLUMNS:
                raise SourceError(
                    str(path), "unexpected header", expected=", ".join(GILANI_COLUMNS)
                )
            for number, record in enumerate(reader, start=2):
                if not record:
                    continue
                if len(record) != len(GILANI_COLUMNS):
                    raise SourceError(
                        str(path),
                        f"{len(record)} fields",
                        location=f"line {number}",
                        expected=f"{len(GILANI_COLUMNS)}",
                    )
                values = [_float(v) for v in record[1:15]]
                values.append(band_followers(band))
                rows.append(values)
                handles.append(record[0])
                labels.append(label)
                groups.append(f"gilani:{band}")
    table = np.array(rows, dtype=np.float64)
    (tweeted, retweeted, _fav, replied, likes, shared, _lists, ratio, frequency) = table[:, :9].T
    age, sources, urls, followers = table[:, 10], table[:, 11], table[:, 12], table[:, 14]
    total = tweeted + retweeted + replied
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, 1.0 / total, NAN)
        own = np.where(tweeted + replied > 0, 1.0 / (tweeted + replied), NAN)
    unknown = np.full(len(rows), NAN)
    columns = Columns(
        handles=handles,
        age_days=age,
        # Gilani gives the band, not the count: the band's nominal count stands in.
        followers=followers,
        following=unknown,
        ratio=ratio,
        listed=unknown,
        posts_per_day=frequency,
        original_share=tweeted * share,
        repost_share=retweeted * share,
        reply_share=replied * share,
        clients=sources,
        links_per_post=urls * own,
        likes_per_post=likes,
        reposts_per_post=shared,
        default_profile=unknown,
        empty_bio=unknown,
        declared_bot=np.zeros(len(rows)),
        ids=handles,
        platforms=["x"] * len(rows),
    )
    return Labelled(columns, np.array(labels, dtype=np.int8), groups)


def _json_records(path: Path) -> Iterator[Any]:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        head = handle.read(1)
        while head.isspace():
            head = handle.read(1)
        if head == "[":
            yield from json.loads(head + handle.read())
            return
        text = head + handle.read()
    for line in text.splitlines():
        if line.strip():
            yield json.loads(line)


def read_botwiki(path: Path, group: str = "botwiki") -> Labelled:
    """A Botwiki-layout file: every record a self-declared bot."""
    try:
        records = list(_json_records(path))
    except (OSError, ValueError) as error:
        raise SourceError(str(path), f"not JSON: {error}") from None
    profiles = []
    for number, record in enumerate(records, start=1):
        try:
            profiles.append(normalise(record))
        except ProfileError as error:
            raise SourceError(str(path), str(error), location=f"record {number}") from None
    columns = columns_from_profiles(profiles)
    # The label is not an input: the flag would make every Botwiki bot trivially found.
    columns.declared_bot = np.zeros(len(profiles))
    return Labelled(columns, np.ones(len(profiles), dtype=np.int8), [group] * len(profiles))


def concat(parts: list[Labelled]) -> Labelled:
    """Several labelled sets as one."""
    if len(parts) == 1:
        return parts[0]
    fields = [f for f in Columns.__dataclass_fields__ if f not in {"handles", "ids", "platforms"}]
    arrays = {f: np.concatenate([getattr(p.columns, f) for p in parts]) for f in fields}
    columns = Columns(
        handles=[h for p in parts for h in p.columns.handles],
        ids=[i for p in parts for i in p.columns.ids],
        platforms=[i for p in parts for i in p.columns.platforms],
        **arrays,
    )
    return Labelled(
        columns,
        np.concatenate([p.automated for p in parts]),
        [g for p in parts for g in p.groups],
    )


def subset(data: Labelled, mask: np.ndarray[Any, np.dtype[np.bool_]]) -> Labelled:
    """The accounts where ``mask`` is true."""
    index = np.flatnonzero(mask)
    fields = [f for f in Columns.__dataclass_fields__ if f not in {"handles", "ids", "platforms"}]
    arrays = {f: getattr(data.columns, f)[index] for f in fields}
    columns = Columns(
        handles=[data.columns.handles[i] for i in index],
        ids=[data.columns.ids[i] for i in index],
        platforms=[data.columns.platforms[i] for i in index],
        **arrays,
    )
    return Labelled(columns, data.automated[index], [data.groups[i] for i in index])


def read_labelled(folder: Path) -> Labelled:
    """Every labelled set under ``folder``: Gilani folders and Botwiki-layout files
    (``*botwiki*.json[.gz]``), found recursively."""
    parts: list[Labelled] = []
    folders = sorted({p.parent for p in folder.rglob("*.csv") if _GILANI_FILE.match(p.name)})
    parts.extend(read_gilani(f) for f in folders)
    for path in sorted(folder.rglob("*")):
        name = path.name.lower()
        if "botwiki" in name and (name.endswith(".json") or name.endswith(".json.gz")):
            parts.append(read_botwiki(path))
    if not parts:
        raise SourceError(
            str(folder),
            "no labelled data",
            expected="Gilani bots.<band>.csv/humans.<band>.csv or a *botwiki*.json[.gz] file",
        )
    return concat(parts)
