"""The monitoring report workbook, from the command line and as a download."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select

from app.models.fieldwork import Fieldwork, Response, ResponseStatus, SampleUnit
from app.models.users import Role
from tests.support.files import prepare_file

UNITS = [
    (
        "K-01",
        "Klub Integracji Społecznej w Żorach",
        {"entity_type": "KIS", "subregion": "południowy"},
    ),
    (
        "C-02",
        "Centrum Integracji Społecznej w Gliwicach",
        {"entity_type": "CIS", "subregion": "centralny"},
    ),
    (
        "C-03",
        "Centrum Integracji Społecznej w Rybniku",
        {"entity_type": "CIS", "subregion": "rybnicki"},
    ),
    (
        "C-04",
        "Centrum Integracji Społecznej w Bytomiu",
        {"entity_type": "CIS", "subregion": "centralny"},
    ),
]
DK = {"missing": "dont_know"}


def add_responses(app: Flask, clock, fieldwork_id: int, rows: list[tuple[str, dict, str]]) -> None:
    """Store responses directly: (unit external id, stored answers JSON, status)."""
    with app.extensions["ankieta.db"].session() as session:
        fieldwork = session.get(Fieldwork, fieldwork_id)
        for external_id, answers, status in rows:
            unit = session.scalar(
                select(SampleUnit).where(
                    SampleUnit.fieldwork_id == fieldwork_id, SampleUnit.external_id == external_id
                )
            )
            session.add(
                Response(
                    fieldwork_id=fieldwork_id,
                    sample_unit_id=unit.id,
                    survey_version_id=fieldwork.survey_version_id,
                    answers=answers,
                    status=status,
                    started_at=clock(),
                    updated_at=clock(),
                    completed_at=clock() if status == ResponseStatus.COMPLETE else None,
                )
            )


@pytest.fixture
def fieldwork_id(app, clock, make_fieldwork) -> int:
    fid = make_fieldwork(units=UNITS)
    add_responses(
        app,
        clock,
        fid,
        [
            ("K-01", {"a1": "kis", "b1_k": 3, "b1_m": 2}, ResponseStatus.COMPLETE),
            ("C-02", {"a1": "cis", "b1_k": 5, "b1_m": DK}, ResponseStatus.COMPLETE),
            # partial: left out unless --all
            ("C-04", {"a1": "cis", "b1_k": 10}, ResponseStatus.IN_PROGRESS),
        ],
    )
    return fid


def open_workbook(data: bytes):
    return load_workbook(io.BytesIO(data))


def find_row(ws: Worksheet, prefix: str) -> int:
    """The row whose first cell starts with ``prefix``."""
    for row in ws.iter_rows(min_col=1, max_col=1):
        value = row[0].value
        if isinstance(value, str) and value.startswith(prefix):
            return row[0].row
    raise AssertionError(f"no row starting with {prefix!r}")


def closed_block(ws: Worksheet, variable: str) -> dict[str, Any]:
    """A closed table as {code: [cells of the row from column C]}, plus its header rows."""
    top = find_row(ws, f"{variable} – ")
    groups = [c.value for c in ws[top + 1]]
    names = [c.value for c in ws[top + 2]]
    rows: dict[Any, list[Any]] = {}
    row = top + 3
    while ws.cell(row, 2).value is not None:
        base = ws.cell(row, 2).value in ("base", "podstawa", "podstawa (pozycje list)")
        key = "base" if base else ws.cell(row, 1).value
        rows[key] = [c.value for c in ws[row]][2:]
        row += 1
    return {"groups": groups, "names": names, "rows": rows}


def numeric_block(ws: Worksheet, variable: str) -> dict[str, dict[str, Any]]:
    top = find_row(ws, f"{variable} – ")
    names = [c.value for c in ws[top + 1]]
    out: dict[str, dict[str, Any]] = {}
    row = top + 2
    while ws.cell(row, 1).value is not None:
        out[ws.cell(row, 1).value] = dict(
            zip(names[1:], [c.value for c in ws[row]][1:], strict=False)
        )
        row += 1
    return out


def chart_parts(data: bytes) -> list[str]:
    """openpyxl drops charts when reading, so look for the chart parts in the package."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return [n for n in package.namelist() if n.startswith("xl/charts/chart")]


def run_report(runner, tmp_path, *args: str) -> bytes:
    out = tmp_path / "raport.xlsx"
    result = runner.invoke(args=["report", *args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out.read_bytes()


def test_cli_report_overall_figures_and_charts(runner, tmp_path, fieldwork_id):
    data = run_report(runner, tmp_path, str(fieldwork_id))
    wb = open_workbook(data)
    assert wb.sheetnames == [
        "spis treści",
        "pytania zamknięte",
        "pytania liczbowe",
        "realizacja badania",
    ]
    a1 = closed_block(wb["pytania zamknięte"], "a1")
    assert a1["names"][:4] == ["kod", "etykieta", "n", "procent"]
    assert a1["rows"]["cis"][:2] == [1, 0.5]
    assert a1["rows"]["kis"][:2] == [1, 0.5]
    assert a1["rows"][-98][:2] == [0, 0]  # don't know: its code, its own row
    labels = {row[0]: row[1] for row in wb["pytania zamknięte"].iter_rows(values_only=True)}
    assert labels[-98] == "Nie wiem" and labels[-99] == "Odmowa odpowiedzi"
    assert a1["rows"]["base"][0] == 2
    # a2 was asked of nobody: base 0, empty percentages
    a2 = closed_block(wb["pytania zamknięte"], "a2")
    assert a2["rows"]["base"][0] == 0
    assert all(cells[1] is None for key, cells in a2["rows"].items() if key != "base")
    b1_k = numeric_block(wb["pytania liczbowe"], "b1_k")["razem"]
    assert (b1_k["n"], b1_k["suma"], b1_k["średnia"], b1_k["mediana"]) == (2, 8, 4, 4)
    assert (b1_k["min."], b1_k["maks."]) == (3, 5)
    b1_m = numeric_block(wb["pytania liczbowe"], "b1_m")["razem"]
    assert (b1_m["n"], b1_m["suma"], b1_m["nie wiem"]) == (1, 2, 1)
    # the calculation b1_k + b1_m: empty where b1_m is don't know (empty in expressions)
    b1 = numeric_block(wb["pytania liczbowe"], "b1")["razem"]
    assert (b1["n"], b1["suma"]) == (1, 5)
    rates = wb["realizacja badania"]
    assert [c.value for c in rates[1]] == [
        "grupa",
        "liczebność próby",
        "ukończono",
        "wskaźnik odpowiedzi",
        "wysłane zaproszenia",
        "wysłane przypomnienia",
    ]
    assert [c.value for c in rates[2]] == ["razem", 4, 2, 0.5, 0, 0]
    # one native chart per closed table, and the contents list them
    closed_titles = [
        c.value
        for c in wb["pytania zamknięte"]["A"]
        if isinstance(c.value, str) and " – " in c.value
    ]
    assert len(chart_parts(data)) == len(closed_titles) > 0
    contents_variables = {c.value for c in wb["spis treści"]["A"]}
    assert {"a1", "b1_k"} <= contents_variables
    # no placeholder, no empty label, no English word of the report's own
    titles = [c.value for ws in wb for c in ws["A"] if isinstance(c.value, str)]
    assert not any("${" in t or t.endswith(" – ") for t in titles), titles
    assert "b1 – wartość obliczana" in titles
    assert any(t.startswith("b1_k – Liczba uczestników w … r.") for t in titles)
    words = {
        c.value for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)
    }
    assert not words & {"total", "base", "dont_know", "refused", "percent", "group", "code"}


def test_cli_report_by_subregion_with_an_empty_group(runner, tmp_path, fieldwork_id):
    data = run_report(runner, tmp_path, str(fieldwork_id), "--by", "subregion", "--lang", "en")
    wb = open_workbook(data)
    assert wb.sheetnames == ["contents", "closed questions", "numeric questions", "response rates"]
    a1 = closed_block(wb["closed questions"], "a1")
    # total, then the sample's subregions sorted; rybnicki has no response
    assert [g for g in a1["groups"] if g] == ["total", "centralny", "południowy", "rybnicki"]
    assert a1["rows"]["cis"] == [1, 0.5, 1, 1.0, 0, 0, 0, None]
    assert a1["rows"]["base"] == [2, None, 1, None, 1, None, 0, None]
    assert "Social Integration Centre (CIS)" in [c.value for c in wb["closed questions"]["B"]]
    b1_k = numeric_block(wb["numeric questions"], "b1_k")
    assert b1_k["centralny"]["n"] == 1 and b1_k["centralny"]["mean"] == 5
    assert b1_k["rybnicki"]["n"] == 0 and b1_k["rybnicki"]["mean"] is None
    rows = list(wb["response rates"].iter_rows(min_row=2, values_only=True))
    rates = {row[0]: row[1:] for row in rows[:4]}
    assert rates == {  # the last two: e-mail invitations and reminders sent (none here)
        "total": (4, 2, 0.5, 0, 0),
        "centralny": (2, 1, 0.5, 0, 0),
        "południowy": (1, 1, 1.0, 0, 0),
        "rybnicki": (1, 0, 0, 0, 0),
    }
    # below, by type of institution (the breakdown already is the subregion)
    assert rows[4][0] is None and rows[5][0] == "by type of institution"
    assert rows[6][:4] == ("type of institution", "sample size", "complete", "response rate")
    assert {row[0]: row[1:4] for row in rows[7:9]} == {"CIS": (3, 1, 1 / 3), "KIS": (1, 1, 1)}
    # then the telephone cases per AAPOR disposition code, by subregion and by type
    titles = [row[0] for row in rows[9:] if row[0] and row[0].startswith("telephone cases")]
    assert titles == [
        "telephone cases by AAPOR disposition code, by subregion",
        "telephone cases by AAPOR disposition code, by type of institution",
    ]


def test_cli_report_all_includes_partial_responses(runner, tmp_path, fieldwork_id):
    wb = open_workbook(run_report(runner, tmp_path, str(fieldwork_id), "--all"))
    a1 = closed_block(wb["pytania zamknięte"], "a1")
    assert a1["rows"]["cis"][:2] == [2, pytest.approx(2 / 3)]
    assert numeric_block(wb["pytania liczbowe"], "b1_k")["razem"]["mediana"] == 5


def test_cli_report_compares_with_an_earlier_fieldwork(
    app, clock, runner, tmp_path, make_fieldwork, fieldwork_id
):
    earlier = make_fieldwork(units=UNITS, title="Monitoring 2025")
    add_responses(
        app,
        clock,
        earlier,
        [
            ("K-01", {"a1": "kis", "b1_k": 1, "b1_m": 1}, ResponseStatus.COMPLETE),
            ("C-03", {"a1": "kis", "b1_k": 2, "b1_m": 0}, ResponseStatus.COMPLETE),
            ("C-04", {"a1": "kis", "b1_k": 6, "b1_m": 0}, ResponseStatus.COMPLETE),
        ],
    )
    data = run_report(runner, tmp_path, str(fieldwork_id), "--compare", str(earlier))
    wb = open_workbook(data)
    a1 = closed_block(wb["pytania zamknięte"], "a1")
    assert a1["names"][2:6] == ["n", "procent", "poprzednio n", "poprzednio procent"]
    assert a1["rows"]["kis"][:4] == [1, 0.5, 3, 1.0]
    assert a1["rows"]["base"][:4] == [2, None, 3, None]
    b1_k = numeric_block(wb["pytania liczbowe"], "b1_k")["razem"]
    assert (b1_k["mediana"], b1_k["poprzednio: n"], b1_k["poprzednio: mediana"]) == (4, 3, 2)
    rates = list(wb["realizacja badania"].iter_rows(min_row=2, values_only=True))
    assert rates[0] == ("razem", 4, 2, 0.5, 4, 3, 0.75, 0, 0)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        chart = package.read(chart_parts(data)[0]).decode()
    assert chart.count("<c:ser>") == 2  # this period and the previous one


def test_cli_report_refuses_unknown_breakdown_and_fieldwork(
    runner, tmp_path, fieldwork_id, make_fieldwork
):
    out = tmp_path / "x.xlsx"

    def refused(*args: str) -> str:
        result = runner.invoke(args=["report", *args, "-o", str(out)])
        assert result.exit_code == 1 and not out.exists()
        return result.output.strip()

    assert refused(str(fieldwork_id), "--by", "nope") == "Błąd: Próba nie ma zmiennej 'nope'."
    assert refused("999") == "Błąd: Nie ma badania 999."
    assert refused(str(fieldwork_id), "--compare", "999") == "Błąd: Nie ma badania 999."
    itself = refused(str(fieldwork_id), "--compare", str(fieldwork_id))
    assert itself == "Błąd: Badania nie można porównać z nim samym."
    other = make_fieldwork("pes")
    assert refused(str(fieldwork_id), "--compare", str(other)) == (
        f"Błąd: Badanie {other} dotyczy innej ankiety."
    )


def test_cli_report_says_where_it_wrote_in_the_command_line_s_language(
    runner, tmp_path, fieldwork_id
):
    from app.cli import main

    out = tmp_path / "raport.xlsx"
    result = runner.invoke(main, ["--lang", "en", "report", str(fieldwork_id), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"Report of fieldwork {fieldwork_id} written.", str(out)]
    result = runner.invoke(args=["report", str(fieldwork_id), "-o", str(out)])
    assert result.stdout.splitlines() == [f"Zapisano raport badania {fieldwork_id}.", str(out)]


def test_web_download(client, login_as, fieldwork_id):
    login_as(Role.ANALYST)
    data = prepare_file(client, fieldwork_id, kind="report", by="entity_type")
    wb = open_workbook(data)
    a1 = closed_block(wb["pytania zamknięte"], "a1")
    assert [g for g in a1["groups"] if g] == ["razem", "CIS", "KIS"]
    assert a1["rows"]["kis"] == [1, 0.5, 0, 0, 1, 1.0]
    assert chart_parts(data)
    refused = client.post(f"/fieldwork/{fieldwork_id}/files", data={"kind": "report", "by": "nope"})
    assert refused.status_code == 400
    assert 'id="by-error"' in refused.get_data(as_text=True)
    assert client.post("/fieldwork/999/files", data={"kind": "report"}).status_code == 404


PLAN = """\
plan:
  id: plan_raportu
  title: Plan raportu
areas:
  - {code: "1", name: Integracja}
indicators:
  - id: kobiety
    area: "1"
    name: Uczestniczki CIS i KIS
    unit: osoby
    questionnaire: monitoring_cis_kis
    measure: sum
    value: "${b1_k}"
    targets: {2026: 16}
"""


def test_web_document_with_the_plans_indicators(app, client, login_as, fieldwork_id, tmp_path):
    from docx import Document

    from app.surveys import services as survey_services
    from tests.support.files import libreoffice_pdf_text

    with app.extensions["ankieta.db"].session() as session:
        assert survey_services.load_plan_bytes(session, PLAN.encode(), "plan.yaml").ok
    login_as(Role.ANALYST)
    data = prepare_file(client, fieldwork_id, kind="document", by="subregion")
    doc = Document(io.BytesIO(data))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[:4] == [
        "Raport z monitoringu",
        "1. Realizacja badania",
        "2. Wskaźniki planu",
        "Obszar priorytetowy 1: Integracja",
    ]
    tables = [[[cell.text for cell in row.cells] for row in t.rows] for t in doc.tables]
    assert tables[0][0][0] == "podregion"
    # the two complete responses: 3 + 5 women, of a target of 16 -> 50 %
    assert tables[1][1][:6] == ["Uczestniczki CIS i KIS", "8 osoby", "2", "0", "16", "50,0%"]
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "${" not in text and "dont_know" not in text
    # the workbook shows the same results
    workbook = open_workbook(prepare_file(client, fieldwork_id, kind="report", by="subregion"))
    row = [c.value for c in workbook["wskaźniki"][2]]
    assert row[:9] == ["1. Integracja", "Uczestniczki CIS i KIS", "osoby", 2026, 8, 2, 0, 16, 0.5]
    path = tmp_path / "raport.docx"
    path.write_bytes(data)
    libreoffice_pdf_text(path, tmp_path)
