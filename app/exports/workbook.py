"""Writing a fieldwork's responses to an XLSX workbook: responses, one sheet per repeat
(its instances), codebook, calls, contacts, dispositions and rates, row by row
(XlsxWriter's ``constant_memory`` mode)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import xlsxwriter
from sqlalchemy.orm import Session
from xlsxwriter.worksheet import Worksheet

from app.domain.messages import N_
from app.domain.outputs.codebook import choice_rows, codebook_rows, list_sheets
from app.domain.outputs.export import (
    CELL_MAX_LENGTH,
    EARLIEST_SPREADSHEET_YEAR,
    META_COLUMNS,
    Cell,
    Column,
    RepeatSheet,
    fit_cell,
)
from app.domain.outputs.words import CALLS, CHOICES, CODEBOOK, CONTACTS, DISPOSITIONS, RESPONSES
from app.exports.services import (
    CALL_COLUMNS,
    CONTACT_COLUMNS,
    DATE_FORMAT,
    DATETIME_FORMAT,
    DISPOSITION_COLUMNS,
    MAX_WIDTH,
    MIN_WIDTH,
    RATE_COLUMNS,
    TIME_FORMAT,
    WORKBOOK_OPTIONS,
    ExportOptions,
    Progress,
    Translate,
    _calls,
    _contact_rows,
    _disposition_rows,
    _Plan,
    _rate_rows,
    _rows,
)
from app.models.fieldwork import Fieldwork

XLSX_MAX_ROWS = 1_048_576  # rows of one Excel sheet, the header's included
TOO_MANY_ROWS = N_(
    "One sheet of the workbook would have more rows than Excel holds (1,048,576). "
    "Ask for the CSV file instead, which has no such limit."
)


class SheetFull(Exception):
    """A sheet would pass Excel's last row (a list with very many entries): the export
    stops rather than leave rows out."""

    message = TOO_MANY_ROWS


class _Sheet:
    """One worksheet written row by row, with typed cells, widths, frozen header, filter."""

    def __init__(self, book: _Book, name: str, header: Sequence[str], widths: Sequence[int]):
        self.book = book
        self.sheet: Worksheet = book.workbook.add_worksheet(name[:31])
        self.width = len(header)
        for col, width in enumerate(widths):
            self.sheet.set_column(col, col, max(MIN_WIDTH, min(MAX_WIDTH, width)))
        for col, title in enumerate(header):
            self.sheet.write_string(0, col, title, book.bold)
        self.sheet.freeze_panes(1, 0)
        self.row = 0

    def write(self, cells: Sequence[Cell]) -> None:
        self.row += 1
        if self.row >= XLSX_MAX_ROWS:  # XlsxWriter would leave the row out silently
            raise SheetFull(self.sheet.name)
        sheet, row, book = self.sheet, self.row, self.book
        write_string, write_number = sheet.write_string, sheet.write_number
        value: Any  # dispatched on its exact type below (a bool is no number here)
        for col, value in enumerate(cells):
            if value is None:
                continue
            kind = type(value)
            if kind is str:
                write_string(row, col, value if len(value) <= CELL_MAX_LENGTH else fit_cell(value))
            elif kind is int or kind is float:
                write_number(row, col, value)
            elif (kind is datetime or kind is date) and value.year < EARLIEST_SPREADSHEET_YEAR:
                write_string(row, col, value.isoformat())  # no date to a spreadsheet
            elif kind is datetime:
                sheet.write_datetime(row, col, value, book.datetime)
            elif kind is date:
                sheet.write_datetime(row, col, value, book.date)
            elif kind is time:
                sheet.write_datetime(row, col, value, book.time)
            else:
                write_number(row, col, value)

    def close(self) -> None:
        self.sheet.autofilter(0, 0, self.row, self.width - 1)


class _Book:
    def __init__(self, path: Path) -> None:
        self.workbook = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
        self.bold = self.workbook.add_format({"bold": True})
        self.date = self.workbook.add_format({"num_format": DATE_FORMAT})
        self.datetime = self.workbook.add_format({"num_format": DATETIME_FORMAT})
        self.time = self.workbook.add_format({"num_format": TIME_FORMAT})

    def sheet(self, name: str, header: Sequence[str], widths: Sequence[int] = ()) -> _Sheet:
        return _Sheet(self, name, header, list(widths) or [len(h) + 2 for h in header])


_TYPE_WIDTH = {
    "date": 11,
    "time": 7,
    "datetime": 16,
    "integer": 9,
    "decimal": 12,
    "text": 30,
    "textarea": 40,
    "geopoint": 36,
    "geotrace": 40,
    "geoshape": 40,
    "file": 30,
}


def _response_widths(plan: _Plan) -> list[int]:
    meta = {"institution": 40, "started": 16, "completed": 16, "interviewer": 20}
    widths = [max(meta.get(name, 0), len(plan.words.column(name)) + 2) for name in META_COLUMNS]
    paradata = [max(len(name) + 2, 16) for name, _ in plan.paradata]
    return widths + paradata + _column_widths(plan.columns)


def _column_widths(columns: Sequence[Column]) -> list[int]:
    return [max(len(c.name) + 2, _TYPE_WIDTH.get(c.value_type.value, 10)) for c in columns]


def _repeat_widths(sheet: RepeatSheet) -> list[int]:
    return [13, 13, 10, 16, *_column_widths(sheet.columns)]


def write_xlsx(
    session: Session,
    fieldwork: Fieldwork,
    path: Path,
    options: ExportOptions | None = None,
    *,
    translate: Translate | None = None,
    progress: Progress | None = None,
) -> int:
    """Write the response workbook to ``path``; returns the number of responses written.

    ``translate`` gives the don't know / refused labels (labels mode) in the export's
    language; without it they are in English. Sheet names, fixed headers and the status
    are in the file's words (``_Plan.words``: Polish unless the labels are English).
    """
    options = options or ExportOptions()
    plan = _Plan(session, fieldwork, options, translate)
    words = plan.words
    book = _Book(path)
    try:
        responses = book.sheet(words.sheet(RESPONSES), plan.file_header, _response_widths(plan))
        # A repeat's sheet is written as its instances come, between the responses' rows:
        # in constant_memory mode each sheet flushes its own rows to its own temporary
        # file, so the sheets fill side by side and memory still does not grow.
        repeats = {
            sheet.repeat: book.sheet(sheet.title, plan.repeat_header(sheet), _repeat_widths(sheet))
            for sheet in plan.repeat_sheets
        }

        def instance(repeat: str, cells: list[Cell]) -> None:
            repeats[repeat].write(cells)

        with contextlib.closing(
            _rows(session, fieldwork, options, plan, instances=instance, words=words)
        ) as rows:
            for cells in rows:
                responses.write(cells)
                if progress is not None:
                    progress(1)
        responses.close()
        for sheet in repeats.values():
            sheet.close()

        languages = plan.languages
        entries = codebook_rows(
            plan.ordered_flows,
            languages,
            main_sheet=words.sheet(RESPONSES),
            repeats=plan.repeat_sheets,
            words=words,
        )
        codebook = book.sheet(
            words.sheet(CODEBOOK),
            words.header(
                [
                    "variable",
                    *(f"label_{lang}" for lang in languages),
                    "type",
                    "group",
                    "relevance",
                    "constraint",
                    "required",
                    "choice_list",
                    "sheet",
                ]
            ),
            [20, *(60 for _ in languages), 16, 16, 40, 30, 10, 20, 20],
        )
        for entry in entries:
            codebook.write(
                [
                    entry.variable,
                    *entry.labels,
                    entry.type,
                    entry.group,
                    entry.relevance,
                    entry.constraint,
                    entry.required,
                    entry.choice_list,
                    entry.sheet,
                ]
            )
        codebook.close()

        sheets_of = list_sheets(entries)
        choices = book.sheet(
            words.sheet(CHOICES),
            words.header(["list", "code", *(f"label_{lang}" for lang in languages), "sheets"]),
            [20, 12, *(60 for _ in languages), 30],
        )
        for list_name, code, labels in choice_rows(plan.ordered_flows, languages):
            choices.write([list_name, code, *labels, sheets_of.get(list_name, "")])
        choices.close()

        calls = book.sheet(
            words.sheet(CALLS), words.header(CALL_COLUMNS), [14, 40, 20, 16, 16, 16, 16, 30, 11, 40]
        )
        for cells in _calls(session, fieldwork, plan.language, options.scope):
            calls.write(cells)
        calls.close()

        dispositions = book.sheet(
            words.sheet(DISPOSITIONS), words.header(DISPOSITION_COLUMNS), [12, 16, 40, 10]
        )
        for cells in _disposition_rows(session, fieldwork, plan.language, options.scope):
            dispositions.write(cells)
        dispositions.write([])  # a blank row between the counts and the rates
        dispositions.write(words.header(RATE_COLUMNS))
        for name, value, formula in _rate_rows(session, fieldwork, options.scope):
            dispositions.write([name, value, words.value(formula)])
        dispositions.close()

        contacts = book.sheet(
            words.sheet(CONTACTS),
            words.header(CONTACT_COLUMNS),
            [14, 40, 12, 16, 14, 10, 10, 10, 10],
        )
        for cells in _contact_rows(session, fieldwork, options.scope, words):
            contacts.write(cells)
        contacts.close()
    finally:
        book.workbook.close()
    return responses.row
