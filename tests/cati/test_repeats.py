"""Lists (repeats) on the interviewer's screens: forged posts refused on the roster (see
test_roster.py for the roster itself); and mixed mode: entries begun on the web are kept,
one at a time on the roster, when the interview is finished by phone."""

from __future__ import annotations

import pytest

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


def test_a_forged_entry_on_the_phone_is_refused_and_changes_nothing(
    app, client, fieldwork_id, login_as, join_team
):
    screens, location = _interviewer(client, app, fieldwork_id, login_as, join_team)
    form = _go(screens, screens.send(screens.open(location), {"liczba": "1"}))
    form = _go(screens, press(screens, form, "next", {"_another": "yes"}))  # the roster
    token = unit_token(app, fieldwork_id, "P-01")
    before = stored(app, token)
    forged = {"partnerzy.1000000000.nazwa": "X", "_another": "no"}
    sent = press(screens, form, "next", forged)
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
    # the roster: one entry at a time, the first as the respondent typed it
    assert form.fields["partnerzy.1.nazwa"].value == "Gmina Rybnik"
    assert "<h1>Partner 1: Gmina Rybnik</h1>" in form.html
    form = _go(screens, press(screens, form, "next"))
    assert form.fields["partnerzy.2.miejsca"].value == "3"
    assert "<h1>Partner 2: Fundacja Szansa</h1>" in form.html
    form = _go(screens, press(screens, form, "next", {"_another": "no"}))
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
