"""Reads and derivations on the telephone-fieldwork models that several features share:
a fieldwork's outcome table, a case's disposition (recomputed from its calls), its claim,
and the AAPOR figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, func, select, update
from sqlalchemy.orm import Session

from app.domain.fieldwork import aapor
from app.domain.fieldwork.outcomes import (
    DEFAULT_OUTCOMES,
    CallFact,
    OutcomeKind,
    OutcomeSpec,
    case_disposition,
)
from app.models.cati import Appointment, Call, Case, Outcome
from app.models.fieldwork import (
    ContactPhone,
    Fieldwork,
    FieldworkInterviewer,
    Response,
    ResponseStatus,
)
from app.models.scope import UNSCOPED, Scope


def seed_outcomes(session: Session, fieldwork: Fieldwork) -> None:
    """Give ``fieldwork`` the default outcome table unless it has one."""
    exists = session.scalar(
        select(func.count()).select_from(Outcome).where(Outcome.fieldwork_id == fieldwork.id)
    )
    if exists:
        return
    for position, spec in enumerate(DEFAULT_OUTCOMES):
        session.add(
            Outcome(
                fieldwork_id=fieldwork.id,
                position=position,
                code=spec.code,
                label_pl=spec.label_pl,
                label_en=spec.label_en,
                aapor=spec.aapor,
                contacted=spec.contacted,
                eligible=spec.eligible,
                kind=spec.kind.value,
                retry_minutes=spec.retry_minutes,
                try_other_number=spec.try_other_number,
                note_required=spec.note_required,
                is_complete=spec.is_complete,
                is_partial=spec.is_partial,
            )
        )
    session.flush()


# An outcome's columns that its domain view reads (with its id): recompute reads only
# these, as plain rows, instead of whole objects.
_SPEC_COLUMNS = (
    Outcome.id,
    Outcome.code,
    Outcome.label_pl,
    Outcome.label_en,
    Outcome.aapor,
    Outcome.contacted,
    Outcome.eligible,
    Outcome.kind,
    Outcome.retry_minutes,
    Outcome.try_other_number,
    Outcome.note_required,
    Outcome.is_complete,
    Outcome.is_partial,
)


def spec_of(outcome: Outcome | Row[Any]) -> OutcomeSpec:
    """The domain view of a stored outcome (an object, or a row of ``_SPEC_COLUMNS``)."""
    return OutcomeSpec(
        code=outcome.code,
        label_pl=outcome.label_pl,
        label_en=outcome.label_en,
        aapor=outcome.aapor,
        contacted=outcome.contacted,
        eligible=outcome.eligible,
        kind=OutcomeKind(outcome.kind),
        retry_minutes=outcome.retry_minutes,
        try_other_number=outcome.try_other_number,
        note_required=outcome.note_required,
        is_complete=outcome.is_complete,
        is_partial=outcome.is_partial,
    )


def outcomes_of(session: Session, fieldwork: Fieldwork) -> list[Outcome]:
    """The fieldwork's outcome table in display order (seeded when the fieldwork was made)."""
    return list(
        session.scalars(
            select(Outcome)
            .where(Outcome.fieldwork_id == fieldwork.id)
            .order_by(Outcome.position, Outcome.id)
        )
    )


def on_team(session: Session, fieldwork_id: int, user_id: int) -> bool:
    """Whether the interviewer is on the fieldwork's team (and so may get its cases)."""
    return (
        session.get(FieldworkInterviewer, {"fieldwork_id": fieldwork_id, "user_id": user_id})
        is not None
    )


def release(case: Case) -> None:
    """Give the case back to the queue."""
    case.claimed_by_id = None
    case.claimed_at = None


@dataclass
class CaseFacts:
    """A case's calls and numbers as the domain rules see them."""

    calls: list[CallFact]
    phones: list[str]


def recompute(session: Session, case: Case, fieldwork: Fieldwork, now: datetime) -> CaseFacts:
    """Derive the case's disposition from its calls and its web response (domain rules)."""
    specs = {
        row.id: spec_of(row)
        for row in session.execute(
            select(*_SPEC_COLUMNS)
            .where(Outcome.fieldwork_id == fieldwork.id)
            .order_by(Outcome.position, Outcome.id)
        )
    }
    calls = session.scalars(
        select(Call)
        .where(Call.case_id == case.id, Call.outcome_id.is_not(None))
        .order_by(Call.started_at, Call.id)
    ).all()
    facts = [
        CallFact(c.started_at, specs[cast(int, c.outcome_id)], c.number or None) for c in calls
    ]  # (the query takes only calls with an outcome)
    phones = list(
        session.scalars(
            select(ContactPhone.number)
            .where(ContactPhone.sample_unit_id == case.sample_unit_id)
            .order_by(ContactPhone.position)
        )
    )
    response_complete = bool(
        session.scalar(
            select(func.count())
            .select_from(Response)
            .where(
                Response.sample_unit_id == case.sample_unit_id,
                Response.status == ResponseStatus.COMPLETE.value,
            )
        )
    )
    # finished on the web form unless an interviewer recorded the completed interview
    completed_online = response_complete and not any(f.outcome.is_complete for f in facts)
    disposition = case_disposition(
        facts,
        attempt_limit=fieldwork.attempt_limit,
        completed_online=completed_online,
        outcomes=list(specs.values()),
        phones=phones or None,
    )
    case.set_attempts(disposition.attempts)
    case.is_final = disposition.is_final
    case.disposition_code = disposition.aapor
    case.ever_contacted = disposition.ever_contacted
    by_code = {spec.code: oid for oid, spec in specs.items()}
    outcome = disposition.outcome
    case.disposition_outcome_id = by_code[outcome.code] if outcome is not None else None
    if disposition.is_final:
        case.next_callable_at = None
        cancel_pending_appointments(session, case, "cancelled")
        release(case)
    case.updated_at = now
    return CaseFacts(facts, phones)


def cancel_pending_appointments(session: Session, case: Case, status: str) -> None:
    """Close the case's pending appointment (it was kept, or replaced)."""
    session.execute(
        update(Appointment)
        .where(Appointment.case_id == case.id, Appointment.status == "pending")
        .values(status=status)
        .execution_options(synchronize_session=False)
    )
    case.appointment_start = None
    case.appointment_end = None
    case.appointment_interviewer_id = None


def disposition_counts(
    session: Session, fieldwork: Fieldwork, scope: Scope = UNSCOPED
) -> dict[str, int]:
    """How many cases (of institutions in ``scope``) have each AAPOR disposition code."""
    rows = (
        session.execute(
            select(Case.disposition_code, func.count())
            .where(
                Case.fieldwork_id == fieldwork.id,
                Case.excluded.is_(False),
                scope.covers(Case.sample_unit_id),
            )
            .group_by(Case.disposition_code)
        )
        .tuples()
        .all()
    )
    return dict(rows)


def rates_for(session: Session, fieldwork: Fieldwork, scope: Scope = UNSCOPED) -> aapor.Rates:
    """AAPOR outcome rates of the fieldwork's cases in ``scope`` (e as configured, else
    estimated)."""
    counts = disposition_counts(session, fieldwork, scope)
    codes = [code for code, n in counts.items() for _ in range(n)]
    return aapor.rates(aapor.DispositionCounts.from_codes(codes), fieldwork.aapor_e)
