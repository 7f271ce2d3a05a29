"""Read an export the way the user has it: a .zip, a .tar(.gz), or an unpacked folder.

Members are streamed, never extracted, and every failure names the archive and the member.
Refused before anything is read: paths that climb out of the archive (``../``, absolute
paths), a member that would inflate past the per-member limit or far more than real data
compresses (decompression bombs), archives with more members than any export holds, a
truncated zip, and a damaged tar stream (checked to its end, CRC included). While reading:
a damaged compressed stream (zlib, gzip, CRC errors) stops the import ("damaged archive"),
and one budget bounds the bytes inflated by the whole import. Each limit is configurable
(:class:`Limits`), and the message says which one and how to raise it.
"""

from __future__ import annotations

import io
import os
import re
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO

from kompas.errors import KompasError, SourceError

#: Refuse any single member larger than this once uncompressed (override: KOMPAS_MAX_MEMBER_BYTES).
DEFAULT_MAX_MEMBER_BYTES = 2 * 1024**3
#: The bytes one import may inflate in all (KOMPAS_MAX_IMPORT_BYTES).
DEFAULT_MAX_IMPORT_BYTES = 8 * 1024**3
#: More members than any real export holds (KOMPAS_MAX_MEMBERS).
DEFAULT_MAX_MEMBERS = 50_000
#: Real JSON and CSV compress 5-20 times; a bomb of whitespace 1,000 (KOMPAS_MAX_RATIO).
DEFAULT_MAX_RATIO = 100
#: Below this size a member's compression ratio does not matter.
_RATIO_FLOOR = 8 * 1024**2
#: A member name that needs no normalising: relative, no backslash, no dot segments.
_PLAIN_NAME = re.compile(r"^(?![./])(?!.*(?:^|/)\.\.?(?:/|$))[^\\:]+(?<![/.])$")
#: Failures of a compressed stream: a damaged archive.
_DAMAGE = (zlib.error, zipfile.BadZipFile, tarfile.TarError, EOFError, OSError)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise KompasError(f"{name}={value!r} is not a whole number") from None
    if number <= 0:
        raise KompasError(f"{name}={value!r} must be positive")
    return number


@dataclass(frozen=True)
class Limits:
    """What one import may cost; each from its environment variable, else the default."""

    member_bytes: int = DEFAULT_MAX_MEMBER_BYTES
    import_bytes: int = DEFAULT_MAX_IMPORT_BYTES
    members: int = DEFAULT_MAX_MEMBERS
    ratio: int = DEFAULT_MAX_RATIO

    @classmethod
    def from_env(cls) -> Limits:
        """The limits in force (``KOMPAS_MAX_*``)."""
        return cls(
            member_bytes=_env_int("KOMPAS_MAX_MEMBER_BYTES", DEFAULT_MAX_MEMBER_BYTES),
            import_bytes=_env_int("KOMPAS_MAX_IMPORT_BYTES", DEFAULT_MAX_IMPORT_BYTES),
            members=_env_int("KOMPAS_MAX_MEMBERS", DEFAULT_MAX_MEMBERS),
            ratio=_env_int("KOMPAS_MAX_RATIO", DEFAULT_MAX_RATIO),
        )


def max_member_bytes() -> int:
    """The per-member size limit in force."""
    return Limits.from_env().member_bytes


def damaged(path: str, member: str | None, error: BaseException) -> SourceError:
    """The error for a compressed stream that fails: the archive is damaged."""
    detail = " ".join(str(error).split())[:200] or type(error).__name__
    where = member or "the archive"
    if isinstance(error, EOFError):
        return SourceError(
            path,
            f"truncated archive: {where} ends early ({detail})",
            expected="the whole archive as downloaded; the download may have stopped early",
        )
    return SourceError(
        path,
        f"damaged archive: {where} is corrupt ({detail})",
        expected="an archive as the platform made it; download it again",
    )


class _Budget:
    """Bytes the whole import may still inflate."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit


class _BoundedReader(io.RawIOBase):
    """Stops a member that inflates past its limit (even if its header lied about its size)
    or past the import's budget, and turns a damaged stream into a :class:`SourceError`."""

    def __init__(self, raw: IO[bytes], limit: int, budget: _Budget, path: str, member: str) -> None:
        self._raw = raw
        self._left = limit
        self._limit = limit
        self._budget = budget
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
        except _DAMAGE as exc:
            raise damaged(self._path, self._member, exc) from exc
        self._left -= len(data)
        self._budget.left -= len(data)
        if self._left < 0:
            raise SourceError(
                self._path,
                f"member inflates past {self._limit:,} bytes; refused as a possible "
                "decompression bomb",
                member=self._member,
                expected="a member under KOMPAS_MAX_MEMBER_BYTES (raise it to import this)",
            )
        if self._budget.left < 0:
            raise SourceError(
                self._path,
                f"the import inflates past {self._budget.limit:,} bytes in all",
                member=self._member,
                expected="an export under KOMPAS_MAX_IMPORT_BYTES (raise it to import this)",
            )
        return data

    def close(self) -> None:
        self._raw.close()
        super().close()


def _safe_name(path: str, name: str) -> str:
    """The member's path inside the export, or an error if it tries to escape it."""
    if _PLAIN_NAME.match(name) and "//" not in name and "/./" not in name:
        return name  # the usual case, without building a path object
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

    def __init__(self, path: str | Path, limits: Limits | None = None) -> None:
        self.path = str(path)
        self.limits = limits or Limits.from_env()
        self._limit = self.limits.member_bytes
        self._budget = _Budget(self.limits.import_bytes)
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        self._folder: Path | None = None
        self._members: dict[str, object] = {}
        #: Member names the archive holds more than once (which one is the real one?).
        self.duplicates: set[str] = set()
        self._count = 0
        self._last: str | None = None
        self._open()

    def _open(self) -> None:
        p = Path(self.path)
        if not p.exists():
            raise SourceError(self.path, "no such file or folder")
        if p.is_dir():
            self._folder = p
            for file in sorted(p.rglob("*")):
                if file.is_file():
                    self._add(file.relative_to(p).as_posix(), file.stat().st_size, file)
            return
        with p.open("rb") as head:
            magic = head.read(4)
        try:
            if magic[:2] == b"PK" and not zipfile.is_zipfile(p):
                raise SourceError(
                    self.path,
                    "truncated zip archive: its end (the list of members) is missing",
                    expected="the whole .zip as downloaded; the download may have stopped early",
                )
            if zipfile.is_zipfile(p):
                self._zip = zipfile.ZipFile(p)
                for info in self._zip.infolist():
                    if not info.is_dir():
                        self._add(info.filename, info.file_size, info, info.compress_size)
                return
            self._open_tar(p)
        except SourceError:
            self.close()
            raise
        except _DAMAGE as exc:
            self.close()
            if isinstance(exc, tarfile.ReadError) and self._tar is None:
                raise SourceError(
                    self.path,
                    f"not a readable archive ({' '.join(str(exc).split())[:200]})",
                    expected="a .zip, .tar.gz or folder as downloaded from the platform",
                ) from exc
            raise damaged(self.path, self._last, exc) from exc

    def _open_tar(self, p: Path) -> None:
        size = p.stat().st_size
        self._tar = tarfile.open(p, "r:*")  # noqa: SIM115 - closed by close()
        for member in self._tar:
            self._last = member.name
            if member.isfile():
                # The member's end, against what the compressed file could hold: checked
                # from the header, before its data is inflated.
                end = member.offset_data + member.size
                if end > _RATIO_FLOOR and end > size * self.limits.ratio:
                    raise self._bomb(member.name, end, size)
                self._add(member.name, member.size, member)
            elif member.issym() or member.islnk():
                _safe_name(self.path, member.name)
            else:
                self._counted(member.name)
        # tarfile ends quietly at a header it cannot read; reading the stream to its end
        # makes gzip/bz2/xz check it (CRC and length), so a damaged one is never half-read.
        stream = self._tar.fileobj
        if stream is not None:
            while stream.read(1 << 20):
                pass

    def _bomb(self, name: str, inflated: int, compressed: int) -> SourceError:
        ratio = inflated // max(compressed, 1)
        return SourceError(
            self.path,
            f"member inflates {ratio:,} times ({inflated:,} bytes); refused as a possible "
            "decompression bomb",
            member=name,
            expected=f"at most {self.limits.ratio} times, as real exports compress "
            "(KOMPAS_MAX_RATIO raises it)",
        )

    def _counted(self, name: str) -> None:
        self._count += 1
        if self._count > self.limits.members:
            raise SourceError(
                self.path,
                f"more than {self.limits.members:,} members",
                member=name,
                expected="an export with fewer members (KOMPAS_MAX_MEMBERS raises the limit)",
            )

    def _add(self, name: str, size: int, handle: object, compressed: int | None = None) -> None:
        self._counted(name)
        safe = _safe_name(self.path, name)
        if size > self._limit:
            raise SourceError(
                self.path,
                f"member is {size:,} bytes uncompressed; refused as a possible decompression bomb",
                member=name,
                expected=f"members under {self._limit:,} bytes (KOMPAS_MAX_MEMBER_BYTES)",
            )
        if compressed is not None and size > _RATIO_FLOOR and size > compressed * self.limits.ratio:
            raise self._bomb(name, size, compressed)
        if safe in self._members:
            self.duplicates.add(safe)
        self._members[safe] = handle

    def names(self) -> list[str]:
        """Every file in the export, as relative POSIX paths."""
        return list(self._members)

    def find(self, *basenames: str) -> list[str]:
        """Members whose file name is one of ``basenames``, wherever they sit in the export."""
        wanted = set(basenames)
        return [name for name in self._members if PurePosixPath(name).name in wanted]

    def open(self, name: str) -> IO[bytes]:
        """A bounded binary stream of one member; a member the archive holds twice is
        refused (which one would be the real one?)."""
        if name in self.duplicates:
            raise SourceError(
                self.path,
                "the archive holds this member twice; which one is the real one?",
                member=name,
                expected="each file once, as the platform exports it",
            )
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
        except (*_DAMAGE, RuntimeError) as exc:
            raise damaged(self.path, name, exc) from exc
        reader = _BoundedReader(raw, self._limit, self._budget, self.path, name)
        return io.BufferedReader(reader, 1 << 16)

    def read_small(self, name: str, cap: int = 16 * 1024**2) -> bytes:
        """A member that is a few KB in any real export (account.js, actor.json), read
        whole but never past ``cap``."""
        with self.open(name) as stream:
            data = stream.read(cap + 1)
        if len(data) > cap:
            raise SourceError(
                self.path,
                f"member is larger than {cap:,} bytes",
                member=name,
                expected="a small JSON document (a few KB)",
            )
        return data

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
        try:
            if isinstance(exc, SourceError) and exc.member in self._members:
                # A damaged stream can inflate to garbage that fails to parse before the
                # member's CRC is reached: say what is really wrong.
                self.verify(exc.member)
        finally:
            self.close()

    def verify(self, name: str) -> None:
        """Read a zip member to its end, so a damaged one raises "damaged archive"."""
        handle = self._members[name]
        if self._zip is None or not isinstance(handle, zipfile.ZipInfo):
            return  # folders have no checksum; a tar stream was checked whole on open
        try:
            with self._zip.open(handle) as stream:
                while stream.read(1 << 20):
                    pass
        except _DAMAGE as error:
            raise damaged(self.path, name, error) from None
