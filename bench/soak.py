"""Soak test: minutes of mixed load on gunicorn -- respondents, interviewers and an analyst.

Run it from the repository root (not in CI)::

    .venv/bin/python bench/soak.py --minutes 10 [--respondents 50] [--interviewers 10]
        [--workers 2] [--backend postgresql|sqlite]

It

1. migrates a scratch database (PostgreSQL on 127.0.0.1:5432, dropped at the end; or
   SQLite in a temporary directory), loads ``surveys/monitoring_cis_kis.yaml``, creates an
   open fieldwork that may be called at any hour, adds ``--demo`` demo responses (so the
   exports have rows), imports a sample: one part for the respondents' personal links (their
   cases are excluded from the call queue, so the two groups do not meet), the other for
   the interviewers' cases; creates the interviewers (all on the fieldwork's team) and an
   analyst;
2. starts gunicorn (``--workers`` sync workers on a free loopback port);
3. for ``--minutes`` runs, all at once, over HTTP:

   - ``--respondents`` threads, each filling the questionnaire page by page through its
     personal link with a pause of 2-5 s (seeded random) before sending each page, then
     taking a fresh link; every acknowledged page (a redirect) is recorded with the
     fields it carried;
   - ``--interviewers`` threads, each logged in through /login and looping: next case,
     open it, dial, then an outcome (mostly no answer or busy, some appointments, some
     complete phone interviews page by page), with a pause of 1-3 s between steps; every
     recorded call is remembered;
   - one analyst, logged in, asking every minute for the responses workbook, polling its
     status until it is ready, downloading it and counting its rows with openpyxl (they
     must lie between the number of responses before the request and after the file
     was ready);
   - a sampler reading the RSS (VmRSS) of every gunicorn worker and the load average
     every few seconds;

4. stops gunicorn and checks: no errors (any 5xx, unexpected status, exception, refused
   form, worker restart, or error line in gunicorn's log); no lost answers (every field of
   every acknowledged page is in ``response.answers``, every completion is stored, every
   save is counted in the response's revision); every call an interviewer saw recorded is
   in the ``call`` table with its outcome.

It prints a table of latencies per kind of request (p50/p95/max), each worker's RSS at the
start (after a warm-up), half-way, at the end, at its highest and once a minute, the load
average, the counts, and every error. The exit status is 1 if anything went wrong or
anything was lost.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import secrets
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.demo.data import create_demo_responses  # noqa: E402
from app.domain.dates import WARSAW  # noqa: E402
from app.fieldwork.services import create_fieldwork, import_sample  # noqa: E402
from app.models.audit import AuditEvent  # noqa: E402
from app.models.cati import Call, Case, Outcome  # noqa: E402
from app.models.fieldwork import (  # noqa: E402
    Fieldwork,
    FieldworkInterviewer,
    Response,
    ResponseStatus,
    SampleUnit,
)
from app.models.jobs import ExportJob  # noqa: E402
from app.models.users import Role, User  # noqa: E402
from app.platform.accounts import create_user  # noqa: E402 - needs the path above
from app.platform.db import make_engine  # noqa: E402
from app.surveys.services import load_file  # noqa: E402
from bench._load import (  # noqa: E402
    ANSWERS_VARIANT,
    ERROR_IDS,
    REQUEST_TIMEOUT,
    Browser,
    csrf_token,
    fill_form,
    missing_answers,
    percentile_ms,
    sample_csv,
)
from bench._server import (  # noqa: E402
    ROOT,
    ankieta_worker,
    gunicorn_server,
    rss_kib,
    scratch_database,
    worker_pids,
)

SURVEY_FILE = ROOT / "surveys" / "monitoring_cis_kis.yaml"
SURVEY_CODE = "monitoring_cis_kis"
ALWAYS = "pn-nd 0:00-23:59"  # the run must not stop at the end of office hours
PASSWORD = secrets.token_urlsafe(16)  # of every account of the scratch database
EXPORT_EVERY = 60.0  # seconds between the analyst's files
EXPORT_TIMEOUT = 180.0  # a file not ready by then is an error
SAMPLE_EVERY = 5.0  # seconds between RSS samples
MAX_ERRORS_PER_CLIENT = 50  # past this the server is down, not slow; stop that client
REDIRECT = (302, 303)
_CASE = re.compile(r"^/cati/case/(\d+)$")
_PHONE = re.compile(r'name="phone_id" value="(\d+)"')

ABUSER, VICTIM = "napastnik", "ofiara"
ABUSER_ADDRESS = "198.51.100.7"  # its X-Forwarded-For (the server trusts one proxy)
ABUSE_EVERY = 2.0  # seconds between the abuser's hostile requests

# Interviewers' outcomes after dialling, with their weights ("interview": a phone interview).
OUTCOME_MIX = [("no_answer", 45), ("busy", 25), ("appointment", 15), ("interview", 15)]


# --- seeding ---------------------------------------------------------------------------------


@dataclass
class Seeded:
    fieldwork_id: int
    tokens: list[str]  # the respondents' personal links
    cases: int
    interviewers: list[str]
    analyst: str
    demo: int


def seed(url: str, links: int, cases: int, interviewers: int, demo: int) -> Seeded:
    """The survey, an open fieldwork with its sample, demo responses and the accounts."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    try:
        with Session(engine) as session:
            loaded = load_file(session, SURVEY_FILE)
            if not loaded.ok:
                raise SystemExit(f"{SURVEY_FILE.name} does not load: {loaded.problems}")
            fieldwork = create_fieldwork(
                session,
                SURVEY_CODE,
                "Monitoring CIS/KIS (soak test)",
                closes_on=date.today() + timedelta(days=60),
            )
            fieldwork.calling_hours = ALWAYS
            made = create_demo_responses(session, fieldwork, demo, seed=7, now=now)
            imported = import_sample(
                session, fieldwork, sample_csv(links + cases), "proba.csv", now=now
            )
            if not imported.ok:
                raise SystemExit(f"sample refused: {[p.message for p in imported.problems[:5]]}")
            fieldwork.open(now)
            session.flush()
            units = session.execute(
                select(SampleUnit.id, SampleUnit.token)
                .where(SampleUnit.fieldwork_id == fieldwork.id)
                .where(SampleUnit.external_id.in_([f"{n:06d}" for n in range(1, links + 1)]))
                .order_by(SampleUnit.id)
            ).all()
            # the respondents' institutions are not called: the two groups must not meet
            session.execute(
                update(Case)
                .where(Case.sample_unit_id.in_([unit_id for unit_id, _ in units]))
                .values(excluded=True)
            )
            names = [f"ankieter{n:02d}" for n in range(interviewers)]
            for name in names:
                user, _ = create_user(
                    session, name, Role.INTERVIEWER, password=PASSWORD, must_change_password=False
                )
                session.flush()
                session.add(FieldworkInterviewer(fieldwork_id=fieldwork.id, user_id=user.id))
            create_user(
                session, "analityk", Role.ANALYST, password=PASSWORD, must_change_password=False
            )
            # the abuser's own account, and the account it guesses the password of
            create_user(
                session, ABUSER, Role.ANALYST, password=PASSWORD, must_change_password=False
            )
            create_user(
                session, VICTIM, Role.INTERVIEWER, password=PASSWORD, must_change_password=False
            )
            session.commit()
            return Seeded(
                fieldwork.id, [token for _, token in units], cases, names, "analityk", made.created
            )
    finally:
        engine.dispose()


# --- what the clients saw ---------------------------------------------------------------------


@dataclass
class Filled:
    """One questionnaire a client filled (a respondent's link or a phone interview)."""

    variant: int
    token: str = ""  # the personal link, for a respondent
    case_id: int = 0  # the case, for an interviewer
    accepted: int = 0  # page POSTs answered with a redirect
    completed: bool = False
    pages: list[tuple[str, list[str]]] = field(default_factory=list)  # (page, fields sent)


@dataclass
class ClientLog:
    """One client thread's measurements (merged after the run; no locking needed)."""

    name: str
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    filled: list[Filled] = field(default_factory=list)
    calls: list[tuple[int, str]] = field(default_factory=list)  # (case id, outcome code)
    counts: Counter = field(default_factory=Counter)

    def error(self, text: str) -> None:
        self.errors.append(f"{self.name}: {text}")


class Stop(Exception):
    """A client met an answer it cannot go on from (already logged as an error)."""


class Client:
    """A browser that times every request under a kind and logs any unexpected answer."""

    def __init__(self, port: int, log: ClientLog) -> None:
        self.browser = Browser(port)
        self.log = log

    def call(
        self,
        kind: str,
        method: str,
        path: str,
        form: dict[str, list[str]] | None = None,
        expect: tuple[int, ...] = (200,),
        raw: bool = False,
    ) -> tuple[int, str, str | bytes]:
        status, location, body, seconds = self.browser.request_bytes(method, path, form)
        self.log.times[kind].append(seconds)
        if status not in expect:
            text = body.decode("utf-8", "replace")
            detail = ", ".join(ERROR_IDS.findall(text)) if status in (200, 400) else ""
            where = f" -> {location}" if location else ""
            self.log.error(
                f"{kind} {method} {_mask(path)}: HTTP {status}{where}"
                + (f" (errors in: {detail})" if detail else "")
            )
            raise Stop
        return status, location, body if raw else body.decode("utf-8", "replace")


def _mask(path: str) -> str:
    """A personal link's token shortened, so error lines stay readable."""
    return re.sub(r"^/r/([\w-]{6})[\w-]*", r"/r/\1…", path)


@dataclass
class Run:
    port: int
    seeded: Seeded
    deadline: float
    today: date
    links: list[str]
    ramp: float = 0.0  # seconds over which the clients start
    lock: threading.Lock = field(default_factory=threading.Lock)
    exhausted: bool = False

    def over(self) -> bool:
        return time.perf_counter() >= self.deadline

    def next_link(self) -> tuple[int, str] | None:
        with self.lock:
            if not self.links:
                self.exhausted = True
                return None
            number = len(self.seeded.tokens) - len(self.links)
            return number, self.links.pop(0)

    def sleep(self, rng: random.Random, low: float, high: float) -> None:
        """A pause, cut short at the deadline."""
        time.sleep(max(0.0, min(rng.uniform(low, high), self.deadline - time.perf_counter())))


def _guarded(run: Run, log: ClientLog, body) -> None:
    """Run a client's loop; an exception is an error, and too many errors stop the client.

    Clients arrive spread over the first seconds (``run.ramp``), not all at one instant.
    """
    time.sleep(random.Random(log.name).uniform(0.0, run.ramp))  # noqa: S311 - timing only
    while not run.over() and len(log.errors) < MAX_ERRORS_PER_CLIENT:
        try:
            if body() is False:
                return
        except Stop:
            time.sleep(1)  # the error is logged; go on with a fresh start
        except Exception as exc:  # noqa: BLE001 - counted and shown, the run goes on
            log.error(f"{type(exc).__name__}: {exc}")
            if len(log.errors) == 1:
                traceback.print_exc()
            time.sleep(1)


# --- respondents --------------------------------------------------------------------------


def respondent(run: Run, log: ClientLog, seed_value: int) -> None:
    rng = random.Random(seed_value)  # noqa: S311 - timing only

    def one_link() -> bool:
        taken = run.next_link()
        if taken is None:
            return False
        number, token = taken
        record = Filled(variant=number % len(ANSWERS_VARIANT), token=token)
        log.filled.append(record)
        _fill_link(run, Client(run.port, log), record, rng)
        return True

    _guarded(run, log, one_link)


def _fill_link(run: Run, client: Client, record: Filled, rng: random.Random) -> None:
    base = f"/r/{record.token}"
    _, _, text = client.call("start GET", "GET", base)
    _, location, _ = client.call(
        "start POST", "POST", f"{base}/start", {"csrf_token": [csrf_token(text)]}, REDIRECT
    )
    while not run.over():
        _, _, text = client.call("page GET", "GET", location)
        form, _action = fill_form(text, record.variant, run.today)
        run.sleep(rng, 2.0, 5.0)  # reading and answering
        if run.over():
            return  # the respondent leaves the page unsent
        _, target, _ = client.call("page POST", "POST", location, form, REDIRECT)
        record.accepted += 1
        record.pages.append((location.rsplit("/", 1)[-1], [n for n, v in form.items() if any(v)]))
        if target.endswith("/done"):
            record.completed = True
            client.call("thank-you GET", "GET", target)
            client.log.counts["questionnaires completed"] += 1
            return
        location = target


# --- interviewers -------------------------------------------------------------------------


def _login(client: Client, username: str) -> None:
    _, _, text = client.call("login GET", "GET", "/login")
    form = {"csrf_token": [csrf_token(text)], "username": [username], "password": [PASSWORD]}
    client.call("login POST", "POST", "/login", form, REDIRECT)


def interviewer(run: Run, log: ClientLog, username: str, seed_value: int) -> None:
    rng = random.Random(seed_value)  # noqa: S311 - timing only
    client = Client(run.port, log)
    fieldwork_id = run.seeded.fieldwork_id
    state: dict[str, str] = {}

    def one_case() -> None:
        if not state:
            _login(client, username)
            _, _, text = client.call("cati index GET", "GET", "/cati/")
            state["csrf"] = csrf_token(text)
        status, location, text = client.call(
            "next case", "POST", f"/cati/{fieldwork_id}/next", _csrf(state), (200, *REDIRECT)
        )
        if status == 200:  # nothing to call now: the queue is empty
            log.counts["next case: nothing to call"] += 1
            run.sleep(rng, 4.0, 6.0)
            return
        found = _CASE.match(location)
        if found is None:
            log.error(f"next case: redirected to {location}")
            raise Stop
        case_id = int(found.group(1))
        _work_case(run, client, state, case_id, rng)

    _guarded(run, log, one_case)


def _csrf(state: dict[str, str], **fields: str) -> dict[str, list[str]]:
    return {"csrf_token": [state["csrf"]], **{k: [v] for k, v in fields.items()}}


def _work_case(
    run: Run, client: Client, state: dict[str, str], case_id: int, rng: random.Random
) -> None:
    """Open the case, dial, and record an outcome (or interview); runs past the deadline."""
    path = f"/cati/case/{case_id}"
    _, _, text = client.call("case GET", "GET", path)
    state["csrf"] = csrf_token(text)
    phone = _PHONE.search(text)
    time.sleep(rng.uniform(1.0, 3.0))
    dial = _csrf(state, phone_id=phone.group(1) if phone else "")
    client.call("dial", "POST", f"{path}/dial", dial, REDIRECT)
    time.sleep(rng.uniform(1.0, 3.0))
    choice = rng.choices([c for c, _ in OUTCOME_MIX], [w for _, w in OUTCOME_MIX])[0]
    if choice == "interview":
        _interview(run, client, case_id, rng)
        return
    fields = {"outcome": choice, "note": ""}
    if choice == "appointment":
        tomorrow = datetime.now(WARSAW).date() + timedelta(days=1)
        fields.update(
            appointment_date=tomorrow.strftime("%d.%m.%Y"),
            appointment_from="10:00",
            appointment_to="11:00",
            appointment_with="p. Kowalska",
        )
    _, target, _ = client.call(
        "outcome", "POST", f"{path}/outcome", _csrf(state, **fields), REDIRECT
    )
    if not target.endswith("/cati/"):
        client.log.error(f"outcome {choice}: redirected to {target}")
        raise Stop
    client.log.calls.append((case_id, choice))


def _interview(run: Run, client: Client, case_id: int, rng: random.Random) -> None:
    record = Filled(variant=case_id % len(ANSWERS_VARIANT), case_id=case_id)
    client.log.filled.append(record)
    _, location, _ = client.call(
        "interview start", "GET", f"/cati/case/{case_id}/interview", expect=REDIRECT
    )
    for _screen in range(100):
        _, _, text = client.call("interview GET", "GET", location)
        form, _action = fill_form(text, record.variant, run.today)
        time.sleep(rng.uniform(1.0, 3.0))
        _, target, _ = client.call("interview POST", "POST", location, form, REDIRECT)
        record.accepted += 1
        record.pages.append((location.rsplit("/", 1)[-1], [n for n, v in form.items() if any(v)]))
        if target.endswith("/cati/"):
            record.completed = True
            client.log.calls.append((case_id, "complete"))
            client.log.counts["phone interviews completed"] += 1
            return
        location = target
    client.log.error(f"interview of case {case_id} did not end after 100 screens")


# --- the analyst --------------------------------------------------------------------------


def _count_responses(engine, fieldwork_id: int) -> int:
    with Session(engine) as session:
        return session.scalar(
            select(func.count()).select_from(Response).where(Response.fieldwork_id == fieldwork_id)
        )


def analyst(run: Run, log: ClientLog, engine) -> None:
    client = Client(run.port, log)
    fieldwork_id = run.seeded.fieldwork_id
    state: dict[str, float] = {}

    def one_file() -> None:
        if "next" not in state:
            _login(client, run.seeded.analyst)
            state["next"] = time.perf_counter()
        wait = state["next"] - time.perf_counter()
        if wait > 0:
            time.sleep(min(wait, max(0.0, run.deadline - time.perf_counter())))
            if run.over():
                return
        state["next"] += EXPORT_EVERY
        files = f"/fieldwork/{fieldwork_id}/files"
        _, _, text = client.call("files GET", "GET", files)
        before = _count_responses(engine, fieldwork_id)
        asked = time.perf_counter()
        form = {
            "csrf_token": [csrf_token(text)],
            "kind": ["responses"],
            "language": [""],
            "subregion": [""],
            "by": [""],
            "compare": [""],
        }
        _, job, _ = client.call("export request", "POST", files, form, REDIRECT)
        status: dict = {}
        while time.perf_counter() - asked < EXPORT_TIMEOUT:
            _, _, text = client.call("export status", "GET", f"{job}/status")
            status = json.loads(text)
            if status["state"] in ("done", "failed"):
                break
            time.sleep(1.0)
        if status.get("state") != "done":
            log.error(f"export {job}: {status.get('state')} {status.get('error', '')}".strip())
            raise Stop
        ready = time.perf_counter()
        after = _count_responses(engine, fieldwork_id)
        _, _, body = client.call("download", "GET", status["download"], raw=True)
        log.times["export ready (request to done)"].append(ready - asked)
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        rows = sum(1 for _ in book["Odpowiedzi"].iter_rows(min_row=2, values_only=True))
        book.close()
        log.counts["exports downloaded"] += 1
        log.counts["export rows (last)"] = rows
        if not before <= rows <= after:
            log.error(f"export {job}: {rows} rows, but {before} responses before, {after} after")

    _guarded(run, log, one_file)


# --- memory and load ------------------------------------------------------------------------


@dataclass
class Samples:
    rss: dict[int, list[tuple[float, int]]] = field(default_factory=lambda: defaultdict(list))
    workers: list[list[int]] = field(default_factory=list)
    load: list[tuple[float, float, float]] = field(default_factory=list)


def sampler(master: int, run: Run, samples: Samples, started: float) -> None:
    while True:
        moment = time.perf_counter() - started
        pids = worker_pids(master)
        samples.workers.append(pids)
        for pid in pids:
            rss = rss_kib(pid)
            if rss is not None:
                samples.rss[pid].append((moment, rss))
        load = Path("/proc/loadavg").read_text().split()[:3]
        samples.load.append(tuple(float(x) for x in load))  # type: ignore[arg-type]
        if run.over():
            return
        time.sleep(min(SAMPLE_EVERY, max(0.0, run.deadline - time.perf_counter())))


# --- checking the database ------------------------------------------------------------------


@dataclass
class Verdict:
    pages: int = 0
    fields: int = 0
    lost_answers: int = 0
    lost_saves: int = 0
    extra_saves: int = 0
    lost_completions: int = 0
    calls_seen: int = 0
    lost_calls: int = 0
    extra_calls: int = 0
    open_calls: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.lost_answers + self.lost_saves + self.lost_completions + self.lost_calls


def verify(url: str, seeded: Seeded, logs: list[ClientLog]) -> Verdict:
    verdict = Verdict()
    filled = [f for log in logs for f in log.filled if f.accepted]
    engine = make_engine(url)
    today = date.today()
    try:
        with Session(engine) as session:
            unit_of_case = dict(
                session.execute(
                    select(Case.id, Case.sample_unit_id).where(
                        Case.fieldwork_id == seeded.fieldwork_id
                    )
                ).all()
            )
            unit_of_token = dict(
                session.execute(
                    select(SampleUnit.token, SampleUnit.id).where(
                        SampleUnit.fieldwork_id == seeded.fieldwork_id
                    )
                ).all()
            )
            for record in filled:
                unit_id = (
                    unit_of_token[record.token] if record.token else unit_of_case[record.case_id]
                )
                unit = session.get(SampleUnit, unit_id)
                response = session.scalar(
                    select(Response).where(Response.sample_unit_id == unit_id)
                )
                name = record.token[:6] + "…" if record.token else f"case {record.case_id}"
                verdict.pages += len(record.pages)
                verdict.fields += sum(
                    len([n for n in names if n not in ("csrf_token", "revision", "action")])
                    for _, names in record.pages
                )
                if response is None:
                    verdict.lost_saves += record.accepted
                    verdict.examples.append(f"{name}: no response stored")
                    continue
                expected = record.accepted + (1 if record.completed else 0)
                if response.revision < expected:
                    verdict.lost_saves += expected - response.revision
                    verdict.examples.append(f"{name}: revision {response.revision} < {expected}")
                elif response.revision > expected:
                    verdict.extra_saves += response.revision - expected
                    verdict.examples.append(f"{name}: revision {response.revision} > {expected}")
                if record.completed and response.status != ResponseStatus.COMPLETE:
                    verdict.lost_completions += 1
                    verdict.examples.append(f"{name}: completed, stored as {response.status}")
                missing = missing_answers(response, unit, record.pages, today)
                if missing:
                    verdict.lost_answers += missing
                    verdict.examples.append(f"{name}: {missing} fields missing")
            # the calls: what each interviewer saw recorded against the call table
            users = dict(session.execute(select(User.username, User.id)).all())
            for log in logs:
                if not log.name.startswith("ankieter"):
                    continue
                seen = Counter(log.calls)
                verdict.calls_seen += len(log.calls)
                stored_rows = session.execute(
                    select(Call.case_id, Outcome.code, Outcome.is_complete)
                    .join(Outcome, Outcome.id == Call.outcome_id, isouter=True)
                    .where(Call.interviewer_id == users[log.name])
                ).all()
                stored: Counter = Counter()
                for case_id, code, is_complete in stored_rows:
                    if code is None:
                        verdict.open_calls += 1
                    else:
                        stored[(case_id, "complete" if is_complete else code)] += 1
                lost = seen - stored
                extra = stored - seen
                verdict.lost_calls += sum(lost.values())
                verdict.extra_calls += sum(extra.values())
                for (case_id, code), n in list(lost.items())[:3]:
                    verdict.examples.append(
                        f"{log.name}: call on case {case_id} ({code}) x{n} lost"
                    )
                for (case_id, code), n in list(extra.items())[:3]:
                    verdict.examples.append(
                        f"{log.name}: call on case {case_id} ({code}) x{n} not seen recorded"
                    )
    finally:
        engine.dispose()
    return verdict


# --- the abuser ------------------------------------------------------------------------------


def abuser(run: Run, log: ClientLog, token: str) -> None:
    """The hostile inputs of issue 16, over and over, with bursts of failed logins.

    Each must be refused without a 5xx (what it changed, if anything, is checked at the end
    by ``verify_abuse``). It comes from its own address (X-Forwarded-For behind the one
    trusted proxy), as an attacker would, so its failed logins throttle only that address.
    """
    rng = random.Random(99)  # noqa: S311 - timing only
    fieldwork_id = run.seeded.fieldwork_id
    headers = {"X-Forwarded-For": ABUSER_ADDRESS}
    anonymous = Client(run.port, log)
    anonymous.browser.headers.update(headers)
    me = Client(run.port, log)
    me.browser.headers.update(headers)
    respondent = Client(run.port, log)
    state: dict[str, str] = {}

    def hostile(kind: str, client: Client, method: str, path: str, fields: dict, expect) -> str:
        form = None
        if method == "POST":
            form = {"csrf_token": [state.get(id(client), "")], **fields}
        status, location, text = client.call(f"abuse: {kind}", method, path, form, expect)
        log.counts["hostile requests"] += 1
        log.counts[f"hostile {kind}"] += 1
        return location or text

    def token_of(client: Client, path: str) -> None:
        _, _, text = client.call("abuse: page GET", "GET", path)
        state[id(client)] = csrf_token(text)

    def one_round() -> None:
        if not state:
            token_of(anonymous, "/login")
            token_of(respondent, f"/r/{token}")
            # a newline in next= is no redirect target (it used to be a 500)
            token_of(me, "/login")
            landed = hostile(
                "login next=CRLF",
                me,
                "POST",
                "/login?next=/%0D%0A//evil.example",
                {"username": [ABUSER], "password": [PASSWORD]},
                REDIRECT,
            )
            if landed != "/":
                log.error(f"login with a CRLF next= went to {landed!r}")
            token_of(me, f"/fieldwork/{fieldwork_id}")
        # a burst of failed logins: the victim's account, then made-up names
        for n in range(8):
            name = VICTIM if n % 2 else f"admin{rng.randrange(1000)}"
            hostile(
                "failed login",
                anonymous,
                "POST",
                "/login",
                {"username": [name], "password": [secrets.token_hex(6)]},
                (200,),
            )
        for kind, client, method, path, fields, expect in [
            ("NUL login", anonymous, "POST", "/login", {"username": ["ad\x00min"]}, (400,)),
            (
                "NUL answer",
                respondent,
                "POST",
                f"/r/{token}/start",
                {"a1": ["x\x00y"]},
                (400,),
            ),
            (
                "NUL retention",
                me,
                "POST",
                f"/fieldwork/{fieldwork_id}/retention",
                {"until": ["2030-01-01\x00"]},
                (400,),
            ),
            (
                "date 0001-01-01",
                me,
                "POST",
                f"/fieldwork/{fieldwork_id}/files",
                {"kind": ["responses"], "date_from": ["0001-01-01"]},
                (400,),
            ),
            (
                "retention 0001-01-01",
                me,
                "POST",
                f"/fieldwork/{fieldwork_id}/retention",
                {"until": ["0001-01-01"]},
                REDIRECT,
            ),
            (
                "ESC in a filter",
                me,
                "GET",
                f"/fieldwork/{fieldwork_id}?subregion=a%1Bb",
                {},
                (400,),
            ),
        ]:
            hostile(kind, client, method, path, fields, expect)
        run.sleep(rng, ABUSE_EVERY, ABUSE_EVERY * 1.5)

    _guarded(run, log, one_round)


def verify_abuse(url: str, seeded: Seeded, log: ClientLog) -> list[str]:
    """What the refused requests must not have changed."""
    problems: list[str] = []
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            fieldwork = session.get(Fieldwork, seeded.fieldwork_id)
            if fieldwork.retain_contacts_until is not None:
                problems.append(f"retention date set to {fieldwork.retain_contacts_until}")
            mine = session.scalar(select(User).where(User.username == ABUSER))
            jobs = session.scalar(
                select(func.count()).select_from(ExportJob).where(ExportJob.user_id == mine.id)
            )
            if jobs:
                problems.append(f"{jobs} results files made from refused requests")
            victim = session.scalar(select(User).where(User.username == VICTIM))
            if victim.last_login_at is not None:
                problems.append("the victim's account was logged into")
            texts = session.scalars(select(Case.notes).where(Case.notes != "")).all()
            texts += session.scalars(select(Call.note).where(Call.note != "")).all()
            if any(any(ord(c) < 32 and c not in "\t\n\r" for c in t) for t in texts):
                problems.append("a control character was stored in a note")
            answers = session.scalars(
                select(Response.answers).where(Response.fieldwork_id == seeded.fieldwork_id)
            ).all()
            if any("\x00" in json.dumps(a, ensure_ascii=False) for a in answers):
                problems.append("a NUL was stored in an answer")
            failed = session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "auth.login_failed", AuditEvent.ip == ABUSER_ADDRESS)
            )
            log.counts["failed logins recorded"] = failed or 0
            legit = session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "auth.login_failed", AuditEvent.ip != ABUSER_ADDRESS)
            )
            if legit:
                problems.append(f"{legit} failed logins from the legitimate users' address")
    finally:
        engine.dispose()
    return problems


# --- the run and its report -----------------------------------------------------------------


def soak(args: argparse.Namespace) -> bool:
    seconds = args.minutes * 60
    links = args.links or int(args.respondents * (seconds / 20 + 2))
    cases = args.cases or int(args.interviewers * (seconds / 3 + 5))
    with scratch_database(args.backend) as url, tempfile.TemporaryDirectory() as scratch:
        t0 = time.perf_counter()
        seeded = seed(url, links, cases, args.interviewers, args.demo)
        print(
            f"[{args.backend}] seeded {len(seeded.tokens)} links, {cases} cases, "
            f"{seeded.demo} demo responses, {args.interviewers} interviewers in "
            f"{time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        log_path = Path(args.log_dir or scratch) / f"gunicorn-soak-{args.backend}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        engine = make_engine(url)
        # one secret for the servers and the worker; the worker builds the analyst's files;
        # the abuser's X-Forwarded-For is its address (one proxy in front)
        shared = {"ANKIETA_SECRET_KEY": secrets.token_hex(32), "ANKIETA_PROXY_COUNT": "1"}
        if args.backend == "sqlite":  # the queue beside the scratch database, not instance/
            shared["ANKIETA_QUEUE_URL"] = f"sqlite:///{Path(scratch) / 'queue.db'}"
        with (
            gunicorn_server(
                url, workers=args.workers, log_path=log_path, extra_env=shared
            ) as server,
            ankieta_worker(url, extra_env=shared, log_path=Path(scratch) / "worker-soak.log"),
        ):
            started = time.perf_counter()
            run = Run(
                server.port,
                seeded,
                started + seconds,
                date.today(),
                list(seeded.tokens),
                ramp=min(10.0, seconds / 6),
            )
            samples = Samples()
            logs: list[ClientLog] = []
            threads: list[threading.Thread] = []
            for n in range(args.respondents):
                log = ClientLog(f"respondent{n:02d}")
                logs.append(log)
                threads.append(threading.Thread(target=respondent, args=(run, log, args.seed + n)))
            for n, name in enumerate(seeded.interviewers):
                log = ClientLog(name)
                logs.append(log)
                threads.append(
                    threading.Thread(
                        target=interviewer, args=(run, log, name, args.seed + 1000 + n)
                    )
                )
            analyst_log = ClientLog("analityk")
            logs.append(analyst_log)
            threads.append(threading.Thread(target=analyst, args=(run, analyst_log, engine)))
            abuse_log = ClientLog(ABUSER)
            if not args.no_abuse:
                abuse_token = run.links.pop()  # a personal link of its own
                threads.append(threading.Thread(target=abuser, args=(run, abuse_log, abuse_token)))
            threads.append(
                threading.Thread(target=sampler, args=(server.pid, run, samples, started))
            )
            for thread in threads:
                thread.daemon = True
                thread.start()
            print(
                f"running for {args.minutes:g} min: {args.respondents} respondents, "
                f"{args.interviewers} interviewers, 1 analyst, {args.workers} gunicorn workers",
                flush=True,
            )
            for thread in threads:
                thread.join(seconds + EXPORT_TIMEOUT + 10 * REQUEST_TIMEOUT)
            stragglers = [t for t in threads if t.is_alive()]
            wall = time.perf_counter() - started
            end_pids = worker_pids(server.pid)
        engine.dispose()
        log_errors = [
            line.strip()
            for line in log_path.read_text(errors="replace").splitlines()
            if any(mark in line for mark in ("[ERROR]", "[CRITICAL]", "Traceback", "TIMEOUT"))
        ]
        verdict = verify(url, seeded, logs)
        abuse_changes = [] if args.no_abuse else verify_abuse(url, seeded, abuse_log)
    ok = report(args, logs, samples, verdict, wall, run, end_pids, log_errors, stragglers)
    if args.no_abuse:
        return ok
    hostile = abuse_log.counts["hostile requests"]
    print(
        f"  abuse ({ABUSER_ADDRESS}): {hostile} hostile requests "
        + ", ".join(
            f"{k.removeprefix('hostile ')} {v}"
            for k, v in sorted(abuse_log.counts.items())
            if k.startswith("hostile ") and k != "hostile requests"
        )
        + f"; {abuse_log.counts['failed logins recorded']} failed logins recorded; "
        f"unexpected answers {len(abuse_log.errors)}; changes by refused requests "
        f"{len(abuse_changes)}"
    )
    for line in [*abuse_log.errors[:10], *abuse_changes]:
        print(f"    {line}")
    return ok and not abuse_log.errors and not abuse_changes


def report(
    args: argparse.Namespace,
    logs: list[ClientLog],
    samples: Samples,
    verdict: Verdict,
    wall: float,
    run: Run,
    end_pids: list[int],
    log_errors: list[str],
    stragglers: list[threading.Thread],
) -> bool:
    times: dict[str, list[float]] = defaultdict(list)
    counts: Counter = Counter()
    for log in logs:
        for kind, values in log.times.items():
            times[kind].extend(values)
        counts.update({k: v for k, v in log.counts.items() if k != "export rows (last)"})
    errors = [e for log in logs for e in log.errors]
    requests = sum(len(v) for k, v in times.items() if not k.startswith("export ready"))
    print(
        f"\nsoak {args.backend}: {wall:.0f} s, {requests} requests "
        f"({requests / wall:.1f}/s), {args.workers} workers"
    )
    print(f"  {'request':<32}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    order = [
        "page GET",
        "page POST",
        "next case",
        "dial",
        "outcome",
        "interview GET",
        "interview POST",
        "export status",
        "download",
        "export ready (request to done)",
    ]
    for kind in order + sorted(set(times) - set(order)):
        values = times.get(kind, [])
        if not values:
            continue
        print(
            f"  {kind:<32}{len(values):>7}{percentile_ms(values, 50):>9.0f}"
            f"{percentile_ms(values, 95):>9.0f}{max(values) * 1000:>9.0f}"
        )
    warmup = min(60.0, 0.1 * args.minutes * 60)
    print(f"  worker RSS (MiB): start = first sample after {warmup:.0f} s of warm-up")
    start_pids = samples.workers[0] if samples.workers else []
    for pid, points in sorted(samples.rss.items()):
        after = [rss for moment, rss in points if moment >= warmup] or [points[-1][1]]
        # a worker's first exports raise its RSS to where it stays; flat afterwards means
        # the second half of the run adds nothing
        half = next(rss for moment, rss in points if moment >= points[-1][0] / 2)
        print(
            f"    worker {pid}: at 0 s {points[0][1] / 1024:.1f}, start {after[0] / 1024:.1f}, "
            f"half-time {half / 1024:.1f}, end {points[-1][1] / 1024:.1f}, "
            f"max {max(r for _, r in points) / 1024:.1f} (end - start "
            f"{(points[-1][1] - after[0]) / 1024:+.1f}, second half "
            f"{(points[-1][1] - half) / 1024:+.1f}; {len(points)} samples)"
        )
        minutes = [
            next(rss for moment, rss in points if moment >= 60 * m)
            for m in range(int(points[-1][0] // 60) + 1)
            if any(moment >= 60 * m for moment, _ in points)
        ]
        if len(minutes) > 2:  # to tell a leak (steady growth) from a step (one big export)
            print(f"      each minute: {' '.join(f'{rss / 1024:.0f}' for rss in minutes)}")
    if any(pids != start_pids for pids in samples.workers) or end_pids != start_pids:
        errors.append(f"gunicorn workers changed during the run: {start_pids} -> {end_pids}")
    loads = samples.load
    if loads:
        print(
            f"  load average (1 min): start {loads[0][0]:.2f}, end {loads[-1][0]:.2f}, "
            f"max {max(x[0] for x in loads):.2f}; 5 min at the end {loads[-1][1]:.2f} "
            f"(2 cores; the load generator and PostgreSQL share the machine)"
        )
    completed_web = sum(f.completed for log in logs for f in log.filled if f.token)
    used = sum(1 for log in logs for f in log.filled if f.token)
    calls = Counter(code for log in logs for _, code in log.calls)
    print(
        f"  respondents: {used} links used, {completed_web} questionnaires completed; "
        f"interviewers: {sum(calls.values())} calls recorded "
        f"({', '.join(f'{k} {v}' for k, v in sorted(calls.items()))}), "
        f"'nothing to call' {counts['next case: nothing to call']}; "
        f"analyst: {counts['exports downloaded']} workbooks checked "
        f"(the last with {max(log.counts['export rows (last)'] for log in logs)} rows)"
    )
    print(
        f"  lost answers: {verdict.lost} (checked {verdict.pages} acknowledged pages with "
        f"{verdict.fields} fields; saves missing {verdict.lost_saves}, fields missing "
        f"{verdict.lost_answers}, completions missing {verdict.lost_completions}; "
        f"calls: {verdict.calls_seen} seen recorded, {verdict.lost_calls} missing, "
        f"{verdict.extra_calls} unexpected, {verdict.open_calls} left open)"
    )
    if verdict.extra_saves:
        errors.append(f"{verdict.extra_saves} saves stored that no client saw acknowledged")
    for line in verdict.examples[:10]:
        print(f"    {line}")
    if run.exhausted:
        print("  note: the respondents ran out of links; use a larger --links")
    errors += [f"gunicorn log: {line}" for line in log_errors]
    errors += [f"{t.name} did not finish" for t in stragglers]
    print(f"  errors: {len(errors)}")
    for line in errors[:30]:
        print(f"    {line}")
    if len(errors) > 30:
        print(f"    ... and {len(errors) - 30} more")
    return not errors and verdict.lost == 0 and verdict.extra_calls == 0


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the run")
    parser.add_argument("--respondents", type=int, default=50, help="concurrent respondents")
    parser.add_argument("--interviewers", type=int, default=10, help="concurrent interviewers")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument(
        "--backend", choices=["postgresql", "sqlite"], default="postgresql", help="database"
    )
    parser.add_argument("--demo", type=int, default=300, help="demo responses seeded")
    parser.add_argument("--links", type=int, default=0, help="personal links (default: enough)")
    parser.add_argument("--cases", type=int, default=0, help="CATI cases (default: enough)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the pauses and choices")
    parser.add_argument("--log-dir", default="", help="keep gunicorn's log in this directory")
    parser.add_argument("--no-abuse", action="store_true", help="without the hostile client")
    args = parser.parse_args()
    # A plain `kill` must also stop gunicorn and drop the scratch database.
    signal.signal(signal.SIGTERM, _terminate)
    raise SystemExit(0 if soak(args) else 1)


if __name__ == "__main__":
    main()
