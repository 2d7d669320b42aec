"""The respondent's side: resolving a link, resuming, saving a page, submitting once."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Update, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager

from app.cati.services import mark_completed_online
from app.domain.dates import local_date
from app.domain.fieldwork.links import new_token
from app.domain.questionnaire.flow import (
    Flow,
    Mode,
    Page,
    PageResult,
    State,
    answers_from_json,
    answers_to_json,
)
from app.domain.questionnaire.model import Questionnaire
from app.models.fieldwork import (
    Fieldwork,
    FieldworkState,
    Response,
    ResponseChange,
    ResponseStatus,
    SampleUnit,
)
from app.models.surveys import flow_of
from app.platform.audit import RESPONDENT, record_by_id

log = logging.getLogger(__name__)

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}\Z")


class StaleForm(Exception):
    """The page was saved from elsewhere (another tab or device) after this form was shown."""


class NotAccepting(Exception):
    """The response cannot take answers: its fieldwork is not open, or it is complete."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "closed", "draft" or "complete"


@dataclass
class Link:
    """What a personal (or open-survey) link leads to."""

    token: str
    fieldwork: Fieldwork
    unit: SampleUnit | None
    response: Response | None
    # Whether the response was ever re-opened by an analyst (a save then logs corrections);
    # looked up with the link, so that saving a page needs no query of its own for it.
    reopened: bool = False


# Resolving the personal link runs on every respondent request, so its statements are
# built once: a statement object memoizes its SQL cache key, and each request only binds
# the token. The fieldwork and its version come in the same row through plain joins
# (contains_eager: no aliased eager-load joins to build); the version's source is a
# deferred column and is not read. Nothing is cached across requests but the statement.
_REOPENED = (
    select(ResponseChange.id)
    .where(ResponseChange.response_id == Response.id, ResponseChange.action == "reopened")
    .exists()
    .label("reopened")
)
_BY_PERSONAL_TOKEN = (
    select(SampleUnit, Response, _REOPENED)
    .join(SampleUnit.fieldwork)
    .join(Fieldwork.survey_version)
    .outerjoin(Response, Response.sample_unit_id == SampleUnit.id)
    .where(SampleUnit.token == bindparam("token"))
    .options(contains_eager(SampleUnit.fieldwork).contains_eager(Fieldwork.survey_version))
)
_BY_OPEN_TOKEN = (
    select(Response, _REOPENED)
    .join(Response.fieldwork)
    .join(Fieldwork.survey_version)
    .where(Response.open_token == bindparam("token"))
    .options(contains_eager(Response.fieldwork).contains_eager(Fieldwork.survey_version))
)


def resolve(session: Session, token: str) -> Link | None:
    """The sampled institution or open-link response behind ``token`` (None if unknown)."""
    if not TOKEN_PATTERN.match(token):
        return None
    row = session.execute(_BY_PERSONAL_TOKEN, {"token": token}).first()
    if row is not None:
        unit, response, reopened = row
        return Link(token, unit.fieldwork, unit, response, bool(reopened))
    row = session.execute(_BY_OPEN_TOKEN, {"token": token}).first()
    if row is not None:
        response, reopened = row
        return Link(token, response.fieldwork, None, response, bool(reopened))
    return None


def open_survey(session: Session, token: str) -> Fieldwork | None:
    """The fieldwork whose open (anonymous) link is ``token``."""
    if not TOKEN_PATTERN.match(token):
        return None
    return session.scalar(select(Fieldwork).where(Fieldwork.open_link_token == token))


def check_accepting(fieldwork: Fieldwork, response: Response | None) -> None:
    """NotAccepting unless answers may be saved now (a test response: also in a draft)."""
    if response is not None and response.is_complete:
        raise NotAccepting("complete")
    if response is not None and response.is_test and fieldwork.state != FieldworkState.CLOSED:
        return
    if not fieldwork.is_open:
        raise NotAccepting(fieldwork.state)


def tested_fieldwork(session: Session, token: str) -> Fieldwork | None:
    """The fieldwork whose test link is ``token``."""
    if not TOKEN_PATTERN.match(token):
        return None
    return session.scalar(select(Fieldwork).where(Fieldwork.test_link_token == token))


def start_test_response(session: Session, fieldwork: Fieldwork, now: datetime) -> Response:
    """A new test response (never counted or exported unless asked), with its own token."""
    response = start_open_response(session, fieldwork, now)
    response.is_test = True
    session.flush()
    return response


def start_response(session: Session, link: Link, now: datetime, *, mode: Mode = "web") -> Response:
    """The link's response, created on first use; two simultaneous first uses get one."""
    if link.response is not None:
        return link.response
    assert link.unit is not None  # noqa: S101 - open-link responses are created with their token
    response = Response(
        fieldwork_id=link.fieldwork.id,
        sample_unit_id=link.unit.id,
        survey_version_id=link.fieldwork.survey_version_id,
        started_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(response)
    except IntegrityError:  # the other tab created it a moment ago
        response = session.scalar(select(Response).where(Response.sample_unit_id == link.unit.id))
        assert response is not None  # noqa: S101 - the unique constraint says it exists
    link.response = response
    return response


def start_open_response(session: Session, fieldwork: Fieldwork, now: datetime) -> Response:
    """A new anonymous response of an open-link fieldwork, with its own resumable token."""
    response = Response(
        fieldwork_id=fieldwork.id,
        open_token=new_token(),
        survey_version_id=fieldwork.survey_version_id,
        started_at=now,
        updated_at=now,
    )
    session.add(response)
    session.flush()
    return response


@dataclass
class Interview:
    """A response together with its questionnaire and flow, for showing and saving pages."""

    response: Response
    questionnaire: Questionnaire
    flow: Flow
    sample: dict[str, Any]
    today: date
    answers: dict[str, Any]
    # Whether the response was ever re-opened (Link.reopened); None: not known, and a save
    # looks it up.
    reopened: bool | None = None

    @classmethod
    def of(cls, response: Response, now: datetime, *, reopened: bool | None = None) -> Interview:
        flow = flow_of(response.survey_version)
        unit = response.sample_unit
        return cls(
            response=response,
            questionnaire=flow.questionnaire,
            flow=flow,
            sample=unit.sample_variables() if unit else {},
            today=local_date(now),
            answers=answers_from_json(flow.questionnaire, response.answers or {}, flow.variables),
            reopened=reopened,
        )

    def state(self, answers: dict[str, Any] | None = None) -> State:
        return self.flow.state(
            self.answers if answers is None else answers, sample=self.sample, today=self.today
        )

    def validate(self, page: Page, form: Any, mode: Mode) -> PageResult:
        return self.flow.validate_page(
            page, form, self.answers, mode=mode, sample=self.sample, today=self.today
        )


@cache
def _save_statement(sets_last_page: bool, sets_language: bool, via: str) -> Update:
    """save_page's UPDATE, built once for each shape (as the link's SELECT, see resolve)."""
    columns = Response.__table__.c
    values: dict[str, Any] = {
        "answers": bindparam("new_answers", type_=columns.answers.type),
        "revision": Response.revision + 1,
        "updated_at": bindparam("now", type_=columns.updated_at.type),
        via: True,
    }
    if sets_last_page:
        values["last_page"] = bindparam("new_last_page", type_=columns.last_page.type)
    if sets_language:
        values["language"] = bindparam("new_language", type_=columns.language.type)
    return (
        update(Response)
        .where(
            Response.id == bindparam("response_id"),
            Response.revision == bindparam("expected_revision"),
            Response.status == ResponseStatus.IN_PROGRESS.value,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def save_page(
    session: Session,
    interview: Interview,
    answers: dict[str, Any],
    *,
    expected_revision: int,
    last_page: str | None,
    now: datetime,
    mode: Mode = "web",
    user_id: int | None = None,
    language: str | None = None,
) -> None:
    """Store ``answers`` if nobody saved since the form was shown (StaleForm otherwise).

    ``language``: the questionnaire language the page was answered in, recorded with it.

    On a response that an analyst re-opened, every answer this save changes is logged
    with its old and new value, as done by ``user_id`` (the interviewer) or, without one,
    by the respondent: a correction is on record even if the response is never sent again.
    """
    response = interview.response
    stored = answers_to_json(interview.questionnaire, answers)
    params: dict[str, Any] = {
        "response_id": response.id,
        "expected_revision": expected_revision,
        "new_answers": stored,
        "now": now,
    }
    if last_page is not None:
        params["new_last_page"] = last_page
    if language is not None:
        params["new_language"] = language
    statement = _save_statement(
        last_page is not None, language is not None, "via_web" if mode == "web" else "via_phone"
    )
    result = session.execute(statement, params)
    if result.rowcount != 1:
        session.expire(response)
        raise StaleForm()
    # A response never re-opened has no corrections to log: neither the old answers'
    # serialisation nor the look-up for the re-opening is needed (the usual save).
    if interview.reopened is not False:
        before = answers_to_json(interview.questionnaire, interview.answers)
        _log_corrections(session, response, before, stored, now, user_id)
    session.expire(response)
    interview.answers = answers


def submit(
    session: Session,
    interview: Interview,
    *,
    expected_revision: int,
    now: datetime,
    mode: Mode = "web",
) -> bool:
    """Mark the response complete if every relevant required question is answered.

    Returns False (and changes nothing) when something is still missing. (The answers
    were stored, and any correction of a re-opened response logged, by ``save_page``.)
    """
    if not interview.flow.is_complete(interview.state()):
        return False
    response = interview.response
    result = session.execute(
        update(Response)
        .where(
            Response.id == response.id,
            Response.revision == expected_revision,
            Response.status == ResponseStatus.IN_PROGRESS.value,
        )
        .values(
            status=ResponseStatus.COMPLETE.value,
            completed_at=now,
            updated_at=now,
            revision=Response.revision + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.expire(response)
        raise StaleForm()
    session.expire(response)
    if mode == "web" and response.sample_unit_id is not None:
        mark_completed_online(session, response.sample_unit_id, now)
    log.info("response %d complete", response.id)
    return True


def _log_corrections(
    session: Session,
    response: Response,
    before: dict[str, Any],
    after: dict[str, Any],
    now: datetime,
    user_id: int | None,
) -> None:
    """If ``response`` was re-opened, log every answer that differs from ``before``."""
    changed = sorted(
        name for name in set(before) | set(after) if before.get(name) != after.get(name)
    )
    if not changed:
        return
    reopened = session.scalar(
        select(ResponseChange)
        .where(ResponseChange.response_id == response.id, ResponseChange.action == "reopened")
        .order_by(ResponseChange.id.desc())
        .limit(1)
    )
    if reopened is None:
        return  # never completed: filling in is not correcting
    for name in changed:
        session.add(
            ResponseChange(
                response_id=response.id,
                user_id=reopened.user_id,
                at=now,
                action="changed",
                variable=name,
                old_value=before.get(name),
                new_value=after.get(name),
                reason=reopened.reason,
            )
        )
        record_by_id(
            session,
            "response.changed",
            now,
            user_id,
            **({} if user_id is not None else {"actor_name": RESPONDENT}),
            fieldwork_id=response.fieldwork_id,
            target=f"response {response.id}",
            # the reason is kept with the correction (response_change), which erasure can
            # clear; the append-only log never holds free text about a case
            detail={"variable": name, "old": before.get(name), "new": after.get(name)},
        )


def reopen(session: Session, response: Response, user_id: int, reason: str, now: datetime) -> None:
    """Let a completed response be corrected again; the reason and the answers are logged."""
    if not response.is_complete:
        raise NotAccepting("in_progress")
    session.add(
        ResponseChange(
            response_id=response.id,
            user_id=user_id,
            at=now,
            action="reopened",
            old_value=dict(response.answers or {}),
            # Set explicitly: the column is NOT NULL, and an unset JSON attribute is left out
            # of the INSERT (SQL NULL), while an explicit None is stored as JSON null.
            new_value=None,
            reason=reason.strip(),
        )
    )
    response.status = ResponseStatus.IN_PROGRESS.value
    response.completed_at = None
    response.revision += 1
    response.updated_at = now
    record_by_id(
        session,
        "response.reopened",
        now,
        user_id,
        fieldwork_id=response.fieldwork_id,
        target=f"response {response.id}",
        detail={"with_reason": bool(reason.strip())},  # the text: in response_change only
    )
    session.flush()
    log.info("response %d re-opened by user %d", response.id, user_id)
