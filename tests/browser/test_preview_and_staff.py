"""The preview, the test link and the staff pages in a real browser: live skip logic in the
preview (form.js), and axe-core on every new page."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from app.models.users import Role
from tests.browser.conftest import LiveServer
from tests.support import TEST_PASSWORD

_serial = itertools.count(1)


def _user(live_server: LiveServer, role: Role) -> str:
    from app.platform.accounts import create_user

    username = f"{role.value}-preview-{next(_serial)}"
    with live_server.app.extensions["ankieta.db"].session() as session:
        create_user(session, username, role, password=TEST_PASSWORD, must_change_password=False)
    return username


def _log_in(page, live_server: LiveServer, username: str) -> None:
    page.goto(f"{live_server.url}/login")
    page.fill("#username", username)
    page.fill("#password", TEST_PASSWORD)
    with page.expect_navigation():
        page.press("#password", "Enter")
    assert page.url.rstrip("/") == live_server.url


def _survey_id(live_server: LiveServer, code: str) -> int:
    from app.models.surveys import Survey

    with live_server.app.extensions["ankieta.db"].session() as session:
        return session.scalar(select(Survey.id).where(Survey.code == code))


def test_the_preview_shows_a_conditional_question_live_and_passes_axe(
    page, live_server, assert_accessible
):
    _log_in(page, live_server, _user(live_server, Role.ANALYST))
    survey_id = _survey_id(live_server, "monitoring_cis_kis")
    page.goto(f"{live_server.url}/surveys/{survey_id}/versions/1/preview/web")
    assert page.locator(".preview-notice").is_visible()
    places = page.locator("#item-a5")
    assert places.is_hidden()
    page.check("#q-a1-cis")
    assert places.is_visible()  # the same live relevance as the real form
    assert_accessible(page, "the web preview")
    page.check("#q-a1-kis")
    assert places.is_hidden()
    page.check("#item-a2 input[type=radio] >> nth=0")
    with page.expect_navigation():
        page.click("button[value=next]")
    assert "/preview/web" in page.url
    assert page.locator("h1").first.inner_text().startswith("B.")  # on to page B
    assert_accessible(page, "the web preview's second page")


def test_the_phone_preview_goes_screen_by_screen_and_passes_axe(
    page, live_server, assert_accessible
):
    _log_in(page, live_server, _user(live_server, Role.ANALYST))
    survey_id = _survey_id(live_server, "monitoring_cis_kis")
    page.goto(f"{live_server.url}/surveys/{survey_id}/versions/1/preview/phone")
    assert page.locator("#questionnaire.phone-mode").is_visible()
    assert_accessible(page, "the phone preview")
    first = page.locator("input[name=page]").input_value()
    page.check("#questionnaire input[type=radio] >> nth=0")
    with page.expect_navigation():
        page.click("button[value=next]")
    assert page.locator("input[name=page]").input_value() != first
    assert_accessible(page, "the phone preview's second screen")


def test_test_link_edit_and_productivity_pages_pass_axe(
    page, context, live_server, new_link, assert_accessible
):
    from app.models.fieldwork import Fieldwork, Response, SampleUnit

    link = new_link("monitoring_cis_kis")
    page.goto(link)
    with page.expect_navigation():
        page.click("button.primary")
    with page.expect_navigation():
        page.click("button[value=later]")
    token = link.rsplit("/", 1)[1]
    with live_server.app.extensions["ankieta.db"].session() as session:
        unit = session.scalar(select(SampleUnit).where(SampleUnit.token == token))
        response_id = session.scalar(select(Response.id).where(Response.sample_unit_id == unit.id))
        fieldwork = session.get(Fieldwork, unit.fieldwork_id)
        fieldwork_id, test_token = fieldwork.id, fieldwork.test_link_token

    page.goto(f"{live_server.url}/t/{test_token}")
    assert_accessible(page, "the test link's start page")

    staff = context.new_page()
    _log_in(staff, live_server, _user(live_server, Role.SUPERVISOR))
    staff.goto(f"{live_server.url}/fieldwork/{fieldwork_id}/responses/{response_id}/edit")
    assert staff.locator("#reason").is_visible()
    assert_accessible(staff, "the staff edit page")
    with staff.expect_navigation():
        staff.click("button[value=save]")  # no reason: refused at the field
    assert staff.locator("#reason-error").is_visible()
    assert_accessible(staff, "the staff edit page with an error")
    staff.goto(f"{live_server.url}/supervise/productivity?shift_from=08:00&shift_to=16:00")
    assert_accessible(staff, "the productivity page")
    staff.goto(f"{live_server.url}/supervise/productivity?date_from=xx")
    assert_accessible(staff, "the productivity page with an error")
