"""``kompas people note|tag|cadence|show``: the real CLI on the real Mastodon and X
archives (tests/data, see their PROVENANCE notes), on every test database."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from conftest import MASTODON_ARCHIVE, X_ARCHIVE, Kompas
from kompas.model import Account, Platform
from kompas.store.writer import write_import
from kompas.workspace import Workspace
from samples import mastodon_file, x_file

JARED = "https://mastodon.social/users/Jaredigital"
ACCOUNT = "mastodon:@Jaredigital@mastodon.social"


def _exchanged_with(actor: str) -> list[tuple[str, str]]:
    """(published, id) of the archive's posts that name ``actor``, read from outbox.json
    itself, newest first."""
    found = []
    for item in mastodon_file(MASTODON_ARCHIVE, "outbox.json")["orderedItems"]:
        if item["type"] != "Create":
            continue
        post = item["object"]
        if any(t.get("type") == "Mention" and t.get("href") == actor for t in post["tag"]):
            found.append((post["published"], post["id"]))
    return sorted(found, reverse=True)


def test_note_tag_cadence_show(kompas_db: Kompas) -> None:
    assert kompas_db("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    result = kompas_db("people", "note", ACCOUNT, "met at [bold]XOXO[/] <script>x</script>")
    assert result.exit_code == 0, result.output
    assert "(note 1)" in result.stdout
    assert kompas_db("people", "note", ACCOUNT, "second\nline").exit_code == 0
    assert kompas_db("people", "tag", ACCOUNT, "Friend").exit_code == 0
    assert kompas_db("people", "tag", ACCOUNT, "music").exit_code == 0
    result = kompas_db("people", "cadence", ACCOUNT, "30d")
    assert result.exit_code == 0 and "every 30 days" in result.stdout

    shown = json.loads(kompas_db("people", "show", ACCOUNT, "--json").stdout)
    assert shown["account"] == f"mastodon:{JARED}"
    assert shown["handle"] == "Jaredigital@mastodon.social"
    assert [a["account"] for a in shown["accounts"]] == [f"mastodon:{JARED}"]
    assert [(n["id"], n["text"], n["source"]) for n in shown["notes"]] == [
        (1, "met at [bold]XOXO[/] <script>x</script>", "kompas"),
        (2, "second\nline", "kompas"),
    ]
    assert shown["tags"] == ["friend", "music"]
    named = _exchanged_with(JARED)
    assert named, "the sample names this account"
    given = shown["exchanges"]["given"]
    assert [e["post"] for e in given] == [post for _, post in named[:5]]
    last = datetime.fromisoformat(named[0][0].replace("Z", "+00:00"))
    assert datetime.fromisoformat(shown["last_exchange"]) == last
    # The archive holds only the user's side: what they said to the user is unknown (not
    # "nothing"), and no date is made up.
    assert shown["exchanges"]["received"] is None
    cadence = shown["cadence"]
    assert cadence["cadence_days"] == 30
    assert datetime.fromisoformat(cadence["due_at"]) == last + timedelta(days=30)
    assert cadence["due"] is True  # the sample ends in 2024
    research = json.loads(kompas_db("people", "research", ACCOUNT, "--json").stdout)
    assert shown["research"] == research

    text = kompas_db("people", "show", ACCOUNT)
    assert text.exit_code == 0
    # Plain text, shown as written: Rich markup in a note is not markup.
    assert "met at [bold]XOXO[/] <script>x</script>" in text.stdout
    assert f"Verdict: {research['verdict']}" in text.stdout
    assert f"Last exchange: {last:%Y-%m-%d}" in text.stdout
    assert "Them to you: unknown (the store holds no reply, mention or quote to you" in text.stdout
    assert "Tags: friend, music" in text.stdout

    assert kompas_db("people", "note", ACCOUNT, "--remove", "1").exit_code == 0
    assert kompas_db("people", "tag", ACCOUNT, "friend", "--remove").exit_code == 0
    assert kompas_db("people", "cadence", ACCOUNT, "off").exit_code == 0
    shown = json.loads(kompas_db("people", "show", ACCOUNT, "--json").stdout)
    assert [n["text"] for n in shown["notes"]] == ["second\nline"]
    assert shown["tags"] == ["music"]
    assert shown["cadence"] is None
    listed = kompas_db("people", "note", ACCOUNT)
    assert "[2]" in listed.stdout and "second" in listed.stdout


def test_linked_accounts_show_as_one_person(kompas: Kompas) -> None:
    assert kompas("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    assert kompas("import", "x-archive", X_ARCHIVE).exit_code == 0
    follower = x_file(X_ARCHIVE, "follower")[0]["follower"]["accountId"]
    assert kompas("people", "link", ACCOUNT, f"x:{follower}", "--as", "Jared").exit_code == 0
    assert kompas("people", "note", f"x:{follower}", "same person on X").exit_code == 0
    assert kompas("people", "tag", f"x:{follower}", "x-side").exit_code == 0
    assert kompas("people", "cadence", f"x:{follower}", "2w").exit_code == 0
    shown = json.loads(kompas("people", "show", ACCOUNT, "--json").stdout)
    assert shown["person"] == "Jared"
    assert [a["account"] for a in shown["accounts"]] == [f"mastodon:{JARED}", f"x:{follower}"]
    assert [n["account"] for n in shown["notes"]] == [f"x:{follower}"]
    assert shown["tags"] == ["x-side"]
    assert shown["cadence"]["cadence_days"] == 14
    # A note of the person can be removed from any of its accounts.
    assert kompas("people", "note", ACCOUNT, "--remove", "1").exit_code == 0
    assert json.loads(kompas("people", "show", ACCOUNT, "--json").stdout)["notes"] == []


def test_exchanges_unknown_without_own_account(kompas: Kompas) -> None:
    # Only the X archive: no Mastodon account of the user, so whether she ever talked with
    # this Mastodon account is unknown, not "never".
    assert kompas("import", "x-archive", X_ARCHIVE).exit_code == 0
    engine = Workspace.resolve(str(kompas.home)).engine
    ann = Account(Platform.MASTODON, "https://b.example/users/ann", "ann@b.example")
    write_import(engine, [ann], source="test", path="test")
    shown = json.loads(kompas("people", "show", "mastodon:@ann@b.example", "--json").stdout)
    assert shown["exchanges"] is None and shown["last_exchange"] is None
    text = kompas("people", "show", "mastodon:@ann@b.example").stdout
    assert "Exchanges: unknown (the store holds no account of yours on mastodon" in text
    # On X the user is known: she never wrote to this follower; what the follower wrote
    # to her no X archive holds (no one else's words are in it), so that way is unknown.
    follower = x_file(X_ARCHIVE, "follower")[0]["follower"]["accountId"]
    shown = json.loads(kompas("people", "show", f"x:{follower}", "--json").stdout)
    assert shown["exchanges"] == {"given": [], "received": None}
    assert shown["last_exchange"] is None
    assert "Last exchange: none in the store" in kompas("people", "show", f"x:{follower}").stdout


def test_bad_input_named(kompas: Kompas) -> None:
    assert kompas("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    for command in (
        ("people", "show", "mastodon:@nobody@nowhere.example"),
        ("people", "note", "mastodon:@nobody@nowhere.example", "hi"),
        ("people", "tag", "mastodon:@nobody@nowhere.example", "friend"),
        ("people", "cadence", "mastodon:@nobody@nowhere.example", "30d"),
    ):
        result = kompas(*command)
        assert result.exit_code == 1, command
        assert "@nobody@nowhere.example" in result.stderr
    result = kompas("people", "show", "myspace:tom")
    assert result.exit_code == 1 and "myspace:tom" in result.stderr
    result = kompas("people", "note", ACCOUNT, "--remove", "7")
    assert result.exit_code == 1 and "no note 7" in result.stderr
    result = kompas("people", "cadence", ACCOUNT, "monthly")
    assert result.exit_code == 2 and "'monthly' is not a cadence" in result.stderr
    result = kompas("people", "tag", ACCOUNT, "two words")
    assert result.exit_code == 2 and "'two words' is not a tag" in result.stderr
    result = kompas("people", "note", ACCOUNT, "   ")
    assert result.exit_code == 2 and "empty" in result.stderr
    result = kompas("people", "note", ACCOUNT, "text", "--remove", "1")
    assert result.exit_code == 2
    # Nothing was kept by the refused commands.
    shown = json.loads(kompas("people", "show", ACCOUNT, "--json").stdout)
    assert (shown["notes"], shown["tags"], shown["cadence"]) == ([], [], None)


def test_cadence_due_now_without_exchange(kompas: Kompas) -> None:
    assert kompas("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    actor = mastodon_file(MASTODON_ARCHIVE, "actor.json")
    me = f"mastodon:@{actor['preferredUsername']}@{actor['id'].split('/')[2]}"
    # The user's own account: no exchange with oneself, so the cadence is due now.
    assert kompas("people", "cadence", me, "7d").exit_code == 0
    shown = json.loads(kompas("people", "show", me, "--json").stdout)
    assert shown["cadence"]["due_at"] is None and shown["cadence"]["due"] is True
    assert "due now (no exchange known)" in kompas("people", "show", me).stdout
