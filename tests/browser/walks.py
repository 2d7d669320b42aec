"""Walks through a questionnaire that, together, open every conditional question.

Nothing here is written per questionnaire: the answers come from the definition itself.
``app.domain.questionnaire.synthetic.generate_answers`` plays respondents (or interviewers)
with different
seeds; each result is a complete response the server accepts page by page. Open lists
(repeats) are left empty here (``open_lists=(0, 0)``): their entries are typed by
tests/browser/test_repeats.py on the web and test_roster.py by phone; a list's page still
comes, and by phone its roster is answered "no other entry". From those, a
few are picked (greedily) so that every conditional variable — a question under a
``relevant`` (its own or an enclosing group's), a matrix row of one, an "other" text — is
relevant in at least one of them. ``fill_page`` then types such a response into the real
page in the browser and checks that the page shows exactly the questions the server's flow
says are relevant: the live skip logic of form.js must agree with the server.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from app.domain.questionnaire.answers import DONT_KNOW, REFUSED, Missing, Variable, VariableKind
from app.domain.questionnaire.flow import Flow, Mode
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.model import Item, ItemType
from app.domain.questionnaire.synthetic import generate_answers
from tests.support import SHIPPED, TEST_PASSWORD

TODAY = date(2026, 3, 16)  # the live server's clock (Monday 16 March 2026)
SAMPLE = {"name": "Jednostka testowa", "entity_type": "CIS", "subregion": "południowy"}
SEEDS = 200  # synthetic responses tried per questionnaire and mode
ANOTHER = "_another"  # the roster's "is there another entry?" (app.interview.roster)


@dataclass
class Walk:
    """One response to type in, and which conditional variables it opens."""

    answers: dict[str, Any]
    opens: frozenset[str]


@cache
def flow_of(survey: str) -> Flow:
    loaded = load_definition(SHIPPED / f"{survey}.yaml")
    assert loaded.ok, [str(p) for p in loaded.problems]
    return Flow(loaded.questionnaire)


def _conditional(item: Item) -> bool:
    while item is not None:
        if item.relevant is not None:
            return True
        item = item.parent
    return False


def conditional_variables(flow: Flow) -> frozenset[str]:
    """Variables that a respondent sees only for some answers."""
    return frozenset(
        name
        for name, var in flow.variables.items()
        if var.kind is not VariableKind.CALCULATION
        and (var.kind is VariableKind.OTHER or _conditional(var.item))
    )


@cache
def covering_walks(survey: str, mode: Mode) -> tuple[Walk, ...]:
    """A few complete responses that, together, open every conditional variable."""
    flow = flow_of(survey)
    wanted = conditional_variables(flow)
    candidates: list[Walk] = []
    for seed in range(SEEDS):
        result = generate_answers(
            flow,
            sample=SAMPLE,
            today=TODAY,
            rng=random.Random(seed),
            mode=mode,
            open_lists=(0, 0),
        )
        if not result.complete:
            continue
        state = flow.state(result.answers, sample=SAMPLE, today=TODAY)
        opens = frozenset(name for name in wanted if state.is_relevant_variable(name))
        candidates.append(Walk(result.answers, opens))
    chosen: list[Walk] = []
    left = set(wanted)
    while left:
        best = max(candidates, key=lambda walk: len(walk.opens & left), default=None)
        assert best is not None and best.opens & left, (
            f"{survey} ({mode}): no synthetic response opens {sorted(left)}"
        )
        chosen.append(best)
        left -= best.opens
    return tuple(chosen) or (candidates[0],)


def field_text(value: Any) -> str:
    """A stored value as a Polish respondent types it."""
    if isinstance(value, Decimal):
        return str(value).replace(".", ",")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value)


# The questions the page shows now (visible, not groups or notes), in page order.
_VISIBLE_QUESTIONS = """() => Array.from(document.querySelectorAll('#questionnaire .item'))
    .filter(el => el.offsetParent !== null && !el.classList.contains('item-group')
                  && !el.classList.contains('item-note') && !el.classList.contains('item-repeat'))
    .map(el => el.id.slice('item-'.length))"""


def _type_variable(page, var: Variable, value: Any) -> None:
    name = var.name
    dropdown = page.locator(f"select#q-{name}.dropdown")  # XLSForm's minimal
    if dropdown.count():
        missing = {DONT_KNOW: "__dk__", REFUSED: "__rf__"}
        dropdown.select_option(missing[value] if isinstance(value, Missing) else str(value))
    elif isinstance(value, Missing):
        page.check(f"#q-{name}-{'dk' if value is DONT_KNOW else 'rf'}")
    elif var.value_type in (ItemType.SELECT_ONE, ItemType.SELECT_MULTIPLE):
        for code in value if isinstance(value, tuple) else (value,):
            page.check(f"#q-{name}-{code}")
    else:
        page.locator(f"#q-{name}").fill(field_text(value))


def fill_page(page, survey: str, mode: Mode, page_id: str, answers: dict[str, Any]) -> None:
    """Type the page's part of ``answers``; the page must show just the relevant questions.

    Questions are answered in page order, each as soon as it shows (live skip logic);
    at the end the visible questions must be those the flow finds relevant for ``answers``.
    """
    flow = flow_of(survey)
    state = flow.state(answers, sample=SAMPLE, today=TODAY)
    on_page = [item for top in flow.page(mode, page_id).items for item in top.scope()]
    expected = list(
        dict.fromkeys(
            item.name for item in on_page if item.type.is_question and state.is_relevant(item.name)
        )
    )
    done: list[str] = []
    while True:
        shown = page.evaluate(_VISIBLE_QUESTIONS)
        pending = [name for name in shown if name not in done]
        if not pending:
            break
        name = pending[0]
        if name == ANOTHER:  # the roster of an (empty) list: no entry
            page.check("#q-_another-no")
            done.append(name)
            continue
        assert name in expected, (
            f"{survey} ({mode}), page {page_id}: {name} is shown but not relevant for {answers}"
        )
        for var in flow.variables_of(flow.questionnaire.item(name)):
            if var.name in answers and state.is_relevant_variable(var.name):
                _type_variable(page, var, answers[var.name])
        done.append(name)
    done = [name for name in done if name != ANOTHER]
    assert done == expected, (
        f"{survey} ({mode}), page {page_id}: shown {done}, relevant {expected}"
        f" for the answers {answers}"
    )


def start_interview(page, url: str, fieldwork_id: int, username: str) -> None:
    """Log in as an interviewer, take the fieldwork's next case, dial, begin the interview."""
    page.goto(f"{url}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.locator("#password").press("Enter")
    page.goto(f"{url}/cati/")
    with page.expect_navigation():
        page.locator(f'form[action="/cati/{fieldwork_id}/next"] button').click()
    with page.expect_navigation():
        page.locator('form[action$="/dial"] button:not([disabled])').first.click()
    with page.expect_navigation():
        page.locator('a[href$="/interview"]').click()
