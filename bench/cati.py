"""Benchmark: claiming the next CATI case with 30 concurrent interviewers on PostgreSQL.

Run it from the repository root: ``.venv/bin/python bench/cati.py [--seconds 15]``.
For each size (10,000 then 100,000 cases) it

1. creates a scratch PostgreSQL database on 127.0.0.1:5432 (dropped at the end), loads
   ``surveys/monitoring_cis_kis.yaml``, creates an open fieldwork (with its outcome table)
   through the services, and bulk-inserts the sample through SQLAlchemy Core: one
   institution, one phone and one case per row, a realistic mix of queue states (mostly
   fresh; some retried and not yet due, some with a higher priority, some finished);
   then ``VACUUM ANALYZE`` as autovacuum would after a bulk load, and a ``CHECKPOINT`` so
   the load's writes are not flushed in the middle of the measured run;
2. runs one interviewer alone for a few seconds (the query's own cost, no contention);
3. runs 30 interviewers, each a process of its own (as behind separate app-server
   workers) with its own connection, starting at staggered moments and looping
   ``claim_next`` + commit, then ``start_call`` + ``finish_call(no_answer)`` + commit, then
   ``--think`` seconds (mean, default 1) "on the phone", for ``--seconds``. Only
   ``claim_next`` and its commit are timed. Real interviewers claim every few minutes, so
   one second is a heavy load; ``--think 0 --no-processes`` instead claims back to back
   from threads of one process, which saturates a small machine and measures queueing
   for the CPU and the interpreter lock rather than the claim;
4. after the run, ``EXPLAIN (ANALYZE, BUFFERS)`` of the regular-tier claim query
   (captured from a real ``claim_next``): its planning and execution time at each size,
   and at the largest the whole plan and whether it walks ``ix_cati_case_queue``.

The clock is injected as everywhere in Ankieta: a Monday 9:00 in Warsaw that advances with
real time, so the run is inside calling hours whenever it is started.

It prints one line per size and the ratio::

    cati 10000: claims/s=..., p50=... ms, p95=... ms (alone: p50=... ms, p95=... ms)
    cati 100k/10k p95 ratio=... (target < 1.3; p95 target < 25 ms)

The load generator and PostgreSQL share the machine, which is why the single-interviewer
figures are printed next to the 30-interviewer ones.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import signal
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.cati import queue  # noqa: E402
from app.cati import services as cati  # noqa: E402
from app.domain.dates import WARSAW  # noqa: E402
from app.fieldwork.services import create_fieldwork  # noqa: E402
from app.models.cati import Case, Outcome  # noqa: E402
from app.models.fieldwork import ContactPhone, Fieldwork, SampleUnit  # noqa: E402
from app.models.users import Role  # noqa: E402
from app.platform.accounts import create_user  # noqa: E402 - needs the path above
from app.platform.db import make_engine  # noqa: E402
from app.surveys.services import load_file  # noqa: E402
from bench._server import ROOT, scratch_database  # noqa: E402

SURVEY_FILE = ROOT / "surveys" / "monitoring_cis_kis.yaml"
TARGET_P95_MS = 10.0  # the claim's own server time
TARGET_RATIO = 1.2
CHUNK = 10_000
START = datetime(2026, 3, 16, 9, 0, tzinfo=WARSAW)  # a Monday, inside office hours


class RunningClock:
    """Monday 9:00 in Warsaw when created, then moving with real time."""

    def __init__(self) -> None:
        self.origin = time.monotonic()

    def __call__(self) -> datetime:
        return START.astimezone(UTC) + timedelta(seconds=time.monotonic() - self.origin)


@dataclass
class Seeded:
    fieldwork_id: int
    interviewers: list[int]
    no_answer_id: int


def seed(url: str, cases: int, interviewers: int) -> Seeded:
    """An open fieldwork with ``cases`` cases (bulk insert via Core) and the interviewers."""
    engine = make_engine(url)
    now = START.astimezone(UTC)
    try:
        with Session(engine) as session:
            loaded = load_file(session, SURVEY_FILE)
            if not loaded.ok:
                raise SystemExit(f"{SURVEY_FILE.name} does not load: {loaded.problems}")
            fieldwork = create_fieldwork(session, loaded.survey.code, "Monitoring (benchmark)")
            fieldwork.open(now)
            users = [
                create_user(session, f"ankieter{n:02d}", Role.INTERVIEWER, password="x" * 16)[0]
                for n in range(interviewers)
            ]
            session.commit()
            fieldwork_id = fieldwork.id
            user_ids = [user.id for user in users]
            no_answer_id = session.scalar(
                select(Outcome.id).where(
                    Outcome.fieldwork_id == fieldwork_id, Outcome.code == "no_answer"
                )
            )
        with engine.begin() as connection:
            for first in range(0, cases, CHUNK):
                numbers = range(first, min(first + CHUNK, cases))
                unit_ids = connection.scalars(
                    insert(SampleUnit.__table__).returning(SampleUnit.id),
                    [_unit(fieldwork_id, n, now) for n in numbers],
                ).all()
                connection.execute(
                    insert(ContactPhone.__table__),
                    [
                        {"sample_unit_id": u, "position": 1, "number": f"032 {n:07d}", "label": ""}
                        for n, u in zip(numbers, unit_ids, strict=True)
                    ],
                )
                connection.execute(
                    insert(Case.__table__),
                    [
                        _case(fieldwork_id, n, u, now)
                        for n, u in zip(numbers, unit_ids, strict=True)
                    ],
                )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
            # write the bulk load out now, not in a checkpoint in the middle of the run
            connection.execute(text("CHECKPOINT"))
        return Seeded(fieldwork_id, user_ids, no_answer_id)
    finally:
        engine.dispose()


def _unit(fieldwork_id: int, n: int, now: datetime) -> dict:
    kind = "CIS" if n % 2 else "KIS"
    return {
        "fieldwork_id": fieldwork_id,
        "external_id": f"{n:07d}",
        "name": f"{kind} nr {n}",
        "entity_type": kind,
        "subregion": ("północny", "środkowy", "zachodni", "południowy")[n % 4],
        "powiat": "",
        "gmina": "",
        "contact_person": "",
        "email": "",
        "variables": {},
        "token": f"bench{n:07d}{fieldwork_id:04d}",
        "created_at": now,
    }


def _case(fieldwork_id: int, n: int, unit_id: int, now: datetime) -> dict:
    """Mostly fresh cases; every 5th retried and due later; every 10th final; a few urgent."""
    retried = n % 5 == 1
    final = n % 10 == 3
    priority = 1 if n % 20 == 7 else 0
    return {
        "fieldwork_id": fieldwork_id,
        "sample_unit_id": unit_id,
        "priority": priority,
        "queue_rank": -priority,
        "attempts": 1 if retried or final else 0,
        "retried": retried or final,
        "next_callable_at": None if final else now + timedelta(hours=2 if retried else -24),
        "is_final": final,
        "excluded": False,
        "disposition_code": "4.31" if final else ("3.13" if retried else "3.11"),
        "ever_contacted": False,
        "notes": "",
        "updated_at": now,
    }


@dataclass
class Interviewer:
    latencies: list[float] = field(default_factory=list)
    server: list[float] = field(default_factory=list)  # the claim's own CPU time in-process
    empty: int = 0
    errors: list[str] = field(default_factory=list)


def interview(
    factory: sessionmaker,
    seeded: Seeded,
    user_id: int,
    clock: RunningClock,
    deadline: float,
    log: Interviewer,
    think: float = 0.0,
) -> None:
    """Claim, record a no-answer, repeat until the deadline; time the claims."""
    session = factory()
    try:
        outcome = session.get(Outcome, seeded.no_answer_id)
        # Untimed warm-up: the first claim of a process compiles its statements (once per
        # process, not per claim); rolled back, so the case stays in the queue.
        queue.claim_next(session, session.get(Fieldwork, seeded.fieldwork_id), user_id, clock())
        session.rollback()
        while time.perf_counter() < deadline:
            started, cpu = time.perf_counter(), time.thread_time()
            fieldwork = session.get(Fieldwork, seeded.fieldwork_id)
            claim = queue.claim_next(session, fieldwork, user_id, clock())
            session.commit()
            log.latencies.append(time.perf_counter() - started)
            log.server.append(time.thread_time() - cpu)
            if claim.case is None:
                log.empty += 1
                time.sleep(0.01)
                continue
            call = cati.start_call(session, claim.case, user_id, None, clock())
            cati.finish_call(
                session, claim.case, call, outcome, interviewer_id=user_id, note="", now=clock()
            )
            session.commit()
            if think:  # on the phone: a real interviewer claims every few minutes at most
                time.sleep(random.uniform(0.5 * think, 1.5 * think))  # noqa: S311 - timing only
    except Exception as exc:  # noqa: BLE001 - counted and shown
        session.rollback()
        log.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        session.close()


@dataclass
class Result:
    latencies: list[float]
    wall: float
    empty: int
    errors: list[str]
    server: list[float] = field(default_factory=list)

    def p(self, percent: int) -> float:
        return _percentile_ms(self.latencies, percent)

    def server_p(self, percent: int) -> float:
        return _percentile_ms(self.server, percent)


def _percentile_ms(values: list[float], percent: int) -> float:
    if len(values) < 2:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1] * 1000


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(url: str, seeded: Seeded, threads: int, seconds: float, think: float = 0.0) -> Result:
    engine = make_engine(url, pool_size=threads + 2, max_overflow=0)
    factory = sessionmaker(engine, expire_on_commit=False)
    clock = RunningClock()
    logs = [Interviewer() for _ in range(threads)]
    deadline = time.perf_counter() + seconds
    workers = [
        threading.Thread(
            target=interview,
            args=(factory, seeded, seeded.interviewers[n], clock, deadline, logs[n], think),
            daemon=True,
        )
        for n in range(threads)
    ]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(seconds + 60)
    wall = time.perf_counter() - start
    engine.dispose()
    return Result(
        [t for log in logs for t in log.latencies],
        wall,
        sum(log.empty for log in logs),
        [e for log in logs for e in log.errors],
        [t for log in logs for t in log.server],
    )


def _interviewer_process(
    url: str, seeded: Seeded, user_id: int, seconds: float, think: float, results: Any
) -> None:
    """One interviewer in a process of its own (as behind separate app-server workers)."""
    engine = make_engine(url, pool_size=1, max_overflow=0)
    log = Interviewer()
    time.sleep(random.uniform(0, think))  # noqa: S311 - interviewers do not all start at once
    interview(
        sessionmaker(engine, expire_on_commit=False),
        seeded,
        user_id,
        RunningClock(),
        time.perf_counter() + seconds,
        log,
        think,
    )
    engine.dispose()
    results.put((log.latencies, log.empty, log.errors, log.server))


def run_processes(url: str, seeded: Seeded, count: int, seconds: float, think: float) -> Result:
    """Like ``run``, but each interviewer is a process: no shared interpreter lock."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [
        context.Process(
            target=_interviewer_process,
            args=(url, seeded, seeded.interviewers[n], seconds, think, results),
        )
        for n in range(count)
    ]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    collected = [results.get(timeout=seconds + 120) for _ in workers]
    for worker in workers:
        worker.join(30)
    wall = time.perf_counter() - start
    return Result(
        [t for latencies, _, _, _ in collected for t in latencies],
        wall,
        sum(empty for _, empty, _, _ in collected),
        [e for _, _, errors, _ in collected for e in errors],
        [t for _, _, _, server in collected for t in server],
    )


def explain_regular_claim(url: str, seeded: Seeded) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the regular-tier query of a real claim_next."""
    engine = make_engine(url)
    captured: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if "ORDER BY cati_case.queue_rank" in statement:
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with Session(engine) as session:
            fieldwork = session.get(Fieldwork, seeded.fieldwork_id)
            queue.claim_next(session, fieldwork, seeded.interviewers[0], RunningClock()())
            session.rollback()
        if not captured:
            return "(the regular-tier query did not run: an appointment or own case came first)"
        statement, parameters = captured[0]
        with engine.connect() as connection:
            plan = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
            ).all()
            connection.rollback()
        return statement + "\n" + "\n".join(row[0] for row in plan)
    finally:
        engine.dispose()


def bench_size(cases: int, args: argparse.Namespace, show_plan: bool) -> list[Result]:
    """``args.repeat`` runs on one seeded database; each run's figures and load average."""
    crowds: list[Result] = []
    with scratch_database("postgresql") as url:
        t0 = time.perf_counter()
        seeded = seed(url, cases, args.threads)
        print(f"[{cases}] seeded {cases} cases in {time.perf_counter() - t0:.1f} s", flush=True)
        for n in range(args.repeat):
            before = load_average()
            alone = run(url, seeded, 1, args.alone_seconds)
            if args.processes:
                crowd = run_processes(url, seeded, args.threads, args.seconds, args.think)
            else:
                crowd = run(url, seeded, args.threads, args.seconds, args.think)
            print(
                f"cati {cases} run {n + 1}: server time (the claim's CPU in-process) "
                f"p50={crowd.server_p(50):.1f} ms p95={crowd.server_p(95):.1f} ms | end to end "
                f"p50={crowd.p(50):.1f} ms, p95={crowd.p(95):.1f} ms, p99={crowd.p(99):.1f} ms, "
                f"claims/s={len(crowd.latencies) / crowd.wall:.0f} ({args.threads} interviewers, "
                f"{len(crowd.latencies)} claims, {crowd.empty} empty) | alone: "
                f"p50={alone.p(50):.1f} ms, p95={alone.p(95):.1f} ms | load average "
                f"{before} -> {load_average()}",
                flush=True,
            )
            for line in sorted(set(alone.errors + crowd.errors))[:10]:
                print(f"  ERROR {line}")
            crowd.errors += alone.errors
            crowds.append(crowd)
        plan = explain_regular_claim(url, seeded)
        timings = [line.strip() for line in plan.splitlines() if line.endswith(" ms")]
        print(f"  regular-tier claim query after the runs: {'; '.join(timings)}")
        if show_plan:
            print(f"EXPLAIN (ANALYZE) of the regular-tier claim at {cases} cases:\n{plan}")
            uses_index = "ix_cati_case_queue" in plan
            scans = "Seq Scan on cati_case" in plan
            sorts = any(line.strip().startswith("->  Sort") for line in plan.splitlines())
            print(
                f"  plan: ix_cati_case_queue {'used' if uses_index else 'NOT used'}; "
                f"seq scan: {'yes' if scans else 'no'}; sort: {'yes' if sorts else 'no'}"
            )
    server = [r.server_p(95) for r in crowds]
    end = [r.p(95) for r in crowds]
    print(
        f"cati {cases}: server p95 min {min(server):.1f} ms, median "
        f"{statistics.median(server):.1f} ms; end-to-end p95 min {min(end):.1f} ms, median "
        f"{statistics.median(end):.1f} ms ({len(crowds)} runs)",
        flush=True,
    )
    return crowds


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the 30-thread run")
    parser.add_argument("--alone-seconds", type=float, default=3.0, help="single-interviewer run")
    parser.add_argument("--threads", type=int, default=30, help="concurrent interviewers")
    parser.add_argument(
        "--processes",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="one process per interviewer, as behind app-server workers (default); "
        "--no-processes: threads of one process, sharing its interpreter lock",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean seconds on the phone between claims (default 1; 0: back to back, "
        "which saturates a small machine and measures CPU queueing)",
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000], help="numbers of cases"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each size")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _terminate)  # drop the scratch database on a plain kill
    print(f"load average at the start: {load_average()} ({os.cpu_count()} cores)")
    results = [
        bench_size(size, args, show_plan=n == len(args.sizes) - 1)
        for n, size in enumerate(args.sizes)
    ]
    ok = not any(r.errors for runs in results for r in runs)
    server = [statistics.median(r.server_p(95) for r in runs) for runs in results]
    ok = all(p95 <= TARGET_P95_MS for p95 in server) and ok
    if len(results) >= 2:
        ratio = server[-1] / server[0]
        end = [statistics.median(r.p(95) for r in runs) for runs in results]
        print(
            f"cati {args.sizes[-1]}/{args.sizes[0]}: server p95 ratio={ratio:.2f} (median runs; "
            f"target <= {TARGET_RATIO}; server p95 target <= {TARGET_P95_MS:.0f} ms); "
            f"end-to-end p95 ratio={end[-1] / end[0]:.2f}"
        )
        ok = ratio <= TARGET_RATIO and ok
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
