"""Issue #15 defects that need a real browser: live labels, keyboard, layout, drafts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.domain.questionnaire.flow import PHONE, WEB
from tests.browser.conftest import SHIPPED_SURVEYS
from tests.browser.forms import go_on, start
from tests.browser.walks import covering_walks, fill_page, start_interview

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


# --- D5: reflow at 320 px and at 200 % zoom ------------------------------------------------

# WCAG 1.4.10: content reflows without scrolling in two dimensions at 320 CSS px wide; a
# desktop window of 1280 px at 200 % zoom is a 640 CSS px wide viewport drawn at scale 2.
REFLOW_VIEWPORTS = {
    "320px": ({"width": 320, "height": 640}, 1),
    "200%": ({"width": 640, "height": 450}, 2),
}

_OVERFLOW = """() => {
    const root = document.documentElement;
    const wide = Array.from(document.querySelectorAll('body *'))
        .filter(el => el.getBoundingClientRect().right > root.clientWidth + 1
                      && !el.closest('.matrix-wrap, .visually-hidden, .skip-link'))
        .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                                + (el.className ? '.' + el.className : ''));
    return {scroll: root.scrollWidth, client: root.clientWidth, wide: wide};
}"""


def _no_horizontal_scroll(page, what: str) -> None:
    found = page.evaluate(_OVERFLOW)
    assert found["scroll"] <= found["client"] and not found["wide"], f"{what}: {found}"


@pytest.mark.parametrize("zoom", sorted(REFLOW_VIEWPORTS))
@pytest.mark.parametrize("survey", SHIPPED_SURVEYS)
def test_d5_every_respondent_page_reflows_without_horizontal_scroll(
    browser, live_server, new_link, survey, zoom, assert_accessible
):
    viewport, scale = REFLOW_VIEWPORTS[zoom]
    context = browser.new_context(locale="pl-PL", viewport=viewport, device_scale_factor=scale)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        walk = covering_walks(survey, WEB)[0]
        link = new_link(survey)
        page.goto(link)
        _no_horizontal_scroll(page, f"{survey}: the start page")
        with page.expect_navigation():
            page.get_by_role("button", name="Rozpocznij").click()
        with page.expect_navigation():  # Next with nothing answered: the error summary
            page.locator("#questionnaire button.primary").click()
        _no_horizontal_scroll(page, f"{survey}: a page with errors")
        first = page.url
        with page.expect_navigation():
            page.get_by_role("button", name="Zapisz i dokończ później").click()
        _no_horizontal_scroll(page, f"{survey}: the saved page")
        page.goto(first)
        for _ in range(50):
            match = re.search(r"/p/([^/?#]+)$", page.url)
            if match is None:
                break
            _no_horizontal_scroll(page, f"{survey}: page {match.group(1)}")
            fill_page(page, survey, WEB, match.group(1), walk.answers)
            _no_horizontal_scroll(page, f"{survey}: page {match.group(1)} filled in")
            with page.expect_navigation():
                page.locator("#questionnaire button.primary").click()
        assert page.url.endswith("/done"), page.url
        _no_horizontal_scroll(page, f"{survey}: the thank-you page")
        assert_accessible(page, f"the thank-you page at {zoom}")
    finally:
        context.close()


# --- D4: the keyboard on multi-question phone screens -------------------------------------


def _phone_screen(page, live_server, phone_case, survey: str, screen: str) -> None:
    """Begin a phone interview and answer (generically) up to ``screen``."""
    walk = covering_walks(survey, PHONE)[0]
    fieldwork_id, username = phone_case(survey)
    start_interview(page, live_server.url, fieldwork_id, username)
    for _ in range(60):
        current = re.search(r"/interview/([^/?#]+)(?:\?n=\d+)?$", page.url).group(1)
        if current == screen:
            return
        fill_page(page, survey, PHONE, current, walk.answers)
        with page.expect_navigation():
            page.locator("#questionnaire button.primary").click()
    raise AssertionError(f"never reached screen {screen}")


def _focused_id(page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id")


def test_d4_tab_goes_from_number_to_number_and_f2_f3_act_on_the_focused_one(
    page, live_server, phone_case, assert_accessible
):
    _phone_screen(page, live_server, phone_case, SURVEY, "c")
    numbers = page.locator("#questionnaire .item-integer input[type=text]")
    names = [n[len("q-") :] for n in numbers.evaluate_all("els => els.map(e => e.id)")]
    assert len(names) >= 8
    assert page.locator(f"#q-{names[0]}-dk").count() == 1  # don't know is offered here
    page.locator(f"#q-{names[0]}").focus()
    for name in names[1:]:
        page.keyboard.press("Tab")
        assert _focused_id(page) == f"q-{name}"  # one Tab per question, no checkbox stops
    # F2 on the third number: its don't know, nobody else's; the typed value goes
    third = names[2]
    page.locator(f"#q-{third}").fill("7")
    page.keyboard.press("F2")
    expect(page.locator(f"#q-{third}-dk")).to_be_checked()
    expect(page.locator(f"#q-{third}")).to_have_value("")
    expect(page.locator(f"#q-{third}")).to_be_focused()
    page.keyboard.press("F3")
    expect(page.locator(f"#q-{third}-rf")).to_be_checked()
    expect(page.locator(f"#q-{third}-dk")).not_to_be_checked()
    for other in names[:2] + names[3:]:
        expect(page.locator(f"#q-{other}-dk")).not_to_be_checked()
        expect(page.locator(f"#q-{other}-rf")).not_to_be_checked()
    page.keyboard.type("4")  # typing a number takes the refusal back
    expect(page.locator(f"#q-{third}-rf")).not_to_be_checked()
    # still labelled for screen readers
    expect(page.get_by_role("checkbox", name="Nie wiem").first).to_be_attached()
    assert_accessible(page, "a phone screen of numbers")


def test_d4_phone_answers_show_the_digit_that_picks_them(page, live_server, phone_case):
    _phone_screen(page, live_server, phone_case, SURVEY, "a1")
    keys = page.locator("#item-a1 .choice .key").all_inner_texts()
    assert keys == ["1", "2"]
    page.keyboard.press("2")
    expect(page.get_by_label("Klub Integracji Społecznej (KIS)", exact=True)).to_be_checked()


def test_d13_enter_in_a_text_area_goes_on_and_shift_enter_starts_a_new_line(
    page, live_server, phone_case
):
    _phone_screen(page, live_server, phone_case, SURVEY, "h1")
    page.locator("#q-h1").focus()
    page.keyboard.type("Pierwszy wiersz")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("drugi wiersz")
    expect(page.locator("#q-h1")).to_have_value("Pierwszy wiersz\ndrugi wiersz")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/interview/h2"), page.url
    expect(page.locator(".keys")).to_contain_text("Enter – dalej (Shift+Enter – nowy wiersz")


def test_d13_the_supervisors_case_filter_is_a_usable_box_and_a_list_of_codes(
    page, live_server, assert_accessible
):
    from sqlalchemy import select

    from app.models.fieldwork import Fieldwork
    from app.models.users import Role
    from app.platform.accounts import create_user
    from tests.support import TEST_PASSWORD

    with live_server.app.extensions["ankieta.db"].session() as session:
        create_user(
            session,
            "koordynatorka",
            Role.SUPERVISOR,
            password=TEST_PASSWORD,
            must_change_password=False,
        )
        fieldwork_id = session.scalar(
            select(Fieldwork.id).where(Fieldwork.title == f"Monitoring 2026 ({SURVEY})")
        )
    page.goto(f"{live_server.url}/login")
    page.locator("#username").fill("koordynatorka")
    page.locator("#password").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.locator("#password").press("Enter")
    page.goto(f"{live_server.url}/supervise/{fieldwork_id}")
    box = page.locator("#case-search").bounding_box()
    button = page.locator("form.filters button").bounding_box()
    code = page.locator("#case-code")
    assert box["width"] >= 240, box
    assert abs((box["y"] + box["height"]) - (button["y"] + button["height"])) <= 3, (box, button)
    assert code.evaluate("el => el.tagName") == "SELECT"
    options = code.locator("option").all_inner_texts()
    assert options[0] == "wszystkie" and "3.11 – jeszcze nie dzwoniono" in options, options
    assert all(re.fullmatch(r"[1-4]\.[0-9]+ – \S.*", o) for o in options[1:]), options
    code.select_option(options[1].split(" – ")[0])
    with page.expect_navigation():
        page.locator("form.filters button").click()
    assert "code=" in page.url
    assert_accessible(page, "the supervisor's fieldwork page")


def test_d7_the_file_choices_sit_beside_their_labels(page, live_server, assert_accessible):
    from app.models.users import Role
    from app.platform.accounts import create_user
    from tests.support import TEST_PASSWORD

    with live_server.app.extensions["ankieta.db"].session() as session:
        create_user(
            session,
            "analityczka",
            Role.ANALYST,
            password=TEST_PASSWORD,
            must_change_password=False,
        )
    page.goto(f"{live_server.url}/login")
    page.locator("#username").fill("analityczka")
    page.locator("#password").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.locator("#password").press("Enter")
    page.goto(f"{live_server.url}/fieldwork/1/files")
    radios = page.locator('input[name="kind"]')
    assert radios.count() >= 3  # workbook, CSV, report (and the statistics packages' files)
    for index in range(radios.count()):
        radio = radios.nth(index)
        box = radio.bounding_box()
        label = page.locator(f'label[for="{radio.get_attribute("id")}"]').bounding_box()
        assert label["x"] > box["x"] + box["width"] - 1, (box, label)  # beside, not below
        assert label["y"] < box["y"] + box["height"], (box, label)
    assert_accessible(page, "the results files page")
