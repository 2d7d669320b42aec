"""The interviewer's screens in a real browser, used with the keyboard only; axe-core on them.

After the login page nothing is clicked: the interviewer moves with Tab / Shift+Tab, picks
outcomes in a select with the arrow keys, answers with digits and typing, and goes on with
Enter, as the CATI screens promise (app/static/js/cati.js).
"""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from app.domain.dates import WARSAW
from app.models.cati import Appointment, Call, Case
from app.models.fieldwork import Response
from tests.browser.screens import (
    dial_first_number,
    go_on,
    log_in,
    next_case,
    open_cati,
    press_and_load,
    tab_to,
    work_the_queue,
)

# --- the tests ---------------------------------------------------------------------------


def test_interviewer_calls_books_and_completes_an_interview_with_the_keyboard_only(
    page, live_server, live_clock, make_cati_fieldwork
):
    fieldwork = make_cati_fieldwork()
    screens = work_the_queue(page, live_server, live_clock, fieldwork)
    # groups, the list of enterprises (its roster: none), then one by one
    assert screens[:4] == ["a", "b", "przedsiebiorstwa", "pe_kompletna"] and len(screens) >= 5

    with live_server.app.extensions["ankieta.db"].session() as session:
        cases = {
            c.sample_unit.name: c
            for c in session.scalars(select(Case).where(Case.fieldwork_id == fieldwork.id))
        }
        done = cases[fieldwork.second]
        assert done.is_final and done.disposition_code == "1.1"
        assert done.claimed_by_id is None
        response = session.scalar(
            select(Response).where(Response.sample_unit_id == done.sample_unit_id)
        )
        assert response.status == "complete" and response.via_phone and not response.via_web
        stored = response.answers
        assert (stored["a1"], stored["a2"], stored["a4"]) == ("zachodni", "1", "rybnik")
        assert sorted(stored["c2"]) == ["biznesowe", "ksiegowe"]  # two digits, two ticks
        assert stored["d1"] == "Brak uwag."
        calls = session.scalars(select(Call).where(Call.case_id == done.id)).all()
        assert len(calls) == 2 and all(c.ended_at is not None for c in calls)
        appointment = session.scalar(select(Appointment).where(Appointment.case_id == done.id))
        assert appointment.with_whom == "p. Nowak, dyrektor"
        assert appointment.interviewer_id is None  # for anyone: "only I" was left unticked
        assert appointment.starts_at.astimezone(WARSAW).strftime("%d.%m.%Y %H:%M") == (
            "16.03.2026 11:00"
        )
        waiting = cases[fieldwork.first]
        assert not waiting.is_final and waiting.attempts == 1 and waiting.claimed_by_id is None
        assert waiting.disposition_code == "3.13"  # no answer


def test_every_interviewer_screen_passes_axe(
    page, live_server, live_clock, make_cati_fieldwork, assert_accessible
):
    checked: list[str] = []

    def check(page, what: str) -> None:
        assert_accessible(page, what)
        checked.append(what)

    work_the_queue(page, live_server, live_clock, make_cati_fieldwork(), check)
    assert checked == [
        "the CATI index",
        "the case screen before the call",
        "the case screen during a call",
        "the case screen with a validation error",
        "the CATI index with nothing callable",
        "the appointments page",
        "an interview screen with choice questions",
        "an interview screen with an error summary",
        "an interview screen with number questions",
        "the CATI index after the interview",
    ]


def test_f3_f2_and_f4_record_refused_then_dont_know_and_go_back(
    page, live_server, live_clock, make_cati_fieldwork
):
    fieldwork = make_cati_fieldwork("jst_gmina")  # the interviewer may record DK / RF here
    log_in(page, live_server, fieldwork.username)
    open_cati(page)
    next_case(page, fieldwork)
    dial_first_number(page)
    tab_to(page, 'a[href$="/interview"]')
    press_and_load(page)
    assert page.url.endswith("/interview/a1"), page.url  # one question per screen
    expect(page.locator("#q-a1-wojt")).to_be_focused()  # the first answer has the focus
    page.keyboard.press("F3")
    expect(page.locator("#q-a1-rf")).to_be_checked()
    page.keyboard.press("F2")
    expect(page.locator("#q-a1-dk")).to_be_checked()
    expect(page.locator("#q-a1-rf")).not_to_be_checked()
    go_on(page)
    assert page.url.endswith("/interview/b1"), page.url
    page.keyboard.press("2")  # "Nie"
    expect(page.locator("#q-b1-2")).to_be_checked()
    press_and_load(page, "F4")
    assert page.url.endswith("/interview/a1"), page.url
    expect(page.locator("#q-a1-dk")).to_be_checked()  # kept, and shown again

    with live_server.app.extensions["ankieta.db"].session() as session:
        case = session.scalar(
            select(Case).where(Case.fieldwork_id == fieldwork.id, Case.claimed_by_id.is_not(None))
        )
        response = session.scalar(
            select(Response).where(Response.sample_unit_id == case.sample_unit_id)
        )
        # saved as given: don't know (not refused) for a1, and b1 kept when going back
        assert response.answers == {"a1": {"missing": "dont_know"}, "b1": "2"}
        assert response.via_phone and response.status == "in_progress"
