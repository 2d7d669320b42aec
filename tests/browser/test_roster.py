"""The interviewer's keyboard roster in Chromium: a list asked one entry at a time, digits
answer "is there another?", Enter goes on, F4 goes back across entries; axe-core passes."""

from __future__ import annotations

from playwright.sync_api import expect

from app.surveys import services as survey_services
from tests.browser.screens import press_and_load, tab_to
from tests.browser.walks import start_interview
from tests.support.partners import PARTNERS


def _another(page, digit: str) -> None:
    """Answer "is there another entry?" with its digit (1 yes, 2 no), then Enter."""
    tab_to(page, "#item-_another .choice input")
    page.keyboard.press(digit)
    press_and_load(page)


def test_the_keyboard_roster(page, live_server, make_cati_fieldwork, assert_accessible):
    with live_server.app.extensions["ankieta.db"].session() as session:
        assert survey_services.load_bytes(session, PARTNERS.encode(), "partnerzy.yaml").ok
    fieldwork = make_cati_fieldwork("partnerzy_test")
    start_interview(page, live_server.url, fieldwork.id, fieldwork.username)
    page.keyboard.type("1")  # Ilu partnerów? (the fixed list's count)
    press_and_load(page)
    # an empty open list: only "is there an entry?"
    expect(page.locator("#item-_another legend")).to_have_text("Czy jest pozycja: Partner?")
    assert_accessible(page, "the roster of an empty list")
    _another(page, "1")
    expect(page.get_by_role("heading", level=1)).to_have_text("Partner 1")
    expect(page.locator("#q-partnerzy\\.1\\.nazwa")).to_be_focused()
    page.keyboard.type("Caritas")
    # Enter without saying whether there is another: asked, nothing lost
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#e-another")).to_contain_text("Odpowiedz: 1 – tak, 2 – nie.")
    assert_accessible(page, "the roster with its question unanswered")
    _another(page, "1")
    expect(page.get_by_role("heading", level=1)).to_have_text("Partner 2")
    expect(page.locator(".jump-list")).to_contain_text("Partner 1: Caritas")
    page.keyboard.type("Gmina Żory")
    # F4: back to the first entry, the second's name kept
    press_and_load(page, "F4")
    expect(page.get_by_role("heading", level=1)).to_have_text("Partner 1: Caritas")
    press_and_load(page)  # not the last entry: Enter shows the next one, asks nothing
    expect(page.get_by_role("heading", level=1)).to_have_text("Partner 2: Gmina Żory")
    expect(page.locator("#item-_another")).to_be_visible()
    _another(page, "2")
    # the fixed list (one entry, as answered up front), with no question about another
    expect(page.get_by_role("heading", level=1)).to_have_text("Stały 1")
    expect(page.locator("#item-_another")).to_have_count(0)
    assert_accessible(page, "a fixed list's entry")
    page.keyboard.type("telefon")
    press_and_load(page)
    assert page.url.endswith("/cati/"), page.url
