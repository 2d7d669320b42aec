"""An XLSForm with `begin repeat` end to end: uploaded on the Surveys page, filled on the web
and by phone (the roster), exported with a sheet per repeat whose rows link to their
parents. The workbook is the one tests/domain/questionnaire/test_xlsform.py proves equal to
its YAML twin: an open list (at least one entry) with a nested list, a list whose count an
answer fixes, and one of a fixed four."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select

from app.models.fieldwork import Response
from app.models.users import Role
from tests.domain.questionnaire.test_xlsform import REPEAT_CHOICES, REPEAT_SURVEY, _workbook
from tests.support import unit_token
from tests.support.exports import sheet_rows
from tests.support.partners import press
from tests.support.phone import interview_to_the_end, take_and_dial
from tests.support.respondent import Respondent


def test_an_xlsform_with_repeats_is_filled_on_the_web_and_by_phone_and_exported(
    app, client, clock, runner, login_as, join_team, tmp_path: Path
):
    from app.fieldwork import services as fieldwork_services

    workbook = _workbook(
        REPEAT_SURVEY, REPEAT_CHOICES, [{"form_id": "lista", "form_title": "Lista"}]
    )
    login_as(Role.ANALYST)
    uploaded = client.post(
        "/surveys/",
        data={"definition": (io.BytesIO(workbook), "lista.xlsx")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)[:2000]
    with app.extensions["ankieta.db"].session() as session:
        fieldwork = fieldwork_services.create_fieldwork(session, "lista", "Lista 2026")
        sample = "external_id;name;phone\nW-1;Przez internet;321111101\nT-1;Przez telefon;321111102"
        assert fieldwork_services.import_sample(
            session, fieldwork, sample.encode(), "sample.csv", now=clock()
        ).ok
        fieldwork.open(clock())
        fieldwork_id = fieldwork.id

    # on the web: one partner with two jobs, one worker (the count answered), four quarters
    web = Respondent(app.test_client(), unit_token(app, fieldwork_id, "W-1"))
    form = web.next(web.begin(), {"liczba": "1"})
    assert form.page_id == "b"
    form = web.open(press(web, form, "add:partnerzy").location)
    typed = {"partnerzy.1.nazwa": "Fundacja", "partnerzy.1.typ_partnera": "firma"}
    form = web.open(press(web, form, "add:partnerzy.1.etaty", typed).location)
    form = web.open(press(web, form, "add:partnerzy.1.etaty").location)
    jobs = {"partnerzy.1.etaty.1.stanowisko": "kucharz", "partnerzy.1.etaty.2.stanowisko": "kelner"}
    seen, _ = web.walk(
        {**jobs, "partnerzy.1.miejsca": "3", "pracownicy.1.stanowisko_pracownika": "szef"}
    )
    assert seen[0] == "b" and "kwartaly" in seen

    # by phone: the roster gives one partner (generic answers), the count up front one worker
    client.post("/logout", data={})
    join_team(fieldwork_id, login_as(Role.INTERVIEWER))
    case_id = take_and_dial(client, app, fieldwork_id)
    assert interview_to_the_end(client, case_id, {"liczba": "1"}) > 4

    with app.extensions["ankieta.db"].session() as session:
        responses = session.scalars(select(Response).order_by(Response.id)).all()
        assert [r.status for r in responses] == ["complete", "complete"]
        assert responses[0].answers["partnerzy"][0]["etaty"] == [
            {"stanowisko": "kucharz"},
            {"stanowisko": "kelner"},
        ]
        assert len(responses[1].answers["partnerzy"]) == 1 and responses[1].via_phone
        ids = [r.id for r in responses]

    out = tmp_path / "lista.xlsx"
    result = runner.invoke(args=["export", str(fieldwork_id), "-o", str(out)])
    assert result.exit_code == 0, result.output
    partners = sheet_rows(out, "Partner")
    assert [(row["response_id"], row["instance"]) for row in partners] == [(ids[0], 1), (ids[1], 1)]
    assert partners[0]["nazwa"] == "Fundacja" and partners[0]["miejsca"] == 3
    jobs_rows = sheet_rows(out, "Etat")
    assert [row["parent_key"] for row in jobs_rows] == [f"{ids[0]}/1", f"{ids[0]}/1"]
    assert [row["stanowisko"] for row in jobs_rows] == ["kucharz", "kelner"]
    assert len(sheet_rows(out, "Kwartał")) == 8  # four quarters in each response
    assert [row["response_id"] for row in sheet_rows(out, "Pracownik")] == ids
