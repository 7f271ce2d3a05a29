"""Sending to Mastodon (``kompas.post.send``) against the recorded response shapes of
``POST /api/v1/statuses``, ``POST /api/v2/media`` and ``GET /api/v1/media/:id`` served on
127.0.0.1 (``tests/sync_support.py``), through the real Mastodon.py client and retry policy.

The instance honours ``Idempotency-Key`` as Mastodon does (a repeated key gets the status
it made), refuses too long a text (422), answers 202 then 206 while an image is processed,
and 429 when rate limited. Expectations come from the fake instance's own records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from conftest import Kompas
from kompas.cli import app
from kompas.post import progress
from kompas.post.send import (
    Draft,
    NotConnected,
    PlatformUnreachable,
    ReadOnly,
    Refused,
    TooLarge,
    send,
)
from kompas.store import schema
from kompas.store.dashboard import sync_streams
from kompas.sync import credentials
from kompas.workspace import Workspace
from sync_support import AUTH_CODE, MastodonFake, mastodon_instance
from test_sync_mastodon import connected, quick

DATA = Path(__file__).parent / "data"
IMAGE = DATA / "images" / "python.png"
WRITE = "read write:lists write:statuses write:media"


@pytest.fixture
def fake() -> Iterator[MastodonFake]:
    with mastodon_instance() as instance:
        yield instance


def writable(home: Path, fake: MastodonFake, scopes: str = WRITE) -> Workspace:
    workspace = connected(home, fake)
    saved = dict(credentials.load(home, "mastodon"))
    credentials.save(home, "mastodon", {**saved, "scopes": scopes})
    return workspace


def stored_posts(workspace: Workspace) -> dict[str, Any]:
    with workspace.engine.connect() as connection:
        rows = connection.execute(sa.select(schema.posts))
        return {r.id: r for r in rows}


def test_a_reply_to_a_remote_post_with_an_image(fake: MastodonFake, tmp_path: Path) -> None:
    home = tmp_path / "home"
    workspace = writable(home, fake)
    remote = fake.theirs[1]  # on other.example: found through the instance's search
    assert not remote["uri"].startswith(fake.base)
    fake.media_processing_polls = 2  # 202, then 206 twice, then 200
    draft = Draft(
        "mastodon", ("Thanks! #kompas",), reply_to=remote["uri"], image=IMAGE, alt="A logo"
    )
    (sent,) = send(home, workspace.engine, draft, quick(), key="r1")
    (status,) = fake.posted
    assert sent.uri == status["uri"] and sent.url == status["url"]
    assert status["in_reply_to_id"] == remote["id"]
    (attached,) = status["media_attachments"]
    assert attached["description"] == "A logo"
    (upload,) = fake.media.values()
    assert upload["size"] == IMAGE.stat().st_size and upload["mime_type"] == "image/png"
    assert upload["polls_left"] == 0  # kompas waited until the image was processed
    assert fake.status_requests == ["r1:0"]
    post = stored_posts(workspace)[status["uri"]]
    assert post.reply_to_id == remote["uri"]
    assert post.reply_to_author_id == remote["account"]["uri"]
    assert post.text == "Thanks! #kompas" and post.hashtags == ["kompas"]
    with workspace.engine.connect() as connection:
        me = connection.execute(
            sa.select(schema.accounts).where(schema.accounts.c.id == fake.me["uri"])
        ).one()
    assert me.is_self


def test_the_same_key_never_posts_twice(fake: MastodonFake, tmp_path: Path) -> None:
    home = tmp_path / "home"
    workspace = writable(home, fake)
    draft = Draft("mastodon", ("Only once",))
    first = send(home, workspace.engine, draft, quick(), key="k")
    assert send(home, workspace.engine, draft, quick(), key="k") == first
    assert fake.status_requests == ["k:0"]  # the second send knew it was done
    # Even with kompas's own memory of it gone, the instance honours the key.
    assert progress.forget(workspace.engine, "mastodon", fake.me["uri"], "k")
    again = send(home, workspace.engine, draft, quick(), key="k")
    assert [s.uri for s in again] == [s.uri for s in first]
    assert fake.status_requests == ["k:0", "k:0"] and len(fake.posted) == 1
    assert len(stored_posts(workspace)) == 1
    # The progress kept with the sync state is no sync stream on the dashboard.
    with workspace.engine.connect() as connection:
        assert progress.load(workspace.engine, "mastodon", fake.me["uri"], "k") is not None
        assert not [s for s in sync_streams(connection) if s.stream.startswith("send:")]


def test_a_thread_rate_limited_at_part_two_resumes_there(
    fake: MastodonFake, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    workspace = writable(home, fake)
    draft = Draft("mastodon", ("Part one 1/2", "Part two 2/2"))
    fake.faults.add("/api/v1/statuses", "ok", "429", "429")
    policy = quick(attempts=2)
    with pytest.raises(PlatformUnreachable, match="rate limited"):
        send(home, workspace.engine, draft, policy, key="t")
    assert policy.waits == [7.0]  # Retry-After honoured once, then given up
    assert [s["content"] for s in fake.posted] == ["<p>Part one 1/2</p>"]
    assert list(stored_posts(workspace)) == [fake.posted[0]["uri"]]
    sent = send(home, workspace.engine, draft, quick(), key="t")
    one, two = fake.posted
    assert [s.uri for s in sent] == [one["uri"], two["uri"]]
    assert two["in_reply_to_id"] == one["id"]
    assert fake.status_requests == ["t:0", "t:1"]
    assert stored_posts(workspace)[two["uri"]].reply_to_id == one["uri"]


def test_an_image_is_not_uploaded_again_when_the_post_failed(
    fake: MastodonFake, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    workspace = writable(home, fake)
    draft = Draft("mastodon", ("With a picture",), image=IMAGE, alt="A logo")
    fake.faults.add("/api/v1/statuses", "503", "503")
    with pytest.raises(PlatformUnreachable):
        send(home, workspace.engine, draft, quick(attempts=2), key="m")
    assert len(fake.media) == 1 and fake.posted == []
    send(home, workspace.engine, draft, quick(), key="m")
    assert len(fake.media) == 1  # the upload of the failed try was attached
    assert fake.posted[0]["media_attachments"][0]["id"] == next(iter(fake.media))


def test_an_image_still_processing_after_the_retries_is_kept_for_the_next_try(
    fake: MastodonFake, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    workspace = writable(home, fake)
    fake.media_processing_polls = 3
    draft = Draft("mastodon", ("Slow image",), image=IMAGE, alt="A logo")
    with pytest.raises(PlatformUnreachable, match="has not finished processing the image"):
        send(home, workspace.engine, draft, quick(attempts=2), key="slow")
    assert fake.posted == [] and len(fake.media) == 1
    send(home, workspace.engine, draft, quick(), key="slow")
    assert len(fake.media) == 1 and len(fake.posted) == 1


def test_too_long_a_post_is_refused_with_the_instances_words(
    fake: MastodonFake, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    workspace = writable(home, fake)
    with pytest.raises(Refused) as refused:
        send(home, workspace.engine, Draft("mastodon", ("x" * 501,)), quick(), key="long")
    assert str(refused.value) == (
        "Mastodon refused the post: HTTP 422 Validation failed: Text character limit of 500 "
        "exceeded"
    )
    assert fake.posted == [] and stored_posts(workspace) == {}


def test_an_image_over_the_instance_limit_is_never_uploaded(
    fake: MastodonFake, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    workspace = writable(home, fake)
    fake.image_size_limit = 1000  # configuration.media_attachments.image_size_limit
    draft = Draft("mastodon", ("Big",), image=IMAGE)
    with pytest.raises(TooLarge, match="Mastodon takes at most 1,000 bytes"):
        send(home, workspace.engine, draft, quick(), key="big")
    assert fake.media == {} and fake.posted == []


def test_a_read_only_token_is_told_the_exact_command(fake: MastodonFake, tmp_path: Path) -> None:
    home = tmp_path / "home"
    workspace = writable(home, fake, scopes="read write:lists")
    with pytest.raises(ReadOnly) as raised:
        send(home, workspace.engine, Draft("mastodon", ("Hi",)), quick(), key="ro")
    command = f"`kompas connect mastodon --instance {fake.base} --write`"
    assert command in str(raised.value) and "write:statuses" in str(raised.value)
    assert fake.status_requests == []
    # A token whose grant the instance narrowed: its 403 says the same.
    writable(home, fake)
    fake.token_scopes = {"read"}
    with pytest.raises(ReadOnly, match="HTTP 403 This action is outside the authorized scopes"):
        send(home, workspace.engine, Draft("mastodon", ("Hi",)), quick(), key="ro2")


def test_not_connected_names_the_command(tmp_path: Path) -> None:
    workspace = Workspace.resolve(tmp_path / "home")
    for network, command in (
        ("mastodon", "kompas connect mastodon --instance https://YOUR.INSTANCE --write"),
        ("bluesky", "kompas connect bluesky --handle YOUR.HANDLE"),
    ):
        with pytest.raises(NotConnected, match=command.replace(".", r"\.")):
            send(tmp_path / "home", workspace.engine, Draft(network, ("Hi",)), quick(), key="n")


def test_a_reply_to_a_post_nobody_knows_is_the_users_problem(
    fake: MastodonFake, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    workspace = writable(home, fake)
    for ref in ("https://nowhere.example/@x/1", "999999"):
        with pytest.raises(Exception, match="Mastodon does not know the post") as raised:
            send(home, workspace.engine, Draft("mastodon", ("Hi",), reply_to=ref), quick(), key=ref)
        assert not isinstance(raised.value, PlatformUnreachable)
    assert fake.posted == []


# ----------------------------------------------------------------------------- the CLI


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMPAS_RETRY_ATTEMPTS", "2")
    monkeypatch.setenv("KOMPAS_RETRY_BASE", "0")
    monkeypatch.setenv("KOMPAS_RETRY_MAX_WAIT", "0")


def cli(home: Path) -> Kompas:
    return Kompas(home)


def test_post_send_checks_asks_posts_and_prints_the_url(fake: MastodonFake, tmp_path: Path) -> None:
    home = tmp_path / "home"
    writable(home, fake)
    kompas = cli(home)
    said_no = kompas.runner.invoke(
        app, ["--home", str(home), "post", "send", "Hello #kompas", "--to", "mastodon"], input="n\n"
    )
    assert said_no.exit_code == 0, said_no.output
    assert "Send to mastodon (one post)?" in said_no.stderr
    assert "Nothing was sent." in said_no.stderr and fake.posted == []
    # Without a terminal to answer and without --yes, nothing is sent either: exit 1.
    silent = kompas("post", "send", "Hello #kompas", "--to", "mastodon")
    assert silent.exit_code == 1 and "use --yes" in silent.stderr and fake.posted == []
    said_yes = kompas.runner.invoke(
        app,
        ["--home", str(home), "post", "send", "Hello #kompas", "--to", "mastodon"],
        input="y\n",
    )
    assert said_yes.exit_code == 0, said_yes.output
    (status,) = fake.posted
    assert f"Sent to mastodon: {status['url']}" in said_yes.stdout
    # The check was shown before the question: the length as Mastodon counts it.
    assert "13/500 characters  fits" in said_yes.stdout.split("Sent to")[0]


def test_post_send_json_gives_the_check_and_each_part(fake: MastodonFake, tmp_path: Path) -> None:
    home = tmp_path / "home"
    writable(home, fake)
    draft = tmp_path / "draft.txt"
    sentence = "A sentence about compasses and the people who read them. "
    draft.write_text(sentence * 12, encoding="utf-8")  # about 700 characters
    result = cli(home)("post", "send", "--file", draft, "--to", "mastodon", "--yes", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    fit = payload["check"]["networks"]["mastodon"]
    assert fit["fits"] is False and fit["limit"] == 500 and len(fit["parts"]) == 2
    assert [p["url"] for p in payload["sent"]] == [s["url"] for s in fake.posted]
    assert [p["part"] for p in payload["sent"]] == [1, 2]
    assert not any(p["earlier"] for p in payload["sent"])
    one, two = fake.posted
    assert two["in_reply_to_id"] == one["id"]
    assert [re.sub("<[^>]+>", "", s["content"]) for s in fake.posted] == fit["parts"]
    # Sending the same draft again the same day posts nothing: it was sent.
    again = cli(home)("post", "send", "--file", draft, "--to", "mastodon", "--yes", "--json")
    assert again.exit_code == 0, again.output
    assert [p["earlier"] for p in json.loads(again.stdout)["sent"]] == [True, True]
    assert len(fake.posted) == 2


def test_no_split_refuses_too_long_a_draft_naming_network_and_count(
    fake: MastodonFake, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    writable(home, fake)
    result = cli(home)("post", "send", "x " * 300, "--to", "mastodon", "--no-split", "--yes")
    assert result.exit_code == 1
    assert "mastodon" in result.stderr and "599" in result.stderr and "500" in result.stderr
    assert fake.posted == []


def test_the_instances_refusal_exits_1_with_its_words(fake: MastodonFake, tmp_path: Path) -> None:
    home = tmp_path / "home"
    workspace = writable(home, fake)
    # The saved limits say 1,000 characters; the instance has gone back to 500 since.
    saved = dict(credentials.load(home, "mastodon"))
    credentials.save(
        home, "mastodon", {**saved, "configuration": {"statuses": {"max_characters": 1000}}}
    )
    result = cli(home)("post", "send", "y" * 600, "--to", "mastodon", "--yes")
    assert result.exit_code == 1
    assert "Mastodon refused the post: HTTP 422" in result.stderr
    assert "Text character limit of 500 exceeded" in result.stderr
    assert fake.posted == [] and stored_posts(workspace) == {}


def test_rate_limited_exits_3_and_the_retry_posts_once(
    fake: MastodonFake, tmp_path: Path, quick_retries: None
) -> None:
    home = tmp_path / "home"
    workspace = writable(home, fake)
    fake.faults.add("/api/v1/statuses", "429", "429")
    failed = cli(home)("post", "send", "Patience", "--to", "mastodon", "--yes")
    assert failed.exit_code == 3
    assert "platform unreachable" in failed.stderr and "rate limited" in failed.stderr
    assert fake.posted == [] and stored_posts(workspace) == {}
    retried = cli(home)("post", "send", "Patience", "--to", "mastodon", "--yes")
    assert retried.exit_code == 0, retried.output
    (status,) = fake.posted
    assert list(stored_posts(workspace)) == [status["uri"]]
    # Both tries carried the same key; the instance saw it once.
    assert len(set(fake.status_requests)) == 1 and len(fake.status_requests) == 1


def test_input_problems_exit_1_before_anything_is_asked(fake: MastodonFake, tmp_path: Path) -> None:
    home = tmp_path / "home"
    kompas = cli(home)
    absent = kompas("post", "send", "Hi", "--to", "mastodon")
    assert absent.exit_code == 1
    assert "kompas connect mastodon --instance https://YOUR.INSTANCE --write" in absent.stderr
    bluesky = kompas("post", "send", "Hi", "--to", "bluesky")
    assert bluesky.exit_code == 1
    assert "kompas connect bluesky --handle YOUR.HANDLE" in bluesky.stderr
    writable(home, fake, scopes="read")
    read_only = kompas("post", "send", "Hi", "--to", "mastodon")
    assert read_only.exit_code == 1
    assert f"kompas connect mastodon --instance {fake.base} --write" in read_only.stderr
    writable(home, fake)
    saved = dict(credentials.load(home, "mastodon"))
    small = {"media_attachments": {"image_size_limit": 500}}
    credentials.save(home, "mastodon", {**saved, "configuration": small})
    big = kompas("post", "send", "Look", "--to", "mastodon", "--image", IMAGE, "--alt", "A logo")
    assert big.exit_code == 1
    assert "1,020 bytes; Mastodon takes at most 500 bytes" in big.stderr
    unknown = kompas("post", "send", "Hi", "--to", "friendica")
    assert unknown.exit_code == 2 and "friendica" in unknown.stderr
    assert fake.posted == [] and fake.media == {}
    assert "Send to" not in big.stderr + read_only.stderr


def test_connect_with_write_saves_what_the_instance_allows(
    fake: MastodonFake, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    fake.image_size_limit = 8 * 1024 * 1024
    result = Kompas(home).runner.invoke(
        app,
        ["--home", str(home), "connect", "mastodon", "--instance", fake.base, "--write"],
        input=f"{AUTH_CODE}\n",
    )
    assert result.exit_code == 0, result.output
    saved = credentials.load(home, "mastodon")
    assert saved["scopes"] == WRITE
    assert saved["configuration"] == {
        "statuses": {
            "max_characters": 500,
            "max_media_attachments": 4,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {"image_size_limit": 8 * 1024 * 1024},
    }


def test_reply_to_a_known_post_addresses_its_author(fake: MastodonFake, tmp_path: Path) -> None:
    home = tmp_path / "home"
    writable(home, fake)
    kompas = cli(home)
    assert kompas("sync", "mastodon", "--only", "notifications").exit_code == 0
    note = next(n["status"] for _, n in fake.notifications.items if n["type"] == "mention")
    result = kompas(
        "post", "send", "Thank you", "--to", "mastodon", "--reply-to", note["url"], "--yes"
    )
    assert result.exit_code == 0, result.output
    (status,) = fake.posted
    assert status["in_reply_to_id"] == note["id"]
    handle = f"{note['account']['acct']}@{fake.host}"
    assert re.sub("<[^>]+>", "", status["content"]) == f"@{handle} Thank you"


# ----------------------------------------------------------------------------- inbox reply


def test_inbox_reply_answers_the_item_and_it_leaves(fake: MastodonFake, tmp_path: Path) -> None:
    home = tmp_path / "home"
    writable(home, fake)
    kompas = cli(home)
    assert kompas("sync", "mastodon").exit_code == 0
    items = json.loads(kompas("inbox", "--json").stdout)["items"]
    remote = next(i for i in items if "other.example" in i["post"])
    result = kompas("inbox", "reply", remote["id"], "Thanks for writing!", "--yes", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["item"] == {"id": remote["id"], "state": "answered"}
    (status,) = fake.posted
    replied = next(s for s in fake.known_statuses.values() if s["uri"] == remote["post"])
    assert status["in_reply_to_id"] == replied["id"]
    assert re.sub("<[^>]+>", "", status["content"]) == (
        f"@{replied['account']['acct']} Thanks for writing!"
    )
    assert payload["sent"][0]["url"] == status["url"]
    # (The fake's mentions are from January; the default window now ends at the reply.)
    every = {i["id"]: i for i in json.loads(kompas("inbox", "--all", "--json").stdout)["items"]}
    assert every[remote["id"]]["state"] == "answered"
    still = {i["id"] for i in every.values() if i["state"] == "open"}
    assert still == {i["id"] for i in items} - {remote["id"]}
    # An unknown item, and an item of a network kompas cannot post to, exit 1.
    unknown = kompas("inbox", "reply", "nosuchitem", "Hi", "--yes")
    assert unknown.exit_code == 1 and "nosuchitem" in unknown.stderr
    assert len(fake.posted) == 1


def test_an_answer_the_inbox_cannot_see_marks_the_item_done(
    fake: MastodonFake, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from kompas.post.reply import settle
    from kompas.store.inbox import addressed, selves

    home = tmp_path / "home"
    workspace = writable(home, fake)
    assert cli(home)("sync", "mastodon", "--only", "notifications").exit_code == 0
    with workspace.engine.begin() as connection:
        own = selves(connection)
        item = next(i for i in addressed(connection, own) if not i.answered)
        assert settle(connection, item, datetime.now(UTC)) is False  # no reply stored
    every = json.loads(cli(home)("inbox", "--all", "--json").stdout)["items"]
    assert {i["id"]: i["state"] for i in every}[item.id] == "done"
