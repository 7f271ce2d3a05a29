"""The rule cases of ``tests/data/malformed/rules`` (issue #17): each is refused with one
clear line, or bounded, within 5 s of CPU and 300 MB, run as a user runs it
(``kompas rules test RULES ITEMS``) under ``resource.setrlimit``."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA

CASES = DATA / "malformed" / "rules"
KOMPAS = str(Path(sys.executable).with_name("kompas"))
CPU_SECONDS = 5
MEMORY = 300 * 1024 * 1024


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def rules_test(rules: Path, items: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """``kompas rules test`` in a process that cannot use more than the limits."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [KOMPAS, "--home", str(home), "rules", "test", str(rules), str(items)],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=_limited,
        timeout=60,
    )


def test_the_limits_leave_room_for_a_plain_run(tmp_path: Path) -> None:
    result = rules_test(
        CASES / "rules-simple.yaml", CASES / "rules-500-catastrophic-items.jsonl", tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 10


@pytest.mark.parametrize(
    ("rules", "items", "said"),
    [
        # 24 characters whose compilation took gigabytes: refused before compiling.
        (
            "rules-regex-compile-memory.yaml",
            "rules-500-catastrophic-items.jsonl",
            "line 3, column 12: invalid regular expression: a repetition inside a repetition",
        ),
        # 500 exponential regexes over 10 items (260 s before): refused when read.
        (
            "rules-500-catastrophic-regexes.yaml",
            "rules-500-catastrophic-items.jsonl",
            "line 3, column 12: invalid regular expression: a repetition inside a repetition",
        ),
        (
            "rules-simple.yaml",
            "rules-items-5000-digit-number.jsonl",
            "line 1: a number too long to read",
        ),
        ("rules-simple.yaml", "rules-items-nested-100k.jsonl", "line 1: nested too deeply"),
    ],
)
def test_refused_with_one_line(rules: str, items: str, said: str, tmp_path: Path) -> None:
    result = rules_test(CASES / rules, CASES / items, tmp_path)
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stdout == ""
    assert said in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_exponential_regexes_the_checks_admit_are_bounded_by_the_budget(tmp_path: Path) -> None:
    # The shared file's 500 rules written without nesting (x(x|x)*yN instead of
    # (x+x+)+yN), so they pass the checks and still take exponential time on the shared
    # items: the item budget (0.1 s) ends each item's searches; every item is kept and
    # tagged rules-timeout, and the run says so.
    lines = ["rules:"]
    for i in range(500):
        lines += [f"  - name: r{i}", f'    when: {{text_regex: "x(x|x)*y{i}"}}']
        lines += ["    then: {drop: true}"]
    rules = tmp_path / "admitted.yaml"
    rules.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = rules_test(rules, CASES / "rules-500-catastrophic-items.jsonl", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    decisions = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["id"] for d in decisions] == [str(i) for i in range(10)]
    assert all(d["kept"] and d["tags"] == ["rules-timeout"] for d in decisions)
    assert all(d["fired"] == [] for d in decisions)
    assert "10 item(s) ran out of regex time" in result.stderr
