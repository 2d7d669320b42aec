"""XLSForm's appearances in a real browser: a page with a dropdown (minimal), choices in a
row, a Likert scale and dates to the month and year, then a table-list matrix answered
with the keyboard alone, each radio named "question – choice"; every page, its errors
included, passes axe-core (tests/xlsforms/appearances_and_tables.xlsx)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.forms import fill_page, go_on, start
from tests.browser.screens import answer_screen, press_and_load, tab_to
from tests.browser.screens import go_on as screen_go_on
from tests.browser.walks import start_interview
from tests.support.xlsforms import CORPUS


@pytest.fixture
def appearances_link(fresh_link) -> tuple[str, str]:
    """A fresh personal link of a fieldwork of the appearances workbook, and its token."""
    return fresh_link(CORPUS / "appearances_and_tables.xlsx", "appearances_and_tables", "Wygląd")


def test_a_table_list_matrix_is_answered_by_keyboard_and_every_page_passes_axe(
    page, live_server, appearances_link, assert_accessible
) -> None:
    from app.models.fieldwork import Response, SampleUnit

    link, token = appearances_link
    start(page, link)
    expect(page.get_by_role("combobox", name="Region")).to_be_visible()  # minimal
    assert_accessible(page, "a dropdown, choices in a row, a Likert scale, partial dates")
    fill_page(page, {"region": "south", "since": "03.2026", "born": "1984"})
    assert page.locator("#q-region").input_value() == "south"
    go_on(page)

    assert page.url.endswith("/p/services"), page.url
    table = page.locator("table.table-list")
    expect(table.get_by_role("columnheader", name="Yes")).to_be_visible()
    expect(table.get_by_role("rowheader")).to_have_count(3)
    assert_accessible(page, "a table-list matrix")
    go_on(page)  # clinic is required: the page comes back with its error
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#e-clinic")).to_be_visible()
    assert_accessible(page, "a table-list matrix with an error")

    # by keyboard: Tab from the summary to the first row, Space picks, Tab goes to the
    # next row, the arrow keys move along a row, Enter sends the page
    tab_to(page, "#q-clinic-yes")
    expect(page.get_by_role("radio", name="Clinic – Yes")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.get_by_role("radio", name="School – Yes")).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(page.get_by_role("radio", name="Clinic – Yes")).to_be_checked()
    expect(page.get_by_role("radio", name="School – No")).to_be_checked()
    expect(page.get_by_role("radio", name="Market – Yes")).to_be_checked()
    press_and_load(page)

    assert page.url.endswith("/p/opinions"), page.url
    expect(page.locator("table.table-list caption")).to_have_text("Statement")
    assert_accessible(page, "a label / list-nolabel matrix inside a field-list page")

    with live_server.app.extensions["ankieta.db"].session() as session:
        answers = session.scalar(
            select(Response.answers)
            .join(SampleUnit, SampleUnit.id == Response.sample_unit_id)
            .where(SampleUnit.token == token)
        )
    assert (answers["clinic"], answers["school"], answers["market"]) == ("yes", "no", "yes")
    assert (answers["region"], answers["since"], answers["born"]) == (
        "south", "2026-03-01", "1984-01-01"
    )  # fmt: skip


PHONE_ANSWERS = {
    "region": "south", "works": "yes", "visited": ["north"], "happy": "2", "fast": "no",
    "since": "03.2026", "born": "1984", "visit": "16.03.2026", "income": "100",
}  # fmt: skip


def test_an_interviewer_answers_a_table_list_row_by_row_with_digits_and_f2(
    page, live_server, appearances_link, phone_case, assert_accessible
) -> None:
    from app.models.fieldwork import Response

    fieldwork_id, username = phone_case("appearances_and_tables")
    start_interview(page, live_server.url, fieldwork_id, username)
    expect(page.locator("select.dropdown")).to_have_count(0)  # minimal: digits on the phone
    for _ in range(12):
        if page.url.endswith("/interview/services"):
            break
        answer_screen(page, PHONE_ANSWERS)
        screen_go_on(page)
    assert page.url.endswith("/interview/services"), page.url
    assert_accessible(page, "a table-list on the interviewer's screen")
    tab_to(page, "#q-clinic-yes")
    page.keyboard.press("1")  # the first answer of the row with the focus
    page.keyboard.press("Tab")  # the next row
    page.keyboard.press("2")
    page.keyboard.press("Tab")
    page.keyboard.press("F2")  # don't know, for this row only
    expect(page.get_by_role("radio", name="Clinic – Yes")).to_be_checked()
    expect(page.get_by_role("radio", name="School – No")).to_be_checked()
    expect(page.get_by_role("radio", name="Market – Nie wiem")).to_be_checked()
    press_and_load(page)
    assert not page.url.endswith("/interview/services"), page.url

    with live_server.app.extensions["ankieta.db"].session() as session:
        answers = session.scalar(
            select(Response.answers).where(Response.fieldwork_id == fieldwork_id)
        )
    assert (answers["clinic"], answers["school"]) == ("yes", "no")
    assert answers["market"] not in (None, "yes", "no")  # don't know, stored as such
