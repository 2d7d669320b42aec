"""Every shipped questionnaire, by phone and on the web, with every conditional question opened.

The answers are not written per questionnaire: ``tests/browser/walks.py`` draws complete
responses from the definition (``app.domain.questionnaire.synthetic``) and keeps a few that,
together,
make every conditional question relevant. Each is typed into the real pages; on every page
the browser must show exactly the questions the server's flow finds relevant (form.js's
live skip logic agrees with the server), the server must accept every page, and the pages
must come in the order the flow gives.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.domain.questionnaire.flow import PHONE, WEB, Flow
from app.models.fieldwork import Response, SampleUnit
from tests.browser.conftest import SHIPPED_SURVEYS, LiveServer
from tests.browser.forms import start
from tests.browser.walks import (
    SAMPLE,
    TODAY,
    covering_walks,
    fill_page,
    flow_of,
    start_interview,
)


def _expected_pages(flow: Flow, mode, answers) -> list[str]:
    state = flow.state(answers, sample=SAMPLE, today=TODAY)
    return [p.id for p in flow.pages(mode) if flow.is_shown(p, state, mode)]


def _errors(page) -> str:
    summary = page.locator("#error-summary")
    return summary.inner_text() if summary.count() else "(no error summary)"


def _walk_pages(page, survey: str, mode, answers, pattern: str, end: str) -> list[str]:
    seen: list[str] = []
    progress: list[tuple[str, str]] = []  # (max, value) of the progress bar on each page
    for _ in range(200):
        match = re.search(pattern, page.url)
        if match is None:
            break
        page_id = match.group(1)
        assert page_id not in seen[-1:], f"{survey} ({mode}): stuck on {page_id}: {_errors(page)}"
        seen.append(page_id)
        bar = page.locator("#progress")
        progress.append((bar.get_attribute("max"), bar.get_attribute("value")))
        fill_page(page, survey, mode, page_id, answers)
        with page.expect_navigation():
            page.locator("#questionnaire button.primary").click()
    assert re.search(end, page.url), f"{survey} ({mode}): ended on {page.url}: {_errors(page)}"
    # D12: the progress only moves forward, against a total that never changes
    assert len({total for total, _ in progress}) == 1, f"{survey} ({mode}): {progress}"
    values = [int(value) for _, value in progress]
    assert values == sorted(values) and len(set(values)) == len(values), progress
    return seen


def _stored(live_server: LiveServer, sample_unit_id: int) -> Response:
    with live_server.app.extensions["ankieta.db"].session() as session:
        response = session.scalar(select(Response).where(Response.sample_unit_id == sample_unit_id))
        session.expunge(response)
        return response


@pytest.mark.parametrize("survey", SHIPPED_SURVEYS)
def test_web_walks_open_every_conditional_question(page, live_server, new_link, survey):
    flow = flow_of(survey)
    for walk in covering_walks(survey, WEB):
        link = new_link(survey)
        start(page, link)
        seen = _walk_pages(page, survey, WEB, walk.answers, r"/p/([^/?#]+)$", r"/done$")
        assert seen == _expected_pages(flow, WEB, walk.answers)
        with live_server.app.extensions["ankieta.db"].session() as session:
            unit = session.scalar(
                select(SampleUnit).where(SampleUnit.token == link.rsplit("/", 1)[-1])
            )
            response = session.scalar(select(Response).where(Response.sample_unit_id == unit.id))
            assert response.status == "complete"


@pytest.mark.parametrize("survey", SHIPPED_SURVEYS)
def test_phone_walks_open_every_conditional_question(page, live_server, phone_case, survey):
    flow = flow_of(survey)
    for walk in covering_walks(survey, PHONE):
        fieldwork_id, username = phone_case(survey)
        page.context.clear_cookies()
        start_interview(page, live_server.url, fieldwork_id, username)
        seen = _walk_pages(
            page, survey, PHONE, walk.answers, r"/interview/([^/?#]+)(?:\?n=\d+)?$", r"/cati/$"
        )
        assert seen == _expected_pages(flow, PHONE, walk.answers)
        expect(page.locator(".flash-success")).to_be_visible()
        with live_server.app.extensions["ankieta.db"].session() as session:
            unit = session.scalar(select(SampleUnit).where(SampleUnit.fieldwork_id == fieldwork_id))
            response = session.scalar(select(Response).where(Response.sample_unit_id == unit.id))
            assert response.status == "complete" and response.via_phone
