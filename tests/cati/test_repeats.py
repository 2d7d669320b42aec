"""Lists (repeats) on the interviewer's screens, the baseline before the keyboard roster:
the whole list on its screen as on the web, entries added and removed (confirmed) through
the same page decision, forged posts refused; and mixed mode: entries begun on the web are
kept when the interview is finished by phone."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models.fieldwork import Response
from app.models.users import Role
from tests.support import page_text, unit_token
from tests.support.partners import partners_fieldwork, press, to_partners_page
from tests.support.phone import InterviewScreens, take_and_dial
from tests.support.respondent import (
    Respondent,
    RespondentForm,
    shown_values,
    stored,
    text_of,
)


@pytest.fixture
def fieldwork_id(app, clock) -> int:
    return partners_fieldwork(app, clock, units=1)


def _interviewer(client, app, fieldwork_id, login_as, join_team) -> tuple[InterviewScreens, str]:
    join_team(fieldwork_id, login_as(Role.INTERVIEWER))
    case_id = take_and_dial(client, app, fieldwork_id)
    first = client.get(f"/cati/case/{case_id}/interview")
    assert first.status_code == 302
    return InterviewScreens(client), first.location


def _go(screens: InterviewScreens, response) -> RespondentForm:
    assert response.status_code == 302, (response.status_code, page_text(response)[:600])
    return screens.open(response.location)


def test_the_interviewer_adds_and_removes_entries_on_the_lists_screen(
    app, client, fieldwork_id, login_as, join_team
):
    screens, location = _interviewer(client, app, fieldwork_id, login_as, join_team)
    form = screens.open(location)
    assert form.page_id == "liczba"
    form = _go(screens, screens.send(form, {"liczba": "1"}))
    assert form.page_id == "partnerzy" and form.buttons[0] == "next"
    form = _go(screens, press(screens, form, "add:partnerzy"))
    form = _go(screens, press(screens, form, "add:partnerzy", {"partnerzy.1.nazwa": "Caritas"}))
    assert "<legend>Partner 1: Caritas</legend>" in form.html
    asked = press(screens, form, "remove:partnerzy.2", {"partnerzy.1.typ_partnera": "ngo"})
    form = _go(screens, asked)
    assert "Usunąć: Partner 2?" in text_of(form.html)
    form = _go(screens, press(screens, form, "confirm_remove:partnerzy.2"))
    assert "partnerzy.2.nazwa" not in form.fields
    form = _go(screens, press(screens, form, "next"))
    assert form.page_id == "stale"  # by phone the note is on the next question's screen
    assert "Partnerów: 1, miejsc: 0, nazwy: Caritas" in text_of(form.html)
    assert "<legend>Stały 1</legend>" in form.html
    done = screens.send(form, {**shown_values(form), "stale.1.opis": "telefon"})
    assert done.status_code == 302 and done.location.endswith("/cati/")
    with app.extensions["ankieta.db"].session() as session:
        response = session.scalar(select(Response))
        assert response.status == "complete" and response.via_phone
        assert response.answers["partnerzy"] == [
            {"nazwa": "Caritas", "typ_partnera": "ngo", "etaty": []}
        ]
        assert response.answers["stale"] == [{"opis": "telefon"}]


def test_a_forged_entry_on_the_phone_is_refused_and_changes_nothing(
    app, client, fieldwork_id, login_as, join_team
):
    screens, location = _interviewer(client, app, fieldwork_id, login_as, join_team)
    form = _go(screens, screens.send(screens.open(location), {"liczba": "1"}))
    form = _go(screens, press(screens, form, "add:partnerzy"))
    token = unit_token(app, fieldwork_id, "P-01")
    before = stored(app, token)
    sent = press(screens, form, "next", {"partnerzy.1000000000.nazwa": "X"})
    assert sent.status_code == 200
    assert "Na tej liście nie ma takiej pozycji." in page_text(sent)
    sent = press(screens, form, "remove:partnerzy.7")
    assert sent.status_code == 200
    assert "Na tej liście nie ma takiej pozycji." in page_text(sent)
    after = stored(app, token)
    assert (after.answers, after.revision) == (before.answers, before.revision)


def test_entries_begun_on_the_web_are_kept_when_the_interview_ends_by_phone(
    app, client, fieldwork_id, login_as, join_team
):
    respondent = Respondent(app.test_client(), unit_token(app, fieldwork_id, "P-01"))
    form = to_partners_page(respondent, liczba="1")
    form = respondent.open(press(respondent, form, "add:partnerzy").location)
    typed = {"partnerzy.1.nazwa": "Gmina Rybnik", "partnerzy.1.typ_partnera": "jst"}
    form = respondent.open(press(respondent, form, "add:partnerzy", typed).location)
    typed = {
        "partnerzy.2.nazwa": "Fundacja Szansa",
        "partnerzy.2.typ_partnera": "firma",
        "partnerzy.2.miejsca": "3",
    }
    assert press(respondent, form, "later", typed).status_code == 200
    screens, location = _interviewer(client, app, fieldwork_id, login_as, join_team)
    form = screens.open(location)
    assert form.page_id == "partnerzy"  # where the respondent stopped
    assert form.fields["partnerzy.1.nazwa"].value == "Gmina Rybnik"
    assert form.fields["partnerzy.2.miejsca"].value == "3"
    assert "<legend>Partner 2: Fundacja Szansa</legend>" in form.html
    form = _go(screens, press(screens, form, "next"))
    assert "Partnerów: 2, miejsc: 3" in text_of(form.html)
    done = screens.send(form, {**shown_values(form), "stale.1.opis": "telefon"})
    assert done.status_code == 302 and done.location.endswith("/cati/")
    answers = stored(app, respondent.token)
    assert answers.status == "complete"
    assert [p["nazwa"] for p in answers.answers["partnerzy"]] == [
        "Gmina Rybnik",
        "Fundacja Szansa",
    ]
    assert answers.answers["partnerzy"][1]["miejsca"] == 3
