"""The new question types in the exports: typed cells in the workbook (an Excel time, an
Excel date and time in Warsaw), a rank's and a geopoint's number columns, the codebook's
notes, and SPSS / Stata types (tests/support/question_types.yaml)."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path

import openpyxl
import pyreadstat
import pytest
from flask import Flask
from sqlalchemy import select

from app.domain.dates import WARSAW
from app.domain.questionnaire.answers import DONT_KNOW, answers_to_json
from app.exports import services as export_services
from app.exports.statfiles import write_statfile
from app.exports.workbook import write_xlsx
from app.models.fieldwork import Fieldwork, Response, SampleUnit
from app.models.surveys import questionnaire_of
from app.platform.i18n import translate
from tests.support.exports import moment

DEFINITION = Path(__file__).resolve().parents[1] / "support" / "question_types.yaml"

FULL = {
    "godzina_otwarcia": time(8, 30),
    "spotkanie": datetime(2026, 7, 1, 10, 30, tzinfo=WARSAW),  # summer time: UTC+2
    "ocena": 6,
    "zgoda": "OK",
    "kod": "0059012341234",
    "siedziba": "50.2649 19.0238 270 12.5",
    "priorytety": ("doradztwo", "szkolenia", "promocja"),
    "trasa": "50.1 19.1;50.2 19.2",
    "teren": "50 19;50.1 19;50.1 19.1;50 19",
}
NOT_KNOWN = {
    "godzina_otwarcia": DONT_KNOW,
    "spotkanie": datetime(2026, 1, 15, 10, 30, tzinfo=WARSAW),
    "ocena": 0,
    "zgoda": "OK",
    "siedziba": DONT_KNOW,
    "priorytety": DONT_KNOW,
}


@pytest.fixture
def fieldwork_id(app: Flask, make_fieldwork) -> int:
    fieldwork_id = make_fieldwork(
        DEFINITION, units=[("A-1", "Gmina Biała", {}), ("A-2", "Gmina Czarna", {})]
    )
    with app.extensions["ankieta.db"].session() as session:
        fieldwork = session.get(Fieldwork, fieldwork_id)
        q = questionnaire_of(fieldwork.survey_version)
        units = session.scalars(
            select(SampleUnit)
            .where(SampleUnit.fieldwork_id == fieldwork_id)
            .order_by(SampleUnit.external_id)
        ).all()
        for unit, answers in zip(units, (FULL, NOT_KNOWN), strict=True):
            session.add(
                Response(
                    fieldwork_id=fieldwork_id,
                    sample_unit_id=unit.id,
                    survey_version_id=fieldwork.survey_version_id,
                    answers=answers_to_json(q, answers),
                    status="complete",
                    via_phone=True,
                    started_at=moment(10, 8),
                    completed_at=moment(10, 8, 30),
                    updated_at=moment(10, 8, 30),
                )
            )
    return fieldwork_id


def _workbook(app: Flask, fieldwork_id: int, path: Path, **options):
    with app.app_context(), app.extensions["ankieta.db"].session() as session:
        fieldwork = session.get(Fieldwork, fieldwork_id)
        write_xlsx(session, fieldwork, path, export_services.ExportOptions(**options))
    return openpyxl.load_workbook(path)


def test_the_workbook_has_typed_cells_for_every_new_type(app, fieldwork_id, tmp_path):
    book = _workbook(app, fieldwork_id, tmp_path / "out.xlsx")
    sheet = book["Odpowiedzi"]
    header = [cell.value for cell in sheet[1]]
    first = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    second = {name: cell.value for name, cell in zip(header, sheet[3], strict=True)}
    names = header[header.index("godzina_otwarcia") :]
    assert names == [
        "godzina_otwarcia",
        "spotkanie",
        "ocena",
        "zgoda",
        "kod",
        "wersja_badania",
        "siedziba",
        "siedziba_lat",
        "siedziba_lon",
        "siedziba_alt",
        "siedziba_acc",
        "priorytety",
        "priorytety_szkolenia",
        "priorytety_doradztwo",
        "priorytety_promocja",
        "trasa",
        "teren",
    ]
    assert first["godzina_otwarcia"].value == time(8, 30)
    assert first["godzina_otwarcia"].number_format == "hh:mm"
    # the Warsaw wall clock (summer time), not UTC
    assert first["spotkanie"].value == datetime(2026, 7, 1, 10, 30)
    assert first["spotkanie"].number_format == "dd.mm.yyyy hh:mm"
    assert second["spotkanie"] == datetime(2026, 1, 15, 10, 30)  # winter time
    assert first["ocena"].value == 6 and first["ocena"].data_type == "n"
    assert first["zgoda"].value == "OK"
    assert first["kod"].value == "0059012341234"  # a barcode is text: its zeros stay
    assert first["wersja_badania"].value == "2026-A"  # hidden: its value, never shown
    assert first["siedziba"].value == "50.2649 19.0238 270 12.5"
    assert [first[f"siedziba_{part}"].value for part in ("lat", "lon", "alt", "acc")] == [
        50.2649,
        19.0238,
        270,
        12.5,
    ]
    assert first["priorytety"].value == "doradztwo szkolenia promocja"
    assert [
        first[f"priorytety_{code}"].value for code in ("szkolenia", "doradztwo", "promocja")
    ] == [2, 1, 3]
    assert first["teren"].value == "50 19;50.1 19;50.1 19.1;50 19"
    # don't know: its code, and no numbers behind it
    assert second["godzina_otwarcia"] == -98
    assert second["siedziba"] == -98 and second["siedziba_lat"] is None
    assert second["priorytety"] == -98 and second["priorytety_szkolenia"] is None
    assert second["ocena"] == 0
    assert second["trasa"] is None  # not answered

    codebook = {row[0]: row for row in book["Książka kodowa"].iter_rows(values_only=True)}
    assert "time (godzina GG:MM)" in codebook["godzina_otwarcia"]
    assert "range (0..10, krok 2)" in codebook["ocena"]


def test_labels_mode_names_the_ranked_choices(app, fieldwork_id, tmp_path):
    book = _workbook(app, fieldwork_id, tmp_path / "labels.xlsx", labels=True, language="en")
    sheet = book["Responses"]
    header = [cell.value for cell in sheet[1]]
    first = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert first["priorytety"] == "Advice; Training; Promotion"


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_statistics_files_type_times_and_moments(app, fieldwork_id, tmp_path, fmt):
    path = tmp_path / f"out.{fmt}"
    with app.app_context(), app.extensions["ankieta.db"].session() as session:
        fieldwork = session.get(Fieldwork, fieldwork_id)
        write_statfile(session, fieldwork, path, file_format=fmt, translate=translate)
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    frame, meta = reader(path)
    types = meta.original_variable_types
    if fmt == "sav":
        assert types["godzina_otwarcia"] == "TIME8"
        assert types["spotkanie"].startswith("DATETIME")
    else:
        assert types["godzina_otwarcia"].startswith("%tc")
        assert types["spotkanie"].startswith("%tc")
    assert frame["spotkanie"][0] == datetime(2026, 7, 1, 10, 30)
    assert frame["godzina_otwarcia"][0] == time(8, 30)
    assert frame["priorytety_szkolenia"][0] == 2
    assert frame["siedziba_lat"][0] == pytest.approx(50.2649)
    assert frame["ocena"][0] == 6


def test_the_api_reads_the_new_types_as_json(app, client, make_user, clock, fieldwork_id):
    from app.models.users import Role, User
    from app.tokens.services import create_token

    user = make_user("analityk-api", Role.ANALYST)
    with app.extensions["ankieta.db"].session() as session:
        issued = create_token(session, session.get(User, user.id), now=clock(), days=30)
        headers = {"Authorization": f"Bearer {issued.secret}"}
    answered = client.get(f"/api/v1/fieldworks/{fieldwork_id}/responses", headers=headers)
    assert answered.status_code == 200
    first = answered.get_json()["items"][0]["answers"]
    assert first["godzina_otwarcia"] == "08:30"
    assert first["spotkanie"] == "2026-07-01T10:30:00+02:00"
    assert (first["siedziba_lat"], first["priorytety_szkolenia"]) == (50.2649, 2)
