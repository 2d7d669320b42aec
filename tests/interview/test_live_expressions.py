"""What the page's script gets to evaluate: trees carrying the choice labels they look up."""

from __future__ import annotations

import json
from datetime import date

from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.loading import load_definition
from app.interview.pages import PageBuilder, live_calculations

FORM = """\
settings:
  id: etykiety
  title: Etykiety
  languages: [pl]
choices:
  formy:
    - {name: ngo, label: Fundacja}
    - {name: coop, label: Spółdzielnia}
survey:
  - type: group
    name: strona
    label: Strona
    children:
      - {type: select_one formy, name: forma, label: Forma}
      - type: text
        name: opis
        label: Opis
        relevant: "jr:choice-name(${forma}, '${forma}') = 'Fundacja'"
      - {type: calculate, name: nazwa, calculation: "jr:choice-name(${forma}, '${forma}')"}
"""


def _flow() -> Flow:
    loaded = load_definition(FORM.encode(), "q.yaml")
    assert loaded.questionnaire is not None, [p.render() for p in loaded.problems]
    return Flow(loaded.questionnaire)


def test_calculations_for_the_page_carry_the_labels_jr_choice_name_reads() -> None:
    (calculation,) = live_calculations(_flow())
    assert calculation["calculation"]["labels"] == {"ngo": "Fundacja", "coop": "Spółdzielnia"}


def test_a_relevance_on_the_page_carries_the_labels_and_the_browser_agrees() -> None:
    flow = _flow()
    state = flow.state({"forma": "ngo"}, sample={}, today=date(2026, 3, 31))
    (page,) = flow.pages("web")
    builder = PageBuilder(
        flow,
        state,
        language="pl",
        mode="web",
        gettext=lambda text: text,
        values=flow.form_values(page, state),
        errors={},
    )
    views = {view.name: view for view in builder.page(page)}
    tree = json.loads(views["opis"].relevance_tree)
    assert tree["left"]["labels"] == {"ngo": "Fundacja", "coop": "Spółdzielnia"}
    assert state.is_relevant("opis") and state.answer("nazwa") == "Fundacja"


def test_the_page_script_does_not_recompute_a_kept_calculation() -> None:
    text = """\
settings: {id: k, title: K, languages: [pl]}
survey:
  - {type: text, name: a, label: A}
  - {type: calculate, name: start, calculation: "once(now())"}
  - {type: calculate, name: length, calculation: "string-length(${a})"}
  - {type: calculate, name: key, calculation: "uuid(8)"}
"""
    loaded = load_definition(text.encode(), "k.yaml")
    assert loaded.questionnaire is not None, [p.render() for p in loaded.problems]
    calculations = live_calculations(Flow(loaded.questionnaire))
    assert [calculation["name"] for calculation in calculations] == ["length"]
