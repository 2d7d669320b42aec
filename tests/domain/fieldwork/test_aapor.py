"""AAPOR outcome rates: hand-computed tables, zero denominators, e, and the orderings."""

from __future__ import annotations

from dataclasses import fields

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.fieldwork.aapor import FORMULAS, DispositionCounts, Rates, estimate_e, rates

RATE_NAMES = list(FORMULAS)


def assert_rates(actual: Rates, expected: dict[str, float | None]) -> None:
    """Every rate equals the hand-computed value (None where the rate is undefined)."""
    assert set(expected) == set(RATE_NAMES)
    for name, value in expected.items():
        got = getattr(actual, name)
        if value is None:
            assert got is None, name
        else:
            assert got == pytest.approx(value, rel=1e-12), name


# --- hand-computed tables -------------------------------------------------------------------


def test_rates_of_a_finished_pes_survey_with_estimated_e() -> None:
    # 100 PES: 40 complete, 5 partial, 10 refusals, 15 never reached in person (2.21),
    # 20 never answered (3.13), 10 fax or dead numbers (4.x).
    # I+P = 45, R+NC+O = 25, eligible = 70, unknown = 20,
    # e = 70 / (70 + 10) = 0.875, e*unknown = 17.5, so the e-weighted base = 87.5.
    counts = DispositionCounts(I=40, P=5, R=10, NC=15, O=0, UH=20, UO=0, NE=10)
    result = rates(counts)
    assert result.e == 0.875
    assert_rates(
        result,
        {
            "RR1": 40 / 90,  # 0.4444
            "RR2": 45 / 90,  # 0.5
            "RR3": 40 / 87.5,  # 0.4571
            "RR4": 45 / 87.5,  # 0.5143
            "RR5": 40 / 70,  # 0.5714
            "RR6": 45 / 70,  # 0.6429
            "COOP1": 40 / 55,  # (I+P)+R+O = 55
            "COOP2": 45 / 55,
            "COOP3": 40 / 55,  # O = 0, so COOP3 = COOP1
            "COOP4": 45 / 55,
            "REF1": 10 / 90,
            "REF2": 10 / 87.5,
            "REF3": 10 / 70,
            "CON1": 55 / 90,  # contacted = 55; 55 + NC 15 + unknown 20 = 90
            "CON2": 55 / 87.5,
            "CON3": 55 / 70,
        },
    )


def test_rates_of_a_mixed_register_with_every_group_from_codes() -> None:
    # 120 institutions of a ROPS register, by final code:
    codes = (
        ["1.1"] * 52
        + ["1.2"] * 3
        + ["2.111"] * 5
        + ["2.112"] * 2
        + ["2.12"] * 1  # R = 8
        + ["2.21"] * 12  # NC = 12
        + ["2.35"] * 2  # O = 2
        + ["3.13"] * 18
        + ["3.14"] * 5
        + ["3.12"] * 2  # UH = 25
        + ["3.90"] * 6  # UO = 6
        + ["4.20"] * 3
        + ["4.31"] * 5
        + ["4.51"] * 4  # NE = 12
    )
    counts = DispositionCounts.from_codes(codes)
    assert counts == DispositionCounts(I=52, P=3, R=8, NC=12, O=2, UH=25, UO=6, NE=12)
    assert counts.total == 120
    # I+P = 55, eligible = 77, unknown = 31, e = 77/89, e*unknown = 2387/89,
    # e-weighted base = 77 + 2387/89 = 9240/89, so x / base = 89x / 9240.
    result = rates(counts)
    assert result.e == pytest.approx(77 / 89)
    assert_rates(
        result,
        {
            "RR1": 52 / 108,
            "RR2": 55 / 108,
            "RR3": 52 * 89 / 9240,  # 0.5009
            "RR4": 55 * 89 / 9240,  # 0.5298
            "RR5": 52 / 77,
            "RR6": 55 / 77,
            "COOP1": 52 / 65,  # (I+P)+R+O = 65
            "COOP2": 55 / 65,
            "COOP3": 52 / 63,  # (I+P)+R = 63
            "COOP4": 55 / 63,
            "REF1": 8 / 108,
            "REF2": 8 * 89 / 9240,
            "REF3": 8 / 77,
            "CON1": 65 / 108,  # contacted 65 + NC 12 + unknown 31 = 108
            "CON2": 65 * 89 / 9240,  # 65 + 12 + 2387/89 = 9240/89
            "CON3": 65 / 77,
        },
    )


def test_rates_of_a_jst_survey_with_e_given_by_the_supervisor() -> None:
    # 200 gminas: I=100, R=20, NC=30, O=10, UH=40, no partials, no ineligibles.
    # eligible = 160, unknown = 40; with e = 0.5 the e-weighted base is 160 + 20 = 180.
    counts = DispositionCounts(I=100, P=0, R=20, NC=30, O=10, UH=40, UO=0, NE=0)
    result = rates(counts, e=0.5)
    assert result.e == 0.5
    assert_rates(
        result,
        {
            "RR1": 100 / 200,
            "RR2": 100 / 200,
            "RR3": 100 / 180,
            "RR4": 100 / 180,
            "RR5": 100 / 160,
            "RR6": 100 / 160,
            "COOP1": 100 / 130,  # (I+P)+R+O = 130
            "COOP2": 100 / 130,
            "COOP3": 100 / 120,
            "COOP4": 100 / 120,
            "REF1": 20 / 200,
            "REF2": 20 / 180,
            "REF3": 20 / 160,
            "CON1": 130 / 200,  # 130 + 30 + 40
            "CON2": 130 / 180,  # 130 + 30 + 20
            "CON3": 130 / 160,
        },
    )


def test_estimated_e_is_one_without_ineligibles_so_rr3_equals_rr1() -> None:
    # Same JST table: every resolved case is eligible, e = 160/160 = 1.
    counts = DispositionCounts(I=100, P=0, R=20, NC=30, O=10, UH=40, UO=0, NE=0)
    estimated = rates(counts)
    assert estimated.e == 1.0
    assert estimated.RR3 == estimated.RR1 == 0.5
    assert estimated.REF2 == estimated.REF1 == 0.1
    assert estimated.CON2 == estimated.CON1 == 0.65
    assert rates(counts, e=0.5).RR3 != estimated.RR3


def test_rates_early_in_fieldwork_when_most_cases_are_unknown() -> None:
    # I=3, P=1, UH=50, UO=10, NE=2: eligible = 4, unknown = 60, e = 4/6 = 2/3, so
    # e*unknown = 40 exactly and the e-weighted base is 44.
    counts = DispositionCounts(I=3, P=1, R=0, NC=0, O=0, UH=50, UO=10, NE=2)
    result = rates(counts)
    assert result.e == pytest.approx(2 / 3)
    assert_rates(
        result,
        {
            "RR1": 3 / 64,
            "RR2": 4 / 64,
            "RR3": 3 / 44,
            "RR4": 4 / 44,
            "RR5": 3 / 4,
            "RR6": 1.0,
            "COOP1": 3 / 4,
            "COOP2": 1.0,
            "COOP3": 3 / 4,
            "COOP4": 1.0,
            "REF1": 0.0,
            "REF2": 0.0,
            "REF3": 0.0,
            "CON1": 4 / 64,
            "CON2": 4 / 44,
            "CON3": 1.0,
        },
    )


# --- zero denominators and e ----------------------------------------------------------------


def test_all_zero_counts_give_no_rate_and_no_e() -> None:
    result = rates(DispositionCounts())
    assert_rates(result, dict.fromkeys(RATE_NAMES))
    assert result.e is None
    assert estimate_e(DispositionCounts()) is None


def test_only_ineligible_cases_give_e_zero_and_no_rate() -> None:
    counts = DispositionCounts(NE=5)
    assert estimate_e(counts) == 0.0
    result = rates(counts)
    assert result.e == 0.0
    assert_rates(result, dict.fromkeys(RATE_NAMES))


def test_only_unknown_cases_leave_the_e_rates_undefined() -> None:
    # Nothing resolved, so e cannot be estimated: RR3, RR4, REF2, CON2 are None, not a guess;
    # the rates over all cases are 0 and the rates over eligible cases undefined.
    counts = DispositionCounts(UH=7, UO=3)
    result = rates(counts)
    assert result.e is None
    assert_rates(
        result,
        {
            "RR1": 0.0,
            "RR2": 0.0,
            "RR3": None,
            "RR4": None,
            "RR5": None,
            "RR6": None,
            "COOP1": None,
            "COOP2": None,
            "COOP3": None,
            "COOP4": None,
            "REF1": 0.0,
            "REF2": None,
            "REF3": None,
            "CON1": 0.0,
            "CON2": None,
            "CON3": None,
        },
    )


def test_only_unknown_cases_with_e_given_define_the_e_rates() -> None:
    counts = DispositionCounts(UH=7, UO=3)
    quarter = rates(counts, e=0.25)  # base 0 + 0.25 * 10 = 2.5
    assert (quarter.RR3, quarter.RR4, quarter.REF2, quarter.CON2) == (0.0, 0.0, 0.0, 0.0)
    zero = rates(counts, e=0.0)  # base 0: undefined again
    assert (zero.RR3, zero.RR4, zero.REF2, zero.CON2) == (None, None, None, None)


def test_only_refusals_give_zero_cooperation_and_full_refusal_rates() -> None:
    result = rates(DispositionCounts(R=4))
    assert (result.COOP1, result.COOP3, result.RR1, result.RR5) == (0.0, 0.0, 0.0, 0.0)
    assert (result.REF1, result.REF2, result.REF3) == (1.0, 1.0, 1.0)
    assert (result.CON1, result.CON3) == (1.0, 1.0)


def test_e_zero_makes_rr3_equal_rr5() -> None:
    counts = DispositionCounts(I=10, R=5, NC=5, UH=30)
    result = rates(counts, e=0.0)
    assert result.RR3 == result.RR5 == 0.5
    assert result.CON2 == result.CON3


@pytest.mark.parametrize("bad_e", [-0.1, 1.01, 2.0])
def test_e_outside_zero_to_one_is_refused(bad_e: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        rates(DispositionCounts(I=1), e=bad_e)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_negative_or_non_integer_counts_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="whole number"):
        DispositionCounts(I=bad)  # type: ignore[arg-type]


# --- codes and rows -------------------------------------------------------------------------


def test_from_codes_places_nested_codes_by_their_group() -> None:
    counts = DispositionCounts.from_codes(
        ["1.1", "1.2", "2.10", "2.113", "2.222", "2.31", "3.161", "3.21", "4.33", "4.90"]
    )
    assert counts == DispositionCounts(I=1, P=1, R=2, NC=1, O=1, UH=1, UO=1, NE=2)


@pytest.mark.parametrize("bad_code", ["", "1.3", "5.1", "2", "abc", "2.1a"])
def test_from_codes_refuses_text_that_is_not_an_aapor_code(bad_code: str) -> None:
    with pytest.raises(ValueError):
        DispositionCounts.from_codes(["1.1", bad_code])


def test_as_rows_lists_every_rate_with_its_formula_then_e() -> None:
    result = rates(DispositionCounts(I=40, P=5, R=10, NC=15, UH=20, NE=10))
    rows = result.as_rows()
    assert [name for name, _, _ in rows] == [*RATE_NAMES, "e"]
    assert rows[0] == ("RR1", result.RR1, "I / ((I+P) + (R+NC+O) + (UH+UO))")
    assert rows[-1][1] == 0.875
    assert all(formula for _, _, formula in rows)
    assert len(RATE_NAMES) == 16
    assert [f.name for f in fields(Rates)] == [*RATE_NAMES, "e"]


# --- properties -----------------------------------------------------------------------------

counts_strategy = st.builds(
    DispositionCounts,
    **{name: st.integers(0, 60) for name in ("I", "P", "R", "NC", "O", "UH", "UO", "NE")},
)
e_strategy = st.one_of(st.none(), st.floats(0, 1), st.fractions(0, 1).map(float))


def le(a: float | None, b: float | None) -> bool:
    """``a <= b`` where both are defined."""
    return a is None or b is None or a <= b


@given(counts_strategy, e_strategy)
def test_every_rate_is_a_share_between_zero_and_one(counts: DispositionCounts, e: float | None):
    result = rates(counts, e)
    for name, value, _ in result.as_rows():
        assert value is None or 0.0 <= value <= 1.0, name


@given(counts_strategy, e_strategy)
def test_rates_keep_aapors_orderings(counts: DispositionCounts, e: float | None) -> None:
    r = rates(counts, e)
    # Partials count as interviews in the even-numbered rates.
    assert le(r.RR1, r.RR2) and le(r.RR3, r.RR4) and le(r.RR5, r.RR6)
    assert le(r.COOP1, r.COOP2) and le(r.COOP3, r.COOP4)
    # Fewer cases in the denominator, higher rate: all unknowns >= e of them >= none.
    assert le(r.RR1, r.RR3) and le(r.RR3, r.RR5)
    assert le(r.RR2, r.RR4) and le(r.RR4, r.RR6)
    assert le(r.REF1, r.REF2) and le(r.REF2, r.REF3)
    assert le(r.CON1, r.CON2) and le(r.CON2, r.CON3)
    assert le(r.COOP1, r.COOP3) and le(r.COOP2, r.COOP4)
    # A cooperation rate is never below the response rate over the same interviews.
    assert le(r.RR5, r.COOP1) and le(r.RR6, r.COOP2)


@given(counts_strategy)
def test_estimated_e_is_used_when_none_is_given(counts: DispositionCounts) -> None:
    assert rates(counts).e == estimate_e(counts)
    estimated = estimate_e(counts)
    if estimated is not None:  # the same rates, up to the float rounding of e
        exact, given_e = rates(counts), rates(counts, estimated)
        for name in RATE_NAMES:
            assert getattr(exact, name) == pytest.approx(getattr(given_e, name)), name


@given(counts_strategy)
def test_rates_are_undefined_exactly_when_their_denominator_is_zero(counts: DispositionCounts):
    r = rates(counts)
    eligible = counts.I + counts.P + counts.R + counts.NC + counts.O
    assert (r.RR1 is None) == (eligible + counts.UH + counts.UO == 0)
    assert (r.RR5 is None) == (eligible == 0)
    assert (r.COOP1 is None) == (counts.I + counts.P + counts.R + counts.O == 0)
    assert (r.COOP3 is None) == (counts.I + counts.P + counts.R == 0)
