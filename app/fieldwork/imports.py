"""Large sample files imported in the background, so a big file never holds a request.

The upload is kept in a ``sample_import`` row and the page answers at once with a status
page. A worker (``ankieta worker``, app.platform.tasks) first checks the whole file (rows
streamed, nothing stored; ``services.check_sample``), then stores its rows
``services.IMPORT_BATCH`` at a time, each batch in a short transaction of its own that also
records the progress and a heartbeat, so on SQLite a login waits at most one batch for the
write lock. A file with any problem stores nothing (the problems are shown on the status
page); if storing fails half-way, the rows already stored are removed again. An import
whose heartbeat stops (its process died) is reported as failed when somebody looks at it.

The interface is three calls: ``start`` (in the request), ``run`` (the work, given only the
database, the import's id and a clock) and ``status_of``.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.fieldwork.sample.results import SampleProblem
from app.domain.messages import N_, Message
from app.fieldwork import services
from app.models.fieldwork import Fieldwork
from app.models.jobs import JobState, SampleImport
from app.platform import tasks
from app.platform.audit import record_by_id
from app.platform.db import Database

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
STALE_AFTER = timedelta(minutes=2)
PROGRESS_SECONDS = 1.0
LIVE_STATES = (JobState.QUEUED.value, JobState.RUNNING.value)
STALE_MESSAGE = N_("The server stopped while importing this file; nothing of it was kept.")
FAILED_MESSAGE = N_("The file could not be imported; nothing of it was kept. Please try again.")
BUSY_MESSAGE = N_("Another sample file is being imported into this fieldwork; wait until it ends.")


def busy(session: Session, fieldwork: Fieldwork, now: datetime) -> bool:
    """Whether a sample file is being imported into ``fieldwork`` right now."""
    return any(
        not _stale(job, now)
        for job in session.scalars(
            select(SampleImport).where(
                SampleImport.fieldwork_id == fieldwork.id, SampleImport.state.in_(LIVE_STATES)
            )
        )
    )


def start(
    session: Session,
    fieldwork: Fieldwork,
    user_id: int,
    data: bytes,
    filename: str,
    now: datetime,
) -> SampleImport:
    """Queue ``data`` for import into ``fieldwork`` (call ``run`` after the commit)."""
    job = SampleImport(
        key=secrets.token_urlsafe(24),
        fieldwork_id=fieldwork.id,
        user_id=user_id,
        file_name=filename[:200],
        data=data,
        created_at=now,
        heartbeat_at=now,
    )
    session.add(job)
    session.flush()
    return job


def run(database: Database, import_id: int, clock: Clock) -> None:
    """Check and store the queued file; any failure leaves nothing of it stored."""
    with database.session() as session:
        job = session.get(SampleImport, import_id)
        if job is None or job.state != JobState.QUEUED.value:
            return
        job.state = JobState.RUNNING.value
        job.heartbeat_at = clock()
        data, filename, fieldwork_id, user_id = (
            job.data,
            job.file_name,
            job.fieldwork_id,
            job.user_id,
        )
    stored_at = [time.monotonic()]

    def progress(done: int) -> None:  # the page's figure and the heartbeat, once a second
        if time.monotonic() - stored_at[0] >= PROGRESS_SECONDS:
            _update(database, import_id, clock, done=done)
            stored_at[0] = time.monotonic()

    try:
        outcome = services.import_sample_in_batches(
            database,
            fieldwork_id,
            data,
            filename,
            clock(),
            on_total=lambda total: _update(database, import_id, clock, total=total),
            progress=progress,
        )
        if not outcome.ok:
            _finish(database, import_id, clock, JobState.FAILED, outcome.problems)
            return
        with database.session() as session:
            record_by_id(
                session,
                "sample.imported",
                clock(),
                user_id,
                fieldwork_id=fieldwork_id,
                target=f"fieldwork {fieldwork_id}",
                detail={"file": filename, "institutions": outcome.imported},
            )
            _finish_in(session, import_id, clock, JobState.DONE, [], done=outcome.imported)
    except Exception:  # what it stored is removed already (import_sample_in_batches)
        log.exception("sample import %d failed", import_id)
        try:
            problem = SampleProblem(None, None, Message(FAILED_MESSAGE))
            _finish(database, import_id, clock, JobState.FAILED, [problem])
        except Exception:  # noqa: BLE001 - the heartbeat will tell
            log.exception("sample import %d: not marked failed", import_id)


def _update(database: Database, import_id: int, clock: Clock, **values: Any) -> None:
    with database.session() as session:
        session.execute(
            update(SampleImport)
            .where(SampleImport.id == import_id)
            .values(heartbeat_at=clock(), **values)
        )


def _finish(
    database: Database,
    import_id: int,
    clock: Clock,
    state: JobState,
    problems: list[SampleProblem],
) -> None:
    with database.session() as session:
        _finish_in(session, import_id, clock, state, problems)


def _finish_in(
    session: Session,
    import_id: int,
    clock: Clock,
    state: JobState,
    problems: list[SampleProblem],
    **values: Any,
) -> None:
    session.execute(
        update(SampleImport)
        .where(SampleImport.id == import_id)
        .values(
            state=state.value,
            problems=[_problem_to_json(p) for p in problems],
            data=b"",  # the file (contact data) is not kept once imported
            finished_at=clock(),
            heartbeat_at=clock(),
            **values,
        )
    )


# -- looking at it --------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    state: JobState
    total: int
    done: int
    problems: list[SampleProblem]


def _stale(job: SampleImport, now: datetime) -> bool:
    return job.state in LIVE_STATES and now - job.heartbeat_at > STALE_AFTER


def status_of(job: SampleImport, now: datetime) -> Status:
    """How the import looks right now (reading it changes nothing)."""
    if _stale(job, now):
        return Status(
            JobState.FAILED,
            job.total,
            job.done,
            [SampleProblem(None, None, Message(STALE_MESSAGE))],
        )
    problems = [_problem_from_json(p) for p in job.problems or []]
    return Status(JobState(job.state), job.total, job.done, problems)


def import_for(session: Session, key: str, fieldwork_id: int) -> SampleImport | None:
    job = session.scalar(select(SampleImport).where(SampleImport.key == key))
    return job if job is not None and job.fieldwork_id == fieldwork_id else None


# -- problems as stored data (a message's parameters may be messages themselves) ----------------


def _message_to_json(message: Message) -> dict[str, Any]:
    params = {
        key: _message_to_json(value) if isinstance(value, Message) else value
        for key, value in message.params.items()
    }
    return {"msgid": message.msgid, "params": params}


def _message_from_json(data: Any) -> Message:
    message = Message.from_json(data) or Message(str(data))
    params = {
        key: _message_from_json(value) if Message.from_json(value) is not None else value
        for key, value in message.params.items()
    }
    return Message(message.msgid, params)


def _problem_to_json(problem: SampleProblem) -> dict[str, Any]:
    return {
        "row": problem.row,
        "column": problem.column,
        "message": _message_to_json(problem.message),
    }


def _problem_from_json(data: dict[str, Any]) -> SampleProblem:
    return SampleProblem(data.get("row"), data.get("column"), _message_from_json(data["message"]))


# -- the worker ------------------------------------------------------------------------------


def submit(app: Flask, import_id: int) -> None:
    """Put the import on the task queue: a worker (``ankieta worker``) runs it."""
    tasks.queue_of(app).enqueue("sample_import", import_id=import_id)


def wait(app: Flask) -> None:
    """Block until the local queue's work has been done (tests, benchmarks)."""
    tasks.queue_of(app).wait()


@tasks.handler("sample_import")
def _run_import(app: Flask, import_id: int) -> None:
    run(app.extensions["ankieta.db"], import_id, app.config["CLOCK"])
