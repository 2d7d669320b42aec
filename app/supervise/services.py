"""The supervisor's actions: settings, the team, cases and calls, each one logged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from app.domain.fieldwork.calling_hours import CallingHours
from app.domain.messages import N_, Message
from app.models import calling
from app.models.cati import Call, Case, Outcome, SupervisorAction
from app.models.fieldwork import Fieldwork, FieldworkInterviewer
from app.models.users import Role, User
from app.platform.audit import record_by_id

ATTEMPT_LIMIT_RANGE = (1, 50)
CLAIM_TIMEOUT_RANGE = (5, 480)
PRIORITY_RANGE = (-10, 10)


class SupervisorError(Exception):
    """A refused supervisor action, with a message for the supervisor."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render())
        self.message = message


def active_interviewers(session: Session) -> list[User]:
    """Interviewers whose account is active, by name."""
    return list(
        session.scalars(
            select(User)
            .where(User.role == Role.INTERVIEWER.value, User.active.is_(True))
            .order_by(User.full_name, User.username)
        )
    )


# --- actions ----------------------------------------------------------------------------------


def set_calling_hours(
    session: Session, fieldwork: Fieldwork, text: str, user_id: int, now: datetime
) -> None:
    """Store the calling hours in their normal text form (``CallingHoursError`` if unreadable)."""
    hours = CallingHours.parse(text)
    if not hours.windows:
        raise SupervisorError(Message(N_("Give at least one calling window.")))
    old = fieldwork.calling_hours
    fieldwork.calling_hours = hours.format()
    log_action(
        session, fieldwork, user_id, "calling_hours", now, old=old, new=fieldwork.calling_hours
    )


def _in_range(value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise SupervisorError(
            Message(N_("Give a whole number from %(low)d to %(high)d."), {"low": low, "high": high})
        )


def set_attempt_limit(
    session: Session, fieldwork: Fieldwork, limit: int, user_id: int, now: datetime
) -> None:
    """Change the attempt limit and re-derive the open cases' dispositions under it."""
    _in_range(limit, ATTEMPT_LIMIT_RANGE)
    old = fieldwork.attempt_limit
    fieldwork.attempt_limit = limit
    session.flush()
    # cases ended by the old limit may be callable again under a higher one, and the other way
    affected = session.scalars(
        select(Case).where(
            Case.fieldwork_id == fieldwork.id,
            Case.attempts >= min(old, limit),
        )
    ).all()
    for case in affected:
        was_final = case.is_final
        calling.recompute(session, case, now, attempt_limit=fieldwork.attempt_limit)
        if was_final and not case.is_final and case.next_callable_at is None:
            case.next_callable_at = now
    log_action(session, fieldwork, user_id, "attempt_limit", now, old=old, new=limit)


def set_claim_timeout(
    session: Session, fieldwork: Fieldwork, minutes: int, user_id: int, now: datetime
) -> None:
    _in_range(minutes, CLAIM_TIMEOUT_RANGE)
    old = fieldwork.claim_timeout_minutes
    fieldwork.claim_timeout_minutes = minutes
    log_action(session, fieldwork, user_id, "claim_timeout", now, old=old, new=minutes)


def parse_e(text: str) -> float | None:
    """``e`` from the form: empty means "estimate it"; else a share 0..1, comma or dot."""
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:  # also refuses nan
        raise SupervisorError(
            Message(N_("e is a share from 0 to 1 (e.g. 0,8); leave it empty to estimate it."))
        )
    return value


def set_e(
    session: Session, fieldwork: Fieldwork, e: float | None, user_id: int, now: datetime
) -> None:
    old = fieldwork.aapor_e
    fieldwork.aapor_e = e
    log_action(session, fieldwork, user_id, "aapor_e", now, old=old, new=e)


def set_priority(session: Session, case: Case, priority: int, user_id: int, now: datetime) -> None:
    _in_range(priority, PRIORITY_RANGE)
    old = case.priority
    case.set_priority(priority)
    log_action(
        session, case.fieldwork, user_id, "priority", now, case_id=case.id, old=old, new=priority
    )


def team(session: Session, fieldwork: Fieldwork) -> list[User]:
    """The fieldwork's interviewers, by name."""
    return list(
        session.scalars(
            select(User)
            .join(FieldworkInterviewer, FieldworkInterviewer.user_id == User.id)
            .where(FieldworkInterviewer.fieldwork_id == fieldwork.id)
            .order_by(User.full_name, User.username)
        )
    )


def set_team(
    session: Session,
    fieldwork: Fieldwork,
    interviewer_ids: set[int],
    user_id: int | None,
    now: datetime,
    *,
    actor_name: str | None = None,
) -> tuple[list[int], list[int]]:
    """Make exactly these interviewers the fieldwork's team; returns (added, removed) ids.

    An interviewer taken off the team gives back the case they hold and the cases bound
    to them go back to anyone on the team.
    """
    valid = {u.id for u in active_interviewers(session)}
    current = {u.id for u in team(session, fieldwork)}
    if not interviewer_ids <= (valid | current):
        raise SupervisorError(Message(N_("Choose active interviewers.")))
    added, removed = sorted(interviewer_ids - current), sorted(current - interviewer_ids)
    for interviewer_id in added:
        session.add(FieldworkInterviewer(fieldwork_id=fieldwork.id, user_id=interviewer_id))
    if removed:
        session.execute(
            delete(FieldworkInterviewer).where(
                FieldworkInterviewer.fieldwork_id == fieldwork.id,
                FieldworkInterviewer.user_id.in_(removed),
            )
        )
        for case in session.scalars(
            select(Case).where(
                Case.fieldwork_id == fieldwork.id,
                or_(Case.claimed_by_id.in_(removed), Case.assigned_interviewer_id.in_(removed)),
            )
        ):
            if case.claimed_by_id in removed:
                calling.release(case)
            if case.assigned_interviewer_id in removed:
                case.assigned_interviewer_id = None
    if added or removed:
        log_action(
            session,
            fieldwork,
            user_id,
            "team",
            now,
            actor_name=actor_name,
            old=sorted(current),
            new=sorted(interviewer_ids),
        )
    session.flush()
    return added, removed


def assign(
    session: Session, case: Case, interviewer_id: int | None, user_id: int, now: datetime
) -> None:
    """Bind the case to one active interviewer of the team (None: anyone may call it)."""
    if interviewer_id is not None:
        interviewer = session.get(User, interviewer_id)
        if (
            interviewer is None
            or interviewer.role != Role.INTERVIEWER.value
            or not interviewer.active
        ):
            raise SupervisorError(Message(N_("Choose an active interviewer.")))
        if not calling.on_team(session, case.fieldwork_id, interviewer_id):
            raise SupervisorError(
                Message(N_("Put the interviewer on this fieldwork's team first."))
            )
    old = case.assigned_interviewer_id
    case.assigned_interviewer_id = interviewer_id
    log_action(
        session,
        case.fieldwork,
        user_id,
        "assign",
        now,
        case_id=case.id,
        old=old,
        new=interviewer_id,
    )


def release_claim(session: Session, case: Case, user_id: int, now: datetime) -> None:
    """Give a stuck case back to the queue."""
    if case.claimed_by_id is None:
        raise SupervisorError(Message(N_("Nobody holds this case.")))
    old = case.claimed_by_id
    calling.release(case)
    log_action(session, case.fieldwork, user_id, "release", now, case_id=case.id, old=old)


def set_exclusion(
    session: Session, case: Case, action: str, note: str, user_id: int, now: datetime
) -> None:
    """``exclude``: take the case out of the queue and the rates; ``include``: bring it back."""
    if action not in ("exclude", "include"):
        raise SupervisorError(Message(N_("Choose whether to exclude or include the case.")))
    excluded = action == "exclude"
    if case.excluded == excluded:
        raise SupervisorError(
            Message(
                N_("The case is already excluded.") if excluded else N_("The case is not excluded.")
            )
        )
    case.excluded = excluded
    if excluded:
        calling.release(case)
    log_action(
        session,
        case.fieldwork,
        user_id,
        "exclude" if excluded else "include",
        now,
        case_id=case.id,
        note=note.strip(),
    )


def change_call_outcome(
    session: Session,
    case: Case,
    call: Call,
    outcome: Outcome,
    note: str,
    user_id: int,
    now: datetime,
) -> None:
    """Give a call another outcome (a note is required) and re-derive the case's disposition."""
    if not note.strip():
        raise SupervisorError(Message(N_("Say why the outcome is changed.")))
    if outcome.fieldwork_id != case.fieldwork_id:
        raise SupervisorError(Message(N_("Choose one of this fieldwork's outcomes.")))
    old = call.outcome_id
    call.outcome_id = outcome.id
    if call.ended_at is None:
        call.ended_at = now
    session.flush()
    fieldwork = case.fieldwork
    was_final = case.is_final
    calling.recompute(session, case, now, attempt_limit=fieldwork.attempt_limit)
    if was_final and not case.is_final and case.next_callable_at is None:
        case.next_callable_at = now  # reopened by the change: callable again
    log_action(
        session,
        fieldwork,
        user_id,
        "call_outcome",
        now,
        case_id=case.id,
        call_id=call.id,
        note=note.strip(),
        old=old,
        new=outcome.id,
    )


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
