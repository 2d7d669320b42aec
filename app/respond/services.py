"""The respondent's side: resolving a personal, open or test link and starting its response.

(Showing, saving and submitting pages: app.interview, shared with the phone screens.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from app.domain.fieldwork.links import new_token
from app.domain.fieldwork.sample.columns import SAMPLE_VARIABLES
from app.domain.questionnaire.model import Questionnaire
from app.interview.service import Interview, NotAccepting, start_unit_response
from app.models.fieldwork import (
    Fieldwork,
    FieldworkState,
    Response,
    ResponseChange,
    ResponseRow,
    SampleUnit,
    sample_values,
)
from app.models.surveys import SurveyVersion, flow_of_hash

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}\Z")


@dataclass(frozen=True, slots=True)
class LinkFieldwork:
    """What a link's pages need of its fieldwork."""

    id: int
    state: str
    closes_on: date | None
    survey_version_id: int
    content_hash: str  # of that version: the key its questionnaire is kept by

    @property
    def is_open(self) -> bool:
        return self.state == FieldworkState.OPEN


@dataclass(frozen=True, slots=True)
class LinkUnit:
    """The sampled institution a personal link belongs to."""

    id: int
    name: str
    sample: dict[str, Any]  # what ``${sample.NAME}`` refers to


@dataclass(frozen=True, slots=True)
class Link:
    """What a personal (or open-survey) link leads to, as read for this request.

    Plain records, no ORM objects: a respondent's page reads the link once, and saving it
    is an UPDATE by id (app.interview.service); only starting a response loads the ORM.
    """

    token: str
    fieldwork: LinkFieldwork
    unit: LinkUnit | None
    response: ResponseRow | None
    response_hash: str  # the content hash of the response's version ("": no response)
    # Whether the response was ever re-opened by an analyst (a save then logs corrections);
    # looked up with the link, so that saving a page needs no query of its own for it.
    reopened: bool = False


# Resolving the link runs on every respondent request: one Core SELECT of the columns the
# pages use (fieldwork, version hashes, sampled institution, response), built once (a
# statement memoizes its SQL cache key, and each request only binds the token), read into
# the records above. Building ORM objects for the four rows and keeping them in the
# session's identity map cost more than the query itself. Nothing is cached across
# requests but the statement.
_FIELDWORK = cast(Table, Fieldwork.__table__)
_UNIT = cast(Table, SampleUnit.__table__)
_RESPONSE = cast(Table, Response.__table__)
_CHANGE = cast(Table, ResponseChange.__table__)
_FIELDWORK_VERSION = cast(Table, SurveyVersion.__table__).alias("fieldwork_version")
_RESPONSE_VERSION = cast(Table, SurveyVersion.__table__).alias("response_version")
_RESPONSE_FIELDS = tuple(each.name for each in fields(ResponseRow))
_COLUMNS = (
    _FIELDWORK.c.id,
    _FIELDWORK.c.state,
    _FIELDWORK.c.closes_on,
    _FIELDWORK.c.survey_version_id,
    _FIELDWORK_VERSION.c.content_hash,
    _UNIT.c.id,
    _UNIT.c.variables,
    *(_UNIT.c[name] for name in SAMPLE_VARIABLES),
    *(_RESPONSE.c[name] for name in _RESPONSE_FIELDS),
    _RESPONSE_VERSION.c.content_hash,
    select(_CHANGE.c.id)
    .where(_CHANGE.c.response_id == _RESPONSE.c.id, _CHANGE.c.action == "reopened")
    .exists()
    .label("reopened"),
)
_UNIT_AT = 5  # where the columns of each part start in a row
_RESPONSE_AT = _UNIT_AT + 2 + len(SAMPLE_VARIABLES)
_RESPONSE_HASH_AT = _RESPONSE_AT + len(_RESPONSE_FIELDS)


def _link_statement(*, personal: bool) -> Select[Any]:
    version = _FIELDWORK_VERSION.c.id == _FIELDWORK.c.survey_version_id
    if personal:  # the sampled institution's token; its response, if started
        joined = (
            _UNIT.join(_FIELDWORK, _FIELDWORK.c.id == _UNIT.c.fieldwork_id)
            .join(_FIELDWORK_VERSION, version)
            .outerjoin(_RESPONSE, _RESPONSE.c.sample_unit_id == _UNIT.c.id)
            .outerjoin(_RESPONSE_VERSION, _RESPONSE_VERSION.c.id == _RESPONSE.c.survey_version_id)
        )
        token = _UNIT.c.token
    else:  # an open-link response's own token (no sampled institution)
        joined = (
            _RESPONSE.join(_FIELDWORK, _FIELDWORK.c.id == _RESPONSE.c.fieldwork_id)
            .join(_FIELDWORK_VERSION, version)
            .join(_RESPONSE_VERSION, _RESPONSE_VERSION.c.id == _RESPONSE.c.survey_version_id)
            .outerjoin(_UNIT, _UNIT.c.id == _RESPONSE.c.sample_unit_id)
        )
        token = _RESPONSE.c.open_token
    return select(*_COLUMNS).select_from(joined).where(token == bindparam("token"))


_BY_PERSONAL_TOKEN = _link_statement(personal=True)
_BY_OPEN_TOKEN = _link_statement(personal=False)


def _link(token: str, row: Row[Any]) -> Link:
    unit = None
    if row[_UNIT_AT] is not None:
        standard = dict(zip(SAMPLE_VARIABLES, row[_UNIT_AT + 2 : _RESPONSE_AT], strict=True))
        unit = LinkUnit(row[_UNIT_AT], standard["name"], sample_values(row[_UNIT_AT + 1], standard))
    response = None
    if row[_RESPONSE_AT] is not None:
        response = ResponseRow(*row[_RESPONSE_AT:_RESPONSE_HASH_AT])
    return Link(
        token,
        LinkFieldwork(*row[:_UNIT_AT]),
        unit,
        response,
        row[_RESPONSE_HASH_AT] or "",
        bool(row[-1]),
    )


def resolve(session: Session, token: str) -> Link | None:
    """The sampled institution or open-link response behind ``token`` (None if unknown)."""
    if not TOKEN_PATTERN.match(token):
        return None
    connection = session.connection()  # (Core: no ORM entity is read, nothing to flush)
    for statement in (_BY_PERSONAL_TOKEN, _BY_OPEN_TOKEN):
        row = connection.execute(statement, {"token": token}).first()
        if row is not None:
            return _link(token, row)
    return None


def questionnaire_of_link(session: Session, link: Link) -> Questionnaire:
    """The questionnaire of the link's fieldwork (its start page)."""
    fieldwork = link.fieldwork
    return flow_of_hash(session, fieldwork.survey_version_id, fieldwork.content_hash).questionnaire


def interview_of(session: Session, link: Link, now: datetime) -> Interview | None:
    """The interview of the link's response (None before it is started)."""
    response = link.response
    if response is None:
        return None
    flow = flow_of_hash(session, response.survey_version_id, link.response_hash)
    sample = link.unit.sample if link.unit is not None else {}
    return Interview.loaded(response, flow, sample, now, reopened=link.reopened)


def open_survey(session: Session, token: str) -> Fieldwork | None:
    """The fieldwork whose open (anonymous) link is ``token``."""
    if not TOKEN_PATTERN.match(token):
        return None
    return session.scalar(select(Fieldwork).where(Fieldwork.open_link_token == token))


def check_accepting(fieldwork: LinkFieldwork, response: ResponseRow | None) -> None:
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


def start_interview(session: Session, link: Link, now: datetime) -> Interview:
    """The link's interview, its response created on first use (app.interview.service)."""
    interview = interview_of(session, link, now)
    if interview is not None:
        return interview
    assert link.unit is not None  # noqa: S101 - open-link responses come with their token
    unit = session.get_one(SampleUnit, link.unit.id)
    return Interview.of(start_unit_response(session, unit, now), now)


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
