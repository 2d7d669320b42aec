"""Results files built in the background, so a large one never holds a request.

Every results file is a job: the response workbook, the responses CSV and the monitoring
report. A ``responses`` job's options may name another ``format`` of the same responses:
``sav`` (SPSS) or ``dta`` (Stata), written by ``app.exports.statfiles``.

A job is a row (``export_job``): the web page creates it, a worker thread of the same
server process builds the workbook into a temporary file, reporting how many responses it
has written, and then stores the file in the database in 64 KiB chunks (``export_chunk``),
so any app server can send it. While a job runs, its heartbeat is refreshed every second;
a job whose heartbeat stops (the process died or was restarted) is reported as failed the
next time somebody looks at it, and can simply be asked for again. Finished files are kept
for a day.
"""

from __future__ import annotations

import logging
import queue
import re
import secrets
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app.db import Database
from app.domain.messages import N_, Message
from app.exports.services import (
    ExportOptions,
    Translate,
    count_responses,
    write_csv,
    write_xlsx,
)
from app.exports.statfiles import FORMATS as STAT_FORMATS
from app.exports.statfiles import write_statfile
from app.models.fieldwork import Fieldwork
from app.models.jobs import ExportChunk, ExportJob, JobState
from app.reports.services import ReportError, write_report

log = logging.getLogger(__name__)

# Small chunks keep the servers' memory flat on PostgreSQL: libpq never shrinks a
# connection's buffers, so every pooled connection that once carried a 1 MiB chunk kept
# about 6 MiB; with 64 KiB it keeps about 0.35 MiB (measured, docs/development.md "Memory").
CHUNK_BYTES = 64 << 10
HEARTBEAT_SECONDS = 1.0
STALE_AFTER = timedelta(minutes=2)  # no heartbeat for this long: the builder is gone
KEEP_FOR = timedelta(days=1)
RESPONSES, CSV, REPORT = "responses", "csv", "report"
KINDS = (RESPONSES, CSV, REPORT)
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv"
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
    }


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
    )


@dataclass(frozen=True)
class ReportOptions:
    by: str | None = None
    compare_id: int | None = None
    language: str | None = None
    include_partial: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "compare_id": self.compare_id,
            "language": self.language,
            "include_partial": self.include_partial,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReportOptions:
        return cls(
            by=data.get("by"),
            compare_id=data.get("compare_id"),
            language=data.get("language"),
            include_partial=bool(data.get("include_partial")),
        )


def file_format(kind: str, options: dict[str, Any]) -> str:
    """The job's file format: csv, xlsx, or a ``responses`` job's ``format`` option."""
    if kind == CSV:
        return "csv"
    if kind == RESPONSES and options.get("format") in STAT_FORMATS:
        return str(options["format"])
    return "xlsx"


def file_name(kind: str, fieldwork_id: int, options: dict[str, Any] | None = None) -> str:
    """The download's name, saying what is in it: ``odpowiedzi-badanie-3-kompletne-etykiety
    .xlsx``, ``raport-badanie-3-wg-podregion-porownanie-2.xlsx``."""
    prefix = "raport" if kind == REPORT else "odpowiedzi"
    extension = file_format(kind, options or {})
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


def mimetype(kind: str, options: dict[str, Any] | None = None) -> str:
    extension = file_format(kind, options or {})
    if extension == "csv":
        return CSV_MIMETYPE
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
        file_name=file_name(kind, fieldwork.id, options),
        created_at=now,
        heartbeat_at=now,
    )
    session.add(job)
    session.flush()
    return job, True


STALE_MESSAGE = N_("The server stopped while preparing this file. Please ask for it again.")
FAILED_MESSAGE = N_("The file could not be prepared. Please try again or tell an administrator.")


def is_stale(job: ExportJob, now: datetime) -> bool:
    """A live job whose builder has gone silent (its process died)."""
    return job.state in LIVE_STATES and now - job.heartbeat_at > STALE_AFTER


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


def status_of(job: ExportJob, now: datetime) -> Status:
    if is_stale(job, now):
        return Status(JobState.FAILED, Message(STALE_MESSAGE))
    if job.state == JobState.FAILED:
        return Status(JobState.FAILED, Message(job.error or FAILED_MESSAGE))
    return Status(job.state_enum, None)


def job_for(session: Session, key: str, user_id: int) -> ExportJob | None:
    """The job with this key if it belongs to ``user_id``."""
    job = session.scalar(select(ExportJob).where(ExportJob.key == key))
    if job is None or job.user_id != user_id:
        return None
    return job


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
    return session.execute(delete(ExportJob).where(ExportJob.created_at < now - KEEP_FOR)).rowcount


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


def run_job(database: Database, job_id: int, clock: Clock, translate: Translate) -> None:
    """Build the job's file and store it; any failure marks the job failed (and is logged)."""
    with database.session() as session:
        job = session.get(ExportJob, job_id)
        if job is None or job.state != JobState.QUEUED.value:
            return
        job.state = JobState.RUNNING.value
        job.heartbeat_at = clock()
        kind, options, fieldwork_id = job.kind, dict(job.options), job.fieldwork_id
    progress = _Progress(database, job_id, clock)
    try:
        with tempfile.TemporaryDirectory(prefix="ankieta-job-") as directory:
            path = Path(directory) / "file"
            with progress, database.sessionmaker() as session:
                fieldwork = session.get(Fieldwork, fieldwork_id)
                if fieldwork is None:
                    raise ReportError("the fieldwork is gone")
                if kind in (RESPONSES, CSV):
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
                    else:
                        write = write_xlsx if kind == RESPONSES else write_csv
                        write(
                            session,
                            fieldwork,
                            path,
                            export_options,
                            translate=translate,
                            progress=progress,
                        )
                else:
                    report = ReportOptions.from_json(options)
                    compare = (
                        session.get(Fieldwork, report.compare_id) if report.compare_id else None
                    )
                    path.write_bytes(
                        write_report(
                            session,
                            fieldwork,
                            by=report.by,
                            compare=compare,
                            language=report.language,
                            include_partial=report.include_partial,
                        )
                    )
            _store_file(database, job_id, path, clock, progress.done)
    except Exception:
        log.exception("export job %d failed", job_id)
        with database.session() as session:
            session.execute(delete(ExportChunk).where(ExportChunk.job_id == job_id))
            session.execute(
                update(ExportJob)
                .where(ExportJob.id == job_id)
                .values(state=JobState.FAILED.value, error=FAILED_MESSAGE, finished_at=clock())
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


class JobRunner:
    """One background thread per server process that builds queued files in turn."""

    def __init__(self, work: Callable[[int], None]) -> None:
        self._work = work
        self._queue: queue.Queue[int] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job_id: int) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="ankieta-exports", daemon=True
                )
                self._thread.start()
        self._queue.put(job_id)

    def _loop(self) -> None:
        while True:
            job_id = self._queue.get()
            try:
                self._work(job_id)
            except Exception:  # noqa: BLE001 - run_job logs; the worker must keep going
                log.exception("export job %d crashed the worker", job_id)
            finally:
                self._queue.task_done()

    def wait(self) -> None:
        """Block until every submitted job has finished (tests, the command line)."""
        self._queue.join()
