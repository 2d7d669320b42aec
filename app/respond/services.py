"""The respondent's side: resolving a personal, open or test link and starting its response.

(Showing, saving and submitting pages: app.interview, shared with the phone screens.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, contains_eager

from app.domain.fieldwork.links import new_token
from app.interview.service import NotAccepting, start_unit_response
from app.models.fieldwork import (
    Fieldwork,
    FieldworkState,
    Response,
    ResponseChange,
    SampleUnit,
)

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}\Z")


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
    open_row = session.execute(_BY_OPEN_TOKEN, {"token": token}).first()
    if open_row is not None:
        response, reopened = open_row
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


def start_response(session: Session, link: Link, now: datetime) -> Response:
    """The link's response, created on first use (app.interview.service)."""
    if link.response is None:
        assert link.unit is not None  # noqa: S101 - open-link responses come with their token
        link.response = start_unit_response(session, link.unit, now)
    return link.response


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


def fresh_link(session: Session, token: str) -> Link | None:
    """The link read again from the database, forgetting what this request loaded (after
    a stale form: what is stored now)."""
    session.expire_all()
    return resolve(session, token)
