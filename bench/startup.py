"""Benchmark: how much CPU ``kompas`` spends before it does anything (issue #18, point 2).

Run it with ``.venv/bin/python bench/startup.py`` (``--runs N`` for more repetitions).

It runs, alternately and ``--runs`` times each, in fresh interpreters of this environment:

- the peer, ``python -c "import typer, rich.console"``: what any Typer + Rich command line
  pays before its first line of its own;
- ``python -m kompas --help``;
- ``python -m kompas --version``;
- ``python -m kompas status`` on an empty workspace (created and migrated by a first,
  untimed run, so the timed runs measure a user's everyday ``status``).

With ``--before SRC`` (a ``src`` folder of another checkout, e.g. from ``git archive``), the
kompas commands also run with that code first on ``PYTHONPATH``, alternating in the same run.

It prints the median CPU seconds (user + system, of the child process: other load on the
machine barely changes it) of each, and its ratio to the peer. The issue's target: ``--help``
and ``status`` at most 2x the peer.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def cpu_seconds(command: list[str], env: dict[str, str]) -> float:
    """CPU time (user + system) of one run of ``command``; it must exit 0."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="Runs of each command.")
    parser.add_argument("--before", type=Path, help="Another checkout's src folder to compare.")
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "KOMPAS_HOME": str(Path(home) / "workspace")}
        env.pop("KOMPAS_DB", None)
        commands = {
            "peer: import typer, rich.console": [python, "-c", "import typer, rich.console"],
            "kompas --help": [python, "-m", "kompas", "--help"],
            "kompas --version": [python, "-m", "kompas", "--version"],
            "kompas status (empty workspace)": [python, "-m", "kompas", "status"],
        }
        if subprocess.run([*commands["kompas --version"]], capture_output=True).returncode:
            del commands["kompas --version"]  # not on this branch yet
        envs = {name: env for name in commands}
        if args.before is not None:
            before_env = {**env, "KOMPAS_HOME": str(Path(home) / "before")}
            before_env["PYTHONPATH"] = str(args.before.resolve())
            for name in [name for name in commands if name.startswith("kompas")]:
                commands[f"before: {name}"] = commands[name]
                envs[f"before: {name}"] = before_env
            cpu_seconds(commands["before: kompas status (empty workspace)"], before_env)
        cpu_seconds(commands["kompas status (empty workspace)"], env)  # creates the store
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(cpu_seconds(command, envs[name]))
    peer = statistics.median(times["peer: import typer, rich.console"])
    print(f"median CPU seconds of {args.runs} runs each (user + system), this Python: {python}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:42} {median:6.3f} s   {median / peer:5.2f}x the peer")
    print("target: --help and status <= 2.00x the peer")


if __name__ == "__main__":
    main()
