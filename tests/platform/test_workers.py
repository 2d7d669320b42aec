"""Real worker processes (``ankieta worker``) on a real queue: killed, restarted, several at once.

These tests start subprocesses: workers, and for the several-servers test two gunicorn app
servers, all on loopback, all killed (whole process groups) when the test ends.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import create_engine, select, text

from app import create_app
from app.models.fieldwork import SampleUnit
from app.models.mail import MailMessage
from bench._load import Browser, csrf_token
from bench._server import gunicorn_server
from tests.support import TEST_PASSWORD
from tests.support.mailserver import MailServer

ROOT = Path(__file__).resolve().parents[2]
ANKIETA = str(Path(sys.executable).parent / "ankieta")
SECRET = "workers-test-secret-" + "x" * 32


def _env(database_url: str, queue_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANKIETA_")}
    env.update(
        ANKIETA_DATABASE_URL=database_url,
        ANKIETA_QUEUE_URL=queue_url,
        ANKIETA_SECRET_KEY=SECRET,
        ANKIETA_JOB_STALE_SECONDS="3",
        ANKIETA_WORKER_CHECK_SECONDS="1",
        ANKIETA_BASE_URL="http://ankieta.example.pl",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


@contextmanager
def worker(env: dict[str, str], log: Path):
    """``ankieta worker`` in its own process group; killed (the group) at the end."""
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [ANKIETA, "worker", "--threads", "2"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        kill(process)


def kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=10)


def _wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


# -- the worker leaves the CPU to pages -----------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux scheduling policies")
@pytest.mark.parametrize(("setting", "policy"), [("1", "SCHED_IDLE"), ("0", "SCHED_OTHER")])
def test_the_worker_and_its_job_threads_run_at_idle_cpu_priority_unless_told_not_to(
    tmp_path, setting, policy
):
    env = _env(
        f"sqlite:///{tmp_path / 'ankieta.db'}",
        f"sqlite:///{tmp_path / 'queue.db'}",
        ANKIETA_WORKER_IDLE_PRIORITY=setting,
    )
    log = tmp_path / "worker.log"
    with worker(env, log) as process:
        _wait(lambda: "Ctrl+C" in log.read_text(encoding="utf-8"), 30, "the worker to start")
        # the job threads start right after the greeting
        threads = _wait(
            lambda: [int(t) for t in os.listdir(f"/proc/{process.pid}/task")][1:] or None,
            10,
            "the job threads",
        )
        policies = {os.sched_getscheduler(tid) for tid in [process.pid, *threads]}
        group = Path(f"/proc/{process.pid}/autogroup")
        autogroup = group.read_text() if group.exists() else None
    assert policies == {getattr(os, policy)}, policies
    if autogroup is not None:  # it leads a session of its own: the session gives way too
        assert autogroup.endswith(f" nice {19 if setting == '1' else 0}\n"), autogroup


# -- a worker killed in the middle of a wave ----------------------------------------------------


def test_a_worker_killed_mid_wave_and_restarted_sends_each_message_exactly_once(
    app, make_fieldwork, database_url, tmp_path
):
    units = [(f"U-{n:02d}", f"Instytucja nr {n} — Łódź", {}) for n in range(12)]
    fieldwork_id = make_fieldwork(units=units)
    with app.extensions["ankieta.db"].session() as session:
        for unit in session.scalars(select(SampleUnit)):
            unit.email = f"{unit.external_id.lower()}@example.pl"
    queue_url = f"sqlite:///{tmp_path / 'queue.db'}" if database_url.startswith("sqlite") else ""
    with MailServer() as smtp, ExitStack() as stack:
        env = _env(
            database_url,
            queue_url,
            ANKIETA_SMTP_URL=smtp.url,
            ANKIETA_MAIL_FROM="badania@rops.example.pl",
            ANKIETA_MAIL_RATE="120",  # half a second between messages
        )
        sender = create_app(
            {
                "DATABASE_URL": database_url,
                "QUEUE_URL": queue_url,
                "SECRET_KEY": SECRET,
                "SMTP_URL": smtp.url,
                "MAIL_FROM": "badania@rops.example.pl",
                "INSTANCE_PATH": str(tmp_path),
            }
        )
        first = stack.enter_context(worker(env, tmp_path / "worker-1.log"))
        result = sender.test_cli_runner().invoke(args=["invitations", "send", str(fieldwork_id)])
        assert result.exit_code == 0, result.output
        _wait(lambda: len(smtp.messages) >= 4, 60, "the first messages")
        time.sleep(0.2)  # in the pause between two messages
        kill(first)
        before = len(smtp.messages)
        assert 4 <= before < 12, before
        stack.enter_context(worker(env, tmp_path / "worker-2.log"))
        _wait(lambda: len(smtp.messages) >= 12, 60, "the rest of the wave")
        time.sleep(1.5)  # nothing more arrives
        sender.extensions["ankieta.tasks"].close()
        sender.extensions["ankieta.db"].dispose()
    if database_url.startswith("postgresql"):
        _drop_queue(database_url)
    received = Counter(m["To"] for m in smtp.messages)
    assert len(received) == 12 and set(received.values()) == {1}, received
    with app.extensions["ankieta.db"].session() as session:
        states = Counter(session.scalars(select(MailMessage.state)))
    assert states == {"sent": 12}


# -- several app servers and several workers ----------------------------------------------------


@pytest.fixture(params=["postgresql", "redis"])
def shared_queue(request, postgres_url):
    """The queue the servers share: Huey's tables in the PostgreSQL database, or Redis."""
    if request.param == "postgresql":
        yield ""
        return
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            pytest.fail("Redis at 127.0.0.1:6379 is not running (CI=true: it is required)")
        pytest.skip("Redis at 127.0.0.1:6379 is not running")
    client.flushdb()
    yield "redis://127.0.0.1:6379/15"
    client.flushdb()
    client.close()


def _login(browser: Browser, username: str) -> None:
    status, _, page, _ = browser.request("GET", "/login")
    assert status == 200
    form = {"csrf_token": [csrf_token(page)], "username": [username], "password": [TEST_PASSWORD]}
    status, location, _, _ = browser.request("POST", "/login", form)
    assert status == 302 and not location.startswith("/login"), location


def _ask_for_file(browser: Browser, fieldwork_id: int) -> str:
    status, _, page, _ = browser.request("GET", f"/fieldwork/{fieldwork_id}/files")
    assert status == 200
    form = {"csrf_token": [csrf_token(page)], "kind": ["responses"]}
    status, location, _, _ = browser.request("POST", f"/fieldwork/{fieldwork_id}/files", form)
    assert status == 302 and location.startswith("/files/"), (status, location)
    return location


def _status(browser: Browser, job_page: str) -> dict:
    import json

    status, _, body, _ = browser.request("GET", f"{job_page}/status")
    assert status == 200
    return json.loads(body)


def _builder(logs: list[Path], job_page: str, postgres: str) -> int:
    """The index of the worker that took the job (it logs the job's id)."""
    engine = create_engine(postgres)
    with engine.connect() as connection:
        job_id = connection.execute(
            text("SELECT id FROM export_job WHERE key = :key"), {"key": job_page.split("/")[-1]}
        ).scalar_one()
    engine.dispose()
    pattern = re.compile(rf"export job {job_id}: building it")

    def found():
        for index, log in enumerate(logs):
            if log.exists() and pattern.search(log.read_text(errors="replace")):
                return index + 1
        return None

    return _wait(found, 60, "a worker to take the job") - 1


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # servers share it
def test_two_servers_and_two_workers_share_exports_and_survive_losing_either(
    app, make_fieldwork, make_user, runner, postgres_url, database_url, shared_queue, tmp_path
):
    make_user("analityk")
    fieldwork_id = make_fieldwork(units=[(f"U-{n:04d}", f"Instytucja {n}", {}) for n in range(10)])
    made = runner.invoke(
        args=["demo-data", str(fieldwork_id), "--responses", "3000", "--seed", "3"]
    )
    assert made.exit_code == 0, made.output
    env = _env(database_url, shared_queue)
    server_env = {k: v for k, v in env.items() if k.startswith("ANKIETA_")}
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    with ExitStack() as stack:
        first = stack.enter_context(gunicorn_server(database_url, workers=1, extra_env=server_env))
        second = stack.enter_context(gunicorn_server(database_url, workers=1, extra_env=server_env))
        workers = [stack.enter_context(worker(env, log)) for log in logs]
        browser = Browser(first.port)
        _login(browser, "analityk")
        # asked on the first server, which then goes away (a restart, a lost machine):
        # the file is watched and downloaded on the second
        job_page = _ask_for_file(browser, fieldwork_id)
        os.killpg(first.pid, signal.SIGKILL)
        browser.port = second.port
        done = _wait(
            lambda: (s := _status(browser, job_page))["state"] in ("done", "failed") and s,
            120,
            "the file",
        )
        assert done["state"] == "done", done
        status, _, body, _ = browser.request_bytes("GET", done["download"])
        assert status == 200
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        assert book["Odpowiedzi"].max_row == 3001
        # the worker building the next file is killed: the other one builds it again
        job_page = _ask_for_file(browser, fieldwork_id)
        taken = _builder(logs, job_page, postgres_url)
        kill(workers[taken])
        status_now = _status(browser, job_page)
        assert status_now["state"] in ("queued", "running", "done"), status_now
        finished = _wait(
            lambda: (s := _status(browser, job_page))["state"] in ("done", "failed") and s,
            120,
            "the file after the kill",
        )
        other = logs[1 - taken].read_text(errors="replace")
        assert finished["state"] == "done", (finished, other)
        assert re.search(r"export job \d+: building it", other)
        status, _, body, _ = browser.request_bytes("GET", finished["download"])
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        assert status == 200 and book["Odpowiedzi"].max_row == 3001
    _drop_queue(postgres_url)


def _drop_queue(url: str) -> None:
    """Huey's schema goes with the test (the scratch database is shared by the run)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS ankieta_queue CASCADE"))
    engine.dispose()
