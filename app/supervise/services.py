"""The supervisor's figures (dispositions, appointments, rates, productivity) and actions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from app.domain.dates import WARSAW, local_midnight
from app.domain.fieldwork import aapor
from app.domain.fieldwork.calling_hours import CallingHours
from app.domain.fieldwork.outcomes import aapor_group
from app.domain.messages import N_, Message
from app.models import calling
from app.models.cati import Appointment, Call, Case, Outcome, SupervisorAction
from app.models.fieldwork import Fieldwork, FieldworkInterviewer, Response, SampleUnit
from app.models.users import Role, User
from app.platform.audit import record_by_id

UPCOMING_DAYS = 7
ATTEMPT_LIMIT_RANGE = (1, 50)
CLAIM_TIMEOUT_RANGE = (5, 480)
PRIORITY_RANGE = (-10, 10)


class SupervisorError(Exception):
    """A refused supervisor action, with a message for the supervisor."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render())
        self.message = message


# --- figures ----------------------------------------------------------------------------------


@dataclass
class FieldworkRow:
    fieldwork: Fieldwork
    cases: int
    final: int
    excluded: int


def list_fieldworks(session: Session) -> list[FieldworkRow]:
    """Every fieldwork with its number of cases, finished cases and excluded cases."""
    counts = {
        row.fieldwork_id: row
        for row in session.execute(
            select(
                Case.fieldwork_id,
                func.count().label("cases"),
                func.count().filter(Case.is_final.is_(True)).label("final"),
                func.count().filter(Case.excluded.is_(True)).label("excluded"),
            ).group_by(Case.fieldwork_id)
        )
    }
    rows = []
    for fieldwork in session.scalars(select(Fieldwork).order_by(Fieldwork.id.desc())):
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


def dispositions(session: Session, fieldwork: Fieldwork) -> list[DispositionRow]:
    """Cases (not excluded) by AAPOR disposition code and the outcome behind it."""
    rows = session.execute(
        select(
            Case.disposition_code,
            Case.disposition_outcome_id,
            Case.is_final,
            func.count(),
        )
        .where(Case.fieldwork_id == fieldwork.id, Case.excluded.is_(False))
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


def excluded_count(session: Session, fieldwork: Fieldwork) -> int:
    return session.execute(
        select(func.count())
        .select_from(Case)
        .where(Case.fieldwork_id == fieldwork.id, Case.excluded.is_(True))
    ).scalar_one()


@dataclass
class UpcomingAppointment:
    appointment: Appointment
    case: Case
    institution: str
    interviewer: User | None  # None: anyone


def upcoming_appointments(
    session: Session, fieldwork: Fieldwork, now: datetime
) -> list[UpcomingAppointment]:
    """Pending appointments not yet over that start within the next seven days."""
    until = now + timedelta(days=UPCOMING_DAYS)
    rows = session.execute(
        select(Appointment, Case, SampleUnit.name)
        .join(Case, Appointment.case_id == Case.id)
        .join(SampleUnit, Case.sample_unit_id == SampleUnit.id)
        .where(
            Case.fieldwork_id == fieldwork.id,
            Case.excluded.is_(False),
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


def rates_view(session: Session, fieldwork: Fieldwork) -> RatesView:
    """AAPOR rates of the fieldwork (excluded cases left out) with the counts behind them."""
    codes = [
        code for code, n in calling.disposition_counts(session, fieldwork).items() for _ in range(n)
    ]
    return RatesView(
        counts=aapor.DispositionCounts.from_codes(codes),
        rates=calling.rates_for(session, fieldwork),
        e_configured=fieldwork.aapor_e is not None,
    )


@dataclass
class InterviewerFigures:
    """One interviewer's work in a fieldwork (calls = calls with an outcome recorded)."""

    interviewer: User
    calls: int = 0
    contacts: int = 0
    completes: int = 0
    seconds: float = 0.0  # time on the phone: each call's start to end (or its interview time)
    interview_seconds: float = 0.0  # of the calls that ended with a complete interview
    fieldworks: set[int] = field(default_factory=set)  # the fieldworks the calls were in

    @property
    def hours(self) -> float:
        return self.seconds / 3600

    @property
    def calls_per_hour(self) -> float | None:
        return self.calls / self.hours if self.seconds else None

    @property
    def completes_per_hour(self) -> float | None:
        return self.completes / self.hours if self.seconds else None

    @property
    def average_interview_seconds(self) -> float | None:
        return self.interview_seconds / self.completes if self.completes else None


def _call_seconds(call: Call) -> float:
    """A call's length: start to end, or its recorded interview time if that is longer."""
    spoken = (call.ended_at - call.started_at).total_seconds() if call.ended_at else 0.0
    return max(spoken, 0.0, float(call.interview_seconds or 0))


@dataclass(frozen=True)
class Period:
    """Which calls productivity counts: of one fieldwork or all, days and a shift.

    Days are Warsaw days a call started on; the shift is the Warsaw time of day a call
    started at, from (inclusive) to (exclusive); a shift that ends before it starts
    (20:00-6:00) runs over midnight.
    """

    fieldwork_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    shift_from: time | None = None
    shift_to: time | None = None

    def in_shift(self, started_at: datetime) -> bool:
        if self.shift_from is None and self.shift_to is None:
            return True
        moment = started_at.astimezone(WARSAW).time()
        after_start = self.shift_from is None or moment >= self.shift_from
        before_end = self.shift_to is None or moment < self.shift_to
        if self.shift_from is not None and self.shift_to is not None:
            if self.shift_to <= self.shift_from:  # over midnight
                return after_start or before_end
        return after_start and before_end


def _day_start(day: date) -> datetime:
    """The UTC moment a Warsaw day begins."""
    return local_midnight(day)


def interviewer_figures(session: Session, fieldwork: Fieldwork) -> list[InterviewerFigures]:
    """Calls, contacts, completes, time logged and rates per hour of each interviewer."""
    return productivity(session, Period(fieldwork_id=fieldwork.id))


def productivity(session: Session, period: Period) -> list[InterviewerFigures]:
    """Each interviewer's calls, contacts, completes, time and rates in ``period``."""
    query = (
        select(Call, Outcome, User, Case.fieldwork_id)
        .join(Case, Call.case_id == Case.id)
        .join(Outcome, Call.outcome_id == Outcome.id)
        .join(User, Call.interviewer_id == User.id)
        .order_by(Call.id)
    )
    if period.fieldwork_id is not None:
        query = query.where(Case.fieldwork_id == period.fieldwork_id)
    if period.date_from is not None:
        query = query.where(Call.started_at >= _day_start(period.date_from))
    if period.date_to is not None:
        query = query.where(Call.started_at < _day_start(period.date_to + timedelta(days=1)))
    by_user: dict[int, InterviewerFigures] = {}
    for call, outcome, user, fieldwork_id in session.execute(query).all():
        if not period.in_shift(call.started_at):
            continue
        figures = by_user.setdefault(user.id, InterviewerFigures(user))
        figures.fieldworks.add(fieldwork_id)
        seconds = _call_seconds(call)
        figures.calls += 1
        figures.contacts += 1 if outcome.contacted else 0
        figures.seconds += seconds
        if outcome.is_complete:
            figures.completes += 1
            figures.interview_seconds += (
                float(call.interview_seconds) if call.interview_seconds else seconds
            )
    return sorted(
        by_user.values(), key=lambda f: ((f.interviewer.full_name or "").lower(), f.interviewer.id)
    )


def active_interviewers(session: Session) -> list[User]:
    """Interviewers whose account is active, by name."""
    return list(
        session.scalars(
            select(User)
            .where(User.role == Role.INTERVIEWER.value, User.active.is_(True))
            .order_by(User.full_name, User.username)
        )
    )


def claimed_cases(session: Session, fieldwork: Fieldwork) -> list:
    """(case, institution name, interviewer) of the cases held by an interviewer now."""
    return list(
        session.execute(
            select(Case, SampleUnit.name, User)
            .join(SampleUnit, Case.sample_unit_id == SampleUnit.id)
            .join(User, Case.claimed_by_id == User.id)
            .where(Case.fieldwork_id == fieldwork.id)
            .order_by(Case.claimed_at, Case.id)
        ).all()
    )


def find_cases(session: Session, fieldwork: Fieldwork, code: str, search: str, limit: int) -> list:
    """(case, sample unit) by disposition code and/or name or identifier, at most ``limit``."""
    query = (
        select(Case, SampleUnit)
        .join(SampleUnit, Case.sample_unit_id == SampleUnit.id)
        .where(Case.fieldwork_id == fieldwork.id)
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
    session: Session, fieldwork: Fieldwork, *, case: Case | None = None, limit: int = 200
) -> list[SupervisorAction]:
    """The fieldwork's (or one case's) supervisor actions, newest first."""
    query = select(SupervisorAction).where(SupervisorAction.fieldwork_id == fieldwork.id)
    if case is not None:
        query = query.where(SupervisorAction.case_id == case.id)
    query = query.order_by(SupervisorAction.at.desc(), SupervisorAction.id.desc()).limit(limit)
    return list(session.scalars(query))


def users_by_id(session: Session, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}


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
        calling.recompute(session, case, fieldwork, now)
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
    calling.recompute(session, case, fieldwork, now)
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
