"""Reading a sample file (.xlsx or .csv): columns, values, Excel cell types, problems, safety."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.fieldwork.sample import files, parsing
from app.domain.fieldwork.sample.columns import (
    ALIASES,
    STANDARD_COLUMNS,
    normalise_name,
    standard_column,
)
from app.domain.fieldwork.sample.parsing import parse_sample
from app.domain.fieldwork.sample.results import SampleParseResult, SampleProblem, SampleRow
from app.domain.fieldwork.sample.templates import sample_template_csv, sample_template_xlsx
from app.domain.messages import Message

POLISH = "Zażółć gęślą jaźń ĄĆĘŁŃÓŚŹŻ"


# --- helpers ---------------------------------------------------------------------------


def openpyxl_book(rows: Sequence[Sequence[Any]], title: str = "Arkusz1") -> bytes:
    """A workbook written by openpyxl (formulas in it have no saved result)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsxwriter_book(fill: Callable[[Any], None]) -> bytes:
    """A workbook written by XlsxWriter; ``fill`` writes into its only sheet."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    fill(workbook.add_worksheet())
    workbook.close()
    return buffer.getvalue()


def csv_file(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def _replace_member(data: bytes, name: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            target.writestr(member, content if member.filename == name else source.read(member))
    return buffer.getvalue()


def rendered(result: SampleParseResult) -> list[str]:
    return [problem.render() for problem in result.problems]


def only_row(result: SampleParseResult) -> SampleRow:
    assert rendered(result) == []
    assert len(result.rows) == 1
    return result.rows[0]


def parse_csv(text: str) -> SampleParseResult:
    return parse_sample(text.encode("utf-8"), "sample.csv")


# --- the template ----------------------------------------------------------------------

TEMPLATE_ROWS = [
    SampleRow(
        row=2,
        external_id="KIS-001",
        name="Klub Integracji Społecznej w Żywcu",
        entity_type="KIS",
        subregion="południowy",
        powiat="żywiecki",
        gmina="Żywiec",
        contact_person="Anna Wójcik",
        email="kis.zywiec@example.pl",
        phones=("338612345",),
        variables={"liczba_miejsc": 25},
    ),
    SampleRow(
        row=3,
        external_id="CIS-002",
        name="Centrum Integracji Społecznej „Źródło” w Gliwicach",
        entity_type="CIS",
        subregion="środkowy",
        powiat="Gliwice",
        gmina="Gliwice",
        contact_person="Łukasz Mączyński",
        email="cis.gliwice@example.pl",
        phones=("+48322314567", "0600123456"),
        variables={"liczba_miejsc": 40},
    ),
]


def test_template_workbook_reads_back_as_its_example_rows() -> None:
    result = parse_sample(sample_template_xlsx(), "szablon.xlsx")
    assert result.ok
    assert result.rows == TEMPLATE_ROWS
    assert result.variable_names == ["liczba_miejsc"]


def test_template_csv_reads_back_as_the_same_rows_as_the_workbook() -> None:
    data = sample_template_csv()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to show Polish letters
    result = parse_sample(data, "szablon.csv")
    assert result.ok
    assert result.rows == TEMPLATE_ROWS


def test_template_workbook_explains_every_column_in_polish_on_a_second_sheet() -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(sample_template_xlsx()))
    assert workbook.sheetnames == ["próba", "objaśnienia"]
    notes = workbook["objaśnienia"]
    assert [cell.value for cell in notes[1]] == ["Kolumna", "Inne nazwy", "Wymagana", "Opis"]
    described = {row[0] for row in notes.iter_rows(min_row=2, values_only=True) if row[0]}
    assert described == set(STANDARD_COLUMNS)
    assert workbook["próba"]["A2"].number_format == "@"  # IDs typed in stay text


def test_template_is_the_same_bytes_every_time() -> None:
    assert sample_template_xlsx() == sample_template_xlsx()
    assert sample_template_csv() == sample_template_csv()


# --- columns ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "column"),
    [
        (" External_ID ", "external_id"),
        ("ID", "external_id"),
        ("Nazwa", "name"),
        ("NAME", "name"),
        ("Typ", "entity_type"),
        ("Entity type", "entity_type"),
        ("Podregion", "subregion"),
        ("Powiat", "powiat"),
        ("GMINA", "gmina"),
        ("Osoba kontaktowa", "contact_person"),
        ("osoba_kontaktowa", "contact_person"),
        ("E-mail", "email"),
        ("e_mail", "email"),
        ("Email", "email"),
        ("Telefon", "phone"),
        ("Telefon 2", "phone_2"),
        ("telefon_2", "phone_2"),
        ("phone 3", "phone_3"),
        ("Telefon3", "phone_3"),
    ],
)
def test_standard_columns_are_recognised_by_name_and_alias(header: str, column: str) -> None:
    assert standard_column(header) == column


def test_every_alias_names_a_standard_column_and_is_already_normalised() -> None:
    for alias, column in ALIASES.items():
        assert column in STANDARD_COLUMNS
        assert normalise_name(alias) == alias


def test_polish_headers_fill_the_standard_fields() -> None:
    result = parse_csv(
        "ID;Nazwa;Typ;Podregion;Powiat;Gmina;Osoba kontaktowa;E-mail;Telefon;Telefon 2;Telefon 3\n"
        "K-1;Klub;kis;północny;częstochowski;Kłomnice;Jan Łęcki;a@b.pl;600100200;;500100200\n"
    )
    assert only_row(result) == SampleRow(
        row=2,
        external_id="K-1",
        name="Klub",
        entity_type="KIS",
        subregion="północny",
        powiat="częstochowski",
        gmina="Kłomnice",
        contact_person="Jan Łęcki",
        email="a@b.pl",
        phones=("600100200", "500100200"),
    )


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Liczba miejsc", "liczba_miejsc"),
        ("  Rok założenia  ", "rok_zalozenia"),
        ("ąćęłńóśźż", "acelnoszz"),
        ("Kwota (zł) / 2025", "kwota_zl_2025"),
        ("2025 r.", "v_2025_r"),
    ],
)
def test_other_columns_become_variables_with_normalised_names(header: str, name: str) -> None:
    result = parse_csv(f"id;nazwa;{header}\nK-1;Klub;x\n")
    assert only_row(result).variables == {name: "x"}
    assert result.variable_names == [name]


def test_missing_required_column_is_one_problem_naming_it() -> None:
    result = parse_csv("nazwa;email\nKlub;a@b.pl\nKlub 2;c@d.pl\n")
    assert not result.ok
    assert result.rows == []
    assert [(p.row, p.column) for p in result.problems] == [(None, None)]
    assert rendered(result)[0].startswith("the required column external_id is missing")
    assert "id, identyfikator" in rendered(result)[0]


def test_both_required_columns_missing_are_two_problems() -> None:
    result = parse_csv("email;telefon\na@b.pl;600100200\n")
    assert [p.message.params["name"] for p in result.problems] == ["external_id", "name"]


def test_a_standard_column_given_twice_is_a_problem_at_the_second() -> None:
    result = parse_csv("id;nazwa;Email;E-mail\nK-1;Klub;a@b.pl;a@b.pl\n")
    assert rendered(result) == [
        "row 1, column E-mail: column D repeats column C (Email): both are the email column; "
        "keep one of them"
    ]


def test_a_repeated_variable_header_is_a_problem() -> None:
    result = parse_csv("id;nazwa;uwagi;Uwagi\nK-1;Klub;a;b\n")
    assert [(p.row, p.column) for p in result.problems] == [(1, "Uwagi")]
    assert rendered(result)[0].endswith(
        "column D and column C (uwagi) both become the sample variable uwagi; rename one of them"
    )


def test_headers_that_normalise_to_the_same_variable_are_a_problem() -> None:
    result = parse_csv("id;nazwa;Liczba miejsc;liczba-miejsc\nK-1;Klub;1;2\n")
    assert rendered(result) == [
        "row 1, column liczba-miejsc: column D and column C (Liczba miejsc) both become the "
        "sample variable liczba_miejsc; rename one of them"
    ]


def test_an_empty_header_above_data_is_a_problem() -> None:
    result = parse_csv("id;nazwa;;uwagi\nK-1;Klub;;a\nK-2;Klub 2;zgubiona;b\n")
    assert rendered(result) == ["row 1: column C has data but no header; name it or delete it"]


def test_empty_columns_without_header_are_ignored_in_the_middle_and_at_the_end() -> None:
    result = parse_csv("id;;nazwa;;;\nK-1;;Klub;;;\n")
    assert only_row(result) == SampleRow(row=2, external_id="K-1", name="Klub")


def test_a_header_without_letters_or_digits_is_a_problem() -> None:
    result = parse_csv("id;nazwa;???\nK-1;Klub;a\n")
    assert rendered(result) == [
        "row 1, column ???: a variable name cannot be made from this header; use letters or digits"
    ]


def test_header_is_the_first_non_empty_row_and_rows_keep_file_numbers() -> None:
    result = parse_csv("\n;;\nid;nazwa\nK-1;Klub\n\nK-2;\n")
    assert rendered(result) == ["row 6, column nazwa: a value is required here"]
    assert [row.row for row in result.rows] == [4]


# --- row values ------------------------------------------------------------------------


def test_empty_external_id_and_name_are_problems_at_their_cells() -> None:
    result = parse_csv("id;nazwa;email\n  ;Klub;\nK-2;  ;\nK-3;Klub 3;\n")
    assert rendered(result) == [
        "row 2, column id: a value is required here",
        "row 3, column nazwa: a value is required here",
    ]
    assert [row.external_id for row in result.rows] == ["K-3"]


def test_a_repeated_external_id_names_both_rows() -> None:
    result = parse_csv("id;nazwa\nK-12;A\nK-13;B\nK-12;C\nK-12;D\n")
    assert rendered(result) == [
        "row 4, column id: external id K-12 repeats row 2",
        "row 5, column id: external id K-12 repeats row 2",
    ]
    assert not result.ok


def test_ids_typed_as_number_and_as_text_are_the_same_id() -> None:
    book = openpyxl_book([["id", "nazwa"], [123, "A"], ["123", "B"]])
    result = parse_sample(book, "s.xlsx")
    assert rendered(result) == ["row 3, column id: external id 123 repeats row 2"]


@pytest.mark.parametrize("email", ["abc", "a@b", "a b@c.pl", "a@b.pl; c@d.pl", "a@@b.pl"])
def test_a_malformed_email_is_a_problem(email: str) -> None:
    result = parse_csv(f'id;nazwa;email\nK-1;Klub;"{email}"\n')
    assert rendered(result) == [f"row 2, column email: '{email}' is not an e-mail address"]


def test_an_empty_email_is_allowed_and_a_good_one_is_kept() -> None:
    result = parse_csv("id;nazwa;email\nK-1;A;\nK-2;B; ops.kłodzko@gmina.example.pl \n")
    assert [row.email for row in result.rows] == ["", "ops.kłodzko@gmina.example.pl"]


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("600 123 456", "600123456"),
        ("+48 (32) 123-45-67", "+48321234567"),
        ("032.123.45.67", "0321234567"),
        ("0048 600 100 200", "0048600100200"),
        ("(32) 123 45 67", "321234567"),
        ("32/123 45 67", "321234567"),
        ("123456", "123456"),
        ("+123456789012345", "+123456789012345"),
    ],
)
def test_phones_keep_digits_and_a_leading_plus_as_text(written: str, kept: str) -> None:
    result = parse_csv(f'id;nazwa;telefon\nK-1;Klub;"{written}"\n')
    assert only_row(result).phones == (kept,)


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("600 123 abc", "is not a phone number: only digits"),
        ("600123456 wew. 12", "is not a phone number: only digits"),
        ("48+600123456", "is not a phone number: only digits"),
        ("600123456, 600123457", "is not a phone number: only digits"),
        ("12345", "has 5 digits; a phone number has 6 to 15"),
        ("1234567890123456", "has 16 digits; a phone number has 6 to 15"),
    ],
)
def test_a_bad_phone_is_a_problem_saying_why(written: str, reason: str) -> None:
    result = parse_csv(f'id;nazwa;telefon;telefon 2\nK-1;Klub;600100200;"{written}"\n')
    assert [(p.row, p.column) for p in result.problems] == [(2, "telefon 2")]
    assert f"'{written}' {reason}" in rendered(result)[0]


def test_the_same_phone_twice_in_a_row_is_kept_once_in_column_order() -> None:
    result = parse_csv(
        "id;nazwa;phone;phone_2;phone_3\nK-1;Klub;600 123 456;500-000-000;600.123.456\n"
    )
    assert only_row(result).phones == ("600123456", "500000000")


def test_entity_type_is_upper_cased_and_any_text_is_allowed() -> None:
    result = parse_csv("id;nazwa;typ\nK-1;A; kis \nK-2;B;spółdzielnia socjalna\nK-3;C;\n")
    assert [row.entity_type for row in result.rows] == ["KIS", "SPÓŁDZIELNIA SOCJALNA", ""]


def test_inner_white_space_of_standard_text_is_made_single() -> None:
    result = parse_csv('id;nazwa\nK-1;"Klub\n  Integracji   Społecznej"\n')
    assert only_row(result).name == "Klub Integracji Społecznej"


def test_text_too_long_for_its_column_is_a_problem() -> None:
    long_id = "K" * 101
    result = parse_csv(f"id;nazwa\n{long_id};Klub\n")
    assert rendered(result) == [
        "row 2, column id: the text is 101 characters long; at most 100 fit"
    ]


def test_completely_empty_rows_are_skipped() -> None:
    result = parse_csv("id;nazwa;uwagi\n\n;;\n K-1 ;Klub;\n ; ; \n\n")
    assert only_row(result) == SampleRow(
        row=4, external_id="K-1", name="Klub", variables={"uwagi": ""}
    )


def test_a_file_with_one_bad_row_is_not_ok_even_though_other_rows_are_fine() -> None:
    result = parse_csv("id;nazwa;email\nK-1;A;a@b.pl\nK-2;B;zły\nK-3;C;\n")
    assert not result.ok
    assert len(result.problems) == 1
    assert [row.external_id for row in result.rows] == ["K-1", "K-3"]


def test_every_bad_row_is_listed_in_file_order() -> None:
    result = parse_csv("id;nazwa;email;telefon\nK-1;;x;1\nK-1;B;;\n;C;;abc\n")
    assert [(p.row, p.column) for p in result.problems] == [
        (2, "email"),
        (2, "telefon"),
        (2, "nazwa"),
        (3, "id"),
        (4, "telefon"),
        (4, "id"),
    ]


# --- Excel cell types ------------------------------------------------------------------


def test_numbers_in_text_columns_become_text_without_a_decimal_point() -> None:
    book = openpyxl_book(
        [
            ["external_id", "name", "phone", "phone_2", "gmina"],
            [123456789, "A", 600123456, 500100200.0, 2401011],
            [123456790.0, "B", "0321234567", None, None],
            [12.5, "C", None, None, None],
        ]
    )
    result = parse_sample(book, "s.xlsx")
    assert rendered(result) == []
    first, second, third = result.rows
    assert (first.external_id, first.phones, first.gmina) == (
        "123456789",
        ("600123456", "500100200"),
        "2401011",
    )
    assert (second.external_id, second.phones) == ("123456790", ("0321234567",))
    assert third.external_id == "12.5"


def test_excel_cell_types_in_variables() -> None:
    book = openpyxl_book(
        [
            ["id", "nazwa", "miejsca", "srednia", "calkowita", "data", "godzina", "tak", "kod"],
            [
                "K-1",
                "A",
                25,
                2.5,
                3.0,
                datetime(2026, 1, 15),
                datetime(2026, 1, 15, 8, 30),
                True,
                "007",
            ],
        ]
    )
    row = only_row(parse_sample(book, "s.xlsx"))
    assert row.variables == {
        "miejsca": 25,
        "srednia": 2.5,
        "calkowita": 3,
        "data": "2026-01-15",
        "godzina": "2026-01-15T08:30:00",
        "tak": 1,
        "kod": "007",
    }
    assert type(row.variables["calkowita"]) is int


def test_a_date_cell_written_by_xlsxwriter_becomes_iso_text() -> None:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet()
    date_format = workbook.add_format({"num_format": "dd.mm.yyyy"})
    sheet.write_row(0, 0, ["id", "nazwa", "termin"])
    sheet.write_row(1, 0, ["K-1", "Klub"])
    sheet.write_datetime(1, 2, datetime(2026, 3, 31), date_format)
    workbook.close()
    assert only_row(parse_sample(buffer.getvalue(), "s.xlsx")).variables == {"termin": "2026-03-31"}


def test_a_boolean_in_a_text_column_becomes_one_or_zero() -> None:
    book = openpyxl_book([["id", "nazwa", "powiat"], [True, "A", False]])
    row = only_row(parse_sample(book, "s.xlsx"))
    assert (row.external_id, row.powiat) == ("1", "0")


def test_a_date_in_a_phone_column_is_a_problem() -> None:
    book = openpyxl_book([["id", "nazwa", "telefon"], ["K-1", "A", datetime(2026, 1, 15)]])
    assert rendered(parse_sample(book, "s.xlsx")) == [
        "row 2, column telefon: '2026-01-15' is not a phone number"
    ]


def test_a_fraction_in_a_phone_column_is_a_problem() -> None:
    book = openpyxl_book([["id", "nazwa", "telefon"], ["K-1", "A", 600123.5]])
    assert rendered(parse_sample(book, "s.xlsx")) == [
        "row 2, column telefon: '600123.5' is not a phone number"
    ]


def test_formulas_give_their_saved_results() -> None:
    def fill(sheet: Any) -> None:
        sheet.write_row(0, 0, ["id", "nazwa", "miejsca", "opis"])
        sheet.write_string(1, 0, "K-1")
        sheet.write_formula(1, 1, '="Klub "&"Integracji"', None, "Klub Integracji")
        sheet.write_formula(1, 2, "=10+15", None, 25)
        sheet.write_formula(1, 3, '=IF(C2>100,"duży","mały")', None, "mały")

    row = only_row(parse_sample(xlsxwriter_book(fill), "s.xlsx"))
    assert (row.name, row.variables) == ("Klub Integracji", {"miejsca": 25, "opis": "mały"})


def test_a_formula_whose_saved_result_is_empty_text_is_not_a_problem() -> None:
    def fill(sheet: Any) -> None:
        sheet.write_row(0, 0, ["id", "nazwa", "opis"])
        sheet.write_row(1, 0, ["K-1", "Klub"])
        sheet.write_formula(1, 2, '=IF(1>2,"x","")', None, "")

    book = xlsxwriter_book(fill)
    sheet_xml = zipfile.ZipFile(io.BytesIO(book)).read("xl/worksheets/sheet1.xml")
    # What Excel saves for a formula whose result is "": a string cell with an empty <v>.
    excel_style = sheet_xml.replace(b'<c r="C2"><f>', b'<c r="C2" t="str"><f>')
    assert excel_style != sheet_xml
    book = _replace_member(book, "xl/worksheets/sheet1.xml", excel_style)
    assert only_row(parse_sample(book, "s.xlsx")).variables == {"opis": ""}


def test_a_formula_without_a_saved_result_is_a_problem_at_its_cell() -> None:
    book = openpyxl_book(
        [
            ["id", "nazwa", "miejsca"],
            ["K-1", "Klub", 5],
            ["K-2", "=A2", "=C2*2"],
            [None, None, "=1+1"],
        ]
    )
    result = parse_sample(book, "s.xlsx")
    assert [(p.row, p.column) for p in result.problems] == [
        (3, "nazwa"),
        (3, "miejsca"),
        (4, "miejsca"),
        (4, "id"),
        (4, "nazwa"),
    ]
    assert rendered(result)[0] == (
        "row 3, column nazwa: the formula here has no saved result; open the file in Excel or "
        "LibreOffice, let it calculate and save it again"
    )


def test_a_header_formula_without_a_saved_result_is_a_problem() -> None:
    book = openpyxl_book([["id", "nazwa", '="rok_"&2025'], ["K-1", "Klub", 1]])
    assert rendered(parse_sample(book, "s.xlsx")) == [
        "row 1, column C: the formula here has no saved result; open the file in Excel or "
        "LibreOffice, let it calculate and save it again"
    ]


def test_a_cell_showing_an_excel_error_is_a_problem() -> None:
    def fill(sheet: Any) -> None:
        sheet.write_row(0, 0, ["id", "nazwa", "wskaznik"])
        sheet.write_row(1, 0, ["K-1", "Klub"])
        sheet.write_formula(1, 2, "=1/0", None, "#DIV/0!")

    result = parse_sample(xlsxwriter_book(fill), "s.xlsx")
    assert rendered(result) == ["row 2, column wskaznik: the cell shows the Excel error #DIV/0!"]


def test_the_sheet_named_proba_is_read_before_the_first_sheet() -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Instrukcja"
    workbook.active.append(["Wypełnij arkusz obok"])
    sheet = workbook.create_sheet(" Próba ")
    sheet.append(["id", "nazwa"])
    sheet.append(["K-1", "Klub"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert only_row(parse_sample(buffer.getvalue(), "s.xlsx")).external_id == "K-1"


def test_without_a_sample_sheet_the_first_sheet_is_read() -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Dane"
    workbook.active.append(["id", "nazwa"])
    workbook.active.append(["K-1", "Klub"])
    workbook.create_sheet("Inne").append(["x"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert only_row(parse_sample(buffer.getvalue(), "s.XLSX")).name == "Klub"


def test_polish_letters_survive_a_workbook() -> None:
    book = openpyxl_book([["id", "nazwa", "gmina", "Uwagi"], ["K-1", POLISH, "Łódź", POLISH]])
    row = only_row(parse_sample(book, "próba.xlsx"))
    assert (row.name, row.gmina, row.variables) == (POLISH, "Łódź", {"uwagi": POLISH})


# --- CSV -------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1250", "utf-16"])
def test_polish_letters_survive_every_csv_encoding(encoding: str) -> None:
    data = csv_file(f"id;nazwa;gmina\r\nK-1;{POLISH};Łódź\r\n", encoding)
    row = only_row(parse_sample(data, "s.csv"))
    assert (row.name, row.gmina) == (POLISH, "Łódź")


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_csv_delimiter_is_found_from_the_header(delimiter: str) -> None:
    header = delimiter.join(["id", "nazwa", "uwagi"])
    # Fields hold the other delimiters, so only the header can tell which one is meant.
    line = delimiter.join(["K-1", '"Klub, oddział; nr 2"', '"a,b;c"'])
    result = parse_sample(csv_file(f"{header}\n{line}\n"), "s.csv")
    assert only_row(result).name == "Klub, oddział; nr 2"
    assert result.rows[0].variables == {"uwagi": "a,b;c"}


def test_quoted_csv_fields_may_hold_line_breaks_and_rows_count_records() -> None:
    result = parse_csv('id;nazwa;uwagi\nK-1;Klub;"pierwsza\ndruga"\nK-2;"Klub\n2";\nK-2;X;\n')
    assert rendered(result) == ["row 4, column id: external id K-2 repeats row 3"]
    assert result.rows[0].variables == {"uwagi": "pierwsza\ndruga"}


MIXED_LINE = (
    "line 3 is not UTF-8 text, unlike the rest of the file (it may have been pasted from a "
    'Windows-1250 file); in Excel save the file as "CSV UTF-8 (comma delimited)" and import '
    "it again"
)


@pytest.mark.parametrize("bom", [b"\xef\xbb\xbf", b""], ids=["bom", "no-bom"])
def test_a_utf8_file_with_one_windows_1250_line_is_refused_naming_the_line(bom) -> None:
    """m5c: stored as "SpĂłĹ‚dzielnia socjalna" when read as Windows-1250 throughout."""
    data = (
        bom
        + "id;nazwa\r\nK-1;Klub Integracji Społecznej w Żorach\r\n".encode()
        + "K-2;Spółdzielnia socjalna Łąka\r\n".encode("cp1250")
        + "K-3;Centrum Integracji Społecznej\r\n".encode()
    )
    result = parse_sample(data, "s.csv")
    assert rendered(result) == [MIXED_LINE] and result.rows == []


def test_a_windows_1250_file_whose_first_polish_line_comes_late_is_still_read() -> None:
    data = ("id;nazwa\r\nK-1;Klub\r\nK-2;Spółdzielnia socjalna Łąka\r\n").encode("cp1250")
    assert only_row_named(parse_sample(data, "s.csv"), "K-2") == "Spółdzielnia socjalna Łąka"


def only_row_named(result, external_id: str) -> str:
    assert result.ok, rendered(result)
    return next(row.name for row in result.rows if row.external_id == external_id)


def test_bytes_that_are_neither_utf8_nor_windows_1250_are_a_problem() -> None:
    result = parse_sample(b"id;nazwa\nK-1;\x98\x81\n", "s.csv")
    assert rendered(result) == [
        "the file is neither UTF-8 nor Windows-1250 text; "
        'in Excel save it as "CSV UTF-8 (comma delimited)"'
    ]


def test_a_workbook_named_csv_is_a_clean_problem() -> None:
    result = parse_sample(sample_template_xlsx(), "s.csv")
    assert rendered(result) == [
        "the file holds binary data, not CSV text; if it is an Excel workbook, name it .xlsx"
    ]


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("42", 42),
        ("-3", -3),
        ("1,5", 1.5),
        ("2.25", 2.25),
        ("12,0", 12),
        ("007", "007"),
        ("1 000", "1 000"),
        ("TRUE", 1),
        ("Fałsz", 0),
        ("PRAWDA", 1),
        ("15.01.2026", "2026-01-15"),
        ("31.02.2026", "31.02.2026"),
        ("2026-01-15", "2026-01-15"),
        ("tak", "tak"),
    ],
)
def test_csv_variables_recognise_numbers_booleans_and_polish_dates(
    written: str, value: object
) -> None:
    row = only_row(parse_csv(f'id;nazwa;v\nK-1;Klub;"{written}"\n'))
    assert row.variables == {"v": value}
    assert type(row.variables["v"]) is type(value)


def test_csv_text_columns_keep_numbers_as_written() -> None:
    row = only_row(parse_csv("id;nazwa;gmina;telefon\n007;Klub;0601;0048 600 100 200\n"))
    assert (row.external_id, row.gmina, row.phones) == ("007", "0601", ("0048600100200",))


def test_an_excel_error_in_a_csv_is_a_problem() -> None:
    result = parse_csv("id;nazwa;v\nK-1;Klub;#N/A\n")
    assert rendered(result) == ["row 2, column v: the cell shows the Excel error #N/A"]


# --- whole-file problems ---------------------------------------------------------------


@pytest.mark.parametrize("filename", ["sample.xls", "sample.txt", "sample", "", "sample.xlsx.zip"])
def test_an_unknown_extension_is_a_problem(filename: str) -> None:
    result = parse_sample(sample_template_xlsx(), filename)
    assert len(result.problems) == 1
    assert rendered(result)[0].endswith("is not an .xlsx or .csv file: use .xlsx or .csv")


@pytest.mark.parametrize("filename", ["s.csv", "s.xlsx"])
@pytest.mark.parametrize("data", [b"", b" \r\n"])
def test_an_empty_file_is_a_problem(filename: str, data: bytes) -> None:
    assert rendered(parse_sample(data, filename)) == ["the file is empty"]


def test_a_csv_holding_only_a_bom_is_empty() -> None:
    assert rendered(parse_sample(b"\xef\xbb\xbf\r\n", "s.csv")) == ["the file is empty"]


def test_a_csv_of_empty_rows_is_empty() -> None:
    assert rendered(parse_csv("\n;;;\n\n")) == ["the file is empty"]


def test_an_empty_workbook_is_empty() -> None:
    assert rendered(parse_sample(openpyxl_book([]), "s.xlsx")) == ["the file is empty"]


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"id;nazwa\r\n", "s.csv"),
        (b"id;nazwa\r\n;;\r\n", "s.csv"),
        (openpyxl_book([["id", "nazwa"], [None, None]]), "s.xlsx"),
    ],
)
def test_a_header_without_data_is_a_problem(data: bytes, filename: str) -> None:
    assert rendered(parse_sample(data, filename)) == [
        "the file has a header row but no rows of data"
    ]


def test_an_xlsx_that_is_not_a_zip_is_a_clean_problem() -> None:
    result = parse_sample(b"id;nazwa\nK-1;Klub\n", "s.xlsx")
    assert not result.ok
    assert rendered(result)[0].startswith("this is not an .xlsx workbook")


def test_an_old_binary_xls_renamed_to_xlsx_is_a_clean_problem() -> None:
    ole_header = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504)
    assert rendered(parse_sample(ole_header, "s.xlsx"))[0].startswith(
        "this is not an .xlsx workbook"
    )


def test_a_zip_that_is_not_a_workbook_is_a_clean_problem() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notatki.txt", "nie arkusz")
    result = parse_sample(buffer.getvalue(), "s.xlsx")
    assert [(p.row, p.column) for p in result.problems] == [(None, None)]
    assert rendered(result)[0].startswith("the workbook cannot be read (")


def test_a_truncated_workbook_is_a_clean_problem() -> None:
    data = sample_template_xlsx()
    for cut in (len(data) // 3, len(data) // 2, len(data) - 30):
        result = parse_sample(data[:cut], "s.xlsx")
        assert not result.ok
        assert result.rows == []


def test_a_workbook_with_no_worksheet_is_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "_chosen_sheet", lambda workbook: None)
    result = parse_sample(openpyxl_book([["id"]]), "s.xlsx")
    assert rendered(result) == ["the workbook has no worksheet"]


def test_a_file_over_the_size_limit_is_refused_before_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parsing, "MAX_FILE_BYTES", 100)
    result = parse_csv("id;nazwa\n" + "K;Klub\n" * 30)
    assert rendered(result) == ["the file is larger than 0 MB; a sample file is much smaller"]


def test_more_rows_than_the_limit_is_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_ROWS", 3)
    ok = parse_csv("id;nazwa\n1;a\n\n2;b\n3;c\n")
    assert ok.ok
    result = parse_csv("id;nazwa\n1;a\n2;b\n3;c\n4;d\n")
    assert rendered(result) == [
        "the file has more than 3 rows; split the sample into smaller files"
    ]
    assert result.rows == []


def test_more_columns_than_the_limit_is_a_problem() -> None:
    header = ["id", "nazwa", *(f"v{index}" for index in range(199))]
    result = parse_sample(openpyxl_book([header, ["K-1", "Klub", *range(199)]]), "s.xlsx")
    assert rendered(result) == [
        "row 1: there is data in column GS; a sample has at most 200 columns"
    ]


def test_two_hundred_columns_are_allowed() -> None:
    header = ["id", "nazwa", *(f"v{index}" for index in range(198))]
    row = only_row(parse_sample(openpyxl_book([header, ["K-1", "Klub", *range(198)]]), "s.xlsx"))
    assert len(row.variables) == 198


def test_a_cell_far_to_the_right_without_data_is_ignored() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["id", "nazwa"])
    sheet.append(["K-1", "Klub"])
    sheet.cell(row=2, column=5000).value = "  "  # blank text far out: not data
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert only_row(parse_sample(buffer.getvalue(), "s.xlsx")).name == "Klub"


def test_a_cell_far_below_does_not_hide_the_rows_above() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["id", "nazwa"])
    sheet.append(["K-1", "Klub"])
    sheet.cell(row=90_000, column=1).value = "K-2"
    sheet.cell(row=90_000, column=2).value = "Klub 2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = parse_sample(buffer.getvalue(), "s.xlsx")
    assert [row.row for row in result.rows] == [2, 90_000]


# --- zip bombs -------------------------------------------------------------------------


def zeros_zip(member: str, megabytes: int) -> bytes:
    """A zip with one member of ``megabytes`` MB of zeros, packed about a thousand times."""
    buffer = io.BytesIO()
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open(member, "w") as target:
            for _ in range(megabytes):
                target.write(chunk)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    return zeros_zip("xl/worksheets/sheet1.xml", 200)


@pytest.fixture(scope="module")
def tight_zip() -> bytes:
    return zeros_zip("xl/sharedStrings.xml", 5)


@pytest.fixture
def opened_members(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of zip members anything opens while the test runs."""
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def recording_open(self: zipfile.ZipFile, name: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", recording_open)
    return opened


def test_a_zip_bomb_is_refused_without_unpacking_it(
    zip_bomb: bytes, opened_members: list[str]
) -> None:
    assert len(zip_bomb) < 1024 * 1024
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = parse_sample(zip_bomb, "bomba.xlsx")
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rendered(result) == ["the workbook would unpack to more than 100 MB; it is refused"]
    assert opened_members == []
    assert elapsed < 1
    assert peak < 5 * 1024 * 1024


def test_a_tightly_packed_member_under_the_size_limit_is_refused(
    tight_zip: bytes, opened_members: list[str]
) -> None:
    result = parse_sample(tight_zip, "s.xlsx")
    assert rendered(result) == [
        "the workbook is packed suspiciously tightly (part xl/sharedStrings.xml); it is refused"
    ]
    assert opened_members == []


def test_a_zip_with_thousands_of_members_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(1001):
            archive.writestr(f"x/{index}", b"")
    assert rendered(parse_sample(buffer.getvalue(), "s.xlsx")) == [
        "the workbook has 1001 parts, far more than a real one has; it is refused"
    ]


def test_a_member_lying_about_its_size_is_never_unpacked_beyond_it() -> None:
    data = bytearray(zeros_zip("xl/workbook.xml", 20))
    # Declare the 20 MB member as 1 KB in the central directory, where zipfile looks.
    directory = data.rindex(b"PK\x01\x02")
    assert data[directory + 46 : directory + 46 + 15] == b"xl/workbook.xml"
    assert struct.unpack_from("<I", data, directory + 24)[0] == 20 * 1024 * 1024
    struct.pack_into("<I", data, directory + 24, 1024)
    tracemalloc.start()
    try:
        result = parse_sample(bytes(data), "s.xlsx")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not result.ok
    assert rendered(result)[0].startswith("the workbook cannot be read (")
    assert peak < 10 * 1024 * 1024


# --- problems --------------------------------------------------------------------------


def test_problems_render_where_they_are() -> None:
    message = Message("'%(value)s' is not an e-mail address", {"value": "abc"})
    assert SampleProblem(7, "email", message).render() == (
        "row 7, column email: 'abc' is not an e-mail address"
    )
    assert str(SampleProblem(7, None, message)) == "row 7: 'abc' is not an e-mail address"
    assert SampleProblem(None, "email", message).render() == (
        "column email: 'abc' is not an e-mail address"
    )
    assert SampleProblem(None, None, message).render() == "'abc' is not an e-mail address"


def test_problems_render_in_the_readers_language() -> None:
    catalogue = {
        "row %(row)s, column %(column)s: %(message)s": "wiersz %(row)s, kolumna %(column)s: "
        "%(message)s",
        "'%(value)s' is not an e-mail address": "„%(value)s” nie jest adresem e-mail",
    }
    result = parse_csv("id;nazwa;email\nK-1;Klub;abc\n")
    assert [p.render(lambda text: catalogue.get(text, text)) for p in result.problems] == [
        "wiersz 2, kolumna email: „abc” nie jest adresem e-mail"
    ]


# --- never raises ----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2000), extension=st.sampled_from(["csv", "xlsx"]))
def test_random_bytes_never_raise(data: bytes, extension: str) -> None:
    result = parse_sample(data, f"plik.{extension}")
    assert isinstance(result, SampleParseResult)
    assert result.ok == (not result.problems)
    for problem in result.problems:
        problem.render()


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(
        st.sampled_from([*';,\t"\n\r ab1+@.-ąŁ#\x00', "id", "nazwa", "telefon", "#N/A"]),
        max_size=200,
    ).map("".join)
)
def test_random_csv_text_never_raises(text: str) -> None:
    result = parse_sample(("id;nazwa;telefon;email\n" + text).encode("utf-8"), "plik.csv")
    for problem in result.problems:
        problem.render()


_MANGLE_BASE = openpyxl_book(
    [["id", "nazwa", "telefon", "data"], ["K-1", POLISH, "0601", datetime(2026, 1, 1)]]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    member=st.sampled_from(zipfile.ZipFile(io.BytesIO(_MANGLE_BASE)).namelist()),
    where=st.floats(min_value=0, max_value=1),
    length=st.integers(min_value=0, max_value=40),
    replacement=st.binary(max_size=40)
    | st.sampled_from([b"<", b">", b'"', b"<f>", b'<c r="ZZZ9">', b"&x;", b't="e"']),
)
def test_a_workbook_with_a_mangled_part_never_raises(
    member: str, where: float, length: int, replacement: bytes
) -> None:
    original = zipfile.ZipFile(io.BytesIO(_MANGLE_BASE)).read(member)
    start = int(where * len(original))
    mangled = original[:start] + replacement + original[start + length :]
    result = parse_sample(_replace_member(_MANGLE_BASE, member, mangled), "plik.xlsx")
    for problem in result.problems:
        problem.render()


def test_an_entity_bomb_inside_a_sheet_is_a_clean_problem() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    data = _replace_member(_MANGLE_BASE, "xl/worksheets/sheet1.xml", laughs)
    result = parse_sample(data, "plik.xlsx")
    assert not result.ok
    assert rendered(result)[0].startswith("the workbook cannot be read (")
