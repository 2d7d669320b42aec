"""The monitoring report as a Word document (DOCX): what the ROPS hands to the Zespół.

The same figures as the report workbook (``app.domain.outputs.report``), and the plan's
indicators (``app.domain.monitoring.indicators``), written as a document with python-docx:
a title, then

1. the fieldwork: sample, complete responses and the response rate, overall and by group,
   with a bar chart of the rates;
2. the indicators of the plan by priority area: value, base, missing answers, target,
   degree achieved and change from the previous period, with a bar chart of the degree
   achieved, and each indicator by subregion;
3. the questions: for each closed question a table of answers (n and % of the base) and a
   bar chart, for each numeric one n, sum, mean, median, min and max.

Charts are drawn with matplotlib (its Agg backend, no display) as PNG images; every chart
has the table it was drawn from right beside it, so nothing is only in a picture. Texts are
in ``language`` (the questionnaire's labels in it where they have it) and the fixed words
come through ``gettext`` (the caller's catalogue), Polish by default; numbers are written
as that language writes them (``1 234,5`` in Polish).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.domain.messages import N_, Message
from app.domain.monitoring.indicators import Figure, IndicatorResult
from app.domain.monitoring.plan import Measure
from app.domain.outputs.charts import bar_chart
from app.domain.outputs.report import (
    NO_VALUE,
    ClosedTable,
    NumericSummary,
    NumericTable,
    RateRow,
    Report,
)
from app.domain.questionnaire.model import Text

Gettext = Callable[[str], str]
TEXT_WIDTH_CM = 16.0  # the text's width on the page (python-docx's default page and margins)
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


@dataclass(frozen=True)
class DocumentInput:
    """What the document shows (see the module docstring)."""

    title: str  # the fieldwork's title
    survey: str  # the questionnaire's title
    period: str  # e.g. "2026"
    generated: str  # the date it was made, as the reader writes dates
    report: Report
    rates: Sequence[RateRow]
    indicators: Sequence[IndicatorResult] = ()
    areas: Mapping[str, Text] = field(default_factory=dict)  # area code -> its name
    by_label: str = ""  # what the groups are (e.g. "podregion"); "" without a breakdown
    language: str = "pl"
    fallback_language: str = "pl"


def report_document(data: DocumentInput, gettext: Gettext) -> bytes:
    """The DOCX bytes of the report."""
    return _Writer(data, gettext).write()


class _Writer:
    def __init__(self, data: DocumentInput, gettext: Gettext) -> None:
        from docx import Document  # imported here: only a report job pays for it

        self.data = data
        self.gettext = gettext
        self.doc = Document()
        self.figures = 0

    # -- words and numbers --------------------------------------------------------------

    def _(self, msgid: str, **params: Any) -> str:
        return Message(msgid, params).render(self.gettext)

    def text(self, text: Text | None) -> str:
        """A definition's text in the document's language; an answer it would show
        (``${a3}``: a different one in every response) reads as "…"."""
        if text is None:
            return ""
        return _PLACEHOLDER.sub("…", text.get(self.data.language, self.data.fallback_language))

    def number(
        self, value: float | int | Decimal | None, digits: int = 1, fixed: bool = False
    ) -> str:
        """A figure as the language writes it; whole numbers without decimals unless
        ``fixed``."""
        if value is None:
            return "–"
        number = float(value)
        if number.is_integer() and abs(number) < 1e15 and not fixed:
            written = f"{int(number):,}"
        else:
            written = f"{number:,.{digits}f}"
        if self.data.language == "en":
            return written
        return written.replace(",", "\u00a0").replace(".", ",")

    def percent(self, share: float | None) -> str:
        """A share (0.25) as a percentage ("25,0%")."""
        return "–" if share is None else self.number(share * 100, 1, fixed=True) + "%"

    def group(self, group: str | None) -> str:
        if group is None:
            return self._(N_("Total"))
        return self._(N_("(no value)")) if group == NO_VALUE else group

    # -- building blocks ----------------------------------------------------------------

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]], caption: str) -> None:
        """A table with a caption above it and a header row repeated on every page."""
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        self.doc.add_paragraph(caption, style="Caption")
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        cells = table.rows[0].cells
        for cell, value in zip(cells, header, strict=True):
            cell.text = value
            for run in cell.paragraphs[0].runs:
                run.bold = True
        properties = table.rows[0]._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        properties.append(repeat)
        for row in rows:
            for cell, value in zip(table.add_row().cells, row, strict=True):
                cell.text = value
        self.widen_first_column(table, len(header))
        if len(header) >= 5:  # seven figures side by side: a smaller type keeps words whole
            from docx.shared import Pt

            for table_row in table.rows:
                for cell in table_row.cells:
                    for run in cell.paragraphs[0].runs:
                        run.font.size = Pt(8.5)

    @staticmethod
    def widen_first_column(table: Any, columns: int) -> None:
        """Give the first column (the indicator's, the answer's or the group's name) the
        room it needs and share the rest equally, instead of equal columns that break a
        name into syllables; both Word (cell widths) and LibreOffice (the grid) read it."""
        if columns < 3:
            return
        from docx.shared import Cm

        first = TEXT_WIDTH_CM * (0.34 if columns >= 5 else 0.45)
        widths = [first] + [(TEXT_WIDTH_CM - first) / (columns - 1)] * (columns - 1)
        table.autofit = False
        for column, width in zip(table.columns, widths, strict=True):
            column.width = Cm(width)
            for cell in column.cells:
                cell.width = Cm(width)

    def chart(self, labels: Sequence[str], values: Sequence[float | None], title: str) -> None:
        """A horizontal bar chart (values in %) as an image, with its title as its caption."""
        image = bar_chart(labels, values, comma=self.data.language != "en")
        if image is None:
            return
        from docx.shared import Cm

        self.figures += 1
        caption = self._(N_("Figure %(n)d. %(title)s"), n=self.figures, title=title)
        self.doc.add_picture(io.BytesIO(image), width=Cm(15))
        self.doc.add_paragraph(caption, style="Caption")

    # -- the document -------------------------------------------------------------------

    def write(self) -> bytes:
        data = self.data
        self.doc.core_properties.title = data.title
        self.doc.core_properties.language = data.language
        self.doc.add_heading(self._(N_("Monitoring report")), level=0)
        self.doc.add_paragraph(data.title)
        self.doc.add_paragraph(self._(N_("Questionnaire: %(survey)s"), survey=data.survey))
        self.doc.add_paragraph(
            self._(
                N_("Period: %(period)s. Made on %(date)s."), period=data.period, date=data.generated
            )
        )
        self.write_rates()
        if data.indicators:
            self.write_indicators()
        self.write_questions()
        buffer = io.BytesIO()
        self.doc.save(buffer)
        return buffer.getvalue()

    def write_rates(self) -> None:
        self.doc.add_heading(self._(N_("1. The fieldwork")), level=1)
        report = self.data.report
        self.doc.add_paragraph(
            self._(
                N_("Complete responses: %(responses)s."),
                responses=self.number(report.responses),
            )
        )
        header = [
            self.data.by_label or self._(N_("Group")),
            self._(N_("Sample")),
            self._(N_("Complete")),
            self._(N_("Response rate")),
        ]
        rows = [
            [
                self.group(row.group),
                self.number(row.sample_size),
                self.number(row.complete),
                self.percent(row.rate),
            ]
            for row in self.data.rates
        ]
        self.table(header, rows, self._(N_("Response rates")))
        groups = [row for row in self.data.rates if row.group is not None]
        if groups:
            self.chart(
                [self.group(row.group) for row in groups],
                [None if row.rate is None else row.rate * 100 for row in groups],
                self._(N_("Response rate by %(group)s"), group=self.data.by_label or "—"),
            )

    def write_indicators(self) -> None:
        self.doc.add_heading(self._(N_("2. Indicators of the plan")), level=1)
        areas: dict[str, list[IndicatorResult]] = {}
        for result in self.data.indicators:
            areas.setdefault(result.indicator.area, []).append(result)
        for code, results in areas.items():
            name = self.text(self.data.areas.get(code))
            self.doc.add_heading(
                self._(N_("Priority area %(code)s"), code=code) + (f": {name}" if name else ""),
                level=2,
            )
            header = [
                self._(N_("Indicator")),
                self._(N_("Value")),
                self._(N_("Base (n)")),
                self._(N_("Missing")),
                self._(N_("Target")),
                self._(N_("Target achieved")),
                self._(N_("Change")),
            ]
            rows = [
                [
                    self.text(r.indicator.name),
                    self.figure(r.overall, r),
                    self.number(r.overall.base),
                    self.number(r.overall.missing),
                    self.number(r.target) if r.target is not None else "–",
                    self.percent(None if r.achieved is None else r.achieved / 100),
                    self.change(r.change),
                ]
                for r in results
            ]
            self.table(header, rows, self._(N_("Indicators against their targets")))
            self.chart(
                [self.text(r.indicator.name) for r in results],
                [r.achieved for r in results],
                self._(N_("Target achieved (%%): priority area %(code)s"), code=code),
            )
            subregions = sorted({name for r in results for name in r.by_subregion})
            if subregions:
                header = [self._(N_("Indicator")), *(self.group(s) for s in subregions)]
                rows = [
                    [
                        self.text(r.indicator.name),
                        *(self.figure(r.by_subregion.get(s), r, base=True) for s in subregions),
                    ]
                    for r in results
                ]
                self.table(header, rows, self._(N_("By subregion")))

    def figure(self, figure: Figure | None, result: IndicatorResult, base: bool = False) -> str:
        if figure is None:
            return "–"
        if figure.value is None:
            shown = self._(N_("no data"))
        elif result.indicator.measure is Measure.SHARE:
            shown = self.number(figure.value) + "%"
        else:
            unit = self.text(result.indicator.unit)
            shown = self.number(figure.value) + (f" {unit}" if unit else "")
        return f"{shown} (n={figure.base})" if base else shown

    def change(self, change: float | None) -> str:
        if change is None:
            return "–"
        return ("+" if change > 0 else "") + self.number(change)

    def write_questions(self) -> None:
        number = 3 if self.data.indicators else 2
        self.doc.add_heading(self._(N_("%(n)d. Answers to the questions"), n=number), level=1)
        for table in self.data.report.tables:
            if isinstance(table, ClosedTable):
                self.write_closed(table)
            else:
                self.write_numeric(table)

    def question(self, label: Text | None, variable: str, row_label: Text | None = None) -> str:
        text = self.text(label) or variable
        if row_label is not None:
            text = f"{text} – {self.text(row_label)}"
        return f"{variable}. {text}"

    def write_closed(self, table: ClosedTable) -> None:
        title = self.question(table.label, table.variable, table.row_label)
        self.doc.add_heading(title, level=3)
        overall = table.overall
        rows = []
        labels: list[str] = []
        shares: list[float | None] = []
        for choice in table.rows:
            if choice.missing is not None:
                name = (
                    self._(N_("Don't know")) if choice.key == "dont_know" else self._(N_("Refused"))
                )
            else:
                name = self.text(choice.label) or str(choice.code)
            share = overall.share(choice.key)
            if choice.missing is not None and not overall.count(choice.key):
                continue  # an empty don't know / refused row says nothing
            rows.append([name, self.number(overall.count(choice.key)), self.percent(share)])
            labels.append(name)
            shares.append(None if share is None else share * 100)
        header = [self._(N_("Answer")), "n", "%"]
        caption = self._(N_("Base: %(base)s responses"), base=self.number(overall.base))
        if table.multiple:
            caption += " " + self._(N_("(more than one answer could be given)"))
        self.table(header, rows, caption)
        self.chart(labels, shares, title)

    def write_numeric(self, table: NumericTable) -> None:
        title = self.question(table.label, table.variable)
        self.doc.add_heading(title, level=3)
        header = [
            self.data.by_label or self._(N_("Group")),
            "n",
            self._(N_("Sum")),
            self._(N_("Mean")),
            self._(N_("Median")),
            self._(N_("Min")),
            self._(N_("Max")),
        ]
        summaries: list[tuple[str | None, NumericSummary]] = [(None, table.overall)]
        summaries.extend(table.groups.items())
        rows = [
            [
                self.group(group),
                self.number(s.n),
                self.number(s.sum),
                self.number(s.mean, 2),
                self.number(s.median, 2),
                self.number(s.min),
                self.number(s.max),
            ]
            for group, s in summaries
        ]
        self.table(header, rows, self._(N_("Summary of the answers")))
