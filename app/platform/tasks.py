"""Background work on a task queue (Huey), run by ``ankieta worker`` outside the web servers.

Long work (results files, reports, e-mail waves) never runs in a web server process: the
page that asks for it writes a row saying what is wanted (e.g. an ``export_job``), commits,
and puts a small message on the queue naming a *kind* of work and its parameters. A worker
process (``ankieta worker``, its own systemd service) takes the message and does the work;
its progress and result are in the database, so every app server shows the same progress
page and serves the same file.

Where the queue lives (``ANKIETA_QUEUE_URL``):

- unset: beside the database. With SQLite, a SQLite file ``instance/queue.db`` (one
  machine, nothing more to run); with PostgreSQL, Huey's tables in the same database (in
  the schema ``ankieta_queue``, made when first used), so several app servers and several
  workers share the work with no other service.
- ``redis://host:6379/0``: Redis (several machines; the fastest hand-over).
- ``sqlite:///path`` or ``postgresql://...``: a queue of its own.
- ``memory``: in this process, with one worker thread (the test suite only).

A kind of work is a function registered with :func:`handler`; it receives the Flask app
(for its configuration and database) and the parameters given to :func:`enqueue`. Work
must be safe to run again: a worker killed half-way (``SIGKILL``, a machine lost) loses the
message, and the periodic checks of every worker (see :func:`periodic`, every
``WORKER_CHECK_SECONDS``) put unfinished work back on the queue or report it failed.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import psycopg
from flask import Flask
from huey import Huey, MemoryHuey, PostgresHuey, RedisHuey, SqliteHuey
from sqlalchemy.engine import make_url

from app.domain.messages import N_
from app.platform.config import ConfigError

log = logging.getLogger(__name__)

Handler = Callable[..., None]
# periodic work returns what it did (the tests read it); the worker ignores it
Periodic = TypeVar("Periodic", bound=Callable[[Flask], object])
_HANDLERS: dict[str, Handler] = {}
_PERIODIC: dict[str, Callable[[Flask], object]] = {}
EXTENSION = "ankieta.tasks"
QUEUE_SCHEMA = "ankieta_queue"  # PostgreSQL: the schema of Huey's tables
# the name the test suite and older code know the queue by (``.submit(job_id)``, ``.wait()``)
EXPORT_RUNNER = "ankieta.export_runner"


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register ``function(app, **params)`` as the work done for messages of ``kind``."""

    def register(function: Handler) -> Handler:
        _HANDLERS[kind] = function
        return function

    return register


def periodic(name: str) -> Callable[[Periodic], Periodic]:
    """Register ``function(app)`` to run every ``WORKER_CHECK_SECONDS`` on every worker.

    Every worker runs it, so it must decide with one conditional UPDATE which worker acts.
    """

    def register(function: Periodic) -> Periodic:
        _PERIODIC[name] = function
        return function

    return register


def make_huey(config: dict[str, Any], instance_path: Path) -> Huey:
    """The Huey instance for ``ANKIETA_QUEUE_URL`` (see the module docstring)."""
    url = (config.get("QUEUE_URL") or "").strip()
    if url == "memory":
        return MemoryHuey("ankieta")
    if not url:
        url = config["DATABASE_URL"]
        if make_url(url).get_backend_name() == "sqlite":
            url = f"sqlite:///{instance_path / 'queue.db'}"
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("ankieta", url=url)
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - any unparsable address gets the same one line
        parsed = None
    if parsed is not None and parsed.get_backend_name() == "sqlite":
        path = parsed.database or str(instance_path / "queue.db")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey("ankieta", filename=path)
    if parsed is not None and parsed.get_backend_name() == "postgresql":
        dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)

        def connect() -> psycopg.Connection[Any]:
            # Huey's tables live in a schema of their own, apart from Ankieta's (which only
            # migrations change); nothing connects before the queue is first used
            return psycopg.connect(dsn, options=f"-c search_path={QUEUE_SCHEMA}")

        huey = PostgresHuey("ankieta", connection=connect, table_prefix="huey", create_tables=False)
        huey.ankieta_dsn = dsn
        return huey
    raise ConfigError(
        N_(
            "ANKIETA_QUEUE_URL is not a queue address; use redis://host:6379/0,"
            " postgresql://user@host/db, sqlite:///path/queue.db or leave it unset"
        )
    )


class TaskQueue:
    """The application's queue: ``enqueue(kind, **params)``; ``wait()`` for the local worker."""

    def __init__(self, app: Flask, huey: Huey, handler_modules: Sequence[str]) -> None:
        self.app = app
        self.huey = huey
        self.local = isinstance(huey, MemoryHuey)
        for module in handler_modules:  # imported for their @handler registrations
            importlib.import_module(module)

        def run(kind: str, params: dict[str, Any]) -> None:
            self.run(kind, params)

        # huey ships no types: its decorator is called, not written with @, so ``run`` stays typed
        self._run_task = huey.task(name="ankieta.run", retries=0)(run)
        self._ready = not isinstance(huey, PostgresHuey)
        self._cond = threading.Condition()
        self._busy = 0
        self._thread: threading.Thread | None = None

    # -- asking for work ---------------------------------------------------------------------

    def enqueue(self, kind: str, **params: Any) -> None:
        """Put work of ``kind`` on the queue (commit what it reads first)."""
        if kind not in _HANDLERS:
            raise ValueError(f"unknown kind of work {kind!r}")
        self._prepare()
        with self._cond:
            self._busy += 1 if self.local else 0
        try:
            self._run_task(kind, params)
        except Exception:
            with self._cond:
                self._busy -= 1 if self.local else 0
            raise
        if self.local:
            self._start_local()

    def _prepare(self) -> None:
        """PostgreSQL: make the queue's schema and tables if missing (once per process)."""
        if self._ready:
            return
        dsn = self.huey.ankieta_dsn
        for attempt in range(3):  # several processes may race to create them
            try:
                with psycopg.connect(dsn, autocommit=True) as connection:
                    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {QUEUE_SCHEMA}")
                self.huey.storage.initialize_schema()
                break
            except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateObject):
                if attempt == 2:
                    raise
        self._ready = True

    def submit(self, job_id: int) -> None:
        """Build export job ``job_id`` (the results files' kind of work)."""
        self.enqueue("export", job_id=job_id)

    # -- doing it ----------------------------------------------------------------------------

    def run(self, kind: str, params: dict[str, Any]) -> None:
        function = _HANDLERS[kind]
        with self.app.app_context():
            function(self.app, **params)

    def run_periodic(self) -> None:
        for name, function in list(_PERIODIC.items()):
            try:
                with self.app.app_context():
                    function(self.app)
            except Exception:  # noqa: BLE001 - one failing check must not stop the others
                log.exception("periodic work %s failed", name)

    def run_worker(self, workers: int, check_seconds: float) -> None:
        """``ankieta worker``: a Huey consumer with ``workers`` threads, plus the checks.

        The checks (:func:`periodic`) run on a thread of their own every ``check_seconds``
        and once at start; Huey's own periodic tasks have a one-minute resolution, too
        coarse to notice a dead worker quickly.
        """
        self._prepare()
        consumer = self.huey.create_consumer(
            workers=workers, worker_type="thread", periodic=False, max_delay=1.0
        )

        def checks() -> None:
            while True:
                self.run_periodic()
                time.sleep(check_seconds)

        threading.Thread(target=checks, name="ankieta-checks", daemon=True).start()
        consumer.run()

    # -- the in-process worker of the test suite ----------------------------------------------

    def _start_local(self) -> None:
        with self._cond:
            self._cond.notify_all()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._local_loop, name="ankieta-tasks", daemon=True
                )
                self._thread.start()

    def _local_loop(self) -> None:
        while True:
            task = self.huey.dequeue()
            if task is None:
                with self._cond:
                    self._cond.wait(0.05)
                continue
            try:
                self.huey.execute(task)
            except Exception:  # noqa: BLE001 - the work logs its own failures
                log.exception("task %s failed", task)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def close(self) -> None:
        """Close the queue's connection (it is opened again when needed)."""
        self.huey.storage.close()

    def wait(self, timeout: float = 120.0) -> None:
        """Block until all work put on the local queue has been done (tests)."""
        if not self.local:
            return
        with self._cond:
            if not self._cond.wait_for(lambda: self._busy == 0, timeout):
                raise TimeoutError("background work did not finish")


def init_app(app: Flask, handler_modules: Sequence[str]) -> TaskQueue:
    """The app's queue; ``handler_modules`` are the features' modules that register work."""
    queue = TaskQueue(app, make_huey(app.config, Path(app.instance_path)), handler_modules)
    app.extensions[EXTENSION] = queue
    app.extensions[EXPORT_RUNNER] = queue
    return queue


def queue_of(app: Flask) -> TaskQueue:
    return cast(TaskQueue, app.extensions[EXTENSION])
