"""A small survey of every value type for the export tests, its expected columns, and a
workbook's sheet read back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import openpyxl

from app.domain.outputs.export import META_COLUMNS, REPEAT_KEY_COLUMNS
from app.domain.outputs.words import POLISH, RESPONSES, SHEETS

DEFINITION = """\
settings:
  id: eksport_test
  title: {pl: "Test eksportu", en: "Export test"}
  version: "%(version)s"
  default_language: pl
  languages: [pl, en]
  paging: group
  dont_know: phone
  refused: phone

choices:
  tak_nie:
    - {name: "1", label: {pl: "Tak", en: "Yes"}}
    - {name: "2", label: {pl: "Nie", en: "No"}}
  obszary:
    - {name: "01", label: {pl: "Edukacja", en: "Education"}}
    - {name: "02", label: {pl: "Zdrowie", en: "Health"}}
    - {name: inny, label: {pl: "Inny (jaki?)", en: "Other (what?)"}, other: yes}
  ocena:
    - {name: "1", label: {pl: "Źle", en: "Bad"}}
    - {name: "2", label: {pl: "Dobrze", en: "Good"}}

survey:
  - type: text
    name: nazwa
    label: {pl: "Nazwa", en: "Name"}
  - type: text
    name: kod
    label: {pl: "Kod", en: "Code"}
  - type: integer
    name: liczba
    label: {pl: "Liczba", en: "Number"}
%(added)s  - type: decimal
    name: kwota
    label: {pl: "Kwota", en: "Amount"}
  - type: date
    name: data
    label: {pl: "Data", en: "Date"}
  - type: select_one tak_nie
    name: filtr
    label: {pl: "Czy działacie?", en: "Are you active?"}
  - type: group
    name: g
    label: {pl: "Obszary", en: "Areas"}
    relevant: "${filtr} = '1'"
    children:
      - type: select_multiple obszary
        name: obszary
        label: {pl: "W jakich obszarach?", en: "In which areas?"}
  - type: matrix ocena
    name: m
    label: {pl: "Oceny", en: "Ratings"}
    rows:
      - {name: r1, label: {pl: "Pierwszy", en: "First"}}
      - {name: r2, label: {pl: "Drugi", en: "Second"}}
  - type: calculate
    name: podwojona
    calculation: "${liczba} * 2"
"""
ADDED = """\
  - type: integer
    name: nowe
    label: {pl: "Nowe pytanie", en: "New question"}
"""

HYPERLINK = '=HYPERLINK("http://example.com/x","kliknij")'
SUM = "@SUM(1+1)"
CMD = "+cmd|' /C calc'!A0"

VARIABLE_COLUMNS = [
    "nazwa",
    "kod",
    "liczba",
    "nowe",
    "kwota",
    "data",
    "filtr",
    "obszary",
    "obszary_01",
    "obszary_02",
    "obszary_inny",
    "obszary_other",
    "m_r1",
    "m_r2",
    "podwojona",
]


@dataclass
class Setup:
    fieldwork_id: int
    response_ids: list[int]


def moment(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def sheet_rows(path: Path, sheet: str = RESPONSES) -> list[dict[str, object]]:
    """The rows of a workbook's sheet as dicts keyed by the header's English names.

    ``sheet`` is a sheet's English name (``Responses``, ``Codebook``...) or a list's sheet
    title; a Polish workbook (the default) is read through its Polish names, so a test of
    the content reads alike in both languages (tests/exports/test_file_words.py checks the
    names themselves). Values (status, mode) are as written."""
    book = openpyxl.load_workbook(path)
    ws = book[POLISH.sheet(sheet)] if POLISH.sheet(sheet) in book.sheetnames else book[sheet]
    rows = list(ws.iter_rows(values_only=True))
    # the fixed columns; the questionnaire's variables after them keep their names
    fixed = (
        len(META_COLUMNS)
        if sheet == RESPONSES
        else len(rows[0])
        if sheet in SHEETS
        else len(REPEAT_KEY_COLUMNS)
    )
    header = [english_column(name) if i < fixed else name for i, name in enumerate(rows[0])]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


_ENGLISH_COLUMNS = {polish: english for english, polish in POLISH.columns.items()}


def english_column(name: object) -> object:
    """A header of a Polish file as its English name (a variable's name as it is)."""
    if not isinstance(name, str):
        return name
    if name.startswith("etykieta_"):
        return "label_" + name.removeprefix("etykieta_")
    return _ENGLISH_COLUMNS.get(name, name)


REPEATS_DEFINITION = Path(__file__).with_name("repeats.yaml")
REPEAT_KEYS = ["response_id", "parent_key", "instance", "instance_key"]
