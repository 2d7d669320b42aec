"""Results files built in the background, so a large one never holds a request.

Every results file is a job: the response workbook, the responses CSV, the zip of the files
sent with file questions (``attachments``, app.exports.attachments) and the monitoring
report. A ``responses`` job's options may name another ``format`` of the same responses:
``sav`` (SPSS) or ``dta`` (Stata), written by ``app.exports.statfiles``.

A job is a row (``export_job``): the web page creates it and puts an ``export`` message on
the task queue (``app.platform.tasks``); a worker process (``ankieta worker``) builds the workbook
into a temporary file, reporting how many responses it has written, and then stores the
file in the database in 64 KiB chunks (``export_chunk``), so any app server can send it.
While a job runs, its heartbeat is refreshed every second. A job whose heartbeat stops (its
worker was killed, also between taking the job's message and starting it) is put back on
the queue once by another worker's periodic check
(:func:`recover_stale`); if that one dies too, or nobody checks, it is reported as failed the
next time somebody looks at it, and can simply be asked for again. Finished files are kept
for a day.

Other kinds of file port over by adding a builder to ``BUILDERS``: ``kind -> function(
session, fieldwork, options, path, progress, translate)`` that writes ``path`` and calls
``progress(rows)`` (``progress.store(total=n)`` once the total is known).

A little over 500 lines on purpose: one job's whole life (asked for, built, stored in chunks,
recovered, served, expired) is one cohesive thing, read and changed together.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from flask import Flask
from sqlalchemy import CursorResult, delete, insert, select, update
from sqlalchemy.orm import Session

from app.domain.dates import local_date
from app.domain.messages import N_, Message
from app.exports.attachments import write_attachments
from app.exports.report import ReportError, write_document, write_report
from app.exports.services import (
    EXCEL_PL,
    RFC4180,
    ExportOptions,
    Translate,
    count_responses,
    has_repeats,
    write_csv,
)
from app.exports.statfiles import FORMATS as STAT_FORMATS
from app.exports.statfiles import write_statfile
from app.exports.workbook import SheetFull, write_xlsx
from app.models.fieldwork import Fieldwork
from app.models.jobs import ExportChunk, ExportJob, JobState
from app.models.scope import UNSCOPED, Scope
from app.platform import tasks
from app.platform.db import Database

log = logging.getLogger(__name__)

# Small chunks keep the servers' memory flat on PostgreSQL: libpq never shrinks a
# connection's buffers, so every pooled connection that once carried a 1 MiB chunk kept
# about 6 MiB; with 64 KiB it keeps about 0.35 MiB (measured, docs/development.md "Memory").
CHUNK_BYTES = 64 << 10
HEARTBEAT_SECONDS = 1.0
STALE_AFTER = timedelta(minutes=2)  # no heartbeat for this long: the builder is gone
KEEP_FOR = timedelta(days=1)
RESPONSES, CSV, REPORT, DOCUMENT = "responses", "csv", "report", "document"
ATTACHMENTS = "attachments"  # the files sent with file questions, zipped
KINDS = (RESPONSES, CSV, ATTACHMENTS, REPORT, DOCUMENT)
REPORT_KINDS = (REPORT, DOCUMENT)  # the monitoring report: a workbook or a Word document
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CSV_MIMETYPE = "text/csv"
ZIP, ZIP_MIMETYPE = "zip", "application/zip"
# the ``format`` option of a ``responses`` job (absent: xlsx)
RESPONSE_FORMATS = ("xlsx", *STAT_FORMATS)
STAT_MIMETYPES = {"sav": "application/x-spss-sav", "dta": "application/x-stata-dta"}
LIVE_STATES = (JobState.QUEUED.value, JobState.RUNNING.value)

Clock = Callable[[], datetime]


# -- options ------------------------------------------------------------------------------------


def export_options_to_json(options: ExportOptions) -> dict[str, Any]:
    return {
        "labels": options.labels,
        "language": options.language,
        "complete_only": options.complete_only,
        "date_from": options.date_from.isoformat() if options.date_from else None,
        "date_to": options.date_to.isoformat() if options.date_to else None,
        "subregion": options.subregion,
        "include_tests": options.include_tests,
        **_scope_to_json(options.scope),
        "csv_dialect": options.csv_dialect,
    }


def _scope_to_json(scope: Scope) -> dict[str, Any]:
    """A scoped account's job records its scope (the whole region's records nothing)."""
    return {} if scope.is_whole_region else {"scope": scope.describe()}


def export_options_from_json(data: dict[str, Any]) -> ExportOptions:
    def day(value: Any) -> date | None:
        return date.fromisoformat(value) if value else None

    return ExportOptions(
        labels=bool(data.get("labels")),
        language=data.get("language"),
        complete_only=bool(data.get("complete_only")),
        date_from=day(data.get("date_from")),
        date_to=day(data.get("date_to")),
        subregion=data.get("subregion"),
        include_tests=bool(data.get("include_tests")),
        scope=Scope.described(data.get("scope")),
        csv_dialect=data.get("csv_dialect") or EXCEL_PL.name,
    )


@dataclass(frozen=True)
class ReportOptions:
    by: str | None = None
    compare_id: int | None = None
    language: str | None = None
    include_partial: bool = False
    scope: Scope = UNSCOPED  # the asking account's: nothing outside it is counted

    def to_json(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "compare_id": self.compare_id,
            "language": self.language,
            "include_partial": self.include_partial,
            **_scope_to_json(self.scope),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReportOptions:
        return cls(
            by=data.get("by"),
            compare_id=data.get("compare_id"),
            language=data.get("language"),
            include_partial=bool(data.get("include_partial")),
            scope=Scope.described(data.get("scope")),
        )


def file_format(kind: str, options: dict[str, Any]) -> str:
    """The job's file format: csv, xlsx, or a ``responses`` job's ``format`` option."""
    if kind == CSV:
        return "csv"
    if kind == DOCUMENT:
        return "docx"
    if kind == ATTACHMENTS:
        return ZIP
    if kind == RESPONSES and options.get("format") in STAT_FORMATS:
        return str(options["format"])
    return "xlsx"


def file_name(
    kind: str, fieldwork_id: int, options: dict[str, Any] | None = None, *, zipped: bool = False
) -> str:
    """The download's name, saying what is in it: ``odpowiedzi-badanie-3-kompletne-etykiety
    .xlsx``, ``raport-badanie-3-wg-podregion-porownanie-2.xlsx``; ``zipped``: a zip of CSV
    files (a questionnaire with repeats)."""
    prefix = {ATTACHMENTS: "zalaczniki"}.get(
        kind, "raport" if kind in REPORT_KINDS else "odpowiedzi"
    )
    extension = ZIP if zipped else file_format(kind, options or {})
    parts = [prefix, "badanie", str(fieldwork_id)]
    options = options or {}
    if options.get("complete_only"):
        parts.append("kompletne")
    if options.get("labels"):
        parts.append("etykiety")
    if options.get("subregion"):
        parts.append(_slug(options["subregion"]))
    if options.get("date_from"):
        parts.append(f"od-{options['date_from']}")
    if options.get("date_to"):
        parts.append(f"do-{options['date_to']}")
    if options.get("by"):
        parts += ["wg", _BY_NAMES.get(options["by"], _slug(options["by"]))]
    if options.get("compare_id"):
        parts.append(f"porownanie-{options['compare_id']}")
    if options.get("include_partial"):
        parts.append("z-czesciowymi")
    if options.get("language"):
        parts.append(str(options["language"]))
    if extension in ("csv", ZIP) and options.get("csv_dialect") == RFC4180.name:
        parts.append(RFC4180.name)
    return "-".join(part for part in parts if part) + f".{extension}"


_BY_NAMES = {"subregion": "podregion", "entity_type": "typ", "powiat": "powiat", "gmina": "gmina"}


def _slug(text: str) -> str:
    """Text as a safe part of a file name: ASCII letters, digits and dashes."""
    ascii_text = (
        unicodedata.normalize("NFKD", str(text).replace("ł", "l").replace("Ł", "L"))
        .encode("ascii", "ignore")
        .decode()
    )
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40]


def mimetype(kind: str, options: dict[str, Any] | None = None, name: str = "") -> str:
    if name.endswith(f".{ZIP}"):
        return ZIP_MIMETYPE
    extension = file_format(kind, options or {})
    if extension == "csv":
        return CSV_MIMETYPE
    if extension == "docx":
        return DOCX_MIMETYPE
    return STAT_MIMETYPES.get(extension, XLSX_MIMETYPE)


# -- the job's life -----------------------------------------------------------------------------


def create_job(
    session: Session,
    fieldwork: Fieldwork,
    user_id: int,
    kind: str,
    options: dict[str, Any],
    now: datetime,
) -> tuple[ExportJob, bool]:
    """A job for this file: the user's identical one still being built, or a new one.

    Returns the job and whether it is new (a double click does not build the file twice).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown export kind {kind!r}")
    purge_expired(session, now)
    for job in session.scalars(
        select(ExportJob).where(
            ExportJob.fieldwork_id == fieldwork.id,
            ExportJob.user_id == user_id,
            ExportJob.kind == kind,
            ExportJob.state.in_(LIVE_STATES),
        )
    ):
        if job.options == options and not _mark_if_stale(job, now):
            return job, False
    job = ExportJob(
        key=secrets.token_urlsafe(24),
        fieldwork_id=fieldwork.id,
        user_id=user_id,
        kind=kind,
        options=options,
        file_name=file_name(
            kind,
            fieldwork.id,
            options,
            # the CSV, SPSS or Stata file of a questionnaire with repeats is a zip of them,
            # one per sheet
            zipped=file_format(kind, options) in ("csv", *STAT_FORMATS)
            and has_repeats(session, fieldwork, export_options_from_json(options)),
        ),
        created_at=now,
        heartbeat_at=now,
    )
    session.add(job)
    session.flush()
    return job, True


STALE_MESSAGE = N_("The server stopped while preparing this file. Please ask for it again.")
FAILED_MESSAGE = N_("The file could not be prepared. Please try again or tell an administrator.")


def is_stale(job: ExportJob, now: datetime, stale_after: timedelta | None = None) -> bool:
    """A live job whose builder has gone silent (its process died)."""
    return job.state in LIVE_STATES and now - job.heartbeat_at > (stale_after or STALE_AFTER)


def _mark_if_stale(job: ExportJob, now: datetime) -> bool:
    """Mark a stale job as failed; True if it was stale."""
    if is_stale(job, now):
        job.state = JobState.FAILED.value
        job.error = STALE_MESSAGE
        job.finished_at = now
        return True
    return False


@dataclass(frozen=True)
class Status:
    """How a job looks to its owner right now (reading it changes nothing)."""

    state: JobState
    error: Message | None


def status_of(
    job: ExportJob,
    now: datetime,
    stale_after: timedelta | None = None,
    retry_within: timedelta | None = None,
) -> Status:
    """``retry_within``: how long after going stale a job may still be put back on the queue
    by a worker's check (it is shown as queued meanwhile, not as failed)."""
    if is_stale(job, now, stale_after):
        silent = now - job.heartbeat_at
        if (
            retry_within is not None
            and job.attempts < MAX_ATTEMPTS - 1
            and silent <= (stale_after or STALE_AFTER) + retry_within
        ):
            return Status(JobState.QUEUED, None)
        return Status(JobState.FAILED, Message(STALE_MESSAGE))
    if job.state == JobState.FAILED:
        return Status(JobState.FAILED, Message(job.error or FAILED_MESSAGE))
    return Status(job.state_enum, None)


@dataclass(frozen=True)
class Found:
    """What a file's key names for an account (see :func:`job_for`)."""

    job: ExportJob | None  # the account's own file, holding nothing outside its scope
    refused: ExportJob | None = None  # a file outside its scope: an attempt to record


def job_for(session: Session, key: str, user_id: int, scope: Scope) -> Found:
    """The job with this key, if it is the file of ``user_id`` (an account limited to
    ``scope``) and holds nothing outside that scope.

    Otherwise nothing is found; the job is ``refused`` (the caller answers as for a missing
    file and records the attempt) when it is another account's file asked for by a scoped
    account, or the account's own file made before its scope narrowed.
    """
    job = session.scalar(select(ExportJob).where(ExportJob.key == key))
    if job is None:
        return Found(None)
    if job.user_id != user_id:
        return Found(None, None if scope.is_whole_region else job)
    if not scope.contains(Scope.described((job.options or {}).get("scope"))):
        return Found(None, job)
    return Found(job)


def recent_jobs(
    session: Session, fieldwork: Fieldwork, user_id: int, now: datetime
) -> list[ExportJob]:
    """This user's files for this fieldwork from the last day, newest first."""
    return list(
        session.scalars(
            select(ExportJob)
            .where(
                ExportJob.fieldwork_id == fieldwork.id,
                ExportJob.user_id == user_id,
                ExportJob.created_at > now - KEEP_FOR,
            )
            .order_by(ExportJob.id.desc())
            .limit(10)
        )
    )


def purge_expired(session: Session, now: datetime) -> int:
    """Delete files older than a day (their chunks go with them)."""
    old = select(ExportJob.id).where(ExportJob.created_at < now - KEEP_FOR)
    session.execute(delete(ExportChunk).where(ExportChunk.job_id.in_(old)))
    return cast(
        CursorResult[Any],
        session.execute(delete(ExportJob).where(ExportJob.created_at < now - KEEP_FOR)),
    ).rowcount


class _Progress:
    """Counts rows written by the builder; a ticker thread stores the count every second."""

    def __init__(self, database: Database, job_id: int, clock: Clock) -> None:
        self.database, self.job_id, self.clock = database, job_id, clock
        self.done = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name=f"export-{job_id}", daemon=True)

    def __call__(self, rows: int) -> None:
        self.done += rows

    def __enter__(self) -> _Progress:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _tick(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                self.store()
            except Exception:  # noqa: BLE001 - a missed heartbeat is retried a second later
                log.warning("export job %d: progress not stored", self.job_id, exc_info=True)

    def store(self, **values: Any) -> None:
        with self.database.session() as session:
            session.execute(
                update(ExportJob)
                .where(ExportJob.id == self.job_id)
                .values(done=self.done, heartbeat_at=self.clock(), **values)
            )


Builder = Callable[[Session, Fieldwork, dict[str, Any], Path, "_Progress", Translate], None]


def _build_export(session, fieldwork, options, path, progress, translate) -> None:
    kind = options.get("_kind", RESPONSES)
    export_options = export_options_from_json(options)
    progress.store(total=count_responses(session, fieldwork, export_options))
    written_as = file_format(kind, options)
    if written_as in STAT_FORMATS:
        write_statfile(
            session,
            fieldwork,
            path,
            export_options,
            file_format=written_as,
            translate=translate,
            progress=progress,
        )
        return
    if kind == ATTACHMENTS:
        write_attachments(session, fieldwork, path, export_options, progress=progress)
        return
    write = write_xlsx if kind == RESPONSES else write_csv
    write(session, fieldwork, path, export_options, translate=translate, progress=progress)


def _build_report(session, fieldwork, options, path, progress, translate) -> None:
    """The monitoring report: the workbook, or (``document``) the Word document."""
    report = ReportOptions.from_json(options)
    compare = session.get(Fieldwork, report.compare_id) if report.compare_id else None
    shared: dict[str, Any] = {
        "by": report.by,
        "compare": compare,
        "language": report.language,
        "include_partial": report.include_partial,
        "scope": report.scope,
    }
    if options.get("_kind") == DOCUMENT:
        data = write_document(session, fieldwork, **shared, today=local_date(progress.clock()))
    else:
        data = write_report(session, fieldwork, **shared)
    path.write_bytes(data)


BUILDERS: dict[str, Builder] = {
    RESPONSES: _build_export,
    CSV: _build_export,
    ATTACHMENTS: _build_export,
    REPORT: _build_report,
    DOCUMENT: _build_report,
}


def run_job(database: Database, job_id: int, clock: Clock, translate: Translate) -> None:
    """Build the job's file and store it; any failure marks the job failed (and is logged)."""
    with database.session() as session:
        job = session.get(ExportJob, job_id)
        if job is None or job.state != JobState.QUEUED.value:
            return  # done, failed, or taken by another worker
        job.state = JobState.RUNNING.value
        job.heartbeat_at = clock()
        kind, options, fieldwork_id = job.kind, dict(job.options), job.fieldwork_id
        # a worker killed while storing the file may have left some of its chunks
        session.execute(delete(ExportChunk).where(ExportChunk.job_id == job_id))
    progress = _Progress(database, job_id, clock)
    try:
        with tempfile.TemporaryDirectory(prefix="ankieta-job-") as directory:
            path = Path(directory) / "file"
            with progress, database.sessionmaker() as session:
                fieldwork = session.get(Fieldwork, fieldwork_id)
                if fieldwork is None:
                    raise ReportError("the fieldwork is gone")
                BUILDERS[kind](
                    session, fieldwork, {**options, "_kind": kind}, path, progress, translate
                )
            _store_file(database, job_id, path, clock, progress.done)
    except Exception as exc:
        # a workbook too big for Excel says so; anything else is the general message
        error = exc.message if isinstance(exc, SheetFull) else FAILED_MESSAGE
        if not isinstance(exc, SheetFull):
            log.exception("export job %d failed", job_id)
        with database.session() as session:
            session.execute(delete(ExportChunk).where(ExportChunk.job_id == job_id))
            session.execute(
                update(ExportJob)
                .where(ExportJob.id == job_id)
                .values(state=JobState.FAILED.value, error=error, finished_at=clock())
            )


def _store_file(database: Database, job_id: int, path: Path, clock: Clock, rows: int) -> None:
    with database.session() as session, path.open("rb") as handle:
        size = 0
        for position, data in enumerate(iter(lambda: handle.read(CHUNK_BYTES), b"")):
            # a Core insert: the session keeps no copy, so one chunk is in memory at a time
            session.execute(insert(ExportChunk).values(job_id=job_id, position=position, data=data))
            size += len(data)
        session.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id)
            .values(
                state=JobState.DONE.value,
                size=size,
                done=rows,
                finished_at=clock(),
                heartbeat_at=clock(),
            )
        )


def iter_file(database: Database, job_id: int) -> Iterator[bytes]:
    """The stored file, a chunk at a time, each read in a short session of its own."""
    position = 0
    while True:
        with database.sessionmaker() as session:
            data = session.scalar(
                select(ExportChunk.data).where(
                    ExportChunk.job_id == job_id, ExportChunk.position == position
                )
            )
        if data is None:
            return
        yield data
        position += 1


# -- the worker ---------------------------------------------------------------------------------

MAX_ATTEMPTS = 2  # a job whose worker died is built once more by another, then reported failed


def stale_after(app: Flask) -> timedelta:
    return timedelta(seconds=app.config["JOB_STALE_SECONDS"])


def status_in(app: Flask, job: ExportJob, now: datetime) -> Status:
    """The job's status with this installation's timings (a dead worker's job is retried)."""
    retry_within = timedelta(seconds=app.config["WORKER_CHECK_SECONDS"] + 15)
    return status_of(job, now, stale_after(app), retry_within)


@tasks.handler("export")
def build(app: Flask, job_id: int) -> None:
    """The queue's ``export`` work: build job ``job_id`` (see ``run_job``)."""
    from app.platform.extensions import get_db
    from app.platform.i18n import translate
    from app.platform.memory import trimmer_of

    log.info("export job %d: building it in process %d", job_id, os.getpid())
    run_job(get_db(), job_id, app.config["CLOCK"], translate)
    trimmer_of(app).now()  # a workbook's worth of freed memory goes back at once


@tasks.periodic("exports.recover")
def recover_stale(app: Flask) -> list[int]:
    """Put jobs whose worker died back on the queue (once); the ids put back."""
    from app.platform.extensions import get_db

    now = app.config["CLOCK"]()
    again: list[int] = []
    with get_db().session() as session:
        # queued ones too: a worker may take a job's message and die before it starts it
        candidates = session.execute(
            select(ExportJob.id, ExportJob.state, ExportJob.attempts).where(
                ExportJob.state.in_(LIVE_STATES),
                ExportJob.heartbeat_at < now - stale_after(app),
                ExportJob.attempts < MAX_ATTEMPTS - 1,
            )
        ).all()
        for job_id, state, attempts in candidates:
            # one UPDATE decides which worker's check takes it (each worker runs this check)
            taken = cast(
                CursorResult[Any],
                session.execute(
                    update(ExportJob)
                    .where(
                        ExportJob.id == job_id,
                        ExportJob.state == state,
                        ExportJob.attempts == attempts,
                    )
                    .values(state=JobState.QUEUED.value, attempts=attempts + 1, heartbeat_at=now)
                ),
            ).rowcount
            if taken:
                again.append(job_id)
    for job_id in again:
        log.warning("export job %d: its worker stopped; building it again", job_id)
        tasks.queue_of(app).submit(job_id)
    return again
