"""Indicators of the stored monitoring plans, computed for a fieldwork's responses.

The plan's indicators of a fieldwork are those whose ``questionnaire`` is the fieldwork's
survey. They are computed from its complete responses (tests left out), each with its
institution's sample variables (``subregion`` breaks them down), for the fieldwork's year:
the year it closes, else opens, else was created (Warsaw time). With ``previous`` (an
earlier fieldwork of the same survey) each result carries that period's value too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.dates import local_date
from app.domain.monitoring.indicators import IndicatorResult, Observation, compute
from app.domain.monitoring.plan import Indicator
from app.domain.outputs.report import RateRow, response_rates
from app.domain.questionnaire.answers import answers_from_json
from app.models.fieldwork import Fieldwork, Response, ResponseStatus, SampleUnit
from app.models.scope import UNSCOPED, Scope
from app.models.surveys import flow_of, stored_plans


def fieldwork_year(fieldwork: Fieldwork) -> int:
    """The year a fieldwork's figures belong to (see the module docstring)."""
    day = fieldwork.closes_on or fieldwork.opens_on or local_date(fieldwork.created_at)
    return day.year


def indicators_of(session: Session, fieldwork: Fieldwork) -> list[Indicator]:
    """The indicators of every stored plan computed from this fieldwork's survey."""
    return [
        indicator
        for plan in stored_plans(session)
        for indicator in plan.for_questionnaire(fieldwork.survey.code)
    ]


def observations(
    session: Session, fieldwork: Fieldwork, scope: Scope = UNSCOPED
) -> Iterator[Observation]:
    """Each complete, non-test response of the fieldwork (in ``scope``) with its sample
    variables."""
    q = flow_of(fieldwork.survey_version).questionnaire
    query = (
        select(Response, SampleUnit)
        .outerjoin(SampleUnit, Response.sample_unit_id == SampleUnit.id)
        .where(
            Response.fieldwork_id == fieldwork.id,
            Response.is_test.is_(False),
            Response.status == ResponseStatus.COMPLETE.value,
            scope.covers(Response.sample_unit_id),
        )
        .order_by(Response.id)
    )
    for response, unit in session.execute(query.execution_options(yield_per=500)):
        sample = unit.sample_variables() if unit is not None else {}
        yield Observation(answers_from_json(q, response.answers or {}), sample)


def indicator_results(
    session: Session,
    fieldwork: Fieldwork,
    previous: Fieldwork | None = None,
    scope: Scope = UNSCOPED,
) -> list[IndicatorResult]:
    """The fieldwork's indicators, each computed over its responses in ``scope`` (see the
    docstring)."""
    indicators = indicators_of(session, fieldwork)
    if not indicators:
        return []
    flow = flow_of(fieldwork.survey_version)
    rows = list(observations(session, fieldwork, scope))
    earlier: dict[str, IndicatorResult] = {}
    if previous is not None and previous.survey_id == fieldwork.survey_id:
        before = list(observations(session, previous, scope))
        before_flow = flow_of(previous.survey_version)
        year = fieldwork_year(previous)
        for indicator in indicators:
            earlier[indicator.id] = compute(indicator, before_flow, before, year=year)
    year = fieldwork_year(fieldwork)
    return [
        compute(
            indicator,
            flow,
            rows,
            year=year,
            previous=earlier[indicator.id].overall if indicator.id in earlier else None,
        )
        for indicator in indicators
    ]


def completions_by_day(
    session: Session, fieldwork: Fieldwork, scope: Scope = UNSCOPED
) -> list[tuple[date, int]]:
    """Complete, non-test responses (in ``scope``) per day they were completed (Warsaw)."""
    moments = session.scalars(
        select(Response.completed_at).where(
            Response.fieldwork_id == fieldwork.id,
            Response.is_test.is_(False),
            Response.status == ResponseStatus.COMPLETE.value,
            Response.completed_at.is_not(None),
            scope.covers(Response.sample_unit_id),
        )
    )
    days: dict[date, int] = {}
    for moment in moments:
        if moment is not None:
            day = local_date(moment)
            days[day] = days.get(day, 0) + 1
    return sorted(days.items())


def rates_by(
    session: Session, fieldwork: Fieldwork, by: str, scope: Scope = UNSCOPED
) -> list[RateRow]:
    """Sample size, complete responses and the rate overall and per value of ``by``
    (a sample variable such as subregion or entity_type), over the institutions in
    ``scope``."""
    complete = set(
        session.scalars(
            select(Response.sample_unit_id).where(
                Response.fieldwork_id == fieldwork.id,
                Response.is_test.is_(False),
                Response.status == ResponseStatus.COMPLETE.value,
            )
        )
    )
    units = session.scalars(
        select(SampleUnit).where(
            SampleUnit.fieldwork_id == fieldwork.id, scope.covers(SampleUnit.id)
        )
    )
    return response_rates(((unit.sample_variables(), unit.id in complete) for unit in units), by=by)
