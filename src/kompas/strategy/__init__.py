"""The strategy pillar: do the user's daily actions support the goals they set?

The user writes ``strategy.yaml`` (why, goals with key results bound to metrics kompas
computes, content pillars, target mix, habits); kompas checks it against what they did:
:func:`build_today`, :func:`build_review`, and the alignment of each post to pillars.

Each name below loads with the module that defines it, on first use: reading the strategy
file (``kompas.strategy.parse``) does not import the alignment and NumPy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kompas.lazy import lazy_names

if TYPE_CHECKING:
    from kompas.strategy.alignment import Aligner, Alignment, PillarMatch
    from kompas.strategy.metrics import REGISTRY, metric_names
    from kompas.strategy.model import Goal, Habit, KeyResult, Pillar, Strategy
    from kompas.strategy.parse import StrategyFileError, load_strategy, parse_strategy
    from kompas.strategy.review import Review, build_review
    from kompas.strategy.schema import strategy_schema
    from kompas.strategy.templates import STYLES, starter
    from kompas.strategy.today import Today, build_today

_WHERE = {
    "Aligner": "alignment",
    "Alignment": "alignment",
    "PillarMatch": "alignment",
    "REGISTRY": "metrics",
    "metric_names": "metrics",
    "Goal": "model",
    "Habit": "model",
    "KeyResult": "model",
    "Pillar": "model",
    "Strategy": "model",
    "StrategyFileError": "parse",
    "load_strategy": "parse",
    "parse_strategy": "parse",
    "Review": "review",
    "build_review": "review",
    "strategy_schema": "schema",
    "STYLES": "templates",
    "starter": "templates",
    "Today": "today",
    "build_today": "today",
}

__all__ = [
    "REGISTRY",
    "STYLES",
    "Aligner",
    "Alignment",
    "Goal",
    "Habit",
    "KeyResult",
    "Pillar",
    "PillarMatch",
    "Review",
    "Strategy",
    "StrategyFileError",
    "Today",
    "build_review",
    "build_today",
    "load_strategy",
    "metric_names",
    "parse_strategy",
    "starter",
    "strategy_schema",
]


__getattr__ = lazy_names(__name__, _WHERE)
