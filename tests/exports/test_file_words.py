"""Files for people speak Polish by default: every workbook the exports write (responses,
monitoring report), opened with openpyxl, has no English sheet name or header, no ``${``,
no empty label, no ``dont_know`` / ``refused`` key; with ``--lang en`` they are English.

The English words to reject are what the code writes in English: the fixed words of the
response files (``app.domain.outputs.words``, the names these files had before they were
Polish) and every text the report writes in English that it writes otherwise in Polish.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from app.domain.outputs.words import ENGLISH, POLISH, SHEETS
from app.models.fieldwork import Fieldwork
from app.surveys import services as survey_services

PLAN = """\
plan:
  id: plan_eksportu
  title: {pl: Plan eksportu, en: Export plan}
areas:
  - {code: "1", name: {pl: Integracja, en: Integration}}
indicators:
  - id: liczba_razem
    area: "1"
    name: {pl: Liczba razem, en: Number in all}
    unit: {pl: osoby, en: people}
    questionnaire: eksport_test
    measure: sum
    value: "${liczba}"
    targets: {2026: 20}
  - id: dzialajace
    area: "1"
    name: {pl: Odsetek działających, en: Share active}
    questionnaire: eksport_test
    measure: share
    value: "${filtr} = '1'"
"""
# words both languages write alike: not English to reject
SAME_IN_BOTH = {"powiat", "gmina", "status", "demo", "test", "n", "min", "max", "%", "cis", "kis"}
MISSING_KEYS = ("dont_know", "refused")


def _response_words() -> set[str]:
    """The response files' English sheet names, headers and coded values."""
    words = {*SHEETS, *POLISH.columns, *POLISH.values, "label_pl", "label_en"}
    return {w.casefold() for w in words} - SAME_IN_BOTH


def _cells(path: Path) -> dict[str, list[list[object]]]:
    book = openpyxl.load_workbook(path)
    return {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in book}


def _texts(sheets: dict[str, list[list[object]]]) -> dict[tuple[str, int, int], str]:
    return {
        (title, r, c): value
        for title, rows in sheets.items()
        for r, row in enumerate(rows)
        for c, value in enumerate(row)
        if isinstance(value, str)
    }


def _assert_clean(sheets: dict[str, list[list[object]]], english: set[str]) -> None:
    """No English sheet name, no English word as a cell, no ``${``, no missing key."""
    assert not {title.casefold() for title in sheets} & english, list(sheets)
    for where, text in _texts(sheets).items():
        title, row, col = where
        if str(sheets[title][0][col]).endswith("_en"):
            continue  # the questionnaire's own English labels (codebook, choices)
        assert text.casefold() not in english, (where, text)
        assert "${" not in text or where[0] == "Książka kodowa", (where, text)
        assert not any(key in text for key in MISSING_KEYS), (where, text)


def _export(runner, fieldwork_id: int, path: Path, *options: str) -> Path:
    result = runner.invoke(args=["export", str(fieldwork_id), "-o", str(path), *options])
    assert result.exit_code == 0, result.output
    return path


def test_the_response_workbook_is_polish_by_default_and_english_on_request(
    runner, exported, tmp_path
):
    english = _response_words()
    for options in ((), ("--labels",)):
        sheets = _cells(_export(runner, exported.fieldwork_id, tmp_path / "pl.xlsx", *options))
        assert list(sheets) == [POLISH.sheet(key) for key in SHEETS]
        _assert_clean(sheets, english)
        # every fixed header is Polish; after them, the questionnaire's variable names
        header = sheets["Odpowiedzi"][0]
        assert header[:3] == ["id_odpowiedzi", "id_zewnętrzne", "instytucja"]
        assert "nazwa" in header and "obszary_01" in header
        statuses = {row[header.index("status")] for row in sheets["Odpowiedzi"][1:]}
        assert statuses == {"kompletna", "częściowa"}
        for title in ("Książka kodowa", "Kategorie", "Połączenia", "Wyniki końcowe", "Kontakty"):
            assert all(sheets[title][0]), title  # no empty header
    labelled = sheets["Odpowiedzi"]
    values = {v for row in labelled[1:] for v in row}
    assert {"Nie wiem", "Odmowa odpowiedzi"} <= values  # don't know / refused in words, in Polish
    assert not {"Don't know", "Refused"} & values

    sheets = _cells(_export(runner, exported.fieldwork_id, tmp_path / "en.xlsx", "--lang", "en"))
    assert list(sheets) == list(SHEETS)
    assert sheets["Responses"][0][:3] == ["response_id", "external_id", "institution"]
    assert sheets["Codebook"][0][:3] == ["variable", "label_pl", "label_en"]
    header = sheets["Responses"][0]
    assert {row[header.index("status")] for row in sheets["Responses"][1:]} == {
        "complete",
        "partial",
    }
    assert ENGLISH.header(["response_status"]) == ["response_status"]


def test_a_workbook_with_lists_is_polish_on_every_sheet(runner, repeats, tmp_path):
    sheets = _cells(_export(runner, repeats.fieldwork_id, tmp_path / "lists.xlsx"))
    assert list(sheets)[:4] == ["Odpowiedzi", "Partner", "Etat", "Stałe działanie"]
    _assert_clean(sheets, _response_words())
    for title in ("Partner", "Etat", "Stałe działanie"):
        assert sheets[title][0][:4] == [
            "id_odpowiedzi",
            "klucz_nadrzędny",
            "nr_wpisu",
            "klucz_wpisu",
        ]


def _report(app, fieldwork_id: int, path: Path, **options) -> dict[str, list[list[object]]]:
    from app.exports.report import write_report

    with app.extensions["ankieta.db"].session() as session:
        fieldwork = session.get(Fieldwork, fieldwork_id)
        path.write_bytes(write_report(session, fieldwork, **options))
    return _cells(path)


@pytest.fixture
def planned(app, exported):
    with app.extensions["ankieta.db"].session() as session:
        loaded = survey_services.load_plan_bytes(session, PLAN.encode(), "plan.yaml")
        assert loaded.ok, loaded
    return exported


@pytest.mark.parametrize("by", [None, "subregion", "entity_type"])
def test_the_report_workbook_is_polish_with_indicators_and_rates_by_group(
    app, planned, tmp_path, by
):
    polish = _report(app, planned.fieldwork_id, tmp_path / "pl.xlsx", by=by)
    english = _report(app, planned.fieldwork_id, tmp_path / "en.xlsx", by=by, language="en")
    assert list(polish) == [
        "spis treści",
        "pytania zamknięte",
        "pytania liczbowe",
        "realizacja badania",
        "wskaźniki",
    ]
    assert list(english) == [
        "contents",
        "closed questions",
        "numeric questions",
        "response rates",
        "indicators",
    ]
    # what the report writes in English where it writes something else in Polish
    pl_texts, en_texts = _texts(polish), _texts(english)
    assert len(pl_texts) == len(en_texts)  # the same layout in both languages
    words = {
        text.casefold()
        for (title, r, c), text in en_texts.items()
        if pl_texts.get((list(polish)[list(english).index(title)], r, c)) != text
    } - SAME_IN_BOTH
    assert {"variable", "label", "sample size", "indicator", "target"} <= words
    _assert_clean(polish, words | _response_words())

    # no empty label: every choice row, table title and contents entry says what it is
    closed = polish["pytania zamknięte"]
    for row in closed:
        if isinstance(row[0], str) and " – " in row[0]:  # a table's title
            assert not row[0].rstrip().endswith("–"), row[0]
        elif row[0] is not None and row[0] != "kod":  # a choice, don't know or refused
            assert isinstance(row[1], str) and row[1].strip(), row
    contents = polish["spis treści"]
    start = next(
        i for i, row in enumerate(contents) if row[:3] == ["zmienna", "etykieta", "arkusz"]
    )
    for row in contents[start + 1 :]:
        if row[0] and row[2]:
            assert row[1] and not row[1].endswith("– "), row
    assert any("Nie wiem" in str(row[1]) for row in closed)

    # the indicators: value, target, % achieved, base, missing, overall and by subregion
    indicators = polish["wskaźniki"]
    assert indicators[0] == [
        "obszar priorytetowy",
        "wskaźnik",
        "jednostka",
        "rok",
        "wartość",
        "podstawa (n)",
        "braki odpowiedzi",
        "cel",
        "realizacja celu",
        "poprzednia wartość",
        "zmiana",
    ]
    total = {row[1]: row for row in indicators[1:3]}
    # two complete responses: liczba 5 and (version 2) 1 -> 6 of a target of 20
    summed = total["Liczba razem"]
    assert summed[0] == "1. Integracja" and summed[2] == "osoby"
    assert (summed[4], summed[5], summed[7], summed[8]) == (6, 2, 20, pytest.approx(0.3))
    assert total["Odsetek działających"][2] == "%"
    by_subregion = [row for row in indicators[4:] if row[1] == "Liczba razem"]
    assert {row[0]: row[3] for row in by_subregion} == {"południowy": 5, "centralny": 1}

    # response rates by subregion and by type of institution, whatever the breakdown
    rates = polish["realizacja badania"]
    titles = [row[0] for row in rates if isinstance(row[0], str) and row[0].startswith("wg ")]
    titles_by = {"subregion": "wg podregionu", "entity_type": "wg typu instytucji"}
    assert titles == [title for key, title in titles_by.items() if key != by]
    assert "wg podregionu" in [row[0] for row in indicators]
    # ... and the telephone cases per AAPOR disposition code by both (none called: 3.11)
    first = [row[0] for row in rates].index(
        "przypadki telefoniczne według kodów wyników AAPOR i podregionów"
    )
    assert rates[first + 1][:2] == ["podregion", "3.11"]
    assert {row[0]: row[1] for row in rates[first + 2 : first + 5]} == {
        "razem": 3,
        "centralny": 2,
        "południowy": 1,
    }
