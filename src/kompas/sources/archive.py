"""Read an export the way the user has it: a .zip, a .tar(.gz), or an unpacked folder.

Members are streamed, never extracted. Paths that climb out of the archive (``../``,
absolute paths) and members larger than a sane limit (decompression bombs) are refused,
and every failure names the archive and the member.
"""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO

from kompas.errors import SourceError

#: Refuse any single member larger than this once uncompressed (override: KOMPAS_MAX_MEMBER_BYTES).
DEFAULT_MAX_MEMBER_BYTES = 2 * 1024**3


def max_member_bytes() -> int:
    """The per-member size limit in force."""
    value = os.environ.get("KOMPAS_MAX_MEMBER_BYTES")
    return int(value) if value else DEFAULT_MAX_MEMBER_BYTES


class _BoundedReader(io.RawIOBase):
    """Stops a member that inflates past the limit, even if its header lied about its size."""

    def __init__(self, raw: IO[bytes], limit: int, path: str, member: str) -> None:
        self._raw = raw
        self._left = limit
        self._limit = limit
        self._path = path
        self._member = member

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        want = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        try:
            data = self._raw.read(want)
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
            raise SourceError(
                self._path, f"the archive is damaged or truncated ({exc})", member=self._member
            ) from exc
        self._left -= len(data)
        if self._left < 0:
            raise SourceError(
                self._path,
                f"member inflates past {self._limit:,} bytes; refused as a possible "
                "decompression bomb",
                member=self._member,
                expected="a member under KOMPAS_MAX_MEMBER_BYTES",
            )
        return data

    def close(self) -> None:
        self._raw.close()
        super().close()


def _safe_name(path: str, name: str) -> str:
    """The member's path inside the export, or an error if it tries to escape it."""
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or ".." in posix.parts or (name[1:3] == ":/"):
        raise SourceError(
            path,
            "unsafe path in archive (it points outside the export)",
            member=name,
            expected="relative member paths without '..'",
        )
    return str(posix).lstrip("./") if str(posix) != "." else ""


class Export:
    """An export opened for reading; use as a context manager."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._limit = max_member_bytes()
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        self._folder: Path | None = None
        self._members: dict[str, object] = {}
        self._open()

    def _open(self) -> None:
        p = Path(self.path)
        if not p.exists():
            raise SourceError(self.path, "no such file or folder")
        if p.is_dir():
            self._folder = p
            for file in sorted(p.rglob("*")):
                if file.is_file():
                    self._members[file.relative_to(p).as_posix()] = file
            return
        with p.open("rb") as head:
            magic = head.read(4)
        try:
            if magic[:2] == b"PK" and not zipfile.is_zipfile(p):
                raise SourceError(
                    self.path,
                    "truncated zip archive: its end (the list of members) is missing",
                    expected="the whole .zip as downloaded (the download may have stopped early)",
                )
            if zipfile.is_zipfile(p):
                self._zip = zipfile.ZipFile(p)
                for info in self._zip.infolist():
                    if not info.is_dir():
                        self._add(info.filename, info.file_size, info)
                return
            self._tar = tarfile.open(p, "r:*")  # noqa: SIM115 - closed by close()
            for member in self._tar.getmembers():
                if member.isfile():
                    self._add(member.name, member.size, member)
                elif member.issym() or member.islnk():
                    _safe_name(self.path, member.name)
        except SourceError:
            self.close()
            raise
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
            self.close()
            raise SourceError(
                self.path,
                f"not a readable archive ({exc})",
                expected="a .zip, .tar.gz or folder as downloaded from the platform",
            ) from exc

    def _add(self, name: str, size: int, handle: object) -> None:
        safe = _safe_name(self.path, name)
        if size > self._limit:
            raise SourceError(
                self.path,
                f"member is {size:,} bytes uncompressed; refused as a possible decompression bomb",
                member=name,
                expected=f"members under {self._limit:,} bytes",
            )
        self._members[safe] = handle

    def names(self) -> list[str]:
        """Every file in the export, as relative POSIX paths."""
        return list(self._members)

    def find(self, *basenames: str) -> list[str]:
        """Members whose file name is one of ``basenames``, wherever they sit in the export."""
        wanted = set(basenames)
        return [name for name in self._members if PurePosixPath(name).name in wanted]

    def open(self, name: str) -> IO[bytes]:
        """A bounded binary stream of one member."""
        handle = self._members[name]
        raw: IO[bytes]
        try:
            if isinstance(handle, Path):
                raw = handle.open("rb")
            elif self._zip is not None and isinstance(handle, zipfile.ZipInfo):
                raw = self._zip.open(handle)
            elif self._tar is not None and isinstance(handle, tarfile.TarInfo):
                extracted = self._tar.extractfile(handle)
                if extracted is None:
                    raise SourceError(self.path, "member cannot be read", member=name)
                raw = extracted
            else:  # pragma: no cover - the three kinds above are all there is
                raise SourceError(self.path, "member cannot be read", member=name)
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, RuntimeError) as exc:
            raise SourceError(
                self.path, f"the archive is damaged or truncated ({exc})", member=name
            ) from exc
        return io.BufferedReader(_BoundedReader(raw, self._limit, self.path, name), 1 << 16)

    def iter_members(self) -> Iterator[str]:
        """Member names in archive order."""
        yield from self._members

    def close(self) -> None:
        """Release the archive file."""
        if self._zip is not None:
            self._zip.close()
        if self._tar is not None:
            self._tar.close()

    def __enter__(self) -> Export:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
