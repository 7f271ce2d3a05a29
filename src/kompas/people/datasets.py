"""Labelled public data in its published layouts, read into signal columns.

- **Gilani 2017**: a folder of ``bots.<band>.csv`` and ``humans.<band>.csv`` (bands by
  follower count: ``1k``, ``100k``, ``10M`` ...), columns as in the dataset's README.
- **Botwiki 2019**: a JSON list (optionally gzipped) of ``{"created_at", "user"}`` records,
  every one a self-declared bot.
- **Profile tables** (the OSoMe bot repository's sets as ``profiles.csv[.gz]``): one X user
  per row with ``record_created_at`` (when it was observed) and ``label`` (``bot`` or
  ``human``).
- **Kaggle 2017**: ``bots_data.csv[.gz]`` and ``nonbots_data.csv[.gz]`` in one folder.

Every account carries its group (the source, and the band for Gilani), so evaluation can
leave whole sources out. Users add their own labelled sets in the same layouts (see
``kompas people train``).
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from kompas.errors import SourceError
from kompas.people.profiles import ProfileError, normalise, parse_time
from kompas.people.signals import NAN, Columns, array_fields, columns_from_profiles

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
    (``gilani-2017:1k``, ``botwiki-2019`` ...), for leave-one-group-out evaluation."""

    columns: Columns
    automated: np.ndarray[Any, np.dtype[np.int8]]
    groups: list[str]
    #: Follower counts for engagement references where the model input is unknown
    #: (Gilani gives the band, not the count); NaN elsewhere.
    band_followers: np.ndarray[Any, np.dtype[np.float64]] = field(
        default_factory=lambda: np.zeros(0)
    )

    def __post_init__(self) -> None:
        if len(self.band_followers) != len(self.automated):
            self.band_followers = np.full(len(self.automated), NAN)


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


def read_gilani(folder: Path, name: str = "gilani-2017") -> Labelled:
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
                groups.append(f"{name}:{band}")
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
        # Gilani gives the band, not the counts: followers and following are unknown,
        # their ratio is known. Its lists_per_user is not lists per follower (the 10M
        # band's median is 48), so it is not used.
        followers=unknown,
        following=unknown,
        ratio=ratio,
        listed=unknown,
        posts_per_day=frequency,
        original_share=tweeted * share,
        repost_share=retweeted * share,
        reply_share=replied * share,
        clients=sources,
        links_per_post=urls * own,
        regularity=unknown,
        # Gilani's features come from each account's posts over the collection window.
        posts_seen=np.where(total > 0, total, 0.0),
        likes_per_post=likes,
        reposts_per_post=shared,
        default_profile=unknown,
        bio_length=unknown,
        declared_bot=np.zeros(len(rows)),
        names=[""] * len(rows),
        ids=handles,
        platforms=["x"] * len(rows),
    )
    return Labelled(columns, np.array(labels, dtype=np.int8), groups, followers)


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


def read_botwiki(path: Path, group: str = "botwiki-2019") -> Labelled:
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
    arrays = {f: np.concatenate([getattr(p.columns, f) for p in parts]) for f in array_fields()}
    columns = Columns(
        handles=[h for p in parts for h in p.columns.handles],
        names=[h for p in parts for h in p.columns.names],
        ids=[i for p in parts for i in p.columns.ids],
        platforms=[i for p in parts for i in p.columns.platforms],
        **arrays,
    )
    return Labelled(
        columns,
        np.concatenate([p.automated for p in parts]),
        [g for p in parts for g in p.groups],
        np.concatenate([p.band_followers for p in parts]),
    )


def subset(data: Labelled, mask: np.ndarray[Any, np.dtype[np.bool_]]) -> Labelled:
    """The accounts where ``mask`` is true."""
    index = np.flatnonzero(mask)
    arrays = {f: getattr(data.columns, f)[index] for f in array_fields()}
    columns = Columns(
        handles=[data.columns.handles[i] for i in index],
        names=[data.columns.names[i] for i in index],
        ids=[data.columns.ids[i] for i in index],
        platforms=[data.columns.platforms[i] for i in index],
        **arrays,
    )
    return Labelled(
        columns, data.automated[index], [data.groups[i] for i in index], data.band_followers[index]
    )


_PROFILE_COLUMNS = frozenset(
    ("screen_name", "created_at", "record_created_at", "followers_count", "label")
)
_KAGGLE_FILES = {"bots_data": 1, "nonbots_data": 0}
_STATUS_TIME = re.compile(
    r"'created_at': '([A-Z][a-z]{2} [A-Z][a-z]{2} \d\d [0-9:]{8} [+-]\d{4} \d{4})'"
)


def _open_text(path: Path, encoding: str = "utf-8") -> Any:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding=encoding, newline="")
    return path.open(encoding=encoding, newline="")


def _x_user(row: dict[str, str], prefix_listed: str = "listed_count") -> dict[str, Any]:
    """An X v1.1 user object from a CSV row of user fields."""

    def number(key: str) -> int | None:
        try:
            return int(float(row.get(key) or ""))
        except ValueError:
            return None

    def flag(key: str) -> bool | None:
        value = (row.get(key) or "").strip().lower()
        return True if value == "true" else (False if value == "false" else None)

    return {
        "id_str": row.get("user_id") or row.get("id_str") or row.get("id") or "",
        "screen_name": row.get("screen_name") or "",
        "name": row.get("name") or "",
        "description": row.get("description") or "",
        "created_at": row.get("created_at") or "",
        "followers_count": number("followers_count"),
        "friends_count": number("friends_count"),
        "listed_count": number(prefix_listed),
        "statuses_count": number("statuses_count"),
        "default_profile": flag("default_profile"),
        "default_profile_image": flag("default_profile_image"),
    }


def _labelled_profiles(
    path: Path, records: list[tuple[dict[str, Any], int]], group: str
) -> Labelled:
    profiles = []
    for number, (record, _label) in enumerate(records, start=2):
        try:
            profiles.append(normalise(record))
        except ProfileError as error:
            raise SourceError(str(path), str(error), location=f"line {number}") from None
    columns = columns_from_profiles(profiles)
    labels = np.array([label for _, label in records], dtype=np.int8)
    return Labelled(columns, labels, [group] * len(profiles))


def read_profile_table(path: Path, group: str | None = None) -> Labelled:
    """A ``profiles.csv[.gz]`` of X user fields with ``record_created_at`` and ``label``;
    the group is the folder's name."""
    group = group or path.parent.name
    records: list[tuple[dict[str, Any], int]] = []
    with _open_text(path) as handle:
        reader = csv.DictReader(handle)
        missing = _PROFILE_COLUMNS - set(reader.fieldnames or ())
        if missing:
            raise SourceError(
                str(path),
                f"missing columns {sorted(missing)}",
                expected=", ".join(_PROFILE_COLUMNS),
            )
        for number, row in enumerate(reader, start=2):
            label = (row.get("label") or "").strip().lower()
            if label not in {"bot", "human"}:
                raise SourceError(
                    str(path),
                    f"label {label!r}",
                    location=f"line {number}",
                    expected="bot or human",
                )
            record = {"created_at": row.get("record_created_at"), "user": _x_user(row)}
            records.append((record, int(label == "bot")))
    return _labelled_profiles(path, records, group)


def _kaggle_time(value: str) -> str:
    """Kaggle's creation times are X's format or ``13/03/2017 22:21``: as ISO 8601."""
    if parse_time(value) is not None:
        return value
    try:
        return datetime.strptime(value.strip(), "%d/%m/%Y %H:%M").replace(tzinfo=UTC).isoformat()
    except ValueError:
        return ""


def read_kaggle(folder: Path, group: str | None = None) -> Labelled:
    """The Kaggle 2017 layout: ``bots_data.csv[.gz]`` and ``nonbots_data.csv[.gz]`` (Latin-1).
    Each account is observed when its last post (the ``status`` field) was made, else at
    the file's latest such time."""
    group = group or folder.name
    records: list[tuple[dict[str, Any], int]] = []
    for path in sorted(folder.iterdir()):
        stem = path.name.split(".", 1)[0]
        if stem not in _KAGGLE_FILES:
            continue
        rows: list[tuple[dict[str, Any], str | None]] = []
        with _open_text(path, "latin-1") as handle:
            for row in csv.DictReader(handle):
                user = _x_user(row, "listedcount")
                user["created_at"] = _kaggle_time(user["created_at"])
                seen = _STATUS_TIME.search(row.get("status") or "")
                rows.append((user, seen.group(1) if seen else None))
        times = [parse_time(t) for _, t in rows if t]
        latest = max((t for t in times if t is not None), default=None)
        fallback = latest.isoformat() if latest else None
        records += [
            ({"created_at": t or fallback, "user": u}, _KAGGLE_FILES[stem]) for u, t in rows
        ]
    return _labelled_profiles(folder, records, group)


def read_labelled(folder: Path) -> Labelled:
    """Every labelled set under ``folder``, found recursively: Gilani folders,
    Botwiki-layout files (``*botwiki*.json[.gz]``), profile tables (``profiles.csv[.gz]``
    with a ``label`` column) and Kaggle folders (``bots_data.csv[.gz]``)."""
    parts: list[Labelled] = []
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    folders = sorted({p.parent for p in files if _GILANI_FILE.match(p.name)})
    parts.extend(read_gilani(f, f.name) for f in folders)
    for path in files:
        name = path.name.lower()
        if "botwiki" in name and (name.endswith(".json") or name.endswith(".json.gz")):
            parts.append(read_botwiki(path, path.name.split("_", 1)[0].split(".", 1)[0]))
        elif name in {"profiles.csv", "profiles.csv.gz"}:
            parts.append(read_profile_table(path))
    kaggle = sorted({p.parent for p in files if p.name.split(".", 1)[0] == "bots_data"})
    parts.extend(read_kaggle(f) for f in kaggle)
    if not parts:
        raise SourceError(
            str(folder),
            "no labelled data",
            expected="Gilani bots.<band>.csv/humans.<band>.csv, a *botwiki*.json[.gz] file, "
            "a profiles.csv[.gz] with a label column, or Kaggle bots_data.csv[.gz]",
        )
    return concat(parts)
