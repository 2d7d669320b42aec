"""Filling questionnaire pages in the browser the way a respondent does (by clicking)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# Answers that pass every constraint of the shipped questionnaires and reach most pages.
# A question not named here gets its first choice, "0" or a plain text (see ``_default``).
ANSWERS: dict[str, dict[str, Any]] = {
    "monitoring_cis_kis": {
        "a1": "cis",
        "a2": "ngo",
        "a3": "2025",
        "a4": "2010",
        "a5": "40",
        "b1_k": "5",
        "b1_m": "3",
        "b2": "2",
        "b3": "1",
        "d1": "1",
        "e1": ["spoldzielnia", "owes"],
        "e2": ["staze"],
        "e3": "1",
        "e4": "Partnerstwo na rzecz ekonomii społecznej w Żorach",
        "f1": "2",
        "f2": "1,5",
        "g1": "120000,50",
        "g2": "20000",
        "g3": "60000",
        "g4": "10000,25",
        "g5": "0",
        "h1": "Brak uwag.",
        "h2": "Kierownik CIS",
    },
    "ocena_koordynacji": {
        "a1": "gmina_powiat",
        "d1": "7",
        "d3": "Spotkania sieciujące.",
    },
    "jst_gmina": {
        "b1": "1",
        "b3": "2",
        "b4": "150000",
        "b5": "1",
        "c1": "1",
        "c2": "3",
        "c3": "45000,00",
        "d1": "1",
        "d2": "1",
        "e1": "1",
    },
    "owes_polroczne": {
        "a3": "2026",
        "b1": "4",
        "b2": "2",
        "b3": "10",
        "b4": "3",
        "c1": "120",
        "c3": "2",
        "c4": "16",
        "c5": "2",
        "c6": "2500,00",
        "pe_kompletna": "2",  # the list of enterprises (left empty) is not complete
    },
}

DATE = "16.03.2026"  # the live server's clock: Monday 16 March 2026

# The visible questions of the page: name, type and whether an answer is already given.
# A list (repeat) is no question: its entries are added only by the tests of lists, so a
# walk leaves an open list empty.
_VISIBLE_QUESTIONS = """() => Array.from(document.querySelectorAll('#questionnaire .item'))
    .filter(el => el.offsetParent !== null && !el.classList.contains('item-group')
                  && !el.classList.contains('item-note') && !el.classList.contains('item-repeat'))
    .map(el => ({name: el.id.slice('item-'.length),
                 type: Array.from(el.classList).find(c => c.startsWith('item-')).slice(5)}))"""


def answers_for(survey: str) -> dict[str, Any]:
    """The answers typed into ``survey``: the ones above, else (a questionnaire added later)
    a complete response drawn from its definition, as the respondent types it."""
    if survey in ANSWERS:
        return ANSWERS[survey]
    from app.domain.questionnaire.answers import Missing
    from tests.browser.walks import covering_walks, field_text

    typed: dict[str, Any] = {}
    for name, value in covering_walks(survey, "web")[0].answers.items():
        if (
            isinstance(value, Missing)
            or isinstance(value, tuple)
            and value
            and isinstance(value[0], dict)
        ):
            continue
        typed[name] = list(value) if isinstance(value, tuple) else field_text(value)
    return typed


def _default(kind: str) -> str:
    if kind in ("integer", "decimal"):
        return "0"
    if kind == "date":
        return DATE
    return "Odpowiedź testowa"


def fill_page(page, answers: dict[str, Any]) -> list[str]:
    """Answer every visible question on the page; returns the names answered.

    An answer can show further questions at once (live skip logic): they are answered too.
    """
    names: list[str] = []
    while True:
        pending = [q for q in page.evaluate(_VISIBLE_QUESTIONS) if q["name"] not in names]
        if not pending:
            return names
        for question in pending:
            name = question["name"]
            _answer(page, name, question["type"], answers.get(name))
            other = page.locator(f"#q-{name}_other")
            if f"{name}_other" in answers and other.count() and other.is_visible():
                other.fill(answers[f"{name}_other"])
            names.append(name)


def _answer(page, name: str, kind: str, value: Any) -> None:
    item = page.locator(f"#item-{name}")
    if kind == "select_one" and item.locator("select.dropdown").count():  # minimal
        dropdown = item.locator("select.dropdown")
        code = value or dropdown.locator("option:enabled:not([value=''])").first.get_attribute(
            "value"
        )
        dropdown.select_option(code)
    elif kind == "select_one":
        code = value or item.locator("input[type=radio]:enabled").first.get_attribute("value")
        page.check(f"#q-{name}-{code}")
    elif kind == "select_multiple":
        codes = value or [item.locator("input[type=checkbox]:enabled").first.get_attribute("value")]
        for code in codes:
            page.check(f"#q-{name}-{code}")
    elif kind == "matrix":
        for row in item.locator("tbody tr").all():
            row.locator("input[type=radio]").first.check()
    else:
        field = page.locator(f"#q-{name}")
        if field.is_editable():
            field.fill(value if value is not None else _default(kind))


def go_on(page) -> None:
    """Press the page's main button (Next, or Send on the last page) and wait for the answer."""
    with page.expect_navigation():
        page.locator("#questionnaire button.primary").click()


def start(page, link: str) -> None:
    """Open a personal link and press Start (Rozpocznij)."""
    page.goto(link)
    with page.expect_navigation():
        page.get_by_role("button", name="Rozpocznij").click()


def walk_questionnaire(
    page, link: str, survey: str, on_page: Callable[[Any], None] = lambda page: None
) -> list[str]:
    """Fill the whole questionnaire from its link to the thank-you page; the page ids seen.

    ``on_page`` is called on every questionnaire page before it is filled.
    """
    start(page, link)
    seen: list[str] = []
    for _ in range(50):
        match = re.search(r"/p/([^/?#]+)$", page.url)
        if match is None:
            break
        page_id = match.group(1)
        assert page_id not in seen[-1:], (
            f"{survey}: stuck on page {page_id}: " + page.locator("#error-summary").inner_text()
        )
        seen.append(page_id)
        on_page(page)
        fill_page(page, answers_for(survey))
        go_on(page)
    assert page.url.endswith("/done"), f"{survey}: ended on {page.url}"
    return seen
