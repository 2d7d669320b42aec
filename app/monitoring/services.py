"""What the monitoring pages show: the fieldworks with indicators, and one's results."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.monitoring.indicators import IndicatorResult
from app.domain.monitoring.plan import Plan
from app.domain.outputs.charts import bar_chart, line_chart
from app.domain.outputs.report import RateRow
from app.models.fieldwork import Fieldwork, earlier_fieldworks
from app.models.monitoring import (
    completions_by_day,
    fieldwork_year,
    indicator_results,
    rates_by,
)
from app.models.scope import Scope
from app.models.surveys import stored_plans


@dataclass(frozen=True)
class FieldworkRow:
    fieldwork: Fieldwork
    indicators: int
    year: int


@dataclass(frozen=True)
class Overview:
    plans: list[Plan]
    fieldworks: list[FieldworkRow]


def overview(session: Session, scope: Scope) -> Overview:
    """The stored plans and the fieldworks (with institutions in ``scope``) of surveys they
    have indicators for."""
    plans = stored_plans(session)
    counts: dict[str, int] = {}
    for plan in plans:
        for indicator in plan.indicators:
            counts[indicator.questionnaire] = counts.get(indicator.questionnaire, 0) + 1
    rows = [
        FieldworkRow(fieldwork, counts[fieldwork.survey.code], fieldwork_year(fieldwork))
        for fieldwork in session.scalars(
            select(Fieldwork).where(scope.covers_fieldwork()).order_by(Fieldwork.id.desc())
        )
        if fieldwork.survey.code in counts
    ]
    return Overview(plans, rows)


@dataclass(frozen=True)
class Progress:
    """Complete responses per day and so far, for the line chart and its table."""

    days: list[tuple[date, int, int]]  # day, completed that day, completed so far
    chart: str | None  # a data: URL of the SVG


@dataclass(frozen=True)
class Rates:
    """Response rates by one sample variable, for a bar chart and its table."""

    by: str  # subregion / entity_type
    rows: list[RateRow]
    chart: str | None


@dataclass(frozen=True)
class FieldworkIndicators:
    fieldwork: Fieldwork
    year: int
    previous: Fieldwork | None
    results: list[IndicatorResult]
    subregions: list[str]
    plans: list[Plan]
    progress: Progress
    rates: list[Rates]
    achieved_charts: dict[str, str]  # area code -> a data: URL of its bars


def _data_url(svg: bytes | None) -> str | None:
    if svg is None:
        return None
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def fieldwork_indicators(
    session: Session, fieldwork: Fieldwork, scope: Scope, *, language: str = "pl"
) -> FieldworkIndicators:
    """The fieldwork's progress, response rates and indicators (compared with the survey's
    previous fieldwork) over the institutions in ``scope``, with their charts in the
    reader's ``language``."""
    comma = language != "en"
    earlier = earlier_fieldworks(session, fieldwork)
    previous = earlier[0] if earlier else None
    results = indicator_results(session, fieldwork, previous, scope)
    subregions = sorted({name for result in results for name in result.by_subregion})
    days: list[tuple[date, int, int]] = []
    total = 0
    for day, count in completions_by_day(session, fieldwork, scope):
        total += count
        days.append((day, count, total))
    progress = Progress(
        days, _data_url(line_chart([d for d, _, _ in days], [t for _, _, t in days]))
    )
    rates = []
    for by in ("subregion", "entity_type"):
        rows = rates_by(session, fieldwork, by, scope)
        groups = [row for row in rows if row.group is not None]
        chart = bar_chart(
            [row.group or "—" for row in groups],
            [None if row.rate is None else row.rate * 100 for row in groups],
            comma=comma,
            fmt="svg",
        )
        rates.append(Rates(by, rows, _data_url(chart)))
    achieved: dict[str, str] = {}
    for code in sorted({result.indicator.area for result in results}):
        in_area = [r for r in results if r.indicator.area == code]
        chart = bar_chart(
            [r.indicator.name.get(language) for r in in_area],
            [r.achieved for r in in_area],
            comma=comma,
            fmt="svg",
        )
        if chart is not None:
            achieved[code] = _data_url(chart) or ""
    return FieldworkIndicators(
        fieldwork,
        fieldwork_year(fieldwork),
        previous,
        results,
        subregions,
        stored_plans(session),
        progress,
        rates,
        achieved,
    )
