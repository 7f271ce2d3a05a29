"""The rules pillar: a small, safe rule language the user writes (``rules.yaml``), run
over every item they read and everything they do.

Parse and validate (:mod:`~kompas.rules.load`, against :mod:`~kompas.rules.schema`),
compile once to closures (:mod:`~kompas.rules.compiler`), decide and explain
(:mod:`~kompas.rules.engine`). Rules never run code.
"""

from kompas.rules.engine import Decision, Fired, RuleSet, compile_rules, load_rules
from kompas.rules.item import Item, ItemError
from kompas.rules.load import RuleFileError
from kompas.rules.schema import rules_schema

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
