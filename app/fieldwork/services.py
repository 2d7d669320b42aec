"""Create and run fieldworks, import their samples, and hand out personal links."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from app.domain.dates import WARSAW
from app.domain.fieldwork.links import new_token
from app.domain.fieldwork.sample.parsing import parse_sample
from app.domain.fieldwork.sample.results import SampleProblem, SampleRow
from app.domain.messages import N_, Message
from app.domain.outputs.export import neutralise
from app.domain.questionnaire.answers import StoredFile, find_stored_file
from app.models.calling import seed_outcomes
from app.models.cati import Case
from app.models.fieldwork import (
    ContactPhone,
    Fieldwork,
    FieldworkState,
    InvalidTransition,
    Response,
    ResponseStatus,
    SampleUnit,
)
from app.models.scope import UNSCOPED, Scope
from app.models.surveys import Survey
from app.platform.db import Database

log = logging.getLogger(__name__)


class FieldworkError(Exception):
    """A refused fieldwork operation, with a message for the person who asked."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render())
        self.message = message


def find_survey(session: Session, survey_ref: str) -> Survey | None:
    """The survey with this code (settings.id) or numeric id."""
    survey = session.scalar(select(Survey).where(Survey.code == survey_ref))
    if survey is None and survey_ref.isdigit():
        survey = session.get(Survey, int(survey_ref))
    return survey


def create_fieldwork(
    session: Session,
    survey_ref: str,
    title: str,
    *,
    opens_on: date | None = None,
    closes_on: date | None = None,
    open_link: bool = False,
) -> Fieldwork:
    """A draft fieldwork of the survey's latest version."""
    survey = find_survey(session, survey_ref)
    if survey is None or survey.latest is None:
        raise FieldworkError(Message(N_("There is no survey %(ref)s."), {"ref": survey_ref}))
    title = title.strip()
    if not title:
        raise FieldworkError(Message(N_("A fieldwork needs a title.")))
    if opens_on and closes_on and closes_on < opens_on:
        raise FieldworkError(Message(N_("The closing date is before the opening date.")))
    fieldwork = Fieldwork(
        survey_id=survey.id,
        survey_version_id=survey.latest.id,
        title=title[:300],
        opens_on=opens_on,
        closes_on=closes_on,
        open_link_token=new_token() if open_link else None,
        test_link_token=new_token(),
    )
    session.add(fieldwork)
    session.flush()
    seed_outcomes(session, fieldwork)
    log.info("fieldwork %d created for %s", fieldwork.id, survey.code)
    return fieldwork


def get_fieldwork(session: Session, fieldwork_id: int) -> Fieldwork:
    fieldwork = session.get(Fieldwork, fieldwork_id)
    if fieldwork is None:
        raise FieldworkError(Message(N_("There is no fieldwork %(id)s."), {"id": fieldwork_id}))
    return fieldwork


def change_state(
    session: Session,
    fieldwork: Fieldwork,
    action: str,
    now: datetime,
    *,
    retention_days: int | None = None,
) -> None:
    """Open or close ``fieldwork`` (FieldworkError if that is not possible now).

    Closing sets the day its contact data is due for erasure, ``retention_days`` after
    closing, unless a day is set already.
    """
    try:
        if action == "open":
            fieldwork.open(now)
        elif action == "close":
            fieldwork.close(now)
            if fieldwork.retain_contacts_until is None and retention_days is not None:
                fieldwork.retain_contacts_until = (
                    now.astimezone(WARSAW) + timedelta(days=retention_days)
                ).date()
        else:
            raise FieldworkError(Message(N_("Unknown action %(action)s."), {"action": action}))
    except InvalidTransition:
        if action == "open":
            message = Message(N_("The fieldwork is already open."))
        else:
            message = Message(N_("Only an open fieldwork can be closed."))
        raise FieldworkError(message) from None
    session.flush()
    log.info("fieldwork %d: %s", fieldwork.id, fieldwork.state)


def make_test_link(session: Session, fieldwork: Fieldwork) -> bool:
    """Give the fieldwork a test link if it has none (older fieldworks); True if made."""
    if fieldwork.test_link_token is not None:
        return False
    if fieldwork.state == FieldworkState.CLOSED:
        raise FieldworkError(Message(N_("The fieldwork is closed.")))
    fieldwork.test_link_token = new_token()
    session.flush()
    return True


def test_response_count(session: Session, fieldwork: Fieldwork, scope: Scope) -> int:
    return session.execute(
        select(func.count())
        .select_from(Response)
        .where(
            Response.fieldwork_id == fieldwork.id,
            Response.is_test.is_(True),
            scope.covers(Response.sample_unit_id),
        )
    ).scalar_one()


@dataclass
class FieldworkSummary:
    fieldwork: Fieldwork
    sample_size: int = 0
    opened: int = 0  # responses started (any status)
    partial: int = 0  # started, not complete
    complete: int = 0


def list_fieldworks(session: Session, scope: Scope) -> list[FieldworkSummary]:
    """Every fieldwork (with institutions in ``scope``) with its sample size and response
    counts over that scope, newest first."""
    fieldworks = session.scalars(
        select(Fieldwork).where(scope.covers_fieldwork()).order_by(Fieldwork.id.desc())
    ).all()
    sizes = dict(
        session.execute(
            select(SampleUnit.fieldwork_id, func.count())
            .where(scope.covers(SampleUnit.id))
            .group_by(SampleUnit.fieldwork_id)
        )
        .tuples()
        .all()
    )
    counts: dict[tuple[int, str], int] = {
        (fid, status): n
        for fid, status, n in session.execute(
            select(Response.fieldwork_id, Response.status, func.count())
            .where(Response.is_test.is_(False), scope.covers(Response.sample_unit_id))
            .group_by(Response.fieldwork_id, Response.status)
        ).all()
    }
    summaries = []
    for fw in fieldworks:
        complete = counts.get((fw.id, ResponseStatus.COMPLETE.value), 0)
        partial = counts.get((fw.id, ResponseStatus.IN_PROGRESS.value), 0)
        summaries.append(
            FieldworkSummary(fw, sizes.get(fw.id, 0), complete + partial, partial, complete)
        )
    return summaries


@dataclass
class ImportOutcome:
    imported: int = 0
    problems: list[SampleProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


IMPORT_BATCH = 1000  # rows per insert: one short transaction each in the background


def check_sample(
    session: Session,
    fieldwork: Fieldwork,
    data: bytes,
    filename: str,
    scope: Scope = UNSCOPED,
) -> ImportOutcome:
    """Every problem of a sample file for this fieldwork; stores nothing.

    The rows are streamed (only their external ids are kept), so a 100,000-row file is
    checked in bounded memory; ``imported`` is how many institutions the file would add.
    A row outside ``scope`` (the subregions and entity types of the account importing) is
    a problem of that row.
    """
    if fieldwork.state == FieldworkState.CLOSED:
        problem = SampleProblem(None, None, Message(N_("The fieldwork is closed.")))
        return ImportOutcome(problems=[problem])
    existing = set(
        session.scalars(
            select(SampleUnit.external_id).where(SampleUnit.fieldwork_id == fieldwork.id)
        )
    )
    clashes: list[tuple[int, str]] = []
    outside: list[tuple[int, str, str]] = []  # row, column, value
    rows = 0

    def check(row: SampleRow) -> None:
        nonlocal rows
        rows += 1
        if row.external_id in existing:
            clashes.append((row.row, row.external_id))
        column = scope.outside(row.subregion, row.entity_type)
        if column is not None:
            outside.append((row.row, column, getattr(row, column)))

    parsed = parse_sample(data, filename, on_row=check)
    if not parsed.ok:
        return ImportOutcome(problems=parsed.problems)
    problems = [
        SampleProblem(
            row,
            parsed.headers.get("external_id", "external_id"),  # as the file names it
            Message(
                N_("external id %(id)s is already in this fieldwork's sample"),
                {"id": external_id},
            ),
        )
        for row, external_id in clashes
    ]
    allowed = {"subregion": scope.subregions, "entity_type": scope.entity_types}
    problems += [
        SampleProblem(
            row,
            parsed.headers.get(column, column),
            Message(
                _OUTSIDE_SCOPE[column],
                {"value": repr(value), "allowed": ", ".join(sorted(allowed[column]))},
            ),
        )
        for row, column, value in outside
    ]
    problems.sort(key=lambda problem: problem.row or 0)
    if problems:
        return ImportOutcome(problems=problems)
    return ImportOutcome(imported=rows)


_OUTSIDE_SCOPE = {
    "subregion": N_("subregion %(value)s is outside the account's subregions (%(allowed)s)"),
    "entity_type": N_("entity type %(value)s is outside the account's entity types (%(allowed)s)"),
}


def insert_sample(
    fieldwork_id: int,
    data: bytes,
    filename: str,
    now: datetime,
    write: Callable[[Callable[[Session], None]], None],
    progress: Callable[[int], None] | None = None,
    *,
    on_batch: Callable[[list[str]], None] | None = None,
) -> int:
    """Store the rows of a checked sample file (``check_sample``), ``IMPORT_BATCH`` at a time.

    ``write(work)`` runs ``work(session)`` for each batch: in one caller's session (a small
    file, one transaction) or each in a short transaction of its own (a large file in the
    background, so that on SQLite a login never waits long for the write lock). Rows go in
    with Core inserts, never as ORM objects, so memory stays flat; returns the rows stored.
    """
    batch: list[SampleRow] = []
    stored = 0

    def flush() -> None:
        nonlocal stored
        rows = list(batch)
        batch.clear()
        write(lambda session: _insert_rows(session, fieldwork_id, rows, now))
        if on_batch is not None:  # the external ids stored: a failure later removes them
            on_batch([row.external_id for row in rows])
        stored += len(rows)
        if progress is not None:
            progress(stored)

    def add(row: SampleRow) -> None:
        batch.append(row)
        if len(batch) >= IMPORT_BATCH:
            flush()

    parsed = parse_sample(data, filename, on_row=add)
    if not parsed.ok:  # checked before; a file that changed meanwhile is a bug
        raise FieldworkError(Message(N_("The sample file changed while it was imported.")))
    if batch:
        flush()
    log.info("fieldwork %d: %d sample rows imported", fieldwork_id, stored)
    return stored


def _insert_rows(session: Session, fieldwork_id: int, rows: list[SampleRow], now: datetime) -> None:
    """Insert ``rows`` as sample units, each with its phones and its call-queue case."""
    unit_ids = session.scalars(
        insert(SampleUnit).returning(SampleUnit.id, sort_by_parameter_order=True),
        [
            {
                "fieldwork_id": fieldwork_id,
                "external_id": row.external_id,
                "name": row.name,
                "entity_type": row.entity_type,
                "subregion": row.subregion,
                "powiat": row.powiat,
                "gmina": row.gmina,
                "contact_person": row.contact_person,
                "email": row.email,
                "variables": dict(row.variables),
                "token": new_token(),
                "created_at": now,
            }
            for row in rows
        ],
    ).all()
    phones = [
        {"sample_unit_id": unit_id, "position": position, "number": number, "label": ""}
        for unit_id, row in zip(unit_ids, rows, strict=True)
        for position, number in enumerate(row.phones, start=1)
    ]
    if phones:
        session.execute(insert(ContactPhone), phones)
    # every sampled institution is also a case of the call queue, callable at once
    session.execute(
        insert(Case),
        [
            {
                "fieldwork_id": fieldwork_id,
                "sample_unit_id": unit_id,
                "next_callable_at": now,
                "updated_at": now,
            }
            for unit_id in unit_ids
        ],
    )


def remove_units(session: Session, fieldwork_id: int, external_ids: Iterable[str]) -> None:
    """Delete these sample units of a fieldwork (a failed import's; cases, phones go too)."""
    ids = list(external_ids)
    for start in range(0, len(ids), IMPORT_BATCH):
        chunk = ids[start : start + IMPORT_BATCH]
        units = select(SampleUnit.id).where(
            SampleUnit.fieldwork_id == fieldwork_id, SampleUnit.external_id.in_(chunk)
        )
        session.execute(delete(Case).where(Case.sample_unit_id.in_(units)))
        session.execute(delete(ContactPhone).where(ContactPhone.sample_unit_id.in_(units)))
        session.execute(
            delete(SampleUnit).where(
                SampleUnit.fieldwork_id == fieldwork_id, SampleUnit.external_id.in_(chunk)
            )
        )


def import_sample_in_batches(
    database: Database,
    fieldwork_id: int,
    data: bytes,
    filename: str,
    now: datetime,
    *,
    on_total: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    scope: Scope = UNSCOPED,
) -> ImportOutcome:
    """Check a sample file, then store it ``IMPORT_BATCH`` rows per short transaction.

    For a large file (the web's background import, the command line): a login never
    waits for more than one batch. If storing fails half-way, the rows already stored are
    removed again and the error is raised: all or nothing, as with ``import_sample``.
    A row outside ``scope`` refuses the file (``check_sample``).
    """
    with database.sessionmaker() as session:
        fieldwork = get_fieldwork(session, fieldwork_id)
        checked = check_sample(session, fieldwork, data, filename, scope)
    if not checked.ok:
        return checked
    if on_total is not None:
        on_total(checked.imported)
    stored: list[str] = []

    def write(work: Callable[[Session], None]) -> None:
        with database.session() as session:
            work(session)

    try:
        imported = insert_sample(
            fieldwork_id, data, filename, now, write, progress, on_batch=stored.extend
        )
    except BaseException:
        with database.session() as session:
            remove_units(session, fieldwork_id, stored)
        raise
    return ImportOutcome(imported=imported)


def import_sample(
    session: Session, fieldwork: Fieldwork, data: bytes, filename: str, *, now: datetime
) -> ImportOutcome:
    """Add the institutions in a sample file; a file with any bad row adds nothing.

    All in ``session``'s transaction (a small file, the command line, tests); the web
    imports a large file in the background instead (app.fieldwork.imports).
    """
    checked = check_sample(session, fieldwork, data, filename)
    if not checked.ok:
        return checked

    def write(work: Callable[[Session], None]) -> None:
        work(session)

    imported = insert_sample(fieldwork.id, data, filename, now, write)
    session.flush()
    session.expire_all()  # rows went in with Core: relationships loaded before are stale
    return ImportOutcome(imported=imported)


def invitation_links_csv(
    session: Session, fieldwork: Fieldwork, base_url: str, scope: Scope = UNSCOPED
) -> bytes:
    """A CSV for mail merge: one row per institution (in ``scope``) with its personal link
    (UTF-8 with BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["external_id", "name", "entity_type", "contact_person", "email", "link"])
    units = session.scalars(
        select(SampleUnit)
        .where(SampleUnit.fieldwork_id == fieldwork.id, scope.covers(SampleUnit.id))
        .order_by(SampleUnit.id)
    )
    for unit in units:
        writer.writerow(
            [
                _csv_safe(unit.external_id),
                _csv_safe(unit.name),
                _csv_safe(unit.entity_type),
                _csv_safe(unit.contact_person),
                _csv_safe(unit.email),
                f"{base_url.rstrip('/')}/r/{unit.token}",
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_safe(value: str) -> str:
    """Text that a spreadsheet will not run as a formula (however it splits the line)."""
    return neutralise(value)


UNIT_STATUSES = ("not_started", "in_progress", "complete")


@dataclass
class UnitRow:
    unit: SampleUnit
    status: str  # one of UNIT_STATUSES
    response_id: int | None
    updated_at: datetime | None


def units_with_status(
    session: Session,
    fieldwork: Fieldwork,
    scope: Scope,
    *,
    subregion: str = "",
    entity_type: str = "",
    status: str = "",
    limit: int | None = None,
) -> list[UnitRow]:
    """The fieldwork's institutions in ``scope`` with their response status, filtered as
    asked (the first ``limit`` of them in name order, if given)."""
    query = (
        select(SampleUnit, Response.id, Response.status, Response.updated_at)
        .join(Response, Response.sample_unit_id == SampleUnit.id, isouter=True)
        .where(SampleUnit.fieldwork_id == fieldwork.id, scope.covers(SampleUnit.id))
        .order_by(SampleUnit.name, SampleUnit.id)
    )
    if subregion:
        query = query.where(SampleUnit.subregion == subregion)
    if entity_type:
        query = query.where(SampleUnit.entity_type == entity_type)
    if status == "not_started":
        query = query.where(Response.id.is_(None))
    elif status in (ResponseStatus.IN_PROGRESS.value, ResponseStatus.COMPLETE.value):
        query = query.where(Response.status == status)
    if limit is not None:
        query = query.limit(limit)
    rows = []
    for unit, response_id, response_status, updated_at in session.execute(query).all():
        rows.append(UnitRow(unit, response_status or "not_started", response_id, updated_at))
    return rows


def response_file(response: Response, key: str) -> StoredFile | None:
    """The file ``key`` if one of the response's answers names it (a file sent with it)."""
    return find_stored_file(response.answers or {}, key)
