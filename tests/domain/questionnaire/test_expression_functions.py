"""The ODK functions in a questionnaire: loaded, checked and computed through the flow."""

from __future__ import annotations

from datetime import date

from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.model import Questionnaire

TODAY = date(2026, 3, 31)

FORM = """\
settings:
  id: funkcje
  title: Funkcje
  languages: [pl]
choices:
  formy:
    - {name: spoldzielnia, label: Spółdzielnia socjalna}
    - {name: fundacja, label: Fundacja}
    - {name: stowarzyszenie, label: Stowarzyszenie}
survey:
  - {type: text, name: nazwa, label: Nazwa}
  - type: text
    name: kod
    label: Kod pocztowy
    constraint: "regex(translate(., ' ', ''), '^[0-9]{2}-[0-9]{3}$')"
  - {type: date, name: zalozenie, label: Data założenia}
  - {type: select_multiple formy, name: formy_wsp, label: Formy współpracy}
  - type: integer
    name: pierwsza_forma_szczegoly
    label: Ile lat?
    relevant: "selected-at(${formy_wsp}, 0) = 'fundacja'"
  - type: repeat
    name: partnerzy
    label: Partner
    children:
      - {type: text, name: partner, label: Partner}
      - {type: select_one formy, name: partner_forma, label: Forma}
  - {type: calculate, name: skrot, calculation: "substr(normalize-space(${nazwa}), 0, 5)"}
  - {type: calculate, name: miasto, calculation: "substring-after(${nazwa}, ', ')"}
  - {type: calculate, name: data_pl, calculation: "format-date(${zalozenie}, '%e %b %Y (%a)')"}
  - {type: calculate, name: lata, calculation: "int((today() - ${zalozenie}) div 365.25)"}
  - {type: calculate, name: z_nazwa, calculation: "count-non-empty(${partner})"}
  - type: calculate
    name: dwie_formy
    calculation: "checklist(2, 2, selected(${formy_wsp}, 'fundacja'),
      selected(${formy_wsp}, 'spoldzielnia'), ends-with(${nazwa}, 'Gliwice'))"
  - type: calculate
    name: pierwiastek
    calculation: "round(sqrt(count-selected(${formy_wsp})), 2)"
"""


def load(text: str) -> Questionnaire:
    result = load_definition(text.encode(), "q.yaml")
    assert [str(problem) for problem in result.problems] == []
    assert result.questionnaire is not None
    return result.questionnaire


def test_a_questionnaire_computes_the_odk_functions_from_its_answers() -> None:
    flow = Flow(load(FORM))
    answers = {
        "nazwa": "  Spółdzielnia   Socjalna Razem, Gliwice",
        "kod": "44 - 100",
        "zalozenie": date(2015, 6, 1),
        "formy_wsp": ["fundacja", "spoldzielnia"],
        "partnerzy": ({"partner": "Caritas"}, {"partner_forma": "fundacja"}, {"partner": "OPS"}),
    }
    state = flow.state(answers, sample={}, today=TODAY)
    assert state.answer("skrot") == "Spółd"
    assert state.answer("miasto") == "Gliwice"
    assert state.answer("data_pl") == "1 cze 2015 (pon.)"
    assert state.answer("lata") == 10
    assert state.answer("z_nazwa") == 2
    assert state.answer("dwie_formy") is False  # three are true: the name ends with Gliwice
    assert state.answer("pierwiastek") == 1.41
    assert state.is_relevant("pierwsza_forma_szczegoly")


def test_the_checker_refuses_selected_at_on_a_text_and_a_repeat_read_as_one_value() -> None:
    form = FORM.replace(
        "selected-at(${formy_wsp}, 0) = 'fundacja'", "selected-at(${nazwa}, 0) = 'fundacja'"
    ).replace("count-non-empty(${partner})", "string-length(${partner})")
    result = load_definition(form.encode(), "q.yaml")
    assert [str(problem) for problem in result.problems] == [
        "q.yaml:21: item pierwsza_forma_szczegoly: selected-at() is used on ${nazwa}, which is "
        "not a select question.",
        "q.yaml:32: item z_nazwa: calculation reads ${partner}, which is inside the repeat "
        "partnerzy, as one value: use count(), sum(), min(), max(), join() or indexed-repeat().",
    ]


TWO_LANGUAGES = """\
settings:
  id: etykiety
  title: {pl: Etykiety, en: Labels}
  languages: [pl, en]
  default_language: en
choices:
  formy:
    - {name: ngo, label: {pl: Fundacja, en: Foundation}}
    - {name: coop, label: {pl: Spółdzielnia, en: Cooperative}}
survey:
  - {type: select_one formy, name: forma, label: {pl: Forma, en: Form}}
  - type: matrix formy
    name: ocena
    label: {pl: Ocena, en: Rating}
    rows:
      - {name: a, label: {pl: A, en: A}}
  - {type: calculate, name: nazwa_formy, calculation: "jr:choice-name(${forma}, '${forma}')"}
  - {type: calculate, name: wiersz, calculation: "jr:choice-name(${ocena_a}, '${ocena_a}')"}
"""


def test_choice_names_are_the_labels_in_the_default_language_as_in_exports() -> None:
    flow = Flow(load(TWO_LANGUAGES))
    state = flow.state({"forma": "coop", "ocena_a": "ngo"}, sample={}, today=TODAY)
    assert state.answer("nazwa_formy") == "Cooperative"
    assert state.answer("wiersz") == "Foundation"
    assert flow.state({}, sample={}, today=TODAY).answer("nazwa_formy") is None


def test_the_checker_refuses_a_choice_name_looked_up_in_a_question_without_a_list() -> None:
    form = TWO_LANGUAGES.replace("'${ocena_a}'", "'${nazwa_formy}'")
    result = load_definition(form.encode(), "q.yaml")
    assert [str(problem) for problem in result.problems] == [
        "q.yaml:18: item wiersz: jr:choice-name() names ${nazwa_formy}, which is not a select "
        "question."
    ]
