"""Reads and derivations on the telephone-fieldwork models that several features share:
a fieldwork's outcome table, a case's disposition (recomputed from its calls), its claim,
and the AAPOR figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
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


# recompute runs with every web completion too (the case leaves the call queue): its
# queries are built once, on the tables (no ORM objects, no statement to build and key on
# each call); each call only binds its ids.
_OUTCOME = cast(Table, Outcome.__table__)
_CALL = cast(Table, Call.__table__)
_PHONE = cast(Table, ContactPhone.__table__)
_RESPONSE = cast(Table, Response.__table__)
_APPOINTMENT = cast(Table, Appointment.__table__)
# An outcome's columns that its domain view (OutcomeSpec) is made of, in its fields' order.
_SPEC_FIELDS = (
    "code",
    "label_pl",
    "label_en",
    "aapor",
    "contacted",
    "eligible",
    "kind",
    "retry_minutes",
    "try_other_number",
    "note_required",
    "is_complete",
    "is_partial",
)
# The fieldwork's outcomes as plain rows: the id, then those columns.
_OUTCOME_ROWS = (
    select(_OUTCOME.c.id, *(_OUTCOME.c[name] for name in _SPEC_FIELDS))
    .where(_OUTCOME.c.fieldwork_id == bindparam("fieldwork_id"))
    .order_by(_OUTCOME.c.position, _OUTCOME.c.id)
)
_CALL_ROWS = (  # (only the calls with an outcome)
    select(_CALL.c.started_at, _CALL.c.outcome_id, _CALL.c.number)
    .where(_CALL.c.case_id == bindparam("case_id"), _CALL.c.outcome_id.is_not(None))
    .order_by(_CALL.c.started_at, _CALL.c.id)
)
_PHONE_NUMBERS = (
    select(_PHONE.c.number)
    .where(_PHONE.c.sample_unit_id == bindparam("unit_id"))
    .order_by(_PHONE.c.position)
)
_COMPLETE_RESPONSES = (
    select(func.count())
    .select_from(_RESPONSE)
    .where(
        _RESPONSE.c.sample_unit_id == bindparam("unit_id"),
        _RESPONSE.c.status == ResponseStatus.COMPLETE.value,
    )
)


def spec_of(outcome: Outcome) -> OutcomeSpec:
    """The domain view of a stored outcome."""
    return _spec(*(getattr(outcome, name) for name in _SPEC_FIELDS))


@lru_cache(maxsize=1024)
def _spec(*values: Any) -> OutcomeSpec:
    # Made once per set of values (every recompute reads the fieldwork's whole outcome
    # table): a spec is frozen and made of nothing but these values, so equal values give
    # an equal spec, and an edited outcome has other values.
    fields = dict(zip(_SPEC_FIELDS, values, strict=True))
    return OutcomeSpec(**{**fields, "kind": OutcomeKind(fields["kind"])})


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


def recompute(session: Session, case: Case, now: datetime, *, attempt_limit: int) -> CaseFacts:
    """Derive the case's disposition from its calls and its web response (domain rules),
    under its fieldwork's ``attempt_limit``."""
    session.flush()  # what the ORM would autoflush before its own queries (a call just ended)
    # (Core on the session's connection: these read no ORM entity, and the flush is done)
    connection = session.connection()
    specs = {
        row[0]: _spec(*row[1:])
        for row in connection.execute(_OUTCOME_ROWS, {"fieldwork_id": case.fieldwork_id})
    }
    calls = connection.execute(_CALL_ROWS, {"case_id": case.id}).all()
    facts = [
        CallFact(started_at, specs[outcome_id], number or None)
        for started_at, outcome_id, number in calls
    ]
    unit = {"unit_id": case.sample_unit_id}
    phones = list(connection.execute(_PHONE_NUMBERS, unit).scalars())
    response_complete = bool(connection.execute(_COMPLETE_RESPONSES, unit).scalar())
    # finished on the web form unless an interviewer recorded the completed interview
    completed_online = response_complete and not any(f.outcome.is_complete for f in facts)
    disposition = case_disposition(
        facts,
        attempt_limit=attempt_limit,
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
    case.updated_at = now  # (before the UPDATE below flushes the case: one UPDATE of it)
    if disposition.is_final:
        case.next_callable_at = None
        release(case)
        cancel_pending_appointments(session, case, "cancelled")
    return CaseFacts(facts, phones)


# (on the table: appointments loaded in the session are not updated, as with the ORM's
# UPDATE without synchronising the session)
_CANCEL_PENDING = (
    update(_APPOINTMENT)
    .where(_APPOINTMENT.c.case_id == bindparam("of_case"), _APPOINTMENT.c.status == "pending")
    .values(status=bindparam("new_status"))
)


def cancel_pending_appointments(session: Session, case: Case, status: str) -> None:
    """Close the case's pending appointment (it was kept, or replaced)."""
    session.flush()  # (what the ORM's UPDATE would autoflush first)
    session.connection().execute(_CANCEL_PENDING, {"of_case": case.id, "new_status": status})
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
