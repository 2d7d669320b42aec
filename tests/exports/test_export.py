"""The response export: XLSX workbook and CSV, from the command line and the download routes.

A small survey made for these tests covers every value type (text, integer, decimal, date,
select_one, select_multiple with an ``other`` text, matrix, calculation), a group with a
condition, and a second version with one item added. Responses are inserted as stored
rows (``answers_to_json``), as the interview services would leave them.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from flask import Flask

from app.domain.outputs import export as export_domain
from app.domain.outputs.export import META_COLUMNS, TRUNCATED_MARKER, fit_cell, neutralise
from app.domain.outputs.words import POLISH, SHEETS
from app.exports import services as export_services
from app.exports.workbook import write_xlsx
from app.models.calling import rates_for
from app.models.fieldwork import Fieldwork, Response
from app.models.users import Role
from tests.support.exports import (
    ADDED,
    CMD,
    DEFINITION,
    HYPERLINK,
    SUM,
    VARIABLE_COLUMNS,
    Setup,
    sheet_rows,
)
from tests.support.files import libreoffice_sheets, prepare_file


def _write(app: Flask, setup: Setup, path: Path, fmt: str = "xlsx", **options) -> int:
    database = app.extensions["ankieta.db"]
    with app.app_context(), database.session() as session:
        fieldwork = session.get(Fieldwork, setup.fieldwork_id)
        opts = export_services.ExportOptions(**options)
        if fmt == "csv":
            return export_services.write_csv(session, fieldwork, path, opts)
        return write_xlsx(session, fieldwork, path, opts)


# --- the Responses sheet ---


def test_header_has_metadata_then_variables_of_both_versions_in_order(app, exported, tmp_path):
    path = tmp_path / "out.xlsx"
    assert _write(app, exported, path) == 3
    ws = openpyxl.load_workbook(path)["Odpowiedzi"]
    header = [c.value for c in ws[1]]
    assert header == [*POLISH.header(META_COLUMNS), *VARIABLE_COLUMNS]
    assert header[:3] == ["id_odpowiedzi", "id_zewnętrzne", "instytucja"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}4"
    assert ws.column_dimensions["C"].width > 30  # institution names are wide


def test_values_keep_their_types_and_codes(app, exported, tmp_path):
    path = tmp_path / "out.xlsx"
    _write(app, exported, path)
    first, second, third = sheet_rows(path)

    assert first["response_id"] == exported.response_ids[0]
    assert first["external_id"] == "007"  # leading zeros survive
    assert first["institution"] == "Klub Integracji Społecznej w Żorach"
    assert (first["entity_type"], first["subregion"], first["gmina"]) == (
        "KIS",
        "południowy",
        "Żory",
    )
    assert (first["mode"], first["status"]) == ("internet", "kompletna")
    assert first["started"] == datetime(2026, 3, 10, 9, 0)  # Warsaw wall time, CET
    assert first["completed"] == datetime(2026, 3, 10, 9, 30)
    assert first["duration_minutes"] == 30
    assert first["definition_version"] == 1

    assert first["kod"] == "007"
    assert first["liczba"] == 5 and isinstance(first["liczba"], int)
    assert first["kwota"] == 12.5
    assert first["data"] == datetime(2026, 3, 1)  # an Excel date
    assert first["filtr"] == "1"  # codes are text
    assert first["obszary"] == "01 inny"
    assert (first["obszary_01"], first["obszary_02"], first["obszary_inny"]) == (1, 0, 1)
    assert first["obszary_other"] == CMD
    assert first["m_r1"] == "2"
    assert first["m_r2"] == -98  # don't know: its code, as a number
    assert first["podwojona"] == 10  # calculated, typed

    assert (second["mode"], second["status"]) == ("telefon", "częściowa")
    assert second["completed"] is None and second["duration_minutes"] is None
    assert second["liczba"] == -99
    # not asked (the group's condition is false): empty, also the 0/1 columns
    for name in ("obszary", "obszary_01", "obszary_02", "obszary_inny", "obszary_other"):
        assert second[name] is None, name
    assert second["kwota"] is None and second["data"] is None and second["m_r1"] is None
    assert second["nowe"] is None  # not in its version

    assert (third["mode"], third["definition_version"]) == ("internet_i_telefon", 2)
    assert third["nowe"] == 7
    assert third["obszary"] == -98
    assert third["obszary_01"] is None  # no real answer: no ticks either
    assert third["duration_minutes"] == 75


def test_a_date_before_1900_goes_out_as_iso_text_and_the_codebook_says_so(app, exported, tmp_path):
    """Excel has no dates before 1900: -693594 shown as ##### (openpyxl reads #VALUE!)."""
    with app.extensions["ankieta.db"].session() as session:
        response = session.get(Response, exported.response_ids[0])
        response.answers = {**response.answers, "data": "0001-01-01"}  # stored before bounds
    path = tmp_path / "out.xlsx"
    _write(app, exported, path)
    first = sheet_rows(path)[0]
    assert first["data"] == "0001-01-01"
    codebook = {row["variable"]: row for row in sheet_rows(path, "Codebook")}
    assert codebook["data"]["type"] == "date (data; przed 1900 r.: tekst RRRR-MM-DD)"
    assert codebook["liczba"]["type"] == "integer"


def test_labels_mode_in_english(app, exported, tmp_path):
    path = tmp_path / "out.xlsx"
    _write(app, exported, path, labels=True, language="en")
    assert openpyxl.load_workbook(path).sheetnames[0] == "Responses"
    first, second, third = sheet_rows(path)
    assert (first["mode"], first["status"]) == ("online", "complete")
    assert first["filtr"] == "Yes"
    assert first["obszary"] == "Education; Other (what?)"
    assert first["obszary_01"] == 1  # the tick columns stay 0/1
    assert first["m_r1"] == "Good"
    assert first["m_r2"] == "Don't know"
    assert second["liczba"] == "Refused"
    assert first["kod"] == "007" and first["liczba"] == 5


def test_labels_mode_defaults_to_the_survey_language(app, exported, tmp_path):
    path = tmp_path / "out.xlsx"
    _write(app, exported, path, labels=True)
    first = sheet_rows(path)[0]
    assert first["filtr"] == "Tak"
    assert first["m_r1"] == "Dobrze"


def test_hostile_answers_never_become_formulas(app, exported, tmp_path):
    path = tmp_path / "out.xlsx"
    _write(app, exported, path)
    book = openpyxl.load_workbook(path)
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                assert cell.hyperlink is None
    values = {c.value for row in book["Odpowiedzi"].iter_rows() for c in row}
    assert {HYPERLINK, SUM, CMD, "-5"} <= values


def test_filters_complete_only_subregion_and_dates(app, exported, tmp_path):
    path = tmp_path / "out.xlsx"
    assert _write(app, exported, path, complete_only=True) == 2
    assert [r["external_id"] for r in sheet_rows(path)] == ["007", "009"]
    assert _write(app, exported, path, subregion="centralny") == 2
    assert [r["external_id"] for r in sheet_rows(path)] == ["008", "009"]
    assert _write(app, exported, path, date_from=date(2026, 3, 11), date_to=date(2026, 3, 12)) == 1
    assert [r["external_id"] for r in sheet_rows(path)] == ["008"]


# --- the other sheets ---


def test_codebook_and_choices_match_the_definition(app, exported, tmp_path):
    path = tmp_path / "out.xlsx"
    _write(app, exported, path)
    codebook = {r["variable"]: r for r in sheet_rows(path, "Codebook")}
    expected = [
        name
        for name in VARIABLE_COLUMNS
        if name not in ("obszary_01", "obszary_02", "obszary_inny")
    ]
    assert list(codebook) == expected
    assert codebook["liczba"]["label_pl"] == "Liczba"
    assert codebook["liczba"]["label_en"] == "Number"
    assert codebook["nowe"]["label_pl"] == "Nowe pytanie"
    assert codebook["obszary"]["type"] == "select_multiple"
    assert codebook["obszary"]["group"] == "g"
    assert codebook["obszary"]["relevance"] == "${filtr} = '1'"
    assert codebook["obszary"]["choice_list"] == "obszary"
    assert codebook["m_r2"]["type"] == "select_one"
    assert codebook["m_r2"]["label_en"] == "Ratings – Second"
    assert codebook["podwojona"]["type"] == "calculate"
    assert codebook["nazwa"]["required"] == "nie"
    choices = sheet_rows(path, "Choices")
    assert {
        "list": "obszary",
        "code": "01",
        "label_pl": "Edukacja",
        "label_en": "Education",
        "sheets": "Odpowiedzi",
    } in choices
    assert [(c["list"], c["code"]) for c in choices][:2] == [("tak_nie", "1"), ("tak_nie", "2")]


def test_dispositions_sheet_has_the_supervisor_rates(app, exported, tmp_path):
    path = tmp_path / "out.xlsx"
    _write(app, exported, path)
    ws = openpyxl.load_workbook(path)["Wyniki końcowe"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("kod_aapor", "kod_wyniku", "wynik", "przypadki")
    start = rows.index(("wskaźnik", "wartość", "wzór", None))
    database = app.extensions["ankieta.db"]
    with app.app_context(), database.session() as session:
        expected = rates_for(session, session.get(Fieldwork, exported.fieldwork_id)).as_rows()
    assert [row[:2] for row in rows[start + 1 :]] == [tuple(r[:2]) for r in expected]
    assert [row[2] for row in rows[start + 1 : -1]] == [r[2] for r in expected[:-1]]
    assert rows[-1][2].endswith("chyba że ustawiono ją ręcznie")  # e, in Polish
    calls = openpyxl.load_workbook(path)["Połączenia"]
    assert [c.value for c in calls[1]][:4] == ["id_zewnętrzne", "instytucja", "ankieter", "numer"]


def test_long_text_is_cut_with_a_visible_marker():
    text = "ż" * 40_000
    cut = fit_cell(text)
    assert len(cut) == export_domain.CELL_MAX_LENGTH
    assert cut.endswith(TRUNCATED_MARKER)
    assert fit_cell("krótki") == "krótki"


def test_neutralise_prefixes_formula_triggers_only():
    for hostile in (HYPERLINK, SUM, CMD, "-5", "\tx", "\rx"):
        assert neutralise(hostile) == "'" + hostile
    assert neutralise("Zwykły tekst") == "Zwykły tekst"


# --- CSV ---

SPLITTABLE = ("-2+3;=1+1;", "a,=1+1", "x\t@SUM(1)", "ok; +1", "n,\u00a0-1", "plain; text")


def _no_piece_is_a_formula(raw: str) -> list[str]:
    """Pieces of ``raw`` that a spreadsheet splitting on , ; or tab would run as formulas."""
    found = []
    for line in raw.splitlines():
        for separator in (",", ";", "\t"):
            for piece in line.split(separator):
                piece = piece.strip(' "\u00a0')
                if re.fullmatch(r"-?[0-9]+(?:[.,][0-9]+)?", piece):
                    continue  # a number (-99, a missing-value code) is a number, not a formula
                if piece[:1] in ("=", "+", "-", "@"):
                    found.append(piece)
    return found


@pytest.mark.parametrize("text", SPLITTABLE)
def test_neutralise_guards_every_piece_a_separator_could_split_off(text):
    guarded = neutralise(text)
    assert _no_piece_is_a_formula(guarded) == []
    assert guarded.replace("'", "") == text


def test_csv_fields_are_guarded_whichever_separator_excel_splits_on(app, exported, tmp_path):
    import csv

    with app.extensions["ankieta.db"].session() as session:
        response = session.get(Response, exported.response_ids[0])
        response.answers = {**response.answers, "nazwa": SPLITTABLE[0], "kod": SPLITTABLE[1]}
    path = tmp_path / "out.csv"
    _write(app, exported, path, "csv")
    raw = path.read_bytes().decode("utf-8-sig")
    assert _no_piece_is_a_formula(raw) == []
    rows = list(csv.DictReader(io.StringIO(raw), delimiter=";"))
    assert rows[0]["nazwa"] == "'-2+3;'=1+1;"
    assert rows[0]["kod"] == "a,'=1+1"
    for separator in (",", "\t"):  # read as a comma or tab-splitting tool would
        for row in csv.reader(io.StringIO(raw), delimiter=separator):
            assert _no_piece_is_a_formula(separator.join(row)) == []


def test_csv_has_bom_and_neutralised_text(app, exported, tmp_path):
    path = tmp_path / "out.csv"
    assert _write(app, exported, path, "csv") == 3
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    import csv

    polish = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert list(polish[0])[:2] == ["id_odpowiedzi", "id_zewnętrzne"]
    assert polish[0]["kwota"] == "12,5"  # the decimal comma of Excel in Polish
    assert polish[0]["status"] == "kompletna"
    # for tools: commas, a decimal point, no BOM; the same values otherwise
    assert _write(app, exported, path, "csv", csv_dialect="rfc4180", language="en") == 3
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
    assert rows[0]["kwota"] == "12.5" and rows[0]["status"] == "complete"
    first, second, _third = rows
    assert first["nazwa"] == "'" + HYPERLINK
    assert first["obszary_other"] == "'" + CMD
    assert second["nazwa"] == "'" + SUM
    assert second["kod"] == "'-5"
    assert second["liczba"] == "-99"  # a number is not text: no prefix
    assert first["external_id"] == "007"
    assert first["data"] == "2026-03-01"
    assert first["institution"] == "Klub Integracji Społecznej w Żorach"
    assert second["obszary_01"] == ""


# --- command line ---


def test_cli_export_xlsx_and_csv(app, runner, exported, tmp_path):
    out = tmp_path / "cli.xlsx"
    result = runner.invoke(args=["export", str(exported.fieldwork_id), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(sheet_rows(out)) == 3
    out_csv = tmp_path / "cli.csv"
    result = runner.invoke(
        args=[
            "export",
            str(exported.fieldwork_id),
            "-o",
            str(out_csv),
            "--complete-only",
            "--labels",
            "--lang",
            "en",
        ]
    )
    assert result.exit_code == 0, result.output
    assert out_csv.read_bytes().startswith(b"\xef\xbb\xbf")
    text = out_csv.read_text(encoding="utf-8-sig")
    assert text.count("\n") == 3  # header + 2
    assert text.startswith("response_id;external_id;")  # English words, Excel's separator
    result = runner.invoke(
        args=["export", str(exported.fieldwork_id), "-o", str(out_csv), "--csv-dialect", "rfc4180"]
    )
    assert result.exit_code == 0, result.output
    assert out_csv.read_text(encoding="utf-8").startswith("id_odpowiedzi,id_zewnętrzne,")
    bad = ["export", str(exported.fieldwork_id), "-o", str(out_csv), "--csv-dialect", "tsv"]
    assert runner.invoke(args=bad).exit_code == 2


def test_cli_export_tells_people_in_polish_and_scripts_the_file_on_the_last_line(
    runner, exported, tmp_path
):
    out = tmp_path / "cli.xlsx"
    result = runner.invoke(args=["export", str(exported.fieldwork_id), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["Wyeksportowane odpowiedzi: 3.", str(out)]


def test_cli_export_lang_is_the_labels_language_not_the_messages(runner, exported, tmp_path):
    from app.cli import main

    def export(name: str, messages: str | None, labels: str | None) -> str:
        out = tmp_path / name
        args = ["--lang", messages] if messages else []
        args += ["export", str(exported.fieldwork_id), "-o", str(out), "--labels"]
        args += ["--lang", labels] if labels else []
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[-1] == str(out)
        return result.stdout

    assert export("own.csv", None, None).startswith("Wyeksportowane odpowiedzi: 3.")
    assert export("pl.csv", "en", "pl").startswith("Responses exported: 3.")
    assert export("en.csv", "pl", "en").startswith("Wyeksportowane odpowiedzi: 3.")
    own, polish, english = (
        (tmp_path / name).read_text(encoding="utf-8-sig")
        for name in ("own.csv", "pl.csv", "en.csv")
    )
    # the questionnaire's own labels (Polish) unless the command's --lang asks for others;
    # the messages' language changes nothing in the file
    assert own == polish != english


def test_cli_export_errors(app, runner, exported, tmp_path):
    out = tmp_path / "x.xlsx"
    assert runner.invoke(args=["export", "999", "-o", str(out)]).exit_code == 1
    bad_format = ["export", str(exported.fieldwork_id), "-o", str(out), "--format", "ods"]
    assert runner.invoke(args=bad_format).exit_code == 2
    result = runner.invoke(args=["export", "999", "-o", str(out)])
    assert "Błąd: Nie ma badania 999." in result.output
    bad_date = ["export", str(exported.fieldwork_id), "-o", str(out), "--from", "1 marca 2026"]
    result = runner.invoke(args=bad_date)
    assert result.exit_code == 2 and "nie jest datą" in result.output
    after = ["export", str(exported.fieldwork_id), "-o", str(out), "--from", "02.03.2026"]
    result = runner.invoke(args=[*after, "--to", "2026-03-01"])
    assert result.exit_code == 2 and "--from jest później niż --to" in result.output
    no_output = ["export", str(exported.fieldwork_id)]
    assert runner.invoke(args=no_output).exit_code == 2


# --- web ---


def test_analyst_downloads_xlsx_and_csv(app, client, login_as, exported, tmp_path):
    login_as(Role.ANALYST)
    path = tmp_path / "web.xlsx"
    path.write_bytes(prepare_file(client, exported.fieldwork_id, labels="y", language="en"))
    assert sheet_rows(path)[0]["filtr"] == "Yes"
    csv_file = prepare_file(client, exported.fieldwork_id, kind="csv", complete_only="y")
    assert csv_file.startswith(b"\xef\xbb\xbfid_odpowiedzi;")
    assert csv_file.decode("utf-8-sig").count("\r\n") == 3
    for_tools = prepare_file(
        client, exported.fieldwork_id, kind="csv", csv_dialect="rfc4180", language="en"
    )
    assert for_tools.startswith(b"response_id,external_id,")
    bad_dialect = {"kind": "csv", "csv_dialect": "tsv"}
    assert (
        client.post(f"/fieldwork/{exported.fieldwork_id}/files", data=bad_dialect).status_code
        == 400
    )
    bad_date = {"kind": "csv", "date_from": "x"}
    assert (
        client.post(f"/fieldwork/{exported.fieldwork_id}/files", data=bad_date).status_code == 400
    )
    assert client.post("/fieldwork/999/files", data={"kind": "responses"}).status_code == 404


def test_interviewer_may_not_download(app, client, login_as, exported):
    login_as(Role.INTERVIEWER)
    assert client.get(f"/fieldwork/{exported.fieldwork_id}/files").status_code == 403
    asked = client.post(f"/fieldwork/{exported.fieldwork_id}/files", data={"kind": "csv"})
    assert asked.status_code == 403


def test_answer_reader_reads_what_answers_from_json_reads(tmp_path):
    from app.domain.outputs.export import AnswerReader
    from app.domain.questionnaire.answers import ASIDE_KEY, answers_from_json
    from app.domain.questionnaire.flow import Flow
    from app.domain.questionnaire.loading import load_definition

    source = (DEFINITION % {"version": "2", "added": ADDED}).encode("utf-8")
    flow = Flow(load_definition(source, "v2.yaml").questionnaire)
    stored = {
        "nazwa": "x",
        "liczba": True,  # does not fit an integer
        "nowe": {"missing": "refused"},
        "kwota": "12.50",
        "data": "2026-02-30",  # no such day
        "filtr": "3",  # no such code
        "obszary": ["inny", "01", "nope"],
        "m_r1": "2",
        "m_r2": {"missing": "dont_know"},
        "gone": 1,  # a variable of another version
        "podwojona": {"missing": "dont_know"},
    }
    expected = answers_from_json(flow.questionnaire, stored, flow.variables)
    expected.pop(ASIDE_KEY)
    assert AnswerReader(flow).read(stored) == expected
    stored["obszary"] = ["inny", "01"]
    assert AnswerReader(flow).read(stored)["obszary"] == ("01", "inny")


@pytest.mark.parametrize(
    "stored",
    [
        {"filtr": "1", "obszary": ["01", "inny"], "obszary_other": "x", "liczba": 4},
        {"filtr": "2", "obszary": ["inny"], "obszary_other": "x", "liczba": {"missing": "refused"}},
        {"filtr": "1", "obszary": ["01"], "obszary_other": "left over", "m_r1": "1"},
        {},
    ],
)
def test_answer_reader_cleans_like_the_flow(stored):
    from app.domain.outputs.export import AnswerReader
    from app.domain.questionnaire.answers import answers_from_json
    from app.domain.questionnaire.flow import Flow
    from app.domain.questionnaire.loading import load_definition

    source = (DEFINITION % {"version": "1", "added": ""}).encode("utf-8")
    flow = Flow(load_definition(source, "v1.yaml").questionnaire)
    today = date(2026, 3, 16)
    answers = answers_from_json(flow.questionnaire, stored, flow.variables)
    expected = flow.clean_answers(flow.state(answers, sample={}, today=today))
    assert AnswerReader(flow).clean(stored, sample={}, today=today) == expected


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the file is the same
def test_libreoffice_converts_every_sheet_of_every_workbook(app, exported, tmp_path):
    from app.exports.report import write_report

    codes, labels, report = tmp_path / "codes.xlsx", tmp_path / "labels.xlsx", tmp_path / "r.xlsx"
    _write(app, exported, codes)
    _write(app, exported, labels, labels=True, language="en")
    with app.extensions["ankieta.db"].session() as session:
        fieldwork = session.get(Fieldwork, exported.fieldwork_id)
        report.write_bytes(write_report(session, fieldwork, by="subregion"))

    sheets = libreoffice_sheets(codes, tmp_path / "lo")
    assert sorted(sheets) == sorted(POLISH.sheet(key) for key in SHEETS)
    header, *rows = sheets["Odpowiedzi"]
    assert len(rows) == 3 and len(header) == len(rows[0])
    first = dict(zip(header, rows[0], strict=True))
    assert first["nazwa"] == HYPERLINK  # text, not the result of a formula
    assert first["kod"] == "007"
    assert libreoffice_sheets(labels, tmp_path / "lo2")["Responses"][1][header.index("filtr")] == (
        "Yes"
    )
    report_sheets = libreoffice_sheets(report, tmp_path / "lo")
    expected = openpyxl.load_workbook(report, read_only=True).sheetnames
    assert sorted(report_sheets) == sorted(expected)
