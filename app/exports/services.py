"""Reading a fieldwork's responses for export, and writing them to CSV, streamed in order.

Responses are read with ``yield_per`` (a server-side cursor on PostgreSQL) in id order and
written row by row: XlsxWriter in ``constant_memory`` mode flushes each row to disk, and the
CSV is produced line by line, so memory does not grow with the number of responses (the
workbook is written by app.exports.workbook, SPSS and Stata files by app.exports.statfiles). Each
response's answers go through its own version's ``Flow`` (``clean_answers``), so answers of
questions that became irrelevant are left out and calculations are filled in.

A repeat's entries have a sheet (CSV file, statistics file) of their own
(``_Plan.repeat_sheets``); ``_rows`` hands each response's entries to the writer's
``instances`` sink in the same pass, so they stream too.
"""

from __future__ import annotations

import contextlib
import csv
import io
import tempfile
import zipfile
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from app.domain.dates import local_midnight, local_wall_time
from app.domain.outputs.export import (
    DONT_KNOW_LABEL,
    META_COLUMNS,
    REFUSED_LABEL,
    REPEAT_KEY_COLUMNS,
    AnswerReader,
    Cell,
    Column,
    ColumnKind,
    DirectCells,
    RepeatSheet,
    RowConverter,
    duration_minutes,
    instance_rows,
    mode_of,
    neutralise,
    paradata_cells,
    paradata_columns,
    repeat_flows,
    repeat_sheets,
    response_columns,
)
from app.domain.outputs.words import SHEETS, FileWords, file_words
from app.domain.questionnaire.answers import DONT_KNOW, REFUSED, Missing
from app.domain.questionnaire.flow import Flow
from app.domain.workbooks import SAFE_XLSX_OPTIONS
from app.models.calling import rates_for
from app.models.cati import Call, Case, Outcome
from app.models.fieldwork import Fieldwork, Response, ResponseStatus, SampleUnit
from app.models.mail import sent_counts
from app.models.scope import UNSCOPED, Scope
from app.models.surveys import SurveyVersion, flow_of
from app.models.users import User

WORKBOOK_OPTIONS = {**SAFE_XLSX_OPTIONS, "constant_memory": True}
FORMATS = ("xlsx", "csv")


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV is written: the field separator, the decimal mark, a byte-order mark."""

    name: str
    delimiter: str
    decimal: str
    bom: bool  # UTF-8's byte-order mark first: Excel then reads the file as UTF-8


# Excel in Polish splits a CSV on ";" and reads "1,5" as a number (a "," file opens as one
# column there); tools (R, pandas, SPSS) read the standard: ",", "1.5", no BOM.
EXCEL_PL = CsvDialect("excel-pl", ";", ",", True)
RFC4180 = CsvDialect("rfc4180", ",", ".", False)
CSV_DIALECTS = {dialect.name: dialect for dialect in (EXCEL_PL, RFC4180)}
# Rows fetched from the database at a time. 200 rather than 1,000: the same speed, and the
# peak memory of a 10,000-response export fell from 115 to 82 MB (bench/export.py, PostgreSQL),
# which is what a server worker keeps after its first export.
BATCH = 200
DATE_FORMAT = "dd.mm.yyyy"  # Polish order, as the interface writes dates
DATETIME_FORMAT = "dd.mm.yyyy hh:mm"
TIME_FORMAT = "hh:mm"
MIN_WIDTH, MAX_WIDTH = 8, 50

Progress = Callable[[int], None]  # called with the number of rows just written


@dataclass(frozen=True)
class ExportOptions:
    """What to export and how: the filters and the shape of the values."""

    labels: bool = False  # choice labels instead of codes
    language: str | None = None  # of labels (default: the survey's default language)
    complete_only: bool = False
    date_from: date | None = None  # responses last active on or after this day (Warsaw)
    date_to: date | None = None  # ... and on or before this day
    subregion: str | None = None
    include_tests: bool = False  # answers given through the test link
    scope: Scope = UNSCOPED  # the asking account's: nothing outside it is written
    csv_dialect: str = EXCEL_PL.name  # a name of CSV_DIALECTS (CSV files only)


class _Plan:
    """Everything needed to turn stored responses into rows, worked out once per export."""

    def __init__(
        self,
        session: Session,
        fieldwork: Fieldwork,
        options: ExportOptions,
        translate: Translate | None,
    ) -> None:
        versions = _versions(session, fieldwork, options)
        self.version_numbers = {v.id: v.number for v in versions}
        self.flows: dict[int, Flow] = {v.id: flow_of(v) for v in versions}
        ordered = [self.flows[v.id] for v in versions]
        self.ordered_flows = ordered
        newest = ordered[-1].questionnaire.settings
        self.language = options.language or newest.default_language
        # the files' own words (sheets, headers, status): Polish unless the labels are English
        self.words: FileWords = file_words(self.language)
        self.languages = tuple(dict.fromkeys([*newest.languages, self.language]))
        self.columns: list[Column] = response_columns(ordered)
        missing_labels = _missing_labels(translate, self.language)
        self.converters = {
            version_id: RowConverter(
                flow,
                self.columns,
                labels=options.labels,
                language=self.language,
                missing_labels=missing_labels,
            )
            for version_id, flow in self.flows.items()
        }
        self.readers = {version_id: AnswerReader(flow) for version_id, flow in self.flows.items()}
        # the versions whose cells are made straight from the stored answers (one pass)
        self.direct = {
            version_id: DirectCells(reader, self.converters[version_id])
            for version_id, reader in self.readers.items()
            if reader.direct
        }
        last = _last_interviewers(session, fieldwork)
        self.interviewers = {unit: name for unit, (name, _) in last.items()}
        self.usernames = {unit: username for unit, (_, username) in last.items()}
        self.paradata = paradata_columns(ordered)
        # one sheet per repeat; each version's converters for its instances
        self.repeat_sheets = repeat_sheets(
            ordered, self.language, [self.words.sheet(key) for key in SHEETS]
        )
        self.instance_converters: dict[int, dict[str, RowConverter]] = {}
        for version_id, flow in self.flows.items():
            scopes = repeat_flows(flow)
            self.instance_converters[version_id] = {
                sheet.repeat: RowConverter(
                    scopes[sheet.repeat][0],
                    sheet.columns,
                    labels=options.labels,
                    language=self.language,
                    missing_labels=missing_labels,
                )
                for sheet in self.repeat_sheets
                if sheet.repeat in scopes
            }

    @property
    def header(self) -> list[str]:
        """The columns' names as data (the JSON API's fields, the statistics files'
        variables): English fixed names, the paradata, then the questionnaire's variables."""
        paradata = [name for name, _ in self.paradata]
        return [*META_COLUMNS, *paradata, *(c.name for c in self.columns)]

    @property
    def file_header(self) -> list[str]:
        """The header of the Responses sheet (and CSV) in the file's words."""
        paradata = [name for name, _ in self.paradata]
        return [*self.words.header(META_COLUMNS), *paradata, *(c.name for c in self.columns)]

    def repeat_header(self, sheet: RepeatSheet) -> list[str]:
        """The header of a list's sheet in the file's words."""
        return [*self.words.header(REPEAT_KEY_COLUMNS), *(c.name for c in sheet.columns)]


def _versions(
    session: Session, fieldwork: Fieldwork, options: ExportOptions
) -> Sequence[SurveyVersion]:
    """The definition versions an export reads: the fieldwork's and its responses', oldest
    first."""
    version_ids = set(
        session.scalars(
            select(Response.survey_version_id).where(
                Response.fieldwork_id == fieldwork.id,
                *(() if options.include_tests else (Response.is_test.is_(False),)),
            )
        )
    )
    version_ids.add(fieldwork.survey_version_id)
    return session.scalars(
        select(SurveyVersion)
        .where(SurveyVersion.id.in_(version_ids))
        .order_by(SurveyVersion.number)
    ).all()


def has_repeats(session: Session, fieldwork: Fieldwork, options: ExportOptions) -> bool:
    """True when an export with ``options`` has repeat sheets (its CSV is then a zip)."""
    return any(
        any(True for _ in flow_of(version).questionnaire.repeats())
        for version in _versions(session, fieldwork, options)
    )


def _last_interviewers(session: Session, fieldwork: Fieldwork) -> dict[int, tuple[str, str]]:
    """sample unit id -> the name and user name of the last interviewer who called it."""
    latest = (
        select(
            Case.sample_unit_id.label("unit"),
            Call.interviewer_id.label("interviewer"),
            func.row_number()
            .over(
                partition_by=Case.sample_unit_id, order_by=(Call.started_at.desc(), Call.id.desc())
            )
            .label("rank"),
        )
        .join(Case, Call.case_id == Case.id)
        .where(Case.fieldwork_id == fieldwork.id, Call.interviewer_id.is_not(None))
        .subquery()
    )
    rows = session.execute(
        select(latest.c.unit, User.full_name, User.username)
        .join(User, User.id == latest.c.interviewer)
        .where(latest.c.rank == 1)
    )
    return {unit: (full_name or username, username) for unit, full_name, username in rows}


def _warsaw_bounds(day: date) -> datetime:
    """The UTC moment a Warsaw day begins."""
    return local_midnight(day)


def _responses_query(fieldwork: Fieldwork, options: ExportOptions) -> Select[Any]:
    """The exported responses with their institution, in id order."""
    query = (
        select(
            Response.id,
            Response.survey_version_id,
            Response.answers,
            Response.status,
            Response.via_web,
            Response.via_phone,
            Response.started_at,
            Response.updated_at,
            Response.completed_at,
            Response.sample_unit_id,
            Response.is_demo,
            Response.is_test,
            SampleUnit.external_id,
            SampleUnit.name,
            SampleUnit.entity_type,
            SampleUnit.subregion,
            SampleUnit.powiat,
            SampleUnit.gmina,
            SampleUnit.variables,
        )
        .outerjoin(SampleUnit, Response.sample_unit_id == SampleUnit.id)
        .where(Response.fieldwork_id == fieldwork.id, options.scope.covers(Response.sample_unit_id))
        .order_by(Response.id)
    )
    if options.complete_only:
        query = query.where(Response.status == ResponseStatus.COMPLETE.value)
    if not options.include_tests:
        query = query.where(Response.is_test.is_(False))
    if options.subregion:
        query = query.where(SampleUnit.subregion == options.subregion)
    last_active = func.coalesce(Response.completed_at, Response.updated_at)
    if options.date_from is not None:
        query = query.where(last_active >= _warsaw_bounds(options.date_from))
    if options.date_to is not None:
        query = query.where(last_active < _warsaw_bounds(options.date_to + timedelta(days=1)))
    return query


def count_responses(session: Session, fieldwork: Fieldwork, options: ExportOptions) -> int:
    """How many responses an export with ``options`` holds (for a progress bar)."""
    query = _responses_query(fieldwork, options).order_by(None).subquery()
    return session.scalar(select(func.count()).select_from(query)) or 0


def _local(moment: datetime | None) -> datetime | None:
    """A stored UTC moment as naive Warsaw wall time, which is what Excel shows."""
    return local_wall_time(moment) if moment is not None else None


InstanceSink = Callable[[str, list[Cell]], None]  # (repeat name, row of its sheet)


def _rows(
    session: Session,
    fieldwork: Fieldwork,
    options: ExportOptions,
    plan: _Plan,
    query: Select[Any] | None = None,
    instances: InstanceSink | None = None,
    words: FileWords | None = None,
) -> Generator[list[Cell], None, None]:
    """The Responses rows: metadata, then the questionnaire's columns; each response's
    repeat instances go to ``instances`` (if given) before its row is yielded. The status
    and mode are coded in ``words`` (a file's), else as data (English)."""
    value = words.value if words is not None else str
    if query is None:
        query = _responses_query(fieldwork, options)
    # (through the session's connection: rows as Core gives them, without the ORM's
    # processing of each row, a third of reading 100,000 responses)
    result = session.connection().execute(query.execution_options(yield_per=BATCH))
    # closed however the reading ends (a writer that stops early leaves no open cursor)
    try:
        for row in result:
            sample = {
                **(row.variables or {}),
                "external_id": row.external_id or "",
                "name": row.name or "",
                "entity_type": row.entity_type or "",
                "subregion": row.subregion or "",
                "powiat": row.powiat or "",
                "gmina": row.gmina or "",
            }
            started = _local(row.started_at)
            completed = _local(row.completed_at)
            # a calculation with today() sees the day the response was last worked on
            today = (completed or _local(row.updated_at) or started or datetime.now()).date()
            direct = plan.direct.get(row.survey_version_id)
            if direct is not None:  # (no list: no instances either)
                clean: Mapping[str, Any] = {}
                answer_cells = direct.cells(row.answers or {}, sample=sample, today=today)
            else:
                reader = plan.readers[row.survey_version_id]
                clean = reader.clean(row.answers or {}, sample=sample, today=today)
                answer_cells = plan.converters[row.survey_version_id].cells(clean)
            meta: list[Cell] = [
                row.id,
                row.external_id,
                row.name,
                row.entity_type,
                row.subregion,
                row.powiat,
                row.gmina,
                value(mode_of(row.via_web, row.via_phone)),
                value("complete" if row.status == ResponseStatus.COMPLETE.value else "partial"),
                started,
                completed,
                duration_minutes(row.started_at, row.completed_at),
                plan.interviewers.get(row.sample_unit_id) if row.sample_unit_id else None,
                plan.version_numbers.get(row.survey_version_id),
                1 if row.is_demo else 0,
                1 if row.is_test else 0,
            ]
            if instances is not None and plan.repeat_sheets:
                flow = plan.flows[row.survey_version_id]
                converters = plan.instance_converters[row.survey_version_id]
                for repeat, cells in instance_rows(row.id, clean, flow, converters):
                    instances(repeat, cells)
            paradata = paradata_cells(
                plan.paradata,
                started=started,
                completed=completed,
                username=plan.usernames.get(row.sample_unit_id) if row.via_phone else None,
            )
            yield meta + paradata + answer_cells
    finally:
        result.close()


def _calls(
    session: Session, fieldwork: Fieldwork, language: str, scope: Scope
) -> Iterator[list[Cell]]:
    """Every call of the fieldwork (to institutions in ``scope``), in the order they were made."""
    interviewer = aliased(User)
    result = session.execute(
        select(
            SampleUnit.external_id,
            SampleUnit.name,
            interviewer.full_name,
            interviewer.username,
            Call.number,
            Call.started_at,
            Call.ended_at,
            Outcome.code,
            Outcome.label_pl,
            Outcome.label_en,
            Outcome.aapor,
            Call.note,
        )
        .join(Case, Call.case_id == Case.id)
        .join(SampleUnit, Case.sample_unit_id == SampleUnit.id)
        .outerjoin(interviewer, Call.interviewer_id == interviewer.id)
        .outerjoin(Outcome, Call.outcome_id == Outcome.id)
        .where(Case.fieldwork_id == fieldwork.id, scope.covers(SampleUnit.id))
        .order_by(Call.started_at, Call.id)
        .execution_options(yield_per=BATCH)
    )
    for row in result:
        label = row.label_en if language == "en" else row.label_pl
        yield [
            row.external_id,
            row.name,
            row.full_name or row.username,
            row.number,
            _local(row.started_at),
            _local(row.ended_at),
            row.code,
            label,
            row.aapor,
            row.note,
        ]


CALL_COLUMNS = (
    "external_id",
    "institution",
    "interviewer",
    "number",
    "started",
    "ended",
    "outcome_code",
    "outcome_label",
    "aapor_code",
    "note",
)
DISPOSITION_COLUMNS = ("aapor_code", "outcome_code", "outcome_label", "cases")
CONTACT_COLUMNS = (
    "external_id",
    "institution",
    "entity_type",
    "subregion",
    "response_status",
    "invitations_sent",
    "reminders_sent",
    "email_opted_out",
    "email_bounced",
)


def _contact_rows(
    session: Session, fieldwork: Fieldwork, scope: Scope, words: FileWords
) -> Iterator[list[Cell]]:
    """One row per sampled institution in ``scope``: its response status and the e-mail
    sent to it."""
    sent = sent_counts(session, fieldwork.id)
    # each institution with its response's status in the same streamed row (an institution
    # has at most one response): nothing per institution is held in memory
    units = session.connection().execute(
        select(
            SampleUnit.id,
            SampleUnit.external_id,
            SampleUnit.name,
            SampleUnit.entity_type,
            SampleUnit.subregion,
            SampleUnit.mail_opted_out_at,
            SampleUnit.mail_bounced_at,
            Response.status,
        )
        .outerjoin(
            Response,
            and_(
                Response.sample_unit_id == SampleUnit.id,
                Response.fieldwork_id == fieldwork.id,
            ),
        )
        .where(SampleUnit.fieldwork_id == fieldwork.id, scope.covers(SampleUnit.id))
        .order_by(SampleUnit.id)
        .execution_options(yield_per=BATCH)
    )
    for unit_id, external_id, name, entity_type, subregion, opted_out, bounced, status in units:
        invitations, reminders = sent.get(unit_id, (0, 0))
        yield [
            external_id,
            name,
            entity_type,
            subregion,
            words.value(status or "not_started"),
            invitations,
            reminders,
            1 if opted_out else 0,
            1 if bounced else 0,
        ]


RATE_COLUMNS = ("rate", "value", "formula")


def _rate_rows(session: Session, fieldwork: Fieldwork, scope: Scope) -> list[tuple[str, Any, str]]:
    """The AAPOR rates (of the cases in ``scope``) as (name, value, formula) rows, below the
    disposition counts."""
    return list(rates_for(session, fieldwork, scope).as_rows())


def _disposition_rows(
    session: Session, fieldwork: Fieldwork, language: str, scope: Scope
) -> list[list[Cell]]:
    """Cases (in ``scope``) per AAPOR disposition code and outcome (the outcome that set it,
    if any)."""
    rows = session.execute(
        select(
            Case.disposition_code, Outcome.code, Outcome.label_pl, Outcome.label_en, func.count()
        )
        .outerjoin(Outcome, Case.disposition_outcome_id == Outcome.id)
        .where(
            Case.fieldwork_id == fieldwork.id,
            Case.excluded.is_(False),
            scope.covers(Case.sample_unit_id),
        )
        .group_by(Case.disposition_code, Outcome.code, Outcome.label_pl, Outcome.label_en)
        .order_by(Case.disposition_code, Outcome.code)
    ).all()
    return [
        [aapor, code, (label_en if language == "en" else label_pl), count]
        for aapor, code, label_pl, label_en, count in rows
    ]


Translate = Callable[[str, str], str]  # (msgid, language) -> text


def _missing_labels(translate: Translate | None, language: str) -> dict[Missing, str]:
    """The labels of don't know / refused in the export's language (English without one)."""

    def gettext(msgid: str) -> str:
        return translate(msgid, language) if translate is not None else msgid

    return {DONT_KNOW: DONT_KNOW_LABEL.render(gettext), REFUSED: REFUSED_LABEL.render(gettext)}


Instances = dict[str, list[dict[str, Any]]]  # repeat name -> its entries as objects


class _InstanceObjects:
    """A response's repeat entries as objects, nested in the entry they belong to (the
    JSON API's shape): a column per variable, as on the repeat's sheet, and a nested
    repeat's column holding the list of its entries instead of their number."""

    def __init__(self, plan: _Plan) -> None:
        self.sheets = {sheet.repeat: sheet for sheet in plan.repeat_sheets}
        self.top: Instances = {}
        self.by_key: dict[str, dict[str, Any]] = {}

    def __call__(self, repeat: str, cells: list[Cell]) -> None:
        sheet = self.sheets[repeat]
        _response, parent_key, _number, key, *values = cells
        entry: dict[str, Any] = {}
        for column, value in zip(sheet.columns, values, strict=True):
            counted = column.kind is ColumnKind.COUNT and value is not None
            entry[column.name] = [] if counted else value
        if sheet.parent is None:
            self.top.setdefault(repeat, []).append(entry)
        else:
            self.by_key[str(parent_key)][repeat].append(entry)
        self.by_key[str(key)] = entry

    def take(self) -> Instances:
        """The entries gathered since the last call (one response's), under every repeat
        of the response (an empty list for none)."""
        taken: Instances = {n: [] for n, sheet in self.sheets.items() if sheet.parent is None}
        taken.update(self.top)
        self.top, self.by_key = {}, {}
        return taken


def response_page(
    session: Session,
    fieldwork: Fieldwork,
    options: ExportOptions,
    *,
    translate: Translate | None = None,
    partial_only: bool = False,
    after: int = 0,
    limit: int = 100,
    response_id: int | None = None,
) -> tuple[list[str], list[tuple[list[Cell], Instances]]]:
    """The header and up to ``limit`` rows of the Responses sheet with ids above ``after``
    (or the one response ``response_id``), read exactly as an export reads them, each
    with its repeats' entries as lists of objects."""
    plan = _Plan(session, fieldwork, options, translate)
    query = _responses_query(fieldwork, options)
    if partial_only:
        query = query.where(Response.status != ResponseStatus.COMPLETE.value)
    if response_id is not None:
        query = query.where(Response.id == response_id)
    query = query.where(Response.id > after).limit(limit)
    entries = _InstanceObjects(plan)
    rows = [
        (cells, entries.take())
        for cells in _rows(session, fieldwork, options, plan, query, instances=entries)
    ]
    return plan.header, rows


# -- CSV ------------------------------------------------------------------------------------------


def _csv_text(value: Cell, decimal: str = ".") -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and decimal != ".":
        return str(value).replace(".", decimal)
    return str(value)


def _csv_dialect(options: ExportOptions) -> CsvDialect:
    return CSV_DIALECTS.get(options.csv_dialect, EXCEL_PL)


def _csv_lines(
    session: Session,
    fieldwork: Fieldwork,
    options: ExportOptions,
    plan: _Plan,
    progress: Progress | None = None,
    instances: InstanceSink | None = None,
) -> Iterator[str]:
    """The Responses sheet as CSV text in the options' dialect, a line at a time (the
    first starting with the UTF-8 BOM when the dialect has one)."""
    dialect = _csv_dialect(options)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=dialect.delimiter, lineterminator="\r\n")
    writer.writerow(plan.file_header)
    yield ("\ufeff" if dialect.bom else "") + buffer.getvalue()
    decimal = dialect.decimal
    for cells in _rows(session, fieldwork, options, plan, instances=instances, words=plan.words):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_csv_text(value, decimal) for value in cells])
        yield buffer.getvalue()
        if progress is not None:
            progress(1)


CSV_MAIN_FILE = "odpowiedzi.csv"  # in the zip of a questionnaire with repeats


def csv_file_name(repeat: str | None) -> str:
    """The name of a CSV in the zip: the responses', or one repeat's entries'."""
    return CSV_MAIN_FILE if repeat is None else f"odpowiedzi-{repeat}.csv"


def write_csv(
    session: Session,
    fieldwork: Fieldwork,
    path: Path,
    options: ExportOptions | None = None,
    *,
    translate: Translate | None = None,
    progress: Progress | None = None,
) -> int:
    """Write the Responses CSV to ``path``; returns the number of responses written.

    The options' ``csv_dialect`` says how: ``excel-pl`` (";", decimal comma, UTF-8 with
    BOM: what Excel in Polish opens in columns) or ``rfc4180`` (",", decimal point, no
    BOM: for tools); the header and status are in the file's words (``_Plan.words``).

    A questionnaire with repeats gets a zip instead: ``odpowiedzi.csv`` (the Responses
    sheet) and ``odpowiedzi-REPEAT.csv`` per repeat (its sheet), each written line by
    line to a temporary file as the responses are read, then zipped.
    """
    options = options or ExportOptions()
    plan = _Plan(session, fieldwork, options, translate)
    count = -1  # the header line is not a response
    if not plan.repeat_sheets:
        with path.open("w", encoding="utf-8", newline="") as out:
            for line in _csv_lines(session, fieldwork, options, plan, progress):
                out.write(line)
                count += 1
        return count
    dialect = _csv_dialect(options)
    with tempfile.TemporaryDirectory(prefix="ankieta-csv-") as directory:
        folder = Path(directory)
        with contextlib.ExitStack() as stack:
            writers = {}
            for sheet in plan.repeat_sheets:
                out = stack.enter_context(
                    (folder / csv_file_name(sheet.repeat)).open("w", encoding="utf-8", newline="")
                )
                if dialect.bom:
                    out.write("\ufeff")
                writers[sheet.repeat] = csv.writer(
                    out, delimiter=dialect.delimiter, lineterminator="\r\n"
                )
                writers[sheet.repeat].writerow(plan.repeat_header(sheet))

            def instance(repeat: str, cells: list[Cell]) -> None:
                writers[repeat].writerow([_csv_text(value, dialect.decimal) for value in cells])

            main = stack.enter_context(
                (folder / CSV_MAIN_FILE).open("w", encoding="utf-8", newline="")
            )
            for line in _csv_lines(session, fieldwork, options, plan, progress, instance):
                main.write(line)
                count += 1
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.write(folder / CSV_MAIN_FILE, CSV_MAIN_FILE)
            for sheet in plan.repeat_sheets:
                name = csv_file_name(sheet.repeat)
                archive.write(folder / name, name)
    return count
