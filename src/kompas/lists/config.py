"""Which lists kompas keeps on the platforms, and where their members come from:
``lists.yaml`` in the workspace, read like ``rules.yaml`` (positions, no anchors, a JSON
Schema), or, without it, one list per ``list:NAME`` route the rules use.

```yaml
lists:
  - name: python                # the list's name on the platform
    platform: mastodon          # mastodon or bluesky
    members: rules              # rules (posts routed to list:ROUTE), talked, people-to-meet
    route: python               # with members: rules (default: the name)
    exclusive: true             # Mastodon: members' posts only in the list, not in home
  - name: people I talk with
    platform: bluesky
    members: talked             # people you exchanged with in the last `days` of your data
    days: 30
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from kompas.rules.load import RuleFileError, locate, position, read_rules_text
from kompas.rules.load import load_yaml as _load_yaml

PLATFORMS = ("mastodon", "bluesky")
MEMBERS = ("rules", "talked", "people-to-meet")
DEFAULT_DAYS = 30
ROUTE_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "version": {"const": 1},
        "lists": {
            "type": "array",
            "maxItems": 100,
            "items": {
                "type": "object",
                "properties": {
                    "name": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 500,
                        "description": "the list's name on the platform",
                    },
                    "platform": {"enum": list(PLATFORMS)},
                    "members": {
                        "enum": list(MEMBERS),
                        "description": "rules (posts routed to list:ROUTE), talked (people "
                        "you exchanged with in the last `days`), people-to-meet",
                    },
                    "route": {"type": "string", "pattern": ROUTE_NAME},
                    "days": {"type": "integer", "minimum": 1, "maximum": 3650},
                    "exclusive": {"type": "boolean"},
                    "description": {"type": "string", "maxLength": 3000},
                },
                "required": ["name", "platform"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["lists"],
    "additionalProperties": False,
}


@dataclass(frozen=True, slots=True)
class ListSpec:
    """One list to keep: its name and platform, and where its members come from."""

    name: str
    platform: str
    members: str = "rules"
    route: str | None = None
    days: int = DEFAULT_DAYS
    exclusive: bool = False
    description: str | None = None

    @property
    def source(self) -> str:
        """Where the members come from, in words: ``route list:python``, ``talked 30d``…"""
        if self.members == "rules":
            return f"route list:{self.route or self.name}"
        if self.members == "talked":
            return f"talked with in the last {self.days} days"
        return "route people-to-meet"

    def as_json(self) -> dict[str, Any]:
        """The spec as in ``lists plan --json``."""
        return {
            "name": self.name,
            "platform": self.platform,
            "members": self.members,
            "route": self.route if self.members == "rules" else None,
            "days": self.days if self.members == "talked" else None,
            "exclusive": self.exclusive,
        }


def load_lists(path: Path) -> list[ListSpec]:
    """The lists of ``lists.yaml``; errors name the line, column and what was expected."""
    text = read_rules_text(path)
    where = str(path)
    document = _load_yaml(text, where)
    if document is None:
        raise RuleFileError(where, 1, 1, "the file is empty", "a mapping with `lists:`")
    errors = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(document))
    if errors:
        error = best_match(errors)
        parent, key = locate(document, list(error.absolute_path))
        line, column = position(document) if parent is None else position(parent, key)
        raise RuleFileError(where, line, column, error.message, _EXPECTED)
    specs: list[ListSpec] = []
    seen: set[tuple[str, str]] = set()
    for index, node in enumerate(document["lists"]):
        line, column = position(document["lists"], index)
        spec = ListSpec(
            name=str(node["name"]),
            platform=str(node["platform"]),
            members=str(node.get("members", "rules")),
            route=str(node["route"]) if node.get("route") else None,
            days=int(node.get("days", DEFAULT_DAYS)),
            exclusive=bool(node.get("exclusive", False)),
            description=str(node["description"]) if node.get("description") else None,
        )
        if spec.exclusive and spec.platform != "mastodon":
            raise RuleFileError(
                where, line, column, "exclusive is a Mastodon list setting", "platform: mastodon"
            )
        if spec.members == "rules" and spec.route is None and not _is_route(spec.name):
            raise RuleFileError(
                where,
                line,
                column,
                f"the name {spec.name!r} is not a route name, so say which route fills it",
                "route: NAME (the rules' list:NAME, lowercase letters, digits, - and _)",
            )
        if (spec.platform, spec.name) in seen:
            raise RuleFileError(
                where, line, column, f"the list {spec.name!r} is listed twice", "one entry each"
            )
        seen.add((spec.platform, spec.name))
        specs.append(spec)
    return specs


def routed_lists(routes: dict[str, set[str]]) -> list[ListSpec]:
    """Without ``lists.yaml``: one list per ``list:NAME`` route, on each platform whose
    posts the route collects."""
    return [
        ListSpec(name=name, platform=platform, route=name)
        for name in sorted(routes)
        for platform in sorted(routes[name])
        if platform in PLATFORMS
    ]


def _is_route(name: str) -> bool:
    import re

    return re.match(ROUTE_NAME, name) is not None


_EXPECTED = (
    "lists: a list of {name, platform: mastodon|bluesky, members: rules|talked|people-to-meet, "
    "route, days, exclusive, description}"
)
