"""Interviewers' productivity: calls, contacts, completes and time, by fieldwork, days, shift."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.dates import WARSAW, local_midnight
from app.models.cati import Call, Case, Outcome
from app.models.fieldwork import Fieldwork
from app.models.scope import Scope
from app.models.users import User


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


def interviewer_figures(
    session: Session, fieldwork: Fieldwork, scope: Scope
) -> list[InterviewerFigures]:
    """Calls (to institutions in ``scope``), contacts, completes, time logged and rates per
    hour of each interviewer."""
    return productivity(session, Period(fieldwork_id=fieldwork.id), scope)


def productivity(session: Session, period: Period, scope: Scope) -> list[InterviewerFigures]:
    """Each interviewer's calls (to institutions in ``scope``), contacts, completes, time
    and rates in ``period``."""
    query = (
        select(Call, Outcome, User, Case.fieldwork_id)
        .join(Case, Call.case_id == Case.id)
        .join(Outcome, Call.outcome_id == Outcome.id)
        .join(User, Call.interviewer_id == User.id)
        .where(scope.covers(Case.sample_unit_id))
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
