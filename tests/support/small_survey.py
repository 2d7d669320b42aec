"""Small definitions: the smallest valid one (``MINIMAL``), and one in Polish, Ukrainian and
English with a fieldwork of it, for tests of languages, mid-fieldwork upgrades and staff
edits."""

from __future__ import annotations

from flask import Flask

# the smallest valid definition: one integer question
MINIMAL = """\
settings:
  id: proba
  title: Próba
survey:
  - type: integer
    name: liczba
    label: Ile?
"""

SMALL = """
settings:
  id: maly
  title: {{pl: "Mała ankieta", uk: "Мала анкета", en: "Small survey"}}
  default_language: pl
  languages: [pl, uk, en]
  dont_know: phone
  refused: phone
choices:
  tak_nie:
    - {{name: "1", label: {{pl: "Tak", uk: "Так", en: "Yes"}}}}
    - {{name: "2", label: {{pl: "Nie", uk: "Ні", en: "No"}}}}
{extra_choices}
survey:
  - type: group
    name: a
    label: {{pl: "A. {a_label}", uk: "A. Про установу", en: "A. About"}}
    children:
      - type: {q1_type}
        name: q1
        label: {{pl: "Liczba pracowników", uk: "Кількість працівників", en: "Employees"}}
        required: yes
      - type: select_one tak_nie
        name: q2
        label: {{pl: "Czy działa?", uk: "Чи працює?", en: "Active?"}}
        required: yes
{q3}
{q4}
"""

Q3 = """      - type: text
        name: q3
        label: {pl: "Uwagi", uk: "Примітки", en: "Remarks"}
"""


def small_definition(
    *,
    a_label: str = "O instytucji",
    q1_type: str = "integer",
    q3: bool = True,
    q4: str = "",
    extra_choices: str = "",
) -> bytes:
    return SMALL.format(
        a_label=a_label,
        q1_type=q1_type,
        q3=Q3 if q3 else "",
        q4=q4,
        extra_choices=extra_choices,
    ).encode("utf-8")


def load_small(app: Flask, **kwargs) -> int:
    """Load a version of the small survey; its number."""
    from app.surveys import services

    with app.extensions["ankieta.db"].session() as session:
        outcome = services.load_bytes(session, small_definition(**kwargs), "maly.yaml")
        assert outcome.ok, [p.render() for p in outcome.problems]
        return outcome.version.number


def small_fieldwork(app: Flask, clock, *, state: str = "open") -> int:
    """A fieldwork of the small survey's latest version with two institutions."""
    from app.fieldwork import services

    with app.extensions["ankieta.db"].session() as session:
        fieldwork = services.create_fieldwork(session, "maly", "Mała 2026")
        sample = "external_id;name;phone\nM-01;Instytucja pierwsza;321111101\nM-02;Druga;321111102"
        assert services.import_sample(
            session, fieldwork, sample.encode(), "sample.csv", now=clock()
        ).ok
        if state == "open":
            fieldwork.open(clock())
        return fieldwork.id
