"""The Content-Security-Policy in a real browser: the respondent's form and the interviewer's
screens run with no violation reported and no console error, and their scripts (live skip
logic, keyboard shortcuts) still work under the policy (app/platform/headers.py).
"""

from __future__ import annotations

from playwright.sync_api import expect

from app.platform.headers import CONTENT_SECURITY_POLICY
from tests.browser.forms import ANSWERS, fill_page, go_on, walk_questionnaire
from tests.browser.screens import work_the_queue

CIS = "Centrum Integracji Społecznej (CIS)"
KIS = "Klub Integracji Społecznej (KIS)"


def test_a_respondent_walk_reports_no_violation_and_skip_logic_still_works(page, new_link, watch):
    link = new_link("monitoring_cis_kis")
    response = page.goto(link)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["referrer-policy"] == "no-referrer"
    with page.expect_navigation():
        page.get_by_role("button", name="Rozpocznij").click()
    assert page.url.endswith("/p/a")
    # live skip logic (app/static/js/form.js) under the policy: no page load in between
    page.evaluate("() => { window.__sameDocument = true; }")
    places = page.locator("#item-a5")
    expect(places).to_be_hidden()
    page.get_by_label(CIS, exact=True).check()
    expect(places).to_be_visible()
    page.get_by_label(KIS, exact=True).check()
    expect(places).to_be_hidden()
    expect(page.locator("#q-a5")).to_be_disabled()
    assert page.evaluate("() => window.__sameDocument === true")
    watch.assert_clean("the first page")
    # an error summary, then the rest of the questionnaire to the thank-you page
    go_on(page)
    expect(page.locator("#error-summary")).to_be_visible()
    fill_page(page, ANSWERS["monitoring_cis_kis"])
    go_on(page)
    watch.assert_clean("the error summary")


def test_every_shipped_questionnaire_walks_without_a_violation(page, new_link, watch):
    for survey in ANSWERS:
        seen = walk_questionnaire(page, new_link(survey), survey)
        assert len(seen) >= 3
        expect(page.locator("main")).to_be_visible()
        watch.assert_clean(f"the walk of {survey}")


def test_the_interviewer_screens_report_no_violation_and_the_keys_still_work(
    page, live_server, live_clock, make_cati_fieldwork, watch
):
    screens: list[str] = []

    def check(page, what: str) -> None:
        assert page.evaluate("() => document.querySelectorAll('[style]').length") == 0
        watch.assert_clean(what)
        screens.append(what)

    # work_the_queue drives the screens with the keyboard only: digits pick answers and
    # Enter sends (app/static/js/cati.js) - it fails if the scripts were blocked.
    work_the_queue(page, live_server, live_clock, make_cati_fieldwork(), check)
    assert "an interview screen with choice questions" in screens
    assert len(screens) >= 8
    watch.assert_clean("the end of the interviewer's work")


def test_the_watch_sees_a_violation(page, live_server, watch):
    """The listener works: an inline script and a style attribute are blocked and reported."""
    page.goto(f"{live_server.url}/login")
    page.evaluate(
        """() => {
            const script = document.createElement('script');
            script.textContent = 'window.__ran = true;';
            document.body.appendChild(script);
            document.body.setAttribute('style', 'color: red');
        }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.__ran === undefined")  # the inline script did not run
    directives = " ".join(watch.violations)
    assert "script-src" in directives and "style-src" in directives, watch.violations
    assert any("Refused" in line or "Content Security Policy" in line for line in watch.console)
