"""Answers remembered between runs, in the user's cache folder (``$KOMPAS_CACHE`` or
``platformdirs.user_cache_dir("kompas")``): things every run would otherwise work out
again from the same input (the strategy file, its pillars' languages). A cache only:
an entry is keyed by a hash of everything that decides it, and a memo that is missing,
damaged, from another version or cannot be written is only not used."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def memo_path(name: str) -> Path:
    """The file of the memo ``name``."""
    import platformdirs

    folder = os.environ.get("KOMPAS_CACHE") or platformdirs.user_cache_dir("kompas")
    return Path(folder) / f"{name}.json"


def digest(*parts: str) -> str:
    """A key for the entry that ``parts`` decide."""
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(part.encode("utf-8"))
        hashed.update(b"\x00")
    return hashed.hexdigest()[:32]


def read(name: str, version: int, field: str) -> dict[str, Any]:
    """The entries of memo ``name`` (``{}`` when it is missing, damaged or of another
    ``version``)."""
    try:
        memo = json.loads(memo_path(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(memo, dict) or memo.get("version") != version:
        return {}
    entries = memo.get(field)
    return entries if isinstance(entries, dict) else {}


def write(
    name: str, version: int, field: str, entries: dict[str, Any], keep: int | None = None
) -> None:
    """Replace memo ``name``'s entries, whole or not at all (two runs at once each write
    a complete file), only the newest ``keep`` of them (the last added) when given; a
    folder that cannot be written is only not used."""
    if keep is not None:
        for old in list(entries)[: max(0, len(entries) - keep)]:
            del entries[old]
    path = memo_path(name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        spare = path.with_name(f"{path.name}.{os.getpid()}")
        spare.write_text(json.dumps({"version": version, field: entries}), "utf-8")
        os.replace(spare, path)
    except OSError:
        pass
