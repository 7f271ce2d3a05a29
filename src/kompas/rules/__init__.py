"""The rules pillar: a small, safe rule language the user writes (``rules.yaml``), run
over every item they read and everything they do.

Parse and validate (:mod:`~kompas.rules.load`, against :mod:`~kompas.rules.schema`),
compile once to closures (:mod:`~kompas.rules.compiler`), decide and explain
(:mod:`~kompas.rules.engine`). Rules never run code.

Each name below loads with the module that defines it, on first use: reading a YAML file
with :mod:`kompas.rules.load` (the strategy file does) does not import the engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kompas.lazy import lazy_names

if TYPE_CHECKING:
    from kompas.rules.engine import Decision, Fired, RuleSet, compile_rules, load_rules
    from kompas.rules.item import Item, ItemError
    from kompas.rules.load import RuleFileError
    from kompas.rules.schema import rules_schema

_WHERE = {
    "Decision": "engine",
    "Fired": "engine",
    "RuleSet": "engine",
    "compile_rules": "engine",
    "load_rules": "engine",
    "Item": "item",
    "ItemError": "item",
    "RuleFileError": "load",
    "rules_schema": "schema",
}

__all__ = [
    "Decision",
    "Fired",
    "Item",
    "ItemError",
    "RuleFileError",
    "RuleSet",
    "compile_rules",
    "load_rules",
    "rules_schema",
]


__getattr__ = lazy_names(__name__, _WHERE)
