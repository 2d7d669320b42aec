"""The interviewer's call queue: which fieldworks they may call, claiming exactly one case
(app.domain.fieldwork.calling has the rules), and keeping or giving back claims."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, case, or_, select, update
from sqlalchemy.orm import Session

from app.domain.fieldwork.calling import NothingCallable, QueueCase, why_nothing
from app.domain.fieldwork.calling_hours import CallingHours, CallingHoursError
from app.models.calling import on_team
from app.models.cati import Appointment, Case
from app.models.fieldwork import Fieldwork, FieldworkInterviewer, FieldworkState
from app.models.scope import UNSCOPED, Scope
from app.models.users import Role, User

log = logging.getLogger(__name__)


def may_call(session: Session, fieldwork_id: int, user: User) -> bool:
    """Interviewers call only their teams' fieldworks; supervisors and admins any."""
    return user.role != Role.INTERVIEWER.value or on_team(session, fieldwork_id, user.id)


def callable_fieldworks(session: Session, user: User) -> list[Fieldwork]:
    """The open fieldworks ``user`` may take cases from (with institutions in their scope)."""
    query = select(Fieldwork).where(
        Fieldwork.state == FieldworkState.OPEN.value, Scope.of(user).covers_fieldwork()
    )
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
    session: Session, fieldwork: Fieldwork, me: int, now: datetime, cutoff: datetime, scope: Scope
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
            scope.covers(Case.sample_unit_id),
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
    session: Session, fieldwork: Fieldwork, me: int, now: datetime, cutoff: datetime, scope: Scope
) -> int | None:
    """Tier 4: no appointment, callable now; walks ix_cati_case_queue in order."""
    query = (
        select(Case.id)
        .where(
            _open_cases(fieldwork),
            scope.covers(Case.sample_unit_id),
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


def claim_next(
    session: Session,
    fieldwork: Fieldwork,
    interviewer_id: int,
    now: datetime,
    scope: Scope = UNSCOPED,
) -> Claim:
    """Give the interviewer exactly one case (of an institution in ``scope``), claimed
    atomically (or say why there is none).

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
            scope.covers(Case.sample_unit_id),
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
            case_id = _next_appointment_id(session, fieldwork, interviewer_id, now, cutoff, scope)
            if case_id is None:
                case_id = _next_regular_id(session, fieldwork, interviewer_id, now, cutoff, scope)
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
    return Claim(None, explain_empty_queue(session, fieldwork, interviewer_id, now, scope))


def explain_empty_queue(
    session: Session,
    fieldwork: Fieldwork,
    interviewer_id: int,
    now: datetime,
    scope: Scope = UNSCOPED,
) -> NothingCallable:
    """Why nothing (in ``scope``) is callable for this interviewer now, and when something
    will be."""
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
        ).where(Case.fieldwork_id == fieldwork.id, scope.covers(Case.sample_unit_id))
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


def my_cases(session: Session, user: User, fieldworks: list[Fieldwork]) -> list[Case]:
    """The unfinished cases ``user`` holds in ``fieldworks`` (in their scope)."""
    return list(
        session.scalars(
            select(Case).where(
                Case.claimed_by_id == user.id,
                Case.is_final.is_(False),
                Case.fieldwork_id.in_([f.id for f in fieldworks]),
                Scope.of(user).covers(Case.sample_unit_id),
            )
        )
    )


def upcoming_appointments(session: Session, user: User, now: datetime) -> list[Any]:
    """(Appointment, Case) rows of the pending appointments ``user`` may keep: their own or
    anyone's, from twelve hours ago on, in the fieldworks they may call."""
    since = now - timedelta(hours=12)
    return list(
        session.execute(
            select(Appointment, Case)
            .join(Case, Case.id == Appointment.case_id)
            .where(
                Appointment.status == "pending",
                Appointment.starts_at >= since,
                (Appointment.interviewer_id == user.id) | (Appointment.interviewer_id.is_(None)),
                Case.fieldwork_id.in_([f.id for f in callable_fieldworks(session, user)]),
                Scope.of(user).covers(Case.sample_unit_id),
            )
            .order_by(Appointment.starts_at)
            .limit(200)
        ).all()
    )
