"""Laying the monitoring report out in an XLSX workbook (XlsxWriter): the sheets that
``app.exports.report`` describes, from the figures it computes (``FieldworkReport``) and
the plan's indicators. The report's own words (sheet names, headers) come from the
catalogue in the report's language; questions and choices from the questionnaire.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from app.domain.messages import N_
from app.domain.monitoring.indicators import IndicatorResult
from app.domain.monitoring.plan import Measure
from app.domain.outputs.report import (
    NO_VALUE,
    ClosedTable,
    DispositionTable,
    Frequencies,
    NumericSummary,
    NumericTable,
    RateRow,
    Report,
)
from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.model import Text
from app.models.fieldwork import Fieldwork
from app.platform.i18n import translations

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
DISPOSITION_TITLES = {
    "subregion": N_("telephone cases by AAPOR disposition code, by subregion"),
    "entity_type": N_("telephone cases by AAPOR disposition code, by type of institution"),
}
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


TableT = TypeVar("TableT", ClosedTable, NumericTable)


@dataclass
class FieldworkReport:
    """The figures of one fieldwork: tables and response rates."""

    fieldwork: Fieldwork
    flow: Flow
    report: Report
    rates: list[RateRow]
    # rates by subregion and by type of institution (RATE_BREAKDOWNS), whatever ``by`` is
    rates_by: dict[str, list[RateRow]]
    # the CATI cases per AAPOR disposition code, by the same two
    dispositions: dict[str, DispositionTable]


def _text(text: Text | None, lang: str, fallback: str) -> str:
    return text.get(lang, fallback) if text is not None else ""


def _cell(value: str) -> str:
    """Text cut to what a cell holds, with a visible marker when cut."""
    return value if len(value) <= MAX_CELL else value[: MAX_CELL - 1] + "…"


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


class WorkbookWriter:
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

    def _previous(self, table: TableT) -> TableT | None:
        """The earlier fieldwork's table of the same question and kind, if it has one."""
        if self.previous is None:
            return None
        try:
            found = self.previous.report.table(table.variable)
        except KeyError:
            return None
        return found if isinstance(found, type(table)) else None

    def write_closed(self, ws: Worksheet) -> None:
        per_block = 4 if self.previous is not None else 2
        ws.set_column(0, 0, 10)
        ws.set_column(1, 1, 45)
        ws.set_column(2, 2 + per_block * len(self.groups), 11)
        row = 0
        for table in self.current.report.closed:
            before = self._previous(table)
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
            before = self._previous(table)
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
        for name in RATE_BREAKDOWNS:
            row = self._dispositions(ws, row, name) + 2

    def _dispositions(self, ws: Worksheet, row: int, name: str) -> int:
        """Cases per AAPOR disposition code by one sample variable; the last row written."""
        _ = self._
        table = self.current.dispositions[name]
        if not table.codes:
            return row - 2  # no telephone cases: nothing to show
        ws.write_string(row, 0, _(DISPOSITION_TITLES[name]), self.title)
        row += 1
        ws.write_string(row, 0, _(BREAKDOWN_NAMES[name]), self.header)
        for col, code in enumerate(table.codes, start=1):
            ws.write_string(row, col, code, self.header)
        for group, counts in [(None, table.overall), *table.groups.items()]:
            row += 1
            ws.write_string(row, 0, self.block_name(group), self.bold if group is None else None)
            for col, code in enumerate(table.codes, start=1):
                ws.write_number(row, col, counts.get(code, 0))
        return row

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
