"""Calling hours across DST, the schedule after a call, and the call queue's rules."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.dates import WARSAW
from app.domain.fieldwork.calling import (
    QueueCase,
    pick_next,
    queue_order,
    schedule_after_call,
    why_nothing,
)
from app.domain.fieldwork.calling_hours import CallingHours, CallingHoursError
from app.domain.fieldwork.outcomes import DEFAULT_OUTCOMES
from app.domain.messages import Message

OUT = {outcome.code: outcome for outcome in DEFAULT_OUTCOMES}
OFFICE = CallingHours.office_hours()


def warsaw(month: int, day: int, hour: int, minute: int = 0, year: int = 2025) -> datetime:
    """A Warsaw wall-clock moment (2025: DST starts 30 March, ends 26 October)."""
    return datetime(year, month, day, hour, minute, tzinfo=WARSAW)


def utc(month: int, day: int, hour: int, minute: int = 0, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- parsing and formatting -----------------------------------------------------------------


def hm(a: int, b: int = 0) -> time:
    return time(a, b)


@pytest.mark.parametrize(
    ("text", "windows"),
    [
        ("pn-pt 8:00-16:00", {d: ((hm(8), hm(16)),) for d in range(5)}),
        ("mon-fri 08:00-16:00", {d: ((hm(8), hm(16)),) for d in range(5)}),
        (
            "pn-pt 8:00-16:00; so 9-12",
            {**{d: ((hm(8), hm(16)),) for d in range(5)}, 5: ((hm(9), hm(12)),)},
        ),
        ("Pn – Pt: 8.00–15.30", {d: ((hm(8), hm(15, 30)),) for d in range(5)}),
        ("pn, śr 8-12, 13-15:30", {0: ((hm(8), hm(12)), (hm(13), hm(15, 30)))} | {
            2: ((hm(8), hm(12)), (hm(13), hm(15, 30)))}),
        ("sr 9-10\nczw 9-10", {2: ((hm(9), hm(10)),), 3: ((hm(9), hm(10)),)}),
        ("Monday 7-9; sobota 10-11; ndz 10-11", {0: ((hm(7), hm(9)),), 5: ((hm(10), hm(11)),),
                                                  6: ((hm(10), hm(11)),)}),
        ("pn 8-12; pn 11-14", {0: ((hm(8), hm(14)),)}),  # overlapping windows merged
        ("pn 8-12, 12-16", {0: ((hm(8), hm(16)),)}),  # touching windows merged
        ("pn 0:00-23:59", {0: ((hm(0), hm(23, 59)),)}),
        ("", {}),
        ("  ;  ", {}),
    ],
)  # fmt: skip
def test_parse_reads_polish_and_english_calling_hours(text: str, windows: dict) -> None:
    assert CallingHours.parse(text).windows == windows


def test_english_office_hours_equal_the_default() -> None:
    assert CallingHours.parse("mon-fri 08:00-16:00") == OFFICE
    assert hash(CallingHours.parse("pn-pt 8-16")) == hash(OFFICE)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("pn-pt", "No hours"),
        ("8-16", "No days"),
        ("xx 8-16", "Unknown day"),
        ("pt-pn 8-16", "Monday towards Sunday"),
        ("pn--pt 8-16", "Cannot read the days"),
        ("pn 16-8", "must end after it starts"),
        ("pn 8-8", "must end after it starts"),
        ("pn 8:61-9", "Cannot read the time"),
        ("pn 8-24", "Cannot read the time"),
        ("pn 8-12-16", "Cannot read the window"),
        ("pn 8 16", "Cannot read the window"),
    ],
)
def test_parse_refuses_bad_text_with_a_clear_translatable_message(text: str, fragment: str):
    with pytest.raises(CallingHoursError, match=fragment) as caught:
        CallingHours.parse(text)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value.message, Message)
    assert fragment in caught.value.message.msgid or fragment in str(caught.value)


def test_format_writes_the_polish_form_with_day_ranges() -> None:
    assert OFFICE.format() == "pn-pt 8:00-16:00"
    hours = CallingHours.parse("mon-fri 08:00-16:00; sat 9-12")
    assert hours.format() == "pn-pt 8:00-16:00; so 9:00-12:00"
    assert CallingHours.parse("pn 8-12; śr 8-12").format() == "pn 8:00-12:00; śr 8:00-12:00"
    assert CallingHours.parse("wt-śr 8-12, 13:30-15").format() == "wt-śr 8:00-12:00, 13:30-15:00"
    assert CallingHours({}).format() == ""


@pytest.mark.parametrize(
    "windows",
    [
        {7: ((hm(8), hm(9)),)},
        {0: ((hm(9), hm(8)),)},
        {0: ((time(8, 0, 30), hm(9)),)},
    ],
)
def test_constructor_refuses_bad_days_and_windows(windows: dict) -> None:
    with pytest.raises(CallingHoursError):
        CallingHours(windows)


window_strategy = st.tuples(st.integers(0, 23 * 60 + 58), st.integers(1, 600)).map(
    lambda pair: (
        time(pair[0] // 60, pair[0] % 60),
        time(*divmod(min(pair[0] + pair[1], 23 * 60 + 59), 60)),
    )
)
hours_strategy = st.dictionaries(
    st.integers(0, 6), st.lists(window_strategy, min_size=1, max_size=3).map(tuple), max_size=7
).map(CallingHours)


@given(hours_strategy)
def test_format_then_parse_gives_the_same_hours(hours: CallingHours) -> None:
    assert CallingHours.parse(hours.format()) == hours


# --- open, next open, closes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (warsaw(3, 31, 7, 59), False),
        (warsaw(3, 31, 8, 0), True),  # the window's start is included
        (warsaw(3, 31, 15, 59), True),
        (warsaw(3, 31, 16, 0), False),  # its end is not
        (warsaw(4, 5, 10), False),  # Saturday
        (warsaw(4, 6, 10), False),  # Sunday
        (utc(3, 31, 6), True),  # 08:00 in Warsaw after the spring change (UTC+2)
        (utc(3, 28, 6, 30), False),  # 07:30 in Warsaw before it (UTC+1)
        (utc(3, 28, 7), True),
        (datetime(2025, 3, 31, 2, 0, tzinfo=ZoneInfo("America/New_York")), True),  # 08:00
    ],
)
def test_is_open_reads_windows_as_warsaw_wall_clock_in_any_zone(moment: datetime, is_open):
    assert OFFICE.is_open(moment) is is_open


def test_next_open_is_the_moment_itself_when_open_in_utc() -> None:
    moment = warsaw(3, 31, 9, 15)
    assert OFFICE.next_open(moment) == moment
    assert OFFICE.next_open(moment).tzinfo is UTC  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("moment", "opens"),
    [
        (warsaw(3, 28, 16, 0), utc(3, 31, 6)),  # Friday before spring change -> Monday 08:00 CEST
        (warsaw(3, 31, 6, 0), utc(3, 31, 6)),
        (warsaw(10, 24, 17), utc(10, 27, 7)),  # Friday before autumn change -> Monday 08:00 CET
        (warsaw(10, 25, 23, 30), utc(10, 27, 7)),
    ],
)
def test_next_open_crosses_weekends_and_dst_changes(moment: datetime, opens: datetime) -> None:
    assert OFFICE.next_open(moment) == opens


def test_next_open_without_any_window_is_none() -> None:
    assert CallingHours({}).next_open(warsaw(3, 31, 9)) is None
    assert CallingHours.parse("").is_open(warsaw(3, 31, 9)) is False


def test_closes_at_gives_the_end_of_the_current_window_or_none() -> None:
    hours = CallingHours.parse("pn-pt 8-12, 13-16")
    assert hours.closes_at(warsaw(3, 31, 9)) == utc(3, 31, 10)
    assert hours.closes_at(warsaw(3, 31, 12, 30)) is None
    assert hours.closes_at(warsaw(3, 31, 13)) == utc(3, 31, 14)
    assert hours.closes_at(warsaw(3, 28, 13)) == utc(3, 28, 15)  # winter: UTC+1


def test_a_window_starting_in_the_skipped_spring_hour_opens_at_the_change() -> None:
    hours = CallingHours.parse("nd 2:30-4:00")
    # 30 March 2025: 02:00 becomes 03:00 (01:00 UTC). 02:30 does not exist that night.
    opens = hours.next_open(utc(3, 29, 12))
    assert opens == utc(3, 30, 1)
    assert opens.astimezone(WARSAW).hour == 3  # type: ignore[union-attr]
    assert hours.closes_at(opens) == utc(3, 30, 2)  # 04:00 CEST: one hour of calling
    assert hours.is_open(utc(3, 30, 0, 59)) is False


def test_a_window_wholly_inside_the_skipped_hour_does_not_open_that_day() -> None:
    hours = CallingHours.parse("nd 2:00-2:45")
    assert hours.next_open(utc(3, 29, 12)) == utc(4, 6, 0)  # a week later, 02:00 CEST


def test_a_window_over_the_repeated_autumn_hour_uses_its_first_occurrence() -> None:
    hours = CallingHours.parse("nd 2:30-4:00")
    # 26 October 2025: 03:00 CEST (01:00 UTC) becomes 02:00 CET; 02:30 happens twice.
    assert hours.next_open(utc(10, 25, 12)) == utc(10, 26, 0, 30)  # first 02:30 (CEST)
    assert hours.is_open(utc(10, 26, 1, 15)) is True  # the second 02:15, inside
    assert hours.closes_at(utc(10, 26, 1, 15)) == utc(10, 26, 3)  # 04:00 CET


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        OFFICE.is_open(datetime(2025, 3, 31, 9))
    with pytest.raises(ValueError, match="aware"):
        OFFICE.next_open(datetime(2025, 3, 31, 9))


DST_HOURS = [
    OFFICE,
    CallingHours.parse("pn-nd 0:00-23:59"),
    CallingHours.parse("nd 1:30-2:30, 2:45-3:15; so 22-23:59"),
    CallingHours.parse("nd 2:00-3:00"),
    CallingHours.parse("nd 2:10-2:20, 2:40-5"),
]


@pytest.mark.parametrize("hours", DST_HOURS, ids=lambda h: h.format())
@pytest.mark.parametrize("weekend", [utc(3, 29, 0), utc(10, 25, 0)], ids=["spring", "autumn"])
def test_open_next_open_and_closes_agree_minute_by_minute_over_a_dst_weekend(
    hours: CallingHours, weekend: datetime
) -> None:
    for minute in range(0, 3 * 24 * 60, 5):
        moment = weekend + timedelta(minutes=minute)
        opens = hours.next_open(moment)
        assert opens is not None and opens >= moment
        assert hours.is_open(opens)
        if opens > moment:
            assert not hours.is_open(moment)
            assert not hours.is_open(opens - timedelta(microseconds=1))
        closes = hours.closes_at(opens)
        assert closes is not None and closes > opens
        assert hours.is_open(closes - timedelta(microseconds=1))
        assert not hours.is_open(closes)


@settings(max_examples=60)
@given(hours_strategy, st.integers(0, 365 * 24 * 60))
def test_next_open_is_open_and_nothing_between_is(hours: CallingHours, minute: int) -> None:
    moment = utc(1, 1, 0) + timedelta(minutes=minute)
    opens = hours.next_open(moment)
    if not hours.windows:
        assert opens is None
        return
    assert opens is not None and opens >= moment and hours.is_open(opens)
    assert opens == moment or not hours.is_open(opens - timedelta(microseconds=1))
    # No window closes between the moment and the opening found: it would have been open.
    assert opens == moment or hours.closes_at(moment) is None


# --- schedule_after_call --------------------------------------------------------------------

NOW = warsaw(3, 31, 10)  # Monday after the spring change, 08:00 UTC


@pytest.mark.parametrize(
    ("code", "delay"),
    [
        ("no_answer", timedelta(minutes=120)),
        ("busy", timedelta(minutes=15)),
        ("answering_machine", timedelta(minutes=120)),
        ("call_back_later", timedelta(minutes=60)),
        ("soft_refusal", timedelta(days=3)),
        ("break_off", timedelta(minutes=60)),  # no appointment booked: its retry delay
    ],
)
def test_retry_delay_sets_the_next_callable_time(code: str, delay: timedelta) -> None:
    schedule = schedule_after_call(
        OUT[code], now=NOW, appointment_start=None, attempts=1, attempt_limit=5
    )
    assert (schedule.next_callable_at, schedule.reason) == (NOW + delay, "retry")
    assert schedule.next_callable_at.tzinfo is UTC  # type: ignore[union-attr]


def test_retry_delay_is_elapsed_time_across_the_dst_change() -> None:
    saturday = warsaw(3, 29, 12)
    schedule = schedule_after_call(
        OUT["soft_refusal"], now=saturday, appointment_start=None, attempts=1, attempt_limit=5
    )
    assert schedule.next_callable_at == utc(4, 1, 11)  # 72 hours later: 13:00 in Warsaw
    assert schedule.next_callable_at.astimezone(WARSAW).hour == 13  # type: ignore[union-attr]


@pytest.mark.parametrize("code", ["appointment", "break_off"])
def test_appointment_sets_its_start(code: str) -> None:
    start = warsaw(4, 2, 9, 30)
    schedule = schedule_after_call(
        OUT[code], now=NOW, appointment_start=start, attempts=2, attempt_limit=5
    )
    assert (schedule.next_callable_at, schedule.reason) == (utc(4, 2, 7, 30), "appointment")


def test_appointment_without_a_start_is_refused() -> None:
    with pytest.raises(ValueError, match="appointment's start"):
        schedule_after_call(
            OUT["appointment"], now=NOW, appointment_start=None, attempts=1, attempt_limit=5
        )


def test_appointment_start_with_another_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="not an appointment"):
        schedule_after_call(
            OUT["no_answer"], now=NOW, appointment_start=NOW, attempts=1, attempt_limit=5
        )


@pytest.mark.parametrize(
    "code", ["complete", "partial", "hard_refusal", "institution_closed", "fax", "excluded"]
)
def test_final_outcome_is_never_called_again(code: str) -> None:
    schedule = schedule_after_call(
        OUT[code], now=NOW, appointment_start=None, attempts=1, attempt_limit=5
    )
    assert (schedule.next_callable_at, schedule.reason) == (None, "final")


@pytest.mark.parametrize("code", ["fax", "number_does_not_exist", "wrong_institution"])
def test_dead_number_with_another_left_makes_the_case_callable_at_once(code: str) -> None:
    schedule = schedule_after_call(
        OUT[code],
        now=NOW,
        appointment_start=None,
        attempts=1,
        attempt_limit=5,
        other_number_left=True,
    )
    assert (schedule.next_callable_at, schedule.reason) == (NOW, "other_number")


@pytest.mark.parametrize("code", ["no_answer", "soft_refusal", "appointment", "fax"])
def test_attempt_limit_reached_ends_the_case_even_with_an_appointment(code: str) -> None:
    schedule = schedule_after_call(
        OUT[code],
        now=NOW,
        appointment_start=NOW + timedelta(days=1) if code == "appointment" else None,
        attempts=5,
        attempt_limit=5,
        other_number_left=True,
    )
    assert (schedule.next_callable_at, schedule.reason) == (None, "attempt_limit")


def test_schedule_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        schedule_after_call(
            OUT["busy"], now=datetime(2025, 3, 31), appointment_start=None, attempts=1,
            attempt_limit=5,
        )  # fmt: skip


# --- the queue ------------------------------------------------------------------------------

ME, OTHER = 1, 2
LIMIT = 5
TIMEOUT = timedelta(minutes=30)


def case(case_id: int, **changes: object) -> QueueCase:
    """A fresh, callable, unclaimed case with ``changes``."""
    base = QueueCase(
        id=case_id,
        priority=0,
        next_callable_at=NOW - timedelta(days=1),
        is_final=False,
        attempts=0,
        claimed_by=None,
        claimed_at=None,
        appointment_start=None,
        appointment_end=None,
        appointment_interviewer=None,
        completed_online=False,
        assigned_interviewer=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def appt(start: timedelta, end: timedelta | None, who: int | None) -> dict[str, object]:
    """Appointment fields, ``start`` / ``end`` relative to NOW."""
    return {
        "appointment_start": NOW + start,
        "appointment_end": None if end is None else NOW + end,
        "appointment_interviewer": who,
        "next_callable_at": NOW + start,
        "attempts": 1,
    }


H = timedelta(hours=1)
M = timedelta(minutes=1)

# (scenario, cases, now, expected id or None)
QUEUE_SCENARIOS = [
    ("own claimed case before everything",
     [case(1, priority=9), case(2, claimed_by=ME, claimed_at=NOW - H, attempts=2),
      case(3, **appt(-M, H, ME))], NOW, 2),
    ("own claimed case even outside calling hours",
     [case(1), case(2, claimed_by=ME, claimed_at=NOW)], warsaw(3, 31, 18), 2),
    ("nothing else outside calling hours", [case(1, priority=9)], warsaw(3, 31, 18), None),
    ("nothing on Saturday", [case(1)], warsaw(4, 5, 10), None),
    ("own claimed case completed online meanwhile is dropped",
     [case(1, claimed_by=ME, claimed_at=NOW, completed_online=True), case(2)], NOW, 2),
    ("own claimed case that became final is dropped",
     [case(1, claimed_by=ME, claimed_at=NOW, is_final=True), case(2)], NOW, 2),
    ("appointment bound to me before an unbound one",
     [case(1, **appt(-2 * M, H, None)), case(2, **appt(-M, H, ME))], NOW, 2),
    ("due unbound appointment before a missed one",
     [case(1, **appt(-3 * H, -2 * H, None)), case(2, **appt(-M, H, None))], NOW, 2),
    ("missed appointment before high priority",
     [case(1, priority=99), case(2, **appt(-3 * H, -2 * H, ME))], NOW, 2),
    ("appointment bound to another, within its window, is not mine",
     [case(1, **appt(-M, H, OTHER))], NOW, None),
    ("appointment bound to another, window passed, is missed: first for me",
     [case(1, priority=99), case(2, **appt(-2 * H, -M, OTHER))], NOW, 2),
    ("appointment bound to another at its very end is still theirs",
     [case(1, **appt(-H, timedelta(0), OTHER))], NOW, None),
    ("bound appointment without end: released after the claim timeout",
     [case(1, **appt(-TIMEOUT - M, None, OTHER))], NOW, 1),
    ("bound appointment without end: held before the claim timeout",
     [case(1, **appt(-TIMEOUT + M, None, OTHER))], NOW, None),
    ("unbound appointment without end stays due",
     [case(1, priority=5), case(2, **appt(-5 * H, None, None))], NOW, 2),
    ("future appointment waits even if next_callable_at passed",
     [case(1, **(appt(H, 2 * H, None) | {"next_callable_at": NOW - H}))], NOW, None),
    ("appointment start is inclusive", [case(1, **appt(timedelta(0), H, None))], NOW, 1),
    ("earlier appointment first", [case(1, **appt(-M, H, None)), case(2, **appt(-H, H, None))],
     NOW, 2),
    ("higher priority first", [case(1), case(2, priority=3)], NOW, 2),
    ("fresh before retries at equal priority",
     [case(1, attempts=1, next_callable_at=NOW - 9 * H), case(2, next_callable_at=NOW - M)],
     NOW, 2),
    ("earlier next_callable_at first",
     [case(1, next_callable_at=NOW - M), case(2, next_callable_at=NOW - H)], NOW, 2),
    ("lower id breaks ties", [case(5), case(3), case(4)], NOW, 3),
    ("retry not yet due", [case(1, attempts=1, next_callable_at=NOW + M)], NOW, None),
    ("retry due at exactly now", [case(1, attempts=1, next_callable_at=NOW)], NOW, 1),
    ("no next_callable_at: never", [case(1, next_callable_at=None)], NOW, None),
    ("attempt limit reached", [case(1, attempts=LIMIT), case(2, attempts=LIMIT - 1)], NOW, 2),
    ("final case never", [case(1, is_final=True, priority=9), case(2)], NOW, 2),
    ("completed online mid-queue", [case(1, completed_online=True, priority=9), case(2)], NOW, 2),
    ("claimed by another recently", [case(1, claimed_by=OTHER, claimed_at=NOW - M)], NOW, None),
    ("claimed by another exactly at the timeout",
     [case(1, claimed_by=OTHER, claimed_at=NOW - TIMEOUT)], NOW, None),
    ("idle claim of another is released",
     [case(1, claimed_by=OTHER, claimed_at=NOW - TIMEOUT - M)], NOW, 1),
    ("claim without a time is held", [case(1, claimed_by=OTHER, claimed_at=None)], NOW, None),
    ("assigned to another", [case(1, assigned_interviewer=OTHER, priority=9), case(2)], NOW, 2),
    ("assigned to me", [case(1, assigned_interviewer=ME, priority=9), case(2)], NOW, 1),
    ("unbound appointment of a case assigned to another",
     [case(1, **appt(-M, H, None), assigned_interviewer=OTHER)], NOW, None),
    ("my appointment on a case assigned to another",
     [case(1, **appt(-M, H, ME), assigned_interviewer=OTHER)], NOW, 1),
    ("appointment outside calling hours waits",
     [case(1, **appt(-M, H, ME))], warsaw(3, 31, 17), None),
    ("first Monday 08:00 after the spring change is open (06:00 UTC)",
     [case(1)], utc(3, 31, 6), 1),
    ("Monday 07:30 after the spring change is closed (05:30 UTC)", [case(1)], utc(3, 31, 5, 30),
     None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("cases", "now", "expected"),
    [scenario[1:] for scenario in QUEUE_SCENARIOS],
    ids=[scenario[0] for scenario in QUEUE_SCENARIOS],
)
def test_pick_next_follows_the_queue_rules(
    cases: list[QueueCase], now: datetime, expected: int | None
) -> None:
    picked = pick_next(
        cases, interviewer=ME, now=now, hours=OFFICE, attempt_limit=LIMIT, claim_timeout=TIMEOUT
    )
    assert (picked.id if picked else None) == expected
    reason = why_nothing(
        cases, interviewer=ME, now=now, hours=OFFICE, attempt_limit=LIMIT, claim_timeout=TIMEOUT
    ).reason
    assert (reason == "callable") == (expected is not None)


def test_queue_order_lists_every_tier_in_order() -> None:
    cases = [
        case(1, attempts=1, next_callable_at=NOW - H),  # tier 4, retry
        case(2),  # tier 4, fresh
        case(3, priority=2),  # tier 4, high priority
        case(4, **appt(-3 * H, -2 * H, OTHER)),  # tier 3, missed
        case(5, **appt(-M, H, None)),  # tier 2
        case(6, **appt(-M, H, ME)),  # tier 1
        case(7, claimed_by=ME, claimed_at=NOW),  # tier 0
        case(8, is_final=True),
        case(9, claimed_by=OTHER, claimed_at=NOW),
    ]
    random.Random(5).shuffle(cases)
    ordered = queue_order(
        cases, interviewer=ME, now=NOW, hours=OFFICE, attempt_limit=LIMIT, claim_timeout=TIMEOUT
    )
    assert [c.id for c in ordered] == [7, 6, 5, 4, 3, 2, 1]


# --- why_nothing ----------------------------------------------------------------------------


def explain(cases: list[QueueCase], now: datetime = NOW, hours: CallingHours = OFFICE):
    return why_nothing(
        cases, interviewer=ME, now=now, hours=hours, attempt_limit=LIMIT, claim_timeout=TIMEOUT
    )


def test_why_nothing_with_no_cases() -> None:
    result = explain([])
    assert (result.reason, result.when) == ("empty", None)


def test_why_nothing_when_every_case_is_finished() -> None:
    result = explain([case(1, is_final=True), case(2, completed_online=True),
                      case(3, attempts=LIMIT)])  # fmt: skip
    assert (result.reason, result.when) == ("all_final", None)
    assert result.message.render() == "Every case is finished."


def test_why_nothing_outside_calling_hours_says_when_they_open() -> None:
    result = explain([case(1)], now=warsaw(4, 5, 10))  # Saturday
    assert (result.reason, result.when) == ("closed", utc(4, 7, 6))
    assert result.message.render() == "Outside calling hours. Calling resumes at 07.04.2025 08:00."


def test_why_nothing_before_the_next_retry() -> None:
    result = explain([case(1, attempts=1, next_callable_at=NOW + 90 * M)])
    assert (result.reason, result.when) == ("retry", NOW + 90 * M)
    assert result.message.params == {"when": "31.03.2025 11:30"}


def test_why_nothing_with_a_retry_after_hours_gives_the_next_opening() -> None:
    result = explain([case(1, attempts=1, next_callable_at=warsaw(3, 31, 17))])
    assert (result.reason, result.when) == ("retry", utc(4, 1, 6))


def test_why_nothing_before_the_next_appointment() -> None:
    result = explain([case(1, **appt(4 * H, 5 * H, ME))])
    assert (result.reason, result.when) == ("appointment", NOW + 4 * H)
    assert "14:00" in result.message.render()


def test_why_nothing_with_another_interviewers_appointment() -> None:
    result = explain([case(1, **appt(-M, H, OTHER))])
    assert result.reason == "appointment_other"
    assert result.when is not None and NOW + H < result.when < NOW + H + M


def test_why_nothing_when_others_hold_the_cases() -> None:
    result = explain([case(1, claimed_by=OTHER, claimed_at=NOW - 10 * M)])
    assert result.reason == "claimed"
    assert result.when is not None and NOW + 20 * M < result.when < NOW + 21 * M


def test_why_nothing_when_cases_are_assigned_to_others() -> None:
    result = explain([case(1, assigned_interviewer=OTHER), case(2, is_final=True)])
    assert (result.reason, result.when) == ("assigned_elsewhere", None)


def test_why_nothing_without_calling_hours() -> None:
    result = explain([case(1)], hours=CallingHours({}))
    assert (result.reason, result.when) == ("no_hours", None)


def test_why_nothing_when_no_case_can_come_by_itself() -> None:
    result = explain([case(1, next_callable_at=None)])
    assert (result.reason, result.when) == ("blocked", None)


def test_why_nothing_when_a_case_is_callable() -> None:
    result = explain([case(1)])
    assert (result.reason, result.when) == ("callable", NOW)


# --- queue properties -----------------------------------------------------------------------

OFFSETS = st.integers(-6 * 60, 6 * 60).map(lambda m: NOW + timedelta(minutes=m))


@st.composite
def queue_cases(draw: st.DrawFn) -> list[QueueCase]:
    """Up to 8 cases with every field drawn from a small, collision-prone range."""
    result = []
    for index in range(draw(st.integers(0, 8))):
        start = draw(st.one_of(st.none(), OFFSETS))
        length = draw(st.one_of(st.none(), st.integers(0, 180)))  # minutes; None: no end
        claimed_by = draw(st.sampled_from([None, None, ME, OTHER]))
        result.append(
            QueueCase(
                id=index + 1,
                priority=draw(st.integers(0, 2)),
                next_callable_at=draw(st.one_of(st.none(), OFFSETS)),
                is_final=draw(st.booleans()),
                attempts=draw(st.integers(0, LIMIT)),
                claimed_by=claimed_by,
                claimed_at=draw(st.one_of(st.none(), OFFSETS)) if claimed_by else None,
                appointment_start=start,
                appointment_end=(
                    start + timedelta(minutes=length)
                    if start is not None and length is not None
                    else None
                ),
                appointment_interviewer=(
                    draw(st.sampled_from([None, ME, OTHER])) if start is not None else None
                ),
                completed_online=draw(st.booleans()),
                assigned_interviewer=draw(st.sampled_from([None, None, ME, OTHER])),
            )
        )
    return result


def pick(cases: list[QueueCase], now: datetime) -> QueueCase | None:
    return pick_next(
        cases, interviewer=ME, now=now, hours=OFFICE, attempt_limit=LIMIT, claim_timeout=TIMEOUT
    )


NOWS = st.integers(-2 * 24 * 60, 3 * 24 * 60).map(lambda m: NOW + timedelta(minutes=m))


@settings(max_examples=300)
@given(queue_cases(), NOWS, st.randoms(use_true_random=False))
def test_picked_case_obeys_the_rules_and_not_the_input_order(
    cases: list[QueueCase], now: datetime, rnd: random.Random
) -> None:
    picked = pick(cases, now)
    shuffled = list(cases)
    rnd.shuffle(shuffled)
    assert pick(shuffled, now) == picked
    if picked is None:
        return
    assert not picked.is_final and not picked.completed_online
    own = [c for c in cases if c.claimed_by == ME and not c.is_final and not c.completed_online]
    if own:
        assert picked.claimed_by == ME
        return
    assert OFFICE.is_open(now)
    assert picked.attempts < LIMIT
    if picked.claimed_by == OTHER:
        assert picked.claimed_at is not None and now - picked.claimed_at > TIMEOUT
    if picked.appointment_start is not None:
        assert picked.appointment_start <= now
    else:
        assert picked.next_callable_at is not None and picked.next_callable_at <= now
        assert picked.assigned_interviewer in (None, ME)


@settings(max_examples=300)
@given(queue_cases(), NOWS)
def test_why_nothing_names_a_moment_when_a_case_is_given(
    cases: list[QueueCase], now: datetime
) -> None:
    result = explain(cases, now)
    assert (result.reason == "callable") == (pick(cases, now) is not None)
    if result.when is not None:
        assert result.when >= now
        assert pick(cases, result.when) is not None
    else:
        # Nothing comes by itself: not later today, not next week either.
        for hours in (1, 5, 24, 72, 24 * 7):
            opens = OFFICE.next_open(now + timedelta(hours=hours))
            assert opens is not None and pick(cases, opens) is None


ALWAYS = CallingHours.parse("pn-nd 0:00-23:59")


@pytest.mark.parametrize(("minutes_later", "released"), [(20, False), (35, True)])
def test_idle_claims_are_aged_in_real_time_over_the_autumn_change(
    minutes_later: int, released: bool
) -> None:
    claimed = datetime(2025, 10, 26, 2, 50, tzinfo=WARSAW, fold=0)  # 00:50 UTC
    now = (claimed.astimezone(UTC) + timedelta(minutes=minutes_later)).astimezone(WARSAW)
    assert now.fold == 1 and now.hour == 2  # the repeated hour: wall clock went back
    cases = [case(1, claimed_by=OTHER, claimed_at=claimed, next_callable_at=claimed)]
    picked = pick_next(
        cases, interviewer=ME, now=now, hours=ALWAYS, attempt_limit=LIMIT, claim_timeout=TIMEOUT
    )
    assert (picked is not None) is released


def test_queue_results_do_not_depend_on_the_zone_of_the_inputs() -> None:
    in_warsaw = [case(1, next_callable_at=warsaw(3, 31, 9)), case(2, priority=1)]
    in_utc = [replace(c, next_callable_at=c.next_callable_at.astimezone(UTC)) for c in in_warsaw]
    for cases in (in_warsaw, in_utc):
        assert [
            c.id
            for c in queue_order(
                cases,
                interviewer=ME,
                now=NOW,
                hours=OFFICE,
                attempt_limit=LIMIT,
                claim_timeout=TIMEOUT,
            )
        ] == [2, 1]


def test_queue_refuses_naive_moments() -> None:
    with pytest.raises(ValueError, match="aware"):
        pick(
            [case(1, next_callable_at=datetime(2025, 3, 31, 9))],  # naive
            NOW,
        )
