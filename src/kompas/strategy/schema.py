"""The published JSON Schema of ``strategy.yaml`` (``kompas strategy schema``): editors use
it to complete and check the file, and kompas validates every file against it first.

Key results are short sentences (``community.replies_given per week >= 20``); the schema
checks their shape, and :mod:`kompas.strategy.parse` checks that the metric exists."""

from __future__ import annotations

from typing import Any

#: Limits of a strategy file: it is data written by hand, and its cost must stay bounded.
MAX_FILE_BYTES = 256 * 1024
MAX_ITEMS = 200
MAX_TEXT = 4000

#: What a habit can count: the user's own posts by kind, and the user's interactions.
HABIT_COUNTS: dict[str, str] = {
    "post": "original posts (not replies, reposts or quotes)",
    "reply": "replies you wrote",
    "quote": "quote posts you wrote",
    "repost": "reposts (boosts, retweets) you made",
    "link": "posts, replies and quotes of yours that share a link",
    "mention": "posts of yours that mention someone",
    "like": "likes you gave (dated likes only)",
    "bookmark": "bookmarks you made (dated bookmarks only)",
    "follow": "accounts you started following (dated follows only)",
}
#: How a habit can count: every action, or distinct people / posts acted on.
HABIT_DISTINCT = ("actions", "people")
PERIODS = ("day", "week", "month")
MIX_KINDS = ("conversation", "sharing", "broadcast")

#: A key result, as written: ``METRIC [per day|week|month] OP NUMBER[%]`` (also ``par
#: jour|semaine|mois``). The operator and number are checked again, with a precise message.
KEY_RESULT = (
    r"^\s*[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+"
    r"(\s+(per|par)\s+(day|week|month|jour|semaine|mois))?"
    r"\s*(>=|<=|==|>|<|≥|≤)\s*-?[0-9]+([.,][0-9]+)?\s*%?\s*$"
)
SHARE = r"^\s*[0-9]+([.,][0-9]+)?\s*%\s*$"
#: A domain name, or a URL whose host is the domain (``https://blog.example.com/``).
DOMAIN = (
    r"^(https?://)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+(/\S*)?$"
)

_TEXT = {"type": "string", "minLength": 1, "maxLength": MAX_TEXT}
_NAME = {"type": "string", "minLength": 1, "maxLength": 200}
_SHARE = {
    "description": "a share: 50% or 0.5",
    "anyOf": [
        {"type": "number", "minimum": 0, "maximum": 1},
        {"type": "string", "pattern": SHARE},
    ],
}


def strategy_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a strategy file."""
    key_result = {
        "type": "string",
        "description": "METRIC [per day|week|month] OP NUMBER, e.g. "
        "'community.replies_given per week >= 20' (OP: >=, >, <=, <, ==)",
        "minLength": 3,
        "maxLength": 300,
    }
    goal = {
        "type": "object",
        "description": "a goal: name, key_results (and optionally why)",
        "properties": {
            "name": _NAME,
            "why": _TEXT,
            "key_results": {
                "type": "array",
                "items": key_result,
                "minItems": 1,
                "maxItems": MAX_ITEMS,
            },
        },
        "required": ["name", "key_results"],
        "additionalProperties": False,
    }
    pillar = {
        "type": "object",
        "description": "a content pillar: name, description (and keywords, examples, id)",
        "properties": {
            "id": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]{0,63}$"},
            "name": _NAME,
            "description": _TEXT,
            "keywords": {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "maxLength": 100},
                "maxItems": MAX_ITEMS,
            },
            "examples": {"type": "array", "items": _TEXT, "maxItems": MAX_ITEMS},
        },
        "required": ["name", "description"],
        "additionalProperties": False,
    }
    habit = {
        "type": "object",
        "description": "a habit: name, count (or tag), per, target (and optionally distinct)",
        "properties": {
            "name": _NAME,
            "count": {"enum": list(HABIT_COUNTS), "description": "what to count"},
            "tag": {
                "type": "string",
                "pattern": r"^[^\s,]{1,64}$",
                "description": "count your actions the rules file gives this tag",
            },
            "distinct": {"enum": list(HABIT_DISTINCT)},
            "per": {"enum": list(PERIODS)},
            "target": {"type": "integer", "minimum": 1, "maximum": 100000},
        },
        "required": ["name", "per", "target"],
        "oneOf": [{"required": ["count"]}, {"required": ["tag"]}],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://kompas.invalid/schema/strategy.json",
        "title": "kompas strategy file",
        "description": "Why you are on social media, your goals and key results, content "
        "pillars, target mix and habits.",
        "type": "object",
        "properties": {
            "version": {"const": 1},
            "style": {"type": "string", "maxLength": 64},
            "language": {"type": "string", "maxLength": 16},
            "why": _TEXT,
            "goals": {"type": "array", "items": goal, "maxItems": MAX_ITEMS},
            "pillars": {"type": "array", "items": pillar, "maxItems": MAX_ITEMS},
            "mix": {
                "type": "object",
                "description": "target shares of your posts: conversation, sharing, broadcast",
                "properties": {kind: _SHARE for kind in MIX_KINDS},
                "additionalProperties": False,
                "minProperties": 1,
            },
            "habits": {"type": "array", "items": habit, "maxItems": MAX_ITEMS},
            "domains": {
                "type": "array",
                "description": "your own sites (example.com): a link to them is self-promotion, "
                "a link to anyone else's is sharing",
                "items": {"type": "string", "pattern": DOMAIN, "maxLength": 253},
                "maxItems": MAX_ITEMS,
            },
        },
        "required": ["why"],
        "additionalProperties": False,
    }
