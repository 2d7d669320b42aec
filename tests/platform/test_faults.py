"""Faults: the server killed in the middle of page submissions, database connections killed.

* A real gunicorn (2 workers, loopback) on SQLite and on PostgreSQL, 20 respondents filling
  the self-fill form page by page, is killed with SIGKILL (master and workers) once 50 pages
  are saved under load, at a moment when page POSTs are in flight, and started again on the
  same database. Every page whose POST was answered with a redirect must be stored
  exactly; a request in flight at the kill may be lost or stored, but whole; the database
  is consistent and the restarted server sends every respondent on from where they stopped.
* The same server killed while a worker holds a write transaction open (held in the commit
  by a hook): the database opens again, ``ankieta db current`` works, nothing of that
  transaction is stored.
* PostgreSQL: the app's connections terminated by the server (``pg_terminate_backend``),
  between requests and in the middle of one: a request either succeeds or fails with the
  503 page (nothing stored), and the next one succeeds.

The HTTP clients and the form filling are the self-fill benchmark's (bench/selffill.py).
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import gettext
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from app.domain.dates import local_date
from app.domain.questionnaire.answers import answers_from_json, answers_to_json
from app.interview.pages import read_page_post
from app.models.fieldwork import Response, ResponseStatus, SampleUnit
from app.models.surveys import flow_of
from app.platform.db import make_engine
from bench._server import ROOT, gunicorn
from bench.selffill import Browser, fill_form, seed
from tests.support import unit_token

pytestmark = pytest.mark.slow

SAMPLE = 120  # institutions, each with its personal link: more than the load gets through
CLIENTS = 20  # respondents filling at the same time
# Pages saved under load before the kill. The clients move in waves (all GET, then all
# POST): half a wave more puts the kill among the POSTs.
LOAD_PAGES = 2 * CLIENTS + CLIENTS // 2
AHEAD = 4  # respondents walked to the last page before the load: they send it under load
LOAD_LIMIT = 30.0  # seconds: past this without LOAD_PAGES saved, the server is broken
FREEZE = 0.3  # seconds the stopped server is given for answers already written to arrive
KILL_TRIES = 20  # freezes until one catches a POST in flight
ACTIONS = ("next", "back", "later", "submit")
LINK_ERRORS = (OSError, http.client.HTTPException)  # the server went away under the client


def _backend(url: str) -> str:
    return make_url(url).get_backend_name()


# --- what the clients saw ---------------------------------------------------------------------


@dataclass
class Respondent:
    """One personal link as its client saw it: every acknowledged POST, and the one in flight."""

    token: str
    variant: int
    started: bool = False  # POST /start answered with a redirect
    acknowledged: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)
    next_location: str = ""  # where the last acknowledged POST sent the respondent
    completed: bool = False
    in_flight: tuple[str, dict[str, list[str]]] | None = None  # sent, never answered
    unexpected: list[str] = field(default_factory=list)  # any answer but the expected one


def _csrf(page: str) -> str:
    found = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]*)"', page)
    assert found, "the page has no CSRF token"
    return found.group(1)


def _walk(
    browser: Browser,
    respondent: Respondent,
    stop: threading.Event,
    today: date,
    *,
    hold_last: bool = False,
) -> None:
    """Fill the questionnaire page by page (from where the link resumes) until it is sent
    or ``stop`` is set; with ``hold_last``, stop on the last page without sending it."""
    base = f"/r/{respondent.token}"
    status, _, page, _ = browser.request("GET", base)
    if status != 200:
        respondent.unexpected.append(f"GET start: {status}")
        return
    respondent.in_flight = ("start", {})
    status, location, _, _ = browser.request("POST", f"{base}/start", {"csrf_token": [_csrf(page)]})
    respondent.in_flight = None
    if status not in (302, 303):
        respondent.unexpected.append(f"POST start: {status}")
        return
    respondent.started, respondent.next_location = True, location
    while not stop.is_set():
        status, _, page, _ = browser.request("GET", location)
        if status != 200:
            respondent.unexpected.append(f"GET {location}: {status}")
            return
        form, action = fill_form(page, respondent.variant, today)
        if hold_last and action == "submit":
            return
        page_id = location.rsplit("/", 1)[-1]
        respondent.in_flight = (page_id, form)
        status, target, _, _ = browser.request("POST", location, form)
        respondent.in_flight = None
        if status not in (302, 303):
            respondent.unexpected.append(f"POST {page_id}: {status}")
            return
        respondent.acknowledged.append((page_id, form))
        respondent.next_location = target
        if target.endswith("/done"):
            respondent.completed = True
            return
        location = target


def _client(
    port: int, links: queue.SimpleQueue[Respondent], stop: threading.Event, today: date
) -> None:
    while not stop.is_set():
        try:
            respondent = links.get_nowait()
        except queue.Empty:
            return
        try:
            _walk(Browser(port), respondent, stop, today)
        except LINK_ERRORS:
            return  # the server was killed: this request is lost, the client stops


# --- the server ---------------------------------------------------------------------------------


@contextmanager
def _server(
    url: str, directory: Path, name: str, *extra: str, workers: int = 1
) -> Iterator[tuple[int, int]]:
    """gunicorn on ``url``: (port, process group id); stopped at the end. The log goes to
    ``directory / name``. (Each worker takes seconds to start on a busy machine: the servers
    that only have to come up again run one.)"""
    pidfile = directory / f"{name}.pid"
    with gunicorn(
        url, workers=workers, extra_args=("--pid", str(pidfile), *extra), log_path=directory / name
    ) as port:
        pgid = os.getpgid(int(pidfile.read_text()))
        assert pgid != os.getpgrp(), "gunicorn must run in its own process group"
        yield port, pgid


def _wait_for_load(respondents: list[Respondent]) -> None:
    start = time.monotonic()
    before = sum(len(r.acknowledged) for r in respondents)
    while True:
        saved = sum(len(r.acknowledged) for r in respondents) - before
        if saved >= LOAD_PAGES:
            return
        elapsed = time.monotonic() - start
        assert elapsed < LOAD_LIMIT, f"only {saved} pages saved in {LOAD_LIMIT:.0f} s of load"
        time.sleep(0.01)


def _kill_with_posts_in_flight(pgid: int, respondents: list[Respondent]) -> None:
    """SIGKILL the server while POSTs are in flight. On a fast machine a sample can be
    filled between two looks, so the server is first frozen (SIGSTOP): whatever it already
    answered reaches its client, and a request still unanswered stays so until the kill.
    A freeze that catches none lets the server go on (SIGCONT) and tries again."""
    for _ in range(KILL_TRIES):
        os.killpg(pgid, signal.SIGSTOP)
        time.sleep(FREEZE)
        if any(r.in_flight is not None for r in respondents):
            break
        os.killpg(pgid, signal.SIGCONT)
        time.sleep(0.05)
    _kill(pgid)


def _kill(pgid: int) -> None:
    """SIGKILL the master and every worker, and wait until none of them runs any more."""
    os.killpg(pgid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(state != "Z" for state in _group_states(pgid)):  # only the unreaped are left
        assert time.monotonic() < deadline, f"process group {pgid} survived SIGKILL"
        time.sleep(0.05)


def _group_states(pgid: int) -> list[str]:
    """The states (R, S, Z, ...) of the processes in the group, from /proc."""
    states = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        if int(fields[2]) == pgid:  # after the name: state, ppid, pgrp
            states.append(fields[0])
    return states


def _log_problems(log: Path) -> list[str]:
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return [line for line in lines if "Traceback" in line or "ERROR" in line]


# --- what the database holds --------------------------------------------------------------------


def _replay(flow: Any, sample: dict[str, Any], today: date, pages: list) -> dict[str, Any]:
    """The stored JSON the server must have after these page POSTs (checked independently
    with the questionnaire's own flow, page after page, as each request does)."""
    questionnaire = flow.questionnaire
    answers: dict[str, Any] = {}
    for page_id, form in pages:
        post = read_page_post(MultiDict(list(_pairs(form))), ACTIONS)
        assert post is not None
        page = flow.page("web", page_id)
        result = flow.validate_page(
            page, post.fields, answers, mode="web", sample=sample, today=today
        )
        assert result.ok, (page_id, result.errors)
        stored = answers_to_json(questionnaire, result.apply(answers))
        answers = answers_from_json(questionnaire, stored, flow.variables)
    return answers_to_json(questionnaire, answers)


def _pairs(form: dict[str, list[str]]) -> Iterator[tuple[str, str]]:
    for name, values in form.items():
        for value in values:
            yield name, value


@dataclass
class Checked:
    """What the database check found: figures for the report, each response's revision."""

    responses: int = 0
    complete: int = 0
    in_flight_stored: int = 0  # requests interrupted by the kill that were stored (whole)
    revisions: dict[str, int] = field(default_factory=dict)


def _check_database(url: str, respondents: list[Respondent]) -> Checked:
    """Every acknowledged page stored exactly and every response whole and consistent."""
    today = local_date(datetime.now(UTC))
    by_token = {r.token: r for r in respondents}
    checked = Checked()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:  # the JSON as stored, not as the ORM reads it
            raw = dict(connection.execute(text("SELECT id, answers FROM response")).all())
        with Session(engine) as session:
            rows = session.execute(
                select(SampleUnit, Response).outerjoin(
                    Response, Response.sample_unit_id == SampleUnit.id
                )
            ).all()
            assert len(rows) == len(raw) + sum(response is None for _, response in rows)
            for unit, response in rows:
                respondent = by_token[unit.token]
                if response is None:
                    assert not respondent.started, f"{unit.token}: start acknowledged, no response"
                    continue
                checked.responses += 1
                checked.revisions[unit.token] = response.revision
                assert respondent.started or respondent.in_flight, f"{unit.token}: never started"
                stored = raw[response.id]
                stored = json.loads(stored) if isinstance(stored, str) else stored
                assert isinstance(stored, dict), f"response {response.id}: answers {stored!r}"
                assert stored == response.answers
                flow = flow_of(response.survey_version)
                sample = unit.sample_variables()
                pages = respondent.acknowledged
                done = len(pages) + respondent.completed  # one revision per save and submit
                # (answers, revision, complete, last page) the response may be in: exactly
                # as the acknowledged requests left it ...
                outcomes = [
                    (
                        _replay(flow, sample, today, pages),
                        done,
                        respondent.completed,
                        pages[-1][0] if pages else None,
                    )
                ]
                in_flight = respondent.in_flight
                if in_flight is not None and in_flight[0] != "start":
                    # ... or with the request the kill interrupted stored whole: one more
                    # save, or (the last page) the save and the submit.
                    more = _replay(flow, sample, today, [*pages, in_flight])
                    outcomes.append((more, done + 1, False, in_flight[0]))
                    if in_flight[1].get("action") == ["submit"]:
                        outcomes.append((more, done + 2, True, in_flight[0]))
                found = (stored, response.revision, response.is_complete, response.last_page)
                assert found in outcomes, (
                    f"response {response.id} is in none of the states the clients saw:\n"
                    f"stored   {found}\nexpected {outcomes}"
                )
                checked.in_flight_stored += outcomes.index(found) > 0
                if response.is_complete:
                    checked.complete += 1
                    assert response.status == ResponseStatus.COMPLETE.value
                    assert response.completed_at is not None
                    answers = answers_from_json(flow.questionnaire, stored, flow.variables)
                    state = flow.state(answers, sample=sample, today=today)
                    assert flow.is_complete(state), f"response {response.id}: complete, unanswered"
                else:
                    assert response.status == ResponseStatus.IN_PROGRESS.value
                    assert response.completed_at is None
        if _backend(url) == "sqlite":
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
                assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    finally:
        engine.dispose()
    return checked


def _continue(port: int, respondent: Respondent, today: date) -> int:
    """After the restart: the link leads on from the last acknowledged page; send one more.
    The revisions that adds: 0 (already sent), 1 (a page saved) or 2 (saved and sent)."""
    browser = Browser(port)
    base = f"/r/{respondent.token}"
    status, location, _, _ = browser.request("GET", f"{base}/resume")
    assert status == 302, (respondent.token, status)
    if respondent.completed:
        assert location == f"{base}/done"
        return 0
    if respondent.in_flight is None or respondent.in_flight[0] == "start":
        assert location == respondent.next_location, (respondent.token, location)
    if location.endswith("/done"):  # the interrupted request was the submit, and it stayed
        return 0
    status, _, page, _ = browser.request("GET", location)
    assert status == 200, (location, status)
    form, action = fill_form(page, respondent.variant, today)
    status, target, _, _ = browser.request("POST", location, form)
    assert status in (302, 303), (location, status)
    if action == "submit":
        assert target == f"{base}/done", target
        return 2
    assert target.startswith(f"{base}/p/"), target
    return 1


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_server_killed_under_load_loses_no_acknowledged_page(
    database_url: str, tmp_path: Path
) -> None:
    tokens = seed(database_url, SAMPLE)
    respondents = [Respondent(token, variant=n % 2) for n, token in enumerate(tokens)]
    links: queue.SimpleQueue[Respondent] = queue.SimpleQueue()
    for respondent in respondents:
        links.put(respondent)
    today = date.today()
    stop = threading.Event()
    with _server(database_url, tmp_path, "first.log", workers=2) as (port, pgid):
        for respondent in respondents[:AHEAD]:  # all but the last page, one after another
            _walk(Browser(port), respondent, stop, today, hold_last=True)
            assert not respondent.unexpected, respondent.unexpected
        clients = [
            threading.Thread(target=_client, args=(port, links, stop, today), daemon=True)
            for _ in range(CLIENTS)
        ]
        for thread in clients:
            thread.start()
        _wait_for_load(respondents)
        _kill_with_posts_in_flight(pgid, respondents)
        stop.set()
        for thread in clients:
            thread.join(30)
        assert not any(thread.is_alive() for thread in clients)

    assert sum(r.completed for r in respondents) >= AHEAD // 2, "too few questionnaires sent"
    unexpected = [line for r in respondents for line in r.unexpected]
    assert unexpected == [], unexpected  # before the kill every request was answered well
    acknowledged = sum(len(r.acknowledged) for r in respondents)
    in_flight = sum(r.in_flight is not None for r in respondents)
    assert in_flight > 0, "no POST was in flight at the kill: the test proved nothing"

    with _server(database_url, tmp_path, "second.log") as (port, _pgid):
        checked = _check_database(database_url, respondents)
        started = [r for r in respondents if r.started]
        added = {r.token: _continue(port, r, today) for r in started}
    assert _log_problems(tmp_path / "second.log") == []
    continued = _check_continued(database_url, started, added, checked.revisions)
    print(
        f"\n{_backend(database_url)}: {acknowledged} pages acknowledged before the kill "
        f"({sum(r.completed for r in respondents)} questionnaires sent), {in_flight} requests "
        f"in flight, {checked.in_flight_stored} of them stored whole; {checked.responses} "
        f"responses checked ({checked.complete} complete); {continued} continued after restart"
    )


def _check_continued(
    url: str, started: list[Respondent], added: dict[str, int], before: dict[str, int]
) -> int:
    """What each respondent sent after the restart is stored; how many sent something."""
    engine = make_engine(url)
    continued = 0
    try:
        with Session(engine) as session:
            for respondent in started:
                response = session.scalar(
                    select(Response)
                    .join(SampleUnit, SampleUnit.id == Response.sample_unit_id)
                    .where(SampleUnit.token == respondent.token)
                )
                assert response is not None
                more = added[respondent.token]
                assert response.revision == before[respondent.token] + more, respondent.token
                assert response.is_complete is (more != 1), respondent.token  # 0: sent before
                continued += more > 0
    finally:
        engine.dispose()
    return continued


# --- killed with a write transaction open -------------------------------------------------------

HOLD_HOOK = """
import os
import time

from sqlalchemy import event
from sqlalchemy.engine import Engine

HOLD = {hold!r}
HELD = {held!r}


def post_worker_init(worker):
    @event.listens_for(Engine, "commit")
    def hold_the_commit(connection):
        # The transaction has written and is about to commit: keep it open until killed.
        if os.path.exists(HOLD):
            open(HELD, "w").close()
            time.sleep(120)
"""


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_server_killed_with_a_write_transaction_open(database_url: str, tmp_path: Path) -> None:
    hold, held = tmp_path / "hold", tmp_path / "held"
    hook = tmp_path / "hold_hook.py"
    hook.write_text(HOLD_HOOK.format(hold=str(hold), held=str(held)))
    token, other = seed(database_url, 2)
    respondent = Respondent(token, variant=0)
    today = date.today()
    stop = threading.Event()
    with _server(database_url, tmp_path, "first.log", "--config", str(hook)) as (port, pgid):
        browser = Browser(port)
        stop.set()  # one page only
        _walk(browser, respondent, stop, today)
        status, _, page, _ = browser.request("GET", respondent.next_location)
        assert status == 200
        first_page, _ = fill_form(page, respondent.variant, today)
        hold.touch()
        failed: list[BaseException] = []

        def post() -> None:
            try:
                browser.request("POST", respondent.next_location, first_page)
            except LINK_ERRORS as exc:
                failed.append(exc)

        sender = threading.Thread(target=post, daemon=True)
        sender.start()
        deadline = time.monotonic() + 20
        while not held.exists():
            assert time.monotonic() < deadline, "the worker never reached the commit"
            time.sleep(0.02)
        _assert_write_transaction_open(database_url)
        _kill(pgid)
        hold.unlink()
        sender.join(10)
        assert failed, "the POST held in its commit was answered"

    if _backend(database_url) == "sqlite":
        database = Path(make_url(database_url).database)
        # What the killed writer left (SQLite's -wal and -shm) must not stop anything.
        leftovers = sorted(p.name for p in database.parent.glob(database.name + "-*"))
        assert set(leftovers) <= {database.name + "-wal", database.name + "-shm"}, leftovers
    current = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ankieta"), "db", "current"],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("ANKIETA_")},
            "ANKIETA_DATABASE_URL": database_url,
            "ANKIETA_SECRET_KEY": "faults-" + "x" * 40,
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert current.returncode == 0, current.stderr
    assert current.stdout.strip().endswith("(head)"), current.stdout

    # Nothing of the killed transaction is there: the response as the start left it
    # (revision 0, no answers, no page; checked in full by _check_database).
    checked = _check_database(database_url, [respondent, Respondent(other, variant=1)])
    assert (checked.responses, checked.revisions) == (1, {token: 0})
    with _server(database_url, tmp_path, "second.log") as (port, _pgid):
        assert _continue(port, respondent, today) == 1
    assert _log_problems(tmp_path / "second.log") == []


def _assert_write_transaction_open(url: str) -> None:
    """Somebody (the held worker) has a write transaction open on the database right now."""
    if _backend(url) == "sqlite":
        probe = sqlite3.connect(make_url(url).database, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                probe.execute("BEGIN IMMEDIATE")
        finally:
            probe.close()
        return
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            open_transactions = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
                )
            ).scalar()
        assert open_transactions >= 1
    finally:
        admin.dispose()


# --- PostgreSQL connections terminated by the server --------------------------------------------


def _terminate_backends(url: str, only_pid: int | None = None) -> int:
    """pg_terminate_backend every other connection to the database (or one); how many."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return connection.execute(
                text(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) "
                    "FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND (CAST(:pid AS int) IS NULL OR pid = :pid)"
                ),
                {"pid": only_pid},
            ).scalar()
    finally:
        admin.dispose()


def _first_page(app: Flask, client, make_fieldwork) -> tuple[str, str, dict[str, list[str]]]:
    """A respondent on the first page: (token, page path, the filled form)."""
    fieldwork = make_fieldwork()
    token = unit_token(app, fieldwork, "C-02")
    assert client.post(f"/r/{token}/start", data={}).status_code == 302
    response = client.get(f"/r/{token}/resume", follow_redirects=True)
    assert response.status_code == 200
    page = response.request.path
    form, _ = fill_form(response.get_data(as_text=True), 0, date(2026, 3, 16))
    return token, page, form


def _stored(app: Flask, token: str) -> tuple[int, dict[str, Any]]:
    with app.extensions["ankieta.db"].session() as session:
        response = session.scalar(
            select(Response)
            .join(SampleUnit, SampleUnit.id == Response.sample_unit_id)
            .where(SampleUnit.token == token)
        )
        return response.revision, dict(response.answers)


def _assert_clean_503(app: Flask, response) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == 503, body[:500]
    assert response.headers["Retry-After"] == "5"
    assert "Traceback" not in body and "psycopg" not in body and "sqlalchemy" not in body
    with app.test_request_context(headers={"Accept-Language": "pl"}):
        assert gettext("The database is unavailable") in body
    assert '<html lang="pl"' in body


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("pre_ping", [True, False], ids=["pre-ping", "no-pre-ping"])
def test_connections_terminated_between_requests(
    app: Flask, client, make_fieldwork, pre_ping: bool, caplog: pytest.LogCaptureFixture
) -> None:
    from app.platform.db import Database

    if not pre_ping:  # what the 503 page is for: a dead pooled connection used as it is
        app.extensions["ankieta.db"].dispose()
        app.extensions["ankieta.db"] = Database(app.config["DATABASE_URL"], pool_pre_ping=False)
    token, page, form = _first_page(app, client, make_fieldwork)
    assert _terminate_backends(app.config["DATABASE_URL"]) >= 1  # the pool's connection

    response = client.post(page, data=form)
    if pre_ping:  # the shipped engine: the pool notices the dead connection and reconnects
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        assert _stored(app, token)[0] == 1
        return
    _assert_clean_503(app, response)
    assert "database unavailable" in caplog.text
    assert _stored(app, token) == (0, {})  # nothing half-stored
    response = client.post(page, data=form)  # the next one succeeds
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    revision, answers = _stored(app, token)
    assert revision == 1 and answers


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_connection_terminated_during_a_request(
    app: Flask, client, make_fieldwork, caplog: pytest.LogCaptureFixture
) -> None:
    token, page, form = _first_page(app, client, make_fieldwork)
    engine = app.extensions["ankieta.db"].engine
    terminated: list[int] = []

    @event.listens_for(engine, "before_cursor_execute")
    def terminate_before_saving(connection, _cursor, statement, *_args) -> None:
        # The request has read the response and is about to write the page: kill its backend.
        if not terminated and statement.lstrip().upper().startswith("UPDATE RESPONSE"):
            pid = connection.connection.dbapi_connection.info.backend_pid
            terminated.append(_terminate_backends(app.config["DATABASE_URL"], pid))

    try:
        response = client.post(page, data=form)
    finally:
        event.remove(engine, "before_cursor_execute", terminate_before_saving)
    assert terminated == [1]
    _assert_clean_503(app, response)
    assert "database unavailable" in caplog.text
    assert _stored(app, token) == (0, {})  # the killed transaction left nothing

    response = client.post(page, data=form)  # the same page again: saved now
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    revision, answers = _stored(app, token)
    assert revision == 1 and answers
    assert client.get(response.headers["Location"]).status_code == 200
