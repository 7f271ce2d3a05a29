"""The layout the design describes: the dashboard and the pillars never import the command
line (both call the pillars), and the community reference stays small."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import kompas.community
from kompas.period import period_of

SRC = Path(kompas.community.__file__).parent


def test_the_web_layer_and_the_pillars_do_not_import_the_cli() -> None:
    script = (
        "import sys, kompas.web.app, kompas.web.pillars, kompas.community, kompas.strategy;"
        "print(sorted(m for m in sys.modules if m.startswith('kompas.cli')))"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == "[]"


def test_period_of_is_the_community_pillars() -> None:
    assert kompas.community.period_of is period_of


def test_the_community_reference_is_below_400_lines() -> None:
    lines = (SRC / "compute.py").read_text().count("\n")
    assert lines < 400, lines
