"""A question's default expression (XLSForm's dynamic default, our ``default_expression``):
computed when the question is shown without an answer, as its field holds it; never over
an answer; checked like any expression (known names, earlier answers only)."""

from __future__ import annotations

from datetime import date, datetime

from app.domain.dates import WARSAW
from app.domain.questionnaire.flow import PHONE, WEB, Flow
from app.domain.questionnaire.loading import load_definition

TODAY = date(2026, 3, 31)
MORNING = datetime(2026, 3, 31, 8, 15, 0, tzinfo=WARSAW)

FORM = """\
settings: {id: dyn, title: Dyn, languages: [pl], paging: item}
survey:
  - {type: integer, name: rok, label: Rok}
  - {type: integer, name: nastepny, label: Następny, default_expression: "${rok} + 1"}
  - {type: decimal, name: polowa, label: Połowa, default_expression: "${rok} div 4"}
  - {type: date, name: dzien, label: Dzień, default_expression: "today()"}
  - {type: time, name: godzina, label: Godzina, default_expression: "now()"}
  - {type: datetime, name: chwila, label: Chwila, default_expression: "now()"}
  - {type: text, name: opis, label: Opis, default_expression: "concat('Rok ', ${rok})"}
  - {type: select_multiple kolory, name: kolory, label: Kolory, default_expression: "'r g'"}
  - {type: text, name: puste, label: Puste, default_expression: "if(${rok} > 3000, 'x', '')"}
choices:
  kolory:
    - {name: r, label: Czerwony}
    - {name: g, label: Zielony}
    - {name: b, label: Niebieski}
"""


def _flow(text: str = FORM) -> Flow:
    loaded = load_definition(text.encode(), "dyn.yaml")
    assert loaded.questionnaire is not None, [str(p) for p in loaded.problems]
    return Flow(loaded.questionnaire)


def _shown(flow: Flow, page: str, answers: dict, mode=WEB) -> dict[str, list[str]]:
    state = flow.state(answers, sample={}, today=TODAY, now=MORNING)
    return flow.form_values(flow.page(mode, page), state)


def test_each_type_gets_its_default_as_its_field_holds_it() -> None:
    flow = _flow()
    answers = {"rok": 2025}
    assert _shown(flow, "nastepny", answers) == {"nastepny": ["2026"]}
    assert _shown(flow, "polowa", answers) == {"polowa": ["506.25"]}
    assert _shown(flow, "dzien", answers) == {"dzien": ["2026-03-31"]}
    assert _shown(flow, "godzina", answers) == {"godzina": ["08:15"]}
    assert _shown(flow, "chwila", answers) == {"chwila": ["2026-03-31T08:15"]}
    assert _shown(flow, "opis", answers) == {"opis": ["Rok 2025"]}
    assert _shown(flow, "kolory", answers) == {"kolory": ["r", "g"]}
    assert _shown(flow, "puste", answers) == {}  # no value: the field starts empty
    assert _shown(flow, "nastepny", answers, PHONE) == {"nastepny": ["2026"]}


def test_an_answer_is_never_replaced_by_the_default() -> None:
    flow = _flow()
    assert _shown(flow, "nastepny", {"rok": 2025, "nastepny": 7}) == {"nastepny": ["7"]}


def test_the_default_is_a_suggestion_the_page_checks_like_any_answer() -> None:
    flow = _flow()
    fields = _shown(flow, "chwila", {"rok": 2025})
    result = flow.validate_page(
        flow.page(WEB, "chwila"), fields, {"rok": 2025}, mode=WEB, sample={}, today=TODAY
    )
    assert result.ok, result.errors
    assert result.apply({"rok": 2025})["chwila"] == MORNING


def test_a_default_expression_is_checked_like_other_expressions() -> None:
    later = FORM.replace('default_expression: "${rok} + 1"', 'default_expression: "${polowa}"')
    loaded = load_definition(later.encode(), "dyn.yaml")
    assert loaded.questionnaire is None
    assert any(
        "default_expression refers to ${polowa}, which comes later" in str(p)
        for p in loaded.problems
    ), [str(p) for p in loaded.problems]
    both = FORM.replace(
        'default_expression: "today()"}', 'default_expression: "today()", default: "2026-01-01"}'
    )
    problems = [str(p) for p in load_definition(both.encode(), "dyn.yaml").problems]
    assert any("either a default or a default_expression" in p for p in problems), problems
    broken = FORM.replace('"${rok} + 1"', '"${rok} +"')
    problems = [str(p) for p in load_definition(broken.encode(), "dyn.yaml").problems]
    assert any("dyn.yaml:4" in p and "default_expression" in p for p in problems), problems
