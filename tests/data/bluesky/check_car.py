"""Cross-check a CAR against its *.expected.json using only the atproto SDK.

    python check_car.py repo          # reads repo.car + repo.expected.json

Independent of kompas: decodes the CAR with ``atproto.CAR``, walks the
repo's MST from the signed commit to list every record path, and compares
the records with what make_car.py says it created.  make_car.sh runs it
after every export.
"""

import json
import sys
from collections import Counter
from pathlib import Path

from atproto import CAR, CID


def as_cid(link):
    # The SDK keys blocks by CID but leaves links inside blocks as raw bytes.
    return CID.decode(link) if isinstance(link, bytes) else link


def mst_records(car: CAR, commit: dict) -> dict:
    """Walk the Merkle Search Tree: returns {"collection/rkey": record}."""
    out = {}

    def walk(link):
        node = car.blocks[as_cid(link)]
        if node.get("l"):
            walk(node["l"])
        key = b""
        for e in node["e"]:
            key = key[: e["p"]] + e["k"]  # keys are prefix-compressed
            out[key.decode()] = car.blocks[as_cid(e["v"])]
            if e.get("t"):
                walk(e["t"])

    walk(commit["data"])
    return out


def check(stem: Path) -> None:
    car = CAR.from_bytes(stem.with_suffix(".car").read_bytes())
    exp = json.loads(stem.with_suffix(".expected.json").read_text(encoding="utf-8"))
    commit = car.blocks[car.root]
    assert commit["did"] == exp["did"] and commit["version"] == 3, commit

    recs = mst_records(car, commit)
    by_type = Counter(
        b["$type"] for b in car.blocks.values() if isinstance(b, dict) and "$type" in b
    )
    posts = [r for p, r in recs.items() if p.startswith("app.bsky.feed.post/")]

    assert len(recs) == exp["records_total"], len(recs)
    assert len(posts) == by_type["app.bsky.feed.post"] == exp["posts"]
    assert by_type["app.bsky.feed.like"] == exp["likes"]
    assert by_type["app.bsky.feed.repost"] == exp["reposts"]
    assert by_type["app.bsky.graph.follow"] == exp["follows"]
    assert sum("reply" in r for r in posts) == exp["replies"]
    assert (
        sum(r.get("embed", {}).get("$type") == "app.bsky.embed.record" for r in posts)
        == exp["quotes"]
    )
    assert sorted(r["text"] for r in posts) == sorted(exp["post_texts"])
    assert sorted(r["reply"]["parent"]["uri"] for r in posts if "reply" in r) == sorted(
        exp["reply_parents"]
    )
    for coll, key, subject in [
        ("app.bsky.feed.like", "like_subjects", lambda r: r["subject"]["uri"]),
        ("app.bsky.feed.repost", "repost_subjects", lambda r: r["subject"]["uri"]),
        ("app.bsky.graph.follow", "follow_subjects", lambda r: r["subject"]),
    ]:
        assert sorted(subject(r) for p, r in recs.items() if p.startswith(coll + "/")) == sorted(
            exp[key]
        ), coll
    if exp["profile"]:
        prof = recs["app.bsky.actor.profile/self"]
        assert {k: prof[k] for k in ("displayName", "description")} == exp["profile"]
    facets = Counter(
        f["$type"].rsplit("#", 1)[1]
        for r in posts
        for fc in r.get("facets", [])
        for f in fc["features"]
    )
    assert dict(facets) == exp["facets"], facets
    print(f"{stem.name}.car OK: {len(car.blocks)} blocks, records by $type {dict(by_type)}")


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    for name in sys.argv[1:] or ["repo", "repo-bob"]:
        check(here / name)
