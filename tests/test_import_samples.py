"""The real sample exports import completely: ``kompas status --json`` matches counts
computed independently from each raw file (see ``samples.py``)."""

from __future__ import annotations

import json

from conftest import LINKEDIN_EXPORT, MASTODON_ARCHIVE, OPML, X_ARCHIVE, Kompas
from samples import linkedin_counts, mastodon_counts, x_counts


def _status(kompas: Kompas) -> dict[str, dict[str, int]]:
    result = kompas("status", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["platforms"]  # type: ignore[no-any-return]


def test_x_archive_counts_match_the_raw_files(kompas_db: Kompas) -> None:
    result = kompas_db("import", "x-archive", X_ARCHIVE)
    assert result.exit_code == 0, result.output
    assert _status(kompas_db)["x"] == x_counts(X_ARCHIVE)


def test_mastodon_archive_counts_match_the_raw_files(kompas_db: Kompas) -> None:
    result = kompas_db("import", "mastodon-archive", MASTODON_ARCHIVE)
    assert result.exit_code == 0, result.output
    assert _status(kompas_db)["mastodon"] == mastodon_counts(MASTODON_ARCHIVE)


def test_linkedin_export_counts_match_the_raw_files(kompas_db: Kompas) -> None:
    result = kompas_db("import", "linkedin", LINKEDIN_EXPORT)
    assert result.exit_code == 0, result.output
    assert _status(kompas_db)["linkedin"] == linkedin_counts(LINKEDIN_EXPORT)


def test_all_platforms_side_by_side_and_reimport_adds_nothing(kompas_db: Kompas) -> None:
    for kind, path in (
        ("x-archive", X_ARCHIVE),
        ("mastodon-archive", MASTODON_ARCHIVE),
        ("linkedin", LINKEDIN_EXPORT),
        ("opml", OPML),
    ):
        assert kompas_db("import", kind, path).exit_code == 0
    first = kompas_db("status", "--json").stdout
    for kind, path in (("x-archive", X_ARCHIVE), ("mastodon-archive", MASTODON_ARCHIVE)):
        again = kompas_db("import", kind, path)
        assert again.exit_code == 0
        assert "nothing new" in again.stdout
    assert kompas_db("status", "--json").stdout == first
    platforms = json.loads(first)["platforms"]
    assert set(platforms) == {"x", "mastodon", "linkedin"}
    assert json.loads(first)["feeds"] == 5
