"""The self-fill form in a real browser: live skip logic, resuming on another device,
keyboard-only use and 200 % zoom."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.forms import ANSWERS, fill_page, go_on, start

SURVEY = "monitoring_cis_kis"

# Page "a": a5 (places in the CIS statute) is relevant only when a1 (type of unit) is CIS.
CIS = "Centrum Integracji Społecznej (CIS)"
KIS = "Klub Integracji Społecznej (KIS)"


def _mark_document(page) -> None:
    """Tag the loaded document: the tag survives only as long as no new page is loaded."""
    page.evaluate("() => { window.__sameDocument = true; }")


def _same_document(page) -> bool:
    return page.evaluate("() => window.__sameDocument === true")


def test_places_question_appears_for_cis_and_hides_for_kis_without_a_page_load(page, new_link):
    start(page, new_link(SURVEY))
    assert page.url.endswith("/p/a")
    places = page.locator("#item-a5")
    expect(places).to_be_hidden()
    _mark_document(page)

    page.get_by_label(CIS, exact=True).check()
    expect(places).to_be_visible()
    expect(page.get_by_label("Liczba miejsc dla uczestników", exact=False)).to_be_enabled()

    page.get_by_label(KIS, exact=True).check()
    expect(places).to_be_hidden()
    # hidden answers are not sent: the field is disabled while its question does not apply
    expect(page.locator("#q-a5")).to_be_disabled()

    page.get_by_label(CIS, exact=True).check()
    expect(places).to_be_visible()
    assert _same_document(page), "the page was reloaded: skip logic must work in the browser"


def test_forms_of_cooperation_follow_the_entities_ticked_on_the_same_page(page, new_link):
    start(page, new_link(SURVEY))
    while not page.url.endswith("/p/e"):
        fill_page(page, ANSWERS[SURVEY])
        go_on(page)
    forms_of_cooperation = page.locator("#item-e2")
    partnership_name = page.locator("#item-e4")
    expect(forms_of_cooperation).to_be_hidden()
    expect(partnership_name).to_be_hidden()
    _mark_document(page)

    page.get_by_label("Spółdzielnie socjalne", exact=True).check()
    expect(forms_of_cooperation).to_be_visible()
    # "we cooperated with nobody" makes the follow-up question irrelevant at once
    page.get_by_label("Spółdzielnie socjalne", exact=True).uncheck()
    page.get_by_label("Nie współpracowaliśmy z żadnym podmiotem ekonomii społecznej").check()
    expect(forms_of_cooperation).to_be_hidden()

    page.locator("#item-e3").get_by_label("Tak", exact=True).check()
    expect(partnership_name).to_be_visible()
    page.locator("#item-e3").get_by_label("Nie", exact=True).check()
    expect(partnership_name).to_be_hidden()
    assert _same_document(page)


def test_questions_of_a_nested_group_appear_when_the_group_becomes_relevant(page, new_link):
    # jst_gmina page B: the group of clause questions applies only to a gmina that used them
    start(page, new_link("jst_gmina"))
    fill_page(page, ANSWERS["jst_gmina"])
    go_on(page)
    assert page.url.endswith("/p/b")
    clauses = page.locator("#item-b_klauzule")
    kinds, contracts, value = (page.locator(f"#item-{n}") for n in ("b2", "b3", "b4"))
    reasons = page.locator("#item-b6")
    expect(clauses).to_be_hidden()
    _mark_document(page)

    page.locator("#item-b1").get_by_label("Tak", exact=True).check()
    expect(clauses).to_be_visible()
    expect(kinds).to_be_visible()
    expect(contracts).to_be_visible()
    expect(value).to_be_hidden()
    expect(reasons).to_be_hidden()
    page.locator("#q-b3").fill("2")
    expect(value).to_be_visible()
    # each question is on the page once
    assert page.locator("#q-b3").count() == 1

    page.locator("#item-b1").get_by_label("Nie", exact=True).check()
    expect(clauses).to_be_hidden()
    expect(reasons).to_be_visible()
    assert _same_document(page)


def test_saved_answers_resume_on_another_device_at_the_page_after_the_last_one_sent(
    browser, page, new_link
):
    link = new_link(SURVEY)
    start(page, link)
    page.get_by_label(CIS, exact=True).check()
    page.get_by_label("Organizacja pozarządowa (stowarzyszenie, fundacja)").check()
    page.locator("#q-a4").fill("2010")
    page.locator("#q-a5").fill("40")
    go_on(page)
    assert page.url.endswith("/p/b")
    page.locator("#q-b1_k").fill("5")
    with page.expect_navigation():
        page.get_by_role("button", name="Zapisz i dokończ później").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Twoje odpowiedzi zostały zapisane")

    other_device = browser.new_context(locale="pl-PL")
    try:
        resumed = other_device.new_page()
        resumed.goto(link)
        with resumed.expect_navigation():
            resumed.get_by_role("button", name="Kontynuuj").click()
        assert resumed.url.endswith("/p/b"), resumed.url
        expect(resumed.locator("#q-b1_k")).to_have_value("5")
        expect(resumed.locator("#q-b1_m")).to_have_value("")

        with resumed.expect_navigation():
            resumed.get_by_role("button", name="Wstecz").click()
        assert resumed.url.endswith("/p/a")
        expect(resumed.get_by_label(CIS, exact=True)).to_be_checked()
        expect(
            resumed.get_by_label("Organizacja pozarządowa (stowarzyszenie, fundacja)")
        ).to_be_checked()
        expect(resumed.locator("#q-a4")).to_have_value("2010")
        expect(resumed.locator("#item-a5")).to_be_visible()
        expect(resumed.locator("#q-a5")).to_have_value("40")
    finally:
        other_device.close()


# --- keyboard only -------------------------------------------------------------------------

_FOCUSED = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return {id: el.id, tag: el.tagName.toLowerCase(), text: (el.innerText || '').trim(),
            outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth)};
}"""


def _tab_to(page, wanted, limit: int = 40) -> dict:
    """Press Tab until ``wanted(focused)`` holds; every stop must show a visible focus ring."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        assert focused["outlineStyle"] != "none" and focused["outlineWidth"] > 0, (
            f"no visible focus on {focused}"
        )
        if wanted(focused):
            return focused
    raise AssertionError(f"Tab never reached the wanted element (last: {focused})")


def test_a_page_can_be_completed_with_the_keyboard_and_focus_stays_visible(page, new_link):
    page.goto(new_link(SURVEY))
    _tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Rozpocznij")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/p/a")

    # Enter on Next with nothing answered: the error summary gets the focus
    _tab_to(page, lambda f: f["text"] == "Dalej")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Popraw następujące błędy:")
    expect(summary).to_be_focused()
    assert page.title().startswith("Błąd:")

    _tab_to(page, lambda f: f["id"] == "q-a1-cis")
    page.keyboard.press("Space")
    expect(page.locator("#item-a5")).to_be_visible()
    _tab_to(page, lambda f: f["id"].startswith("q-a2-"))
    page.keyboard.press("ArrowDown")  # arrows move through a radio group and choose
    expect(page.locator("#q-a2-ngo")).to_be_checked()
    _tab_to(page, lambda f: f["id"] == "q-a4")
    page.keyboard.type("2010")
    _tab_to(page, lambda f: f["id"] == "q-a5")
    page.keyboard.type("40")
    _tab_to(page, lambda f: f["text"] == "Dalej")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/p/b"), page.locator("main").inner_text()
    expect(page.get_by_text("Postęp: 12%")).to_be_visible()


# --- zoom ----------------------------------------------------------------------------------


def _assert_no_horizontal_scrolling(page, what: str) -> None:
    sizes = page.evaluate(
        """() => ({scroll: document.scrollingElement.scrollWidth,
                   client: document.scrollingElement.clientWidth})"""
    )
    assert sizes["scroll"] <= sizes["client"] + 1, f"{what} scrolls sideways: {sizes}"


def test_pages_reflow_at_200_percent_zoom_without_horizontal_scrolling(browser, new_link):
    # a 1280 px wide window at 200 % zoom lays out like a 640 px one with double-size pixels
    zoomed = browser.new_context(
        locale="pl-PL", viewport={"width": 640, "height": 720}, device_scale_factor=2
    )
    try:
        page = zoomed.new_page()
        link = new_link(SURVEY)
        page.goto(link)
        _assert_no_horizontal_scrolling(page, "the start page")
        start(page, link)
        page.get_by_label(CIS, exact=True).check()
        _assert_no_horizontal_scrolling(page, "page A")
        page.locator("#q-a5").fill("abc")
        go_on(page)
        expect(page.locator("#error-summary")).to_be_visible()
        _assert_no_horizontal_scrolling(page, "page A with errors")

        matrix = new_link("ocena_koordynacji")
        start(page, matrix)
        fill_page(page, ANSWERS["ocena_koordynacji"])
        go_on(page)
        expect(page.locator("table.matrix").first).to_be_visible()
        _assert_no_horizontal_scrolling(page, "a page of rating matrices")
    finally:
        zoomed.close()
