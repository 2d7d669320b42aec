"""Compute the monitoring report of a fieldwork from the database and write it as XLSX.

The figures come from ``app.domain.outputs.report``; this module reads the responses (their
answers cleaned by the fieldwork's questionnaire), the sample and the plan's indicators, and
``app.exports.report_layout`` lays the tables out with XlsxWriter:

- ``contents``: what the workbook holds, with a link to every table;
- ``closed``: one frequency table per closed question (matrix rows one each), overall and
  per breakdown group, each with a native column chart of the overall percentages;
- ``numeric``: n, sum, mean, median, min, max (and don't know / refused) per numeric item;
- a variable inside a repeat has the same tables, over the repeat's entries (its title
  ends ``[entries of: REPEAT]``, a closed table's base row is ``base_entries``), and the
  repeat itself a numeric table of its number of entries (``[number of entries]``: the
  sum is the entries in all);
- ``response rates``: sample size, complete responses and the rate overall and per group
  of the breakdown, then by subregion and by type of institution; then the telephone
  cases per AAPOR disposition code by subregion and by type of institution;
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
from collections.abc import Iterator
from datetime import date

import xlsxwriter
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.monitoring.indicators import IndicatorResult
from app.domain.outputs.document import DocumentInput, report_document
from app.domain.outputs.report import (
    NO_VALUE,
    Record,
    build_report,
    disposition_counts,
    group_of,
    response_rates,
)
from app.domain.questionnaire.answers import answers_from_json
from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.model import Text
from app.domain.workbooks import SAFE_XLSX_OPTIONS
from app.exports.report_layout import (
    BREAKDOWN_NAMES,
    RATE_BREAKDOWNS,
    FieldworkReport,
    WorkbookWriter,
)
from app.models.cati import Case
from app.models.fieldwork import (
    Fieldwork,
    Response,
    ResponseStatus,
    SampleUnit,
    earlier_fieldworks,
)
from app.models.mail import sent_counts
from app.models.monitoring import fieldwork_year, indicator_results
from app.models.scope import UNSCOPED, Scope
from app.models.surveys import flow_of, stored_plans
from app.platform.i18n import translations

STANDARD_BREAKDOWNS = ("subregion", "entity_type", "powiat", "gmina")


class ReportError(Exception):
    """A report that cannot be made as asked (unknown breakdown, other survey, ...)."""


def _sample_units(
    session: Session, fieldwork: Fieldwork, scope: Scope = UNSCOPED
) -> list[SampleUnit]:
    return list(
        session.scalars(
            select(SampleUnit)
            .where(SampleUnit.fieldwork_id == fieldwork.id, scope.covers(SampleUnit.id))
            .order_by(SampleUnit.id)
        )
    )


def _records(
    session: Session, fieldwork: Fieldwork, flow: Flow, include_partial: bool, scope: Scope
) -> Iterator[Record]:
    """(clean answers, sample variables) of each response in ``scope``, read in order, in
    batches."""
    query = (
        select(Response, SampleUnit)
        .outerjoin(SampleUnit, Response.sample_unit_id == SampleUnit.id)
        .where(
            Response.fieldwork_id == fieldwork.id,
            Response.is_test.is_(False),
            scope.covers(Response.sample_unit_id),
        )
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
    session: Session,
    fieldwork: Fieldwork,
    *,
    by: str | None = None,
    include_partial: bool = False,
    scope: Scope = UNSCOPED,
) -> FieldworkReport:
    """The report's figures for ``fieldwork``'s institutions in ``scope`` (complete
    responses only unless asked)."""
    units = _sample_units(session, fieldwork, scope)
    if by is not None and by not in STANDARD_BREAKDOWNS:
        if not any(by in (unit.variables or {}) for unit in units):
            raise ReportError(f"the sample has no variable {by!r}")
    flow = flow_of(fieldwork.survey_version)
    samples = [unit.sample_variables() for unit in units]
    groups = sorted({group_of(s, by) for s in samples} - {NO_VALUE}) if by else []
    if by and any(group_of(s, by) == NO_VALUE for s in samples):
        groups.append(NO_VALUE)
    report = build_report(
        flow, _records(session, fieldwork, flow, include_partial, scope), by=by, groups=groups
    )
    completed = set(
        session.scalars(
            select(Response.sample_unit_id).where(
                Response.fieldwork_id == fieldwork.id,
                Response.status == ResponseStatus.COMPLETE.value,
                Response.sample_unit_id.is_not(None),
                scope.covers(Response.sample_unit_id),
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
    unit_samples = {unit.id: sample for unit, sample in zip(units, samples, strict=True)}
    cases = session.execute(
        select(Case.sample_unit_id, Case.disposition_code).where(
            Case.fieldwork_id == fieldwork.id,
            Case.excluded.is_(False),
            scope.covers(Case.sample_unit_id),
        )
    ).all()
    dispositions = {
        name: disposition_counts(
            ((unit_samples.get(unit_id, {}), code) for unit_id, code in cases), by=name
        )
        for name in RATE_BREAKDOWNS
    }
    return FieldworkReport(fieldwork, flow, report, rates, rates_by, dispositions)


def plan_indicators(
    session: Session, fieldwork: Fieldwork, compare: Fieldwork | None, scope: Scope = UNSCOPED
) -> tuple[list[IndicatorResult], dict[str, Text]]:
    """The plans' indicators of ``fieldwork`` over ``scope``'s institutions and their areas'
    names (code -> name); the change is from ``compare``, or else from the survey's previous
    fieldwork. The report workbook and the Word document both show these."""
    if compare is None:
        earlier = earlier_fieldworks(session, fieldwork)
        compare = earlier[0] if earlier else None
    indicators = indicator_results(session, fieldwork, compare, scope)
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
    scope: Scope = UNSCOPED,
) -> bytes:
    """The monitoring report workbook of ``fieldwork`` (its institutions in ``scope``) as
    XLSX bytes.

    ``compare``: an earlier fieldwork of the same survey, shown side by side.
    ``language``: of the questionnaire's labels (default: the questionnaire's own).
    """
    if compare is not None and compare.survey_id != fieldwork.survey_id:
        raise ReportError("the comparison fieldwork is of another survey")
    if compare is not None and compare.id == fieldwork.id:
        raise ReportError("a fieldwork cannot be compared with itself")
    current = compute(session, fieldwork, by=by, include_partial=include_partial, scope=scope)
    previous = (
        compute(session, compare, by=by, include_partial=include_partial, scope=scope)
        if compare
        else None
    )
    lang = language or current.flow.settings.default_language
    indicators, areas = plan_indicators(session, fieldwork, compare, scope)
    buffer = io.BytesIO()
    # labels come from definitions and samples: never let them become formulas/links
    workbook = xlsxwriter.Workbook(buffer, {**SAFE_XLSX_OPTIONS, "in_memory": True})
    WorkbookWriter(workbook, current, previous, lang, indicators, areas).write()
    workbook.close()
    return buffer.getvalue()


def write_document(
    session: Session,
    fieldwork: Fieldwork,
    *,
    by: str | None = None,
    compare: Fieldwork | None = None,
    language: str | None = None,
    include_partial: bool = False,
    today: date,
    scope: Scope = UNSCOPED,
) -> bytes:
    """The monitoring report of ``fieldwork`` (its institutions in ``scope``) as a Word
    document (DOCX bytes): the same
    figures as the workbook and the plan's indicators (``compare``, or else the survey's
    previous fieldwork, gives their change). Polish unless ``language`` says otherwise;
    ``today`` is the date it says it was made."""
    if compare is not None and compare.survey_id != fieldwork.survey_id:
        raise ReportError("the comparison fieldwork is of another survey")
    current = compute(session, fieldwork, by=by, include_partial=include_partial, scope=scope)
    settings = current.flow.settings
    lang = language or settings.default_language
    indicators, areas = plan_indicators(session, fieldwork, compare, scope)
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
