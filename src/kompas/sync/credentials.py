"""Platform credentials in ``<workspace>/credentials.json``, readable by the user only.

The file is created with mode 0600 before a byte is written and replaced atomically, so a
token is never on disk with wider permissions, and never half-written. Nothing here
prints or logs a secret: :class:`Credentials` hides its values from ``repr``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kompas.errors import KompasError

FILE_NAME = "credentials.json"


class NotConnected(KompasError):
    """The user has not connected this platform yet."""


class Credentials(dict[str, Any]):
    """One platform's saved credentials; its ``repr`` names the keys, never the values."""

    def __repr__(self) -> str:
        return f"Credentials(keys={sorted(self)})"

    __str__ = __repr__


def path_in(home: Path) -> Path:
    """Where the credentials of the workspace at ``home`` live."""
    return home / FILE_NAME


def _read_all(home: Path) -> dict[str, Any]:
    file = path_in(home)
    if not file.exists():
        return {}
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KompasError(f"{file}: unreadable credentials file ({type(exc).__name__})") from None
    return data if isinstance(data, dict) else {}


def load(home: Path, platform: str) -> Credentials:
    """The saved credentials of ``platform``; :class:`NotConnected` when there are none."""
    entry = _read_all(home).get(platform)
    if not isinstance(entry, dict):
        raise NotConnected(
            f"{platform} is not connected in this workspace: run `kompas connect {platform}` first"
        )
    return Credentials(entry)


def save(home: Path, platform: str, values: dict[str, Any]) -> Path:
    """Store ``values`` as ``platform``'s credentials (replacing earlier ones), mode 0600."""
    home.mkdir(parents=True, exist_ok=True)
    data = _read_all(home)
    data[platform] = dict(values)
    file = path_in(home)
    temporary = file.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
    if temporary.exists():
        temporary.unlink()
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # whatever the umask said
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=2, sort_keys=True)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, file)
    return file
