"""Issue #15 defects that need a real browser: live labels, keyboard, layout, drafts."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.forms import go_on, start

SURVEY = "monitoring_cis_kis"
CIS = "Centrum Integracji Społecznej (CIS)"


def _to_page_b(page, link: str) -> None:
    start(page, link)
    page.get_by_label(CIS, exact=True).check()
    page.get_by_label("Organizacja pozarządowa (stowarzyszenie, fundacja)").check()
    page.locator("#q-a3").fill("2025")
    page.locator("#q-a4").fill("2010")
    page.locator("#q-a5").fill("40")
    go_on(page)
    assert page.url.endswith("/p/b"), page.url


def test_d11_a_calculated_total_in_a_note_follows_the_answers_on_its_page(page, new_link):
    _to_page_b(page, new_link(SURVEY))
    total = page.locator("#item-b1_razem .note")
    expect(total).to_have_text("Łączna liczba uczestników w 2025 r.: .")
    page.locator("#q-b1_k").fill("5")
    expect(total).to_have_text("Łączna liczba uczestników w 2025 r.: .")  # b1_m still empty
    page.locator("#q-b1_m").fill("3")
    expect(total).to_have_text("Łączna liczba uczestników w 2025 r.: 8.")
    page.locator("#q-b1_m").fill("12")
    expect(total).to_have_text("Łączna liczba uczestników w 2025 r.: 17.")
    page.locator("#q-b2").fill("2")
    page.locator("#q-b3").fill("1")
    go_on(page)  # the server shows the same total on the next page's hint
    assert page.url.endswith("/p/c"), page.url
    expect(page.locator("#questionnaire")).to_contain_text("ogółem: 17")
