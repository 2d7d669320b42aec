"""XLSForm's appearances and parameters as people write them, in our YAML and in
workbooks alike: what each type honours (a dropdown, a row, a Likert scale, dates to the
month or the year, a table-list group), what is ignored with a warning, and choices or a
group's questions in an order of each response's own, its codes untouched."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.questionnaire.flow import PHONE, WEB, Flow
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.model import ItemType
from app.domain.questionnaire.pages import is_table_list
from tests.domain.questionnaire.test_xlsform import _workbook
from tests.support.xlsforms import CORPUS

TODAY = date(2026, 3, 31)

YAML = """
settings: {id: wyglad, title: Wygląd}
choices:
  owoc:
    - {name: jablko, label: Jabłko}
    - {name: gruszka, label: Gruszka}
    - {name: sliwka, label: Śliwka}
    - {name: wisnia, label: Wiśnia}
    - {name: winogrono, label: Winogrono}
    - {name: morela, label: Morela}
    - {name: "-98", label: Nie wiem}
    - {name: inny, label: Inny, other: yes}
  tak_nie:
    - {name: "1", label: Tak}
    - {name: "2", label: Nie}
survey:
  - {type: integer, name: liczba, label: Liczba}
  - type: select_one owoc
    name: ulubiony
    label: Ulubiony owoc
    appearance: minimal
    parameters: {randomize: true}
  - type: select_multiple owoc
    name: jadane
    label: Jadane owoce
    appearance: horizontal
    parameters: "randomize=true seed=${liczba}"
  - {type: select_one tak_nie, name: skala, label: Skala, appearance: likert}
  - {type: date, name: od_kiedy, label: Od kiedy, appearance: month-year}
  - {type: date, name: rok, label: Rok urodzenia, appearance: year}
  - {type: text, name: opis, label: Opis, appearance: multiline}
  - {type: integer, name: dochod, label: Dochód, appearance: thousands-sep}
  - type: group
    name: uslugi
    label: Z czego Pan/Pani korzysta?
    appearance: table-list
    children:
      - {type: select_one tak_nie, name: przychodnia, label: Przychodnia, required: yes}
      - {type: select_one tak_nie, name: szkola, label: Szkoła}
  - type: group
    name: mieszana
    label: Mieszana
    appearance: table-list
    children:
      - {type: select_one tak_nie, name: m1, label: M1}
      - {type: integer, name: m2, label: M2}
  - type: group
    name: oceny
    label: Oceny
    appearance: field-list
    parameters: {randomize: true}
    children:
      - {type: integer, name: o1, label: O1}
      - {type: integer, name: o2, label: O2}
      - {type: integer, name: o3, label: O3}
      - {type: integer, name: o4, label: O4}
      - {type: integer, name: o5, label: O5}
"""


@pytest.fixture(scope="module")
def flow() -> Flow:
    result = load_definition(YAML.encode(), "wyglad.yaml")
    assert result.errors == [], [str(p) for p in result.problems]
    assert result.questionnaire is not None
    return Flow(result.questionnaire)


def test_yaml_keeps_the_appearances_each_type_honours_and_warns_about_the_rest() -> None:
    result = load_definition(YAML.encode(), "wyglad.yaml")
    assert [str(p.message) for p in _warnings(result)] == [
        "The appearance thousands-sep is ignored.",
        "A table-list shows single-choice questions on one list without a choice_filter "
        "as one table; this group is shown as a field-list.",
    ]
    q = result.questionnaire
    assert q is not None
    assert q.item("ulubiony").appearances == {"minimal"}
    assert q.item("dochod").appearance is None
    assert q.item("opis").type is ItemType.TEXTAREA  # multiline: a long text
    assert (q.item("od_kiedy").date_precision, q.item("rok").date_precision) == ("month", "year")
    assert is_table_list(q.item("uslugi")) and not is_table_list(q.item("mieszana"))
    assert q.item("ulubiony").randomize and q.item("ulubiony").seed is None
    seed = q.item("jadane").seed
    assert q.item("jadane").randomize and seed is not None and seed.references == {"liczba"}
    assert q.item("oceny").randomize


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ("{randomize: maybe}", "randomize must be true or false, not maybe."),
        ("{seed: 4}", "A seed needs randomize=true."),
        ("{randomize: true, order: 1}", "Unknown parameter order: this item takes randomize"),
        ('"randomize=true seed=${nikt}"', "seed refers to ${nikt}, which is not in"),
        ('"randomize=true seed=${pozniej}"', "seed refers to ${pozniej}, which comes later"),
    ],
)
def test_bad_order_parameters_are_refused_where_they_are_written(
    parameters: str, message: str
) -> None:
    definition = f"""
settings: {{id: zle, title: Złe}}
choices: {{tak_nie: [{{name: "1", label: Tak}}, {{name: "2", label: Nie}}]}}
survey:
  - type: select_one tak_nie
    name: pytanie
    label: Pytanie
    parameters: {parameters}
  - {{type: integer, name: pozniej, label: Później}}
"""
    result = load_definition(definition.encode(), "zle.yaml")
    assert result.questionnaire is None
    assert [str(p) for p in result.errors if message in str(p.message)], [
        str(p) for p in result.problems
    ]


def _order(flow: Flow, name: str, seed: str, answers: dict[str, object] | None = None) -> list:
    state = flow.state(answers or {}, sample={}, today=TODAY, seed=seed)
    return [c.name for c in flow.ordered_choices(flow.questionnaire.item(name), state)]


def test_randomized_choices_keep_one_order_per_response_and_their_codes(flow: Flow) -> None:
    written = flow.questionnaire.choices["owoc"].codes
    orders = {tuple(_order(flow, "ulubiony", f"response-{n}")) for n in range(12)}
    assert len(orders) > 1  # responses differ
    for order in orders:
        assert sorted(order) == sorted(written)  # the same codes, only shown in another order
        assert order[-2:] == ("-98", "inny")  # don't know (its code) and other stay last
    assert _order(flow, "ulubiony", "response-3") == _order(flow, "ulubiony", "response-3")
    # a list not randomized keeps its written order
    assert _order(flow, "skala", "response-3") == ["1", "2"]


def test_a_seed_gives_the_same_order_to_every_response_with_the_same_value(flow: Flow) -> None:
    one = _order(flow, "jadane", "response-1", {"liczba": 7})
    assert _order(flow, "jadane", "response-2", {"liczba": 7}) == one
    others = {tuple(_order(flow, "jadane", "response-1", {"liczba": n})) for n in range(8)}
    assert len(others) > 1
    # an empty seed falls back to the response
    assert {tuple(_order(flow, "jadane", f"r{n}")) for n in range(8)} != {tuple(one)}


def test_a_randomized_group_shows_its_questions_in_the_responses_order(flow: Flow) -> None:
    group = flow.questionnaire.item("oceny")
    orders = set()
    for n in range(8):
        state = flow.state({}, sample={}, today=TODAY, seed=f"response-{n}")
        order = [item.name for item in flow.ordered_items(group, group.children, state)]
        again = [item.name for item in flow.ordered_items(group, group.children, state)]
        assert order == again and sorted(order) == ["o1", "o2", "o3", "o4", "o5"]
        orders.add(tuple(order))
    assert len(orders) > 1


@pytest.mark.parametrize("mode", [WEB, PHONE])
def test_a_table_list_is_one_page_whose_questions_keep_their_own_names(flow, mode) -> None:
    page = flow.page(mode, "uslugi")
    assert [item.name for item in page.questions] == ["przychodnia", "szkola"]
    result = flow.validate_page(
        page, {"przychodnia": ["1"], "szkola": ["2"]}, {}, mode=mode, sample={}, today=TODAY
    )
    assert result.ok and result.values == {"przychodnia": "1", "szkola": "2"}
    missing = flow.validate_page(page, {}, {}, mode=mode, sample={}, today=TODAY)
    assert set(missing.errors) == {"przychodnia"}


@pytest.mark.parametrize(
    ("name", "typed", "stored"),
    [
        ("od_kiedy", "03.2026", date(2026, 3, 1)),
        ("od_kiedy", "3.2026", date(2026, 3, 1)),
        ("od_kiedy", "2026-03", date(2026, 3, 1)),
        ("od_kiedy", "17.03.2026", date(2026, 3, 1)),  # a whole date: its month
        ("rok", "1984", date(1984, 1, 1)),
        ("rok", "17.03.1984", date(1984, 1, 1)),
    ],
)
def test_a_date_asked_to_the_month_or_year_is_stored_as_its_first_day(
    flow: Flow, name: str, typed: str, stored: date
) -> None:
    page = flow.page(PHONE, name)
    result = flow.validate_page(page, {name: [typed]}, {}, mode=PHONE, sample={}, today=TODAY)
    assert result.ok, result.errors
    assert result.values[name] == stored


@pytest.mark.parametrize(
    ("name", "typed", "message"),
    [
        ("od_kiedy", "13.2026", "Enter a month as MM.YYYY."),
        ("od_kiedy", "marzec", "Enter a month as MM.YYYY."),
        ("rok", "03.1984", "Enter a year as YYYY."),
        ("rok", "0000", "Enter a year as YYYY."),
        ("rok", "1066", "Enter a date between"),
    ],
)
def test_a_partial_date_that_is_no_month_or_year_is_refused(flow, name, typed, message) -> None:
    page = flow.page(PHONE, name)
    result = flow.validate_page(page, {name: [typed]}, {}, mode=PHONE, sample={}, today=TODAY)
    assert str(result.errors[name]).startswith(message), result.errors


def test_a_workbooks_table_list_and_label_rows_become_tables() -> None:
    result = load_definition(CORPUS / "appearances_and_tables.xlsx")
    assert result.errors == [], [str(p) for p in result.errors]
    q = result.questionnaire
    assert q is not None
    services = q.item("services")  # pyxform's table-list, its label back on the group
    assert is_table_list(services)
    assert services.label is not None and services.label.get("pl") == "Which services do you use?"
    assert [c.name for c in services.children] == ["clinic", "school", "market"]
    # label + list-nolabel inside a field-list group: a table named after its header row
    opinions = q.item("opinions")
    assert [c.name for c in opinions.children] == [
        "opinions_intro", "opinions_header", "opinions_more"
    ]  # fmt: skip
    table = q.item("opinions_header")
    assert is_table_list(table) and [c.name for c in table.children] == ["roads", "buses"]
    assert table.label is not None and table.label.get("pl") == "Statement"
    assert not any(name.startswith(("reserved_name", "generated_")) for name in _names(q))
    assert q.item("region").appearances == {"minimal"}
    assert q.item("happy").appearances == {"likert"}
    assert q.item("since").date_precision == "month" and q.item("born").date_precision == "year"
    warned = {str(p.message) for p in _warnings(result)}
    assert "The appearance quick is ignored." in warned
    assert "The appearance thousands-sep is ignored." in warned
    assert not any("list-nolabel" in m or "table-list" in m for m in warned), warned


def _warnings(result) -> list:
    return [problem for problem in result.problems if not problem.is_error]


def _names(q) -> list[str]:
    return [item.name for item in q.walk()]


def test_a_workbooks_randomize_and_seed_are_read_and_other_parameters_warned() -> None:
    result = load_definition(CORPUS / "randomized_choices.xlsx")
    assert result.errors == [], [str(p) for p in result.errors]
    q = result.questionnaire
    assert q is not None
    assert q.item("fruit").randomize and q.item("order").randomize
    assert q.item("fruits").seed is not None and not q.item("plain").randomize
    assert q.item("score").range is not None  # start, end and step still read
    warnings = [str(p) for p in _warnings(result) if "item" in str(p)]
    assert [warning.split("/xlsforms/")[1] for warning in warnings] == [
        "randomized_choices.xlsx:survey:7: item score: warning: The parameter tick_interval "
        "is ignored.",
        "randomized_choices.xlsx:survey:8: item where: warning: The parameter "
        "capture-accuracy is ignored.",
        "randomized_choices.xlsx:survey:9: item story: warning: The parameter rows is ignored.",
    ]
    flow = Flow(q)
    codes = q.choices["fruit"].codes
    order = _order(flow, "fruit", "response-5")
    assert sorted(order) == sorted(codes) and order[-2:] == ["dk", "other"]


def test_a_workbooks_group_parameters_randomize_its_questions() -> None:
    result = load_definition(CORPUS / "randomized_group.xlsx")
    assert result.errors == [], [str(p) for p in result.errors]
    assert result.questionnaire is not None and result.questionnaire.item("ratings").randomize


def test_a_workbooks_table_list_with_a_question_of_another_kind_tables_its_selects() -> None:
    survey = [
        {"type": "begin group", "name": "g", "label": "G", "appearance": "table-list"},
        {"type": "select_one yn", "name": "a", "label": "A"},
        {"type": "select_one yn", "name": "b", "label": "B"},
        {"type": "text", "name": "c", "label": "C"},
        {"type": "end group"},
    ]
    choices = [
        {"list_name": "yn", "name": "y", "label": "Y"},
        {"list_name": "yn", "name": "n", "label": "N"},
    ]
    result = load_definition(_workbook(survey, choices, [{"form_id": "t"}]), "t.xlsx")
    assert result.errors == [], [str(p) for p in result.errors]
    q = result.questionnaire
    assert q is not None
    group = q.item("g")  # as ODK shows it: the selects as a table, then the text
    assert group.label is not None and group.label.get("pl") == "G"
    assert [c.name for c in group.children] == ["g_table", "c"]
    assert is_table_list(q.item("g_table")) and "field-list" in group.appearances
    assert [c.name for c in q.item("g_table").children] == ["a", "b"]
