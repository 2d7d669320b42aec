"""Repeats in the core: loading, expressions over instances, pages, validation, storage."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.domain.messages import Message
from app.domain.questionnaire.answers import (
    ASIDE_KEY,
    DONT_KNOW,
    VariableKind,
    answers_from_json,
    answers_to_json,
    questionnaire_variables,
    scope_variables,
)
from app.domain.questionnaire.expressions import Context, parse
from app.domain.questionnaire.fields import DONT_KNOW_FIELD_VALUE
from app.domain.questionnaire.flow import PHONE, REQUIRED, WEB, Flow, InvalidInstance, PageResult
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.model import MAX_INSTANCES, Questionnaire

TODAY = date(2026, 3, 31)

PARTNERS = """\
settings:
  id: partnerzy_test
  title: Partnerzy
  languages: [pl]
choices:
  typ:
    - {name: ngo, label: Organizacja pozarządowa}
    - {name: jst, label: Samorząd}
    - {name: firma, label: Firma}
survey:
  - {type: integer, name: liczba, label: Ilu partnerów?}
  - type: repeat
    name: partnerzy
    label: Partner
    relevant: "${liczba} > 0"
    instance_label: nazwa
    repeat_min: 1
    repeat_max: 3
    children:
      - {type: text, name: nazwa, label: Nazwa, required: yes}
      - {type: select_one typ, name: typ_partnera, label: Typ}
      - type: integer
        name: miejsca
        label: Miejsca pracy
        relevant: "${typ_partnera} = 'firma'"
        constraint: ". <= ${liczba} * 10"
      - {type: text, name: uwagi, label: Uwagi, relevant: "${liczba} > 1"}
      - {type: calculate, name: nr, calculation: "position(..)"}
      - {type: calculate, name: podwojone, calculation: "${miejsca} * 2"}
      - type: repeat
        name: etaty
        label: Etat
        children:
          - {type: text, name: stanowisko, label: Stanowisko}
          - {type: calculate, name: nr_etatu, calculation: "position(..)"}
          - {type: calculate, name: u_kogo, calculation: "concat(${nazwa}, '/', position(..))"}
      - {type: calculate, name: ile_etatow, calculation: "count(${etaty})"}
  - {type: calculate, name: ile, calculation: "count(${partnerzy})"}
  - {type: calculate, name: ile_nazw, calculation: "count(${nazwa})"}
  - {type: calculate, name: suma, calculation: "sum(${miejsca})"}
  - {type: calculate, name: najmniej, calculation: "min(${miejsca})"}
  - {type: calculate, name: najwiecej, calculation: "max(${miejsca})"}
  - {type: calculate, name: nazwy, calculation: "join(', ', ${nazwa})"}
  - {type: calculate, name: drugi, calculation: "indexed-repeat(${nazwa}, ${partnerzy}, 2)"}
  - {type: calculate, name: piaty, calculation: "indexed-repeat(${nazwa}, ${partnerzy}, 5)"}
  - type: calculate
    name: etat_1_2
    calculation: "indexed-repeat(${stanowisko}, ${partnerzy}, 1, ${etaty}, 2)"
  - {type: calculate, name: wszystkie_etaty, calculation: "count(${etaty})"}
  - {type: note, name: podsumowanie, label: "Partnerów: ${ile}"}
  - {type: integer, name: liczba_stalych, label: Ile stałych?}
  - type: repeat
    name: stale
    label: Stały
    repeat_count: "${liczba_stalych}"
    children:
      - {type: text, name: opis, label: Opis}
  - type: group
    name: grupa
    label: Grupa
    children:
      - {type: text, name: g1, label: G1}
      - type: repeat
        name: w_grupie
        label: W grupie
        repeat_count: 2
        children:
          - {type: integer, name: z, label: Z}
"""

THREE_DEEP = """\
settings:
  id: gleboko
  title: Głęboko
survey:
  - type: repeat
    name: r1
    label: R1
    children:
      - {type: text, name: a, label: A}
      - type: repeat
        name: r2
        label: R2
        children:
          - {type: text, name: b, label: B}
          - type: repeat
            name: r3
            label: R3
            children:
              - {type: text, name: c, label: "C ${a} ${b}"}
              - {type: calculate, name: gdzie, calculation: "concat(${a}, ${b}, position(..))"}
  - {type: calculate, name: ile_c, calculation: "count(${c})"}
  - type: calculate
    name: c_2_1_2
    calculation: "indexed-repeat(${c}, ${r1}, 2, ${r2}, 1, ${r3}, 2)"
"""


def load(text: str) -> Questionnaire:
    result = load_definition(text.encode(), "q.yaml")
    assert result.problems == []
    assert result.questionnaire is not None
    return result.questionnaire


@pytest.fixture(scope="module")
def flow() -> Flow:
    return Flow(load(PARTNERS))


def state(flow: Flow, answers: dict[str, Any]):
    return flow.state(answers, sample={}, today=TODAY)


def submit(
    flow: Flow, page: str, form: dict[str, Any], answers: dict[str, Any], mode: str = WEB
) -> PageResult:
    fields = {name: value if isinstance(value, list) else [value] for name, value in form.items()}
    return flow.validate_page(
        flow.page(mode, page), fields, answers, mode=mode, sample={}, today=TODAY
    )


def msgid(problem: Any) -> str:
    assert isinstance(problem, Message)
    return problem.msgid


PARTNER_ANSWERS: dict[str, Any] = {
    "liczba": 2,
    "partnerzy": (
        {
            "nazwa": "Fundacja Szansa",
            "typ_partnera": "firma",
            "miejsca": 5,
            "uwagi": "dobra",
            "etaty": ({"stanowisko": "kucharz"}, {"stanowisko": "kelner"}),
        },
        {"nazwa": "Gmina", "typ_partnera": "jst", "miejsca": 7},  # miejsca: irrelevant
        {"typ_partnera": "firma", "miejsca": 12, "etaty": ({},)},
    ),
}


# -- loading ---------------------------------------------------------------------------


def test_open_bounded_repeat_loads_with_its_bounds_and_instance_label(flow: Flow) -> None:
    repeat = flow.questionnaire.item("partnerzy")
    assert repeat.is_repeat
    assert (repeat.repeat_min, repeat.repeat_max, repeat.max_instances) == (1, 3, 3)
    assert repeat.repeat_count is None
    assert repeat.instance_label == "nazwa"
    assert [child.name for child in repeat.children][:3] == ["nazwa", "typ_partnera", "miejsca"]


def test_open_repeat_without_max_is_capped_by_the_server() -> None:
    q = load(THREE_DEEP)
    assert q.item("r1").repeat_max is None
    assert q.item("r1").max_instances == MAX_INSTANCES


def test_repeat_count_is_an_expression_or_a_number(flow: Flow) -> None:
    stale = flow.questionnaire.item("stale")
    assert stale.repeat_count is not None
    assert stale.repeat_count.references == frozenset({"liczba_stalych"})
    fixed = flow.questionnaire.item("w_grupie")
    assert fixed.repeat_count is not None
    assert fixed.repeat_count.evaluate(Context()) == 2


def test_nested_repeats_know_their_enclosing_repeat_and_depth() -> None:
    q = load(THREE_DEEP)
    assert q.item("c").enclosing_repeat() is q.item("r3")
    assert q.item("r3").enclosing_repeat() is q.item("r2")
    assert q.item("r1").enclosing_repeat() is None
    assert [r.name for r in q.repeats()] == ["r1", "r2", "r3"]
    assert q.item("r3").repeat_depth() == 3


def test_repeat_inside_a_group_belongs_to_the_group(flow: Flow) -> None:
    repeat = flow.questionnaire.item("w_grupie")
    assert repeat.parent is flow.questionnaire.item("grupa")
    assert repeat.enclosing_repeat() is None


def test_a_repeat_is_one_variable_of_the_response_its_children_are_not(flow: Flow) -> None:
    q = flow.questionnaire
    variables = questionnaire_variables(q)
    assert variables["partnerzy"].kind is VariableKind.REPEAT
    assert variables["w_grupie"].kind is VariableKind.REPEAT
    assert {"nazwa", "stanowisko", "z", "etaty"}.isdisjoint(variables)
    inside = scope_variables(q.item("partnerzy").children, q)
    assert {"nazwa", "miejsca", "nr", "etaty"} <= set(inside)
    assert inside["etaty"].kind is VariableKind.REPEAT
    assert "stanowisko" not in inside


# -- expressions over instances --------------------------------------------------------


def test_aggregates_over_instances_skip_empty_and_irrelevant_values(flow: Flow) -> None:
    s = state(flow, PARTNER_ANSWERS)
    assert s.answer("ile") == 3
    assert s.answer("ile_nazw") == 3  # count of a field: one per instance, empty ones too
    assert s.answer("suma") == 17  # 7 is the answer of an irrelevant question
    assert s.answer("najmniej") == 5
    assert s.answer("najwiecej") == 12
    assert s.answer("nazwy") == "Fundacja Szansa, Gmina"
    assert s.answer("wszystkie_etaty") == 3


def test_aggregates_of_no_instances(flow: Flow) -> None:
    s = state(flow, {"liczba": 1, "partnerzy": ()})
    assert s.answer("ile") == 0
    assert s.answer("suma") == 0
    assert s.answer("najmniej") is None
    assert s.answer("najwiecej") is None
    assert s.answer("nazwy") is None
    assert s.answer("drugi") is None


def test_indexed_repeat_picks_one_instance_and_nested_instance(flow: Flow) -> None:
    s = state(flow, PARTNER_ANSWERS)
    assert s.answer("drugi") == "Gmina"
    assert s.answer("piaty") is None
    assert s.answer("etat_1_2") == "kelner"


def test_three_deep_instances_read_enclosing_answers_and_count_and_index() -> None:
    flow = Flow(load(THREE_DEEP))
    answers = {
        "r1": (
            {"a": "x", "r2": ({"b": "p", "r3": ({"c": "1"},)},)},
            {"a": "y", "r2": ({"b": "q", "r3": ({"c": "2"}, {"c": "3"})}, {"b": "r"})},
        )
    }
    s = state(flow, answers)
    assert s.answer("ile_c") == 3
    assert s.answer("c_2_1_2") == "3"
    second = s.instances("r1")[1].instances("r2")[0].instances("r3")[1]
    assert second.answer("gdzie") == "yq2"
    assert second.flow.render_text(flow.questionnaire.item("c").label, "pl", second) == "C y q"


def test_position_is_the_number_of_the_instance_at_each_level(flow: Flow) -> None:
    s = state(flow, PARTNER_ANSWERS)
    partners = s.instances("partnerzy")
    assert [p.answer("nr") for p in partners] == [1, 2, 3]
    assert [p.position for p in partners] == [1, 2, 3]
    jobs = partners[0].instances("etaty")
    assert [j.answer("nr_etatu") for j in jobs] == [1, 2]
    assert [j.answer("u_kogo") for j in jobs] == ["Fundacja Szansa/1", "Fundacja Szansa/2"]
    assert [p.answer("ile_etatow") for p in partners] == [2, 0, 1]


def test_position_outside_a_repeat_is_empty() -> None:
    assert parse("position(..)").evaluate(Context()) is None


def test_relevance_inside_an_instance_uses_its_own_and_outer_answers(flow: Flow) -> None:
    partners = state(flow, PARTNER_ANSWERS).instances("partnerzy")
    assert [p.is_relevant("miejsca") for p in partners] == [True, False, True]
    assert all(p.is_relevant("uwagi") for p in partners)
    alone = state(flow, {**PARTNER_ANSWERS, "liczba": 1}).instances("partnerzy")
    assert not any(p.is_relevant("uwagi") for p in alone)


def test_a_calculation_is_made_per_instance(flow: Flow) -> None:
    partners = state(flow, PARTNER_ANSWERS).instances("partnerzy")
    assert [p.answer("podwojone") for p in partners] == [10, None, 24]


def test_a_constraint_is_checked_per_instance_against_an_outer_answer(flow: Flow) -> None:
    answers = {**PARTNER_ANSWERS, "liczba": 1}  # at most 10 places: the third has 12
    problems = flow.problems(state(flow, answers))
    assert msgid(problems["partnerzy.3.miejsca"]) == "This answer is not allowed."
    assert "partnerzy.1.miejsca" not in problems


# -- pages -----------------------------------------------------------------------------


def test_pages_web_mode(flow: Flow) -> None:
    pages = [(p.id, [i.name for i in p.items]) for p in flow.pages(WEB)]
    assert pages == [
        ("liczba", ["liczba"]),
        ("partnerzy", ["partnerzy"]),
        ("podsumowanie", ["podsumowanie", "liczba_stalych"]),
        ("stale", ["stale"]),
        ("grupa", ["g1", "w_grupie"]),
    ]
    assert [r.name for r in flow.page(WEB, "grupa").repeats] == ["w_grupie"]
    assert [q.name for q in flow.page(WEB, "grupa").questions] == ["g1"]


def test_pages_phone_mode(flow: Flow) -> None:
    pages = [(p.id, [i.name for i in p.items]) for p in flow.pages(PHONE)]
    assert pages == [
        ("liczba", ["liczba"]),
        ("partnerzy", ["partnerzy"]),
        ("liczba_stalych", ["podsumowanie", "liczba_stalych"]),
        ("stale", ["stale"]),
        ("g1", ["g1"]),
        ("w_grupie", ["w_grupie"]),
    ]


def test_an_irrelevant_repeat_page_is_skipped(flow: Flow) -> None:
    s = state(flow, {"liczba": 0})
    assert flow.next_page(s, WEB, "liczba").id == "podsumowanie"
    assert s.instances("partnerzy") == []


def test_one_instance_shows_its_questions_and_nested_repeat(flow: Flow) -> None:
    shown = [item.name for item in flow.repeat_flows["partnerzy"].shown_items()]
    assert shown == ["nazwa", "typ_partnera", "miejsca", "uwagi", "etaty"]


# -- the clean result and problems -----------------------------------------------------


def test_clean_answers_leave_out_irrelevant_instance_answers(flow: Flow) -> None:
    clean = flow.clean_answers(state(flow, PARTNER_ANSWERS))
    first, second, third = clean["partnerzy"]
    assert first["miejsca"] == 5 and first["nr"] == 1 and first["podwojone"] == 10
    assert first["etaty"] == (
        {"stanowisko": "kucharz", "nr_etatu": 1, "u_kogo": "Fundacja Szansa/1"},
        {"stanowisko": "kelner", "nr_etatu": 2, "u_kogo": "Fundacja Szansa/2"},
    )
    assert "miejsca" not in second and second["nazwa"] == "Gmina"
    assert "nazwa" not in third and third["miejsca"] == 12
    assert clean["ile"] == 3


def test_clean_answers_hold_a_fixed_count_of_instances(flow: Flow) -> None:
    stored = ({"opis": "a"}, {"opis": "b"}, {"opis": "c"})
    clean = flow.clean_answers(state(flow, {"liczba_stalych": 2, "stale": stored}))
    assert clean["stale"] == ({"opis": "a"}, {"opis": "b"})
    assert clean["w_grupie"] == ({}, {})  # a fixed 2: unanswered instances count, empty
    more = flow.clean_answers(state(flow, {"liczba_stalych": 4, "stale": stored}))
    assert more["stale"] == ({"opis": "a"}, {"opis": "b"}, {"opis": "c"}, {})


def test_clean_answers_of_an_irrelevant_repeat_leave_it_out(flow: Flow) -> None:
    clean = flow.clean_answers(state(flow, {**PARTNER_ANSWERS, "liczba": 0}))
    assert "partnerzy" not in clean
    assert clean["ile"] == 0


def test_problems_are_keyed_by_instance_field(flow: Flow) -> None:
    problems = flow.problems(state(flow, PARTNER_ANSWERS))
    assert problems == {"partnerzy.3.nazwa": REQUIRED}
    assert not flow.is_complete(state(flow, PARTNER_ANSWERS))


def test_a_too_short_list_is_a_problem_of_the_repeat(flow: Flow) -> None:
    problems = flow.problems(state(flow, {"liczba": 1}))
    assert set(problems) == {"partnerzy"}
    assert msgid(problems["partnerzy"]) == "Add at least %(count)d (there are %(given)d)."
    assert problems["partnerzy"].params == {"count": 1, "given": 0}


def test_a_problem_in_an_instance_sends_the_respondent_back_to_the_repeat_page(
    flow: Flow,
) -> None:
    s = state(flow, PARTNER_ANSWERS)
    assert flow.resume_page(s, WEB, "grupa").id == "partnerzy"


# -- submitted pages -------------------------------------------------------------------


def test_validate_page_reads_counts_markers_and_nested_instances(flow: Flow) -> None:
    form = {
        "partnerzy": "2",
        "partnerzy.1": "1",
        "partnerzy.1.nazwa": "Fundacja Szansa",
        "partnerzy.1.typ_partnera": "firma",
        "partnerzy.1.miejsca": "3",
        "partnerzy.1.uwagi": "",
        "partnerzy.1.etaty": "1",
        "partnerzy.1.etaty.1": "1",
        "partnerzy.1.etaty.1.stanowisko": "kucharz",
        "partnerzy.2": "1",
        "partnerzy.2.nazwa": "Gmina",
        "partnerzy.2.typ_partnera": "jst",
    }
    result = submit(flow, "partnerzy", form, {"liczba": 2})
    assert result.errors == {}
    assert result.unknown_fields == []
    first, second = result.values["partnerzy"]
    assert first == {
        "nazwa": "Fundacja Szansa",
        "typ_partnera": "firma",
        "miejsca": 3,
        "etaty": ({"stanowisko": "kucharz"},),
    }
    assert second["nazwa"] == "Gmina" and second["typ_partnera"] == "jst"
    assert "miejsca" not in second


def test_validate_page_keys_errors_by_instance_field(flow: Flow) -> None:
    form = {
        "partnerzy": "2",
        "partnerzy.1": "1",
        "partnerzy.1.nazwa": "A",
        "partnerzy.1.typ_partnera": "firma",
        "partnerzy.1.miejsca": "dużo",
        "partnerzy.2": "1",
        "partnerzy.2.typ_partnera": "xyz",
    }
    result = submit(flow, "partnerzy", form, {"liczba": 2})
    assert set(result.errors) == {
        "partnerzy.1.miejsca",
        "partnerzy.2.nazwa",
        "partnerzy.2.typ_partnera",
    }
    assert result.errors["partnerzy.2.nazwa"] == REQUIRED


def test_form_values_submitted_back_keep_the_answers(flow: Flow) -> None:
    answers = {"liczba": 2, "partnerzy": PARTNER_ANSWERS["partnerzy"][:1]}
    page = flow.page(WEB, "partnerzy")
    form = flow.form_values(page, state(flow, answers))
    assert form["partnerzy"] == ["1"]
    assert form["partnerzy.1.nazwa"] == ["Fundacja Szansa"]
    assert form["partnerzy.1.etaty.2.stanowisko"] == ["kelner"]
    result = flow.validate_page(page, form, answers, mode=WEB, sample={}, today=TODAY)
    assert result.errors == {} and result.unknown_fields == []
    assert result.apply(answers) == answers


@pytest.mark.parametrize(
    "count", [str(10**9), "10000", "4", "-1", "2.5", "abc", ["1", "2"], "²", "1" * 5000]
)
def test_a_count_above_the_maximum_or_unreadable_is_refused(flow: Flow, count: Any) -> None:
    form = {"partnerzy": count, "partnerzy.1": "1", "partnerzy.1.nazwa": "A"}
    stored = {"liczba": 2, "partnerzy": ({"nazwa": "Stary"},)}
    result = submit(flow, "partnerzy", form, stored)
    assert msgid(result.errors["partnerzy"]) == "This list holds at most %(count)d entries."
    assert result.errors["partnerzy"].params == {"count": 3}
    assert "partnerzy" not in result.values
    assert result.apply(stored) == stored


def test_fields_of_instances_past_the_count_are_unknown(flow: Flow) -> None:
    form = {
        "partnerzy": "1",
        "partnerzy.1": "1",
        "partnerzy.1.nazwa": "A",
        "partnerzy.2.nazwa": "B",
        "partnerzy.1000000000.nazwa": "C",
        "partnerzy.².nazwa": "D",
        "partnerzy." + "1" * 5000: "1",
    }
    result = submit(flow, "partnerzy", form, {"liczba": 2})
    assert set(result.unknown_fields) == {
        "partnerzy." + "1" * 5000,
        "partnerzy.1000000000.nazwa",
        "partnerzy.2.nazwa",
        "partnerzy.².nazwa",
    }
    assert [each["nazwa"] for each in result.values["partnerzy"]] == ["A"]


def test_instances_the_page_does_not_send_are_kept_as_stored(flow: Flow) -> None:
    stored = {"liczba": 2, "partnerzy": PARTNER_ANSWERS["partnerzy"]}
    form = {"partnerzy": "3", "partnerzy.2": "1", "partnerzy.2.nazwa": "Gmina Nowa"}
    result = submit(flow, "partnerzy", form, stored)
    first, second, third = result.values["partnerzy"]
    assert first == PARTNER_ANSWERS["partnerzy"][0]
    assert third == PARTNER_ANSWERS["partnerzy"][2]
    assert second["nazwa"] == "Gmina Nowa"


def test_an_irrelevant_instance_answer_is_ignored_and_the_stored_one_kept(flow: Flow) -> None:
    stored = {"liczba": 2, "partnerzy": ({"nazwa": "A", "typ_partnera": "firma", "miejsca": 4},)}
    form = {
        "partnerzy": "1",
        "partnerzy.1": "1",
        "partnerzy.1.nazwa": "A",
        "partnerzy.1.typ_partnera": "ngo",
        "partnerzy.1.miejsca": "9",
    }
    result = submit(flow, "partnerzy", form, stored)
    assert result.errors == {}
    assert "partnerzy.1.miejsca" in result.ignored_fields
    assert result.values["partnerzy"][0]["miejsca"] == 4
    assert result.values["partnerzy"][0]["typ_partnera"] == "ngo"


def test_a_fixed_count_page_keeps_instances_past_the_count(flow: Flow) -> None:
    stored = {"liczba_stalych": 2, "stale": ({"opis": "a"}, {"opis": "b"}, {"opis": "c"})}
    form = {"stale": "2", "stale.1": "1", "stale.1.opis": "A", "stale.2": "1", "stale.2.opis": "B"}
    result = submit(flow, "stale", form, stored)
    assert result.values["stale"] == ({"opis": "A"}, {"opis": "B"}, {"opis": "c"})


def test_a_stale_fixed_count_page_does_not_wipe_the_instances_it_does_not_send(
    flow: Flow,
) -> None:
    stored = {"liczba_stalych": 3, "stale": ({"opis": "a"}, {"opis": "b"}, {"opis": "c"})}
    form = {"stale": "1", "stale.1": "1", "stale.1.opis": "A"}  # shown when the count was 1
    result = submit(flow, "stale", form, stored)
    assert result.values["stale"] == ({"opis": "A"}, {"opis": "b"}, {"opis": "c"})
    nothing = submit(flow, "stale", {"stale": "0"}, stored)
    assert nothing.values["stale"] == stored["stale"]


def test_a_repeat_in_a_group_is_validated_with_the_group_page(flow: Flow) -> None:
    form = {"g1": "x", "w_grupie": "2", "w_grupie.1": "1", "w_grupie.1.z": "4"}
    form |= {"w_grupie.2": "1", "w_grupie.2.z": "zero"}
    result = submit(flow, "grupa", form, {})
    assert set(result.errors) == {"w_grupie.2.z"}
    assert result.values["g1"] == "x"


def test_dont_know_inside_an_instance_follows_the_settings_per_mode(flow: Flow) -> None:
    form = {"stale": "1", "stale.1": "1", "stale.1.opis": DONT_KNOW_FIELD_VALUE}
    by_phone = submit(flow, "stale", form, {"liczba_stalych": 1}, mode=PHONE)
    assert by_phone.errors == {}
    assert by_phone.values["stale"] == ({"opis": DONT_KNOW},)
    online = submit(flow, "stale", form, {"liczba_stalych": 1}, mode=WEB)
    assert msgid(online.errors["stale.1.opis"]) == "Don't know is not allowed for this question."


# -- adding and removing instances -----------------------------------------------------


def test_add_instance_appends_an_empty_one(flow: Flow) -> None:
    assert flow.add_instance({}, "partnerzy")["partnerzy"] == ({},)
    answers = flow.add_instance(PARTNER_ANSWERS, "partnerzy.1.etaty")
    assert answers["partnerzy"][0]["etaty"][-1] == {}
    assert len(answers["partnerzy"][0]["etaty"]) == 3
    assert answers["partnerzy"][1:] == PARTNER_ANSWERS["partnerzy"][1:]


def test_remove_instance_moves_the_following_ones_up(flow: Flow) -> None:
    answers = flow.remove_instance(PARTNER_ANSWERS, "partnerzy.2")
    assert [each.get("nazwa") for each in answers["partnerzy"]] == ["Fundacja Szansa", None]
    nested = flow.remove_instance(PARTNER_ANSWERS, "partnerzy.1.etaty.1")
    assert nested["partnerzy"][0]["etaty"] == ({"stanowisko": "kelner"},)


@pytest.mark.parametrize(
    ("change", "path", "expected"),
    [
        ("add", "partnerzy", "This list holds at most %(count)d entries."),
        ("add", "stale", "This list has a fixed number of entries."),
        ("add", "w_grupie", "This list has a fixed number of entries."),
        ("remove", "stale.1", "This list has a fixed number of entries."),
        ("add", "nazwa", "There is no such list on this page."),
        ("add", "nic", "There is no such list on this page."),
        ("add", "", "There is no such list on this page."),
        ("add", "partnerzy.1", "There is no such list on this page."),
        ("add", "partnerzy.1.nazwa", "There is no such list on this page."),
        ("add", "partnerzy.9.etaty", "There is no such entry in this list."),
        ("remove", "partnerzy", "Say which entry to remove."),
        ("remove", "partnerzy.0", "There is no such entry in this list."),
        ("remove", "partnerzy.4", "There is no such entry in this list."),
        ("remove", "partnerzy.x", "There is no such entry in this list."),
        ("remove", "partnerzy.1000000000", "There is no such entry in this list."),
        ("remove", "partnerzy.²", "There is no such entry in this list."),
        ("remove", "partnerzy." + "1" * 5000, "There is no such entry in this list."),
        ("add", "partnerzy.².etaty", "There is no such entry in this list."),
        ("remove", "partnerzy.1.etaty.3", "There is no such entry in this list."),
    ],
)
def test_add_and_remove_refuse_what_the_response_cannot_have(
    flow: Flow, change: str, path: str, expected: str
) -> None:
    answers = {**PARTNER_ANSWERS, "stale": ({},), "liczba_stalych": 1}
    operation = flow.add_instance if change == "add" else flow.remove_instance
    with pytest.raises(InvalidInstance) as refused:
        operation(answers, path)
    assert refused.value.message.msgid == expected


# -- storage ---------------------------------------------------------------------------


def test_answers_json_round_trip_with_nested_instances(flow: Flow) -> None:
    q = flow.questionnaire
    answers = {
        "liczba": 2,
        "partnerzy": (
            {
                "nazwa": "A",
                "miejsca": DONT_KNOW,
                "etaty": ({"stanowisko": "x"}, {}),
            },
            {},
        ),
        "stale": (),
    }
    data = answers_to_json(q, answers)
    assert data["partnerzy"] == [
        {"nazwa": "A", "miejsca": {"missing": "dont_know"}, "etaty": [{"stanowisko": "x"}, {}]},
        {},
    ]
    assert answers_from_json(q, data) == answers


def test_values_kept_aside_inside_an_instance_are_written_back(flow: Flow) -> None:
    q = flow.questionnaire
    data = {
        "partnerzy": [{"nazwa": "A", "stary": "x", "miejsca": "nie liczba"}],
        "stale": "not a list",
    }
    answers = answers_from_json(q, data)
    instance = answers["partnerzy"][0]
    assert instance["nazwa"] == "A"
    assert instance[ASIDE_KEY] == {"stary": "x", "miejsca": "nie liczba"}
    assert answers[ASIDE_KEY] == {"stale": "not a list"}
    assert answers_to_json(q, answers) == data


def test_a_decimal_and_a_date_inside_an_instance_round_trip() -> None:
    q = load(
        """\
settings:
  id: t
  title: T
survey:
  - type: repeat
    name: r
    label: R
    children:
      - {type: decimal, name: kwota, label: Kwota}
      - {type: date, name: kiedy, label: Kiedy}
  - {type: calculate, name: razem, calculation: "sum(${kwota})"}
  - {type: calculate, name: ostatnio, calculation: "max(${kiedy})"}
"""
    )
    answers = {
        "r": ({"kwota": Decimal("12.5"), "kiedy": date(2026, 1, 2)}, {"kwota": Decimal("1")})
    }
    data = answers_to_json(q, answers)
    assert data == {"r": [{"kwota": "12.5", "kiedy": "2026-01-02"}, {"kwota": "1"}]}
    assert answers_from_json(q, data) == answers
    s = Flow(q).state(answers, sample={}, today=TODAY)
    assert s.answer("razem") == 13.5
    assert s.answer("ostatnio") == (date(2026, 1, 2) - date(1970, 1, 1)).days


def test_a_constraint_and_a_label_inside_an_instance_may_read_a_total_of_the_entries() -> None:
    flow = Flow(
        load(
            """\
settings:
  id: t
  title: T
survey:
  - type: repeat
    name: r
    label: R
    children:
      - {type: integer, name: x, label: "X (of ${total})", constraint: ". * 2 <= ${total}"}
  - {type: calculate, name: total, calculation: "sum(${x})"}
"""
        )
    )
    s = state(flow, {"r": ({"x": 1}, {"x": 3})})
    assert set(flow.problems(s)) == {"r.2.x"}  # 6 > 4
    first = s.instances("r")[0]
    label = flow.questionnaire.item("x").label
    assert first.flow.render_text(label, "pl", first) == "X (of 4)"


def test_an_instance_counts_the_instances_of_its_own_repeat() -> None:
    flow = Flow(
        load(
            """\
settings:
  id: t
  title: T
survey:
  - type: repeat
    name: r
    label: R
    children:
      - {type: integer, name: x, label: "X ${nr} of ${ile}"}
      - {type: calculate, name: ile, calculation: "count(${r})"}
      - {type: calculate, name: nr, calculation: "position(..)"}
      - {type: text, name: last, label: L, relevant: "position(..) = count(${r})"}
"""
        )
    )
    instances = state(flow, {"r": ({"x": 1}, {"x": 3}, {})}).instances("r")
    assert [each.answer("ile") for each in instances] == [3, 3, 3]
    assert [each.is_relevant("last") for each in instances] == [False, False, True]
    label = flow.questionnaire.item("x").label
    assert instances[1].flow.render_text(label, "pl", instances[1]) == "X 2 of 3"


def test_the_documented_repeat_example_checks_clean() -> None:
    guide = Path(__file__).parents[3] / "docs" / "questionnaires.md"
    section = guide.read_text(encoding="utf-8").split("## Repeats\n", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    header = (
        "settings: {id: t, title: T}\n"
        "choices:\n"
        "  typ_partnera: [{name: firma, label: Firma}, {name: ngo, label: NGO}]\n"
        "  tak_nie: [{name: tak, label: Tak}, {name: nie, label: Nie}]\n"
        "survey:\n"
        "  - {type: select_multiple tak_nie, name: e1, label: Współpraca}\n"
        "  - {type: integer, name: b1, label: Miejsca razem}\n"
    )
    flow = Flow(load(header + example))
    answers = {
        "e1": ("tak",),
        "b1": 20,
        "partnerzy": (
            {"partner_nazwa": "A", "partner_typ": "firma", "partner_miejsca": 2},
            {"partner_nazwa": "B", "partner_typ": "ngo", "partner_miejsca": 9},
        ),
    }
    current = state(flow, answers)
    assert current.answer("liczba_partnerow") == 2
    assert current.answer("miejsca_razem") == 2  # the NGO's answer is not asked
    assert len(current.instances("partnerzy")[0].instances("etaty")) == 2


@pytest.mark.parametrize(
    ("count", "expected"),
    [(2, 2), (0, 0), (-3, 0), (None, 0), (10**9, MAX_INSTANCES), (Decimal("2.7"), 2)],
)
def test_a_fixed_count_is_what_its_expression_gives_within_the_cap(
    count: Any, expected: int
) -> None:
    flow = Flow(
        load(
            """\
settings:
  id: t
  title: T
survey:
  - {type: decimal, name: n, label: N}
  - type: repeat
    name: r
    label: R
    repeat_count: "${n}"
    children:
      - {type: text, name: x, label: X}
"""
        )
    )
    answers = {} if count is None else {"n": Decimal(count)}
    assert len(state(flow, answers).instances("r")) == expected
    assert len(flow.clean_answers(state(flow, answers)).get("r", ())) == expected


def test_an_instance_holds_a_filtered_select_its_other_text_and_a_matrix() -> None:
    flow = Flow(
        load(
            """\
settings:
  id: t
  title: T
choices:
  ocena: [{name: "1", label: Dobrze}, {name: "2", label: Źle}]
  typ:
    - {name: a, label: A, region: n}
    - {name: b, label: B, region: s}
    - {name: inny, label: Inny, other: yes}
survey:
  - {type: text, name: region, label: Region}
  - type: repeat
    name: r
    label: R
    children:
      - type: select_one typ
        name: t
        label: T
        choice_filter: "region = ${region} or name = 'inny'"
      - {type: matrix ocena, name: m, label: M, rows: [{name: w1, label: W1}]}
"""
        )
    )
    form = {"r": "2", "r.1": "1", "r.1.t": "inny", "r.1.t_other": "Coś", "r.1.m_w1": "1"}
    form |= {"r.2": "1", "r.2.t": "b"}
    result = submit(flow, "r", form, {"region": "n"})
    assert set(result.errors) == {"r.2.t"}  # b is not offered in region n
    assert result.values["r"][0] == {"t": "inny", "t_other": "Coś", "m_w1": "1"}
