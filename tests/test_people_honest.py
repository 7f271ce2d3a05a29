"""People research that admits ignorance (#11.5), words in two languages, the automation
question other pillars ask, and the "unknown => bot" trap (#12), on real samples."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import numpy as np

from conftest import DATA, X_ARCHIVE, Kompas
from kompas.model import Account, Platform
from kompas.people import authenticity, texts, train
from kompas.people.datasets import concat, read_gilani, read_profile_table, subset
from kompas.people.stored import automation
from kompas.store.writer import write_import
from kompas.workspace import Workspace
from samples import x_file

BOTS = DATA / "bots"


def test_own_account_uses_the_stores_counts(kompas: Kompas) -> None:
    assert kompas("import", "x-archive", X_ARCHIVE).exit_code == 0
    me = x_file(X_ARCHIVE, "account")[0]["account"]
    result = kompas("people", "research", f"x:{me['username']}", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    # Counted from the export's own lists, read here without kompas.
    assert found["signals"]["followers"] == len(x_file(X_ARCHIVE, "follower"))
    assert found["signals"]["following"] == len(x_file(X_ARCHIVE, "following"))
    assert found["verdict"] != "unknown" and found["authenticity"] is not None


def test_an_account_known_only_by_name_is_unknown_with_the_next_step(kompas: Kompas) -> None:
    engine = Workspace.resolve(kompas.home).engine
    records = [
        Account(Platform.X, "42", handle="someone"),
        Account(Platform.MASTODON, "7", handle="ada@example.social"),
    ]
    write_import(engine, records, source="test", path="constructed")  # type: ignore[arg-type]
    engine.dispose()
    result = kompas("people", "research", "x:someone", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert (found["verdict"], found["authenticity"], found["points"]) == ("unknown", None, None)
    assert found["uncertainty"] is None
    assert found["next_step"]["code"] == "next.x"
    assert "X has no public lookup" in found["next_step"]["text"]
    first = found["reasons"][0]
    assert first["code"] == "authenticity.unknown" and "nats" not in first["text"]
    found = json.loads(kompas("people", "research", "mastodon:7", "--json").stdout)
    assert found["next_step"]["text"] == "kompas lookup @ada@example.social"
    result = kompas("people", "research", "x:someone")
    assert "unknown" in result.stdout and "X has no public lookup" in result.stdout


def test_audit_with_nothing_scorable_says_how_to_get_scorable_followers(kompas: Kompas) -> None:
    assert kompas("import", "x-archive", X_ARCHIVE).exit_code == 0
    result = kompas("people", "audit", "--json")
    found = json.loads(result.stdout)
    assert found["followers"] == len(x_file(X_ARCHIVE, "follower"))
    assert found["scored"] == 0 and found["inauthentic_share"] is None
    assert "kompas sync" in found["next_step"]
    assert "kompas lookup" in kompas("people", "audit").stdout


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_text_exists_in_french_with_the_same_numbers() -> None:
    english, french = texts.catalogue("en"), texts.catalogue("fr")
    assert english.keys() == french.keys()
    for code, text in english.items():
        assert _placeholders(text) == _placeholders(french[code]), code
    for name in authenticity.INPUTS:
        for effect in ("automated", "human"):
            for lang in texts.LANGUAGES:
                shown = texts.reason(f"{name}:{effect}", 12.0, lang)
                assert "{" not in shown and not re.search(r"\binput\.", shown)
    assert texts.reason("handle_randomness:automated") == "the handle looks machine-generated"
    assert texts.reason("posts_per_day:automated", 40.0, "fr").startswith("son rythme")
    assert texts.reason("age_days:human", 800.0) == "its age (2 years): more typical of people"


def _held_out_model() -> tuple[authenticity.Model, object]:
    gilani = read_gilani(BOTS / "gilani-2017")
    bands = np.array(gilani.groups)
    feedback = read_profile_table(BOTS / "botometer-feedback-2019" / "profiles.csv.gz")
    data = concat([subset(gilani, bands != "gilani-2017:1k"), feedback])
    return train.fit(data, members=3), subset(gilani, bands == "gilani-2017:1k")


def test_unknown_activity_never_means_automated() -> None:
    """The "unknown => bot" trap: the humans of a band the model never saw are flagged no
    more often without their posts than with them."""
    model, held = _held_out_model()
    humans = held.automated == 0  # type: ignore[attr-defined]
    with_posts = authenticity.score(model, held.columns)  # type: ignore[attr-defined]
    without = authenticity.score(model, train._without_posts(held).columns)  # type: ignore[arg-type]
    assert (with_posts.used == authenticity.POSTS).any()
    assert (without.used == authenticity.PROFILE).all()
    assert without.flagged[humans].mean() <= with_posts.flagged[humans].mean()
    # Missing inputs widen the interval.
    width = lambda s: (s.high - s.low)[humans].mean()  # noqa: E731
    assert width(without) > width(with_posts)


def test_automation_from_the_store(kompas: Kompas, tmp_path: Path) -> None:
    engine = Workspace.resolve(kompas.home).engine
    from datetime import UTC, datetime

    made = datetime(2015, 1, 1, tzinfo=UTC)
    records = [
        Account(Platform.MASTODON, "1", handle="weather", is_bot=True),
        Account(Platform.MASTODON, "2", handle="ada"),
        Account(
            Platform.MASTODON,
            "3",
            handle="grace",
            created_at=made,
            followers_count=300,
            following_count=200,
            posts_count=2000,
        ),
    ]
    write_import(engine, records, source="test", path="constructed")  # type: ignore[arg-type]
    with engine.connect() as connection:
        declared = automation(connection, "mastodon", "1")
        thin = automation(connection, "mastodon", "2")
        known = automation(connection, "mastodon", "3")
        missing = automation(connection, "mastodon", "404")
    engine.dispose()
    assert (declared.declared, declared.likely, declared.reason) == (True, True, "declared_bot")
    assert (thin.declared, thin.likely, thin.reason) == (False, None, "too_few_inputs")
    assert known.likely is not None and ":" in known.reason and known.text()
    assert missing.likely is None


def test_an_unfollow_leaves_your_own_counts_and_clubs(kompas: Kompas) -> None:
    from datetime import UTC, datetime

    from kompas.model import Follow
    from kompas.people.clubs import clubs
    from kompas.store import people as stored
    from kompas.store.unfollows import end_unseen, mark_seen

    engine = Workspace.resolve(kompas.home).engine
    records: list[object] = [Account(Platform.MASTODON, "me", handle="me", is_self=True)]
    edges = [Follow(Platform.MASTODON, f"f{n}", "me") for n in range(3)]
    write_import(engine, [*records, *edges], source="test", path="constructed")  # type: ignore[arg-type]
    started = datetime(2025, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        # A complete follower list that no longer shows f2: its edge ends.
        mark_seen(connection, edges[:2], started)
        assert end_unseen(connection, "mastodon", "me", "followers", started, started) == 1
    with engine.connect() as connection:
        assert stored.counts(connection, "mastodon", "me").followers == 2
        own, ties, handles = stored.own_graph(connection)
    engine.dispose()
    assert {t.source for t in ties if t.kind == "follow"} == {"f0", "f1"}
    assert clubs(own, ties, handles).accounts == 2
