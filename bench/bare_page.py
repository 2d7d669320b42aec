"""Benchmark: a respondent's submit in Ankieta against a bare Flask page doing the minimum.

Run it from the repository root: ``.venv/bin/python bench/bare_page.py [--repeat 3]``.

The bare page is what the stack itself costs for the same job: Flask + Flask-WTF (its CSRF
check, the token in a signed session cookie) + SQLAlchemy (ORM session, one JSON row read
and a revision-checked UPDATE in the same database) + Jinja (a page of 6 labelled inputs
with the CSRF token), a redirect after the POST. Ankieta answers the same submit with its
whole respondent flow on ``surveys/monitoring_cis_kis.yaml`` (8 pages). Both are used the
way a respondent uses a link: its page with a start button, the start (Ankieta makes the
response; the bare page makes its row ready), 8 pages, and a thank-you page after the last;
then the next questionnaire. The bare page has as many pages as Ankieta's questionnaire.

A "submit" is what a respondent's browser does between two pages: POST the page, follow
the redirect and GET the next page. It is measured two ways, both in one run and
alternating Ankieta and the bare page so that a load spike from other jobs hits both:

1. **server CPU per submit, in-process**: Flask's test client, the CPU time
   (``time.process_time``) of the submits only, per submit, and the SQL statements each
   sends; ``--repeat`` pairs, min and median printed;
2. **throughput under gunicorn** (2 sync workers, loopback): ``--clients`` threads without
   pauses fill questionnaires for ``--seconds`` against each server in turn, with the same
   client code (``bench/_load.py``'s Browser), ``--repeat`` pairs.

It prints the ratios (Ankieta ÷ bare for CPU, the goal ≤ 1.5; Ankieta's submits/s ÷ the bare
page's, the goal ≥ 0.8) and the machine's load average before and after. Each CPU run also
prints where the difference goes: the CPU per request of each step of a submit (a page's
POST, the next page's GET, the last page's POST, the thank-you page's GET) for both apps,
and each step's share of the difference per submit.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, redirect, render_template, request, url_for
from flask_wtf import CSRFProtect
from jinja2 import DictLoader
from sqlalchemy import JSON, String, event, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.platform.db import begin_for_writing, make_engine  # noqa: E402
from bench._load import Browser, attributes, csrf_token, fill_form  # noqa: E402
from bench._server import ROOT, gunicorn_server, scratch_database  # noqa: E402

SURVEY_FILE = ROOT / "surveys" / "monitoring_cis_kis.yaml"
SURVEY_CODE = "monitoring_cis_kis"
BARE_PAGES = 8  # as many pages as the Ankieta questionnaire
TARGET_CPU_RATIO = 1.5
BLOCK = 24  # in-process submits measured in one go, Ankieta and bare in turn
TARGET_THROUGHPUT_RATIO = 0.8

# --- the bare page ----------------------------------------------------------------------


class BareBase(DeclarativeBase):
    pass


class BareResponse(BareBase):
    __tablename__ = "bench_bare_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    revision: Mapped[int] = mapped_column(default=0)


BARE_FIELDS = [f"q{n}" for n in range(1, 7)]
BARE_SMALL = """<!doctype html>
<html lang="pl"><head><meta charset="utf-8"><title>Ankieta</title></head>
<body><main><h1>{{ heading }}</h1>
{% if start %}<form method="post" action="{{ start }}">
<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
<button type="submit" class="primary">Rozpocznij</button></form>{% endif %}
</main></body></html>
"""
BARE_TEMPLATE = """<!doctype html>
<html lang="pl"><head><meta charset="utf-8"><title>Strona {{ page }}</title></head>
<body><main>
<h1>Ankieta – strona {{ page }} z {{ pages }}</h1>
<form method="post" id="questionnaire">
<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
<input type="hidden" name="revision" value="{{ revision }}">
{% for name in fields %}
<div class="question"><label for="{{ name }}">Pytanie {{ name }}: ile osób?</label>
<input type="text" inputmode="numeric" id="{{ name }}" name="{{ name }}"
 value="{{ answers.get(name, '') }}"></div>
{% endfor %}
<button type="submit" name="action" value="next" class="primary">Dalej</button>
</form></main></body></html>
"""


def create_bare(database_url: str | None = None, secret: str | None = None) -> Flask:
    """The bare app (also gunicorn's: ``bench.bare_page:create_bare()``, from the env)."""
    url = database_url or os.environ["ANKIETA_DATABASE_URL"]
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secret or os.environ["ANKIETA_SECRET_KEY"]
    app.jinja_loader = DictLoader({"page.html": BARE_TEMPLATE, "small.html": BARE_SMALL})
    CSRFProtect(app)
    engine = make_engine(url)  # the same engine set-up as Ankieta's (SQLite WAL etc.)
    factory = sessionmaker(engine)
    app.extensions["bare.engine"] = engine

    @app.get("/healthz")
    def healthz():
        return "ok"

    # A respondent's journey as in Ankieta: the link's page with a start button, the
    # start (the response row made ready), the pages, and a thank-you page after the last.
    def small_page(token: str, heading: str, start: str):
        with factory() as session:
            row = session.scalar(select(BareResponse).where(BareResponse.token == token))
            if row is None:
                return "no such link", 404
            return render_template("small.html", heading=heading, start=start)

    @app.get("/b/<token>")
    def landing(token: str):
        return small_page(token, "Ankieta", url_for("start", token=token))

    @app.post("/b/<token>/start")
    def start(token: str):
        with factory.begin() as session:
            begin_for_writing(session)
            done = session.execute(
                update(BareResponse)
                .where(BareResponse.token == token)
                .values(answers={}, revision=BareResponse.revision + 1)
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:
                return "no such link", 404
        return redirect(url_for("show", token=token, page=1), 303)

    @app.get("/b/<token>/done")
    def thanks(token: str):
        return small_page(token, "Dziękujemy", "")

    @app.get("/b/<token>/p/<int:page>")
    def show(token: str, page: int):
        with factory() as session:
            row = session.scalar(select(BareResponse).where(BareResponse.token == token))
            if row is None:
                return "no such link", 404
            return render_template(
                "page.html",
                page=page,
                pages=BARE_PAGES,
                fields=BARE_FIELDS,
                answers=row.answers,
                revision=row.revision,
            )

    @app.post("/b/<token>/p/<int:page>")
    def save(token: str, page: int):
        with factory.begin() as session:
            begin_for_writing(session)  # BEGIN IMMEDIATE on SQLite, as Ankieta's POSTs do
            row = session.scalar(select(BareResponse).where(BareResponse.token == token))
            if row is None:
                return "no such link", 404
            answers = dict(row.answers)
            answers.update({name: request.form.get(name, "") for name in BARE_FIELDS})
            done = session.execute(
                update(BareResponse)
                .where(
                    BareResponse.id == row.id,
                    BareResponse.revision == int(request.form.get("revision", -1)),
                )
                .values(answers=answers, revision=BareResponse.revision + 1)
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:
                return "stale", 409
        if page >= BARE_PAGES:
            return redirect(url_for("thanks", token=token), 303)
        return redirect(url_for("show", token=token, page=page + 1), 303)

    return app


def seed_bare(url: str, rows: int) -> list[str]:
    engine = make_engine(url)
    try:
        BareBase.metadata.create_all(engine)
        tokens = [f"bare{n:012d}xxxxxxxx" for n in range(rows)]
        with Session(engine) as session:
            session.add_all(BareResponse(token=t, answers={}) for t in tokens)
            session.commit()
        return tokens
    finally:
        engine.dispose()


# --- Ankieta -----------------------------------------------------------------------------


def seed_ankieta(url: str, rows: int) -> list[str]:
    from app.fieldwork.services import create_fieldwork, import_sample
    from app.models.fieldwork import SampleUnit
    from app.surveys.services import load_file
    from bench._load import sample_csv

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            outcome = load_file(session, SURVEY_FILE)
            assert outcome.ok, outcome.problems
            fieldwork = create_fieldwork(
                session, SURVEY_CODE, "Benchmark", closes_on=date.today() + timedelta(days=60)
            )
            now = datetime.now(UTC)
            imported = import_sample(session, fieldwork, sample_csv(rows), "proba.csv", now=now)
            assert imported.ok
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


# --- in-process: server CPU per submit -----------------------------------------------------


class StatementCounter:
    def __init__(self, engine: Any) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._one)

    def _one(self, *_args: Any) -> None:
        self.count += 1


@dataclass
class CpuFigures:
    per_submit_ms: float
    statements: float
    submits: int
    # CPU seconds and count of each step of a submit (STEPS), to say where the time goes
    steps: dict[str, list[float]] = field(default_factory=dict)


# A submit's two requests, for a page before the last and for the last page (whose POST
# completes the questionnaire and whose GET is the thank-you page).
STEPS = ("page POST", "next page GET", "last page POST", "thank-you page GET")


def _location(response: Any) -> str:
    return urlsplit(response.headers["Location"]).path


def cpu_ankieta(app: Flask, tokens: list[str], submits: int) -> CpuFigures:
    """CPU time of page POSTs + next-page GETs through the test client, per submit.

    Whole questionnaires are filled until at least ``submits`` were made, so the completion
    (the last page's submit) counts in the share it has for real respondents.
    """
    from app.platform.extensions import get_db

    with app.app_context():
        counter = StatementCounter(get_db().engine)
    today = date.today()

    def questionnaire() -> tuple[Any, str, Callable[[str, int], dict[str, Any]]]:
        token = tokens.pop()
        variant = len(tokens) % 2  # both branches of the skip logic
        return app.test_client(), f"/r/{token}", lambda text, _n: fill_form(text, variant, today)[0]

    return _whole_questionnaires(counter, submits, questionnaire)


def cpu_bare(app: Flask, tokens: list[str], submits: int) -> CpuFigures:
    """As ``cpu_ankieta``, on the bare page (its one link started again each time)."""
    counter = StatementCounter(app.extensions["bare.engine"])
    client = app.test_client()
    token = tokens.pop()
    return _whole_questionnaires(counter, submits, lambda: (client, f"/b/{token}", _bare_form))


def _whole_questionnaires(
    counter: StatementCounter,
    submits: int,
    questionnaire: Callable[[], tuple[Any, str, Callable[[str, int], dict[str, Any]]]],
) -> CpuFigures:
    """Fill whole questionnaires until at least ``submits`` were made: ``questionnaire()``
    gives the next one's client, link and form filler. The link's page and Start are
    untimed; each submit (POST, then GET of the next page or of the thank-you page after
    the last) is timed with its SQL statements."""
    cpu = 0.0
    statements = 0
    done = 0
    steps: dict[str, list[float]] = {step: [0.0, 0] for step in STEPS}
    while done < submits:
        client, link, fill = questionnaire()
        page = client.get(link, headers={"Accept-Language": "pl"})
        started = client.post(f"{link}/start", data={"csrf_token": csrf_token(page.text)})
        location = _location(started)
        page = client.get(location)
        while True:
            form = fill(page.text, done)
            before_cpu, before_sql = time.process_time(), counter.count
            posted = client.post(location, data=form)
            between = time.process_time()
            assert posted.status_code in (302, 303), (posted.status_code, location)
            target = _location(posted)
            page = client.get(target)
            after = time.process_time()
            cpu += after - before_cpu
            statements += counter.count - before_sql
            done += 1
            last = target.endswith("/done")
            for step, spent in zip(
                STEPS[2:] if last else STEPS[:2],
                (between - before_cpu, after - between),
                strict=True,
            ):
                steps[step][0] += spent
                steps[step][1] += 1
            if last:
                break
            location = target
    return CpuFigures(cpu / done * 1000, statements / done, done, steps)


_INPUT = re.compile(r"<input\b([^>]*)>", re.S)


def _bare_form(text: str, n: int) -> dict[str, str]:
    form = {}
    for tag in _INPUT.findall(text):
        attrs = attributes(tag)
        form[attrs["name"]] = attrs.get("value") if attrs.get("type") == "hidden" else str(n)
    form["action"] = "next"
    return form


# --- under gunicorn: throughput ------------------------------------------------------------


@dataclass
class ClientLog:
    submits: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _ankieta_client(port: int, tokens: list[str], lock: threading.Lock, deadline: float, log):
    today = date.today()
    while time.perf_counter() < deadline:
        with lock:
            if not tokens:
                return
            token = tokens.pop()
        variant = len(log.submits) % 2
        try:
            _one_questionnaire(
                Browser(port),
                f"/r/{token}",
                lambda text, variant=variant: fill_form(text, variant, today)[0],
                deadline,
                log,
            )
        except Exception as exc:  # noqa: BLE001 - counted and shown
            log.failures.append(f"{type(exc).__name__}: {exc}")


def _bare_client(port: int, tokens: list[str], lock: threading.Lock, deadline: float, log):
    """As ``_ankieta_client``: whole questionnaires (the bare page's one link again)."""
    with lock:
        token = tokens.pop()
    browser = Browser(port)

    def fill(text: str) -> dict[str, list[str]]:
        return {k: [v] for k, v in _bare_form(text, len(log.submits)).items()}

    try:
        while time.perf_counter() < deadline:
            if not _one_questionnaire(browser, f"/b/{token}", fill, deadline, log):
                return
    except Exception as exc:  # noqa: BLE001 - counted and shown
        log.failures.append(f"{type(exc).__name__}: {exc}")


def _one_questionnaire(browser: Browser, link: str, fill, deadline: float, log) -> bool:
    """A respondent's questionnaire until its thank-you page or the deadline: the link's
    page, Start, then each submit (POST and the next page's GET) timed into ``log``.
    False when a POST was refused (counted as a failure)."""
    _, _, text, _ = browser.request("GET", link)
    _, location, _, _ = browser.request("POST", f"{link}/start", {"csrf_token": [csrf_token(text)]})
    _, _, text, _ = browser.request("GET", location)
    while time.perf_counter() < deadline:
        form = fill(text)
        start = time.perf_counter()
        status, target, _, _ = browser.request("POST", location, form)
        if status not in (302, 303):
            log.failures.append(f"POST {status}")
            return False
        _, _, text, _ = browser.request("GET", target)
        log.submits.append(time.perf_counter() - start)
        if target.endswith("/done"):
            break
        location = target
    return True


def throughput(target, port: int, tokens: list[str], clients: int, seconds: float):
    logs = [ClientLog() for _ in range(clients)]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    threads = [
        threading.Thread(target=target, args=(port, tokens, lock, deadline, log), daemon=True)
        for log in logs
    ]
    start, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    submits = [t for log in logs for t in log.submits]
    failures = [f for log in logs for f in log.failures]
    client_ms = cpu / max(1, len(submits)) * 1000  # the load generator's own CPU per submit
    return len(submits) / wall, submits, failures, client_ms


# --- the run ------------------------------------------------------------------------------


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _summary(values: list[float]) -> str:
    return f"min {min(values):.2f}, median {statistics.median(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="pairs of each measurement")
    parser.add_argument("--submits", type=int, default=300, help="in-process submits per run")
    parser.add_argument("--seconds", type=float, default=20.0, help="gunicorn phase length")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (gunicorn)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--skip-gunicorn", action="store_true", help="CPU figures only")
    parser.add_argument("--skip-cpu", action="store_true", help="throughput figures only")
    parser.add_argument("--log", default="", help="append gunicorn's log to this file")
    args = parser.parse_args()
    print(f"load average before: {load_average()} (1, 5, 15 min; {os.cpu_count()} cores)")

    from app import create_app

    with scratch_database(args.backend) as url:
        rows = args.repeat * (args.submits // 3 + 20) + args.repeat * args.clients * 20 + 200
        tokens = seed_ankieta(url, rows)
        bare_tokens = seed_bare(url, args.repeat * (args.clients + args.submits // BLOCK + 2) + 10)
        print(f"[{args.backend}] seeded {len(tokens)} links")

        if not args.skip_cpu:
            secret = os.urandom(32).hex()
            ankieta = create_app({"DATABASE_URL": url, "SECRET_KEY": secret})
            bare = create_bare(url, secret)
            cpu_ankieta(ankieta, tokens, 30)  # warm up: caches, templates, statement cache
            cpu_bare(bare, bare_tokens, 30)
            a_ms, b_ms, ratios = [], [], []
            for n in range(args.repeat):
                # Small blocks taken in turn, so that both see the same moments of the
                # machine's load; the ratio is of the sums.
                a_cpu = b_cpu = a_sql = b_sql = 0.0
                a_n = b_n = 0
                a_steps: dict[str, list[float]] = {step: [0.0, 0] for step in STEPS}
                b_steps: dict[str, list[float]] = {step: [0.0, 0] for step in STEPS}
                for _block in range(max(1, args.submits // BLOCK)):
                    a = cpu_ankieta(ankieta, tokens, BLOCK)
                    b = cpu_bare(bare, bare_tokens, BLOCK)
                    a_cpu += a.per_submit_ms * a.submits
                    a_sql += a.statements * a.submits
                    a_n += a.submits
                    b_cpu += b.per_submit_ms * b.submits
                    b_sql += b.statements * b.submits
                    b_n += b.submits
                    for figures, into in ((a, a_steps), (b, b_steps)):
                        for step, (spent, count) in figures.steps.items():
                            into[step][0] += spent
                            into[step][1] += count
                a_ms.append(a_cpu / a_n)
                b_ms.append(b_cpu / b_n)
                ratios.append(a_ms[-1] / b_ms[-1])
                print(
                    f"  cpu run {n + 1}: ankieta {a_ms[-1]:.2f} ms/submit "
                    f"({a_sql / a_n:.1f} SQL), bare {b_ms[-1]:.2f} ms/submit "
                    f"({b_sql / b_n:.1f} SQL), ratio {ratios[-1]:.2f} [load {load_average()}]"
                )
                print(_steps_line(a_steps, b_steps, a_n, b_n))
            print(
                f"bare_page cpu {args.backend}: ankieta ms/submit {_summary(a_ms)}; bare "
                f"{_summary(b_ms)}; ratio {_summary(ratios)} (goal <= {TARGET_CPU_RATIO})"
            )

        if not args.skip_gunicorn:
            a_rate, b_rate, ratios = [], [], []
            log = Path(args.log) if args.log else None
            for n in range(args.repeat):
                with gunicorn_server(url, workers=args.workers, log_path=log) as server:
                    rate_a, times_a, fail_a, client_a = throughput(
                        _ankieta_client, server.port, tokens, args.clients, args.seconds
                    )
                with gunicorn_server(
                    url,
                    workers=args.workers,
                    app="bench.bare_page:create_bare()",
                    log_path=log,
                ) as server:
                    rate_b, times_b, fail_b, client_b = throughput(
                        _bare_client, server.port, bare_tokens, args.clients, args.seconds
                    )
                a_rate.append(rate_a)
                b_rate.append(rate_b)
                ratios.append(rate_a / rate_b)
                print(
                    f"  gunicorn run {n + 1}: ankieta {rate_a:.1f} submits/s "
                    f"(p95 {_p95(times_a):.0f} ms), bare {rate_b:.1f} submits/s "
                    f"(p95 {_p95(times_b):.0f} ms), ratio {ratios[-1]:.2f}; client CPU "
                    f"{client_a:.1f} / {client_b:.1f} ms per submit"
                    f"{_failures(fail_a + fail_b)} [load {load_average()}]"
                )
            print(
                f"bare_page throughput {args.backend}: ankieta submits/s {_summary(a_rate)}; "
                f"bare {_summary(b_rate)}; ratio {_summary(ratios)} "
                f"(goal >= {TARGET_THROUGHPUT_RATIO})"
            )
    print(f"load average after: {load_average()}")


def _steps_line(
    ankieta: dict[str, list[float]], bare: dict[str, list[float]], a_n: int, b_n: int
) -> str:
    """Each step's CPU per request (Ankieta / bare) and its share of the difference per
    submit (the steps' totals divided by the submits: the last page's steps come once a
    questionnaire)."""
    gap = sum(ankieta[s][0] for s in STEPS) / a_n - sum(bare[s][0] for s in STEPS) / b_n
    parts = []
    for step in STEPS:
        (a_spent, a_count), (b_spent, b_count) = ankieta[step], bare[step]
        if not a_count or not b_count:
            continue
        share = (a_spent / a_n - b_spent / b_n) / gap if gap > 0 else float("nan")
        parts.append(
            f"{step} {a_spent / a_count * 1000:.2f} / {b_spent / b_count * 1000:.2f} ms"
            f" ({share:.0%} of the difference)"
        )
    return "    per request, ankieta / bare: " + "; ".join(parts)


def _p95(times: list[float]) -> float:
    if len(times) < 2:
        return float("nan")
    return statistics.quantiles(times, n=100, method="inclusive")[94] * 1000


def _failures(failures: list[str]) -> str:
    if not failures:
        return ""
    return f", {len(failures)} FAILURES (first: {failures[0]})"


if __name__ == "__main__":
    main()
