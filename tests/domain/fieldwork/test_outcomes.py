"""Call outcomes, AAPOR groups, and a case's disposition derived from its calls."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.fieldwork.outcomes import (
    AAPOR_GROUPS,
    COMPLETED_ONLINE_CODE,
    DEFAULT_OUTCOMES,
    MAX_ATTEMPTS_CODE,
    CallFact,
    OutcomeKind,
    OutcomeSpec,
    aapor_group,
    case_disposition,
    outcome_by_code,
    remaining_numbers,
)

OUT = {outcome.code: outcome for outcome in DEFAULT_OUTCOMES}
T0 = datetime(2025, 3, 31, 8, 0, tzinfo=UTC)


def calls(*codes: str, phone: str | None = None) -> list[CallFact]:
    """Calls an hour apart with the default outcomes ``codes``."""
    return [CallFact(T0 + timedelta(hours=i), OUT[code], phone) for i, code in enumerate(codes)]


# --- the default table ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "aapor", "kind", "retry", "other_number", "final"),
    [
        ("no_answer", "3.13", OutcomeKind.TEMPORARY, 120, False, False),
        ("busy", "3.12", OutcomeKind.TEMPORARY, 15, False, False),
        ("answering_machine", "3.14", OutcomeKind.TEMPORARY, 120, False, False),
        ("fax", "4.20", OutcomeKind.FINAL, None, True, True),
        ("number_does_not_exist", "4.31", OutcomeKind.FINAL, None, True, True),
        ("wrong_institution", "3.90", OutcomeKind.FINAL, None, True, True),
        ("institution_closed", "4.51", OutcomeKind.FINAL, None, False, True),
        ("soft_refusal", "2.111", OutcomeKind.REFUSAL, 3 * 24 * 60, False, False),
        ("hard_refusal", "2.112", OutcomeKind.REFUSAL, None, False, True),
        ("call_back_later", "2.21", OutcomeKind.TEMPORARY, 60, False, False),
        ("appointment", "2.21", OutcomeKind.APPOINTMENT, None, False, False),
        ("break_off", "2.12", OutcomeKind.APPOINTMENT, 60, False, False),
        ("partial", "1.2", OutcomeKind.FINAL, None, False, True),
        ("complete", "1.1", OutcomeKind.FINAL, None, False, True),
        (COMPLETED_ONLINE_CODE, "1.1", OutcomeKind.FINAL, None, False, True),
        (MAX_ATTEMPTS_CODE, "3.90", OutcomeKind.SUPERVISOR, None, False, True),
    ],
)
def test_default_outcomes_cover_the_issue_with_aapor_codes_and_flags(
    code: str, aapor: str, kind: OutcomeKind, retry: int | None, other_number: bool, final: bool
) -> None:
    outcome = OUT[code]
    assert (outcome.aapor, outcome.kind, outcome.retry_minutes) == (aapor, kind, retry)
    assert outcome.try_other_number is other_number
    assert outcome.is_final is final
    assert outcome.label_pl and outcome.label_en


def test_default_outcome_codes_are_unique_and_labels_polish() -> None:
    codes = [outcome.code for outcome in DEFAULT_OUTCOMES]
    assert len(codes) == len(set(codes))
    assert OUT["busy"].label_pl == "Zajęte"
    assert OUT["hard_refusal"].label_pl == "Odmowa stanowcza"


def test_only_interviews_are_complete_or_partial() -> None:
    assert {o.code for o in DEFAULT_OUTCOMES if o.is_complete} == {"complete", "completed_online"}
    assert {o.code for o in DEFAULT_OUTCOMES if o.is_partial} == {"partial"}


def test_contact_flags_follow_who_was_reached() -> None:
    reached = {o.code for o in DEFAULT_OUTCOMES if o.contacted}
    assert {"soft_refusal", "hard_refusal", "call_back_later", "complete"} <= reached
    assert not reached & {"no_answer", "busy", "answering_machine", "fax", "wrong_institution"}


def test_refusals_and_numbers_that_need_an_explanation_require_a_note() -> None:
    for code in ("soft_refusal", "hard_refusal", "wrong_institution", "institution_closed"):
        assert OUT[code].note_required, code
    assert not OUT["no_answer"].note_required


# --- OutcomeSpec rules ----------------------------------------------------------------------


def test_eligible_flag_must_agree_with_the_aapor_group() -> None:
    with pytest.raises(ValueError, match="does not match AAPOR"):
        replace(OUT["no_answer"], eligible=True)
    with pytest.raises(ValueError, match="does not match AAPOR"):
        replace(OUT["fax"], eligible=None)


def test_complete_and_partial_flags_need_their_codes() -> None:
    with pytest.raises(ValueError, match="1.1"):
        replace(OUT["partial"], is_complete=True)
    with pytest.raises(ValueError, match="1.2"):
        replace(OUT["complete"], is_partial=True)


def test_bad_code_negative_retry_and_empty_code_are_refused() -> None:
    with pytest.raises(ValueError, match="not an AAPOR"):
        replace(OUT["no_answer"], aapor="3.x")
    with pytest.raises(ValueError, match="negative"):
        replace(OUT["no_answer"], retry_minutes=-5)
    with pytest.raises(ValueError, match="needs a code"):
        replace(OUT["no_answer"], code=" ")


@pytest.mark.parametrize(
    ("kind", "retry", "final"),
    [
        (OutcomeKind.TEMPORARY, 30, False),
        (OutcomeKind.TEMPORARY, None, True),
        (OutcomeKind.REFUSAL, 4320, False),
        (OutcomeKind.REFUSAL, None, True),
        (OutcomeKind.APPOINTMENT, None, False),
        (OutcomeKind.FINAL, None, True),
        (OutcomeKind.SUPERVISOR, None, True),
    ],
)
def test_an_outcome_is_final_by_kind_or_by_having_no_retry(
    kind: OutcomeKind, retry: int | None, final: bool
) -> None:
    outcome = replace(OUT["call_back_later"], kind=kind, retry_minutes=retry)
    assert outcome.is_final is final


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("1.1", "I"),
        ("1.2", "P"),
        ("2.11", "R"),
        ("2.111", "R"),
        ("2.12", "R"),
        ("2.21", "NC"),
        ("2.221", "NC"),
        ("2.31", "O"),
        ("3.11", "UH"),
        ("3.16", "UH"),
        ("3.161", "UH"),
        ("3.21", "UO"),
        ("3.90", "UO"),
        ("4.10", "NE"),
        ("4.51", "NE"),
        ("4.99", "NE"),
    ],
)
def test_aapor_group_places_codes_in_rate_categories(code: str, group: str) -> None:
    assert aapor_group(code) == group


@pytest.mark.parametrize("code", ["", "1", "1.3", "0.1", "5.10", "2.1.1", " 1.1"])
def test_aapor_group_refuses_what_is_not_a_code(code: str) -> None:
    with pytest.raises(ValueError):
        aapor_group(code)


def test_aapor_groups_table_agrees_with_the_prefix_rule() -> None:
    for code, group in AAPOR_GROUPS.items():
        assert group in {"I", "P", "R", "NC", "O", "UH", "UO", "NE"}
        assert code[0] == {"I": "1", "P": "1", "R": "2", "NC": "2", "O": "2"}.get(
            group, "3" if group in ("UH", "UO") else "4"
        )


def test_outcome_by_code_finds_a_row_or_raises_key_error() -> None:
    assert outcome_by_code(DEFAULT_OUTCOMES, "busy") is OUT["busy"]
    with pytest.raises(KeyError):
        outcome_by_code(DEFAULT_OUTCOMES, "nope")


# --- case_disposition: the rules ------------------------------------------------------------


def test_case_without_calls_is_not_attempted() -> None:
    result = case_disposition([], attempt_limit=5)
    assert (result.outcome, result.aapor, result.is_final, result.attempts) == (
        None,
        "3.11",
        False,
        0,
    )
    assert (result.ever_contacted, result.ever_eligible) == (False, None)


def test_completed_online_is_final_whatever_the_calls_said() -> None:
    result = case_disposition(
        calls("hard_refusal", "no_answer"), attempt_limit=2, completed_online=True
    )
    assert result.outcome is OUT[COMPLETED_ONLINE_CODE]
    assert (result.aapor, result.is_final, result.attempts) == ("1.1", True, 2)
    assert (result.ever_contacted, result.ever_eligible) == (True, True)


def test_completed_online_uses_the_fieldworks_own_row() -> None:
    table = tuple(
        replace(o, label_pl="Ankieta przez internet") if o.code == COMPLETED_ONLINE_CODE else o
        for o in DEFAULT_OUTCOMES
    )
    result = case_disposition([], attempt_limit=5, completed_online=True, outcomes=table)
    assert result.outcome is not None and result.outcome.label_pl == "Ankieta przez internet"


def test_complete_interview_ends_the_case() -> None:
    result = case_disposition(calls("no_answer", "appointment", "complete"), attempt_limit=10)
    assert (result.outcome, result.aapor, result.is_final) == (OUT["complete"], "1.1", True)


def test_latest_final_outcome_wins_after_a_supervisor_changes_a_call() -> None:
    # The supervisor turned the first call into a hard refusal after the interview was done:
    # in time order the complete interview is still the latest final outcome.
    history = calls("hard_refusal", "complete")
    assert case_disposition(history, attempt_limit=10).aapor == "1.1"
    # ... and a refusal recorded after the interview (a wrongly recorded call) wins.
    later = calls("complete", "hard_refusal")
    assert case_disposition(later, attempt_limit=10).aapor == "2.112"


def test_calls_are_taken_in_time_order_whatever_order_they_come_in() -> None:
    history = calls("hard_refusal", "complete")
    assert case_disposition(list(reversed(history)), attempt_limit=10).aapor == "1.1"


def test_hard_refusal_is_final_on_the_first_attempt() -> None:
    result = case_disposition(calls("hard_refusal"), attempt_limit=10)
    assert (result.aapor, result.is_final, result.ever_eligible) == ("2.112", True, True)


def test_soft_refusal_is_not_final_and_stays_the_disposition_after_no_answers() -> None:
    result = case_disposition(calls("soft_refusal", "no_answer", "no_answer"), attempt_limit=10)
    assert (result.outcome, result.aapor, result.is_final) == (OUT["soft_refusal"], "2.111", False)
    assert result.ever_contacted is True


def test_appointment_beats_a_later_no_answer_while_in_progress() -> None:
    result = case_disposition(calls("appointment", "no_answer"), attempt_limit=10)
    assert (result.outcome, result.aapor, result.is_final) == (OUT["appointment"], "2.21", False)


def test_break_off_counts_as_refusal_group_over_an_appointment() -> None:
    result = case_disposition(calls("break_off", "appointment"), attempt_limit=10)
    assert (result.aapor, result.is_final) == ("2.12", False)


# --- case_disposition: the attempt limit ----------------------------------------------------


@pytest.mark.parametrize(
    ("history", "aapor"),
    [
        (("no_answer",) * 5, "3.13"),
        (("busy",) * 5, "3.12"),  # busy every time: AAPOR's "always busy"
        (("busy", "busy", "busy", "busy", "no_answer"), "3.13"),  # once rang out: not 3.12
        (("answering_machine", "no_answer", "answering_machine", "no_answer", "busy"), "3.13"),
        (("answering_machine",) * 3 + ("no_answer",) * 2, "3.14"),  # the most frequent
        (("soft_refusal", "no_answer", "no_answer", "no_answer", "no_answer"), "2.111"),
        (("call_back_later", "no_answer", "busy", "no_answer", "no_answer"), "2.21"),
        (("no_answer", "break_off", "appointment", "call_back_later", "no_answer"), "2.12"),
    ],
)
def test_attempt_limit_ends_the_case_coded_by_its_history(history: tuple[str, ...], aapor: str):
    result = case_disposition(calls(*history), attempt_limit=5)
    assert result.outcome is OUT[MAX_ATTEMPTS_CODE]
    assert (result.aapor, result.is_final, result.attempts) == (aapor, True, 5)


def test_under_the_attempt_limit_the_case_stays_open() -> None:
    result = case_disposition(calls("no_answer", "no_answer"), attempt_limit=3)
    assert (result.outcome, result.aapor, result.is_final) == (OUT["no_answer"], "3.13", False)


def test_final_outcome_on_the_last_attempt_beats_max_attempts() -> None:
    result = case_disposition(calls("no_answer", "no_answer", "complete"), attempt_limit=3)
    assert result.outcome is OUT["complete"]


def test_supervisor_outcomes_are_not_attempts() -> None:
    history = calls("no_answer", "no_answer", "excluded")
    result = case_disposition(history, attempt_limit=3)
    assert (result.outcome, result.aapor, result.attempts) == (OUT["excluded"], "4.10", 2)


def test_max_attempts_set_by_a_supervisor_is_coded_by_the_history() -> None:
    result = case_disposition(
        calls("soft_refusal", "no_answer", MAX_ATTEMPTS_CODE), attempt_limit=10
    )
    assert (result.outcome, result.aapor, result.is_final) == (
        OUT[MAX_ATTEMPTS_CODE],
        "2.111",
        True,
    )
    assert result.attempts == 2


def test_attempt_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        case_disposition([], attempt_limit=0)


# --- case_disposition: phone numbers --------------------------------------------------------


def test_fax_on_one_number_does_not_end_a_case_with_another_number() -> None:
    history = calls("fax", phone="322000001")
    result = case_disposition(history, attempt_limit=5, phones=["322000001", "322000002"])
    # Nothing is known about the institution yet: not "not eligible".
    assert (result.outcome, result.aapor, result.is_final) == (None, "3.11", False)
    assert (result.attempts, result.ever_eligible) == (1, None)


def test_case_ends_when_every_number_is_ruled_out_with_the_last_code() -> None:
    phones = ["322000001", "322000002"]
    history = [
        CallFact(T0, OUT["fax"], phones[0]),
        CallFact(T0 + timedelta(hours=1), OUT["no_answer"], phones[1]),
        CallFact(T0 + timedelta(hours=2), OUT["number_does_not_exist"], phones[1]),
    ]
    result = case_disposition(history, attempt_limit=5, phones=phones)
    assert (result.outcome, result.aapor, result.is_final) == (
        OUT["number_does_not_exist"],
        "4.31",
        True,
    )
    assert result.ever_eligible is False
    assert remaining_numbers(history, phones) == []


def test_dead_numbers_are_left_out_of_the_max_attempts_code() -> None:
    phones = ["1", "2"]
    history = [CallFact(T0, OUT["wrong_institution"], "1")] + [
        CallFact(T0 + timedelta(hours=h), OUT["no_answer"], "2") for h in range(1, 3)
    ]
    result = case_disposition(history, attempt_limit=3, phones=phones)
    assert (result.outcome, result.aapor, result.attempts) == (OUT[MAX_ATTEMPTS_CODE], "3.13", 3)


def test_without_phone_numbers_a_number_outcome_ends_the_case() -> None:
    result = case_disposition(calls("fax"), attempt_limit=5)
    assert (result.aapor, result.is_final, result.ever_eligible) == ("4.20", True, False)


def test_wrong_institution_alone_leaves_eligibility_unknown() -> None:
    result = case_disposition(calls("wrong_institution"), attempt_limit=5)
    assert (result.aapor, result.is_final, result.ever_eligible) == ("3.90", True, None)


def test_a_number_outcome_without_its_number_rules_nothing_out() -> None:
    result = case_disposition(calls("fax"), attempt_limit=5, phones=["1", "2"])
    assert result.is_final is False


def test_remaining_numbers_keeps_the_case_order() -> None:
    history = [CallFact(T0, OUT["fax"], "2"), CallFact(T0, OUT["no_answer"], "1")]
    assert remaining_numbers(history, ["1", "2", "3"]) == ["1", "3"]


# --- properties -----------------------------------------------------------------------------

history_strategy = st.lists(
    st.tuples(st.integers(0, 10_000), st.sampled_from(DEFAULT_OUTCOMES)),
    max_size=12,
    unique_by=lambda pair: pair[0],  # distinct moments: the time order is unambiguous
).map(lambda pairs: [CallFact(T0 + timedelta(minutes=m), o) for m, o in pairs])


@given(history_strategy, st.integers(1, 8), st.booleans())
def test_disposition_is_final_exactly_by_the_rules(
    history: list[CallFact], limit: int, online: bool
) -> None:
    result = case_disposition(history, attempt_limit=limit, completed_online=online)
    dials = [c for c in history if c.outcome.kind is not OutcomeKind.SUPERVISOR]
    assert result.attempts == len(dials)
    any_final = any(c.outcome.is_final for c in history)
    assert result.is_final == (online or any_final or len(dials) >= limit)
    aapor_group(result.aapor)  # always a valid code
    assert (result.outcome is None) == (not history and not online)
    if result.ever_eligible is True:
        assert result.aapor[0] in "12" or result.is_final


@given(history_strategy, st.integers(1, 8))
def test_disposition_does_not_depend_on_the_order_calls_are_listed(
    history: list[CallFact], limit: int
) -> None:
    shuffled = list(reversed(history))
    assert case_disposition(history, attempt_limit=limit) == case_disposition(
        shuffled, attempt_limit=limit
    )


def test_a_fieldworks_own_outcome_counts_like_the_defaults() -> None:
    on_leave = OutcomeSpec(
        "contact_on_leave", "Osoba kontaktowa na urlopie", "Contact person on leave", "2.21",
        True, True, OutcomeKind.TEMPORARY, 7 * 24 * 60, False, False,
    )  # fmt: skip
    history = [CallFact(T0, OUT["no_answer"]), CallFact(T0 + timedelta(days=1), on_leave)]
    result = case_disposition(history, attempt_limit=5)
    assert (result.outcome, result.aapor, result.is_final) == (on_leave, "2.21", False)


def test_calls_in_the_repeated_autumn_hour_are_ordered_by_real_time() -> None:
    warsaw = ZoneInfo("Europe/Warsaw")
    # 26 October 2025: 02:50 CEST comes before 02:10 CET (40 minutes of wall clock back,
    # 20 minutes of real time forward). Compared by wall clock, the order would flip.
    first = CallFact(datetime(2025, 10, 26, 2, 50, tzinfo=warsaw, fold=0), OUT["complete"])
    second = CallFact(datetime(2025, 10, 26, 2, 10, tzinfo=warsaw, fold=1), OUT["hard_refusal"])
    assert case_disposition([second, first], attempt_limit=5).aapor == "2.112"


def test_a_call_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        CallFact(datetime(2025, 3, 31, 9), OUT["busy"])
