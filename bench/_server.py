"""Shared by the HTTP benchmarks: scratch databases and a gunicorn server on loopback.

Everything here stays on 127.0.0.1 and cleans up after itself: a scratch PostgreSQL
database is dropped and gunicorn is killed (its whole process group) when the ``with``
block ends, also on an error or Ctrl-C.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.platform import migrate  # noqa: E402 - needs the path above

POSTGRES_SERVER = os.environ.get(
    "ANKIETA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
HOST = "127.0.0.1"


@contextmanager
def scratch_database(backend: str) -> Iterator[str]:
    """The URL of an empty database migrated to head, removed when the block ends."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="ankieta-bench-") as directory:
            url = f"sqlite:///{Path(directory) / 'ankieta.db'}"
            migrate.upgrade(url)
            yield url
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}")
    server = make_url(POSTGRES_SERVER)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"ankieta_bench_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = server.set(database=name).render_as_string(hide_password=False)
            migrate.upgrade(url)
            yield url
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Server:
    """A running gunicorn: its loopback port and its master's pid (workers are children)."""

    port: int
    pid: int


@contextmanager
def gunicorn(database_url: str, **options) -> Iterator[int]:
    """Run ``gunicorn app.wsgi:app`` on a free loopback port; yields the port.

    The options are those of ``gunicorn_server``.
    """
    with gunicorn_server(database_url, **options) as server:
        yield server.port


@contextmanager
def gunicorn_server(
    database_url: str,
    *,
    workers: int = 2,
    extra_args: tuple[str, ...] = (),
    extra_env: dict[str, str] | None = None,
    log_path: Path | None = None,
    start_timeout: float = 30.0,
    app: str = "app.wsgi:app",
) -> Iterator[Server]:
    """Run ``gunicorn app.wsgi:app`` on a free loopback port; yields its port and pid.

    The server gets its own database URL and secret key through the environment, and runs
    in its own process group so that the master and every worker are killed at the end.
    """
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ANKIETA_")  # the caller's settings must not leak in
    }
    env.update(
        {
            "ANKIETA_DATABASE_URL": database_url,
            "ANKIETA_SECRET_KEY": secrets.token_hex(32),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update(extra_env or {})
    command = [
        str(GUNICORN),
        "--workers",
        str(workers),
        "--bind",
        f"{HOST}:{port}",
        "--backlog",
        "1024",
        "--log-level",
        "warning",
        *extra_args,
        app,
    ]
    with open(log_path or os.devnull, "ab") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
        )
        try:
            _wait_healthy(port, process, start_timeout)
            yield Server(port, process.pid)
        finally:
            _stop(process)


WORKER_PRIORITIES = ("idle", "nice10", "normal")


@contextmanager
def ankieta_worker(
    database_url: str,
    *,
    extra_env: dict[str, str] | None = None,
    log_path: Path | None = None,
    priority: str = "idle",
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``ankieta worker`` (results files, reports, e-mail) beside the app servers.

    It builds what the servers put on the queue (beside the database unless
    ``ANKIETA_QUEUE_URL`` is in ``extra_env``), in its own process group, killed when the
    block ends. ``priority``: ``idle`` as it runs by default (it takes the CPU only when
    nothing else wants it: ``WORKER_IDLE_PRIORITY``), ``nice10`` (a normal process at
    ``nice 10``, as the deploy docs had it before), ``normal``.
    """
    if priority not in WORKER_PRIORITIES:
        raise ValueError(f"priority {priority!r}: one of {', '.join(WORKER_PRIORITIES)}")
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANKIETA_")}
    env.update({"ANKIETA_DATABASE_URL": database_url, "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(extra_env or {})
    env["ANKIETA_WORKER_IDLE_PRIORITY"] = "1" if priority == "idle" else "0"
    command = [str(ROOT / ".venv" / "bin" / "ankieta"), "worker"]
    if priority == "nice10":
        command = ["nice", "-n", "10", *command]
    with open(log_path or os.devnull, "ab") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait(timeout=10)


def worker_pids(master: int) -> list[int]:
    """The pids of the gunicorn master's worker processes (its children), in order."""
    children: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone in the meantime
            continue
        # "pid (comm) state ppid ...": the command may hold spaces, so split after ")"
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            children.append(int(entry.name))
    return sorted(children)


def rss_kib(pid: int) -> int | None:
    """The resident set size (VmRSS) of a process in KiB; None once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _wait_healthy(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode} at start")
        connection = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()  # also when refused: no socket left for the GC to warn about
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer /healthz within {timeout:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """TERM the server's process group, then KILL it if it does not go within 10 s."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # stray workers, if any
    except ProcessLookupError:
        pass
    process.wait()
