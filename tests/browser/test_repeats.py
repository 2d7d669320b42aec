"""Lists (repeats) on the respondent's form in Chromium: entries added and removed with
JavaScript (a modal question before a removal, the focus where the reader works next), the
same without JavaScript (a confirmation on the page), relevance live inside each entry, and
axe-core on a list page with and without errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models.fieldwork import SampleUnit
from tests.support.partners import partners_fieldwork
from tests.support.respondent import stored


@pytest.fixture(scope="module")
def partners_links(live_server) -> list[str]:
    """Unused personal links of a fieldwork of the partners questionnaire."""
    app = live_server.app
    fieldwork_id = partners_fieldwork(app, app.config["CLOCK"], units=9)
    with app.extensions["ankieta.db"].session() as session:
        tokens = session.scalars(
            select(SampleUnit.token).where(SampleUnit.fieldwork_id == fieldwork_id)
        )
        return list(tokens)


@pytest.fixture
def partners_page(live_server, partners_links) -> Callable:
    """Open a fresh link and go to its list of partners; the link's token."""

    def go(page) -> str:
        token = partners_links.pop()
        page.goto(f"{live_server.url}/r/{token}")
        page.get_by_role("button", name="Rozpocznij").click()
        page.fill("#q-liczba", "1")
        page.get_by_role("button", name="Dalej").click()
        expect(page.locator("#t-partnerzy")).to_be_visible()
        return token

    return go


def test_entries_are_added_and_removed_with_javascript(page, partners_page, live_server, watch):
    token = partners_page(page)
    page.get_by_role("button", name="Dodaj: Partner").click()
    expect(page.locator("#instance-partnerzy\\.1 > legend")).to_have_text("Partner 1")
    expect(page.locator("#q-partnerzy\\.1\\.nazwa")).to_be_focused()  # the new entry's first field
    page.keyboard.type("Fundacja Szansa")
    page.get_by_role("button", name="Dodaj: Partner").click()
    expect(page.locator("#instance-partnerzy\\.1 > legend")).to_have_text(
        "Partner 1: Fundacja Szansa"
    )
    expect(page.locator("#q-partnerzy\\.2\\.nazwa")).to_be_focused()
    page.keyboard.type("Gmina Rybnik")
    remove = page.get_by_role("button", name="Usuń: Partner 2")
    remove.click()
    dialog = page.get_by_role("dialog", name="Usunąć: Partner 2?")
    expect(dialog).to_be_visible()
    assert page.evaluate("() => document.activeElement.textContent") == "Anuluj"
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate("() => document.activeElement.value") == "remove:partnerzy.2"
    assert page.input_value("#q-partnerzy\\.2\\.nazwa") == "Gmina Rybnik"  # nothing sent
    remove.click()
    dialog.get_by_role("button", name="Usuń").click()
    expect(page.locator("[data-instance]")).to_have_count(1)
    expect(page.locator("#t-partnerzy")).to_be_focused()  # the list's heading
    answers = stored(live_server.app, token).answers
    assert [p["nazwa"] for p in answers["partnerzy"]] == ["Fundacja Szansa"]
    watch.assert_clean("the list of partners")


def test_relevance_is_live_inside_each_entry(page, partners_page, watch):
    partners_page(page)
    page.get_by_role("button", name="Dodaj: Partner").click()
    page.get_by_role("button", name="Dodaj: Partner").click()
    first = page.locator("#instance-partnerzy\\.1")
    second = page.locator("#instance-partnerzy\\.2")
    expect(first.get_by_label("Miejsca pracy")).to_be_hidden()
    first.get_by_label("Firma").check()
    expect(first.get_by_label("Miejsca pracy")).to_be_visible()
    expect(second.get_by_label("Miejsca pracy")).to_be_hidden()  # its own answer counts
    second.get_by_label("Organizacja pozarządowa").check()
    expect(second.get_by_label("Miejsca pracy")).to_be_hidden()
    # a text showing the entry's answers and calculations follows that entry's fields
    first.get_by_label("Nazwa").fill("Caritas")
    first.get_by_label("Miejsca pracy").fill("4")
    expect(first.locator("#item-partnerzy\\.1\\.o_partnerze")).to_have_text(
        "O partnerze: Caritas, miejsc razy dwa: 8"
    )
    second.get_by_label("Nazwa").fill("Gmina Rybnik")
    expect(second.locator("#item-partnerzy\\.2\\.o_partnerze")).to_have_text(
        "O partnerze: Gmina Rybnik, miejsc razy dwa:"
    )
    expect(first.locator("#item-partnerzy\\.1\\.o_partnerze")).to_have_text(
        "O partnerze: Caritas, miejsc razy dwa: 8"
    )
    first.get_by_label("Samorząd").check()
    expect(first.get_by_label("Miejsca pracy")).to_be_hidden()
    expect(first.get_by_label("Miejsca pracy")).to_be_disabled()  # not sent while hidden
    expect(first.locator("#item-partnerzy\\.1\\.o_partnerze")).to_have_text(
        "O partnerze: Caritas, miejsc razy dwa:"
    )
    watch.assert_clean("the list of partners")


@pytest.fixture
def no_script_page(browser):
    context = browser.new_context(
        locale="pl-PL", viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_without_javascript_a_removal_is_confirmed_on_the_page(
    no_script_page, partners_page, live_server
):
    page = no_script_page
    token = partners_page(page)
    page.get_by_role("button", name="Dodaj: Partner").click()
    page.fill("#q-partnerzy\\.1\\.nazwa", "Fundacja Szansa")
    page.get_by_role("button", name="Dodaj: Partner").click()
    page.fill("#q-partnerzy\\.2\\.nazwa", "Gmina Rybnik")
    page.get_by_role("button", name="Usuń: Partner 2").click()
    confirm = page.locator("#confirm-remove")
    expect(confirm).to_contain_text("Usunąć: Partner 2: Gmina Rybnik?")
    confirm.get_by_role("button", name="Anuluj").click()
    expect(page.locator("#confirm-remove")).to_have_count(0)
    expect(page.locator("[data-instance]")).to_have_count(2)
    page.get_by_role("button", name="Usuń: Partner 2: Gmina Rybnik").click()
    page.locator("#confirm-remove").get_by_role("button", name="Usuń").click()
    expect(page.locator("[data-instance]")).to_have_count(1)
    # Enter in a field goes on to the next page, not to a list's button
    page.fill("#q-partnerzy\\.1\\.nazwa", "Fundacja Szansa Plus")
    page.press("#q-partnerzy\\.1\\.nazwa", "Enter")
    expect(page.get_by_text("Partnerów: 1")).to_be_visible()
    answers = stored(live_server.app, token).answers
    assert [p["nazwa"] for p in answers["partnerzy"]] == ["Fundacja Szansa Plus"]


def test_a_list_page_is_accessible_with_and_without_errors(page, partners_page, assert_accessible):
    partners_page(page)
    assert_accessible(page, "an empty list")
    page.get_by_role("button", name="Dodaj: Partner").click()
    page.get_by_role("button", name="Dodaj: Partner").click()
    page.locator("#instance-partnerzy\\.1").get_by_label("Firma").check()
    page.locator("#instance-partnerzy\\.1 .item-repeat").get_by_role(
        "button", name="Dodaj: Etat"
    ).click()
    assert_accessible(page, "a list with two entries and a nested list")
    page.get_by_role("button", name="Dalej").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    for number in (1, 2):
        link = summary.get_by_role(
            "link", name=f"Partner {number}: Nazwa – To pytanie wymaga odpowiedzi."
        )
        expect(link).to_have_attribute("href", f"#q-partnerzy.{number}.nazwa")
    assert_accessible(page, "a list with errors")
    page.get_by_role("button", name="Usuń: Partner 1").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert_accessible(page, "the question before a removal")
