"""Benchmark: respondents filling the self-fill web form, against the same server's /healthz.

Run it from the repository root: ``.venv/bin/python bench/selffill.py [--seconds 30]``.
For each backend (SQLite in a temporary directory; PostgreSQL in a scratch database on
127.0.0.1:5432, dropped at the end) it

1. migrates an empty database, loads ``surveys/monitoring_cis_kis.yaml`` (8 pages), creates
   an open fieldwork and imports a generated sample, all through the services;
2. starts gunicorn (2 sync workers, loopback, a free port) and waits for ``/healthz``;
3. runs 50 concurrent respondents (threads, each with its own personal link and cookies):
   GET the start page, POST "Start" with the CSRF token from the page, then for every page
   GET it, fill its form with valid answers and POST it, until the thank-you page; each
   finished respondent takes a fresh link. Only the page POSTs ("submits") are timed;
4. then the same 50 clients call ``GET /healthz`` for the same time;
5. stops gunicorn and checks in the database that every submit the clients saw accepted
   (a 303 redirect) is stored: responses' revisions, completed responses, and each
   acknowledged page's answers (every relevant field that was sent is stored).

It prints one line per backend::

    selffill sqlite: submits/s=..., p95=... ms | healthz: req/s=..., p95=... ms | ratio=...%

The targets (issue 4): submit throughput at least 40 % of /healthz's, submit p95 < 150 ms.
The load generator runs on the same machine as the server and takes CPU from it; its own
CPU time is printed so that the figures can be read with that in mind.
"""

from __future__ import annotations

import argparse
import queue
import random
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.fieldwork.services import create_fieldwork, import_sample  # noqa: E402
from app.models.fieldwork import Response, ResponseStatus, SampleUnit  # noqa: E402
from app.platform.db import make_engine  # noqa: E402 - needs the path above
from app.surveys.services import load_file  # noqa: E402
from bench._load import (  # noqa: E402
    ANSWERS_VARIANT,
    REQUEST_TIMEOUT,
    Browser,
    fill_form,
    missing_answers,
    percentile_ms,
    sample_csv,
)
from bench._load import ERROR_IDS as _ERROR_IDS  # noqa: E402
from bench._load import attributes as _attributes  # noqa: E402
from bench._server import ROOT, gunicorn, scratch_database  # noqa: E402

SURVEY_FILE = ROOT / "surveys" / "monitoring_cis_kis.yaml"
SURVEY_CODE = "monitoring_cis_kis"
TARGET_RATIO = 0.40
TARGET_P95_MS = 150.0
MAX_FAILURES = 100  # per client: past this the server is down, not slow; stop that client


@dataclass
class LinkRecord:
    """What one respondent's client saw, to be checked against the database."""

    token: str
    variant: int
    accepted: int = 0  # page POSTs answered with a redirect (the page was saved)
    completed: bool = False
    pages: list[tuple[str, list[str]]] = field(default_factory=list)  # (page, fields sent)


@dataclass
class ClientLog:
    """One client thread's measurements (merged after the run; no locking needed)."""

    submit_times: list[float] = field(default_factory=list)  # accepted (redirected) submits
    refused_times: list[float] = field(default_factory=list)  # any other answer to a submit
    other_times: list[float] = field(default_factory=list)
    links: list[LinkRecord] = field(default_factory=list)
    rejected: int = 0  # page POSTs answered 200: the server found an error in the answers
    stale: int = 0  # page POSTs answered 409
    failures: list[str] = field(default_factory=list)


class Run:
    """The shared state of one load phase: the deadline and the unused personal links."""

    def __init__(
        self,
        port: int,
        seconds: float,
        tokens: list[str],
        today: date,
        pause: tuple[float, float] | None = None,
    ) -> None:
        self.port = port
        self.pause = pause  # seconds a respondent reads each page before answering (min, max)
        self.today = today
        self.links: queue.SimpleQueue[tuple[int, str]] = queue.SimpleQueue()
        for number, token in enumerate(tokens):
            self.links.put((number, token))
        self.seconds = seconds
        self.deadline = 0.0
        self.exhausted = False

    def over(self) -> bool:
        return time.perf_counter() >= self.deadline


def respondent_client(run: Run, log: ClientLog) -> None:
    """Fill questionnaires, one fresh link after another, until the deadline."""
    while not run.over():
        try:
            number, token = run.links.get_nowait()
        except queue.Empty:
            run.exhausted = True
            return
        record = LinkRecord(token, variant=number % len(ANSWERS_VARIANT))
        log.links.append(record)
        try:
            _fill_one(run, log, Browser(run.port), record)
        except Exception as exc:  # noqa: BLE001 - counted and shown, the run goes on
            log.failures.append(f"{type(exc).__name__}: {exc}")
            if len(log.failures) == 1:
                traceback.print_exc()
        if len(log.failures) > MAX_FAILURES:
            return


def _fill_one(run: Run, log: ClientLog, browser: Browser, record: LinkRecord) -> None:
    base = f"/r/{record.token}"
    status, _, text, seconds = browser.request("GET", base)
    log.other_times.append(seconds)
    csrf = _attributes(re.search(r'<input[^>]*name="csrf_token"[^>]*>', text).group(0))["value"]
    status, location, _, seconds = browser.request("POST", f"{base}/start", {"csrf_token": [csrf]})
    log.other_times.append(seconds)
    if status not in (302, 303):
        log.failures.append(f"POST start: HTTP {status}")
        return
    while not run.over():
        status, _, text, seconds = browser.request("GET", location)
        log.other_times.append(seconds)
        if status != 200:
            log.failures.append(f"GET {location.rsplit('/', 1)[-1]}: HTTP {status}")
            return
        form, _action = fill_form(text, record.variant, run.today)
        if run.pause is not None:
            time.sleep(random.uniform(*run.pause))
            if run.over():
                return
        status, target, text, seconds = browser.request("POST", location, form)
        page_id = location.rsplit("/", 1)[-1]
        (log.submit_times if status in (302, 303) else log.refused_times).append(seconds)
        if status in (302, 303):
            record.accepted += 1
            record.pages.append((page_id, [name for name, v in form.items() if any(v)]))
        elif status == 409:
            log.stale += 1
            return
        elif status == 200:
            log.rejected += 1
            if log.rejected == 1:
                fields = ", ".join(_ERROR_IDS.findall(text)) or "?"
                log.failures.append(f"page {page_id} refused (errors in: {fields})")
            return
        else:
            log.failures.append(f"POST {page_id}: HTTP {status}")
            return
        if target.endswith("/done"):
            record.completed = True
            status, _, _, seconds = browser.request("GET", target)  # the thank-you page
            log.other_times.append(seconds)
            return
        location = target


def healthz_client(run: Run, log: ClientLog) -> None:
    browser = Browser(run.port)
    while not run.over() and len(log.failures) <= MAX_FAILURES:
        try:
            status, _, _, seconds = browser.request("GET", "/healthz")
        except Exception as exc:  # noqa: BLE001 - counted and shown
            log.failures.append(f"{type(exc).__name__}: {exc}")
            continue
        if status == 200:
            log.other_times.append(seconds)
        else:
            log.failures.append(f"healthz: HTTP {status}")


@dataclass
class Phase:
    logs: list[ClientLog]
    wall: float  # seconds from start until the last client stopped
    cpu: float  # the load generator's own CPU seconds


def run_phase(run: Run, clients: int, target: Callable[[Run, ClientLog], None]) -> Phase:
    """Run ``clients`` threads of ``target`` until the run's deadline."""
    logs = [ClientLog() for _ in range(clients)]
    threads = [
        threading.Thread(target=target, args=(run, log), daemon=True, name=f"client-{n}")
        for n, log in enumerate(logs)
    ]
    cpu = time.process_time()
    start = time.perf_counter()
    run.deadline = start + run.seconds
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(run.seconds + 4 * REQUEST_TIMEOUT)
    return Phase(logs, time.perf_counter() - start, time.process_time() - cpu)


def seed(url: str, rows: int) -> list[str]:
    """Load the survey, create an open fieldwork with ``rows`` institutions; their tokens."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            outcome = load_file(session, SURVEY_FILE)
            if not outcome.ok:
                raise SystemExit(f"{SURVEY_FILE.name} does not load: {outcome.problems}")
            fieldwork = create_fieldwork(
                session,
                SURVEY_CODE,
                "Monitoring CIS/KIS 2026 (benchmark)",
                closes_on=date.today() + timedelta(days=60),
            )
            now = datetime.now(UTC)
            imported = import_sample(session, fieldwork, sample_csv(rows), "proba.csv", now=now)
            if not imported.ok:
                raise SystemExit(f"sample refused: {[p.message for p in imported.problems[:5]]}")
            fieldwork.open(now)
            session.commit()
            return list(
                session.scalars(
                    select(SampleUnit.token)
                    .where(SampleUnit.fieldwork_id == fieldwork.id)
                    .order_by(SampleUnit.id)
                )
            )
    finally:
        engine.dispose()


@dataclass
class Verdict:
    lost_revisions: int = 0  # accepted saves the database does not have
    extra_revisions: int = 0  # saves the database has that no client saw accepted
    lost_completions: int = 0
    extra_completions: int = 0
    lost_answers: int = 0  # relevant fields of acknowledged pages not in the stored answers
    examples: list[str] = field(default_factory=list)


def verify(url: str, records: list[LinkRecord]) -> Verdict:
    """Compare what the clients saw accepted with what the database holds."""
    verdict = Verdict()
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            by_token = {r.token: r for r in records}
            stored = session.execute(
                select(SampleUnit.token, SampleUnit, Response).join(
                    Response, Response.sample_unit_id == SampleUnit.id, isouter=True
                )
            ).all()
            today = date.today()
            for token, unit, response in stored:
                record = by_token.get(token)
                if record is None:
                    if response is not None:
                        verdict.extra_revisions += response.revision
                    continue
                expected = record.accepted + (1 if record.completed else 0)
                revision = response.revision if response is not None else 0
                complete = response is not None and response.status == ResponseStatus.COMPLETE
                if revision < expected:
                    verdict.lost_revisions += expected - revision
                    verdict.examples.append(f"{token[:8]}…: revision {revision} < {expected}")
                elif revision > expected:
                    verdict.extra_revisions += revision - expected
                    verdict.examples.append(f"{token[:8]}…: revision {revision} > {expected}")
                verdict.lost_completions += record.completed and not complete
                verdict.extra_completions += complete and not record.completed
                if response is not None and record.pages:
                    verdict.lost_answers += missing_answers(response, unit, record.pages, today)
    finally:
        engine.dispose()
    return verdict


def bench_backend(backend: str, args: argparse.Namespace) -> bool:
    """Run both phases on one backend and print its figures; True if every check passed."""
    rows = args.sample or max(args.clients * 4, int(args.seconds * 100))
    with scratch_database(backend) as url:
        t0 = time.perf_counter()
        tokens = seed(url, rows)
        print(f"[{backend}] seeded {len(tokens)} institutions in {time.perf_counter() - t0:.1f} s")
        log_path = Path(args.log_dir) / f"gunicorn-{backend}.log" if args.log_dir else None
        with gunicorn(url, workers=args.workers, log_path=log_path) as port:
            form_run = Run(port, args.seconds, tokens, date.today())
            form = run_phase(form_run, args.clients, respondent_client)
            health = run_phase(
                Run(port, args.seconds, [], date.today()), args.clients, healthz_client
            )
        records = [record for log in form.logs for record in log.links]
        verdict = verify(url, records)
    return report(backend, form, health, records, verdict, form_run.exhausted)


def report(
    backend: str,
    form: Phase,
    health: Phase,
    records: list[LinkRecord],
    verdict: Verdict,
    exhausted: bool,
) -> bool:
    """Print one backend's figures and checks; True if nothing failed and nothing was lost."""
    submits = [t for log in form.logs for t in log.submit_times]
    refused = [t for log in form.logs for t in log.refused_times]
    others = [t for log in form.logs for t in log.other_times]
    pings = [t for log in health.logs for t in log.other_times]
    submit_rate = len(submits) / form.wall
    health_rate = len(pings) / health.wall
    ratio = submit_rate / health_rate if health_rate else float("nan")
    p95 = percentile_ms(submits, 95)
    print(
        f"selffill {backend}: submits/s={submit_rate:.1f}, p95={p95:.0f} ms | "
        f"healthz: req/s={health_rate:.1f}, p95={percentile_ms(pings, 95):.0f} ms | "
        f"ratio={ratio * 100:.0f}% (target >= {TARGET_RATIO * 100:.0f} %, "
        f"p95 target < {TARGET_P95_MS:.0f} ms)"
    )
    completed = sum(r.completed for r in records)
    print(
        f"  accepted submits: {len(submits)} in {form.wall:.1f} s (+{len(refused)} not "
        f"accepted), p50={percentile_ms(submits, 50):.0f} ms"
        f" p95={p95:.0f} ms p99={percentile_ms(submits, 99):.0f} ms; "
        f"other requests of the form (start, page GETs, thank-you): {len(others)}, "
        f"p50={percentile_ms(others, 50):.0f} ms p95={percentile_ms(others, 95):.0f} ms; "
        f"all form requests/s={(len(submits) + len(refused) + len(others)) / form.wall:.1f}"
    )
    print(
        f"  respondents: {len(records)} links used, {completed} questionnaires completed; "
        f"healthz: {len(pings)} in {health.wall:.1f} s, p50={percentile_ms(pings, 50):.0f} ms "
        f"p99={percentile_ms(pings, 99):.0f} ms"
    )
    print(
        f"  load generator CPU: {form.cpu:.1f} s during the form phase, "
        f"{health.cpu:.1f} s during healthz (of {form.wall:.0f} s wall each, same machine)"
    )
    rejected = sum(log.rejected for log in form.logs)
    stale = sum(log.stale for log in form.logs)
    failures = [f for log in form.logs + health.logs for f in log.failures]
    if rejected or stale or failures:
        print(
            f"  PROBLEMS: {rejected} pages refused, {stale} stale (409), {len(failures)} failures"
        )
        for line in sorted(set(failures))[:10]:
            print(f"    {line}")
    if exhausted:
        print("  note: the sample ran out of links before the end; use a larger --sample")
    lost = verdict.lost_revisions + verdict.lost_completions + verdict.lost_answers
    if lost == 0 and not (verdict.extra_revisions or verdict.extra_completions):
        print("  lost answers: 0")
    else:
        print(
            f"  lost answers: {lost} (saves missing: {verdict.lost_revisions}, completions "
            f"missing: {verdict.lost_completions}, fields missing: {verdict.lost_answers}; "
            f"unexpected saves: {verdict.extra_revisions}, unexpected completions: "
            f"{verdict.extra_completions})"
        )
        for line in verdict.examples[:10]:
            print(f"    {line}")
    return lost == 0 and not failures and not rejected and not stale


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each phase")
    parser.add_argument("--clients", type=int, default=50, help="concurrent respondents")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--sample", type=int, default=0, help="institutions (default: enough)")
    parser.add_argument(
        "--backend",
        action="append",
        choices=["sqlite", "postgresql"],
        help="run only this backend (repeatable; default: both)",
    )
    parser.add_argument("--log-dir", default="", help="keep gunicorn's log in this directory")
    args = parser.parse_args()
    # A plain `kill` must also stop gunicorn and drop the scratch database: make SIGTERM
    # unwind the `with` blocks like Ctrl-C does.
    signal.signal(signal.SIGTERM, _terminate)
    ok = True
    for backend in args.backend or ["sqlite", "postgresql"]:
        ok = bench_backend(backend, args) and ok
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
