"""axe-core on every page a respondent sees: no WCAG 2.0/2.1 A or AA violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SHIPPED_SURVEYS
from tests.browser.forms import start, walk_questionnaire

_PREFILLED = """() => Array.from(document.querySelectorAll(
    '#questionnaire input[type=text], #questionnaire textarea')).some(e => e.value !== '')"""


@pytest.mark.parametrize("survey", SHIPPED_SURVEYS)
def test_every_page_of_a_shipped_questionnaire_passes_axe(
    survey, page, new_link, assert_accessible
):
    link = new_link(survey)
    page.goto(link)
    assert_accessible(page, f"{survey}: the start page")

    def check(page) -> None:
        page_id = page.url.rsplit("/", 1)[-1]
        assert_accessible(page, f"{survey}: page {page_id}")
        prefilled = page.evaluate(_PREFILLED)  # a default answers it: no error to show
        if page.locator("#questionnaire .required:visible").count() and not prefilled:
            # the same page with every required answer missing: errors and the summary
            with page.expect_navigation():
                page.locator("#questionnaire button.primary").click()
            expect(page.locator("#error-summary")).to_be_visible()
            assert_accessible(page, f"{survey}: page {page_id} with errors")

    pages = walk_questionnaire(page, link, survey, check)
    assert len(pages) >= 3
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Dziękujemy — Twoje odpowiedzi zostały wysłane"
    )
    assert_accessible(page, f"{survey}: the thank-you page")


def test_saved_page_passes_axe(page, new_link, assert_accessible):
    start(page, new_link("ocena_koordynacji"))
    with page.expect_navigation():
        page.get_by_role("button", name="Zapisz i dokończ później").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Twoje odpowiedzi zostały zapisane")
    assert_accessible(page, "the saved page")


def test_unknown_link_page_passes_axe(page, live_server, assert_accessible):
    response = page.goto(f"{live_server.url}/r/this-link-was-never-sent-out")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Ten link nie działa")
    assert_accessible(page, "the unknown-link page")


def test_axe_check_reports_a_field_without_a_label(page, live_server, assert_accessible):
    """The check itself: a violation planted in a page is found and reported."""
    page.goto(f"{live_server.url}/r/this-link-was-never-sent-out")
    page.evaluate(
        "() => document.querySelector('main').insertAdjacentHTML("
        "'beforeend', '<input type=\"text\" id=\"planted\">')"
    )
    with pytest.raises(AssertionError, match=r"(?s)label.*#planted"):
        assert_accessible(page, "a page with a planted violation")
