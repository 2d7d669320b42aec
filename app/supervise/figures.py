"""What the supervisor's fieldwork screen shows: dispositions, appointments, rates, cases, log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.domain.fieldwork import aapor
from app.domain.fieldwork.outcomes import aapor_group
from app.models import calling
from app.models.cati import Appointment, Call, Case, Outcome, SupervisorAction
from app.models.fieldwork import Fieldwork, Response, SampleUnit
from app.models.scope import Scope
from app.models.users import User

UPCOMING_DAYS = 7


@dataclass
class FieldworkRow:
    fieldwork: Fieldwork
    cases: int
    final: int
    excluded: int


def list_fieldworks(session: Session, scope: Scope) -> list[FieldworkRow]:
    """Every fieldwork (with institutions in ``scope``) with its number of cases, finished
    cases and excluded cases in that scope."""
    counts = {
        row.fieldwork_id: row
        for row in session.execute(
            select(
                Case.fieldwork_id,
                func.count().label("cases"),
                func.count().filter(Case.is_final.is_(True)).label("final"),
                func.count().filter(Case.excluded.is_(True)).label("excluded"),
            )
            .where(scope.covers(Case.sample_unit_id))
            .group_by(Case.fieldwork_id)
        )
    }
    rows = []
    for fieldwork in session.scalars(
        select(Fieldwork).where(scope.covers_fieldwork()).order_by(Fieldwork.id.desc())
    ):
        found = counts.get(fieldwork.id)
        rows.append(
            FieldworkRow(
                fieldwork,
                found.cases if found else 0,
                found.final if found else 0,
                found.excluded if found else 0,
            )
        )
    return rows


@dataclass
class DispositionRow:
    aapor: str
    group: str  # I, P, R, NC, O, UH, UO, NE
    outcome: Outcome | None  # None: no call yet (3.11 not attempted)
    final: bool
    cases: int


def dispositions(session: Session, fieldwork: Fieldwork, scope: Scope) -> list[DispositionRow]:
    """Cases (not excluded, in ``scope``) by AAPOR disposition code and the outcome behind it."""
    rows = session.execute(
        select(
            Case.disposition_code,
            Case.disposition_outcome_id,
            Case.is_final,
            func.count(),
        )
        .where(
            Case.fieldwork_id == fieldwork.id,
            Case.excluded.is_(False),
            scope.covers(Case.sample_unit_id),
        )
        .group_by(Case.disposition_code, Case.disposition_outcome_id, Case.is_final)
    ).all()
    outcomes = {o.id: o for o in calling.outcomes_of(session, fieldwork)}
    result = [
        DispositionRow(
            code,
            aapor_group(code),
            outcomes.get(outcome_id) if outcome_id is not None else None,
            bool(final),
            count,
        )
        for code, outcome_id, final, count in rows
    ]
    # AAPOR codes nest digit by digit (2.112 inside 2.11, before 2.21): text order is theirs
    result.sort(key=lambda r: (r.aapor, r.outcome.position if r.outcome else -1))
    return result


def excluded_count(session: Session, fieldwork: Fieldwork, scope: Scope) -> int:
    return session.execute(
        select(func.count())
        .select_from(Case)
        .where(
            Case.fieldwork_id == fieldwork.id,
            Case.excluded.is_(True),
            scope.covers(Case.sample_unit_id),
        )
    ).scalar_one()


@dataclass
class UpcomingAppointment:
    appointment: Appointment
    case: Case
    institution: str
    interviewer: User | None  # None: anyone


def upcoming_appointments(
    session: Session, fieldwork: Fieldwork, now: datetime, scope: Scope
) -> list[UpcomingAppointment]:
    """Pending appointments (in ``scope``) not yet over that start within the next seven days."""
    until = now + timedelta(days=UPCOMING_DAYS)
    rows = session.execute(
        select(Appointment, Case, SampleUnit.name)
        .join(Case, Appointment.case_id == Case.id)
        .join(SampleUnit, Case.sample_unit_id == SampleUnit.id)
        .where(
            Case.fieldwork_id == fieldwork.id,
            Case.excluded.is_(False),
            scope.covers(SampleUnit.id),
            Appointment.status == "pending",
            Appointment.starts_at < until,
            func.coalesce(Appointment.ends_at, Appointment.starts_at) >= now,
        )
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()
    return [
        UpcomingAppointment(appointment, case, name, appointment.interviewer)
        for appointment, case, name in rows
    ]


@dataclass
class RatesView:
    counts: aapor.DispositionCounts
    rates: aapor.Rates
    e_configured: bool  # False: estimated from the resolved cases (or not estimable)


def rates_view(session: Session, fieldwork: Fieldwork, scope: Scope) -> RatesView:
    """AAPOR rates of the fieldwork's cases in ``scope`` (excluded cases left out) with the
    counts behind them."""
    counts = calling.disposition_counts(session, fieldwork, scope)
    codes = [code for code, n in counts.items() for _ in range(n)]
    return RatesView(
        counts=aapor.DispositionCounts.from_codes(codes),
        rates=calling.rates_for(session, fieldwork, scope),
        e_configured=fieldwork.aapor_e is not None,
    )


def claimed_cases(session: Session, fieldwork: Fieldwork, scope: Scope) -> list:
    """(case, institution name, interviewer) of the cases (in ``scope``) held by an
    interviewer now."""
    return list(
        session.execute(
            select(Case, SampleUnit.name, User)
            .join(SampleUnit, Case.sample_unit_id == SampleUnit.id)
            .join(User, Case.claimed_by_id == User.id)
            .where(Case.fieldwork_id == fieldwork.id, scope.covers(SampleUnit.id))
            .order_by(Case.claimed_at, Case.id)
        ).all()
    )


def find_cases(
    session: Session, fieldwork: Fieldwork, scope: Scope, code: str, search: str, limit: int
) -> list:
    """(case, sample unit) in ``scope`` by disposition code and/or name or identifier, at
    most ``limit``."""
    query = (
        select(Case, SampleUnit)
        .join(SampleUnit, Case.sample_unit_id == SampleUnit.id)
        .where(Case.fieldwork_id == fieldwork.id, scope.covers(SampleUnit.id))
    )
    if code:
        query = query.where(Case.disposition_code == code, Case.excluded.is_(False))
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            or_(SampleUnit.name.ilike(pattern), SampleUnit.external_id.ilike(pattern))
        )
    return list(session.execute(query.order_by(Case.id).limit(limit)).all())


def response_id_of(session: Session, case: Case) -> int | None:
    """The id of the case's response (None: nobody has answered yet)."""
    return session.scalar(select(Response.id).where(Response.sample_unit_id == case.sample_unit_id))


def case_calls(session: Session, case: Case) -> list[Call]:
    """The case's calls, oldest first."""
    return list(
        session.scalars(select(Call).where(Call.case_id == case.id).order_by(Call.started_at))
    )


def recent_actions(
    session: Session,
    fieldwork: Fieldwork,
    scope: Scope,
    *,
    case: Case | None = None,
    limit: int = 200,
) -> list[SupervisorAction]:
    """The fieldwork's (or one case's) supervisor actions, newest first: its settings' and
    those on cases in ``scope``."""
    in_scope = select(Case.id).where(
        Case.fieldwork_id == fieldwork.id, scope.covers(Case.sample_unit_id)
    )
    query = select(SupervisorAction).where(
        SupervisorAction.fieldwork_id == fieldwork.id,
        or_(SupervisorAction.case_id.is_(None), SupervisorAction.case_id.in_(in_scope)),
    )
    if case is not None:
        query = query.where(SupervisorAction.case_id == case.id)
    query = query.order_by(SupervisorAction.at.desc(), SupervisorAction.id.desc()).limit(limit)
    return list(session.scalars(query))


def users_by_id(session: Session, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
