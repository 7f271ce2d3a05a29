"""``kompas lists plan|apply`` on Mastodon, against the lists API's recorded response
shapes on 127.0.0.1 (real Mastodon.py client, real HTTP, the real retry policy): the plan
is the diff and changes nothing; apply makes exactly it, once; an interrupted apply
resumes without duplicates; a title the instance refuses exits 1 naming it; a read-only
token is told to reconnect with ``--write``; an instance that stays down exits 3.

Expected members are computed from the fake instance's own entities, never from kompas.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import Kompas
from kompas.cli import app
from kompas.sync import credentials, mastodon
from sync_support import ACCESS_TOKEN, AUTH_CODE, MastodonFake, mastodon_instance
from test_sync_mastodon import connected, quick

RULES = """\
rules:
  - name: python people
    when: {has_tag: python}
    then: {route: "list:python"}
  - name: boosted strangers
    when: {text_regex: "^Post [0-9]+ by"}
    then: {route: "list:boosted"}
"""
LISTS = """\
lists:
  - name: Python people
    platform: mastodon
    route: python
    exclusive: true
  - name: boosted
    platform: mastodon
"""
MEMBERS = "/api/v1/lists/43/accounts"


@pytest.fixture
def fake() -> Iterator[MastodonFake]:
    with mastodon_instance() as instance:
        yield instance


def shown(status: dict[str, Any]) -> dict[str, Any]:
    return status["reblog"] or status


def timeline_statuses(fake: MastodonFake) -> list[dict[str, Any]]:
    found = [shown(s) for _, s in fake.home.items]
    for listing in fake.list_timelines.values():
        found += [shown(s) for _, s in listing.items]
    return found


def python_authors(fake: MastodonFake) -> dict[str, str]:
    """Actor URI → API id of the authors of #python posts in the timelines."""
    return {
        s["account"]["uri"]: s["account"]["id"]
        for s in timeline_statuses(fake)
        if any(t["name"] == "python" for t in s["tags"])
    }


def workspace_with_rules(fake: MastodonFake, home: Path, write: bool = True) -> Kompas:
    connected(home, fake)
    if write:
        saved = dict(credentials.load(home, "mastodon"))
        credentials.save(home, "mastodon", {**saved, "scopes": "read write:lists"})
    (home / "rules.yaml").write_text(RULES, encoding="utf-8")
    (home / "lists.yaml").write_text(LISTS, encoding="utf-8")
    from kompas.workspace import Workspace

    mastodon.sync(Workspace.resolve(home).engine, home, quick(), streams=("timeline",))
    kompas = Kompas(home)
    assert kompas("rules", "run").exit_code == 0
    return kompas


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMPAS_RETRY_ATTEMPTS", "2")
    monkeypatch.setenv("KOMPAS_RETRY_BASE", "0")


def members(fake: MastodonFake, list_id: str) -> set[str]:
    return {a["uri"] for a in fake.list_members[list_id]}


def test_plan_is_the_diff_and_changes_nothing(fake: MastodonFake, tmp_path: Path) -> None:
    kompas = workspace_with_rules(fake, tmp_path / "home", write=False)
    wanted = python_authors(fake)
    assert len(wanted) == 12  # 10 home authors + the 2 of the exclusive list
    followed = [a for _, a in fake.following.items]
    extra = next(a for a in followed if a["uri"] not in wanted)
    fake.list_members["43"].append(extra)  # listed by hand, not a #python author
    before = members(fake, "43")
    result = kompas("lists", "plan", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    python, boosted = plan["lists"]
    assert python["name"] == "Python people" and python["exists"] and not python["create"]
    assert python["set_exclusive"] is None  # already exclusive
    assert {m["account"] for m in python["add"]} == set(wanted) - before
    assert [m["account"] for m in python["remove"]] == [extra["uri"]]
    assert python["unchanged"] == len(before) - 1
    # The boosted posts' authors are not followed: Mastodon cannot list them.
    boosts = {shown(s)["account"]["uri"] for _, s in fake.home.items if s["reblog"]}
    assert boosted["create"] and boosted["add"] == []
    assert {m["account"] for m in boosted["skipped"]} == boosts
    assert {m["reason"] for m in boosted["skipped"]} == {
        "not followed (a Mastodon list holds only accounts you follow)"
    }
    assert plan["changes"] == len(set(wanted) - before) + 1 + 1  # adds, the removal, create
    # Nothing was written; the people-readable plan says the same.
    assert fake.list_writes == [] and members(fake, "43") == before
    text = kompas("lists", "plan").stdout
    assert "mastodon list 'Python people' (exclusive)" in text
    assert f"- {extra['acct']}" in text
    assert f"{plan['changes']} change(s)." in text


def test_apply_makes_exactly_the_plan_once(fake: MastodonFake, tmp_path: Path) -> None:
    kompas = workspace_with_rules(fake, tmp_path / "home")
    fake.list_members["43"] = fake.list_members["43"][:1]
    fake.lists[1]["exclusive"] = False  # the file wants it exclusive
    wanted = python_authors(fake)
    result = kompas("lists", "apply", "--yes", "--json")
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    assert done["added"] == len(wanted) - 1 and done["removed"] == 0
    assert done["created"] == 1 and done["updated"] == 1
    assert members(fake, "43") == set(wanted)
    assert fake.lists[1]["exclusive"] is True
    created = [x for x in fake.lists if x["title"] == "boosted"]
    assert len(created) == 1 and created[0]["exclusive"] is False
    writes = list(fake.list_writes)
    # Idempotent: a second plan is empty and a second apply writes nothing.
    again = json.loads(kompas("lists", "plan", "--json").stdout)
    assert again["changes"] == 0
    assert kompas("lists", "apply", "--yes").exit_code == 0
    assert fake.list_writes == writes


def test_an_interrupted_apply_resumes_without_duplicates(
    fake: MastodonFake, tmp_path: Path, quick_retries: None
) -> None:
    kompas = workspace_with_rules(fake, tmp_path / "home")
    wanted = python_authors(fake)
    to_add = len(set(wanted) - members(fake, "43"))
    # The plan's read and the first add go through; then the instance stays down.
    fake.faults.add(MEMBERS, "ok", "ok", "503", "503")
    first = kompas("lists", "apply", "--yes")
    assert first.exit_code == 3, first.output
    assert "platform unreachable" in first.stderr
    assert "run `kompas lists apply` again to resume" in first.stderr
    assert [w[0] for w in fake.list_writes if w[1] == "43"] == ["add"]
    second = kompas("lists", "apply", "--yes", "--json")
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["added"] == to_add - 1
    adds = [w[2] for w in fake.list_writes if w[0] == "add"]
    assert len(adds) == len(set(adds)) == to_add  # each account added once, in all
    assert members(fake, "43") == set(wanted)


def test_a_title_the_instance_refuses_exits_1_naming_it(fake: MastodonFake, tmp_path: Path) -> None:
    kompas = workspace_with_rules(fake, tmp_path / "home")
    (tmp_path / "home" / "lists.yaml").write_text(
        "lists:\n  - {name: '   ', platform: mastodon, route: python}\n", encoding="utf-8"
    )
    result = kompas("lists", "apply", "--yes")
    assert result.exit_code == 1
    assert "Mastodon refused the list name '   '" in result.stderr
    assert "Title can't be blank" in result.stderr


def test_a_read_only_token_is_told_to_reconnect_with_write(
    fake: MastodonFake, tmp_path: Path
) -> None:
    kompas = workspace_with_rules(fake, tmp_path / "home", write=False)
    assert kompas("lists", "plan").exit_code == 0  # reading needs no write scope
    result = kompas("lists", "apply", "--yes")
    assert result.exit_code == 1
    assert f"kompas connect mastodon --instance {fake.base} --write" in result.stderr
    assert fake.list_writes == []


def test_an_instance_that_stays_down_exits_3(
    fake: MastodonFake, tmp_path: Path, quick_retries: None
) -> None:
    kompas = workspace_with_rules(fake, tmp_path / "home")
    fake.faults.add("/api/v1/lists", "503", "503")
    result = kompas("lists", "plan")
    assert result.exit_code == 3
    assert "platform unreachable" in result.stderr and "503" in result.stderr


def test_without_lists_yaml_each_list_route_is_a_list(fake: MastodonFake, tmp_path: Path) -> None:
    kompas = workspace_with_rules(fake, tmp_path / "home")
    (tmp_path / "home" / "lists.yaml").unlink()
    plan = json.loads(kompas("lists", "plan", "--json").stdout)
    assert [(x["name"], x["platform"], x["route"]) for x in plan["lists"]] == [
        ("boosted", "mastodon", "boosted"),
        ("python", "mastodon", "python"),
    ]
    assert {m["account"] for m in plan["lists"][1]["add"]} == set(python_authors(fake))


def test_a_bad_lists_file_names_the_line(fake: MastodonFake, tmp_path: Path) -> None:
    kompas = workspace_with_rules(fake, tmp_path / "home")
    (tmp_path / "home" / "lists.yaml").write_text(
        "lists:\n  - name: x\n    platform: bluesky\n    exclusive: true\n", encoding="utf-8"
    )
    result = kompas("lists", "plan")
    assert result.exit_code == 1
    assert "line 2" in result.stderr and "exclusive is a Mastodon list setting" in result.stderr


def test_connect_with_write_asks_for_the_lists_and_posting_scopes(
    fake: MastodonFake, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    result = Kompas(home).runner.invoke(
        app,
        ["--home", str(home), "connect", "mastodon", "--instance", fake.base, "--write"],
        input=f"{AUTH_CODE}\n",
    )
    assert result.exit_code == 0, result.output
    assert "read, post and reply, and change your lists" in result.stderr
    url = next(line for line in result.stderr.splitlines() if "/oauth/authorize" in line)
    scopes = "read write:lists write:statuses write:media"
    assert parse_qs(urlsplit(url.strip()).query)["scope"] == [scopes]
    assert fake.token_requests[0]["scope"] == scopes
    saved = credentials.load(home, "mastodon")
    assert saved["scopes"] == scopes and saved["access_token"] == ACCESS_TOKEN


def test_the_dashboard_shows_the_plan_and_applies_it_with_csrf(
    fake: MastodonFake, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from kompas.web import create_app
    from kompas.workspace import Workspace

    home = tmp_path / "home"
    workspace_with_rules(fake, home)
    wanted = python_authors(fake)
    to_add = set(wanted) - members(fake, "43")
    workspace = Workspace.resolve(home)
    with TestClient(create_app(workspace.engine, home=home)) as client:
        page = client.get("/feeds")
        assert page.status_code == 200 and 'id="lists-plan-button"' in page.text
        token = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)
        assert token is not None
        plan = client.get("/fragments/lists").text
        assert set(re.findall(r'<li class="add" data-account="([^"]+)"', plan)) == to_add
        assert 'data-list="mastodon:Python people"' in plan and 'id="lists-apply"' in plan
        assert fake.list_writes == []  # showing the plan wrote nothing
        french = client.get("/fragments/lists?lang=fr").text
        assert "Appliquer ces" in french and "à créer" in french
        # A POST without the token is refused before anything is written.
        refused = client.post("/lists/apply", headers={"HX-Request": "true"})
        assert refused.status_code == 403 and fake.list_writes == []
        done = client.post(
            "/lists/apply", headers={"HX-Request": "true", "X-CSRF-Token": token.group(1)}
        )
        assert done.status_code == 200
        applied = re.search(r'id="lists-applied" data-added="(\d+)"', done.text)
        assert applied is not None and int(applied.group(1)) == len(to_add)
        assert 'id="lists-nothing"' in done.text  # the plan after it: nothing left
        assert members(fake, "43") == set(wanted)
        again = client.get("/fragments/lists").text
        assert 'id="lists-apply"' not in again and 'id="lists-nothing"' in again


def test_people_to_meet_fill_a_list_of_their_own(fake: MastodonFake, tmp_path: Path) -> None:
    kompas = workspace_with_rules(fake, tmp_path / "home")
    (tmp_path / "home" / "rules.yaml").write_text(
        "rules:\n  - name: meet\n    when: {has_tag: python}\n    then: {route: people-to-meet}\n",
        encoding="utf-8",
    )
    (tmp_path / "home" / "lists.yaml").write_text(
        "lists:\n  - {name: to meet, platform: mastodon, members: people-to-meet}\n",
        encoding="utf-8",
    )
    assert kompas("rules", "run").exit_code == 0
    (planned,) = json.loads(kompas("lists", "plan", "--json").stdout)["lists"]
    assert planned["members"] == "people-to-meet" and planned["create"]
    assert {m["account"] for m in planned["add"]} == set(python_authors(fake))
    assert kompas("lists", "apply", "--yes").exit_code == 0
    (made,) = [x for x in fake.lists if x["title"] == "to meet"]
    assert members(fake, made["id"]) == set(python_authors(fake))


def test_people_you_talked_with_fill_a_list(fake: MastodonFake, tmp_path: Path) -> None:
    """Ada's statuses reply to and boost others: people she talked with; the one she
    follows is added, the others are skipped (Mastodon lists hold only followed accounts)."""
    home = tmp_path / "home"
    kompas = workspace_with_rules(fake, home)
    from kompas.workspace import Workspace

    mastodon.sync(Workspace.resolve(home).engine, home, quick(), streams=("statuses",))
    partners: set[str] = set()
    for _, status in fake.statuses.items:
        if status["reblog"]:
            partners.add(status["reblog"]["account"]["uri"])
        if status["in_reply_to_account_id"]:
            partners |= {
                a["uri"] for a in fake.others if a["id"] == status["in_reply_to_account_id"]
            }
    followed = next(a for a in fake.others if a["uri"] in partners)
    fake.following.items.append((4999, followed))
    (home / "lists.yaml").write_text(
        "lists:\n  - {name: talked, platform: mastodon, members: talked, days: 30}\n",
        encoding="utf-8",
    )
    (planned,) = json.loads(kompas("lists", "plan", "--json").stdout)["lists"]
    assert planned["days"] == 30 and planned["create"]
    assert [m["account"] for m in planned["add"]] == [followed["uri"]]
    # Mentioned people count too (not computed here: the fake's http URLs are not their ids).
    assert partners - {followed["uri"]} <= {m["account"] for m in planned["skipped"]}
