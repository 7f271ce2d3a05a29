"""Bad input gets a clear error (exit code 1, naming the file, member, record or line, and
what was expected) and loses nothing: the database is exactly as it was."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import LINKEDIN_EXPORT, MASTODON_ARCHIVE, X_ARCHIVE, Kompas
from samples import mastodon_counts


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _x_members() -> dict[str, bytes]:
    with zipfile.ZipFile(X_ARCHIVE) as z:
        return {name: z.read(name) for name in z.namelist()}


def _fails(kompas: Kompas, *args: str | Path) -> str:
    result = kompas(*args)
    assert result.exit_code == 1, result.output
    return result.stderr


def _status(kompas: Kompas) -> str:
    result = kompas("status", "--json")
    assert result.exit_code == 0
    return result.stdout


def test_truncated_zip(kompas: Kompas, tmp_path: Path) -> None:
    truncated = tmp_path / "archive.zip"
    truncated.write_bytes(X_ARCHIVE.read_bytes()[: X_ARCHIVE.stat().st_size // 2])
    message = _fails(kompas, "import", "x-archive", truncated)
    assert str(truncated) in message
    assert "truncated zip archive" in message
    assert "bz2" not in message and "tar" not in message.replace(".tar", "")
    assert len(message.strip().splitlines()) == 1


def test_json_errors_show_utf8_as_text(kompas: Kompas, tmp_path: Path) -> None:
    members = _x_members()
    head = members["data/tweets.js"].split(b"=", 1)[0]
    members["data/tweets.js"] = head + '= [{"tweet": {"full_text": "Нет" oops}}]'.encode()
    message = _fails(kompas, "import", "x-archive", _zip(tmp_path / "a.zip", members))
    assert "Нет" in message and "\\x" not in message
    assert len(message.strip().splitlines()) == 1


def test_truncated_tar_gz(kompas: Kompas, tmp_path: Path) -> None:
    truncated = tmp_path / "archive.tar.gz"
    truncated.write_bytes(MASTODON_ARCHIVE.read_bytes()[:100_000])
    message = _fails(kompas, "import", "mastodon-archive", truncated)
    assert str(truncated) in message
    assert "truncated archive: outbox.json ends early" in message


def test_zip_that_is_not_an_export(kompas: Kompas, tmp_path: Path) -> None:
    other = _zip(tmp_path / "photos.zip", {"holiday/readme.txt": b"hello"})
    assert "not an X archive" in _fails(kompas, "import", "x-archive", other)
    assert "not a Mastodon archive" in _fails(kompas, "import", "mastodon-archive", other)
    assert "not a LinkedIn export" in _fails(kompas, "import", "linkedin", other)


@pytest.mark.parametrize("kind", ["x-archive", "mastodon-archive", "linkedin"])
def test_empty_export(kompas: Kompas, tmp_path: Path, kind: str) -> None:
    empty = _zip(tmp_path / "empty.zip", {})
    assert "empty.zip" in _fails(kompas, "import", kind, empty)
    folder = tmp_path / "empty-folder"
    folder.mkdir()
    assert "empty-folder" in _fails(kompas, "import", kind, folder)


def test_missing_js_wrapper(kompas: Kompas, tmp_path: Path) -> None:
    members = _x_members()
    members["data/tweets.js"] = members["data/tweets.js"].split(b"=", 1)[1]
    message = _fails(kompas, "import", "x-archive", _zip(tmp_path / "a.zip", members))
    assert "data/tweets.js" in message
    assert "window.YTD" in message and "line 1" in message


def test_invalid_json_names_the_record(kompas: Kompas, tmp_path: Path) -> None:
    members = _x_members()
    head, body = members["data/tweets.js"].split(b"=", 1)
    records = json.loads(body)
    broken = json.dumps(records[:3], indent=1).encode()[:-2] + b',\n {"tweet": {"id_str": }]'
    members["data/tweets.js"] = head + b"= " + broken
    message = _fails(kompas, "import", "x-archive", _zip(tmp_path / "a.zip", members))
    assert "data/tweets.js" in message
    assert "record 4" in message
    assert "invalid JSON" in message


def test_record_of_the_wrong_shape(kompas: Kompas, tmp_path: Path) -> None:
    members = _x_members()
    members["data/like.js"] = b'window.YTD.like.part0 = [{"like": {"tweetId": "1"}}, {"liked": 2}]'
    message = _fails(kompas, "import", "x-archive", _zip(tmp_path / "a.zip", members))
    assert "data/like.js, record 2" in message
    assert "missing required field like" in message
    assert 'expected {"like": {"tweetId": "<digits>"}}' in message


def test_wrong_encoding_json(kompas: Kompas, tmp_path: Path) -> None:
    members = _x_members()
    members["data/tweets.js"] = members["data/tweets.js"].decode("utf-8").encode("utf-16")
    message = _fails(kompas, "import", "x-archive", _zip(tmp_path / "a.zip", members))
    assert "data/tweets.js" in message


def test_wrong_encoding_csv_names_the_line(kompas: Kompas, tmp_path: Path) -> None:
    text = "Date,Link,Message\n2025-01-01 10:00:00,https://www.linkedin.com/x,Merci beaucoup\n"
    text += "2025-01-02 10:00:00,https://www.linkedin.com/y,Très bien\n"
    export = _zip(tmp_path / "li.zip", {"Comments.csv": text.encode("latin-1")})
    message = _fails(kompas, "import", "linkedin", export)
    assert "Comments.csv" in message and "not UTF-8" in message and "line 3" in message


def test_csv_with_missing_columns(kompas: Kompas, tmp_path: Path) -> None:
    export = _zip(tmp_path / "li.zip", {"Shares.csv": b"Date,Visibility\n2025-01-01 10:00:00,X\n"})
    message = _fails(kompas, "import", "linkedin", export)
    assert "Shares.csv" in message and "missing columns" in message
    assert "Date, ShareLink, ShareCommentary" in message


def test_bad_date_names_the_line(kompas: Kompas, tmp_path: Path) -> None:
    text = "Date,Link,Message\n2025-01-01 10:00:00,https://l/1,ok\nyesterday,https://l/2,no\n"
    export = _zip(tmp_path / "li.zip", {"Comments.csv": text.encode()})
    message = _fails(kompas, "import", "linkedin", export)
    assert "Comments.csv, line 3" in message and "YYYY-MM-DD" in message


def test_zip_slip_is_refused(kompas: Kompas, tmp_path: Path) -> None:
    members = _x_members()
    members["../../evil.js"] = b"window.YTD.evil.part0 = []"
    message = _fails(kompas, "import", "x-archive", _zip(tmp_path / "a.zip", members))
    assert "unsafe path" in message and "../../evil.js" in message


def test_tar_slip_is_refused(kompas: Kompas, tmp_path: Path) -> None:
    archive = tmp_path / "a.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"{}"
        info = tarfile.TarInfo("/etc/actor.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    message = _fails(kompas, "import", "mastodon-archive", archive)
    assert "unsafe path" in message


def test_decompression_bomb_is_refused_without_reading_it(
    kompas: Kompas, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("data/tweets.js", "w") as member:
            chunk = b" " * (1 << 20)
            for _ in range(64):  # 64 MiB of spaces, about 64 KiB compressed
                member.write(chunk)
        z.writestr("data/account.js", _x_members()["data/account.js"])
    assert bomb.stat().st_size < 1 << 20
    monkeypatch.setenv("KOMPAS_MAX_MEMBER_BYTES", str(16 << 20))
    message = _fails(kompas, "import", "x-archive", bomb)
    assert "data/tweets.js" in message and "decompression bomb" in message


def test_bounded_reader_stops_a_member_that_lies_about_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kompas.errors import SourceError
    from kompas.sources.archive import Export

    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "big.js").write_bytes(b"x" * 5000)
    monkeypatch.setenv("KOMPAS_MAX_MEMBER_BYTES", "1000000")
    with Export(folder) as export:
        monkeypatch.setattr(export, "_limit", 4096)  # as if the size check had been fooled
        with pytest.raises(SourceError, match="decompression bomb"), export.open("big.js") as f:
            f.read()


def test_failed_import_leaves_the_database_as_it_was(kompas: Kompas, tmp_path: Path) -> None:
    assert kompas("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    before = _status(kompas)
    members = _x_members()
    head, body = members["data/like.js"].split(b"=", 1)
    likes = json.loads(body)
    likes[6000] = {"like": {"fullText": "no id"}}  # after several batches were written
    members["data/like.js"] = head + b"= " + json.dumps(likes).encode()
    message = _fails(kompas, "import", "x-archive", _zip(tmp_path / "a.zip", members))
    assert "data/like.js, record 6001" in message and "tweetId" in message
    after = _status(kompas)
    assert after == before
    assert json.loads(after)["platforms"] == {"mastodon": mastodon_counts(MASTODON_ARCHIVE)}


def test_linkedin_export_with_notes_before_the_header(kompas: Kompas, tmp_path: Path) -> None:
    connections = (
        "Notes:\n"
        '"When exporting your connection data, you may notice that some of the email addresses '
        'are missing."\n\n'
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
        "Ada,Lovelace,https://www.linkedin.com/in/ada,,Analytical,Engineer,05 Jul 2025\n"
        "Grace,Hopper,https://www.linkedin.com/in/grace,,Navy,Admiral,10 Dec 2024\n"
    )
    with zipfile.ZipFile(LINKEDIN_EXPORT) as z:
        members = {name: z.read(name) for name in z.namelist()}
    members["Connections.csv"] = connections.encode()
    assert kompas("import", "linkedin", _zip(tmp_path / "li.zip", members)).exit_code == 0
    linkedin = json.loads(_status(kompas))["platforms"]["linkedin"]
    assert linkedin["followers"] == 2 and linkedin["following"] == 2


def test_feed_url_prints_as_written(kompas: Kompas) -> None:
    """A feed address with markup-like brackets is echoed as typed, not eaten by Rich."""
    url = "https://example.org/feed?tag=[/]&x=[bold]y[/bold]"
    result = kompas("feeds", "add", url)
    assert result.exit_code == 0, result.output
    assert f"Following {url}." in result.stdout.replace("\n", "")
