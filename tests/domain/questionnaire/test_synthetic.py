"""Synthetic answers obey each shipped questionnaire: complete, valid, reproducible."""

from __future__ import annotations

import random
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from app.domain.questionnaire.answers import Missing, answers_from_json, answers_to_json
from app.domain.questionnaire.expressions import Expression, parse
from app.domain.questionnaire.flow import PHONE, WEB, Flow, Mode
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.synthetic import SyntheticAnswers, generate_answers

SURVEYS = Path(__file__).resolve().parents[3] / "surveys"
SHIPPED = sorted(path.stem for path in SURVEYS.glob("*.yaml"))
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
        for item in flow.questionnaire.walk():
            if not item.type.is_question or not state.is_relevant(item.name):
                continue
            required = item.required
            if isinstance(required, Expression):
                required = required.evaluate_bool(state.context())
            if required:
                for var in flow.variables_of(item):
                    if state.is_relevant_variable(var.name):
                        assert generated.answers.get(var.name) is not None, (seed, var.name)


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
            if isinstance(value, tuple):
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
