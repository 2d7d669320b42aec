"""Calling hours, the schedule after a call, and the order of the CATI call queue.

Nothing here reads the clock: every function takes ``now`` (an aware datetime, any zone)
and returns aware datetimes in UTC. Naive datetimes are refused with ``ValueError``. All
arithmetic is done in UTC: Python adds and compares two datetimes of the same zone by
their wall-clock times, which is wrong across a DST change (a 3-day retry from Saturday
noon before the spring change is Tuesday 13:00 in Warsaw -- 72 hours -- not 12:00).

Calling hours and DST
    ``CallingHours`` holds, per weekday (0 = Monday), windows of **local wall-clock time in
    Europe/Warsaw**, start included, end excluded. On the day of a DST change a window is
    turned into an interval of real time by mapping each of its ends to an instant:

    - a wall time that happens once maps to that instant;
    - a wall time that happens twice (the repeated 02:00-03:00 on the last Sunday of
      October) maps to its first occurrence, so a window ``02:30-04:00`` that day lasts
      2.5 hours of real time, the repeated hour included;
    - a wall time that does not exist (02:00-03:00 on the last Sunday of March) maps to the
      first instant whose wall time is at or after it -- the change itself, shown as 03:00.
      A window ``02:30-04:00`` that day opens at 03:00 and lasts one hour; a window wholly
      inside the skipped hour does not open at all that day.

    ``is_open``, ``next_open`` and ``closes_at`` all use these same intervals, so they
    always agree with each other.

    Text form (``parse`` / ``format``): entries separated by ``;`` (or new lines), each
    a day, a day range or a comma list of them, then one or more comma-separated windows:
    ``pn-pt 8:00-16:00; so 9-12``, ``pn, śr 8:00-12:00, 13:00-15:30``, ``mon-fri 08:00-16:00``.
    Days: Polish ``pn wt śr cz pt so nd`` (also ``sr``, ``czw``, ``sb``, ``ndz``, full names)
    or English ``mon tue wed thu fri sat sun``. Times ``8``, ``8:00``, ``08.00``. Windows of
    a day that overlap or touch are merged. An empty text means no calling hours at all.

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

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any

from app.domain.dates import WARSAW, format_local, local_date, local_wall_time
from app.domain.fieldwork.outcomes import OutcomeKind, OutcomeSpec
from app.domain.messages import N_, Message

__all__ = [
    "CallingHours",
    "CallingHoursError",
    "CaseSchedule",
    "NothingCallable",
    "QueueCase",
    "pick_next",
    "queue_order",
    "schedule_after_call",
    "why_nothing",
]


_DAY_NAMES_PL = ("pn", "wt", "śr", "cz", "pt", "so", "nd")
_DAY_TOKENS: Mapping[str, int] = {
    token: day
    for day, tokens in enumerate(
        (
            ("pn", "pon", "poniedziałek", "poniedzialek", "mo", "mon", "monday"),
            ("wt", "wto", "wtorek", "tu", "tue", "tuesday"),
            ("śr", "sr", "śro", "sro", "środa", "sroda", "we", "wed", "wednesday"),
            ("cz", "czw", "czwartek", "th", "thu", "thursday"),
            ("pt", "pią", "pia", "piątek", "piatek", "fr", "fri", "friday"),
            ("so", "sb", "sob", "sobota", "sa", "sat", "saturday"),
            ("nd", "ndz", "nie", "niedziela", "su", "sun", "sunday"),
        )
    )
    for token in tokens
}
_TIME = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?")
_DASHES = str.maketrans({"–": "-", "—": "-"})

Window = tuple[time, time]


class CallingHoursError(ValueError):
    """Calling hours that cannot be read or do not make sense; ``message`` says why."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render())
        self.message = message


def _utc(moment: datetime, name: str = "moment") -> datetime:
    """``moment`` in UTC; a naive datetime is refused (the domain never guesses a zone)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return moment.astimezone(UTC)


def _merge(windows: Iterable[Window]) -> tuple[Window, ...]:
    """Sorted windows with the overlapping or touching ones joined."""
    merged: list[Window] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def _check_window(day: int, start: time, end: time) -> None:
    """Refuse a window that is not a stretch of whole minutes inside one day."""
    for moment in (start, end):
        if moment.tzinfo is not None or moment.second or moment.microsecond:
            raise CallingHoursError(
                Message(
                    N_("Calling hours are local times in whole minutes (day %(day)s)."),
                    {"day": _DAY_NAMES_PL[day]},
                )
            )
    if start >= end:
        raise CallingHoursError(
            Message(
                N_("A calling window must end after it starts: %(window)s."),
                {"window": f"{_DAY_NAMES_PL[day]} {_format_window((start, end))}"},
            )
        )


def _format_time(moment: time) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


def _format_window(window: Window) -> str:
    return f"{_format_time(window[0])}-{_format_time(window[1])}"


def _instant(day: date, wall: time) -> datetime:
    """The first instant (UTC) whose Warsaw wall time on ``day`` is at or after ``wall``."""
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=WARSAW)  # fold=0: the first of a repeated wall time
    if first.astimezone(UTC).astimezone(WARSAW).replace(tzinfo=None) == naive:
        return first.astimezone(UTC)
    # ``wall`` falls in the hour skipped in spring. Read with the offset after the change
    # it is an instant before the change, with the offset before it one after; the change
    # lies between. Search it to the second (tzdb changes happen on whole seconds).
    low = naive.replace(tzinfo=WARSAW, fold=1).astimezone(UTC)
    high = first.astimezone(UTC)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if local_wall_time(middle) >= naive:
            high = middle
        else:
            low = middle
    return high


@dataclass(frozen=True)
class CallingHours:
    """Weekly calling windows in Europe/Warsaw wall-clock time (0 = Monday)."""

    windows: Mapping[int, tuple[Window, ...]]

    def __post_init__(self) -> None:
        normalised: dict[int, tuple[Window, ...]] = {}
        for day, day_windows in sorted(self.windows.items()):
            if not isinstance(day, int) or not 0 <= day <= 6:
                raise CallingHoursError(
                    Message(
                        N_("A weekday is a number from 0 (Monday) to 6 (Sunday), not %(day)s."),
                        {"day": day},
                    )
                )
            for start, end in day_windows:
                _check_window(day, start, end)
            if day_windows:
                normalised[day] = _merge(day_windows)
        object.__setattr__(self, "windows", MappingProxyType(normalised))

    def __hash__(self) -> int:
        return hash(tuple(self.windows.items()))

    @classmethod
    def office_hours(cls) -> CallingHours:
        """Monday to Friday, 8:00-16:00: when Polish public institutions answer the phone."""
        return cls({day: ((time(8), time(16)),) for day in range(5)})

    @classmethod
    def parse(cls, text: str) -> CallingHours:
        """Calling hours from their text form; ``CallingHoursError`` says what is wrong."""
        collected: dict[int, list[Window]] = {}
        for raw_entry in re.split(r"[;\n]", text):
            entry = raw_entry.strip().lower().translate(_DASHES)
            if not entry:
                continue
            digit = re.search(r"\d", entry)
            if digit is None:
                raise CallingHoursError(
                    Message(
                        N_("No hours in “%(entry)s”; write e.g. “pn-pt 8:00-16:00”."),
                        {"entry": raw_entry.strip()},
                    )
                )
            days_text = entry[: digit.start()].strip().rstrip(":").strip()
            if not days_text:
                raise CallingHoursError(
                    Message(
                        N_(
                            "No days before the hours in “%(entry)s”; write e.g. "
                            "“pn-pt 8:00-16:00”."
                        ),
                        {"entry": raw_entry.strip()},
                    )
                )
            days = _parse_days(days_text)
            windows = [_parse_window(part) for part in entry[digit.start() :].split(",")]
            for day in days:
                collected.setdefault(day, []).extend(windows)
        for day, day_windows in collected.items():
            for start, end in day_windows:
                _check_window(day, start, end)
        return cls({day: tuple(day_windows) for day, day_windows in collected.items()})

    def format(self) -> str:
        """The Polish text form, consecutive days with the same windows as a range."""
        entries: list[str] = []
        day = 0
        while day < 7:
            windows = self.windows.get(day)
            if not windows:
                day += 1
                continue
            last = day
            while last + 1 < 7 and self.windows.get(last + 1) == windows:
                last += 1
            days = (
                _DAY_NAMES_PL[day] if last == day else f"{_DAY_NAMES_PL[day]}-{_DAY_NAMES_PL[last]}"
            )
            entries.append(f"{days} {', '.join(_format_window(w) for w in windows)}")
            day = last + 1
        return "; ".join(entries)

    def _intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's windows as intervals of real time (UTC), touching ones joined."""
        intervals: list[tuple[datetime, datetime]] = []
        for start, end in self.windows.get(day.weekday(), ()):
            opens, closes = _instant(day, start), _instant(day, end)
            if opens >= closes:  # the whole window lies in the hour skipped in spring
                continue
            if intervals and opens <= intervals[-1][1]:
                intervals[-1] = (intervals[-1][0], closes)
            else:
                intervals.append((opens, closes))
        return intervals

    def is_open(self, moment: datetime) -> bool:
        """Whether calls may be made at ``moment``."""
        moment = _utc(moment)
        local_day = local_date(moment)
        return any(opens <= moment < closes for opens, closes in self._intervals(local_day))

    def next_open(self, moment: datetime) -> datetime | None:
        """The first instant at or after ``moment`` when calls may be made (UTC).

        ``moment`` itself when open; None when there are no windows at all.
        """
        moment = _utc(moment)
        if not self.windows:
            return None
        local_day = local_date(moment)
        # Two weeks always reach a window: only one day a year can lose one (spring change).
        for offset in range(15):
            for opens, closes in self._intervals(local_day + timedelta(days=offset)):
                if moment < closes:
                    return max(moment, opens)
        return None

    def closes_at(self, moment: datetime) -> datetime | None:
        """When the window open at ``moment`` closes (UTC); None when closed at ``moment``."""
        moment = _utc(moment)
        local_day = local_date(moment)
        for opens, closes in self._intervals(local_day):
            if opens <= moment < closes:
                return closes
        return None


def _parse_days(text: str) -> list[int]:
    """Weekday numbers from ``pn-pt``, ``pn, śr``, ``mon-fri`` and the like."""
    days: list[int] = []
    for item in text.split(","):
        parts = [part.strip().rstrip(".") for part in item.split("-")]
        if len(parts) > 2 or not all(parts):
            raise CallingHoursError(
                Message(
                    N_("Cannot read the days “%(days)s”; write e.g. “pn-pt” or “pn, śr”."),
                    {"days": item.strip()},
                )
            )
        numbers = []
        for part in parts:
            if part not in _DAY_TOKENS:
                raise CallingHoursError(
                    Message(
                        N_("Unknown day “%(day)s”; use pn, wt, śr, cz, pt, so, nd (or mon … sun)."),
                        {"day": part},
                    )
                )
            numbers.append(_DAY_TOKENS[part])
        if len(numbers) == 2 and numbers[0] > numbers[1]:
            raise CallingHoursError(
                Message(
                    N_("A day range runs from Monday towards Sunday: “%(days)s”."),
                    {"days": item.strip()},
                )
            )
        days.extend(range(numbers[0], numbers[-1] + 1))
    return days


def _parse_time(text: str, window: str) -> time:
    match = _TIME.fullmatch(text.strip())
    hour = int(match.group(1)) if match else -1
    minute = int(match.group(2) or 0) if match else -1
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise CallingHoursError(
            Message(
                N_(
                    "Cannot read the time “%(time)s” in “%(window)s”; write e.g. 8:00 "
                    "(at most 23:59)."
                ),
                {"time": text.strip(), "window": window},
            )
        )
    return time(hour, minute)


def _parse_window(text: str) -> Window:
    """A ``8:00-16:00`` window."""
    parts = text.split("-")
    if len(parts) != 2:
        raise CallingHoursError(
            Message(
                N_("Cannot read the window “%(window)s”; write e.g. 8:00-16:00."),
                {"window": text.strip()},
            )
        )
    return _parse_time(parts[0], text.strip()), _parse_time(parts[1], text.strip())


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
    now = _utc(now, "now")
    if appointment_start is not None:
        appointment_start = _utc(appointment_start, "appointment_start")
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
        name: _utc(value, name) for name in moments if (value := getattr(case, name)) is not None
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
    now = _utc(now, "now")
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
    now = _utc(now, "now")
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
