"""Benchmark: respondents' page times with and without a 10,000-response export on the worker.

Run it from the repository root: ``.venv/bin/python bench/export_load.py [--seconds 30]``.
On a scratch database (PostgreSQL on 127.0.0.1:5432 by default, dropped at the end) it

1. seeds an open fieldwork of ``surveys/monitoring_cis_kis.yaml`` for the respondents and a
   second fieldwork with 10,000 complete responses (``bench/export.py``'s questionnaire, 40
   variables) for the export, and an analyst account;
2. starts gunicorn (2 sync workers);
3. phase "alone": 20 respondents fill questionnaires (``bench/selffill.py``'s clients: GET
   each page, POST it, no pauses) for ``--seconds``;
4. phase "export", once for each kind of worker in ``--worker`` (default: ``idle``, as
   ``ankieta worker`` runs by default, taking a CPU only when no page wants it; ``nice10``,
   an ordinary process at nice 10): that ``ankieta worker`` is started (the queue beside
   the database) and the same respondents fill pages while an analyst asks for the
   10,000-response workbook through the web page, follows its progress as the page does
   (every second) and, whenever it is ready, asks for it again, so an export is being
   built for the whole phase. ``spin`` is the control: no export, a busy loop at the idle
   worker's own priority, i.e. what any idle-priority work costs the pages on this machine;
5. repeats 3-4 ``--rounds`` times, then prints per round and pooled the p50/p95/p99 of the
   respondents' page submits and of all their page requests in each phase, the ratios of
   p95 with ÷ without the export, how long each export took, and the load average.

By default the respondents post each page as soon as it is shown, which keeps both
gunicorn workers busy all the time (the worst case); ``--pause 5 20`` makes them read each
page for 5-20 s first, as people do.

The load generator shares the machine (2 cores here) with gunicorn, the worker and the
database; the figures compare the two phases on the same machine, not absolute speed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import threading
import time
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.models.users import Role  # noqa: E402
from app.platform.accounts import create_user  # noqa: E402 - needs the path above
from app.platform.db import make_engine  # noqa: E402
from bench import export as export_bench  # noqa: E402
from bench import selffill  # noqa: E402
from bench._load import Browser, csrf_token, percentile_ms  # noqa: E402
from bench._server import (  # noqa: E402
    WORKER_PRIORITIES,
    ankieta_worker,
    gunicorn_server,
    scratch_database,
)

EXPORT_SIZE = 10_000
PASSWORD = "bench-password-" + "x" * 8


def _seed(url: str, rows: int) -> tuple[list[str], int]:
    tokens = selffill.seed(url, rows)
    fieldworks = export_bench.seed(url, [EXPORT_SIZE])
    engine = make_engine(url)
    with Session(engine) as session:
        create_user(
            session, "analityk", Role.ANALYST, password=PASSWORD, must_change_password=False
        )
        session.commit()
    engine.dispose()
    return tokens, fieldworks[EXPORT_SIZE]


class Exporter(threading.Thread):
    """The analyst: asks for the 10,000-response workbook again and again until stopped."""

    def __init__(self, port: int, fieldwork_id: int) -> None:
        super().__init__(daemon=True, name="analyst")
        self.port, self.fieldwork_id = port, fieldwork_id
        self.stop = threading.Event()
        self.built: list[float] = []  # seconds from asking to "done", per file
        self.progress = 0  # rows written of the file being built
        self.failures: list[str] = []

    def run(self) -> None:
        browser = Browser(self.port)
        _, _, page, _ = browser.request("GET", "/login")
        form = {
            "csrf_token": [csrf_token(page)],
            "username": ["analityk"],
            "password": [PASSWORD],
        }
        status, location, _, _ = browser.request("POST", "/login", form)
        if status != 302 or location.startswith("/login"):
            self.failures.append(f"login refused: {status}")
            return
        files = f"/fieldwork/{self.fieldwork_id}/files"
        while not self.stop.is_set():
            status, _, page, _ = browser.request("GET", files)
            if status != 200:
                self.failures.append(f"the files page: {status}")
                return
            start = time.perf_counter()
            form = {"csrf_token": [csrf_token(page)], "kind": ["responses"]}
            status, job_page, _, _ = browser.request("POST", files, form)
            if status != 302:
                self.failures.append(f"asking for the file: {status}")
                return
            while True:  # once stopped, the file being built is still waited for
                _, _, body, _ = browser.request("GET", f"{job_page}/status")
                status_now = json.loads(body)
                state, self.progress = status_now["state"], status_now["done"]
                if state == "done":
                    self.built.append(time.perf_counter() - start)
                    break
                if state == "failed":
                    self.failures.append("the export failed")
                    return
                time.sleep(1.0)  # as the progress page's exports.js polls


def _figures(phase: selffill.Phase) -> tuple[list[float], list[float]]:
    submits = [t for log in phase.logs for t in log.submit_times]
    pages = submits + [t for log in phase.logs for t in log.other_times]
    return submits, pages


def _line(name: str, phase: selffill.Phase) -> str:
    submits, pages = _figures(phase)
    failures = sum(len(log.failures) for log in phase.logs)
    return (
        f"  {name} page submits: {len(submits)} in {phase.wall:.0f} s, "
        f"p50={percentile_ms(submits, 50):.0f} ms p95={percentile_ms(submits, 95):.0f} ms "
        f"p99={percentile_ms(submits, 99):.0f} ms | all page requests: {len(pages)}, "
        f"p95={percentile_ms(pages, 95):.0f} ms | failures: {failures}"
    )


def bench(backend: str, args: argparse.Namespace) -> None:
    rows = 2 * args.rounds * max(args.clients * 4, int(args.seconds * 60))
    with scratch_database(backend) as url, _worker_dir() as directory:
        t0 = time.perf_counter()
        tokens, export_fieldwork = _seed(url, rows)
        print(f"[{backend}] seeded in {time.perf_counter() - t0:.0f} s", flush=True)
        env = {
            "ANKIETA_SECRET_KEY": secrets.token_hex(32),
            "ANKIETA_QUEUE_URL": f"sqlite:///{directory / 'queue.db'}"
            if backend == "sqlite"
            else "",
        }
        alone: list[selffill.Phase] = []
        busy: dict[str, list[selffill.Phase]] = {mode: [] for mode in args.worker}
        exporters: dict[str, list[Exporter]] = {mode: [] for mode in args.worker}
        per_phase = len(tokens) // ((1 + len(args.worker)) * args.rounds)
        chunks = iter(range(0, (1 + len(args.worker)) * args.rounds * per_phase, per_phase))
        loads: list[float] = []

        def phase(port: int) -> selffill.Phase:
            start = next(chunks)
            run = selffill.Run(
                port,
                args.seconds,
                tokens[start : start + per_phase],
                date.today(),
                pause=tuple(args.pause) if args.pause else None,
            )
            loads.append(os.getloadavg()[0])
            return selffill.run_phase(run, args.clients, selffill.respondent_client)

        with gunicorn_server(url, workers=args.workers, extra_env=env) as server:
            for _round in range(args.rounds):
                print(f"  load average before the round: {os.getloadavg()[0]:.1f}", flush=True)
                alone.append(phase(server.port))
                for mode in args.worker:  # the same round, each kind of worker in turn
                    if mode == "spin":  # the control: idle-priority work that touches nothing
                        exporter = Exporter(server.port, export_fieldwork)  # never started
                        with _idle_spinner():
                            busy[mode].append(phase(server.port))
                        exporters[mode].append(exporter)
                        continue
                    log = directory / f"worker-{mode}.log"
                    with ankieta_worker(url, extra_env=env, log_path=log, priority=mode):
                        exporter = Exporter(server.port, export_fieldwork)
                        exporter.start()
                        time.sleep(2.0)  # the export is under way before the respondents start
                        busy[mode].append(phase(server.port))
                        exporter.stop.set()
                        exporter.join(600)  # the file being built finishes before the next phase
                        exporters[mode].append(exporter)
    print(
        f"export_load {backend}: {args.clients} respondents, gunicorn {args.workers} workers; "
        f"load average {min(loads):.1f}-{max(loads):.1f}"
    )
    for number in range(args.rounds):
        print(_line(f"round {number + 1}, alone        ", alone[number]))
        for mode in args.worker:
            exporter = exporters[mode][number]
            print(_line(f"round {number + 1}, export {mode:<6}", busy[mode][number]))
            if mode == "spin":
                print("    no export: an idle-priority busy loop (the control)")
                continue
            built = ", ".join(f"{s:.1f} s" for s in exporter.built)
            problems = "; PROBLEMS: " + "; ".join(exporter.failures) if exporter.failures else ""
            print(f"    exports of {EXPORT_SIZE} responses built on the worker: {built}{problems}")
    pooled_alone = selffill.Phase([log for p in alone for log in p.logs], 0.0, 0.0)
    a95 = percentile_ms(_figures(pooled_alone)[0], 95)
    line = f"  all rounds, submit p95: without an export {a95:.0f} ms"
    for mode in args.worker:
        pooled = selffill.Phase([log for p in busy[mode] for log in p.logs], 0.0, 0.0)
        b95 = percentile_ms(_figures(pooled)[0], 95)
        line += f"; with the worker {mode} {b95:.0f} ms ({b95 / a95 * 100:.0f} %)"
    print(line)
    for number in range(args.rounds):
        a = percentile_ms(_figures(alone[number])[0], 95)
        ratios = ", ".join(
            f"{mode} {percentile_ms(_figures(busy[mode][number])[0], 95) / a:.2f}"
            for mode in args.worker
        )
        print(f"  round {number + 1}: p95 with the export ÷ without: {ratios}")


_SPIN = """
import os, pathlib
os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
pathlib.Path("/proc/self/autogroup").write_text("19")
while True:
    pass
"""


class _idle_spinner:
    """A busy loop at the worker's own priority (SCHED_IDLE, its session's autogroup at
    nice 19) that reads no database and writes no file: what any idle-priority work costs
    the pages on this machine, the floor an idle-priority export can reach."""

    def __enter__(self) -> None:
        import subprocess

        self._process = subprocess.Popen([sys.executable, "-c", _SPIN], start_new_session=True)

    def __exit__(self, *_exc: object) -> None:
        self._process.kill()
        self._process.wait(10)


class _worker_dir:
    def __enter__(self) -> Path:
        import tempfile

        self._tmp = tempfile.TemporaryDirectory(prefix="ankieta-bench-worker-")
        return Path(self._tmp.name)

    def __exit__(self, *_exc: object) -> None:
        self._tmp.cleanup()


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each phase")
    parser.add_argument("--clients", type=int, default=20, help="concurrent respondents")
    parser.add_argument("--rounds", type=int, default=2, help="alone/export pairs, alternated")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--pause",
        type=float,
        nargs=2,
        metavar=("MIN", "MAX"),
        default=None,
        help="seconds each respondent reads a page before posting it (default: no pause, "
        "the respondents keep both gunicorn workers busy)",
    )
    parser.add_argument(
        "--worker",
        nargs="+",
        choices=[*WORKER_PRIORITIES, "spin"],
        default=["idle", "nice10"],
        help="the kinds of `ankieta worker` to compare, each in every round (default: idle "
        "nice10); spin: no export, a busy loop at the idle worker's priority (the control)",
    )
    parser.add_argument(
        "--backend", choices=["sqlite", "postgresql"], default="postgresql", help="database"
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _terminate)
    bench(args.backend, args)


if __name__ == "__main__":
    main()
