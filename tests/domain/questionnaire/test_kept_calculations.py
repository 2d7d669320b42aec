"""Calculations with once(), now() and uuid(): their first value is kept with the answers,
on the web and by phone (the same validate_page), in repeats too; read later as stored."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from app.domain.dates import WARSAW
from app.domain.questionnaire.answers import answers_from_json, answers_to_json
from app.domain.questionnaire.flow import PHONE, WEB, Flow
from app.domain.questionnaire.loading import load_definition

from .expression_cases import UUID4

TODAY = date(2026, 3, 31)
MORNING = datetime(2026, 3, 31, 8, 15, 0, tzinfo=WARSAW)

FORM = """\
settings: {id: kept, title: Kept, languages: [pl], paging: item}
survey:
  - {type: text, name: nazwa, label: Nazwa}
  - {type: calculate, name: start, calculation: "once(now())"}
  - {type: calculate, name: id, calculation: "once(uuid())"}
  - {type: calculate, name: kiedy_nazwa, calculation: "once(if(${nazwa} = '', '', now()))"}
  - {type: calculate, name: godzina, calculation: "format-date-time(now(), '%H:%M')"}
  - {type: calculate, name: dlugosc, calculation: "string-length(${nazwa})"}
  - {type: integer, name: liczba, label: Liczba}
  - type: repeat
    name: osoby
    label: Osoba
    children:
      - {type: text, name: imie, label: Imię}
      - {type: calculate, name: osoba_id, calculation: "once(uuid(6))"}
"""


def _flow() -> Flow:
    loaded = load_definition(FORM.encode(), "kept.yaml")
    assert loaded.questionnaire is not None, [str(p) for p in loaded.problems]
    return Flow(loaded.questionnaire)


def _save(
    flow: Flow, page: str, fields: dict[str, list[str]], answers: dict, now: datetime, mode=WEB
):
    result = flow.validate_page(
        flow.page(mode, page), fields, answers, mode=mode, sample={}, today=TODAY, now=now
    )
    assert result.ok, result.errors
    return result.apply(answers)


def test_the_first_value_is_stored_by_the_first_page_saved_and_then_kept() -> None:
    flow = _flow()
    answers = _save(flow, "nazwa", {"nazwa": [""]}, {}, MORNING)
    assert answers["start"] == "2026-03-31T08:15:00"
    assert re.fullmatch(UUID4, answers["id"])
    assert answers["godzina"] == "08:15"  # now() outside once(): kept all the same
    assert "kiedy_nazwa" not in answers  # empty so far: not kept yet
    assert "dlugosc" not in answers  # an ordinary calculation is never stored
    later = MORNING + timedelta(hours=2)
    again = _save(flow, "nazwa", {"nazwa": ["Caritas"]}, answers, later, mode=PHONE)
    assert {k: again[k] for k in ("start", "id", "godzina")} == {
        k: answers[k] for k in ("start", "id", "godzina")
    }
    assert again["kiedy_nazwa"] == "2026-03-31T10:15:00"  # kept from its first value on
    cleared = _save(flow, "nazwa", {"nazwa": [""]}, again, later + timedelta(hours=1))
    assert cleared["kiedy_nazwa"] == "2026-03-31T10:15:00"
    stored = answers_from_json(flow.questionnaire, answers_to_json(flow.questionnaire, again))
    state = flow.state(stored, sample={}, today=date(2026, 5, 1))  # an export, a month on
    clean = flow.clean_answers(state)
    assert clean["start"] == "2026-03-31T08:15:00" and clean["id"] == again["id"]
    assert clean["dlugosc"] == 7


def test_a_kept_calculation_in_a_repeat_is_kept_per_entry() -> None:
    flow = _flow()
    page = next(p.id for p in flow.pages(WEB) if p.repeats)
    fields = {"osoby": ["2"], "osoby.1.imie": ["Ala"], "osoby.2.imie": ["Ola"]}
    answers = _save(flow, page, fields, {}, MORNING)
    first, second = answers["osoby"]
    assert (
        re.fullmatch("[A-Za-z0-9]{6}", first["osoba_id"])
        and first["osoba_id"] != second["osoba_id"]
    )
    fields["osoby.2.imie"] = ["Ela"]
    again = _save(flow, page, fields, answers, MORNING + timedelta(minutes=5))
    assert [e["osoba_id"] for e in again["osoby"]] == [first["osoba_id"], second["osoba_id"]]


def test_once_and_uuid_outside_a_calculation_are_reported() -> None:
    text = """\
settings: {id: k, title: K, languages: [pl]}
survey:
  - {type: integer, name: a, label: A, relevant: "once(1) = 1"}
  - {type: integer, name: b, label: B, constraint: "string-length(uuid()) = 36"}
  - {type: datetime, name: c, label: C, constraint: ". <= now()"}
"""
    result = load_definition(text.encode(), "k.yaml")
    assert [(p.severity, p.item, str(p.message)) for p in result.problems] == [
        (
            "warning",
            "a",
            "relevant uses once(), which keeps the first value of a calculation: here it "
            "gives its argument's value.",
        ),
        (
            "error",
            "b",
            "constraint uses uuid(), a new random value each time it is evaluated: use it "
            "in a calculation, which keeps its first value.",
        ),
    ]
