"""Benchmark: how fast the command line answers, against importing Flask and SQLAlchemy.

Run it from the repository root: ``.venv/bin/python bench/cli.py [--repeat 5]``.

Each round runs, one after the other as fresh processes (wall time, start-up included):

- ``python -c 'import flask, sqlalchemy'``: what any command of a Flask + SQLAlchemy app
  pays at least (the reference);
- ``ankieta --help``;
- ``ankieta surveys check surveys/monitoring_cis_kis.yaml`` (the largest shipped YAML);
- ``ankieta surveys check`` of an XLSForm workbook made from it (pyxform is imported for
  workbooks only), when ``--xlsx FILE`` is given.

It prints min and median of ``--repeat`` rounds for each, the ratios to the reference
(goal: within 1.5 ×) and the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
ANKIETA = ROOT / ".venv" / "bin" / "ankieta"
SURVEY = ROOT / "surveys" / "monitoring_cis_kis.yaml"
TARGET_RATIO = 1.5


def wall(command: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANKIETA_")}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1: the checker found problems (still an answer)
        sys.exit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return seconds


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--xlsx", type=Path, help="also check this XLSForm workbook")
    args = parser.parse_args()
    commands = {
        "import flask, sqlalchemy": [str(PYTHON), "-c", "import flask, sqlalchemy"],
        "ankieta --help": [str(ANKIETA), "--help"],
        f"ankieta surveys check {SURVEY.name}": [str(ANKIETA), "surveys", "check", str(SURVEY)],
    }
    if args.xlsx:
        commands[f"ankieta surveys check {args.xlsx.name}"] = [
            str(ANKIETA),
            "surveys",
            "check",
            str(args.xlsx),
        ]
    print(f"load average before: {load_average()} ({os.cpu_count()} cores)")
    for command in commands.values():  # warm the file cache and the bytecode
        wall(command)
    times: dict[str, list[float]] = {name: [] for name in commands}
    ratios: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.repeat):
        reference = None
        for name, command in commands.items():  # in turn: one load moment for all
            seconds = wall(command)
            times[name].append(seconds)
            reference = reference or seconds
            ratios[name].append(seconds / reference)
    for name in commands:
        line = (
            f"{name}: min {min(times[name]):.2f} s, median {statistics.median(times[name]):.2f} s"
        )
        if name != "import flask, sqlalchemy":
            line += (
                f"; ratio to the import: min {min(ratios[name]):.2f}, median "
                f"{statistics.median(ratios[name]):.2f} (goal <= {TARGET_RATIO})"
            )
        print(line)
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
