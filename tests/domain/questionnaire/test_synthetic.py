"""Synthetic answers obey each shipped questionnaire: complete, valid, reproducible."""

from __future__ import annotations

import random
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from app.domain.questionnaire.answers import (
    Missing,
    VariableKind,
    answers_from_json,
    answers_to_json,
)
from app.domain.questionnaire.expressions import Expression, parse
from app.domain.questionnaire.flow import PHONE, WEB, Flow, Mode, State
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.synthetic import SyntheticAnswers, generate_answers
from tests.support import shipped_questionnaires

SURVEYS = Path(__file__).resolve().parents[3] / "surveys"
SHIPPED = [path.stem for path in shipped_questionnaires(SURVEYS)]
TODAY = date(2026, 3, 31)
SAMPLE = {"name": "Gmina Testowo", "entity_type": "CIS", "subregion": "poludniowy", "rok": 2025}
SEEDS = range(12)


@cache
def load(name: str) -> Flow:
    result = load_definition(SURVEYS / f"{name}.yaml")
    assert result.questionnaire is not None, [str(problem) for problem in result.problems]
    return Flow(result.questionnaire)


def generate(name: str, seed: int, mode: Mode) -> SyntheticAnswers:
    return generate_answers(
        load(name), sample=SAMPLE, today=TODAY, rng=random.Random(seed), mode=mode
    )


def test_every_shipped_questionnaire_is_covered() -> None:
    assert len(SHIPPED) >= 4


@pytest.mark.parametrize("mode", [WEB, PHONE])
@pytest.mark.parametrize("name", SHIPPED)
def test_generated_answers_are_complete_and_break_no_rule(name: str, mode: Mode) -> None:
    flow = load(name)
    for seed in SEEDS:
        generated = generate(name, seed, mode)
        state = flow.state(generated.answers, sample=SAMPLE, today=TODAY)
        assert generated.complete, (seed, generated.last_page)
        assert flow.is_complete(state)
        assert flow.problems(state) == {}, seed
        assert generated.last_page is not None
        # nothing is stored that the flow would leave out: every answer is relevant
        assert set(generated.answers) == {
            name for name in flow.clean_answers(state) if name in generated.answers
        }
        assert _unanswered_required(flow, state, "") == [], seed


def _unanswered_required(flow: Flow, state: State, where: str) -> list[str]:
    """The relevant required questions left empty, in the response and in every instance
    of its lists (``R.2.x``)."""
    empty = []
    for name, var in flow.variables.items():  # this scope's: a list is one variable
        item = var.item
        if var.kind is VariableKind.REPEAT:
            inner = flow.repeat_flows[name]
            for number, instance in enumerate(state.instances(name), 1):
                empty += _unanswered_required(inner, instance, f"{where}{name}.{number}.")
            continue
        if not item.type.is_question or not state.is_relevant_variable(name):
            continue
        required = item.required
        if isinstance(required, Expression):
            required = required.evaluate_bool(state.context())
        if required and state.answers.get(name) is None:
            empty.append(where + name)
    return empty


@pytest.mark.parametrize("name", SHIPPED)
def test_the_same_seed_gives_the_same_answers(name: str) -> None:
    for seed in (1, 7):
        for mode in (WEB, PHONE):
            assert generate(name, seed, mode) == generate(name, seed, mode)
    assert any(generate(name, 1, WEB).answers != generate(name, s, WEB).answers for s in SEEDS)


@pytest.mark.parametrize("name", SHIPPED)
def test_generated_answers_survive_storage(name: str) -> None:
    flow = load(name)
    answers = generate(name, 3, PHONE).answers
    stored = answers_to_json(flow.questionnaire, answers)
    assert answers_from_json(flow.questionnaire, stored, flow.variables) == answers


def _values(name: str, mode: Mode) -> list[Any]:
    return [v for seed in range(30) for v in generate(name, seed, mode).answers.values()]


def test_dont_know_and_refused_only_where_allowed() -> None:
    # the shipped surveys allow them on the phone only (the default)
    assert not any(isinstance(v, Missing) for v in _values("monitoring_cis_kis", WEB))
    assert any(isinstance(v, Missing) for v in _values("monitoring_cis_kis", PHONE))


def test_values_look_like_answers() -> None:
    flow = load("monitoring_cis_kis")
    answers = [generate("monitoring_cis_kis", seed, WEB).answers for seed in SEEDS]
    for given in answers:
        for name, value in given.items():
            if isinstance(value, date):
                assert value <= TODAY
            if flow.variables[name].kind is VariableKind.REPEAT:  # the list of partners
                assert 1 <= len(value) <= 5  # open, at most 10: a few instances
                assert all(partner["partner_nazwa"].startswith("Odpowiedź") for partner in value)
            elif isinstance(value, tuple):
                assert 1 <= len(value) <= 3
            if isinstance(value, str) and flow.variables[name].value_type.value == "text":
                assert value.startswith(("Odpowiedź", "Inna odpowiedź"))


def test_an_unsatisfiable_page_gives_a_partial_result() -> None:
    result = load_definition(SURVEYS / "monitoring_cis_kis.yaml")
    assert result.questionnaire is not None
    flow = Flow(result.questionnaire)  # a copy of its own: the cached one stays intact
    year = flow.questionnaire.item("a3")
    year.constraint = parse(". > 10 and . < 5")
    generated = generate_answers(flow, sample=SAMPLE, today=TODAY, rng=random.Random(1), mode=WEB)
    assert not generated.complete
    assert "a3" not in generated.answers
    page = flow.page(WEB, generated.last_page) if generated.last_page else None
    assert page is None or year not in page.items


LISTS = """\
settings: {id: listy, title: Listy, languages: [pl]}
choices:
  typ:
    - {name: ngo, label: Organizacja pozarządowa}
    - {name: firma, label: Firma}
survey:
  - {type: integer, name: liczba, label: Ilu pracowników?, required: yes,
     constraint: ". >= 0 and . <= 6"}
  - type: repeat
    name: partnerzy
    label: Partner
    repeat_min: 2
    repeat_max: 4
    instance_label: nazwa
    children:
      - {type: text, name: nazwa, label: Nazwa, required: yes}
      - {type: select_one typ, name: typ_partnera, label: Typ, required: yes}
      - {type: integer, name: miejsca, label: Miejsca pracy, required: yes,
         relevant: "${typ_partnera} = 'firma'", constraint: ". >= 1 and . <= ${liczba} + 1"}
      - type: repeat
        name: etaty
        label: Etat
        relevant: "${typ_partnera} = 'firma'"
        children:
          - {type: text, name: stanowisko, label: Stanowisko, required: yes}
          - {type: calculate, name: nr_etatu, calculation: "position(..)"}
  - type: group
    name: kadra
    label: Kadra
    children:
      - type: repeat
        name: pracownicy
        label: Pracownik
        repeat_count: "${liczba}"
        children:
          - {type: text, name: stanowisko_pracownika, label: Stanowisko, required: yes}
      - type: repeat
        name: kwartaly
        label: Kwartał
        repeat_count: 4
        children:
          - {type: decimal, name: kwota, label: Kwota, required: yes, constraint: ". <= 100"}
  - {type: calculate, name: miejsca_razem, calculation: "sum(${miejsca})"}
  - {type: integer, name: zatrudnieni, label: Ilu zatrudniono?, required: yes,
     constraint: ". <= ${miejsca_razem}"}
"""


def _number(value: Any) -> Any:
    return 0 if isinstance(value, Missing) else value


@cache
def lists_flow() -> Flow:
    result = load_definition(LISTS.encode(), "listy.yaml")
    assert result.questionnaire is not None, [str(problem) for problem in result.problems]
    return Flow(result.questionnaire)


@pytest.mark.parametrize("mode", [WEB, PHONE])
def test_generated_lists_obey_counts_bounds_and_relevance_in_every_instance(mode: Mode) -> None:
    flow = lists_flow()
    open_counts, job_counts = set(), set()
    for seed in range(20):
        generated = generate_answers(
            flow, sample=SAMPLE, today=TODAY, rng=random.Random(seed), mode=mode
        )
        answers = generated.answers
        state = flow.state(answers, sample=SAMPLE, today=TODAY)
        assert generated.complete, (seed, generated.last_page)
        assert flow.problems(state) == {}, seed
        partners = answers["partnerzy"]
        assert 2 <= len(partners) <= 4  # repeat_min and repeat_max
        open_counts.add(len(partners))
        liczba = _number(answers["liczba"])  # don't know / refused (phone) count as empty
        for partner in partners:
            if partner["typ_partnera"] == "firma":
                assert isinstance(partner["miejsca"], Missing) or (
                    1 <= partner["miejsca"] <= liczba + 1
                )
                assert 1 <= len(partner["etaty"]) <= 5  # unbounded: a few
                job_counts.add(len(partner["etaty"]))
                assert all(job["stanowisko"] for job in partner["etaty"])
            else:  # irrelevant in this instance: nothing stored
                assert "miejsca" not in partner and "etaty" not in partner
        assert len(answers.get("pracownicy", ())) == liczba  # repeat_count: ${liczba}
        assert len(answers["kwartaly"]) == 4  # repeat_count: 4
        assert all(_number(instance["kwota"]) <= 100 for instance in answers["kwartaly"])
        assert _number(answers["zatrudnieni"]) <= sum(
            _number(p.get("miejsca", 0)) for p in partners
        )
        clean = flow.clean_answers(state)
        for partner in clean["partnerzy"]:
            assert [job["nr_etatu"] for job in partner.get("etaty", ())] == list(
                range(1, len(partner.get("etaty", ())) + 1)
            )
    assert len(open_counts) > 1 and len(job_counts) > 1  # drawn, not always the same


def test_generated_lists_are_reproducible_and_survive_storage() -> None:
    flow = lists_flow()
    first = generate_answers(flow, sample=SAMPLE, today=TODAY, rng=random.Random(5), mode=WEB)
    again = generate_answers(flow, sample=SAMPLE, today=TODAY, rng=random.Random(5), mode=WEB)
    assert first == again
    stored = answers_to_json(flow.questionnaire, first.answers)
    assert answers_from_json(flow.questionnaire, stored, flow.variables) == first.answers
