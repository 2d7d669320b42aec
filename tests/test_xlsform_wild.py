"""XLSForm as people write it, through the application: every workbook of tests/xlsforms
that pyxform converts passes `ankieta surveys check` (warnings allowed) and every one it
refuses fails there at a sheet and row; a form with no settings sheet and metadata rows is
uploaded, filled on the web and by phone, and exported with its start, end, today and
username paradata under the names the form gives them."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select

from app.domain.dates import WARSAW
from app.models.surveys import Survey
from app.models.users import Role
from tests.support import ENGLISH_LOCALE, unit_token
from tests.support.exports import sheet_rows
from tests.support.phone import interview_to_the_end, take_and_dial
from tests.support.respondent import Respondent, field_error, fill
from tests.support.xlsforms import CORPUS, corpus, runnable

from .domain.questionnaire.expression_cases import UUID4


def test_surveys_check_passes_the_forms_pyxform_converts_and_fails_the_ones_it_refuses(
    runner,
) -> None:
    workbooks = corpus()
    good = runnable()
    checked = runner.invoke(args=["surveys", "check", *map(str, good)], env=ENGLISH_LOCALE)
    assert checked.exit_code == 0, checked.output
    assert "warning" in checked.output  # the forms' ignored columns, missing translations...
    for path in workbooks:
        if path in good:
            continue
        refused = runner.invoke(args=["surveys", "check", str(path)], env=ENGLISH_LOCALE)
        assert refused.exit_code == 1, (path.name, refused.output)
        assert re.search(rf"{re.escape(str(path))}:(survey|choices|settings):\d+: ", refused.output)


def _upload(client, path: Path) -> None:
    """The workbook, sent with the choices files of the corpus (those it does not read are
    a warning)."""
    files = [path, *sorted(CORPUS.glob("*.csv")), *sorted(CORPUS.glob("*.xml"))]
    uploaded = client.post(
        "/surveys/",
        data={"definition": [(io.BytesIO(each.read_bytes()), each.name) for each in files]},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302, (path.name, uploaded.get_data(as_text=True)[:2000])


def _open_fieldwork(app, clock, survey: str) -> int:
    from app.fieldwork import services as fieldwork_services

    with app.extensions["ankieta.db"].session() as session:
        fieldwork = fieldwork_services.create_fieldwork(session, survey, survey)
        sample = "external_id;name;phone\nW-1;Przez internet;321111101\nT-1;Przez telefon;321111102"
        assert fieldwork_services.import_sample(
            session, fieldwork, sample.encode(), "sample.csv", now=clock()
        ).ok
        fieldwork.open(clock())
        return fieldwork.id


def test_every_form_pyxform_converts_is_filled_on_the_web_and_by_phone_and_exported(
    app, client, clock, runner, login_as, join_team, tmp_path: Path
) -> None:
    workbooks = runnable()
    assert len(workbooks) >= 10
    login_as(Role.ANALYST)
    for path in workbooks:
        _upload(client, path)
    with app.extensions["ankieta.db"].session() as session:
        codes = {s.code for s in session.scalars(select(Survey))}
    ids = {path.stem: _open_fieldwork(app, clock, _survey_id(path)) for path in workbooks}
    assert {_survey_id(path) for path in workbooks} <= codes
    for name, fieldwork_id in ids.items():
        web = Respondent(app.test_client(), unit_token(app, fieldwork_id, "W-1"))
        web.walk(WEB_ANSWERS.get(name, {}))
    client.post("/logout", data={})
    interviewer = login_as(Role.INTERVIEWER)
    for name, fieldwork_id in ids.items():
        join_team(fieldwork_id, interviewer)
        case_id = take_and_dial(client, app, fieldwork_id)
        assert interview_to_the_end(client, case_id, WEB_ANSWERS.get(name, {})) >= 1, name
    for name, fieldwork_id in ids.items():
        out = tmp_path / f"{name}.xlsx"
        result = runner.invoke(args=["export", str(fieldwork_id), "-o", str(out)])
        assert result.exit_code == 0, (name, result.output)
        rows = sheet_rows(out)
        # a file is in its questionnaire's language: Polish unless that is English
        complete = {"kompletna", "complete"}
        assert [row["external_id"] for row in rows] == ["W-1", "T-1"], name
        assert all(row["status"] in complete for row in rows), name


def _survey_id(path: Path) -> str:
    """The id a corpus workbook loads under (its form_id, else its file name)."""
    from app.domain.questionnaire.loading import load_definition

    questionnaire = load_definition(path).questionnaire
    assert questionnaire is not None
    return questionnaire.settings.id


# answers a small generic one would not do for (the rest of each page is filled generically)
WEB_ANSWERS: dict[str, dict[str, str]] = {
    "now_once_uuid": {"opens": "08:00", "closes": "16:30"},  # closing after opening
}


def test_kept_values_are_stored_on_the_web_and_by_phone_and_exported(
    app, client, clock, runner, login_as, join_team, tmp_path: Path
) -> None:
    login_as(Role.ANALYST)
    _upload(client, CORPUS / "now_once_uuid.xlsx")
    fieldwork_id = _open_fieldwork(app, clock, "now_once_uuid")
    web = Respondent(app.test_client(), unit_token(app, fieldwork_id, "W-1"))
    form = web.begin()
    refused = web.send(form, fill(form, {"opens": "09:00", "closes": "08:00"}))
    assert refused.status_code != 302  # closing before opening: times compared as times
    assert field_error(refused.get_data(as_text=True), "closes")
    web.walk({"opens": "08:00", "closes": "16:30"})
    client.post("/logout", data={})
    interviewer = login_as(Role.INTERVIEWER)
    join_team(fieldwork_id, interviewer)
    case_id = take_and_dial(client, app, fieldwork_id)
    assert interview_to_the_end(client, case_id, {"opens": "07:00", "closes": "15:00"}) >= 1
    out = tmp_path / "kept.xlsx"
    result = runner.invoke(args=["export", str(fieldwork_id), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = {row["external_id"]: row for row in sheet_rows(out)}
    started = clock().astimezone(WARSAW).strftime("%Y-%m-%dT%H:%M:%S")
    for unit in ("W-1", "T-1"):
        assert rows[unit]["first_saved"] == started  # once(now()): when the first page was saved
        assert re.fullmatch(UUID4, rows[unit]["response_id"])
    assert rows["W-1"]["response_id"] != rows["T-1"]["response_id"]


def test_metadata_rows_become_paradata_columns_of_the_export(
    app, client, clock, runner, login_as, join_team, tmp_path: Path
) -> None:
    from app.fieldwork import services as fieldwork_services

    workbook = (CORPUS / "metadata_rows.xlsx").read_bytes()
    login_as(Role.ANALYST)
    uploaded = client.post(
        "/surveys/",
        data={"definition": (io.BytesIO(workbook), "metadata_rows.xlsx")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)[:2000]
    with app.extensions["ankieta.db"].session() as session:
        fieldwork = fieldwork_services.create_fieldwork(session, "metadata_rows", "Wizyty")
        sample = "external_id;name;phone\nW-1;Przez internet;321111101\nT-1;Przez telefon;321111102"
        assert fieldwork_services.import_sample(
            session, fieldwork, sample.encode(), "sample.csv", now=clock()
        ).ok
        fieldwork.open(clock())
        fieldwork_id = fieldwork.id

    web = Respondent(app.test_client(), unit_token(app, fieldwork_id, "W-1"))
    web.walk({"visitors": "12", "remarks": "busy week"})
    client.post("/logout", data={})
    interviewer = login_as(Role.INTERVIEWER)
    join_team(fieldwork_id, interviewer)
    case_id = take_and_dial(client, app, fieldwork_id)
    assert interview_to_the_end(client, case_id, {"visitors": "3"}) >= 2

    out = tmp_path / "wizyty.xlsx"
    result = runner.invoke(args=["export", str(fieldwork_id), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = sheet_rows(out)
    assert len(rows) == 2
    header = list(rows[0])
    # after the fixed columns, before the questions, as the form names them
    at = header.index("starttime")
    # the username row is named like the fixed column "interviewer": its kind is added
    paradata = ["starttime", "endtime", "day", "interviewer_username"]
    assert header[at : at + 5] == [*paradata, "visitors"]
    for name in ("device", "phone", "mail", "sim", "subscriber", "audit"):
        assert name not in header  # left out, with a warning
    by_unit = {row["external_id"]: row for row in rows}
    for row in rows:
        assert isinstance(row["starttime"], datetime) and isinstance(row["endtime"], datetime)
        assert row["starttime"] == row["started"] and row["endtime"] == row["completed"]
        assert isinstance(row["day"], datetime | date)
    assert by_unit["W-1"]["interviewer_username"] is None
    assert by_unit["T-1"]["interviewer_username"] == interviewer.username
    assert by_unit["W-1"]["visitors"] == 12 and by_unit["T-1"]["visitors"] == 3

    # the same columns in the statistics files and the CSV, typed there too
    import pyreadstat

    sav = tmp_path / "wizyty.sav"
    result = runner.invoke(args=["export", str(fieldwork_id), "-o", str(sav)])
    assert result.exit_code == 0, result.output
    frame, meta = pyreadstat.read_sav(sav)
    assert list(frame.columns)[at : at + 5] == [*paradata, "visitors"]
    assert meta.readstat_variable_types["starttime"] == "double"  # an SPSS date-time
    assert meta.column_names_to_labels["interviewer_username"] == "Nazwa użytkownika ankietera"
    csv = tmp_path / "wizyty.csv"
    result = runner.invoke(args=["export", str(fieldwork_id), "-o", str(csv)])
    assert result.exit_code == 0, result.output
    csv_header = csv.read_text(encoding="utf-8-sig").splitlines()[0].split(";")
    assert csv_header[at : at + 5] == [*paradata, "visitors"]
