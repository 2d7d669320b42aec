"""What the monitoring pages show: the fieldworks with indicators, and one's results."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.monitoring.indicators import IndicatorResult
from app.domain.monitoring.plan import Plan
from app.models.fieldwork import Fieldwork, earlier_fieldworks
from app.models.monitoring import fieldwork_year, indicator_results
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


def overview(session: Session) -> Overview:
    """The stored plans and the fieldworks of surveys they have indicators for."""
    plans = stored_plans(session)
    counts: dict[str, int] = {}
    for plan in plans:
        for indicator in plan.indicators:
            counts[indicator.questionnaire] = counts.get(indicator.questionnaire, 0) + 1
    rows = [
        FieldworkRow(fieldwork, counts[fieldwork.survey.code], fieldwork_year(fieldwork))
        for fieldwork in session.scalars(select(Fieldwork).order_by(Fieldwork.id.desc()))
        if fieldwork.survey.code in counts
    ]
    return Overview(plans, rows)


@dataclass(frozen=True)
class FieldworkIndicators:
    fieldwork: Fieldwork
    year: int
    previous: Fieldwork | None
    results: list[IndicatorResult]
    subregions: list[str]
    plans: list[Plan]


def fieldwork_indicators(session: Session, fieldwork: Fieldwork) -> FieldworkIndicators:
    """The fieldwork's indicators, compared with the survey's previous fieldwork."""
    earlier = earlier_fieldworks(session, fieldwork)
    previous = earlier[0] if earlier else None
    results = indicator_results(session, fieldwork, previous)
    subregions = sorted({name for result in results for name in result.by_subregion})
    return FieldworkIndicators(
        fieldwork, fieldwork_year(fieldwork), previous, results, subregions, stored_plans(session)
    )
