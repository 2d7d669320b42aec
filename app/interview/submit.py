"""The one decision taken when a questionnaire page is posted, on the web or by phone.

read (the route) → validate → merge → save → stale form → navigate → submit: the route
passes the posted page in and turns the ``PageOutcome`` it gets back into its own HTTP
answer (a page, a redirect, a message). Nothing here knows the route or the mode's URLs.
``post_page`` stores the answers in the response (web and phone); the preview passes its
own store to ``decide``, which keeps nothing.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from app.domain.questionnaire.flow import ErrorText, Flow, Mode, PageResult, State
from app.domain.questionnaire.pages import Page
from app.interview.pages import PagePost
from app.interview.service import Interview, StaleForm, save_page, submit

log = logging.getLogger(__name__)

FORWARD = ("next", "submit")  # store the page as answered and go on (checked first)
BACK = "back"  # store what is valid and go to the previous page
LEAVE = ("later", "breakoff")  # store what is valid and stop for now (web, phone)
ACTIONS = (*FORWARD, BACK, *LEAVE)


class Step(enum.Enum):
    """What happened to a posted page."""

    NEXT = "next"  # saved; show ``page``, the next one
    BACK = "back"  # saved; show ``page``, the previous one (or the same at the start)
    SAVED = "saved"  # saved; the respondent or interviewer stops here for now
    DONE = "done"  # saved and submitted: the response is complete
    INVALID = "invalid"  # nothing saved: show the page again with ``errors`` and ``fields``
    STALE = "stale"  # nothing saved: someone saved the response after this form was shown
    INCOMPLETE = "incomplete"  # saved, but required answers are missing: show ``page``


@dataclass(frozen=True)
class PageOutcome:
    """A posted page's outcome: the step, the page to show or go to, and what the route
    needs to show it (the state after the post, its errors, the fields as posted)."""

    step: Step
    page: Page
    state: State | None = None  # None when STALE (the stored answers must be read again)
    errors: Mapping[str, ErrorText] = field(default_factory=dict)
    fields: MultiDict[str, str] = field(default_factory=MultiDict)

    @property
    def current(self) -> State:
        """The state after the post (every step but STALE has one)."""
        if self.state is None:
            raise LookupError("a stale page has no state: read the stored answers again")
        return self.state


class Answering(Protocol):
    """What the decision reads: the flow and the answers so far (an ``Interview``, or a
    preview's answers that travel with the page)."""

    @property
    def flow(self) -> Flow: ...

    @property
    def answers(self) -> dict[str, Any]: ...

    def state(self, answers: dict[str, Any] | None = None) -> State: ...

    def validate(self, page: Page, form: MultiDict[str, str], mode: Mode) -> PageResult: ...


class AnswerStore(Protocol):
    """Where a posted page's answers go: the response in the database, or nowhere (a
    preview). Both raise ``StaleForm`` when the form was shown before someone else saved."""

    def save(self, answers: dict[str, Any], *, revision: int, last_page: str | None) -> None: ...

    def submit(self, *, revision: int) -> bool: ...


@dataclass
class _StoredResponse:
    """The AnswerStore of a real interview: its response, saved by app.interview.service."""

    session: Session
    interview: Interview
    mode: Mode
    language: str
    now: datetime
    user_id: int | None

    def save(self, answers: dict[str, Any], *, revision: int, last_page: str | None) -> None:
        save_page(
            self.session,
            self.interview,
            answers,
            expected_revision=revision,
            last_page=last_page,
            now=self.now,
            mode=self.mode,
            user_id=self.user_id,
            language=self.language,
        )

    def submit(self, *, revision: int) -> bool:
        return submit(
            self.session, self.interview, expected_revision=revision, now=self.now, mode=self.mode
        )


def post_page(
    session: Session,
    interview: Interview,
    page: Page,
    post: PagePost,
    *,
    mode: Mode,
    language: str,
    now: datetime,
    user_id: int | None = None,
) -> PageOutcome:
    """A page posted on the web form or the phone screens: ``decide`` with the response as
    the store. ``user_id``: the interviewer (None: the respondent)."""
    store = _StoredResponse(session, interview, mode, language, now, user_id)
    return decide(interview, store, page, post, mode=mode, name=f"response {interview.response.id}")


def decide(
    interview: Answering,
    store: AnswerStore,
    page: Page,
    post: PagePost,
    *,
    mode: Mode,
    name: str,
) -> PageOutcome:
    """Validate the posted ``page``, store its answers and decide where to go.

    A forward action ("next", "submit") with an invalid answer stores nothing (INVALID);
    "back" and the leaving actions ("later", "breakoff") store what is valid. "submit", or
    "next" on the last page, submits (DONE, or INCOMPLETE when required answers are still
    missing). ``name`` says whose answers these are in the log ("response 12").
    """
    if post.action not in ACTIONS:
        raise ValueError(f"unknown page action {post.action!r}")
    forward = post.action in FORWARD
    result = interview.validate(page, post.fields, mode)
    if result.unknown_fields:
        log.warning(
            "%s page %s: fields not on the page ignored: %s",
            name,
            page.id,
            ", ".join(sorted(result.unknown_fields))[:500],
        )
    merged = result.apply(interview.answers)
    if forward and not result.ok:
        return PageOutcome(Step.INVALID, page, interview.state(merged), result.errors, post.fields)
    try:
        store.save(merged, revision=post.revision, last_page=page.id if forward else None)
    except StaleForm:
        return PageOutcome(Step.STALE, page, None, {}, post.fields)
    flow = interview.flow
    state = interview.state()
    if post.action == BACK:
        target = flow.previous_page(state, mode, page.id) or page
        return PageOutcome(Step.BACK, target, state)
    if post.action in LEAVE:
        return PageOutcome(Step.SAVED, page, state, result.errors, post.fields)
    following = flow.next_page(state, mode, page.id)
    if following is not None and post.action == "next":
        return PageOutcome(Step.NEXT, following, state)
    try:
        complete = store.submit(revision=post.revision + 1)
    except StaleForm:  # saved from elsewhere between this save and the submit
        return PageOutcome(Step.STALE, page, None, {}, post.fields)
    if complete:
        return PageOutcome(Step.DONE, page, state)
    return PageOutcome(Step.INCOMPLETE, flow.resume_page(state, mode, None) or page, state)
