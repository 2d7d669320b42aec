"""The monitoring plan file: reading, checking against questionnaires, and indicators."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from app.domain.check_files import check_paths, run_check
from app.domain.monitoring.indicators import Figure, Observation, compute
from app.domain.monitoring.plan import Measure, is_plan, load_plan
from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.model import Questionnaire

QUESTIONNAIRE = """
settings: {id: cis, title: CIS}
choices:
  typ:
    - {name: cis, label: CIS}
    - {name: kis, label: KIS}
  tak_nie:
    - {name: "1", label: Tak}
    - {name: "2", label: Nie}
survey:
  - {type: select_one typ, name: typ, label: Typ}
  - {type: integer, name: uczestnicy, label: Uczestnicy}
  - {type: integer, name: zatrudnieni, label: Zatrudnieni, relevant: "${uczestnicy} > 0"}
  - {type: select_one tak_nie, name: klauzule, label: Klauzule}
  - type: repeat
    name: partnerzy
    label: Partner
    children:
      - {type: text, name: nazwa, label: Nazwa}
"""

PLAN = """\
# the plan of the test region
plan:
  id: test_plan
  title: {pl: Plan testowy, en: Test plan}
areas:
  - {code: "1", name: {pl: Integracja, en: Integration}}
  - {code: "2", name: Współpraca}
indicators:
  - id: zatrudnieni_cis
    area: "1"
    name: {pl: Uczestnicy CIS zatrudnieni, en: CIS participants employed}
    unit: osoby
    questionnaire: cis
    measure: sum
    value: "${zatrudnieni}"
    filter: "${typ} = 'cis'"
    baseline: {year: 2024, value: 10}
    targets: {2025: 20, 2026: 40}
  - id: srednio_uczestnikow
    area: "1"
    name: Średnia liczba uczestników
    questionnaire: cis
    measure: mean
    value: "${uczestnicy}"
  - id: odsetek_klauzul
    area: "2"
    name: Odsetek stosujących klauzule
    questionnaire: cis
    measure: share
    value: "${klauzule} = '1'"
    targets: {2026: 50}
  - id: partnerstwa
    area: "2"
    name: Liczba partnerstw
    questionnaire: cis
    measure: sum
    value: "count(${partnerzy})"
  - id: jednostki
    area: "2"
    name: Jednostki z partnerami
    questionnaire: cis
    measure: count
    value: "count(${partnerzy}) > 0"
"""


def questionnaire() -> Questionnaire:
    result = load_definition(QUESTIONNAIRE.encode(), "cis.yaml")
    assert result.questionnaire is not None, result.problems
    return result.questionnaire


def test_a_plan_file_is_told_from_a_questionnaire():
    assert is_plan(PLAN.encode())
    assert not is_plan(QUESTIONNAIRE.encode())
    assert not is_plan(b"settings:\n  plan: x\n")


def test_a_good_plan_loads_with_its_indicators():
    result = load_plan(PLAN.encode(), "plan.yaml", {"cis": questionnaire()})
    assert result.problems == []
    plan = result.plan
    assert plan is not None
    assert [i.id for i in plan.indicators] == [
        "zatrudnieni_cis",
        "srednio_uczestnikow",
        "odsetek_klauzul",
        "partnerstwa",
        "jednostki",
    ]
    first = plan.indicators[0]
    assert first.measure is Measure.SUM
    assert first.targets == {2025: Decimal(20), 2026: Decimal(40)}
    assert first.baseline is not None and first.baseline.value == Decimal(10)
    assert first.name.get("en") == "CIS participants employed"
    assert plan.area("2") is not None and plan.area("2").name.get("pl") == "Współpraca"


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        ('    area: "1"\n    name: {pl: Uczestnicy', "plan.yaml:10", "area must be the code"),
        ('measure: sum\n    value: "${zatrudnieni}"', "plan.yaml:14", "measure must be one of"),
        ("${zatrudnieni}", "plan.yaml:15", "which questionnaire cis does not have"),
        ("2026: 40", "plan.yaml:18", "A value must be a number"),
        (
            'questionnaire: cis\n    measure: sum\n    value: "${zat',
            "plan.yaml:13",
            "no questionnaire",
        ),
        ("{year: 2024", "plan.yaml:17", "A year must be a whole number"),
        ("id: srednio_uczestnikow", "plan.yaml:19", "appears twice"),
        ("unit: osoby", "plan.yaml:12", "Unknown key"),
        ("${typ} = 'cis'", "plan.yaml:16", "unexpected"),
    ],
)
def test_each_mistake_is_reported_where_it_was_written(change, where, message):
    broken = {
        '    area: "1"\n    name: {pl: Uczestnicy': '    area: "9"\n    name: {pl: Uczestnicy',
        'measure: sum\n    value: "${zatrudnieni}"': 'measure: total\n    value: "${zatrudnieni}"',
        "${zatrudnieni}": "${zatrudnieni_x}",
        "2026: 40": "2026: czterdzieści",
        'questionnaire: cis\n    measure: sum\n    value: "${zat': (
            'questionnaire: cisx\n    measure: sum\n    value: "${zat'
        ),
        "{year: 2024": "{year: 24",
        "id: srednio_uczestnikow": "id: zatrudnieni_cis",
        "unit: osoby": "units: osoby",
        "${typ} = 'cis'": "${typ} = = 'cis'",
    }[change]
    text = PLAN.replace(change, broken, 1)
    result = load_plan(text.encode(), "plan.yaml", {"cis": questionnaire()})
    rendered = [problem.render() for problem in result.problems]
    assert result.plan is None
    assert any(line.startswith(where) and message in line for line in rendered), rendered


def test_surveys_check_checks_a_plan_against_the_questionnaires_beside_it(tmp_path: Path):
    (tmp_path / "cis.yaml").write_text(QUESTIONNAIRE, encoding="utf-8")
    (tmp_path / "plan.yaml").write_text(PLAN, encoding="utf-8")
    assert all(result.ok for result in check_paths([tmp_path]))
    (tmp_path / "plan.yaml").write_text(PLAN.replace("${uczestnicy}", "${brak}"), "utf-8")
    out = _Out()
    assert run_check([tmp_path / "plan.yaml"], out) == 1
    assert "plan.yaml:24: item srednio_uczestnikow: value refers to ${brak}" in out.text


class _Out:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)


def observations() -> list[Observation]:
    rows = [
        (
            {
                "typ": "cis",
                "uczestnicy": 10,
                "zatrudnieni": 4,
                "klauzule": "1",
                "partnerzy": ({"nazwa": "A"}, {"nazwa": "B"}),
            },
            "zachodni",
        ),
        ({"typ": "cis", "uczestnicy": 0, "zatrudnieni": 9, "klauzule": "2"}, "zachodni"),
        ({"typ": "cis", "uczestnicy": 6, "klauzule": "1", "partnerzy": ({},)}, "polnocny"),
        ({"typ": "kis", "uczestnicy": 8, "zatrudnieni": 2}, "polnocny"),
        ({"typ": "cis", "uczestnicy": 5, "zatrudnieni": 1, "klauzule": "2"}, None),
    ]
    return [Observation(answers, {"subregion": sub} if sub else {}) for answers, sub in rows]


def test_indicators_equal_hand_computed_values_overall_and_by_subregion():
    q = questionnaire()
    plan = load_plan(PLAN.encode(), "plan.yaml", {"cis": q}).plan
    assert plan is not None
    flow = Flow(q)
    results = {
        i.id: compute(i, flow, observations(), year=2026, today=date(2026, 12, 5))
        for i in plan.indicators
    }
    # sum of employed, CIS only: 4 + (9 is not asked: 0 participants) + missing + 1
    employed = results["zatrudnieni_cis"]
    assert employed.overall == Figure(5.0, 4, 2)
    assert employed.by_subregion == {
        "": Figure(1.0, 1, 0),
        "polnocny": Figure(None, 1, 1),
        "zachodni": Figure(4.0, 2, 1),
    }
    assert employed.target == Decimal(40)
    assert employed.achieved == pytest.approx(12.5)
    mean = results["srednio_uczestnikow"]
    assert mean.overall == Figure((10 + 0 + 6 + 8 + 5) / 5, 5, 0)
    share = results["odsetek_klauzul"]  # 2 of 4 answered; the KIS one left it empty
    assert share.overall == Figure(50.0, 5, 1)
    assert share.achieved == pytest.approx(100.0)
    assert results["partnerstwa"].overall == Figure(3.0, 5, 0)
    assert results["partnerstwa"].by_subregion["zachodni"].value == 2.0
    assert results["jednostki"].overall == Figure(2.0, 5, 0)
    assert results["srednio_uczestnikow"].achieved is None  # no target


def test_the_change_from_the_previous_period():
    q = questionnaire()
    plan = load_plan(PLAN.encode(), "plan.yaml", {"cis": q}).plan
    assert plan is not None
    result = compute(
        plan.indicators[0], Flow(q), observations(), year=2026, previous=Figure(3.0, 4, 0)
    )
    assert result.change == pytest.approx(2.0)
    nothing = compute(plan.indicators[0], Flow(q), [], year=2026)
    assert nothing.overall == Figure(None, 0, 0)
    assert nothing.change is None and nothing.achieved is None
