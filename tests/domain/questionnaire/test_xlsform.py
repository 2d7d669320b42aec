"""XLSForm workbooks load into the same model as their YAML twin; the rest is refused cleanly."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from app.domain.questionnaire.expressions import Expression
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.model import Questionnaire, Text

PL, EN = "label::Polski (pl)", "label::English (en)"
SURVEY = [
    {"type": "begin group", "name": "a", PL: "A. Uczestnicy", EN: "A. Participants",
     "appearance": "field-list"},
    {"type": "integer", "name": "a1", PL: "Liczba uczestników", EN: "Number of participants",
     "hint::Polski (pl)": "Stan na 31 grudnia", "hint::English (en)": "As at 31 December",
     "required": "yes", "constraint": ". >= 0 and . <= 10000",
     "constraint_message::Polski (pl)": "Od 0 do 10000",
     "constraint_message::English (en)": "From 0 to 10000"},
    {"type": "select_one tak_nie", "name": "a2", PL: "Czy współpracuje?", EN: "Cooperates?",
     "relevant": "${a1} > 0"},
    {"type": "select_multiple forma or_other", "name": "a3", PL: "Z kim?", EN: "With whom?",
     "relevant": "${a2} = '1'", "constraint": "count-selected(.) <= 2"},
    {"type": "calculate", "name": "razem", "calculation": "${a1} * 2"},
    {"type": "end group"},
    {},  # an empty row between pages, as people leave them
    {"type": "begin_group", "name": "b", PL: "B. Inne", EN: "B. Other"},
    {"type": "note", "name": "b_intro", PL: "Razem: ${razem}", EN: "Total: ${razem}"},
    {"type": "text", "name": "b1", PL: "Nazwa", EN: "Name", "default": "abc",
     "appearance": "multiline", "relevant": "selected(${a3}, 'spoldzielnia')"},
    {"type": "date", "name": "b2", PL: "Data", EN: "Date", "constraint": ". <= today()"},
    {"type": "select_one gmina", "name": "b3", PL: "Gmina", EN: "Municipality",
     "choice_filter": "subregion = 'poludniowy'"},
    {"type": "decimal", "name": "b4", PL: "Kwota", EN: "Amount", "required": "${a1} > 10"},
    {"type": "end_group"},
]  # fmt: skip
CHOICES = [
    {"list_name": "tak_nie", "name": "1", PL: "Tak", EN: "Yes"},
    {"list_name": "tak_nie", "name": "2", PL: "Nie", EN: "No"},
    {"list_name": "forma", "name": "spoldzielnia", PL: "Spółdzielnia", EN: "Cooperative"},
    {"list_name": "forma", "name": "fundacja", PL: "Fundacja", EN: "Foundation"},
    {"list_name": "gmina", "name": "246101", PL: "Bielsko-Biała", EN: "Bielsko-Biała",
     "subregion": "poludniowy"},
    {"list_name": "gmina", "name": "246601", PL: "Gliwice", EN: "Gliwice",
     "subregion": "zachodni"},
]  # fmt: skip
SETTINGS = [
    {"form_title": "Monitoring", "form_id": "monitoring", "version": "2026.1",
     "default_language": "Polski (pl)"},
]  # fmt: skip

YAML_TWIN = """\
settings:
  id: monitoring
  title: {pl: Monitoring, en: Monitoring}
  version: "2026.1"
  default_language: pl
  languages: [pl, en]
choices:
  tak_nie:
    - {name: "1", label: {pl: Tak, en: "Yes"}, subregion: ""}
    - {name: "2", label: {pl: Nie, en: "No"}, subregion: ""}
  forma:
    - {name: spoldzielnia, label: {pl: Spółdzielnia, en: Cooperative}, subregion: ""}
    - {name: fundacja, label: {pl: Fundacja, en: Foundation}, subregion: ""}
    - {name: other, label: {pl: Other, en: Other}, other: yes, subregion: ""}
  gmina:
    - {name: "246101", label: {pl: Bielsko-Biała, en: Bielsko-Biała}, subregion: poludniowy}
    - {name: "246601", label: {pl: Gliwice, en: Gliwice}, subregion: zachodni}
survey:
  - type: group
    name: a
    label: {pl: A. Uczestnicy, en: A. Participants}
    appearance: field-list
    children:
      - type: integer
        name: a1
        label: {pl: Liczba uczestników, en: Number of participants}
        hint: {pl: Stan na 31 grudnia, en: As at 31 December}
        required: yes
        constraint: ". >= 0 and . <= 10000"
        constraint_message: {pl: Od 0 do 10000, en: From 0 to 10000}
      - type: select_one tak_nie
        name: a2
        label: {pl: "Czy współpracuje?", en: "Cooperates?"}
        relevant: "${a1} > 0"
      - type: select_multiple forma
        name: a3
        label: {pl: "Z kim?", en: "With whom?"}
        relevant: "${a2} = '1'"
        constraint: "count-selected(.) <= 2"
      - {type: calculate, name: razem, calculation: "${a1} * 2"}
  - type: group
    name: b
    label: {pl: B. Inne, en: B. Other}
    children:
      - {type: note, name: b_intro, label: {pl: "Razem: ${razem}", en: "Total: ${razem}"}}
      - type: textarea
        name: b1
        label: {pl: Nazwa, en: Name}
        default: abc
        appearance: multiline
        relevant: "selected(${a3}, 'spoldzielnia')"
      - {type: date, name: b2, label: {pl: Data, en: Date}, constraint: ". <= today()"}
      - type: select_one gmina
        name: b3
        label: {pl: Gmina, en: Municipality}
        choice_filter: "subregion = 'poludniowy'"
      - {type: decimal, name: b4, label: {pl: Kwota, en: Amount}, required: "${a1} > 10"}
"""


def _workbook(
    survey: list[dict[str, Any]],
    choices: list[dict[str, Any]] | None = None,
    settings_rows: list[dict[str, Any]] | None = None,
) -> bytes:
    """An .xlsx file with these sheets, each row a mapping of column to value."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in (("survey", survey), ("choices", choices), ("settings", settings_rows)):
        if rows is None:
            continue
        sheet = workbook.create_sheet(title)
        columns = list(dict.fromkeys(key for row in rows for key in row))
        sheet.append(columns)
        for row in rows:
            sheet.append([row.get(column) for column in columns])
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def _texts(text: Text | None) -> dict[str, str] | None:
    return dict(text.by_language) if text is not None else None


def _source(value: object) -> object:
    return value.source if isinstance(value, Expression) else value


def _shape(questionnaire: Questionnaire) -> dict[str, Any]:
    """Everything a questionnaire declares, without where it was written."""
    settings = questionnaire.settings
    return {
        "settings": (
            settings.id,
            _texts(settings.title),
            settings.version,
            settings.default_language,
            settings.languages,
            settings.paging,
        ),
        "choices": {
            name: [(c.name, _texts(c.label), c.other, dict(c.extra)) for c in choice_list.choices]
            for name, choice_list in questionnaire.choices.items()
        },
        "items": [
            {
                "type": item.type,
                "name": item.name,
                "parent": item.parent.name if item.parent else None,
                "list": item.list_name,
                "texts": [
                    _texts(item.label),
                    _texts(item.hint),
                    _texts(item.required_message),
                    _texts(item.constraint_message),
                ],
                "logic": [
                    _source(item.required),
                    _source(item.relevant),
                    _source(item.constraint),
                    _source(item.calculation),
                    _source(item.choice_filter),
                ],
                "other": (item.default, item.appearance, item.read_only),
                "repeat": (
                    _source(item.repeat_count),
                    item.repeat_min,
                    item.repeat_max,
                    item.instance_label,
                ),
            }
            for item in questionnaire.walk()
        ],
    }


def test_multi_page_multi_language_workbook_equals_its_yaml_twin() -> None:
    workbook = load_definition(_workbook(SURVEY, CHOICES, SETTINGS), "monitoring.xlsx")
    twin = load_definition(YAML_TWIN.encode(), "monitoring.yaml")
    assert twin.problems == []
    assert workbook.problems == []
    assert workbook.questionnaire is not None and twin.questionnaire is not None
    assert _shape(workbook.questionnaire) == _shape(twin.questionnaire)


def test_workbook_items_are_compiled_and_point_at_their_rows() -> None:
    result = load_definition(_workbook(SURVEY, CHOICES, SETTINGS), "monitoring.xlsx")
    questionnaire = result.questionnaire
    assert questionnaire is not None
    a3 = questionnaire.item("a3")
    assert isinstance(a3.relevant, Expression) and a3.relevant.references == {"a2"}
    assert a3.parent is questionnaire.item("a")
    assert str(a3.location) == "monitoring.xlsx:survey:5"
    assert [page.name for page in questionnaire.items] == ["a", "b"]
    assert isinstance(questionnaire.item("b4").required, Expression)


def test_or_other_marks_pyxforms_other_choice_and_drops_its_generated_question() -> None:
    questionnaire = load_definition(_workbook(SURVEY, CHOICES, SETTINGS), "m.xlsx").questionnaire
    assert questionnaire is not None
    other = questionnaire.choices["forma"].get("other")
    assert other is not None and other.other
    assert "a3_other" not in [item.name for item in questionnaire.walk()]


def test_unsupported_types_are_refused_with_sheet_and_row() -> None:
    survey = [
        {"type": "integer", "name": "a", "label": "A"},
        {"type": "begin repeat", "name": "osoby", "label": "Osoby"},
        {"type": "text", "name": "imie", "label": "Imię"},
        {"type": "xml-external", "name": "miejsca"},
        {"type": "end repeat"},
        {"type": "image", "name": "zdjecie", "label": "Zdjęcie"},
        {"type": "file", "name": "plik", "label": "Plik"},
        {"type": "range", "name": "zakres", "label": "Zakres", "parameters": "start=5 end=0"},
        {"type": "deviceid", "name": "urzadzenie"},
    ]
    result = load_definition(_workbook(survey, None, [{"form_id": "f"}]), "f.xlsx")
    assert [str(problem) for problem in result.problems] == [
        # (the image and the file are file questions: see test_file_questions.py)
        "f.xlsx:survey:5: item miejsca: The type xml-external is not supported.",
        "f.xlsx:survey:9: item zakres: The start of a range (5) is more than its end (0).",
        "f.xlsx:survey:10: item urzadzenie: warning: XLSForm metadata (deviceid) is not "
        "collected; the row is left out.",
    ]
    assert result.questionnaire is None


def test_columns_ankieta_does_not_use_are_ignored_with_a_warning() -> None:
    survey = [{"type": "text", "name": "a", "label": "A", "media::image": "a.png",
               "comments": "ask the director", "appearance": "minimal"}]  # fmt: skip
    result = load_definition(_workbook(survey, None, [{"form_id": "f"}]), "f.xlsx")
    assert [str(problem) for problem in result.problems] == [
        "f.xlsx:survey:2: item a: warning: Images, audio and video are ignored.",
        "f.xlsx:survey:2: item a: warning: The column comments is ignored.",
        "f.xlsx:survey:2: item a: warning: The appearance minimal is ignored.",
    ]
    assert result.questionnaire is not None


def test_our_checks_apply_to_workbooks_with_rows() -> None:
    survey = [
        {"type": "integer", "name": "a", "label": "A", "relevant": "${b} > 0"},
        {"type": "integer", "name": "b", "label": "B"},
        {"type": "text", "name": "c", "label": "C", "relevant": "selected(${a}, '1')"},
    ]
    result = load_definition(_workbook(survey, None, [{"form_id": "f"}]), "f.xlsx")
    assert [str(problem) for problem in result.problems] == [
        "f.xlsx:survey:2: item a: relevant refers to ${b}, which comes later in the questionnaire.",
        "f.xlsx:survey:4: item c: selected() is used on ${a}, which is not a select question.",
    ]


def test_a_missing_translation_falls_back_to_the_default_language_with_a_warning() -> None:
    survey = [{"type": "integer", "name": "a", PL: "Liczba", EN: "Number"},
              {"type": "integer", "name": "b", EN: "Amount", "constraint": ". > 0",
               "constraint_message::Polski (pl)": "Za mało"}]  # fmt: skip
    settings_rows = [{"form_id": "f", "default_language": "English (en)"}]
    result = load_definition(_workbook(survey, None, settings_rows), "f.xlsx")
    assert [str(problem) for problem in result.problems] == [
        "f.xlsx:survey:3: item b: warning: label has no text in pl: the en text is shown.",
        "f.xlsx:survey:3: item b: warning: constraint_message has no text in en: the pl text "
        "is shown.",
    ]
    questionnaire = result.questionnaire
    assert questionnaire is not None
    b = questionnaire.item("b")
    assert b.label is not None and dict(b.label.by_language) == {"en": "Amount", "pl": "Amount"}
    assert b.constraint_message is not None and b.constraint_message.get("en") == "Za mało"


def test_languages_named_as_people_write_them_get_their_codes() -> None:
    survey = [{"type": "integer", "name": "a", "label::Polski": "Liczba",
               "label::English": "Number", "label::Swahili": "Idadi",
               "label::Українська": "Кількість", "label::Kreol Seselwa": "Kantite"}]  # fmt: skip
    result = load_definition(_workbook(survey), "f.xlsx")
    assert [str(problem) for problem in result.problems] == [
        "f.xlsx:survey:1: warning: The language Kreol Seselwa is not known: its code here is "
        "und-kreolses.",
        "f.xlsx:settings:2: warning: The settings have no form_id: the id is f, from the "
        "file name.",
    ]
    questionnaire = result.questionnaire
    assert questionnaire is not None
    assert questionnaire.settings.languages == ("pl", "en", "sw", "uk", "und-kreolses")
    label = questionnaire.item("a").label
    assert label is not None and label.get("uk") == "Кількість"


def test_a_bare_label_is_the_default_language() -> None:
    survey = [{"type": "integer", "name": "a", "label": "Number", "label::Français": "Nombre"}]
    settings_rows = [{"form_id": "f", "default_language": "English"}]
    questionnaire = load_definition(_workbook(survey, None, settings_rows), "f.xlsx").questionnaire
    assert questionnaire is not None
    assert questionnaire.settings.languages == ("en", "fr")
    label = questionnaire.item("a").label
    assert label is not None and dict(label.by_language) == {"en": "Number", "fr": "Nombre"}


def test_a_workbook_without_form_id_takes_its_id_from_the_file_name() -> None:
    survey = [{"type": "integer", "name": "a", "label": "A"}]
    result = load_definition(_workbook(survey), "uploads/Household Survey 2026.xlsx")
    assert [str(problem) for problem in result.problems] == [
        "uploads/Household Survey 2026.xlsx:settings:2: warning: The settings have no "
        "form_id: the id is household_survey_2026, from the file name."
    ]
    questionnaire = result.questionnaire
    assert questionnaire is not None
    assert questionnaire.settings.id == "household_survey_2026"
    assert questionnaire.settings.title.get("pl") == "Household Survey 2026"


def test_pyxforms_structural_errors_keep_their_row() -> None:
    survey = [{"type": "integer", "name": "a", "label": "A"}, {"type": "end group"}]
    result = load_definition(_workbook(survey, None, [{"form_id": "f"}]), "f.xlsx")
    [problem] = result.problems
    assert str(problem).startswith("f.xlsx:survey:3: XLSForm: ")
    assert result.questionnaire is None


def test_a_file_that_is_not_a_workbook_is_a_clean_problem() -> None:
    result = load_definition(b"this is not a zip file", "broken.xlsx")
    assert [str(problem) for problem in result.problems] == [
        "broken.xlsx: The file is not an .xlsx workbook that can be read."
    ]


def test_a_zip_that_is_not_a_workbook_is_a_clean_problem() -> None:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr("xl/workbook.xml", "<not really>")
    result = load_definition(stream.getvalue(), "broken.xlsx")
    assert [str(problem) for problem in result.problems] == [
        "broken.xlsx: The file is not an .xlsx workbook that can be read."
    ]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_as_a_workbook_never_raise(data: bytes) -> None:
    result = load_definition(b"PK\x03\x04" + data, "random.xlsx")
    assert result.questionnaire is None
    assert result.errors


def test_a_valid_workbook_carrying_a_zip_bomb_is_refused_before_unpacking() -> None:
    from app.domain.questionnaire.xlsform import load_xlsform

    good = _workbook(
        [{"type": "integer", "name": "a1", "label": "A1"}],
        settings_rows=[{"form_id": "bomba", "form_title": "Bomba"}],
    )
    stream = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(good)) as source,
        zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for item in source.infolist():
            bomb.writestr(item, source.read(item.filename))
        # 300 MB of zeros packs into a few hundred kilobytes
        with bomb.open("xl/media/padding.bin", "w", force_zip64=True) as padding:
            chunk = bytes(1024 * 1024)
            for _ in range(300):
                padding.write(chunk)
    assert len(stream.getvalue()) < 2 * 1024 * 1024
    result = load_xlsform(stream.getvalue(), "bomba.xlsx")
    assert result.questionnaire is None
    assert [p.message.msgid for p in result.problems] == [
        "the workbook would unpack to more than %(limit)s MB; it is refused"
    ]
    assert load_xlsform(good, "dobry.xlsx").questionnaire is not None, load_xlsform(
        good, "dobry.xlsx"
    ).problems


REPEAT_SURVEY = [
    {"type": "integer", "name": "liczba", "label": "Ilu pracowników?", "required": "yes",
     "constraint": ". >= 0 and . <= 4"},
    {"type": "begin group", "name": "b", "label": "B. Partnerzy"},
    {"type": "begin repeat", "name": "partnerzy", "label": "Partner", "repeat_min": 1,
     "repeat_max": 5, "instance_label": "nazwa", "relevant": "${liczba} > 0"},
    {"type": "text", "name": "nazwa", "label": "Nazwa", "required": "yes"},
    {"type": "select_one typ", "name": "typ_partnera", "label": "Typ"},
    {"type": "integer", "name": "miejsca", "label": "Miejsca pracy",
     "relevant": "${typ_partnera} = 'firma'", "constraint": ". <= ${liczba} * 10"},
    {"type": "begin_repeat", "name": "etaty", "label": "Etat"},
    {"type": "text", "name": "stanowisko", "label": "Stanowisko"},
    {"type": "calculate", "name": "nr_etatu", "calculation": "position(..)"},
    {"type": "end_repeat"},
    {"type": "end repeat"},
    {"type": "calculate", "name": "ile", "calculation": "count(${partnerzy})"},
    {"type": "calculate", "name": "suma", "calculation": "sum(${miejsca})"},
    {"type": "end group"},
    {"type": "begin repeat", "name": "pracownicy", "label": "Pracownik",
     "repeat_count": "${liczba}"},
    {"type": "text", "name": "stanowisko_pracownika", "label": "Stanowisko"},
    {"type": "end repeat"},
    {"type": "begin repeat", "name": "kwartaly", "label": "Kwartał", "repeat_count": 4},
    {"type": "decimal", "name": "kwota", "label": "Kwota"},
    {"type": "end repeat"},
    {"type": "note", "name": "razem", "label": "Partnerów: ${ile}, kwartały: ${kwartal_suma}"},
    {"type": "calculate", "name": "kwartal_suma", "calculation": "sum(${kwota})"},
]  # fmt: skip
REPEAT_CHOICES = [
    {"list_name": "typ", "name": "ngo", "label": "Organizacja pozarządowa"},
    {"list_name": "typ", "name": "firma", "label": "Firma"},
]
REPEAT_TWIN = """\
settings: {id: lista, title: Lista, default_language: pl, languages: [pl]}
choices:
  typ:
    - {name: ngo, label: Organizacja pozarządowa}
    - {name: firma, label: Firma}
survey:
  - {type: integer, name: liczba, label: "Ilu pracowników?", required: yes,
     constraint: ". >= 0 and . <= 4"}
  - type: group
    name: b
    label: B. Partnerzy
    children:
      - type: repeat
        name: partnerzy
        label: Partner
        repeat_min: 1
        repeat_max: 5
        instance_label: nazwa
        relevant: "${liczba} > 0"
        children:
          - {type: text, name: nazwa, label: Nazwa, required: yes}
          - {type: select_one typ, name: typ_partnera, label: Typ}
          - {type: integer, name: miejsca, label: Miejsca pracy,
             relevant: "${typ_partnera} = 'firma'", constraint: ". <= ${liczba} * 10"}
          - type: repeat
            name: etaty
            label: Etat
            children:
              - {type: text, name: stanowisko, label: Stanowisko}
              - {type: calculate, name: nr_etatu, calculation: "position(..)"}
      - {type: calculate, name: ile, calculation: "count(${partnerzy})"}
      - {type: calculate, name: suma, calculation: "sum(${miejsca})"}
  - type: repeat
    name: pracownicy
    label: Pracownik
    repeat_count: "${liczba}"
    children:
      - {type: text, name: stanowisko_pracownika, label: Stanowisko}
  - type: repeat
    name: kwartaly
    label: Kwartał
    repeat_count: 4
    children:
      - {type: decimal, name: kwota, label: Kwota}
  - {type: note, name: razem, label: "Partnerów: ${ile}, kwartały: ${kwartal_suma}"}
  - {type: calculate, name: kwartal_suma, calculation: "sum(${kwota})"}
"""
REPEAT_SETTINGS = [{"form_id": "lista", "form_title": "Lista"}]


def test_repeats_in_a_workbook_equal_their_yaml_twin() -> None:
    workbook = load_definition(
        _workbook(REPEAT_SURVEY, REPEAT_CHOICES, REPEAT_SETTINGS), "lista.xlsx"
    )
    twin = load_definition(REPEAT_TWIN.encode(), "lista.yaml")
    assert twin.problems == []
    assert workbook.problems == []
    assert workbook.questionnaire is not None and twin.questionnaire is not None
    assert _shape(workbook.questionnaire) == _shape(twin.questionnaire)


def test_workbook_repeats_nest_point_at_their_rows_and_count_as_written() -> None:
    questionnaire = load_definition(
        _workbook(REPEAT_SURVEY, REPEAT_CHOICES, REPEAT_SETTINGS), "lista.xlsx"
    ).questionnaire
    assert questionnaire is not None
    partnerzy, etaty = questionnaire.item("partnerzy"), questionnaire.item("etaty")
    assert partnerzy.is_repeat and partnerzy.parent is questionnaire.item("b")
    assert etaty.is_repeat and etaty.enclosing_repeat() is partnerzy
    assert questionnaire.item("stanowisko").enclosing_repeat() is etaty
    assert str(partnerzy.location) == "lista.xlsx:survey:4"
    assert str(etaty.location) == "lista.xlsx:survey:8"
    # pyxform's own calculation for a count that is not a plain ${name} is left out
    names = [item.name for item in questionnaire.walk()]
    assert "kwartaly_count" not in names
    kwartaly = questionnaire.item("kwartaly")
    assert kwartaly.repeat_count is not None and kwartaly.repeat_count.source == "4"
    assert [r.name for r in questionnaire.repeats()] == [
        "partnerzy", "etaty", "pracownicy", "kwartaly"
    ]  # fmt: skip


def test_a_workbook_with_repeats_runs_its_counts_and_aggregates() -> None:
    from datetime import date

    from app.domain.questionnaire.flow import Flow

    questionnaire = load_definition(
        _workbook(REPEAT_SURVEY, REPEAT_CHOICES, REPEAT_SETTINGS), "lista.xlsx"
    ).questionnaire
    assert questionnaire is not None
    flow = Flow(questionnaire)
    answers = {
        "liczba": 3,
        "partnerzy": (
            {"nazwa": "Fundacja", "typ_partnera": "ngo"},
            {"nazwa": "Firma", "typ_partnera": "firma", "miejsca": 7,
             "etaty": ({"stanowisko": "kucharz"}, {"stanowisko": "kelner"})},
        ),
        "kwartaly": ({"kwota": 1.5}, {"kwota": 2}),
    }  # fmt: skip
    state = flow.state(answers, sample={}, today=date(2026, 6, 1))
    assert len(state.instances("pracownicy")) == 3
    assert len(state.instances("kwartaly")) == 4
    clean = flow.clean_answers(state)
    assert clean["ile"] == 2 and clean["suma"] == 7 and clean["kwartal_suma"] == 3.5
    assert clean["partnerzy"][1]["etaty"][1] == {"stanowisko": "kelner", "nr_etatu": 2}
    assert flow.problems(state) == {}


def test_repeat_mistakes_in_a_workbook_are_reported_at_their_rows() -> None:
    survey = [
        {"type": "integer", "name": "a", "label": "A", "relevant": "${x} > 1"},
        {"type": "begin repeat", "name": "r", "label": "R", "repeat_max": "dużo",
         "instance_label": "nie_ma"},
        {"type": "integer", "name": "x", "label": "X"},
        {"type": "end repeat"},
        {"type": "begin repeat", "name": "s", "label": "S", "repeat_count": "${b}",
         "repeat_min": 2},
        {"type": "text", "name": "y", "label": "Y"},
        {"type": "end repeat"},
        {"type": "integer", "name": "b", "label": "B"},
    ]  # fmt: skip
    result = load_definition(_workbook(survey, None, [{"form_id": "f"}]), "f.xlsx")
    assert sorted(str(problem) for problem in result.problems) == [
        "f.xlsx:survey:2: item a: relevant reads ${x}, which is inside the repeat r, as one "
        "value: use count(), sum(), min(), max(), join() or indexed-repeat().",
        "f.xlsx:survey:2: item a: relevant refers to ${x}, which comes later in the questionnaire.",
        "f.xlsx:survey:3: item r: instance_label names nie_ma, which is not a question of "
        "this repeat.",
        "f.xlsx:survey:3: item r: repeat_max must be a whole number from 1 to 100.",
        "f.xlsx:survey:6: item s: With repeat_count the count is fixed: remove repeat_min and "
        "repeat_max.",
        "f.xlsx:survey:6: item s: repeat_count refers to ${b}, which comes later in the "
        "questionnaire.",
    ]
    assert result.questionnaire is None


def test_an_unmatched_end_repeat_is_pyxforms_error_at_its_row() -> None:
    survey = [
        {"type": "begin repeat", "name": "r", "label": "R"},
        {"type": "text", "name": "x", "label": "X"},
        {"type": "end group"},
    ]
    result = load_definition(_workbook(survey, None, [{"form_id": "f"}]), "f.xlsx")
    [problem] = result.problems
    assert str(problem).startswith("f.xlsx:survey:4: XLSForm: ")
    assert result.questionnaire is None


def test_a_type_in_capitals_is_refused_as_pyxform_refuses_it_saying_how_to_write_it() -> None:
    survey = [{"Type": "integer", "Name": "a", "Label": "A"},
              {"Type": "Select_One tak_nie", "Name": "b", "Label": "B"}]  # fmt: skip
    choices = [{"List_Name": "tak_nie", "Name": "1", "Label": "Tak"}]
    result = load_definition(_workbook(survey, choices, [{"form_id": "f"}]), "f.xlsx")
    assert [str(problem) for problem in result.errors] == [
        "f.xlsx:survey:3: item b: The type Select_One tak_nie is written in lowercase in "
        "XLSForm: select_one tak_nie."
    ]


def test_odk_functions_ankieta_refuses_are_named_at_their_rows() -> None:
    survey = [
        {"type": "select_multiple forma", "name": "a", "label": "A"},
        {"type": "calculate", "name": "k", "calculation": "pulldata('gminy', 'kod', 'id', ${a})"},
        {"type": "integer", "name": "b", "label": "B", "relevant": "selected-at(${k}, 0) = 'x'"},
        {"type": "text", "name": "c", "label": "C",
         "relevant": "jr:choice-name(selected-at(${a}, 0), '${b}') != ''"},
        {"type": "calculate", "name": "e", "calculation": "jr:itext('x')"},
        {"type": "note", "name": "d", "label": "D",
         "relevant": "format-date(today(), '%b') = 'sty' and jr:choice-name(${a}, '${a}') = 'S'"},
    ]  # fmt: skip
    choices = [{"list_name": "forma", "name": "s", "label": "S"}]
    result = load_definition(_workbook(survey, choices, [{"form_id": "f"}]), "f.xlsx")
    assert [str(problem) for problem in result.problems] == [
        "f.xlsx:survey:3: item k: calculation: pulldata() is not supported: Ankieta reads no "
        "files or lists attached to a form; give each institution its data in the sample and "
        "read it with ${sample.NAME} at position 0 in \"pulldata('gminy', 'kod', 'id', ${a})\"",
        "f.xlsx:survey:4: item b: selected-at() is used on ${k}, which is not a select question.",
        "f.xlsx:survey:5: item c: jr:choice-name() names ${b}, which is not a select question.",
        "f.xlsx:survey:6: item e: calculation: jr:itext() is not supported: a text's "
        "translations are not expressions (a label inserted in a text with ${name} already "
        "shows the choice's label in the page's language) at position 0 in \"jr:itext('x')\"",
    ]


def test_the_other_names_pyxform_gives_a_type_load_as_that_type() -> None:
    survey = [
        {"type": "int", "name": "a", "label": "A"},
        {"type": "q note", "name": "b", "label": "B"},
        {"type": "gps", "name": "c", "label": "C"},
        {"type": "date time", "name": "d", "label": "D"},
        {"type": "string", "name": "e", "label": "E"},
        {"type": "percentage", "name": "f", "label": "F"},
        {"type": "percentage", "name": "g", "label": "G", "constraint": ". < 50"},
        {"type": "add acknowledge prompt", "name": "h", "label": "H"},
        {"type": "get start time", "name": "started"},
        {"type": "q picture", "name": "i", "label": "I"},
    ]
    result = load_definition(_workbook(survey, None, [{"form_id": "f"}]), "f.xlsx")
    assert [str(problem) for problem in result.problems] == []
    assert result.questionnaire is not None
    picture = result.questionnaire.item("i")  # "q picture" is pyxform's other name of image
    assert picture.type.value == "file" and picture.upload is not None
    assert picture.upload.kind.value == "image"
    survey.pop()
    result = load_definition(_workbook(survey, None, [{"form_id": "f"}]), "f.xlsx")
    assert result.errors == [] and result.questionnaire is not None
    items = {item.name: item for item in result.questionnaire.walk()}
    assert {name: items[name].type.value for name in "abcdefgh"} == {
        "a": "integer", "b": "note", "c": "geopoint", "d": "datetime", "e": "text",
        "f": "integer", "g": "integer", "h": "acknowledge",
    }  # fmt: skip
    # what the name adds (a percentage is 0-100) unless the row says otherwise
    assert items["f"].constraint.source == "0 <= . and . <= 100"
    assert items["g"].constraint.source == ". < 50"
    assert result.questionnaire.settings.paradata == (("started", "start"),)


def test_a_dynamic_default_is_kept_once_on_a_calculate_and_computed_on_a_question() -> None:
    data = _workbook(
        [
            {"type": "integer", "name": "rok", "label": "Rok", "default": "2025"},
            {"type": "date", "name": "dzien", "label": "Dzień", "default": "today()"},
            {"type": "calculate", "name": "klucz", "default": "uuid()"},
            {"type": "calculate", "name": "poczatek", "default": "now()"},
            {"type": "text", "name": "uwagi", "label": "Uwagi", "default": "brak"},
            {"type": "integer", "name": "nastepny", "label": "Następny", "default": "${rok} + 1"},
        ]
    )
    loaded = load_definition(data, "domyslne.xlsx")
    assert loaded.questionnaire is not None, [str(p) for p in loaded.problems]
    q = loaded.questionnaire
    assert q.item("dzien").default is None and q.item("uwagi").default == "brak"
    assert q.item("dzien").default_expression.source == "today()"
    assert q.item("nastepny").default_expression.source == "${rok} + 1"
    assert [(c.name, c.calculation.source) for c in q.walk() if c.calculation] == [
        ("klucz", "once(uuid())"),
        ("poczatek", "once(now())"),
    ]
    assert not [p for p in loaded.problems if "dzien" in str(p) or "nastepny" in str(p)]
