"""The interviewer's roster: a repeat asked one instance at a time, by phone."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.domain.questionnaire.flow import PHONE, Flow, State
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.roster import (
    Stop,
    asks_another,
    entry,
    next_stop,
    previous_stop,
    roster_of,
    stop_at,
    stops,
)

DEFINITION = """
settings: {id: roster, title: Roster}
survey:
  - {type: integer, name: liczba, label: Ilu pracowników?}
  - type: repeat
    name: partnerzy
    label: Partner
    repeat_max: 3
    children:
      - {type: text, name: nazwa, label: Nazwa}
  - type: repeat
    name: pracownicy
    label: Pracownik
    repeat_count: "${liczba}"
    children:
      - {type: text, name: imie, label: Imię}
  - type: group
    name: razem
    appearance: field-list
    children:
      - {type: text, name: uwagi, label: Uwagi}
      - type: repeat
        name: inne
        label: Inne
        children:
          - {type: text, name: co, label: Co}
  - {type: text, name: koniec, label: Koniec}
"""


def flow_and_state(answers: dict[str, Any]) -> tuple[Flow, State]:
    result = load_definition(DEFINITION.encode(), "roster.yaml")
    assert result.questionnaire is not None, result.problems
    flow = Flow(result.questionnaire)
    return flow, flow.state(answers, sample={}, today=date(2026, 12, 5))


def walk(flow: Flow, state: State) -> list[tuple[str, int]]:
    stop: Stop | None = entry(flow.pages(PHONE)[0], state)
    seen = []
    while stop is not None:
        seen.append((stop.page.id, stop.instance))
        stop = next_stop(flow, state, stop, PHONE)
    return seen


def test_a_repeat_page_is_a_roster_and_a_field_list_holding_one_is_not():
    flow, _ = flow_and_state({})
    kinds = {page.id: roster_of(page) is not None for page in flow.pages(PHONE)}
    assert kinds == {
        "liczba": False,
        "partnerzy": True,
        "pracownicy": True,
        "razem": False,
        "koniec": False,
    }


def test_forward_walk_visits_every_instance_and_skips_a_fixed_count_of_zero():
    flow, state = flow_and_state({"liczba": 0, "partnerzy": ({"nazwa": "A"}, {"nazwa": "B"})})
    assert walk(flow, state) == [
        ("liczba", 0),
        ("partnerzy", 1),
        ("partnerzy", 2),
        ("razem", 0),
        ("koniec", 0),
    ]
    flow, state = flow_and_state({"liczba": 2})
    assert walk(flow, state) == [
        ("liczba", 0),
        ("partnerzy", 0),
        ("pracownicy", 1),
        ("pracownicy", 2),
        ("razem", 0),
        ("koniec", 0),
    ]


def test_another_is_asked_after_the_last_instance_of_an_open_list_until_it_is_full():
    flow, state = flow_and_state({"liczba": 1, "partnerzy": ({"nazwa": "A"},)})
    page = flow.page(PHONE, "partnerzy")
    assert asks_another(Stop(page, 1), state)
    assert not asks_another(Stop(page, 0), state)  # there is one already: no "none yet"
    assert not asks_another(Stop(flow.page(PHONE, "pracownicy"), 1), state)  # fixed count
    assert not asks_another(Stop(flow.page(PHONE, "liczba"), 0), state)
    empty = flow_and_state({})[1]
    assert asks_another(Stop(page, 0), empty)
    full = flow_and_state({"partnerzy": ({}, {}, {})})[1]
    assert not asks_another(Stop(page, 3), full)


def test_yes_adds_an_instance_and_goes_to_it():
    flow, state = flow_and_state({"partnerzy": ({"nazwa": "A"},)})
    page = flow.page(PHONE, "partnerzy")
    answers = flow.add_instance(state.answers, "partnerzy")
    after = flow.state(answers, sample={}, today=date(2026, 12, 5))
    assert next_stop(flow, after, Stop(page, 1), PHONE) == Stop(page, 2)
    assert next_stop(flow, state, Stop(page, 1), PHONE) == Stop(flow.page(PHONE, "razem"), 0)


def test_back_crosses_instance_and_page_boundaries():
    flow, state = flow_and_state({"liczba": 2, "partnerzy": ({"nazwa": "A"}, {"nazwa": "B"})})
    partners = flow.page(PHONE, "partnerzy")
    workers = flow.page(PHONE, "pracownicy")
    assert previous_stop(flow, state, Stop(workers, 1), PHONE) == Stop(partners, 2)
    assert previous_stop(flow, state, Stop(partners, 2), PHONE) == Stop(partners, 1)
    assert previous_stop(flow, state, Stop(partners, 1), PHONE) == Stop(
        flow.page(PHONE, "liczba"), 0
    )
    assert previous_stop(flow, state, Stop(flow.page(PHONE, "liczba"), 0), PHONE) is None
    assert previous_stop(flow, state, Stop(flow.page(PHONE, "razem"), 0), PHONE) == Stop(workers, 2)


def test_the_jump_list_names_every_instance():
    flow, state = flow_and_state({"liczba": 1, "partnerzy": ({"nazwa": "A"}, {"nazwa": "B"})})
    assert [(s.page.id, s.instance) for s in stops(flow, state, PHONE)] == [
        ("liczba", 0),
        ("partnerzy", 1),
        ("partnerzy", 2),
        ("pracownicy", 1),
        ("razem", 0),
        ("koniec", 0),
    ]


def test_a_link_to_a_removed_instance_shows_the_last_one():
    flow, state = flow_and_state({"partnerzy": ({"nazwa": "A"},)})
    assert stop_at(flow, state, PHONE, "partnerzy", 7).instance == 1
    assert stop_at(flow, state, PHONE, "partnerzy", 0).instance == 1
    assert stop_at(flow, flow_and_state({})[1], PHONE, "partnerzy", 3).instance == 0
    assert stop_at(flow, state, PHONE, "liczba", 4).instance == 0
