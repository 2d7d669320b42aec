"""Compute the monitoring report of a fieldwork from the database and write it as XLSX.

The figures come from ``app.domain.outputs.report``; this module reads the responses (their
answers cleaned by the fieldwork's questionnaire) and the sample, and lays the tables out
with XlsxWriter:

- ``contents``: what the workbook holds, with a link to every table;
- ``closed``: one frequency table per closed question (matrix rows one each), overall and
  per breakdown group, each with a native column chart of the overall percentages;
- ``numeric``: n, sum, mean, median, min, max (and don't know / refused) per numeric item;
- a variable inside a repeat has the same tables, over the repeat's entries (its title
  ends ``[entries of: REPEAT]``, a closed table's base row is ``base_entries``), and the
  repeat itself a numeric table of its number of entries (``[number of entries]``: the
  sum is the entries in all);
- ``response rates``: sample size, complete responses and the rate overall and per group
  of the breakdown, then by subregion and by type of institution;
- ``indicators`` (when a stored monitoring plan has indicators of the survey): each
  indicator's value, unit, base (n), missing answers, the year's target, the percentage
  of it achieved, the previous period's value and the change, overall and by subregion —
  the same results as the Word document's (``plan_indicators``).

With a comparison fieldwork (an earlier period of the same survey) every block gets the
earlier figures next to the current ones (``previous_*`` columns), matched by variable
name and choice code, and the charts get a second series.

Sheet names and column headers are in the report's language: Polish unless the labels'
language is English (the catalogue's words); questions and choices are labelled from the
questionnaire in that language, variable names and codes stay as the codebook has them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import xlsxwriter
from sqlalchemy import select
from sqlalchemy.orm import Session
from xlsxwriter.worksheet import Worksheet

from app.domain.messages import N_
from app.domain.monitoring.indicators import IndicatorResult
from app.domain.monitoring.plan import Measure
from app.domain.outputs.document import DocumentInput, report_document
from app.domain.outputs.report import (
    NO_VALUE,
    ClosedTable,
    Frequencies,
    NumericSummary,
    NumericTable,
    RateRow,
    Record,
    Report,
    build_report,
    group_of,
    response_rates,
)
from app.domain.questionnaire.answers import answers_from_json
from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.model import Text
from app.domain.workbooks import SAFE_XLSX_OPTIONS
from app.models.fieldwork import (
    Fieldwork,
    Response,
    ResponseStatus,
    SampleUnit,
    earlier_fieldworks,
)
from app.models.mail import sent_counts
from app.models.monitoring import fieldwork_year, indicator_results
from app.models.surveys import flow_of, stored_plans
from app.platform.i18n import translations

STANDARD_BREAKDOWNS = ("subregion", "entity_type", "powiat", "gmina")
# what a breakdown's groups are, as the document says it
BREAKDOWN_NAMES = {
    "subregion": N_("subregion"),
    "entity_type": N_("type of institution"),
    "powiat": N_("powiat"),
    "gmina": N_("gmina"),
}
# The report's own words (sheet names, headers), in the report's language: Polish unless
# the labels' language is English. Variable names and codes stay as the codebook has them.
TOTAL = N_("total")
NO_VALUE_LABEL = N_("(no value)")
SHEET_CONTENTS = N_("contents")
SHEET_CLOSED = N_("closed questions")
SHEET_NUMERIC = N_("numeric questions")
SHEET_RATES = N_("response rates")
SHEET_INDICATORS = N_("indicators")
# always shown on the rates sheet (and the indicators' by subregion), with their titles
RATE_BREAKDOWNS = {"subregion": N_("by subregion"), "entity_type": N_("by type of institution")}
MAX_CELL = 32_767  # Excel's limit on the characters in one cell
ENTRIES_NOTE = N_("entries of")  # a repeat variable's table counts its repeat's entries
COUNT_NOTE = N_("number of entries")  # a repeat's own table: its entries per response
NUMERIC_FIGURES = (
    N_("n"),
    N_("sum"),
    N_("mean"),
    N_("median"),
    N_("min"),
    N_("max"),
    N_("don't know"),
    N_("refused"),
)
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


class ReportError(Exception):
    """A report that cannot be made as asked (unknown breakdown, other survey, ...)."""


@dataclass
class FieldworkReport:
    """The figures of one fieldwork: tables and response rates."""

    fieldwork: Fieldwork
    flow: Flow
    report: Report
    rates: list[RateRow]
    # rates by subregion and by type of institution (RATE_BREAKDOWNS), whatever ``by`` is
    rates_by: dict[str, list[RateRow]]


def _sample_units(session: Session, fieldwork: Fieldwork) -> list[SampleUnit]:
    return list(
        session.scalars(
            select(SampleUnit)
            .where(SampleUnit.fieldwork_id == fieldwork.id)
            .order_by(SampleUnit.id)
        )
    )


def _records(
    session: Session, fieldwork: Fieldwork, flow: Flow, include_partial: bool
) -> Iterator[Record]:
    """(clean answers, sample variables) of each response, read in order, in batches."""
    query = (
        select(Response, SampleUnit)
        .outerjoin(SampleUnit, Response.sample_unit_id == SampleUnit.id)
        .where(Response.fieldwork_id == fieldwork.id, Response.is_test.is_(False))
        .order_by(Response.id)
    )
    if not include_partial:
        query = query.where(Response.status == ResponseStatus.COMPLETE.value)
    q = flow.questionnaire
    for response, unit in session.execute(query.execution_options(yield_per=500)):
        sample = unit.sample_variables() if unit is not None else {}
        answers = answers_from_json(q, response.answers or {}, flow.variables)
        # relevance that uses today() is judged as on the day the answers were given
        moment = response.completed_at or response.updated_at
        state = flow.state(answers, sample=sample, today=moment.date())
        yield flow.clean_answers(state), sample


def known_breakdowns(session: Session, fieldwork: Fieldwork) -> list[str]:
    """The sample variables a report may break down by: the standard ones, then extras."""
    extra: set[str] = set()
    for unit in _sample_units(session, fieldwork):
        extra.update(unit.variables or {})
    return [*STANDARD_BREAKDOWNS, *sorted(extra - set(STANDARD_BREAKDOWNS))]


def compute(
    session: Session, fieldwork: Fieldwork, *, by: str | None = None, include_partial: bool = False
) -> FieldworkReport:
    """The report's figures for ``fieldwork`` (complete responses only unless asked)."""
    units = _sample_units(session, fieldwork)
    if by is not None and by not in STANDARD_BREAKDOWNS:
        if not any(by in (unit.variables or {}) for unit in units):
            raise ReportError(f"the sample has no variable {by!r}")
    flow = flow_of(fieldwork.survey_version)
    samples = [unit.sample_variables() for unit in units]
    groups = sorted({group_of(s, by) for s in samples} - {NO_VALUE}) if by else []
    if by and any(group_of(s, by) == NO_VALUE for s in samples):
        groups.append(NO_VALUE)
    report = build_report(
        flow, _records(session, fieldwork, flow, include_partial), by=by, groups=groups
    )
    completed = set(
        session.scalars(
            select(Response.sample_unit_id).where(
                Response.fieldwork_id == fieldwork.id,
                Response.status == ResponseStatus.COMPLETE.value,
                Response.sample_unit_id.is_not(None),
            )
        )
    )
    sent = sent_counts(session, fieldwork.id)
    counted = [
        (sample, unit.id in completed, *sent.get(unit.id, (0, 0)))
        for unit, sample in zip(units, samples, strict=True)
    ]
    rates = response_rates(counted, by=by)
    rates_by = {name: response_rates(counted, by=name) for name in RATE_BREAKDOWNS}
    return FieldworkReport(fieldwork, flow, report, rates, rates_by)


def plan_indicators(
    session: Session, fieldwork: Fieldwork, compare: Fieldwork | None
) -> tuple[list[IndicatorResult], dict[str, Text]]:
    """The plans' indicators of ``fieldwork`` and their areas' names (code -> name); the
    change is from ``compare``, or else from the survey's previous fieldwork. The report
    workbook and the Word document both show these."""
    if compare is None:
        earlier = earlier_fieldworks(session, fieldwork)
        compare = earlier[0] if earlier else None
    indicators = indicator_results(session, fieldwork, compare)
    areas = {area.code: area.name for plan in stored_plans(session) for area in plan.areas}
    return indicators, areas


def write_report(
    session: Session,
    fieldwork: Fieldwork,
    *,
    by: str | None = None,
    compare: Fieldwork | None = None,
    language: str | None = None,
    include_partial: bool = False,
) -> bytes:
    """The monitoring report workbook of ``fieldwork`` as XLSX bytes.

    ``compare``: an earlier fieldwork of the same survey, shown side by side.
    ``language``: of the questionnaire's labels (default: the questionnaire's own).
    """
    if compare is not None and compare.survey_id != fieldwork.survey_id:
        raise ReportError("the comparison fieldwork is of another survey")
    if compare is not None and compare.id == fieldwork.id:
        raise ReportError("a fieldwork cannot be compared with itself")
    current = compute(session, fieldwork, by=by, include_partial=include_partial)
    previous = (
        compute(session, compare, by=by, include_partial=include_partial) if compare else None
    )
    lang = language or current.flow.settings.default_language
    indicators, areas = plan_indicators(session, fieldwork, compare)
    buffer = io.BytesIO()
    # labels come from definitions and samples: never let them become formulas/links
    workbook = xlsxwriter.Workbook(buffer, {**SAFE_XLSX_OPTIONS, "in_memory": True})
    _Writer(workbook, current, previous, lang, indicators, areas).write()
    workbook.close()
    return buffer.getvalue()


def _text(text: Text | None, lang: str, fallback: str) -> str:
    return text.get(lang, fallback) if text is not None else ""


def _cell(value: str) -> str:
    """Text cut to what a cell holds, with a visible marker when cut."""
    return value if len(value) <= MAX_CELL else value[: MAX_CELL - 1] + "…"


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


class _Writer:
    """Lays the tables of one report (and its comparison) out in a workbook."""

    def __init__(
        self,
        workbook: xlsxwriter.Workbook,
        current: FieldworkReport,
        previous: FieldworkReport | None,
        lang: str,
        indicators: list[IndicatorResult] | None = None,
        areas: dict[str, Text] | None = None,
    ) -> None:
        self.wb = workbook
        self.indicators = indicators or []
        self.areas = areas or {}
        self.current = current
        self.previous = previous
        self.lang = lang
        self._ = translations("en" if lang == "en" else "pl").gettext
        by = current.report.by
        self.breakdown = self._(BREAKDOWN_NAMES[by]) if by in BREAKDOWN_NAMES else (by or "")
        self.sheets = {
            name: self._(name)
            for name in (
                SHEET_CONTENTS,
                SHEET_CLOSED,
                SHEET_NUMERIC,
                SHEET_RATES,
                SHEET_INDICATORS,
            )
        }
        self.fallback = current.flow.settings.default_language
        self.bold = workbook.add_format({"bold": True})
        self.title = workbook.add_format({"bold": True, "font_size": 12})
        self.header = workbook.add_format({"bold": True, "bottom": 1, "text_wrap": True})
        self.pct = workbook.add_format({"num_format": "0.0%"})
        self.num = workbook.add_format({"num_format": "#,##0.##"})
        self.link = workbook.add_format({"font_color": "blue", "underline": 1})
        self.groups: tuple[str | None, ...] = (None, *current.report.groups)
        self.links: list[tuple[str, str, str, int]] = []  # variable, label, sheet, row

    # -- helpers ------------------------------------------------------------------------

    def label(self, text: Text | None) -> str:
        """A definition's text; an answer it would show (``${a3}``) reads as "…"."""
        return _PLACEHOLDER.sub("…", _text(text, self.lang, self.fallback))

    def title_of(self, variable: str, text: Text | None) -> str:
        """``variable – label``; a calculation without a label says it is calculated."""
        label = self.label(text) or self._("calculated value")
        return f"{variable} – {label}"

    def block_name(self, group: str | None) -> str:
        if group is None:
            return self._(TOTAL)
        return self._(NO_VALUE_LABEL) if group == NO_VALUE else group

    def _write(self, ws: Worksheet, row: int, col: int, value: Any, fmt: Any = None) -> None:
        """One cell: numbers as numbers, text as text, None as an empty cell."""
        if value is None:
            return
        if isinstance(value, str):
            ws.write_string(row, col, _cell(value), fmt)
        else:
            ws.write_number(row, col, value, fmt)

    def _entries(self, repeat: str | None) -> str:
        """What a repeat variable's table counts: the entries of its repeat, not responses."""
        return "" if repeat is None else f" [{self._(ENTRIES_NOTE)}: {repeat}]"

    # -- sheets -------------------------------------------------------------------------

    def write(self) -> None:
        contents = self.wb.add_worksheet(self.sheets[SHEET_CONTENTS])
        closed = self.wb.add_worksheet(self.sheets[SHEET_CLOSED])
        numeric = self.wb.add_worksheet(self.sheets[SHEET_NUMERIC])
        rates = self.wb.add_worksheet(self.sheets[SHEET_RATES])
        self.write_closed(closed)
        self.write_numeric(numeric)
        self.write_rates(rates)
        if self.indicators:
            self.write_indicators(self.wb.add_worksheet(self.sheets[SHEET_INDICATORS]))
        self.write_contents(contents)
        contents.activate()

    def write_contents(self, ws: Worksheet) -> None:
        settings = self.current.flow.settings
        fieldwork = self.current.fieldwork
        report = self.current.report
        ws.set_column(0, 0, 22)
        ws.set_column(1, 1, 80)
        ws.write_string(0, 0, _cell(self.label(settings.title)), self.title)
        _ = self._
        facts: list[tuple[str, Any]] = [
            (_("fieldwork"), fieldwork.title),
            (_("fieldwork number"), fieldwork.id),
            (_("questionnaire version"), settings.version or ""),
            (_("breakdown"), self.breakdown),
            (_("responses"), report.responses),
        ]
        if self.previous is not None:
            facts += [
                (_("previous fieldwork"), self.previous.fieldwork.title),
                (_("previous fieldwork number"), self.previous.fieldwork.id),
                (_("previous responses"), self.previous.report.responses),
            ]
        for offset, (name, value) in enumerate(facts, start=2):
            ws.write_string(offset, 0, name, self.bold)
            self._write(ws, offset, 1, value)
        row = len(facts) + 3
        for col, name in enumerate((_("variable"), _("label"), _("sheet"))):
            ws.write_string(row, col, name, self.header)
        for variable, label, sheet, target in self.links:
            row += 1
            ws.write_url(
                row,
                0,
                f"internal:'{sheet}'!A{target + 1}",
                self.link,
                string=variable,
            )
            ws.write_string(row, 1, _cell(label))
            ws.write_string(row, 2, sheet)
        rates = self.sheets[SHEET_RATES]
        ws.write_url(row + 2, 0, f"internal:'{rates}'!A1", self.link, rates)
        if self.indicators:
            indicators = self.sheets[SHEET_INDICATORS]
            ws.write_url(row + 3, 0, f"internal:'{indicators}'!A1", self.link, indicators)

    def _closed_previous(self, table: ClosedTable) -> ClosedTable | None:
        if self.previous is None:
            return None
        try:
            found = self.previous.report.table(table.variable)
        except KeyError:
            return None
        return found if isinstance(found, ClosedTable) else None

    def write_closed(self, ws: Worksheet) -> None:
        per_block = 4 if self.previous is not None else 2
        ws.set_column(0, 0, 10)
        ws.set_column(1, 1, 45)
        ws.set_column(2, 2 + per_block * len(self.groups), 11)
        row = 0
        for table in self.current.report.closed:
            before = self._closed_previous(table)
            title = self.title_of(table.variable, table.label)
            if table.row_label is not None:
                title += f" – {self.label(table.row_label)}"
            title += self._entries(table.repeat)
            self.links.append((table.variable, title, self.sheets[SHEET_CLOSED], row))
            ws.write_string(row, 0, _cell(title), self.title)
            row += 1
            # the group names above their columns, then the figure names
            for index, group in enumerate(self.groups):
                ws.write_string(row, 2 + index * per_block, self.block_name(group), self.bold)
            row += 1
            ws.write_string(row, 0, self._("code"), self.header)
            ws.write_string(row, 1, self._("label"), self.header)
            names = [self._("n"), self._("percent")]
            if self.previous is not None:  # even when it lacks this question: columns align
                names += [self._("previous n"), self._("previous percent")]
            for index in range(len(self.groups)):
                for offset, name in enumerate(names):
                    ws.write_string(row, 2 + index * per_block + offset, name, self.header)
            first = row + 1
            for choice in table.rows:
                row += 1
                self._write(ws, row, 0, choice.code)
                label = self.label(choice.label) if choice.label else self._missing(choice.key)
                ws.write_string(row, 1, _cell(label))
                for index, group in enumerate(self.groups):
                    col = 2 + index * per_block
                    self._frequency(ws, row, col, self._freq(table, group), choice.key)
                    if before is not None:
                        self._frequency(ws, row, col + 2, self._freq(before, group), choice.key)
            last = row
            row += 1
            base = self._("base") if table.repeat is None else self._("base (entries)")
            ws.write_string(row, 1, base, self.bold)
            for index, group in enumerate(self.groups):
                col = 2 + index * per_block
                ws.write_number(row, col, self._freq(table, group).base, self.bold)
                if before is not None:
                    ws.write_number(row, col + 2, self._freq(before, group).base, self.bold)
            self._chart(ws, table, first, last, first - 2, bool(before))
            # leave room for the chart (about 15 rows) below short tables
            row = max(row + 2, first - 2 + 17)
        if not self.current.report.closed:
            ws.write_string(0, 0, self._("no closed questions"))

    @staticmethod
    def _freq(table: ClosedTable, group: str | None) -> Frequencies:
        if group is None:
            return table.overall
        return table.groups.get(group) or Frequencies()

    def _missing(self, key: str) -> str:
        """The label of a don't know / refused row."""
        return self._("Don't know") if key == "dont_know" else self._("Refused")

    def _frequency(self, ws: Worksheet, row: int, col: int, freq: Frequencies, key: str) -> None:
        ws.write_number(row, col, freq.count(key))
        self._write(ws, row, col + 1, freq.share(key), self.pct)

    def _chart(
        self, ws: Worksheet, table: ClosedTable, first: int, last: int, top: int, compare: bool
    ) -> None:
        """A column chart of the overall percentages (and the previous ones) by choice."""
        chart = self.wb.add_chart({"type": "column"})
        sheet = self.sheets[SHEET_CLOSED]
        categories = [sheet, first, 1, last, 1]
        chart.add_series(
            {
                "name": self.current.fieldwork.title or self._(TOTAL),
                "categories": categories,
                "values": [sheet, first, 3, last, 3],
                "data_labels": {"value": True, "num_format": "0%"},
            }
        )
        if compare and self.previous is not None:
            chart.add_series(
                {
                    "name": self.previous.fieldwork.title or self._("previous"),
                    "categories": categories,
                    "values": [sheet, first, 5, last, 5],
                }
            )
        title = self.title_of(table.variable, table.label)
        if table.row_label is not None:
            title += f" – {self.label(table.row_label)}"
        chart.set_title({"name": _cell(title)[:250], "name_font": {"size": 10}})
        chart.set_y_axis({"num_format": "0%", "min": 0})
        chart.set_legend({"position": "bottom" if compare else "none"})
        per_block = 4 if self.previous is not None else 2
        ws.insert_chart(
            top, 2 + per_block * len(self.groups) + 1, chart, {"x_scale": 1.1, "y_scale": 1.0}
        )

    def write_numeric(self, ws: Worksheet) -> None:
        figures = [self._(name) for name in NUMERIC_FIGURES]
        if self.previous is not None:
            figures += [self._("previous %(figure)s") % {"figure": name} for name in figures]
        ws.set_column(0, 0, 30)
        ws.set_column(1, len(figures), 12)
        row = 0
        for table in self.current.report.numeric:
            before = self._numeric_previous(table)
            title = self.title_of(table.variable, table.label) + self._entries(table.repeat)
            if table.entries:
                title += f" [{self._(COUNT_NOTE)}]"
            self.links.append((table.variable, title, self.sheets[SHEET_NUMERIC], row))
            ws.write_string(row, 0, _cell(title), self.title)
            row += 1
            ws.write_string(row, 0, self.breakdown or self._("group"), self.header)
            for col, name in enumerate(figures, start=1):
                ws.write_string(row, col, name, self.header)
            for group in self.groups:
                row += 1
                ws.write_string(
                    row, 0, self.block_name(group), self.bold if group is None else None
                )
                self._summary(ws, row, 1, self._stats(table, group))
                if before is not None:
                    self._summary(ws, row, 1 + len(NUMERIC_FIGURES), self._stats(before, group))
            row += 2
        if not self.current.report.numeric:
            ws.write_string(0, 0, self._("no numeric questions"))

    def _numeric_previous(self, table: NumericTable) -> NumericTable | None:
        if self.previous is None:
            return None
        try:
            found = self.previous.report.table(table.variable)
        except KeyError:
            return None
        return found if isinstance(found, NumericTable) else None

    @staticmethod
    def _stats(table: NumericTable, group: str | None) -> NumericSummary:
        if group is None:
            return table.overall
        return table.groups.get(group) or NumericSummary()

    def _summary(self, ws: Worksheet, row: int, col: int, s: NumericSummary) -> None:
        values = (s.n, s.sum, s.mean, s.median, s.min, s.max, s.dont_know, s.refused)
        for offset, value in enumerate(values):
            number = _float(value) if isinstance(value, Decimal) else value
            self._write(ws, row, col + offset, number, self.num)

    def write_rates(self, ws: Worksheet) -> None:
        _ = self._
        names = [_("group"), _("sample size"), _("complete"), _("response rate")]
        previous: dict[str | None, RateRow] = {}
        if self.previous is not None:
            names += [
                _("previous sample size"),
                _("previous complete"),
                _("previous response rate"),
            ]
            previous = {r.group: r for r in self.previous.rates}
        mail_col = len(names)
        names += [_("invitations sent"), _("reminders sent")]
        ws.set_column(0, 0, 30)
        ws.set_column(1, len(names), 14)
        for col, name in enumerate(names):
            ws.write_string(0, col, name, self.header)
        ws.freeze_panes(1, 0)
        rows = self.current.rates
        current_groups = {r.group for r in rows}
        # groups only the earlier fieldwork had still show, with an empty current side
        earlier = self.previous.rates if self.previous is not None else []
        extra = [r.group for r in earlier if r.group not in current_groups]
        by_group = {r.group: r for r in rows}
        for index, group in enumerate([r.group for r in rows] + extra, start=1):
            ws.write_string(index, 0, self.block_name(group), self.bold if group is None else None)
            now = by_group.get(group)
            if now is not None:
                ws.write_number(index, 1, now.sample_size)
                ws.write_number(index, 2, now.complete)
                self._write(ws, index, 3, now.rate, self.pct)
                ws.write_number(index, mail_col, now.invitations)
                ws.write_number(index, mail_col + 1, now.reminders)
            before = previous.get(group)
            if before is not None:
                ws.write_number(index, 4, before.sample_size)
                ws.write_number(index, 5, before.complete)
                self._write(ws, index, 6, before.rate, self.pct)
        row = len(rows) + len(extra) + 2
        for name in RATE_BREAKDOWNS:
            if name == self.current.report.by:
                continue  # already the table above
            row = self._rates_by(ws, row, name) + 2

    def _rates_by(self, ws: Worksheet, row: int, name: str) -> int:
        """The rates by one sample variable (subregion, type) below the main table; the
        last row written."""
        _ = self._
        ws.write_string(row, 0, _(RATE_BREAKDOWNS[name]), self.title)
        row += 1
        header = [
            _(BREAKDOWN_NAMES[name]),
            _("sample size"),
            _("complete"),
            _("response rate"),
            _("invitations sent"),
            _("reminders sent"),
        ]
        for col, text in enumerate(header):
            ws.write_string(row, col, text, self.header)
        for rate in self.current.rates_by[name]:
            if rate.group is None:
                continue  # the total is the main table's first row
            row += 1
            ws.write_string(row, 0, self.block_name(rate.group))
            ws.write_number(row, 1, rate.sample_size)
            ws.write_number(row, 2, rate.complete)
            self._write(ws, row, 3, rate.rate, self.pct)
            ws.write_number(row, 4, rate.invitations)
            ws.write_number(row, 5, rate.reminders)
        return row

    def write_indicators(self, ws: Worksheet) -> None:
        """The plan's indicators against their targets, then each by subregion."""
        _ = self._
        header = [
            _("priority area"),
            _("indicator"),
            _("unit"),
            _("year"),
            _("value"),
            _("base (n)"),
            _("missing answers"),
            _("target"),
            _("target achieved"),
            _("previous value"),
            _("change"),
        ]
        ws.set_column(0, 0, 30)
        ws.set_column(1, 1, 50)
        ws.set_column(2, len(header), 13)
        for col, text in enumerate(header):
            ws.write_string(0, col, text, self.header)
        ws.freeze_panes(1, 0)
        row = 0
        for result in self.indicators:
            row += 1
            self._write(ws, row, 0, self._area(result.indicator.area))
            self._write(ws, row, 1, self._indicator_name(result))
            self._write(ws, row, 2, self._unit(result))
            ws.write_number(row, 3, result.year)
            self._write(ws, row, 4, result.overall.value, self.num)
            ws.write_number(row, 5, result.overall.base)
            ws.write_number(row, 6, result.overall.missing)
            self._write(ws, row, 7, _float(result.target), self.num)
            achieved = None if result.achieved is None else result.achieved / 100
            self._write(ws, row, 8, achieved, self.pct)
            previous = result.previous.value if result.previous is not None else None
            self._write(ws, row, 9, previous, self.num)
            self._write(ws, row, 10, result.change, self.num)
        row += 2
        ws.write_string(row, 0, _(RATE_BREAKDOWNS["subregion"]), self.title)
        row += 1
        for col, text in enumerate(
            [
                _("subregion"),
                _("indicator"),
                _("unit"),
                _("value"),
                _("base (n)"),
                _("missing answers"),
            ]
        ):
            ws.write_string(row, col, text, self.header)
        for result in self.indicators:
            for subregion, figure in result.by_subregion.items():
                row += 1
                ws.write_string(row, 0, self.block_name(subregion))
                self._write(ws, row, 1, self._indicator_name(result))
                self._write(ws, row, 2, self._unit(result))
                self._write(ws, row, 3, figure.value, self.num)
                ws.write_number(row, 4, figure.base)
                ws.write_number(row, 5, figure.missing)

    def _area(self, code: str) -> str:
        name = self.label(self.areas.get(code))
        return f"{code}. {name}" if name else code

    def _indicator_name(self, result: IndicatorResult) -> str:
        return self.label(result.indicator.name) or result.indicator.id

    def _unit(self, result: IndicatorResult) -> str:
        if result.indicator.measure is Measure.SHARE:
            return "%"
        return self.label(result.indicator.unit)


def write_document(
    session: Session,
    fieldwork: Fieldwork,
    *,
    by: str | None = None,
    compare: Fieldwork | None = None,
    language: str | None = None,
    include_partial: bool = False,
    today: date,
) -> bytes:
    """The monitoring report of ``fieldwork`` as a Word document (DOCX bytes): the same
    figures as the workbook and the plan's indicators (``compare``, or else the survey's
    previous fieldwork, gives their change). Polish unless ``language`` says otherwise;
    ``today`` is the date it says it was made."""
    if compare is not None and compare.survey_id != fieldwork.survey_id:
        raise ReportError("the comparison fieldwork is of another survey")
    current = compute(session, fieldwork, by=by, include_partial=include_partial)
    settings = current.flow.settings
    lang = language or settings.default_language
    indicators, areas = plan_indicators(session, fieldwork, compare)
    data = DocumentInput(
        title=fieldwork.title,
        survey=settings.title.get(lang, settings.default_language),
        period=str(fieldwork_year(fieldwork)),
        generated=today.strftime("%d.%m.%Y"),
        report=current.report,
        rates=current.rates,
        indicators=indicators,
        areas=areas,
        by_label=translations(lang).gettext(BREAKDOWN_NAMES[by])
        if by in BREAKDOWN_NAMES
        else (by or ""),
        language=lang,
        fallback_language=settings.default_language,
    )
    return report_document(data, translations(lang).gettext)
