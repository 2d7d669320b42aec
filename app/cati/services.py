"""Telephone interviewing: calls and their outcomes, appointments, the case's screen, and
the interview in phone mode (the page decision itself is app.interview.submit's)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.cati.queue import touch_claim
from app.domain.fieldwork.calling import schedule_after_call
from app.domain.fieldwork.outcomes import (
    COMPLETED_ONLINE_CODE,
    OutcomeKind,
    aapor_group,
    remaining_numbers,
)
from app.domain.messages import N_, Message
from app.domain.questionnaire.pages import Page
from app.interview.pages import PagePost
from app.interview.service import Interview, response_of_unit, start_unit_response
from app.interview.submit import PageOutcome, Step, post_page
from app.models.calling import (
    cancel_pending_appointments,
    recompute,
    release,
    spec_of,
)
from app.models.cati import Appointment, Call, Case, Outcome
from app.models.fieldwork import ContactPhone, Fieldwork, Response

log = logging.getLogger(__name__)

MODE: Final = "phone"
DEFAULT_APPOINTMENT_MINUTES = 30


class CatiError(Exception):
    """A refused telephone-fieldwork operation, with a message for the person who asked."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render())
        self.message = message


# --- calls ----------------------------------------------------------------------------------


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
    cancel_pending_appointments(session, case, "kept")
    if appointment is not None and spec.kind is OutcomeKind.APPOINTMENT:
        _book(session, case, appointment, interviewer_id)
    session.flush()
    facts = recompute(session, case, now, attempt_limit=fieldwork.attempt_limit)
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


def open_call(session: Session, case: Case) -> Call | None:
    """The case's call still without an outcome (the number being dialled), if any."""
    return session.scalar(
        select(Call)
        .where(Call.case_id == case.id, Call.outcome_id.is_(None))
        .order_by(Call.started_at.desc())
        .limit(1)
    )


def dial(
    session: Session, case: Case, interviewer_id: int, phone: ContactPhone | None, now: datetime
) -> None:
    """Open a call for the number being dialled, unless one is open already."""
    if open_call(session, case) is None:
        start_call(session, case, interviewer_id, phone, now)


def outcome_by_code(session: Session, fieldwork_id: int, code: str | None) -> Outcome | None:
    """The fieldwork's outcome with this code."""
    return session.scalar(
        select(Outcome).where(Outcome.fieldwork_id == fieldwork_id, Outcome.code == code)
    )


def record_outcome(
    session: Session,
    case: Case,
    outcome: Outcome,
    *,
    interviewer_id: int,
    note: str,
    now: datetime,
    appointment: AppointmentRequest | None = None,
) -> None:
    """End the open call (or a call started now) with ``outcome``: CatiError if the answers
    contradict it (``check_against_response``) or ``finish_call`` refuses it."""
    check_against_response(session, case, outcome)
    call = open_call(session, case) or start_call(session, case, interviewer_id, None, now)
    finish_call(
        session,
        case,
        call,
        outcome,
        interviewer_id=interviewer_id,
        note=note,
        now=now,
        appointment=appointment,
    )


@dataclass
class CaseScreen:
    """What the case's screen shows besides the case: its calls, appointments, response."""

    calls: list[Call]
    open_call: Call | None
    appointments: list[Appointment]
    response: Response | None


def case_screen(session: Session, case: Case) -> CaseScreen:
    """The case's calls and appointments (latest first) and its response."""
    calls = session.scalars(
        select(Call).where(Call.case_id == case.id).order_by(Call.started_at.desc())
    ).all()
    appointments = session.scalars(
        select(Appointment)
        .where(Appointment.case_id == case.id)
        .order_by(Appointment.starts_at.desc())
    ).all()
    return CaseScreen(
        list(calls),
        open_call(session, case),
        list(appointments),
        response_of_unit(session, case.sample_unit_id),
    )


def add_phone(case: Case, number: str, label: str) -> None:
    """Add a number to the institution's list, after the others."""
    unit = case.sample_unit
    position = max((p.position for p in unit.phones), default=0) + 1
    unit.phones.append(ContactPhone(position=position, number=number, label=label))


# --- the interview in phone mode ------------------------------------------------------------


def interview_of_case(
    session: Session, case: Case, now: datetime, *, start: bool = True
) -> Interview | None:
    """The case's interview, its response started now if it has none (unless not ``start``:
    None then)."""
    response = response_of_unit(session, case.sample_unit_id)
    if response is None:
        if not start:
            return None
        response = start_unit_response(session, case.sample_unit, now)
    return Interview.of(response, now)


def show_interview_page(case: Case, now: datetime) -> None:
    """An interview page is on the interviewer's screen: the claim stays alive."""
    touch_claim(case, now)


def submit_interview_page(
    session: Session,
    case: Case,
    interview: Interview,
    page: Page,
    post: PagePost,
    *,
    interviewer_id: int,
    language: str,
    now: datetime,
) -> PageOutcome:
    """The interviewer sent a page: app.interview.submit decides; a saved page keeps the
    claim alive, and a completed interview ends the open call as complete."""
    outcome = post_page(
        session,
        interview,
        page,
        post,
        mode=MODE,
        language=language,
        user_id=interviewer_id,
        now=now,
    )
    if outcome.step in (Step.INVALID, Step.STALE):
        return outcome
    touch_claim(case, now)
    if outcome.step is Step.DONE:
        _record_complete_interview(session, case, interviewer_id, now)
    return outcome


def _record_complete_interview(
    session: Session, case: Case, interviewer_id: int, now: datetime
) -> None:
    """End the open call (or one started now) with the fieldwork's "complete" outcome."""
    complete = session.scalar(
        select(Outcome)
        .where(Outcome.fieldwork_id == case.fieldwork_id, Outcome.is_complete.is_(True))
        .where(Outcome.code != COMPLETED_ONLINE_CODE)
    )
    call = open_call(session, case) or start_call(session, case, interviewer_id, None, now)
    if complete is not None:
        finish_call(session, case, call, complete, interviewer_id=interviewer_id, note="", now=now)


# --- what CATI hears from other features (connected in app/cati/receivers.py) ---------------


# The case and its fieldwork's attempt limit in one statement (nothing else of the
# fieldwork is needed), built once: it runs with every web completion.
_CASE_OF_UNIT = (
    select(Case, Fieldwork.attempt_limit)
    .join(Fieldwork, Fieldwork.id == Case.fieldwork_id)
    .where(Case.sample_unit_id == bindparam("unit_id"))
)


def mark_completed_online(session: Session, sample_unit_id: int, now: datetime) -> None:
    """A case whose institution finished the web form leaves the call queue."""
    found = session.execute(_CASE_OF_UNIT, {"unit_id": sample_unit_id}).first()
    if found is None:
        return
    case, attempt_limit = found
    recompute(session, case, now, attempt_limit=attempt_limit)
