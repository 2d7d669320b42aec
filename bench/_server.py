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
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import migrate  # noqa: E402 - needs the path above

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


@contextmanager
def gunicorn(
    database_url: str,
    *,
    workers: int = 2,
    extra_args: tuple[str, ...] = (),
    extra_env: dict[str, str] | None = None,
    log_path: Path | None = None,
    start_timeout: float = 30.0,
) -> Iterator[int]:
    """Run ``gunicorn app.wsgi:app`` on a free loopback port; yields the port.

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
        "app.wsgi:app",
    ]
    with open(log_path or os.devnull, "ab") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
        )
        try:
            _wait_healthy(port, process, start_timeout)
            yield port
        finally:
            _stop(process)


def _wait_healthy(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode} at start")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/healthz")
            status = connection.getresponse().status
            connection.close()
            if status == 200:
                return
        except OSError:
            pass
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
