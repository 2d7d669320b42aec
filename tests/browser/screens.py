"""Helpers of the browser tests beyond the respondent's form: the interviewer's screens used
with the keyboard only (a morning's work through the queue), a staff login, and a watch on
what the browser reports (CSP violations, console and script errors).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from playwright.sync_api import expect

from app.domain.dates import WARSAW
from tests.support import TEST_PASSWORD, FakeClock
from tests.support.respondent import SCENARIOS

if TYPE_CHECKING:  # the conftest imports this module
    from tests.browser.conftest import LiveServer

SURVEY = "owes_polroczne"

# The scenario's answers (as in tests/cati/test_cati_screens.py), plus the questions it
# leaves to a generic value, so that every answer here is given on purpose.
ANSWERS: dict[str, Any] = {
    **SCENARIOS[SURVEY].answers,
    "a2": "1",
    "b2": "1",
    "b5": "7",
    "c2": ["biznesowe", "ksiegowe"],
    "c3": "2",
    "c4": "16",
    "d1": "Brak uwag.",
}

# The visible questions of an interview screen, in page order: name and type.
_VISIBLE_QUESTIONS = """() => Array.from(document.querySelectorAll('#questionnaire .item'))
    .filter(el => el.offsetParent !== null && !el.classList.contains('item-group')
                  && !el.classList.contains('item-note'))
    .map(el => ({name: el.id.slice('item-'.length),
                 type: Array.from(el.classList).find(c => c.startsWith('item-')).slice(5)}))"""

# 1-based position of an answer among the answers offered for its question (what a digit picks).
_CHOICE_NUMBER = """([name, code]) => {
    const offered = Array.from(document.querySelectorAll(`#item-${name} .choice input`))
        .filter(i => !i.disabled && i.offsetParent !== null
                     && i.value !== '__dk__' && i.value !== '__rf__');
    return offered.findIndex(i => i.value === code) + 1;
}"""


@dataclass
class CatiFieldwork:
    """A fieldwork of its own for one test: an interviewer and two institutions to phone."""

    id: int
    username: str
    first: str  # the institution handed out first (the queue goes by sample order)
    second: str


# --- the keyboard ------------------------------------------------------------------------


def _focused_matches(page, selector: str) -> bool:
    return page.evaluate(
        "s => document.activeElement !== null && document.activeElement.matches(s)", selector
    )


def tab_to(page, selector: str, *, backwards: bool = False, limit: int = 80) -> None:
    """Press Tab (or Shift+Tab) until the focus is on an element matching ``selector``."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        if _focused_matches(page, selector):
            return
        page.keyboard.press(key)
    focused = page.evaluate("() => document.activeElement && document.activeElement.outerHTML")
    raise AssertionError(f"{limit} x {key} never reached {selector} on {page.url}; at {focused}")


def press_and_load(page, key: str = "Enter") -> None:
    """Press a key that sends a form or follows a link, and wait for the new page."""
    with page.expect_navigation():
        page.keyboard.press(key)


def choose_with_arrows(page, selector: str, value: str, *, limit: int = 40) -> None:
    """Focus a select by Tab and move through its options with the arrow keys to ``value``."""
    tab_to(page, selector)
    for _ in range(limit):
        if page.locator(selector).input_value() == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"ArrowDown never reached {value!r} in {selector}")


def type_into(page, selector: str, text: str) -> None:
    """Tab to a text field, clear it and type."""
    tab_to(page, selector)
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(text)


# --- the interviewer's steps -------------------------------------------------------------


def log_in(page, live_server: LiveServer, username: str) -> None:
    page.goto(f"{live_server.url}/login")
    expect(page.locator("#username")).to_be_focused()  # autofocus
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(TEST_PASSWORD)
    press_and_load(page)
    assert page.url.rstrip("/") == live_server.url, f"not logged in: {_errors(page)}"


def open_cati(page) -> None:
    tab_to(page, 'nav a[href="/cati/"]')
    press_and_load(page)
    assert page.url.endswith("/cati/")


def next_case(page, fieldwork: CatiFieldwork) -> None:
    tab_to(page, f'form[action="/cati/{fieldwork.id}/next"] button')
    press_and_load(page)


def dial_first_number(page) -> None:
    tab_to(page, 'form[action$="/dial"] button:not([disabled])')
    press_and_load(page, "Space")


def record_outcome(page, code: str, **appointment: str) -> None:
    """Pick the outcome in the select, fill the appointment fields given, save (Enter)."""
    choose_with_arrows(page, "#outcome", code)
    for name in ("appointment_date", "appointment_from", "appointment_to", "appointment_with"):
        if name in appointment:
            type_into(page, f"#{name}", appointment[name])
    tab_to(page, 'form[action$="/outcome"] button[type=submit]')
    press_and_load(page)


def answer_screen(page, answers: dict[str, Any]) -> list[str]:
    """Answer every visible question of an interview screen by keyboard; the names answered.

    Questions that appear while answering (live skip logic) are answered too, in page order.
    """
    answered: list[str] = []
    while True:
        pending = [q for q in page.evaluate(_VISIBLE_QUESTIONS) if q["name"] not in answered]
        if not pending:
            return answered
        name, kind = pending[0]["name"], pending[0]["type"]
        # the roster of a list: "is there another entry?" no, unless the answers say
        value = answers.get(name, "no") if name == "_another" else answers[name]
        if kind in ("select_one", "select_multiple"):
            tab_to(page, f"#item-{name} .choice input")
            for code in [value] if isinstance(value, str) else value:
                number = page.evaluate(_CHOICE_NUMBER, [name, code])
                assert 1 <= number <= 9, f"{name}={code}: no digit picks it ({number})"
                page.keyboard.press(str(number))
                expect(page.locator(f"#q-{name}-{code}")).to_be_checked()
        else:
            type_into(page, f"#q-{name}", value)
        answered.append(name)


def go_on(page) -> None:
    """Enter: from a one-line field or a choice it sends the screen; a text area needs Tab."""
    if _focused_matches(page, "textarea"):
        tab_to(page, '#questionnaire button[value="next"]')
    press_and_load(page)


def _warsaw_date(clock: FakeClock) -> str:
    return clock().astimezone(WARSAW).strftime("%d.%m.%Y")


def _no_check(page, what: str) -> None:
    pass


def work_the_queue(
    page,
    live_server: LiveServer,
    clock: FakeClock,
    fieldwork: CatiFieldwork,
    check: Callable[[Any, str], None] = _no_check,
) -> list[str]:
    """An interviewer's morning, by keyboard only; ``check`` sees every kind of screen.

    Log in; the first institution does not answer; the second wants a call back at 11:00
    (the first try forgets the date); nothing is callable then; 45 minutes later the
    appointment is due and the interview is done, with one too-early Enter and one F4.
    Returns the ids of the interview screens answered.
    """
    today = _warsaw_date(clock)  # Monday 16.03.2026, 10:30 in Warsaw
    log_in(page, live_server, fieldwork.username)
    open_cati(page)
    check(page, "the CATI index")

    # 1. the first institution: nobody answers
    next_case(page, fieldwork)
    expect(page.get_by_role("heading", level=1)).to_have_text(fieldwork.first)
    expect(page.locator('a[href$="/interview"]')).to_have_count(0)  # no call yet
    check(page, "the case screen before the call")
    dial_first_number(page)
    expect(page.locator('a[href$="/interview"]')).to_be_visible()  # a call is open
    expect(page.locator('form[action$="/dial"] button').first).to_be_disabled()
    check(page, "the case screen during a call")
    record_outcome(page, "no_answer")
    assert page.url.endswith("/cati/")
    expect(page.locator(".flash-success")).to_contain_text("Brak odpowiedzi")

    # 2. the second: an appointment today 11:00-12:00, for anyone; the date forgotten first
    next_case(page, fieldwork)
    expect(page.get_by_role("heading", level=1)).to_have_text(fieldwork.second)
    dial_first_number(page)
    record_outcome(page, "appointment")
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("#appointment_date")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#outcome")).to_have_value("appointment")  # kept, not to pick again
    check(page, "the case screen with a validation error")
    record_outcome(
        page,
        "appointment",
        appointment_date=today,
        appointment_from="11:00",
        appointment_to="12:00",
        appointment_with="p. Nowak, dyrektor",
    )
    assert page.url.endswith("/cati/")
    expect(page.locator(".flash-success")).to_contain_text("Umówiony termin")

    # 3. nothing is callable now: the screen says so, and when (the appointment at 11:00)
    next_case(page, fieldwork)
    expect(page.locator("#nothing")).to_contain_text(f"{today} 11:00")
    check(page, "the CATI index with nothing callable")
    tab_to(page, 'main a[href="/cati/appointments"]')
    press_and_load(page)
    expect(page.locator("main table")).to_contain_text(fieldwork.second)
    check(page, "the appointments page")
    tab_to(page, 'nav a[href="/cati/"]', backwards=True)
    press_and_load(page)

    # 4. at 11:15 the appointment is due: "Next case" gives that institution
    clock.advance(minutes=45)
    next_case(page, fieldwork)
    expect(page.get_by_role("heading", level=1)).to_have_text(fieldwork.second)
    dial_first_number(page)
    tab_to(page, 'a[href$="/interview"]')
    press_and_load(page)
    assert page.url.endswith("/interview/a"), page.url
    check(page, "an interview screen with choice questions")
    press_and_load(page)  # Enter before any answer: the screen comes back with its errors
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#q-a3")).to_have_attribute("aria-invalid", "true")
    check(page, "an interview screen with an error summary")
    answers = {**ANSWERS, "d2": today}
    answer_screen(page, answers)
    go_on(page)
    assert page.url.endswith("/interview/b"), page.url
    check(page, "an interview screen with number questions")
    press_and_load(page, "F4")  # back: the answers of screen A are still there
    assert page.url.endswith("/interview/a"), page.url
    expect(page.locator("#q-a1-zachodni")).to_be_checked()
    expect(page.locator("#q-a4-rybnik")).to_be_checked()
    go_on(page)  # Enter, on the focused first answer
    screens = ["a"]
    for _ in range(20):
        if "/interview/" not in page.url:
            break
        screen = page.url.rsplit("/", 1)[-1].split("?", 1)[0]  # a list's entry: ?n=
        assert screen != screens[-1], f"stuck on {screen}: " + _errors(page)
        screens.append(screen)
        answer_screen(page, answers)
        go_on(page)
    assert page.url.endswith("/cati/"), f"the interview ended on {page.url}"
    expect(page.locator(".flash-success")).to_be_visible()
    check(page, "the CATI index after the interview")
    return screens


def _errors(page) -> str:
    summary = page.locator("#error-summary")
    return summary.inner_text() if summary.count() else "(no error summary)"


# Reports every violation of the document's policy to the test (the script is added by the
# browser driver, so the policy itself does not apply to it).
LISTEN_FOR_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolation(
        `${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} ` +
        `in ${e.documentURI} at ${e.sourceFile}:${e.lineNumber} ${e.sample}`);
});
"""


@dataclass
class Watch:
    """What the browser reported: policy violations, console errors, script errors."""

    violations: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def assert_clean(self, where: str) -> None:
        assert self.violations == [], f"CSP violations on {where}: {self.violations}"
        assert self.console == [], f"console errors on {where}: {self.console}"
        assert self.errors == [], f"script errors on {where}: {self.errors}"
