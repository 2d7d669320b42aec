"""A questionnaire with lists (repeats): an open list of partners (at most 5, named by
their answer "Nazwa", with a nested list of jobs inside each), a list whose number of
entries an answer fixes, and calculations over the lists; with a fieldwork of it."""

from __future__ import annotations

from flask import Flask

PARTNERS = """\
settings:
  id: partnerzy_test
  title: Partnerzy
  languages: [pl]
  paging: group
choices:
  typ:
    - {name: ngo, label: Organizacja pozarządowa}
    - {name: jst, label: Samorząd}
    - {name: firma, label: Firma}
survey:
  - type: integer
    name: liczba
    label: Ilu partnerów?
  - type: repeat
    name: partnerzy
    label: Partner
    instance_label: nazwa
    repeat_min: 1
    repeat_max: 5
    children:
      - {type: text, name: nazwa, label: Nazwa, required: yes}
      - {type: select_one typ, name: typ_partnera, label: Typ}
      - {type: integer, name: miejsca, label: Miejsca pracy, relevant: "${typ_partnera} = 'firma'"}
      - {type: calculate, name: podwojone, calculation: "${miejsca} * 2"}
      - type: note
        name: o_partnerze
        label: "O partnerze: ${nazwa}, miejsc razy dwa: ${podwojone}"
      - type: repeat
        name: etaty
        label: Etat
        children:
          - {type: text, name: stanowisko, label: Stanowisko}
          - {type: calculate, name: nr_etatu, calculation: "position(..)"}
  - type: calculate
    name: ile
    calculation: "count(${partnerzy})"
  - type: calculate
    name: suma
    calculation: "sum(${miejsca})"
  - type: calculate
    name: nazwy
    calculation: "join(', ', ${nazwa})"
  - type: note
    name: podsumowanie
    label: "Partnerów: ${ile}, miejsc: ${suma}, nazwy: ${nazwy}"
  - type: repeat
    name: stale
    label: Stały
    repeat_count: "${liczba}"
    children:
      - {type: text, name: opis, label: Opis}
"""


def partners_fieldwork(app: Flask, clock, *, units: int = 2) -> int:
    """An open fieldwork of PARTNERS with institutions P-01, P-02, ... (phones too)."""
    from app.fieldwork import services
    from app.surveys import services as surveys

    with app.extensions["ankieta.db"].session() as session:
        outcome = surveys.load_bytes(session, PARTNERS.encode(), "partnerzy.yaml")
        assert outcome.ok, [p.render() for p in outcome.problems]
        fieldwork = services.create_fieldwork(session, "partnerzy_test", "Partnerzy 2026")
        rows = [f"P-0{n};Instytucja {n};3211111{n:02d}" for n in range(1, units + 1)]
        sample = "\n".join(["external_id;name;phone", *rows])
        assert services.import_sample(
            session, fieldwork, sample.encode(), "sample.csv", now=clock()
        ).ok
        fieldwork.open(clock())
        return fieldwork.id


def to_partners_page(respondent, liczba: str = "2"):
    """From the personal link to the list of partners (``liczba``: the fixed list's count)."""
    form = respondent.begin()
    assert form.page_id == "liczba", form.page_id
    form = respondent.next(form, {"liczba": liczba})
    assert form is not None and form.page_id == "partnerzy"
    return form


def press(respondent, form, action: str, answers=None):
    """Press a button of the page (``add:partnerzy``, ``remove:partnerzy.2``, ``next``...)
    with the page as shown and ``answers`` typed over it; the response."""
    from tests.support.respondent import shown_values

    return respondent.send(form, {**shown_values(form), **(answers or {})}, action)
