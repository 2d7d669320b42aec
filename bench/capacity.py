"""Benchmark: how many respondents, pausing 5–20 s on each page, 2 gunicorn workers hold.

Run it from the repository root (locust is in the ``bench`` extra:
``.venv/bin/pip install -e '.[bench]'``)::

    .venv/bin/python bench/capacity.py [--levels 250 500 1000] [--worker-class sync gthread]

For each backend (SQLite in a temporary directory; PostgreSQL in a scratch database on
127.0.0.1:5432, dropped at the end) and each gunicorn worker class it seeds an open
fieldwork of ``monitoring_cis_kis`` with enough personal links, starts gunicorn (2 workers
on loopback; ``gthread`` with ``--threads``), and runs locust headless **in its own
process** (``bench/_respondents_locustfile.py``) at each level of concurrent respondents
in turn: a ramp of ``--ramp`` seconds, then ``--hold`` seconds measured (statistics reset
after the ramp). A level passes with p95 < 200 ms over every page request (start, page
GETs and POSTs, thank-you) and no failure; the run stops at the first level that does not
and prints it as the level where it breaks. The machine's load average and the load
generator's own CPU time are printed with each level.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import ROOT, gunicorn_server, scratch_database  # noqa: E402
from bench.bare_page import seed_ankieta  # noqa: E402

LOCUST = ROOT / ".venv" / "bin" / "locust"
LOCUSTFILE = ROOT / "bench" / "_respondents_locustfile.py"
TARGET_P95_MS = 200.0


@dataclass
class Level:
    users: int
    requests: int
    failures: int
    p50: float
    p95: float
    p99: float
    rate: float
    by_kind: dict[str, tuple[int, float]]  # name: (requests, p95)
    client_cpu: float
    errors: list[str]

    @property
    def passed(self) -> bool:
        return self.requests > 0 and self.failures == 0 and self.p95 < TARGET_P95_MS


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_level(port: int, users: int, tokens: list[str], args: argparse.Namespace) -> Level:
    with tempfile.TemporaryDirectory(prefix="ankieta-capacity-") as directory:
        token_file = Path(directory) / "tokens.txt"
        token_file.write_text("\n".join(tokens))
        prefix = Path(directory) / "stats"
        rate = max(1.0, users / args.ramp)
        env = {**os.environ, "ANKIETA_BENCH_TOKENS": str(token_file)}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(
            [
                str(LOCUST),
                "-f",
                str(LOCUSTFILE),
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                f"{rate:.2f}",
                "--run-time",
                f"{int(args.ramp + args.hold)}s",
                "--host",
                f"http://127.0.0.1:{port}",
                "--csv",
                str(prefix),
                "--reset-stats",
                "--only-summary",
                "--loglevel",
                "ERROR",
                "--stop-timeout",
                "5",
            ],
            cwd=ROOT,
            env=env,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=args.ramp + args.hold + 120,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        with open(f"{prefix}_stats.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        with open(f"{prefix}_failures.csv", newline="") as handle:
            errors = [
                f"{row['Occurrences']}× {row['Name']}: {row['Error']}"
                for row in csv.DictReader(handle)
            ]
    by_kind = {
        row["Name"]: (int(row["Request Count"]), float(row["95%"] or "nan"))
        for row in rows
        if row["Name"] != "Aggregated"
    }
    total = next(row for row in rows if row["Name"] == "Aggregated")
    return Level(
        users=users,
        requests=int(total["Request Count"]),
        failures=int(total["Failure Count"]),
        p50=float(total["50%"] or "nan"),
        p95=float(total["95%"] or "nan"),
        p99=float(total["99%"] or "nan"),
        rate=float(total["Requests/s"] or 0),
        by_kind=by_kind,
        client_cpu=cpu,
        errors=errors,
    )


def bench(backend: str, worker_class: str, args: argparse.Namespace) -> int | None:
    """The levels passed in turn; the highest one that passed (None: not even the first)."""
    extra: tuple[str, ...] = ()
    if worker_class == "gthread":
        extra = ("--worker-class", "gthread", "--threads", str(args.threads))
    label = worker_class + (f" ({args.threads} threads)" if worker_class == "gthread" else "")
    highest = None
    with scratch_database(backend) as url:
        tokens = seed_ankieta(url, sum(args.levels) * 2 + 100)
        with gunicorn_server(url, workers=args.workers, extra_args=extra) as server:
            for users in args.levels:
                used, tokens = tokens[: users * 2], tokens[users * 2 :]
                before = load_average()
                level = run_level(server.port, users, used, args)
                kinds = ", ".join(
                    f"{name} {count} p95 {p95:.0f}" for name, (count, p95) in level.by_kind.items()
                )
                print(
                    f"capacity {backend} {label}: {users} respondents: "
                    f"{'PASS' if level.passed else 'FAIL'} p95={level.p95:.0f} ms "
                    f"(p50 {level.p50:.0f}, p99 {level.p99:.0f}), {level.requests} requests "
                    f"({level.rate:.1f}/s), {level.failures} failures [{kinds}]; load generator "
                    f"CPU {level.client_cpu:.0f} s in {args.hold + args.ramp:.0f} s; load "
                    f"average {before} -> {load_average()}",
                    flush=True,
                )
                for line in level.errors[:5]:
                    print(f"  failure: {line}", flush=True)
                if not level.passed:
                    print(
                        f"capacity {backend} {label}: breaks at {users} respondents "
                        f"(last passing level: {highest or 'none'})",
                        flush=True,
                    )
                    return highest
                highest = users
    print(f"capacity {backend} {label}: held every level up to {highest}", flush=True)
    return highest


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[250, 500, 1000])
    parser.add_argument("--ramp", type=float, default=30.0, help="seconds to start the users")
    parser.add_argument("--hold", type=float, default=60.0, help="seconds measured per level")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="threads per gthread worker")
    parser.add_argument(
        "--worker-class", nargs="+", default=["gthread"], choices=["sync", "gthread"]
    )
    parser.add_argument(
        "--backend", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    args = parser.parse_args()
    if not LOCUST.exists():
        raise SystemExit("locust is not installed: .venv/bin/pip install -e '.[bench]'")
    signal.signal(signal.SIGTERM, _terminate)
    print(f"load average at the start: {load_average()} ({os.cpu_count()} cores)", flush=True)
    started = time.perf_counter()
    for backend in args.backend:
        for worker_class in args.worker_class:
            bench(backend, worker_class, args)
    print(f"done in {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
