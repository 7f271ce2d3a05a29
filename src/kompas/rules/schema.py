"""The published JSON Schema of ``rules.yaml`` (``kompas rules schema``): editors use it
to complete and check the file, and kompas validates every file against it first."""

from __future__ import annotations

from typing import Any

from kompas.rules.item import COUNT_NAMES

#: Limits of a rules file: a rule file is data, and its cost must stay bounded.
MAX_FILE_BYTES = 256 * 1024
MAX_RULES = 500
MAX_DEPTH = 12  # nesting of all/any/not
MAX_YAML_DEPTH = 40  # nesting of YAML collections, checked before anything is built
MAX_LIST = 1000
MAX_PATTERN = 500

DURATION = r"^[0-9]+(\.[0-9]+)?\s*(m|min|h|d|w)$"
ROUTE = r"^(digest|notify|people-to-meet|(feed|list):[a-z0-9][a-z0-9_-]{0,63})$"
TAG = r"^[^\s,]{1,64}$"


def _one_or_many(item: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "description": description,
        "anyOf": [item, {"type": "array", "items": item, "minItems": 1, "maxItems": MAX_LIST}],
    }


_STR = {"type": "string", "minLength": 1, "maxLength": 2048}
_PATTERN = {"type": "string", "minLength": 1, "maxLength": MAX_PATTERN}
_RANGE = {
    "type": "object",
    "description": "bounds, inclusive: {min: N} and/or {max: N}",
    "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}},
    "additionalProperties": False,
    "minProperties": 1,
}

#: Every condition, with what it tests (the docs and the schema say the same).
CONDITIONS: dict[str, dict[str, Any]] = {
    "text_contains": _one_or_many(
        _STR, "title or text contains this (any of these), ignoring case"
    ),
    "title_contains": _one_or_many(_STR, "title contains this (any of these), ignoring case"),
    "text_regex": {**_PATTERN, "description": "a regular expression found in title or text"},
    "title_regex": {**_PATTERN, "description": "a regular expression found in the title"},
    "language": _one_or_many(_STR, "language is (or starts with) this code, e.g. en or en-gb"),
    "author": _one_or_many(_STR, "author is one of these names, ignoring case"),
    "source": _one_or_many(_STR, "source (feed URL, or platform) is one of these"),
    "link_domain": _one_or_many(
        _STR, "the item's URL or a link in it is on this domain (or a subdomain)"
    ),
    "age": {
        "type": "object",
        "description": "how old the item is: {under: 3d} and/or {over: 2h} (m, h, d, w)",
        "properties": {
            "under": {"type": "string", "pattern": DURATION},
            "over": {"type": "string", "pattern": DURATION},
        },
        "additionalProperties": False,
        "minProperties": 1,
    },
    "count": {
        "type": "object",
        "description": "numeric counts within bounds, e.g. {likes: {min: 10}}",
        "propertyNames": {"enum": list(COUNT_NAMES)},
        "additionalProperties": _RANGE,
        "minProperties": 1,
    },
    "has_tag": _one_or_many(
        {"type": "string", "pattern": TAG},
        "the item has this tag (its own, or one an earlier rule gave it)",
    ),
    "kind": _one_or_many(
        _STR, "kind of item: entry (feeds), or post, reply, repost, quote, like, bookmark…"
    ),
    "to_tag": _one_or_many(
        {"type": "string", "pattern": TAG},
        "the post this action answers, likes or shares has this tag",
    ),
    "all": {
        "type": "array",
        "description": "every one of these conditions holds",
        "items": {"$ref": "#/$defs/condition"},
        "minItems": 1,
        "maxItems": MAX_LIST,
    },
    "any": {
        "type": "array",
        "description": "at least one of these conditions holds",
        "items": {"$ref": "#/$defs/condition"},
        "minItems": 1,
        "maxItems": MAX_LIST,
    },
    "not": {"$ref": "#/$defs/condition", "description": "this condition does not hold"},
}

#: Every action, with what it does.
ACTIONS: dict[str, dict[str, Any]] = {
    "keep": {"const": True, "description": "keep the item (overrides an earlier drop)"},
    "drop": {"const": True, "description": "drop the item (overrides an earlier keep)"},
    "score": {
        "description": "add this many points (+N or -N) to the item's score",
        "anyOf": [
            {"type": "integer", "minimum": -1000000, "maximum": 1000000},
            {"type": "string", "pattern": r"^[+-]?[0-9]{1,7}$"},
        ],
    },
    "tag": _one_or_many({"type": "string", "pattern": TAG}, "give the item this tag (or these)"),
    "route": _one_or_many(
        {"type": "string", "pattern": ROUTE},
        "send the item to: digest, feed:NAME (a feed you can publish), list:NAME (a list "
        "of its authors, kompas lists), notify, people-to-meet",
    ),
    "stop": {"const": True, "description": "later rules are not evaluated for this item"},
    "score_by": {
        "enum": ["relationship"],
        "description": "add points for the people you talk with: +1 per exchange with the "
        "author in the last 90 days of your data, up to +10",
    },
    "quiet_first": {
        "const": True,
        "description": "add points for authors who post rarely in your timelines: +5 for one "
        "post in 30 days, one less each time the count doubles",
    },
}


def rules_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a rules file."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://kompas.invalid/schemas/rules.json",
        "title": "kompas rules file",
        "description": "Rules kompas runs over every item you read and everything you do.",
        "type": "object",
        "properties": {
            "version": {"const": 1, "description": "the rules language version"},
            "default": {
                "enum": ["keep", "drop"],
                "description": "what happens to an item no keep/drop rule decides (keep)",
            },
            "rules": {
                "type": "array",
                "maxItems": MAX_RULES,
                "items": {"$ref": "#/$defs/rule"},
            },
        },
        "required": ["rules"],
        "additionalProperties": False,
        "$defs": {
            "rule": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "when": {"$ref": "#/$defs/condition"},
                    "then": {"$ref": "#/$defs/action"},
                    "enabled": {"type": "boolean", "description": "false skips the rule"},
                },
                "required": ["name", "then"],
                "additionalProperties": False,
            },
            "condition": {
                "type": "object",
                "description": "conditions; several keys in one mapping must all hold",
                "properties": CONDITIONS,
                "additionalProperties": False,
                "minProperties": 1,
            },
            "action": {
                "type": "object",
                "properties": ACTIONS,
                "additionalProperties": False,
                "minProperties": 1,
                "not": {"required": ["keep", "drop"]},
            },
        },
    }
