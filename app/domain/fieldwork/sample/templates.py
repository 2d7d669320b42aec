"""The sample template offered for download, as .xlsx (with a sheet explaining each column)
and as the CSV Polish Excel opens."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import datetime

import xlsxwriter

from app.domain.fieldwork.sample.columns import ALIASES, PHONE_COLUMNS, STANDARD_COLUMNS
from app.domain.fieldwork.sample.files import MAX_COLUMNS, MAX_ROWS
from app.domain.workbooks import SAFE_XLSX_OPTIONS

_TEMPLATE_HEADER = (*STANDARD_COLUMNS, "liczba_miejsc")
_TEMPLATE_ROWS: tuple[tuple[str | int, ...], ...] = (
    (
        "KIS-001",
        "Klub Integracji Społecznej w Żywcu",
        "KIS",
        "południowy",
        "żywiecki",
        "Żywiec",
        "Anna Wójcik",
        "kis.zywiec@example.pl",
        "33 861 23 45",
        "",
        "",
        25,
    ),
    (
        "CIS-002",
        "Centrum Integracji Społecznej „Źródło” w Gliwicach",
        "CIS",
        "środkowy",
        "Gliwice",
        "Gliwice",
        "Łukasz Mączyński",
        "cis.gliwice@example.pl",
        "+48 32 231 45 67",
        "0 600 123 456",
        "",
        40,
    ),
)
_TEMPLATE_NOTES: dict[str, tuple[str, str]] = {
    # column: (required?, what it holds), in Polish: the template is for ROPS staff
    "external_id": ("tak", "Identyfikator instytucji, niepowtarzalny w pliku (np. KIS-001)."),
    "name": ("tak", "Nazwa instytucji, pokazywana respondentowi w ankiecie."),
    "entity_type": (
        "nie",
        "Typ podmiotu: CIS, KIS, OWES, JST, OPS, PCPR, PUP, PES, WTZ, ZAZ lub inny.",
    ),
    "subregion": ("nie", "Podregion, np. północny, środkowy, zachodni, południowy."),
    "powiat": ("nie", "Powiat."),
    "gmina": ("nie", "Gmina."),
    "contact_person": ("nie", "Osoba do kontaktu (dane osobowe, chronione zgodnie z RODO)."),
    "email": ("nie", "Adres e-mail, na który trafi zaproszenie do ankiety."),
    "phone": (
        "nie",
        "Telefon: cyfry, na początku może być +; spacje, myślniki, kropki, ukośniki i nawiasy "
        "są pomijane, zera na początku zostają; od 6 do 15 cyfr.",
    ),
    "phone_2": ("nie", "Drugi telefon, jak wyżej."),
    "phone_3": ("nie", "Trzeci telefon, jak wyżej."),
}
_TEMPLATE_RULES = (
    "Każda inna kolumna (np. liczba_miejsc) staje się zmienną próby, dostępną w ankiecie "
    "jako ${sample.nazwa}. Nazwa zmiennej powstaje z nagłówka: małe litery, bez polskich "
    "znaków, spacje zamienione na _ (np. „Liczba miejsc” → liczba_miejsc).",
    "Wielkość liter i spacje wokół nagłówków nie mają znaczenia. Puste wiersze są pomijane.",
    "Plik z jakimkolwiek błędem jest odrzucany w całości, z listą wszystkich błędów "
    "(wiersz, kolumna, przyczyna); nic nie jest importowane częściowo.",
    f"Plik .xlsx: czytany jest arkusz „próba” (albo pierwszy arkusz). Plik CSV: kodowanie "
    f"UTF-8 lub Windows-1250, separator ; , lub tabulator. Najwyżej {MAX_ROWS} wierszy "
    f"i {MAX_COLUMNS} kolumn.",
    "Formuły: liczy się zapisany wynik; plik musi być zapisany w Excelu lub LibreOffice.",
)


def sample_template_xlsx() -> bytes:
    """A sample template workbook: headers, two example rows and a sheet explaining columns."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {**SAFE_XLSX_OPTIONS, "in_memory": True})
    workbook.set_properties({"title": "Próba", "created": datetime(2026, 1, 1)})
    bold = workbook.add_format({"bold": True})
    text = workbook.add_format({"num_format": "@"})  # IDs and phones keep leading zeros
    wrapped = workbook.add_format({"text_wrap": True, "valign": "top"})
    sample = workbook.add_worksheet("próba")
    for index, name in enumerate(_TEMPLATE_HEADER):
        is_text = name == "external_id" or name in PHONE_COLUMNS
        sample.set_column(index, index, 18 if name != "name" else 45, text if is_text else None)
        sample.write_string(0, index, name, bold)
    for row, values in enumerate(_TEMPLATE_ROWS, start=1):
        for index, value in enumerate(values):
            if isinstance(value, int):
                sample.write_number(row, index, value)
            elif value:
                sample.write_string(row, index, value)
    sample.freeze_panes(1, 0)
    notes = workbook.add_worksheet("objaśnienia")
    notes.set_column(0, 0, 18)
    notes.set_column(1, 1, 40, wrapped)
    notes.set_column(2, 2, 10)
    notes.set_column(3, 3, 70, wrapped)
    for index, title in enumerate(("Kolumna", "Inne nazwy", "Wymagana", "Opis")):
        notes.write_string(0, index, title, bold)
    for row, name in enumerate(STANDARD_COLUMNS, start=1):
        required, description = _TEMPLATE_NOTES[name]
        aliases = ", ".join(alias for alias, standard in ALIASES.items() if standard == name)
        notes.write_string(row, 0, name)
        notes.write_string(row, 1, aliases)
        notes.write_string(row, 2, required)
        notes.write_string(row, 3, description)
    first_rule = len(STANDARD_COLUMNS) + 2
    for offset, rule in enumerate(_TEMPLATE_RULES):
        notes.write_string(first_rule + offset, 3, rule)
    workbook.close()
    return buffer.getvalue()


def sample_template_csv() -> bytes:
    """The sample template as CSV the way Polish Excel opens it: UTF-8 with a BOM, ``;``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(_TEMPLATE_HEADER)
    writer.writerows(_TEMPLATE_ROWS)
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
