"""``kompas people link``: accounts on several platforms declared one person."""

from __future__ import annotations

import json

from conftest import MASTODON_ARCHIVE, X_ARCHIVE, Kompas
from samples import mastodon_file, x_file


def test_link_accounts_across_platforms(kompas_db: Kompas) -> None:
    assert kompas_db("import", "x-archive", X_ARCHIVE).exit_code == 0
    assert kompas_db("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    follower = x_file(X_ARCHIVE, "follower")[0]["follower"]["accountId"]
    mentioned = next(
        tag["href"]
        for item in mastodon_file(MASTODON_ARCHIVE, "outbox.json")["orderedItems"]
        if item["type"] == "Create"
        for tag in item["object"].get("tag", [])
        if tag.get("type") == "Mention"
    )
    # Mentioned accounts are known by id even when the archive has no profile for them.
    result = kompas_db("people", "link", f"x:{follower}", f"mastodon:{mentioned}", "--as", "Sam")
    assert result.exit_code == 0, result.output
    result = kompas_db("people", "link", "mastodon:@nobody@nowhere.example")
    assert result.exit_code == 1
    assert "no mastodon account" in result.stderr
    actor = mastodon_file(MASTODON_ARCHIVE, "actor.json")
    handle = f"@{actor['preferredUsername']}@{actor['id'].split('/')[2]}"
    result = kompas_db("people", "link", "x:milahu104", f"mastodon:{handle}", "--as", "me")
    assert result.exit_code == 0, result.output
    links = json.loads(kompas_db("people", "links", "--json").stdout)
    assert links["Sam"] == [f"mastodon:{mentioned}", f"x:{follower}"]
    me = x_file(X_ARCHIVE, "account")[0]["account"]["accountId"]
    assert links["me"] == [f"mastodon:{actor['id']}", f"x:{me}"]
    assert kompas_db("people", "unlink", "x:milahu104").exit_code == 0
    assert json.loads(kompas_db("people", "links", "--json").stdout)["me"] == [
        f"mastodon:{actor['id']}"
    ]


def test_bad_account_reference(kompas: Kompas) -> None:
    result = kompas("people", "link", "myspace:tom")
    assert result.exit_code == 1
    assert "PLATFORM:ACCOUNT" in result.stderr


def test_links_print_names_as_written(kompas_db: Kompas) -> None:
    """A name with Rich markup in it is printed as typed, never interpreted or refused."""
    assert kompas_db("import", "x-archive", X_ARCHIVE).exit_code == 0
    name = "[bold]Ada[/] [/]"
    result = kompas_db("people", "link", "x:milahu104", "--as", name)
    assert result.exit_code == 0, result.output
    assert f"as {name!r}" in result.stdout
    listed = kompas_db("people", "links")
    assert listed.exit_code == 0, listed.output
    assert f"{name}: x:" in listed.stdout
