"""The export's fast reader gives exactly what the flow gives, over many answer sets.

``AnswerReader.clean`` skips the flow's state where it can and remembers, per distinct
combination of the answers that conditions refer to, which conditional variables count.
One reader is reused for every answer set here, as in an export, so the remembered
results are exercised; the reference is ``Flow.clean_answers``.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest

from app.domain.outputs.export import AnswerReader
from app.domain.questionnaire.answers import answers_from_json, answers_to_json
from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.synthetic import generate_answers
from tests.support import shipped_questionnaires

SURVEYS = Path(__file__).resolve().parents[3] / "surveys"
SAMPLES = [
    {"subregion": "południowy", "entity_type": "CIS", "gmina": "Żory", "name": "A"},
    {"subregion": "centralny", "entity_type": "KIS", "gmina": "Gliwice", "name": "B"},
    {},
]


@pytest.mark.parametrize("path", shipped_questionnaires(SURVEYS), ids=lambda p: p.stem)
def test_reader_cleans_like_the_flow(path: Path) -> None:
    flow = Flow(load_definition(path.read_bytes(), path.name).questionnaire)
    q = flow.questionnaire
    reader = AnswerReader(flow)
    rng = random.Random(path.stem)
    stored_sets = []
    for n in range(120):
        sample = SAMPLES[n % len(SAMPLES)]
        today = date(2026, 1 + n % 12, 1 + n % 28)
        made = generate_answers(
            flow, sample=sample, today=today, rng=rng, mode="web" if n % 2 else "phone"
        )
        stored_sets.append((answers_to_json(q, made.answers), sample, today))
    # respondents who went back and changed a filter: answers of questions that are no
    # longer asked stay stored and must be left out
    for _ in range(60):
        first, _s1, _t1 = stored_sets[rng.randrange(len(stored_sets))]
        second, sample, today = stored_sets[rng.randrange(len(stored_sets))]
        mixed = dict(first)
        mixed.update({k: v for k, v in second.items() if rng.random() < 0.5})
        stored_sets.append((mixed, sample, today))
    for stored, sample, today in stored_sets:
        answers = answers_from_json(q, stored, flow.variables)
        expected = flow.clean_answers(flow.state(answers, sample=sample, today=today))
        assert reader.clean(stored, sample=sample, today=today) == expected, stored


PLAIN_REPEATS = """
settings: {id: plain_repeats, title: Listy, languages: [pl]}
choices:
  typ: [{name: a, label: A}, {name: b, label: B}]
survey:
  - {type: select_one typ, name: filtr, label: Filtr}
  - type: repeat
    name: lista
    label: Pozycja
    repeat_max: 3
    children:
      - {type: text, name: nazwa, label: Nazwa}
      - {type: select_multiple typ, name: typy, label: Typy}
      - type: repeat
        name: wewn
        label: Wewnętrzna
        repeat_max: 2
        children:
          - {type: integer, name: ile, label: Ile}
  - type: repeat
    name: warunkowa
    label: Warunkowa
    relevant: "${filtr} = 'a'"
    children:
      - {type: integer, name: liczba_w, label: Liczba}
"""


def _random_entries(rng: random.Random, fields: dict, depth: int = 0) -> list[dict]:
    """Up to five stored entries, each with some of ``fields`` (name -> value maker)."""
    entries = []
    for _ in range(rng.randrange(6)):
        entry = {}
        for name, make in fields.items():
            if rng.random() < 0.7:
                entry[name] = make(rng, depth + 1)
        entries.append(entry)
    return entries


@pytest.mark.parametrize("source", ["repeats.yaml", "plain"])
def test_reader_cleans_repeats_like_the_flow(source: str) -> None:
    if source == "plain":
        loaded = load_definition(PLAIN_REPEATS.encode(), "plain_repeats.yaml")
    else:
        from tests.support.exports import REPEATS_DEFINITION

        loaded = load_definition(REPEATS_DEFINITION)
    assert loaded.questionnaire is not None, loaded.problems
    flow = Flow(loaded.questionnaire)
    q = flow.questionnaire
    reader = AnswerReader(flow)
    # the plain lists are read without the flow's state; the others through it
    assert reader._plain_repeats == ({"lista", "warunkowa"} if source == "plain" else set())
    rng = random.Random(source)

    def number(r, _d):
        return r.choice([r.randint(0, 20), {"missing": "dont_know"}, "x"])

    def code(r, _d):
        return r.choice(["a", "b", "ngo", "firma", "jst"])

    def codes(r, _d):
        return r.sample(["a", "b", "01", "02"], r.randrange(3))

    def inner(r, d):
        return _random_entries(r, {"ile": number, "stanowisko": code, "wymiar": number}, d)

    entry_fields = {
        "nazwa": lambda r, _d: f"n{r.randrange(99)}",
        "typ_partnera": code,
        "miejsca": number,
        "typy": codes,
        "formy": codes,
        "etaty": inner,
        "wewn": inner,
    }
    for n in range(200):
        stored = {
            "filtr": code(rng, 0),
            "liczba": rng.choice([0, 1, 3, 150, None]),
            "partnerzy": _random_entries(rng, entry_fields),
            "lista": _random_entries(rng, entry_fields),
            "stale": _random_entries(rng, {"opis": lambda r, _d: "o"}),
            "warunkowa": _random_entries(rng, {"liczba_w": number}),
        }
        if n % 7 == 0:
            stored["lista"] = stored["partnerzy"] = "not a list"
        stored = {k: v for k, v in stored.items() if v is not None}
        answers = answers_from_json(q, stored, flow.variables)
        today = date(2026, 3, 1)
        expected = flow.clean_answers(flow.state(answers, sample={}, today=today))
        assert reader.clean(stored, sample={}, today=today) == expected, stored


ALL_KINDS = """
settings: {id: all_kinds, title: Wszystko, languages: [pl]}
choices:
  tak_nie: [{name: "1", label: Tak}, {name: "2", label: Nie}]
  formy: [{name: a, label: A}, {name: b, label: B}, {name: inna, label: Inna}]
survey:
  - {type: select_one tak_nie, name: filtr, label: Filtr}
  - {type: integer, name: liczba, label: Liczba, relevant: "${filtr} = '1'"}
  - {type: decimal, name: kwota, label: Kwota}
  - {type: date, name: dzien, label: Dzień, relevant: "${filtr} != '2'"}
  - {type: text, name: opis, label: Opis}
  - {type: select_multiple formy, name: formy, label: Formy}
  - {type: text, name: formy_inna, label: Inna forma, relevant: "selected(${formy}, 'inna')"}
  - {type: select_one formy, name: forma, label: Forma}
  - {type: time, name: godzina, label: Godzina}
"""

JUNK = [
    None,
    True,
    0,
    -7,
    2**70,
    1.5,
    "",
    "1",
    "2",
    "a",
    "inna",
    "zz",
    "12.50",
    "-0.00",
    "007",
    "1e5",
    " 12",
    "1_000",
    "NaN",
    "Infinity",
    "3.",
    ".5",
    "-",
    "+1",
    "--1",
    "1.5.2",
    "-3.250",
    "\u0661\u0662",  # Arabic-Indic digits: Decimal reads them, they are no plain decimal
    "1\u00b2",
    "2026-02-30",
    "2026-03-01",
    "20260301",
    "12:30",
    ["a"],
    ["b", "a"],
    ["a", "zz"],
    [],
    [1],
    {"missing": "dont_know"},
    {"missing": "refused"},
    {"missing": "other"},
    {"x": 1},
]


@pytest.mark.parametrize("labels", [False, True], ids=["codes", "labels"])
def test_direct_cells_are_the_reader_and_converter_cells(labels: bool) -> None:
    """``DirectCells`` (one pass from the stored answers) gives the cells of
    ``RowConverter.cells(AnswerReader.clean(...))`` for every kind of stored value, also
    values no form stores (wrong types, numbers Decimal reads in other spellings)."""
    from app.domain.outputs.export import DirectCells, RowConverter, response_columns

    loaded = load_definition(ALL_KINDS.encode(), "all_kinds.yaml")
    assert loaded.questionnaire is not None, loaded.problems
    flow = Flow(loaded.questionnaire)
    # the columns of two versions: the older one had ``opis`` as a number and a variable
    # that is gone, whose stored values must stay out of this version's cells
    older = load_definition(
        ALL_KINDS.replace("type: text, name: opis", "type: integer, name: opis")
        .replace("- {type: time,", "- {type: integer, name: stara, label: Stara}\n  - {type: time,")
        .encode(),
        "all_kinds.yaml",
    )
    assert older.questionnaire is not None, older.problems
    columns = response_columns([Flow(older.questionnaire), flow])
    reader = AnswerReader(flow)
    converter = RowConverter(flow, columns, labels=labels, language="pl")
    assert reader.direct
    direct = DirectCells(reader, converter)
    rng = random.Random(labels)
    names = [*flow.variables, "stara", "nieznana"]
    for n in range(3000):
        stored = {name: rng.choice(JUNK) for name in names if rng.random() < 0.8}
        today = date(2026, 3, 1 + n % 28)
        expected = converter.cells(reader.clean(stored, sample={}, today=today))
        assert direct.cells(stored, sample={}, today=today) == expected, stored
        # the same values, with the same types (an int is not a float that equals it)
        got = direct.cells(stored, sample={}, today=today)
        assert [type(c) for c in got] == [type(c) for c in expected], stored


@pytest.mark.parametrize("path", shipped_questionnaires(SURVEYS), ids=lambda p: p.stem)
def test_direct_cells_on_shipped_questionnaires(path: Path) -> None:
    """On each shipped questionnaire the direct path is taken when it can be, and gives the
    cells of the two steps for generated answers."""
    from app.domain.outputs.export import DirectCells, RowConverter, response_columns

    flow = Flow(load_definition(path.read_bytes(), path.name).questionnaire)
    reader = AnswerReader(flow)
    if not reader.direct:  # lists or calculations: the two steps are the only path
        assert flow.repeat_flows or any(
            v.kind.name == "CALCULATION" for v in flow.variables.values()
        )
        return
    converter = RowConverter(flow, response_columns([flow]))
    direct = DirectCells(reader, converter)
    rng = random.Random(path.stem)
    for n in range(150):
        sample = SAMPLES[n % len(SAMPLES)]
        today = date(2026, 1 + n % 12, 1 + n % 28)
        made = generate_answers(flow, sample=sample, today=today, rng=rng, mode="web")
        stored = answers_to_json(flow.questionnaire, made.answers)
        expected = converter.cells(reader.clean(stored, sample=sample, today=today))
        assert direct.cells(stored, sample=sample, today=today) == expected, stored
