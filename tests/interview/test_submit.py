"""The one page-submit decision (app.interview.submit.post_page): each of its outcomes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from app.domain.questionnaire.flow import Mode
from app.interview.pages import PagePost
from app.interview.service import Interview, start_unit_response
from app.interview.submit import PageOutcome, Step, post_page
from app.models.fieldwork import Response, SampleUnit
from app.platform.signals import response_completed
from tests.support.small_survey import load_small, small_fieldwork

# The small survey: on the web one page "a" (q1 integer, q2 yes/no, both required; q3 text);
# by phone one question a screen: "q1", "q2", "q3".


@pytest.fixture
def session(app: Flask, clock) -> Iterator[Session]:
    load_small(app)
    small_fieldwork(app, clock)
    with app.extensions["ankieta.db"].session() as session:
        yield session


@pytest.fixture
def interview(session: Session, clock) -> Interview:
    unit = session.scalar(select(SampleUnit).where(SampleUnit.external_id == "M-01"))
    response = start_unit_response(session, unit, clock())
    session.flush()
    return Interview.of(response, clock())


def _post(
    session: Session,
    interview: Interview,
    page_id: str,
    action: str,
    *,
    mode: Mode = "phone",
    revision: int | None = None,
    now,
    **fields: str,
) -> PageOutcome:
    page = interview.flow.page(mode, page_id)
    shown_at = interview.response.revision if revision is None else revision
    post = PagePost(action, shown_at, MultiDict(fields))
    return post_page(session, interview, page, post, mode=mode, language="pl", now=now)


def _stored(session: Session, interview: Interview) -> Response:
    session.expire_all()
    return session.get(Response, interview.response.id)


def test_a_valid_page_is_saved_and_the_next_page_follows(session, interview, clock):
    outcome = _post(session, interview, "q1", "next", q1="12", now=clock())
    assert outcome.step is Step.NEXT and outcome.page.id == "q2"
    stored = _stored(session, interview)
    assert stored.answers == {"q1": 12} and stored.last_page == "q1" and stored.revision == 1


def test_an_invalid_answer_saves_nothing_and_comes_back_with_its_error(session, interview, clock):
    outcome = _post(session, interview, "q1", "next", q1="dwanaście", now=clock())
    assert outcome.step is Step.INVALID and outcome.page.id == "q1"
    assert set(outcome.errors) == {"q1"}
    assert outcome.fields.getlist("q1") == ["dwanaście"]  # shown again as typed
    assert _stored(session, interview).revision == 0


def test_back_saves_what_is_valid_and_goes_to_the_previous_page(session, interview, clock):
    _post(session, interview, "q1", "next", q1="12", now=clock())
    outcome = _post(session, interview, "q2", "back", q2="1", now=clock())
    assert outcome.step is Step.BACK and outcome.page.id == "q1"
    stored = _stored(session, interview)
    assert stored.answers == {"q1": 12, "q2": "1"} and stored.last_page == "q1"


def test_breaking_off_saves_what_is_valid_and_says_what_was_not_kept(session, interview, clock):
    outcome = _post(session, interview, "q1", "breakoff", q1="dwanaście", now=clock())
    assert outcome.step is Step.SAVED and outcome.page.id == "q1"
    assert set(outcome.errors) == {"q1"}
    stored = _stored(session, interview)
    assert stored.revision == 1 and stored.answers == {} and stored.last_page is None


def test_a_form_older_than_the_stored_answers_is_stale_and_saves_nothing(session, interview, clock):
    _post(session, interview, "q1", "next", q1="12", now=clock())
    outcome = _post(session, interview, "q1", "next", revision=0, q1="13", now=clock())
    assert outcome.step is Step.STALE and outcome.page.id == "q1" and outcome.state is None
    assert _stored(session, interview).answers == {"q1": 12}


def test_the_last_page_with_a_required_answer_missing_is_not_submitted(session, interview, clock):
    _post(session, interview, "q1", "next", q1="12", now=clock())
    outcome = _post(session, interview, "q3", "next", q3="", now=clock())
    # back to where the form resumes from the start (Flow.resume_page): the first page
    assert outcome.step is Step.INCOMPLETE and outcome.page.id == "q1"
    assert _stored(session, interview).status == "in_progress"


def test_sending_a_complete_page_submits_the_response_once(session, interview, clock):
    heard = []

    def receiver(response, **extra):
        heard.append((response.id, extra["mode"]))

    with response_completed.connected_to(receiver):
        outcome = _post(
            session, interview, "a", "submit", mode="web", q1="12", q2="2", q3="", now=clock()
        )
    assert outcome.step is Step.DONE
    stored = _stored(session, interview)
    assert stored.status == "complete" and stored.via_web and stored.revision == 2
    assert heard == [(stored.id, "web")]


def test_an_unknown_action_is_refused(session, interview, clock):
    with pytest.raises(ValueError):
        _post(session, interview, "q1", "jump", q1="12", now=clock())
