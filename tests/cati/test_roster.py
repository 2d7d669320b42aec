"""The interviewer's keyboard roster: a list asked one entry at a time by phone, "is there
another?" after the last one, a fixed count filled up front, back across entries and pages,
and the jump list naming every entry."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models.fieldwork import Response
from app.models.users import Role
from tests.support import page_text
from tests.support.partners import partners_fieldwork
from tests.support.phone import InterviewScreens, take_and_dial
from tests.support.respondent import RespondentForm, shown_values, text_of


@pytest.fixture
def fieldwork_id(app, clock) -> int:
    return partners_fieldwork(app, clock, units=1)


@pytest.fixture
def screens(client, app, fieldwork_id, login_as, join_team) -> tuple[InterviewScreens, str]:
    join_team(fieldwork_id, login_as(Role.INTERVIEWER))
    case_id = take_and_dial(client, app, fieldwork_id)
    first = client.get(f"/cati/case/{case_id}/interview")
    assert first.status_code == 302
    return InterviewScreens(client), first.location


def _go(screens: InterviewScreens, response) -> RespondentForm:
    assert response.status_code == 302, (response.status_code, page_text(response)[:600])
    return screens.open(response.location)


def _send(screens, form, answers=None, action="next"):
    return screens.send(form, {**shown_values(form), **(answers or {})}, action)


def _stored(app) -> dict:
    with app.extensions["ankieta.db"].session() as session:
        return dict(session.scalar(select(Response)).answers)


def test_the_roster_asks_one_partner_at_a_time_and_whether_there_is_another(app, screens):
    screens, location = screens
    form = _go(screens, screens.send(screens.open(location), {"liczba": "2"}))
    # an empty open list: only "is there an entry?"
    assert form.page_id == "partnerzy" and "partnerzy.1.nazwa" not in form.fields
    assert "Czy jest pozycja: Partner?" in text_of(form.html)
    refused = _send(screens, form)
    assert refused.status_code == 400
    assert "Odpowiedz: 1 – tak, 2 – nie." in text_of(refused.get_data(as_text=True))
    form = _go(screens, _send(screens, form, {"_another": "yes"}))
    assert "<h1>Partner 1</h1>" in form.html and "partnerzy.1.nazwa" in form.fields
    assert "Czy jest kolejna pozycja: Partner?" in text_of(form.html)
    # the entry's own checks come first: a name is required
    invalid = _send(screens, form, {"_another": "no"})
    assert invalid.status_code == 200 and "partnerzy.1.nazwa" in invalid.get_data(as_text=True)
    form = _go(
        screens,
        _send(
            screens,
            form,
            {"partnerzy.1.nazwa": "Caritas", "partnerzy.1.typ_partnera": "ngo", "_another": "yes"},
        ),
    )
    assert "<h1>Partner 2</h1>" in form.html
    assert _stored(app)["partnerzy"] == [
        {"nazwa": "Caritas", "typ_partnera": "ngo", "etaty": []},
        {},
    ]
    # the jump list names each entry
    assert "Partner 1: Caritas" in text_of(form.html)
    form = _go(
        screens,
        _send(
            screens,
            form,
            {
                "partnerzy.2.nazwa": "Gmina Żory",
                "partnerzy.2.typ_partnera": "jst",
                "_another": "no",
            },
        ),
    )
    # a fixed count: as many entries as answered up front, no question about another
    assert form.page_id == "stale" and "<h1>Stały 1</h1>" in form.html
    assert "Czy jest kolejna" not in text_of(form.html)
    form = _go(screens, _send(screens, form, {"stale.1.opis": "pierwszy"}))
    assert "<h1>Stały 2</h1>" in form.html
    done = _send(screens, form, {"stale.2.opis": "drugi"})
    assert done.status_code == 302 and done.location.endswith("/cati/")
    answers = _stored(app)
    assert [p["nazwa"] for p in answers["partnerzy"]] == ["Caritas", "Gmina Żory"]
    assert answers["stale"] == [{"opis": "pierwszy"}, {"opis": "drugi"}]


def test_back_goes_across_entries_and_pages(app, screens):
    screens, location = screens
    form = _go(screens, screens.send(screens.open(location), {"liczba": "1"}))
    form = _go(screens, _send(screens, form, {"_another": "yes"}))
    form = _go(screens, _send(screens, form, {"partnerzy.1.nazwa": "A", "_another": "yes"}))
    form = _go(screens, _send(screens, form, {"partnerzy.2.nazwa": "B", "_another": "no"}))
    assert form.page_id == "stale"
    # F4 from the next page: the list's last entry
    form = _go(screens, _send(screens, form, action="back"))
    assert "<h1>Partner 2: B</h1>" in form.html
    form = _go(screens, _send(screens, form, action="back"))
    assert "<h1>Partner 1: A</h1>" in form.html
    # going on through an entry that is not the last asks nothing and shows the next one
    assert "Czy jest kolejna" not in text_of(form.html)
    form = _go(screens, _send(screens, form))
    assert "<h1>Partner 2: B</h1>" in form.html
    form = _go(screens, _send(screens, form, action="back"))
    form = _go(screens, _send(screens, form, action="back"))
    assert form.page_id == "liczba"


def test_too_few_entries_are_named_and_a_stale_entry_link_shows_the_last(app, screens, client):
    screens, location = screens
    form = _go(screens, screens.send(screens.open(location), {"liczba": "0"}))
    refused = _send(screens, form, {"_another": "no"})  # the list needs at least one
    assert refused.status_code == 200
    assert "Dodaj co najmniej 1" in text_of(refused.get_data(as_text=True))
    form = _go(screens, _send(screens, form, {"_another": "yes"}))
    path = form.path.replace("n=1", "n=99")
    assert "<h1>Partner 1</h1>" in client.get(path).get_data(as_text=True)
