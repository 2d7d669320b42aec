"""The schedule after a call, and the order of the CATI call queue.

Nothing here reads the clock: every function takes ``now`` (an aware datetime, any zone)
and returns aware datetimes in UTC. Naive datetimes are refused with ``ValueError``. All
arithmetic is done in UTC: Python adds and compares two datetimes of the same zone by
their wall-clock times, which is wrong across a DST change (a 3-day retry from Saturday
noon before the spring change is Tuesday 13:00 in Warsaw -- 72 hours -- not 12:00).
Calling hours are in ``app.domain.fieldwork.calling_hours``.

The call queue (``queue_order`` / ``pick_next``)
    Each case gets a tier; cases without one are not offered to this interviewer. Then
    the cases are sorted by this key, which the database query mirrors::

        (tier, -priority if tier == 4 else 0, (attempts > 0) if tier == 4 else 0,
         sort_time, id)

    ====  ==========================================================  ===================
    tier  which cases                                                 sort_time
    ====  ==========================================================  ===================
    0     claimed by this interviewer, not final, not completed       claimed_at (None
          online -- even outside calling hours                        first)
    1     appointment due now (start <= now <= end, or start <= now   appointment_start
          with no end), bound to this interviewer
    2     appointment due now, bound to nobody                        appointment_start
    3     missed appointment (now > end): bound to anyone; one        appointment_start
          bound to another interviewer without an end is missed
          once ``claim_timeout`` has passed after its start
    4     no appointment, ``next_callable_at <= now``                 next_callable_at
    ====  ==========================================================  ===================

    Tiers 1-4 also need: inside calling hours now; not final; not completed online;
    ``attempts < attempt_limit``; not claimed by another interviewer, unless that claim is
    older than ``claim_timeout`` (``now - claimed_at > claim_timeout``; a claim without
    ``claimed_at`` is held); ``assigned_interviewer`` is None or this interviewer (not
    checked for an appointment bound to this interviewer: the binding is the more specific
    decision). A case with a future appointment waits for it, whatever its
    ``next_callable_at``; a case with ``next_callable_at`` None is never called (the
    service gives every new case ``next_callable_at``, e.g. the fieldwork's start).

    In SQL: ``ORDER BY tier, CASE WHEN tier = 4 THEN -priority ELSE 0 END, CASE WHEN tier =
    4 AND attempts > 0 THEN 1 ELSE 0 END, sort_time NULLS FIRST, id``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain.dates import format_local
from app.domain.fieldwork.calling_hours import CallingHours, to_utc
from app.domain.fieldwork.outcomes import OutcomeKind, OutcomeSpec
from app.domain.messages import N_, Message

__all__ = [
    "CaseSchedule",
    "NothingCallable",
    "QueueCase",
    "pick_next",
    "queue_order",
    "schedule_after_call",
    "why_nothing",
]


# --- after a call ------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseSchedule:
    """When a case may be called again after a call, and why."""

    next_callable_at: datetime | None  # UTC; None = never again (final)
    reason: str  # "final", "attempt_limit", "other_number", "appointment" or "retry"


def schedule_after_call(
    outcome: OutcomeSpec,
    *,
    now: datetime,
    appointment_start: datetime | None,
    attempts: int,
    attempt_limit: int,
    other_number_left: bool = False,
) -> CaseSchedule:
    """The case's next callable time after a call ended with ``outcome`` at ``now``.

    ``attempts`` counts the calls including this one. In order: a final outcome ends the
    case (except one that only rules out the number while ``other_number_left``); the
    attempt limit ends it, appointments included (raise the limit to keep an appointment
    booked on the last attempt); an outcome with ``try_other_number`` and a number left
    makes the case callable at once, on that number; an appointment gives its start (a
    break-off without one falls back on its retry delay); otherwise ``now`` + retry delay.
    """
    now = to_utc(now, "now")
    if appointment_start is not None:
        appointment_start = to_utc(appointment_start, "appointment_start")
        if outcome.kind is not OutcomeKind.APPOINTMENT:
            raise ValueError(f"outcome {outcome.code!r} is not an appointment")
    moves_on = outcome.try_other_number and other_number_left
    if outcome.is_final and not moves_on:
        return CaseSchedule(None, "final")
    if attempts >= attempt_limit:
        return CaseSchedule(None, "attempt_limit")
    if moves_on:
        return CaseSchedule(now, "other_number")
    if outcome.kind is OutcomeKind.APPOINTMENT and appointment_start is not None:
        return CaseSchedule(appointment_start, "appointment")
    if outcome.retry_minutes is None:
        raise ValueError(f"outcome {outcome.code!r} needs the appointment's start")
    return CaseSchedule(now + timedelta(minutes=outcome.retry_minutes), "retry")


# --- the queue ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueCase:
    """What the call queue needs to know about one case."""

    id: int
    priority: int
    next_callable_at: datetime | None
    is_final: bool
    attempts: int
    claimed_by: int | None
    claimed_at: datetime | None
    appointment_start: datetime | None
    appointment_end: datetime | None
    appointment_interviewer: int | None
    completed_online: bool
    assigned_interviewer: int | None


@dataclass(frozen=True)
class NothingCallable:
    """Why the queue gives this interviewer nothing now, and when it next will."""

    reason: str  # a stable code: "callable", "empty", "all_final", "no_hours", "closed",
    # "retry", "appointment", "appointment_other", "claimed", "assigned_elsewhere", "blocked"
    message: Message
    when: datetime | None  # UTC; None: not foreseeable (nothing will come by itself)


_EARLIEST = datetime.min.replace(tzinfo=UTC)
_JUST_AFTER = timedelta(microseconds=1)  # "older than" / "has passed" are strict


def _in_utc(case: QueueCase) -> QueueCase:
    """The case with its moments in UTC, so that adding and comparing is by real time."""
    moments = ("next_callable_at", "claimed_at", "appointment_start", "appointment_end")
    changes: dict[str, Any] = {
        name: to_utc(value, name) for name in moments if (value := getattr(case, name)) is not None
    }
    return replace(case, **changes)


def _finished(case: QueueCase, attempt_limit: int) -> bool:
    return case.is_final or case.completed_online or case.attempts >= attempt_limit


def _claim_held(case: QueueCase, interviewer: int, now: datetime, timeout: timedelta) -> bool:
    """Whether another interviewer's claim still holds the case."""
    if case.claimed_by is None or case.claimed_by == interviewer:
        return False
    return case.claimed_at is None or now - case.claimed_at <= timeout


def _bound_release(start: datetime, end: datetime | None, timeout: timedelta) -> datetime:
    """When an appointment bound to another interviewer counts as missed (strictly after)."""
    return end if end is not None else start + timeout


def _tier(
    case: QueueCase,
    *,
    interviewer: int,
    now: datetime,
    open_now: bool,
    attempt_limit: int,
    claim_timeout: timedelta,
) -> int | None:
    """The case's tier in the queue for this interviewer (module docstring), or None."""
    if case.is_final or case.completed_online:
        return None
    if case.claimed_by == interviewer:
        return 0
    if not open_now or case.attempts >= attempt_limit:
        return None
    if _claim_held(case, interviewer, now, claim_timeout):
        return None
    assigned_ok = case.assigned_interviewer in (None, interviewer)
    start = case.appointment_start
    if start is None:
        due = case.next_callable_at is not None and case.next_callable_at <= now
        return 4 if due and assigned_ok else None
    if now < start:
        return None
    missed = case.appointment_end is not None and now > case.appointment_end
    bound = case.appointment_interviewer
    if bound == interviewer:
        return 3 if missed else 1
    if bound is None:
        return (3 if missed else 2) if assigned_ok else None
    if now > _bound_release(start, case.appointment_end, claim_timeout) and assigned_ok:
        return 3
    return None


def _sort_key(case: QueueCase, tier: int) -> tuple[int, int, int, datetime, int]:
    """The queue order key (module docstring); SQL mirrors it."""
    if tier == 0:
        return (0, 0, 0, case.claimed_at or _EARLIEST, case.id)
    if tier in (1, 2, 3):  # these have an appointment_start, tier 4 a next_callable_at
        return (tier, 0, 0, case.appointment_start or _EARLIEST, case.id)
    fresh_last = 1 if case.attempts > 0 else 0
    return (4, -case.priority, fresh_last, case.next_callable_at or _EARLIEST, case.id)


def queue_order(
    cases: Iterable[QueueCase],
    *,
    interviewer: int,
    now: datetime,
    hours: CallingHours,
    attempt_limit: int,
    claim_timeout: timedelta,
) -> list[QueueCase]:
    """Every case this interviewer may be given now, best first (module docstring)."""
    now = to_utc(now, "now")
    open_now = hours.is_open(now)
    keyed = []
    for original in cases:
        case = _in_utc(original)
        tier = _tier(
            case,
            interviewer=interviewer,
            now=now,
            open_now=open_now,
            attempt_limit=attempt_limit,
            claim_timeout=claim_timeout,
        )
        if tier is not None:
            keyed.append((_sort_key(case, tier), original))
    keyed.sort(key=lambda pair: pair[0])
    return [case for _, case in keyed]


def pick_next(
    cases: Iterable[QueueCase],
    *,
    interviewer: int,
    now: datetime,
    hours: CallingHours,
    attempt_limit: int,
    claim_timeout: timedelta,
) -> QueueCase | None:
    """The one case to give this interviewer now, or None (``why_nothing`` says why)."""
    ordered = queue_order(
        cases,
        interviewer=interviewer,
        now=now,
        hours=hours,
        attempt_limit=attempt_limit,
        claim_timeout=claim_timeout,
    )
    return ordered[0] if ordered else None


def _ready(
    case: QueueCase, *, interviewer: int, claim_timeout: timedelta
) -> tuple[datetime, str] | None:
    """When an unfinished case becomes available to this interviewer, calling hours aside,
    and what holds it until then; None if nothing will release it by itself."""
    assigned_ok = case.assigned_interviewer in (None, interviewer)
    start = case.appointment_start
    if start is None:
        if not assigned_ok or case.next_callable_at is None:
            return None
        ready, holder = case.next_callable_at, "retry"
    elif case.appointment_interviewer == interviewer:
        ready, holder = start, "appointment"
    elif case.appointment_interviewer is None:
        if not assigned_ok:
            return None
        ready, holder = start, "appointment"
    else:
        if not assigned_ok:
            return None
        release = _bound_release(start, case.appointment_end, claim_timeout)
        ready, holder = release + _JUST_AFTER, "appointment_other"
    if case.claimed_by is not None and case.claimed_by != interviewer:
        if case.claimed_at is None:
            return None
        released = case.claimed_at + claim_timeout + _JUST_AFTER
        if released > ready:
            ready, holder = released, "claimed"
    return ready, holder


def _local_text(moment: datetime) -> str:
    """A moment as Polish users read it: DD.MM.YYYY HH:MM, Warsaw time."""
    return format_local(moment)


_WAIT_MESSAGES: Mapping[str, str] = {
    "closed": N_("Outside calling hours. Calling resumes at %(when)s."),
    "retry": N_("No case is due yet. The next one can be called at %(when)s."),
    "appointment": N_("No case is due yet. The next appointment is at %(when)s."),
    "appointment_other": N_(
        "The remaining cases have appointments with other interviewers; the first one "
        "comes to you, if missed, at %(when)s."
    ),
    "claimed": N_(
        "Other interviewers are working on the remaining cases; the first idle one is "
        "released at %(when)s."
    ),
}


def why_nothing(
    cases: Iterable[QueueCase],
    *,
    interviewer: int,
    now: datetime,
    hours: CallingHours,
    attempt_limit: int,
    claim_timeout: timedelta,
) -> NothingCallable:
    """Why ``pick_next`` gives this interviewer nothing now, and when it next will.

    ``when`` is the first moment at which ``pick_next`` would give a case if nothing else
    changed (no call recorded, no claim taken); reason ``"callable"`` if it would now.
    """
    now = to_utc(now, "now")
    cases = [_in_utc(case) for case in cases]
    picked = pick_next(
        cases,
        interviewer=interviewer,
        now=now,
        hours=hours,
        attempt_limit=attempt_limit,
        claim_timeout=claim_timeout,
    )
    if picked is not None:
        return NothingCallable("callable", Message(N_("A case is ready to call.")), now)
    if not cases:
        return NothingCallable("empty", Message(N_("This fieldwork has no cases.")), None)
    unfinished = [case for case in cases if not _finished(case, attempt_limit)]
    if not unfinished:
        return NothingCallable("all_final", Message(N_("Every case is finished.")), None)
    if not hours.windows:
        return NothingCallable(
            "no_hours", Message(N_("No calling hours are set for this fieldwork.")), None
        )
    readies = [
        found
        for case in unfinished
        if (found := _ready(case, interviewer=interviewer, claim_timeout=claim_timeout))
    ]
    if not readies:
        if all(case.assigned_interviewer not in (None, interviewer) for case in unfinished):
            return NothingCallable(
                "assigned_elsewhere",
                Message(N_("The remaining cases are assigned to other interviewers.")),
                None,
            )
        return NothingCallable(
            "blocked",
            Message(N_("No remaining case can become callable by itself; ask the supervisor.")),
            None,
        )
    ready, holder = min(readies, key=lambda pair: pair[0])
    when = hours.next_open(max(ready, now))
    if when is None:  # not with windows (one opens within two weeks); kept for the type
        return NothingCallable(
            "no_hours", Message(N_("No calling hours are set for this fieldwork.")), None
        )
    reason = "closed" if ready <= now else holder
    return NothingCallable(
        reason, Message(_WAIT_MESSAGES[reason], {"when": _local_text(when)}), when
    )
