"""The known answers a page sends its script: what the flow's clean answers give, for every
name the script can look up (some expression or ``${name}`` text refers to it) and every
list; nothing else."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest

from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.synthetic import generate_answers
from app.interview.pages import _json_value, _node_sets, expression_values
from tests.support import shipped_questionnaires

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = [
    *shipped_questionnaires(ROOT / "surveys"),
    *sorted(
        path
        for path in (ROOT / "tests" / "xlsforms").glob("*.xlsx")
        if not path.name.startswith(("broken_", "differs_"))  # refused, or read differently
    ),
]


def _all_clean(flow: Flow, state) -> dict:
    """Every clean answer as the script reads it (what the page sent before)."""
    result: dict = {}
    for name, value in flow.clean_answers(state).items():
        if name in flow.repeat_flows:
            result.update(_node_sets(flow.repeat_flows[name], name, value))
        else:
            result[name] = _json_value(value)
    return result


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.stem)
def test_known_answers_are_the_clean_answers_the_script_can_read(path: Path) -> None:
    loaded = load_definition(path)  # (with the files beside it that it reads)
    assert loaded.questionnaire is not None, loaded.problems
    flow = Flow(loaded.questionnaire)
    rng = random.Random(path.stem)
    read = flow.referenced_names
    lists: set[str] = set()  # a list's names, nested lists' too, read as node-sets
    scopes = list(flow.repeat_flows.items())
    while scopes:
        name, repeat = scopes.pop()
        lists |= {name, *repeat.variables}
        scopes.extend(repeat.repeat_flows.items())
    for n in range(40):
        today = date(2026, 1 + n % 12, 1 + n % 28)
        made = generate_answers(flow, sample={}, today=today, rng=rng, mode="web")
        whole = _all_clean(flow, flow.state(made.answers, sample={}, today=today))
        sent = expression_values(flow, flow.state(made.answers, sample={}, today=today))
        expected = {k: v for k, v in whole.items() if k in read or k in lists}
        assert sent == expected


def test_names_in_conditions_calculations_filters_and_texts_are_read() -> None:
    loaded = load_definition(
        b"""
settings: {id: czytane, title: Czytane, languages: [pl]}
choices:
  tn: [{name: "1", label: Tak}, {name: "2", label: Nie}]
survey:
  - {type: integer, name: a, label: A}
  - {type: integer, name: b, label: "B: ${a}"}
  - {type: select_one tn, name: c, label: C, relevant: "${b} > 1"}
  - {type: calculate, name: d, calculation: "${c} + 1"}
  - {type: integer, name: e, label: E, constraint: ". < ${d}"}
  - {type: select_one tn, name: f, label: F, choice_filter: "name != ${e}"}
  - {type: text, name: g, label: G}
""",
        "czytane.yaml",
    )
    assert loaded.questionnaire is not None, loaded.problems
    assert Flow(loaded.questionnaire).referenced_names == {"a", "b", "c", "d", "e"}
