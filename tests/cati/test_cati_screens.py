"""The interviewer's screens: next case, dial, outcomes, appointments, the phone interview."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models.cati import Appointment, Call, Case
from app.models.fieldwork import Response
from app.models.users import Role
from tests.support import database, page_text
from tests.support.phone import (
    book_appointment,
    dial,
    interview_to_the_end,
    take_and_dial,
    take_next,
    taken_case_id,
)
from tests.support.respondent import SCENARIOS, fill, parse_form


def test_next_case_dial_and_no_answer_then_the_case_waits(
    join_team, app, client, make_fieldwork, login_as, clock
):
    fieldwork_id = make_fieldwork("jst_gmina")
    join_team(fieldwork_id, login_as(Role.INTERVIEWER))
    first = take_next(client, fieldwork_id)
    assert first.status_code == 302
    case_id = taken_case_id(first)
    screen = client.get(f"/cati/case/{case_id}")
    assert screen.status_code == 200
    text = page_text(screen)
    assert "Klub Integracji Społecznej w Żorach" in text or "Centrum Integracji" in text
    assert dial(client, app, case_id).status_code == 302
    recorded = client.post(f"/cati/case/{case_id}/outcome", data={"outcome": "no_answer"})
    assert recorded.status_code == 302
    with database(app).session() as session:
        case = session.get(Case, case_id)
        assert case.attempts == 1 and case.claimed_by_id is None and not case.is_final
        assert case.next_callable_at > clock()
        call = session.scalar(select(Call).where(Call.case_id == case_id))
        assert call.ended_at is not None and call.number
    # the other case comes next; then nothing until the retry delay passes
    second = taken_case_id(take_next(client, fieldwork_id))
    assert second != case_id
    client.post(f"/cati/case/{second}/outcome", data={"outcome": "no_answer"})
    nothing = take_next(client, fieldwork_id)
    assert nothing.status_code == 200
    assert 'id="nothing"' in nothing.get_data(as_text=True)
    clock.advance(hours=3)
    assert take_next(client, fieldwork_id).status_code == 302


def test_an_interviewer_cannot_open_someone_elses_case(
    join_team, app, client, make_fieldwork, make_user, auth
):
    fieldwork_id = make_fieldwork("jst_gmina")
    join_team(
        fieldwork_id, make_user("ania", Role.INTERVIEWER), make_user("basia", Role.INTERVIEWER)
    )
    auth.login("ania")
    case_id = taken_case_id(take_next(client, fieldwork_id))
    basia = app.test_client()
    basia.post("/login", data={"username": "basia", "password": "correct-horse-battery"})
    assert basia.get(f"/cati/case/{case_id}").status_code == 404
    refused = basia.post(f"/cati/case/{case_id}/outcome", data={"outcome": "hard_refusal"})
    assert refused.status_code == 404
    other = taken_case_id(basia.post(f"/cati/{fieldwork_id}/next", data={}))
    assert other != case_id  # never the same case twice at once


def test_appointment_is_booked_and_handed_out_when_due(
    join_team, app, client, make_fieldwork, login_as, clock
):
    fieldwork_id = make_fieldwork("jst_gmina", units=[("G-1", "Gmina Biała", {})])
    join_team(fieldwork_id, login_as(Role.INTERVIEWER))
    case_id = taken_case_id(take_next(client, fieldwork_id))
    dial(client, app, case_id)
    missing = client.post(f"/cati/case/{case_id}/outcome", data={"outcome": "appointment"})
    assert missing.status_code == 400  # an appointment needs its date and time
    booked = book_appointment(client, case_id, with_whom="p. Kowalska")
    assert booked.status_code == 302, page_text(booked)
    with database(app).session() as session:
        appointment = session.scalar(select(Appointment))
        assert appointment.with_whom == "p. Kowalska" and appointment.status == "pending"
        assert appointment.starts_at.isoformat() == "2026-03-17T09:00:00+00:00"  # 10:00 Warsaw
    assert take_next(client, fieldwork_id).status_code == 200  # not due yet
    assert "Gmina Biała" in page_text(client.get("/cati/appointments"))
    clock.advance(days=1)  # 17.03 10:30 Warsaw: inside the window
    again = take_next(client, fieldwork_id)
    assert taken_case_id(again) == case_id


def test_phone_interview_runs_question_by_question_and_completes_the_case(
    join_team, app, client, make_fieldwork, login_as
):
    fieldwork_id = make_fieldwork(
        "owes_polroczne", units=[("O-1", "OWES Subregionu Zachodniego", {})]
    )
    join_team(fieldwork_id, login_as(Role.INTERVIEWER))
    case_id = taken_case_id(take_next(client, fieldwork_id))
    not_yet = client.get(f"/cati/case/{case_id}/interview")
    assert not_yet.status_code == 302 and not_yet.location.endswith(f"/cati/case/{case_id}")
    dial(client, app, case_id)
    assert client.get(f"/cati/case/{case_id}/interview").status_code == 302
    screens = interview_to_the_end(client, case_id, SCENARIOS["owes_polroczne"].answers)
    assert screens > 4  # question by question (field-list groups are one screen)
    with database(app).session() as session:
        case = session.get(Case, case_id)
        assert case.is_final and case.disposition_code == "1.1"
        response = session.scalar(select(Response))
        assert response.status == "complete" and response.via_phone and not response.via_web
        assert session.scalar(select(func.count()).select_from(Call)) == 1


def test_started_online_finished_by_phone_is_one_response(
    join_team, app, client, make_fieldwork, login_as
):
    from app.models.fieldwork import SampleUnit
    from tests.support import unit_token
    from tests.support.respondent import Respondent

    fieldwork_id = make_fieldwork("owes_polroczne", units=[("O-1", "OWES Rybnik", {})])
    answers = SCENARIOS["owes_polroczne"].answers
    online = Respondent(app.test_client(), unit_token(app, fieldwork_id, "O-1"), fieldwork_id)
    first_page = online.begin()
    online.next(first_page, answers)  # page A sent online, then the respondent stops
    join_team(fieldwork_id, login_as(Role.INTERVIEWER))
    case_id = taken_case_id(take_next(client, fieldwork_id))
    dial(client, app, case_id)
    resumed = client.get(client.get(f"/cati/case/{case_id}/interview").location)
    assert resumed.status_code == 200
    assert "/interview/a" not in resumed.request.path  # page A was answered online
    interview_to_the_end(client, case_id, answers)
    with database(app).session() as session:
        responses = session.scalars(select(Response)).all()
        assert len(responses) == 1
        assert responses[0].via_web and responses[0].via_phone and responses[0].status == "complete"
        unit = session.scalar(select(SampleUnit))
        case = session.scalar(select(Case).where(Case.sample_unit_id == unit.id))
        assert case.is_final and case.disposition_code == "1.1"
    # the respondent's link now shows the thank-you page, not the form
    assert online.client.get(online.link).location.endswith("/done")


def test_started_by_phone_finished_online_leaves_the_queue(
    join_team, app, client, make_fieldwork, login_as
):
    from tests.support import unit_token
    from tests.support.respondent import Respondent

    fieldwork_id = make_fieldwork("owes_polroczne", units=[("O-1", "OWES Rybnik", {})])
    answers = SCENARIOS["owes_polroczne"].answers
    join_team(fieldwork_id, login_as(Role.INTERVIEWER))
    case_id = taken_case_id(take_next(client, fieldwork_id))
    dial(client, app, case_id)
    location = client.get(f"/cati/case/{case_id}/interview").location
    form = parse_form(client.get(location))
    data = fill(form, answers)
    data.update(revision=form.revision, action="next")
    assert client.post(location, data=data).status_code == 302
    screen = parse_form(client.get(client.get(f"/cati/case/{case_id}/interview").location))
    broke_off = client.post(screen.path, data={"revision": screen.revision, "action": "breakoff"})
    assert broke_off.location.endswith(f"/cati/case/{case_id}")
    called_back = client.post(
        f"/cati/case/{case_id}/outcome",
        data={"outcome": "call_back_later", "note": "prosi o link"},
    )
    assert called_back.status_code == 302
    online = Respondent(app.test_client(), unit_token(app, fieldwork_id, "O-1"), fieldwork_id)
    seen, last = online.walk(answers)
    assert last is None and seen[0] != "a"  # resumed after the page answered by phone
    with database(app).session() as session:
        response = session.scalar(select(Response))
        assert response.via_phone and response.via_web and response.status == "complete"
        case = session.get(Case, case_id)
        assert case.is_final and case.disposition_code == "1.1"
        assert case.disposition_outcome.code == "completed_online"
    nothing = take_next(client, fieldwork_id)
    assert nothing.status_code == 200  # the completed case is never handed out again


def test_finished_online_cancels_the_booked_appointment(
    join_team, app, client, make_fieldwork, login_as, clock
):
    from tests.support import unit_token
    from tests.support.respondent import Respondent

    fieldwork_id = make_fieldwork("owes_polroczne", units=[("O-1", "OWES Rybnik", {})])
    join_team(fieldwork_id, login_as(Role.INTERVIEWER))
    case_id = take_and_dial(client, app, fieldwork_id)
    booked = book_appointment(client, case_id)
    assert booked.status_code == 302, page_text(booked)
    online = Respondent(app.test_client(), unit_token(app, fieldwork_id, "O-1"), fieldwork_id)
    _seen, last = online.walk(SCENARIOS["owes_polroczne"].answers)
    assert last is None
    with database(app).session() as session:
        appointment = session.scalar(select(Appointment))
        assert appointment.status == "cancelled"
        case = session.get(Case, case_id)
        assert case.is_final and case.disposition_code == "1.1" and case.attempts == 1
        assert case.disposition_outcome.code == "completed_online"
        assert case.appointment_start is None and case.appointment_interviewer_id is None
        assert case.claimed_by_id is None and case.next_callable_at is None
    clock.advance(days=1)  # the appointment's time: nothing is handed out
    assert take_next(client, fieldwork_id).status_code == 200
    assert "OWES Rybnik" not in page_text(client.get("/cati/appointments"))


def test_logging_out_gives_the_case_back_and_an_idle_claim_expires(
    join_team, app, client, make_fieldwork, make_user, auth, clock
):
    fieldwork_id = make_fieldwork("jst_gmina", units=[("G-1", "Gmina Biała", {})])
    join_team(
        fieldwork_id, make_user("ania", Role.INTERVIEWER), make_user("basia", Role.INTERVIEWER)
    )
    auth.login("ania")
    case_id = taken_case_id(take_next(client, fieldwork_id))
    auth.logout()
    auth.login("basia")
    assert taken_case_id(take_next(client, fieldwork_id)) == case_id  # released at logout
    other = app.test_client()
    other.post("/login", data={"username": "ania", "password": "correct-horse-battery"})
    assert other.post(f"/cati/{fieldwork_id}/next", data={}).status_code == 200  # held
    clock.advance(minutes=31)  # basia closed the tab: the claim times out (30 min)
    taken = other.post(f"/cati/{fieldwork_id}/next", data={})
    assert taken_case_id(taken) == case_id
