"""Telephone fieldwork: outcome tables, claiming the next case, calls, appointments, rates."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from app.domain.fieldwork import aapor
from app.domain.fieldwork.calling import (
    NothingCallable,
    QueueCase,
    schedule_after_call,
    why_nothing,
)
from app.domain.fieldwork.calling_hours import CallingHours, CallingHoursError
from app.domain.fieldwork.outcomes import (
    DEFAULT_OUTCOMES,
    CallFact,
    OutcomeKind,
    OutcomeSpec,
    aapor_group,
    case_disposition,
    remaining_numbers,
)
from app.domain.messages import N_, Message
from app.models.cati import Appointment, Call, Case, Outcome, SupervisorAction
from app.models.fieldwork import (
    ContactPhone,
    Fieldwork,
    FieldworkInterviewer,
    FieldworkState,
    Response,
    ResponseStatus,
)
from app.models.users import Role, User
from app.platform.audit import record_by_id

log = logging.getLogger(__name__)

DEFAULT_APPOINTMENT_MINUTES = 30


class CatiError(Exception):
    """A refused telephone-fieldwork operation, with a message for the person who asked."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render())
        self.message = message


# --- outcomes -------------------------------------------------------------------------------


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


def spec_of(outcome: Outcome) -> OutcomeSpec:
    """The domain view of a stored outcome row."""
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


def may_call(session: Session, fieldwork_id: int, user: User) -> bool:
    """Interviewers call only their teams' fieldworks; supervisors and admins any."""
    return user.role != Role.INTERVIEWER.value or on_team(session, fieldwork_id, user.id)


def callable_fieldworks(session: Session, user: User) -> list[Fieldwork]:
    """The open fieldworks ``user`` may take cases from."""
    query = select(Fieldwork).where(Fieldwork.state == FieldworkState.OPEN.value)
    if user.role == Role.INTERVIEWER.value:
        query = query.join(
            FieldworkInterviewer,
            and_(
                FieldworkInterviewer.fieldwork_id == Fieldwork.id,
                FieldworkInterviewer.user_id == user.id,
            ),
        )
    return list(session.scalars(query.order_by(Fieldwork.id)))


def calling_hours(fieldwork: Fieldwork) -> CallingHours:
    """The fieldwork's calling hours (stored as validated text)."""
    try:
        return CallingHours.parse(fieldwork.calling_hours)
    except CallingHoursError:  # only validated text is stored; fall back rather than stop
        log.error("fieldwork %d: unreadable calling hours; using office hours", fieldwork.id)
        return CallingHours.office_hours()


# --- claiming the next case ---------------------------------------------------------------


@dataclass
class Claim:
    """The case given to an interviewer, or why there is none."""

    case: Case | None
    nothing: NothingCallable | None = None


def _claim_free(interviewer_id: int, cutoff: datetime):
    """SQL: the case is not held by another interviewer's fresh claim."""
    return or_(
        Case.claimed_by_id.is_(None),
        Case.claimed_by_id == interviewer_id,
        Case.claimed_at < cutoff,
    )


def _assigned_ok(interviewer_id: int):
    return or_(
        Case.assigned_interviewer_id.is_(None), Case.assigned_interviewer_id == interviewer_id
    )


def _open_cases(fieldwork: Fieldwork):
    return and_(
        Case.fieldwork_id == fieldwork.id,
        Case.is_final.is_(False),
        Case.excluded.is_(False),
        Case.attempts < fieldwork.attempt_limit,
    )


def _next_appointment_id(
    session: Session, fieldwork: Fieldwork, me: int, now: datetime, cutoff: datetime
) -> int | None:
    """Tiers 1-3 of the queue (app.domain.fieldwork.calling): due or missed appointments."""
    missed = and_(Case.appointment_end.is_not(None), Case.appointment_end < now)
    bound_to_other_missed = and_(
        Case.appointment_interviewer_id != me,
        or_(missed, and_(Case.appointment_end.is_(None), Case.appointment_start < cutoff)),
    )
    tier = case(
        (Case.appointment_interviewer_id == me, case((missed, 3), else_=1)),
        (Case.appointment_interviewer_id.is_(None), case((missed, 3), else_=2)),
        else_=3,
    )
    query = (
        select(Case.id)
        .where(
            _open_cases(fieldwork),
            Case.appointment_start <= now,
            _claim_free(me, cutoff),
            or_(
                Case.appointment_interviewer_id == me,
                and_(Case.appointment_interviewer_id.is_(None), _assigned_ok(me)),
                and_(bound_to_other_missed, _assigned_ok(me)),
            ),
        )
        .order_by(tier, Case.appointment_start, Case.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return session.scalar(query)


def _next_regular_id(
    session: Session, fieldwork: Fieldwork, me: int, now: datetime, cutoff: datetime
) -> int | None:
    """Tier 4: no appointment, callable now; walks ix_cati_case_queue in order."""
    query = (
        select(Case.id)
        .where(
            _open_cases(fieldwork),
            Case.appointment_start.is_(None),
            Case.next_callable_at <= now,
            _claim_free(me, cutoff),
            _assigned_ok(me),
        )
        .order_by(Case.queue_rank, Case.retried, Case.next_callable_at, Case.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return session.scalar(query)


def claim_next(session: Session, fieldwork: Fieldwork, interviewer_id: int, now: datetime) -> Claim:
    """Give the interviewer exactly one case, claimed atomically (or say why there is none).

    The interviewer's own unfinished case comes first, then due appointments, then the
    queue by priority; all inside calling hours (app.domain.fieldwork.calling has the rules).
    """
    own = session.scalar(
        select(Case)
        .where(
            Case.fieldwork_id == fieldwork.id,
            Case.claimed_by_id == interviewer_id,
            Case.is_final.is_(False),
            Case.excluded.is_(False),  # the supervisor may exclude a case while it is held
        )
        .order_by(Case.claimed_at.asc().nulls_first(), Case.id)  # as SQLite does; PG: last
        .limit(1)
    )
    if own is not None:
        return Claim(own)
    hours = calling_hours(fieldwork)
    timeout = timedelta(minutes=fieldwork.claim_timeout_minutes)
    cutoff = now - timeout
    if hours.is_open(now):
        for _ in range(10):  # another interviewer may win a race for the same row (SQLite)
            case_id = _next_appointment_id(session, fieldwork, interviewer_id, now, cutoff)
            if case_id is None:
                case_id = _next_regular_id(session, fieldwork, interviewer_id, now, cutoff)
            if case_id is None:
                break
            claimed = session.scalar(
                update(Case)
                .where(Case.id == case_id, _claim_free(interviewer_id, cutoff))
                .values(claimed_by_id=interviewer_id, claimed_at=now)
                .returning(Case)
                .execution_options(populate_existing=True)
            )
            if claimed is not None:
                log.info("case %d claimed by user %d", case_id, interviewer_id)
                return Claim(claimed)
    return Claim(None, explain_empty_queue(session, fieldwork, interviewer_id, now))


def explain_empty_queue(
    session: Session, fieldwork: Fieldwork, interviewer_id: int, now: datetime
) -> NothingCallable:
    """Why nothing is callable for this interviewer now, and when something will be."""
    rows = session.execute(
        select(
            Case.id,
            Case.priority,
            Case.next_callable_at,
            Case.is_final,
            Case.excluded,
            Case.attempts,
            Case.claimed_by_id,
            Case.claimed_at,
            Case.appointment_start,
            Case.appointment_end,
            Case.appointment_interviewer_id,
            Case.assigned_interviewer_id,
        ).where(Case.fieldwork_id == fieldwork.id)
    ).all()
    cases = [
        QueueCase(
            id=r.id,
            priority=r.priority,
            next_callable_at=r.next_callable_at,
            is_final=r.is_final or r.excluded,
            attempts=r.attempts,
            claimed_by=r.claimed_by_id,
            claimed_at=r.claimed_at,
            appointment_start=r.appointment_start,
            appointment_end=r.appointment_end,
            appointment_interviewer=r.appointment_interviewer_id,
            completed_online=False,
            assigned_interviewer=r.assigned_interviewer_id,
        )
        for r in rows
    ]
    return why_nothing(
        cases,
        interviewer=interviewer_id,
        now=now,
        hours=calling_hours(fieldwork),
        attempt_limit=fieldwork.attempt_limit,
        claim_timeout=timedelta(minutes=fieldwork.claim_timeout_minutes),
    )


def release(case: Case) -> None:
    """Give the case back to the queue."""
    case.claimed_by_id = None
    case.claimed_at = None


def release_idle_claims(session: Session, fieldwork: Fieldwork, now: datetime) -> int:
    """Release claims older than the fieldwork's claim timeout (a closed tab, a logout)."""
    cutoff = now - timedelta(minutes=fieldwork.claim_timeout_minutes)
    result = session.execute(
        update(Case)
        .where(Case.fieldwork_id == fieldwork.id, Case.claimed_at < cutoff)
        .values(claimed_by_id=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount


def release_claims_of(session: Session, user_id: int) -> int:
    """Give back every case the user holds (they logged out)."""
    result = session.execute(
        update(Case)
        .where(Case.claimed_by_id == user_id)
        .values(claimed_by_id=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount


def touch_claim(case: Case, now: datetime) -> None:
    """Keep the claim alive while the interviewer works on the case."""
    case.claimed_at = now


# --- calls ----------------------------------------------------------------------------------


@dataclass
class CaseFacts:
    """A case's calls and numbers as the domain rules see them."""

    calls: list[CallFact]
    phones: list[str]


def recompute(session: Session, case: Case, fieldwork: Fieldwork, now: datetime) -> CaseFacts:
    """Derive the case's disposition from its calls and its web response (domain rules)."""
    outcome_rows = {o.id: o for o in outcomes_of(session, fieldwork)}
    specs = {oid: spec_of(o) for oid, o in outcome_rows.items()}
    calls = session.scalars(
        select(Call)
        .where(Call.case_id == case.id, Call.outcome_id.is_not(None))
        .order_by(Call.started_at, Call.id)
    ).all()
    facts = [  # the query left out calls without an outcome
        CallFact(c.started_at, specs[cast(int, c.outcome_id)], c.number or None) for c in calls
    ]
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
    by_code = {o.code: o for o in outcome_rows.values()}
    outcome = disposition.outcome
    case.disposition_outcome_id = by_code[outcome.code].id if outcome is not None else None
    if disposition.is_final:
        case.next_callable_at = None
        _cancel_pending_appointments(session, case, "cancelled")
        release(case)
    case.updated_at = now
    return CaseFacts(facts, phones)


def start_call(
    session: Session, case: Case, interviewer_id: int, phone: ContactPhone | None, now: datetime
) -> Call:
    """Open a call record for the number being dialled."""
    call = Call(
        case_id=case.id,
        interviewer_id=interviewer_id,
        phone_id=phone.id if phone else None,
        number=phone.number if phone else "",
        started_at=now,
    )
    session.add(call)
    touch_claim(case, now)
    session.flush()
    return call


@dataclass
class AppointmentRequest:
    starts_at: datetime
    ends_at: datetime | None
    for_me: bool
    with_whom: str = ""
    phone_id: int | None = None
    note: str = ""


def finish_call(
    session: Session,
    case: Case,
    call: Call,
    outcome: Outcome,
    *,
    interviewer_id: int,
    note: str,
    now: datetime,
    appointment: AppointmentRequest | None = None,
    keep_claim: bool = False,
) -> None:
    """Record how the call ended, book the appointment, and reschedule the case."""
    spec = spec_of(outcome)
    if spec.note_required and not note.strip():
        raise CatiError(Message(N_("This outcome needs a note.")))
    if spec.kind is OutcomeKind.APPOINTMENT and appointment is None:
        raise CatiError(Message(N_("Give the appointment's date and time.")))
    if appointment is not None and appointment.starts_at <= now - timedelta(minutes=1):
        raise CatiError(Message(N_("The appointment must be in the future.")))
    fieldwork = case.fieldwork
    call.outcome_id = outcome.id
    call.note = note.strip()
    call.ended_at = now
    _cancel_pending_appointments(session, case, "kept")
    if appointment is not None and spec.kind is OutcomeKind.APPOINTMENT:
        _book(session, case, appointment, interviewer_id)
    session.flush()
    facts = recompute(session, case, fieldwork, now)
    if not case.is_final:
        booked = appointment is not None and spec.kind is OutcomeKind.APPOINTMENT
        schedule = schedule_after_call(
            spec,
            now=now,
            appointment_start=appointment.starts_at if booked and appointment else None,
            attempts=case.attempts,
            attempt_limit=fieldwork.attempt_limit,
            other_number_left=bool(remaining_numbers(facts.calls, facts.phones)),
        )
        case.next_callable_at = schedule.next_callable_at or now
    if not keep_claim:
        release(case)
    log.info("case %d: call %d ended %s", case.id, call.id, outcome.code)


NON_CONTACT_GROUPS = ("NC", "UH", "UO")  # AAPOR: not reached, or not known to be there


def check_against_response(session: Session, case: Case, outcome: Outcome) -> None:
    """Refuse an interviewer's outcome that contradicts the answers: "complete" needs a
    submitted response, and a submitted response was given by someone: no non-contact."""
    spec = spec_of(outcome)
    response = session.scalar(
        select(Response).where(Response.sample_unit_id == case.sample_unit_id)
    )
    submitted = response is not None and response.is_complete
    if spec.is_complete and not submitted:
        raise CatiError(
            Message(
                N_(
                    "The questionnaire has not been finished, so the interview cannot be"
                    " recorded as complete. Record a break-off (to continue later) or a"
                    " partial interview."
                )
            )
        )
    if submitted and not spec.is_complete and aapor_group(spec.aapor) in NON_CONTACT_GROUPS:
        raise CatiError(
            Message(
                N_(
                    "The questionnaire of this institution has been submitted, so the"
                    " call cannot be recorded as a non-contact."
                )
            )
        )


def break_off_outcome(session: Session, case: Case, call: Call | None) -> str | None:
    """The outcome to offer first after an interview was interrupted during ``call``:
    the fieldwork's break-off (AAPOR 2.12) when answers were saved since the call began."""
    if call is None:
        return None
    response = session.scalar(
        select(Response).where(Response.sample_unit_id == case.sample_unit_id)
    )
    if response is None or response.is_complete or not response.via_phone:
        return None
    if response.revision == 0 or response.updated_at < call.started_at:
        return None
    return session.scalar(
        select(Outcome.code)
        .where(Outcome.fieldwork_id == case.fieldwork_id, Outcome.aapor == "2.12")
        .order_by(Outcome.position)
        .limit(1)
    )


def _book(session: Session, case: Case, request: AppointmentRequest, interviewer_id: int) -> None:
    ends = request.ends_at or request.starts_at + timedelta(minutes=DEFAULT_APPOINTMENT_MINUTES)
    appointment = Appointment(
        case_id=case.id,
        starts_at=request.starts_at,
        ends_at=ends,
        interviewer_id=interviewer_id if request.for_me else None,
        phone_id=request.phone_id,
        with_whom=request.with_whom.strip()[:300],
        note=request.note.strip(),
        created_by_id=interviewer_id,
    )
    session.add(appointment)
    case.appointment_start = appointment.starts_at
    case.appointment_end = ends
    case.appointment_interviewer_id = appointment.interviewer_id


def _cancel_pending_appointments(session: Session, case: Case, status: str) -> None:
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


def mark_completed_online(session: Session, sample_unit_id: int, now: datetime) -> None:
    """A case whose institution finished the web form leaves the call queue."""
    found = session.scalar(select(Case).where(Case.sample_unit_id == sample_unit_id))
    if found is None:
        return
    recompute(session, found, found.fieldwork, now)


# --- the supervisor's figures -------------------------------------------------------------


def disposition_counts(session: Session, fieldwork: Fieldwork) -> dict[str, int]:
    """How many cases have each AAPOR disposition code."""
    rows = (
        session.execute(
            select(Case.disposition_code, func.count())
            .where(Case.fieldwork_id == fieldwork.id, Case.excluded.is_(False))
            .group_by(Case.disposition_code)
        )
        .tuples()
        .all()
    )
    return dict(rows)


def rates_for(session: Session, fieldwork: Fieldwork) -> aapor.Rates:
    """AAPOR outcome rates of the fieldwork's cases (e as configured, else estimated)."""
    counts = disposition_counts(session, fieldwork)
    codes = [code for code, n in counts.items() for _ in range(n)]
    return aapor.rates(aapor.DispositionCounts.from_codes(codes), fieldwork.aapor_e)


def log_action(
    session: Session,
    fieldwork: Fieldwork,
    user_id: int | None,
    action: str,
    now: datetime,
    *,
    case_id: int | None = None,
    call_id: int | None = None,
    note: str = "",
    actor_name: str | None = None,
    **detail: object,
) -> None:
    """Record a supervisor's action (on the fieldwork's action list and in the audit log)."""
    session.add(
        SupervisorAction(
            fieldwork_id=fieldwork.id,
            case_id=case_id,
            call_id=call_id,
            user_id=user_id,
            at=now,
            action=action,
            detail=dict(detail),
            note=note,
        )
    )
    target = f"call {call_id}" if call_id else f"case {case_id}" if case_id else ""
    record_by_id(
        session,
        "supervisor.action",
        now,
        user_id,
        **({"actor_name": actor_name} if actor_name else {}),
        fieldwork_id=fieldwork.id,
        target=target or f"fieldwork {fieldwork.id}",
        # the note itself stays on the action list, which erasure can clear; the append-only
        # log keeps only that there was one (it may name or reach a person)
        detail={"action": action, **detail, **({"with_note": True} if note else {})},
    )
