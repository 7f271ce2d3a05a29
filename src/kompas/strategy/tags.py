"""Tag habits count the user's own actions that their rules file tags (the rules
pillar's ``count_tagged``); this module binds that to a rules file, or says why it can't."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from kompas.errors import KompasError
from kompas.i18n import Message, message
from kompas.strategy.habits import TagCounter


def tag_counter(
    connection: sa.Connection, rules_path: Path
) -> tuple[TagCounter | None, Message | None]:
    """``(counter, None)`` when ``rules_path`` holds a usable rules file, else
    ``(None, reason)``: tag habits then show "no data" with that reason."""
    if not rules_path.is_file():
        return None, message("strategy.tags.no_rules_file", path=str(rules_path))
    try:
        from kompas.rules import load_rules
        from kompas.rules.pipeline import count_tagged
    except ImportError:  # pragma: no cover - the rules pillar ships with kompas
        return None, message("strategy.tags.no_rules_pillar")
    try:
        rules = load_rules(rules_path)
    except KompasError as error:
        return None, message("strategy.tags.unusable", error=str(error))
    cache: dict[tuple[datetime, datetime], dict[str, int]] = {}

    def counter(since: datetime, until: datetime) -> dict[str, int] | None:
        key = (since, until)
        if key not in cache:
            cache[key] = count_tagged(connection, rules, since, until)
        return cache[key]

    return counter, None
