"""The monitoring report as a Word document: headings, tables, charts, Polish words."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from docx.shared import Cm

from app.domain.monitoring.indicators import Observation, compute
from app.domain.monitoring.plan import load_plan
from app.domain.outputs.document import DocumentInput, report_document
from app.domain.outputs.report import build_report, response_rates
from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.loading import load_definition
from app.platform.i18n import translations
from tests.domain.outputs.test_report import DEFINITION, record
from tests.support.files import libreoffice_pdf_text

PLAN = """\
plan:
  id: plan_testowy
  title: Plan testowy
areas:
  - {code: "1", name: {pl: Integracja, en: Integration}}
indicators:
  - id: uczestnicy
    area: "1"
    name: {pl: Liczba uczestników, en: Participants}
    unit: {pl: osoby, en: people}
    questionnaire: raport_test
    measure: sum
    value: "${q3}"
    targets: {2026: 40}
  - id: aktywne
    area: "1"
    name: {pl: Odsetek aktywnych jednostek, en: Share of active units}
    questionnaire: raport_test
    measure: share
    value: "${q1} = '1'"
"""


@pytest.fixture(scope="module")
def flow() -> Flow:
    result = load_definition(DEFINITION.encode(), "raport_test.yaml")
    assert result.questionnaire is not None
    return Flow(result.questionnaire)


def document_input(flow: Flow, language: str = "pl") -> DocumentInput:
    rows = [
        ({"q1": "1", "q2": ["a", "b"], "q3": 10, "q4": "1.5", "m_r1": "1"}, "północny"),
        ({"q1": "1", "q2": ["a"], "q3": 3, "q4": "2"}, "północny"),
        ({"q1": "2", "q4": "0.5"}, "zachodni"),
    ]
    records = [record(flow, answers, subregion) for answers, subregion in rows]
    report = build_report(flow, records, by="subregion", groups=["północny", "zachodni"])
    rates = response_rates(
        [
            ({"subregion": "północny"}, True),
            ({"subregion": "północny"}, True),
            ({"subregion": "zachodni"}, True),
            ({"subregion": "zachodni"}, False),
        ],
        by="subregion",
    )
    plan = load_plan(PLAN.encode(), "plan.yaml", {"raport_test": flow.questionnaire}).plan
    assert plan is not None
    observations = [Observation(answers, sample) for answers, sample in records]
    results = [compute(i, flow, observations, year=2026) for i in plan.indicators]
    return DocumentInput(
        title="Monitoring CIS 2026",
        survey="Test raportu",
        period="2026",
        generated="05.12.2026",
        report=report,
        rates=rates,
        indicators=results,
        areas={area.code: area.name for area in plan.areas},
        by_label="podregion" if language == "pl" else "subregion",
        language=language,
    )


def test_the_document_has_headings_tables_and_charts_in_polish(flow, tmp_path: Path):
    data = report_document(document_input(flow), translations("pl").gettext)
    doc = Document(io.BytesIO(data))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[:5] == [
        "Raport z monitoringu",
        "1. Realizacja badania",
        "2. Wskaźniki planu",
        "Obszar priorytetowy 1: Integracja",
        "3. Odpowiedzi na pytania",
    ]
    assert "q1. Czy jednostka działała?" in headings
    tables = [[[cell.text for cell in row.cells] for row in t.rows] for t in doc.tables]
    rates = tables[0]
    assert rates[0] == ["podregion", "Próba", "Ukończone", "Wskaźnik odpowiedzi"]
    assert rates[1] == ["Razem", "4", "3", "75,0%"]
    indicators = tables[1]
    assert indicators[1] == ["Liczba uczestników", "13 osoby", "3", "1", "40", "32,5%", "–"]
    assert indicators[2][:4] == ["Odsetek aktywnych jednostek", "66,7%", "3", "0"]
    by_region = tables[2]
    assert by_region[1] == ["Liczba uczestników", "13 osoby (n=2)", "brak danych (n=1)"]
    q1 = next(t for t in tables if t[1][0] == "Tak")
    assert q1[1:] == [["Tak", "2", "66,7%"], ["Nie", "1", "33,3%"]]
    images = [r for r in doc.part.rels.values() if "image" in r.reltype]
    assert len(images) >= 4  # rates, indicators, and the closed questions
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "dont_know" not in text and "${" not in text
    assert "Rysunek 1. Wskaźnik odpowiedzi według: podregion" in text
    # the indicator's name gets the room it needs; the seven figures share the rest
    grid = [column.width for column in doc.tables[1].columns]
    assert grid[0] > 2 * max(grid[1:]) and sum(grid) <= Cm(16.1)


def test_english_on_request(flow):
    data = report_document(document_input(flow, "en"), translations("en").gettext)
    doc = Document(io.BytesIO(data))
    assert doc.paragraphs[0].text == "Monitoring report"
    tables = [[[cell.text for cell in row.cells] for row in t.rows] for t in doc.tables]
    assert tables[1][1][:2] == ["Participants", "13 people"]


def test_libreoffice_opens_the_document(flow, tmp_path: Path):
    path = tmp_path / "raport.docx"
    path.write_bytes(report_document(document_input(flow), translations("pl").gettext))
    libreoffice_pdf_text(path, tmp_path)


def test_figures_are_decimal_exact_in_tables(flow):
    data = report_document(document_input(flow), translations("pl").gettext)
    doc = Document(io.BytesIO(data))
    numeric = next(
        [[c.text for c in row.cells] for row in t.rows]
        for t in doc.tables
        if t.rows[0].cells[2].text == "Suma" and len(t.rows) > 1
    )
    assert numeric[1][:4] == ["Razem", "2", "13", "6,50"]
    assert Decimal("6.5") == Decimal(13) / 2
