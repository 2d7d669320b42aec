"""The monitoring report's figures, checked against small datasets computed by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from app.domain.outputs.report import (
    NO_VALUE,
    ClosedTable,
    NumericSummary,
    NumericTable,
    build_report,
    response_rates,
)
from app.domain.questionnaire.answers import DONT_KNOW, REFUSED, answers_from_json
from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.loading import load_definition

DEFINITION = """
settings:
  id: raport_test
  title: {pl: "Test raportu", en: "Report test"}
  languages: [pl, en]
  dont_know: yes
  refused: yes
  dont_know_code: -8
  refused_code: -9
choices:
  tak_nie:
    - {name: "1", label: {pl: "Tak", en: "Yes"}}
    - {name: "2", label: {pl: "Nie", en: "No"}}
  formy:
    - {name: a, label: {pl: "Szkolenia", en: "Training"}}
    - {name: b, label: {pl: "Doradztwo", en: "Advice"}}
    - {name: c, label: {pl: "Inne", en: "Other"}}
survey:
  - type: select_one tak_nie
    name: q1
    label: {pl: "Czy jednostka działała?", en: "Was the unit active?"}
  - type: select_multiple formy
    name: q2
    label: {pl: "Formy wsparcia", en: "Forms of support"}
    relevant: "${q1} = '1'"
  - type: integer
    name: q3
    label: {pl: "Liczba uczestników", en: "Participants"}
    relevant: "${q1} = '1'"
  - type: decimal
    name: q4
    label: {pl: "Etaty", en: "Posts"}
  - type: calculate
    name: q3x2
    calculation: "${q3} * 2"
  - type: calculate
    name: label_text
    calculation: "concat('x', ${q1})"
  - type: matrix tak_nie
    name: m
    label: {pl: "Oceny", en: "Ratings"}
    rows:
      - {name: r1, label: {pl: "Wiersz 1", en: "Row 1"}}
      - {name: r2, label: {pl: "Wiersz 2", en: "Row 2"}}
"""


@pytest.fixture(scope="module")
def flow() -> Flow:
    result = load_definition(DEFINITION.encode(), "raport_test.yaml")
    assert result.questionnaire is not None, [str(p) for p in result.problems]
    return Flow(result.questionnaire)


def record(flow: Flow, data: dict[str, Any], subregion: str | None) -> tuple[dict, dict]:
    """(clean answers, sample variables) of stored answers, as the service makes them."""
    answers = answers_from_json(flow.questionnaire, data, flow.variables)
    state = flow.state(answers, sample={}, today=date(2026, 3, 31))
    sample = {} if subregion is None else {"subregion": subregion}
    return flow.clean_answers(state), sample


DK = DONT_KNOW.to_json()
RF = REFUSED.to_json()


@pytest.fixture(scope="module")
def records(flow: Flow) -> list[tuple[dict, dict]]:
    return [
        # north: two responses
        record(flow, {"q1": "1", "q2": ["a", "b"], "q3": 10, "q4": "1.5", "m_r1": "1"}, "north"),
        record(flow, {"q1": "1", "q2": ["a"], "q3": 3, "q4": "2", "m_r1": "2"}, "north"),
        # south: q1 "No", so q2 and q3 are not asked (their stored answers are ignored)
        record(flow, {"q1": "2", "q2": ["c"], "q3": 99, "q4": DK, "m_r1": "1"}, "south"),
        record(flow, {"q1": "1", "q2": RF, "q3": DK, "q4": "0.5"}, "south"),
        record(flow, {"q1": DK, "q4": "4"}, "south"),
        # an open-link response: no sample, hence no subregion
        record(flow, {"q1": "1", "q2": ["b", "c"], "q3": 7}, None),
    ]


def test_closed_counts_percentages_and_dk_rf_rows(flow, records):
    report = build_report(flow, records)
    q1 = report.table("q1")
    assert isinstance(q1, ClosedTable)
    assert [r.code for r in q1.rows] == ["1", "2", -8, -9]
    assert q1.overall.base == 6
    assert [q1.overall.count(r.key) for r in q1.rows] == [4, 1, 1, 0]
    assert q1.overall.share("1") == pytest.approx(4 / 6)
    assert q1.overall.share("refused") == 0
    assert report.responses == 6


def test_not_asked_is_left_out_of_the_base(flow, records):
    q2 = build_report(flow, records).table("q2")
    assert isinstance(q2, ClosedTable) and q2.multiple
    # asked in 4 responses (q1 = "1"); the "c" stored under q1 = "2" does not count
    assert q2.overall.base == 4
    assert {r.key: q2.overall.count(r.key) for r in q2.rows} == {
        "a": 2,
        "b": 2,
        "c": 1,
        "dont_know": 0,
        "refused": 1,
    }
    assert q2.overall.share("a") == 0.5  # shares of a multiple choice may add up beyond 1


def test_matrix_rows_are_tables_of_their_own(flow, records):
    report = build_report(flow, records)
    r1, r2 = report.table("m_r1"), report.table("m_r2")
    assert isinstance(r1, ClosedTable) and isinstance(r2, ClosedTable)
    assert r1.row_label is not None and r1.row_label.get("en") == "Row 1"
    assert r1.overall.base == 3 and r1.overall.count("1") == 2 and r1.overall.count("2") == 1
    assert r2.overall.base == 0 and r2.overall.share("1") is None


def test_numeric_summaries(flow, records):
    report = build_report(flow, records)
    q3 = report.table("q3")
    assert isinstance(q3, NumericTable)
    # asked and answered: 10, 3, 7; one don't know; the 99 was not asked
    assert q3.overall == NumericSummary(
        n=3,
        sum=Decimal(20),
        mean=Decimal(20) / 3,
        median=Decimal(7),
        min=Decimal(3),
        max=Decimal(10),
        dont_know=1,
        refused=0,
    )
    q4 = report.table("q4")
    assert isinstance(q4, NumericTable)
    # 1.5, 2, 0.5, 4: even n, the median is the mean of 1.5 and 2
    assert q4.overall.n == 4
    assert q4.overall.sum == Decimal("8.0")
    assert q4.overall.mean == Decimal("2")
    assert q4.overall.median == Decimal("1.75")
    assert (q4.overall.min, q4.overall.max) == (Decimal("0.5"), Decimal(4))
    assert q4.overall.dont_know == 1


def test_numeric_calculations_are_included_and_text_ones_left_out(flow, records):
    report = build_report(flow, records)
    doubled = report.table("q3x2")
    assert isinstance(doubled, NumericTable)
    assert doubled.overall.n == 3 and doubled.overall.sum == Decimal(40)
    assert doubled.overall.median == Decimal(14)
    with pytest.raises(KeyError):
        report.table("label_text")


def test_breakdown_with_an_empty_group_and_responses_without_sample(flow, records):
    report = build_report(flow, records, by="subregion", groups=["east", "north", "south"])
    assert report.groups == ("east", "north", "south", NO_VALUE)
    assert report.responses_by_group == {"east": 0, "north": 2, "south": 3, NO_VALUE: 1}
    q1 = report.table("q1")
    assert isinstance(q1, ClosedTable)
    east, north, south = q1.groups["east"], q1.groups["north"], q1.groups["south"]
    assert east.base == 0 and east.share("1") is None
    assert (north.base, north.count("1"), north.share("1")) == (2, 2, 1.0)
    assert (south.base, south.count("1"), south.count("2"), south.count("dont_know")) == (
        3,
        1,
        1,
        1,
    )
    assert q1.groups[NO_VALUE].count("1") == 1
    q3 = report.table("q3")
    assert isinstance(q3, NumericTable)
    assert q3.groups["east"] == NumericSummary()
    assert q3.groups["north"].median == Decimal("6.5")  # 3 and 10
    assert q3.groups["south"] == NumericSummary(dont_know=1)
    assert q3.groups[NO_VALUE].n == 1


def test_no_responses_at_all(flow):
    report = build_report(flow, [], by="subregion", groups=["north"])
    q1 = report.table("q1")
    assert isinstance(q1, ClosedTable)
    assert q1.overall.base == 0 and q1.groups["north"].share("1") is None
    q4 = report.table("q4")
    assert isinstance(q4, NumericTable) and q4.overall == NumericSummary()
    with pytest.raises(KeyError):  # a calculation with no value cannot be typed
        report.table("q3x2")


def test_median_odd_and_even():
    assert NumericSummary.of([Decimal(5), Decimal(1), Decimal(3)]).median == Decimal(3)
    assert NumericSummary.of([Decimal(4), Decimal(1), Decimal(3), Decimal(2)]).median == Decimal(
        "2.5"
    )
    assert NumericSummary.of([Decimal(-2)]).median == Decimal(-2)


def test_response_rates_per_group():
    units = [
        ({"subregion": "north"}, True),
        ({"subregion": "north"}, False),
        ({"subregion": "south"}, False),
        ({"subregion": "north"}, True),
        ({"subregion": ""}, True),
    ]
    overall, *groups = response_rates(units, by="subregion")
    assert (overall.group, overall.sample_size, overall.complete) == (None, 5, 3)
    assert overall.rate == 0.6
    assert [(r.group, r.sample_size, r.complete) for r in groups] == [
        ("north", 3, 2),
        ("south", 1, 0),
        (NO_VALUE, 1, 1),
    ]
    assert groups[0].rate == pytest.approx(2 / 3)
    assert groups[1].rate == 0
    assert response_rates([], by="subregion")[0].rate is None
    assert len(response_rates(units)) == 1


# --- repeats: counts and sums over entries ------------------------------------------------------


def test_a_repeat_s_variables_are_counted_and_summed_over_entries_by_group():
    from tests.support.exports import REPEATS_DEFINITION

    loaded = load_definition(REPEATS_DEFINITION)
    assert loaded.questionnaire is not None, loaded.problems
    q = loaded.questionnaire
    flow = Flow(q)
    stored = [
        # (subregion, stored answers)
        (
            "centralny",
            {
                "partnerzy": [
                    {"nazwa": "A", "typ_partnera": "firma", "miejsca": 3},
                    {"nazwa": "B", "typ_partnera": "ngo", "miejsca": 9},  # irrelevant: no job
                    {"nazwa": "C", "typ_partnera": "firma", "miejsca": 2, "etaty": [{}, {}]},
                ]
            },
        ),
        ("rybnicki", {"partnerzy": [{"typ_partnera": "firma", "miejsca": 5}]}),
        ("centralny", {"partnerzy": [{"typ_partnera": "jst"}, {"formy": {"missing": "refused"}}]}),
    ]
    records = []
    for subregion, data in stored:
        answers = answers_from_json(q, data, flow.variables)
        state = flow.state(answers, sample={}, today=date(2026, 3, 1))
        records.append((flow.clean_answers(state), {"subregion": subregion}))
    report = build_report(flow, records, by="subregion", groups=["centralny", "rybnicki"])

    types = report.table("typ_partnera")
    assert isinstance(types, ClosedTable) and types.repeat == "partnerzy"
    assert types.overall.base == 5  # entries with a type, not responses
    assert (types.overall.count("firma"), types.overall.count("ngo")) == (3, 1)
    central = types.groups["centralny"]
    assert (central.base, central.count("firma"), central.count("jst")) == (4, 2, 1)
    assert types.groups["rybnicki"].count("firma") == 1
    assert report.table("formy").overall.count("refused") == 1

    jobs = report.table("miejsca")
    assert isinstance(jobs, NumericTable) and jobs.repeat == "partnerzy"
    assert (jobs.overall.n, jobs.overall.sum) == (3, Decimal(10))
    assert jobs.groups["centralny"].sum == Decimal(5) and jobs.groups["rybnicki"].sum == 5
    # the list's own table: its number of entries per response, summed
    counted = report.table("partnerzy")
    assert isinstance(counted, NumericTable) and counted.entries and counted.repeat is None
    assert (counted.overall.n, counted.overall.sum) == (3, Decimal(6))
    assert counted.groups["centralny"].sum == 5 and counted.groups["rybnicki"].sum == 1
    nested = report.table("etaty")
    assert nested.repeat == "partnerzy" and nested.overall.sum == 2  # C's two jobs
    # a nested repeat's entries count the same way, and a response's own variable does not
    assert report.table("wymiar").repeat == "etaty"
    assert report.table("liczba").repeat is None
    # tables in questionnaire order: a repeat's where the repeat is
    order = [t.variable for t in report.tables]
    assert order.index("liczba") < order.index("typ_partnera") < order.index("suma")


def test_disposition_counts_count_cases_per_code_overall_and_by_group():
    from app.domain.outputs.report import disposition_counts

    cases = [
        ({"subregion": "centralny"}, "1.1"),
        ({"subregion": "centralny"}, "2.112"),
        ({"subregion": "południowy"}, "2.12"),
        ({}, "3.11"),  # an institution without a subregion
        ({"subregion": "centralny"}, None),  # no code: not counted
    ]
    table = disposition_counts(cases, by="subregion")
    assert table.codes == ("1.1", "2.112", "2.12", "3.11")  # AAPOR's order
    assert table.overall == {"1.1": 1, "2.112": 1, "2.12": 1, "3.11": 1}
    assert list(table.groups) == ["centralny", "południowy", ""]  # no value last
    assert table.groups["centralny"] == {"1.1": 1, "2.112": 1}
