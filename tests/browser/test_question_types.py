"""The new question types in a real browser: a time, a date and time, a range and a
geopoint filled in, the geopoint from the browser's (mocked) location after the
respondent allows it; each page passes axe-core (tests/support/question_types.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.forms import start
from tests.browser.screens import press_and_load
from tests.browser.walks import start_interview

DEFINITION = Path(__file__).resolve().parents[1] / "support" / "question_types.yaml"
KATOWICE = {"latitude": 50.2649, "longitude": 19.0238, "accuracy": 12}


@pytest.fixture
def types_link(fresh_link) -> str:
    """A fresh personal link of a fieldwork of the question-types questionnaire."""
    return fresh_link(DEFINITION, "typy_pytan", "Typy pytań")[0]


def _go_on(page) -> None:
    with page.expect_navigation():
        page.locator("button[name=action][value=next]").click()


def test_time_datetime_range_and_geopoint_from_the_browsers_location(
    browser, live_server, types_link, assert_accessible
):
    context = browser.new_context(
        locale="pl-PL",
        viewport={"width": 1280, "height": 900},
        geolocation=KATOWICE,
        permissions=["geolocation"],
    )
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        start(page, types_link)

        # a time: typed, and a wrong one says what to type, next to the field
        assert_accessible(page, "a time question")
        page.fill("#q-godzina_otwarcia", "25:00")
        with page.expect_navigation():
            page.locator("button[name=action][value=next]").click()
        assert "Podaj godzinę w formacie HH:MM" in page.inner_text("#e-godzina_otwarcia")
        assert page.get_attribute("#q-godzina_otwarcia", "aria-invalid") == "true"
        assert_accessible(page, "a time question with its error")
        page.fill("#q-godzina_otwarcia", "8:30")
        _go_on(page)

        assert_accessible(page, "a date and time question")
        page.fill("#q-spotkanie", "15.01.2026 10:30")
        _go_on(page)

        assert_accessible(page, "a range question")
        assert page.get_attribute("#q-ocena", "type") == "number"
        assert (page.get_attribute("#q-ocena", "min"), page.get_attribute("#q-ocena", "max")) == (
            "0",
            "10",
        )
        page.fill("#q-ocena", "6")
        _go_on(page)
        page.check("#q-zgoda")
        _go_on(page)
        _go_on(page)  # the barcode may stay empty

        # the geopoint: the button shows with script and fills the fields once allowed
        button = page.locator("button[data-locate=siedziba]")
        assert button.is_visible()
        assert_accessible(page, "a geopoint question")
        button.click()
        # (waited for from the test's side: a wait_for_function whose first look finds
        # the field still empty polls by eval in the page, which the CSP refuses)
        expect(page.locator("#q-siedziba")).not_to_have_value("")
        assert page.input_value("#q-siedziba") == "50.264900"
        assert page.input_value("#q-siedziba-lon") == "19.023800"
        assert page.input_value("#q-siedziba-acc") == "12.0"
        assert page.inner_text(".geo-status") == "Lokalizacja została wpisana."
        assert_accessible(page, "a geopoint filled from the location")
        _go_on(page)

        # a rank without script's help: a number per choice
        assert_accessible(page, "a rank question")
        page.select_option("#q-priorytety-szkolenia", "2:szkolenia")
        page.select_option("#q-priorytety-doradztwo", "1:doradztwo")
        page.select_option("#q-priorytety-promocja", "3:promocja")
        _go_on(page)
        assert_accessible(page, "a geotrace question")
        _go_on(page)
        assert_accessible(page, "a geoshape question")
        with page.expect_navigation():
            page.locator("button[name=action][value=submit]").click()
        assert "/done" in page.url
    finally:
        context.close()

    from app.models.fieldwork import Response, SampleUnit

    token = types_link.rsplit("/", 1)[-1]
    with live_server.app.extensions["ankieta.db"].session() as session:
        answers = session.scalar(
            select(Response.answers)
            .join(SampleUnit, SampleUnit.id == Response.sample_unit_id)
            .where(SampleUnit.token == token)
        )
    assert answers["godzina_otwarcia"] == "08:30"
    assert answers["spotkanie"] == "2026-01-15T10:30+01:00"
    assert answers["ocena"] == 6
    assert answers["siedziba"].startswith("50.264900 19.023800")
    assert answers["priorytety"] == ["doradztwo", "szkolenia", "promocja"]


def test_an_interviewer_enters_the_new_types_by_keyboard(
    page, live_server, types_link, phone_case, assert_accessible
):
    """Digits for a time, F2 on a geopoint clears all four fields, a digit ticks the
    acknowledge, ranks picked by typing in each select; Enter sends each screen."""
    fieldwork_id, username = phone_case("typy_pytan")  # (types_link loaded the survey)
    start_interview(page, live_server.url, fieldwork_id, username)

    expect(page.locator("#q-godzina_otwarcia")).to_be_focused()
    assert_accessible(page, "a time on the interviewer's screen")
    page.keyboard.type("0745")
    press_and_load(page)
    page.keyboard.type("2.3.2026 915")
    press_and_load(page)
    page.keyboard.type("8")
    press_and_load(page)
    page.keyboard.press("1")  # the acknowledge's only box
    expect(page.locator("#q-zgoda")).to_be_checked()
    page.keyboard.press("F2")  # don't know after all: the OK box goes
    expect(page.locator("#q-zgoda")).not_to_be_checked()
    expect(page.locator("#q-zgoda-dk")).to_be_checked()
    press_and_load(page)
    page.keyboard.press("F3")  # the barcode: refused
    press_and_load(page)

    assert_accessible(page, "a geopoint on the interviewer's screen")
    page.keyboard.type("50,1")
    page.keyboard.press("Tab")
    page.keyboard.type("19,2")
    page.keyboard.press("F2")  # don't know after all: the typed parts go
    expect(page.locator("#q-siedziba-dk")).to_be_checked()
    assert page.input_value("#q-siedziba") == "" and page.input_value("#q-siedziba-lon") == ""
    press_and_load(page)

    assert_accessible(page, "a rank on the interviewer's screen")
    for code, rank in (("szkolenia", "3"), ("doradztwo", "1"), ("promocja", "2")):
        page.focus(f"#q-priorytety-{code}")
        page.keyboard.type(rank)
    press_and_load(page)
    page.keyboard.press("F2")
    press_and_load(page)
    page.keyboard.press("F2")
    press_and_load(page)
    assert page.url.endswith("/cati/"), page.url

    from app.models.fieldwork import Response, SampleUnit

    with live_server.app.extensions["ankieta.db"].session() as session:
        answers = session.scalar(
            select(Response.answers)
            .join(SampleUnit, SampleUnit.id == Response.sample_unit_id)
            .where(SampleUnit.fieldwork_id == fieldwork_id)
        )
    assert answers == {
        "godzina_otwarcia": "07:45",
        "spotkanie": "2026-03-02T09:15+01:00",
        "ocena": 8,
        "zgoda": {"missing": "dont_know"},
        "kod": {"missing": "refused"},
        "siedziba": {"missing": "dont_know"},
        "priorytety": ["doradztwo", "promocja", "szkolenia"],
        "trasa": {"missing": "dont_know"},
        "teren": {"missing": "dont_know"},
    }
