"""An interview: a response with its questionnaire, flow and state; starting, saving,
submitting and re-opening it, the same for the web form and the phone screens."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, Update, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from app.domain.dates import local_date
from app.domain.questionnaire.answers import answers_from_json, answers_to_json
from app.domain.questionnaire.flow import Flow, Mode, PageResult, State
from app.domain.questionnaire.model import Questionnaire
from app.domain.questionnaire.pages import Page
from app.models.fieldwork import (
    Response,
    ResponseChange,
    ResponseRow,
    ResponseStatus,
    SampleUnit,
)
from app.models.surveys import flow_of
from app.platform.audit import RESPONDENT, record_by_id
from app.platform.signals import response_completed

log = logging.getLogger(__name__)


class StaleForm(Exception):
    """The page was saved from elsewhere (another tab or device) after this form was shown."""


class NotAccepting(Exception):
    """The response cannot take answers: its fieldwork is not open, or it is complete."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "closed", "draft", "complete" (or "in_progress": not re-opened)


@dataclass
class Interview:
    """A response together with its questionnaire and flow, for showing and saving pages.

    ``response`` is the ORM object (the phone screens, staff edits) or a plain record read
    for this request (a respondent's pages, app.respond): a save updates either.
    """

    response: Response | ResponseRow
    questionnaire: Questionnaire
    flow: Flow
    sample: dict[str, Any]
    today: date
    answers: dict[str, Any]
    # Whether the response was ever re-opened (respond's Link.reopened); None: not known,
    # and a save looks it up.
    reopened: bool | None = None
    now: datetime | None = None  # what now() reads in expressions (kept by once())

    @classmethod
    def of(cls, response: Response, now: datetime, *, reopened: bool | None = None) -> Interview:
        unit = response.sample_unit
        sample = unit.sample_variables() if unit else {}
        return cls.loaded(
            response, flow_of(response.survey_version), sample, now, reopened=reopened
        )

    @classmethod
    def loaded(
        cls,
        response: Response | ResponseRow,
        flow: Flow,
        sample: dict[str, Any],
        now: datetime,
        *,
        reopened: bool | None = None,
    ) -> Interview:
        """The interview of ``response`` whose flow and sample values were read with it."""
        return cls(
            response=response,
            questionnaire=flow.questionnaire,
            flow=flow,
            sample=sample,
            today=local_date(now),
            answers=answers_from_json(flow.questionnaire, response.answers or {}, flow.variables),
            reopened=reopened,
            now=now,
        )

    def state(self, answers: dict[str, Any] | None = None) -> State:
        return self.flow.state(
            self.answers if answers is None else answers,
            sample=self.sample,
            today=self.today,
            now=self.now,
            seed=response_seed(self.response),
        )

    def validate(self, page: Page, form: MultiDict[str, str], mode: Mode) -> PageResult:
        return self.flow.validate_page(
            page,
            form,
            self.answers,
            mode=mode,
            sample=self.sample,
            today=self.today,
            now=self.now,
        )


def response_seed(response: Response | ResponseRow) -> str:
    """What a response's randomized lists are ordered by: the response itself, so that it
    finds them in the same order on every page view, web or phone, resumed or not."""
    return f"response-{response.id}"


def response_of_unit(session: Session, unit_id: int) -> Response | None:
    """The response of a sampled institution, if it was ever started."""
    return session.scalar(select(Response).where(Response.sample_unit_id == unit_id))


def start_unit_response(session: Session, unit: SampleUnit, now: datetime) -> Response:
    """The sampled institution's response, created now; two simultaneous first uses (two
    tabs, or the web form and an interviewer) get one."""
    fieldwork = unit.fieldwork
    response = Response(
        fieldwork_id=fieldwork.id,
        sample_unit_id=unit.id,
        survey_version_id=fieldwork.survey_version_id,
        started_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(response)
    except IntegrityError:  # the other tab created it a moment ago
        found = response_of_unit(session, unit.id)
        assert found is not None  # noqa: S101 - the unique constraint says it exists
        return found
    return response


# the response table itself: a Core UPDATE on it is not copied per execution (below)
_RESPONSE_TABLE = cast(Table, Response.__table__)


@cache
def _save_statement(sets_last_page: bool, sets_language: bool, via: str) -> Update:
    """save_page's UPDATE, built once for each shape (a statement memoizes its SQL cache
    key, so each save only binds its values)."""
    columns = _RESPONSE_TABLE.c
    values: dict[str, Any] = {
        "answers": bindparam("new_answers", type_=columns.answers.type),
        "revision": columns.revision + 1,
        "updated_at": bindparam("now", type_=columns.updated_at.type),
        via: True,
    }
    if sets_last_page:
        values["last_page"] = bindparam("new_last_page", type_=columns.last_page.type)
    if sets_language:
        values["language"] = bindparam("new_language", type_=columns.language.type)
    # On the table, not the mapped class: an ORM-enabled UPDATE is copied (annotated) on
    # every execution, and each copy computes its cache key again.
    return (
        update(_RESPONSE_TABLE)
        .where(
            columns.id == bindparam("response_id"),
            columns.revision == bindparam("expected_revision"),
            columns.status == ResponseStatus.IN_PROGRESS.value,
        )
        .values(**values)
    )


@cache
def _submit_statement() -> Update:
    """submit's UPDATE, built once (as ``_save_statement``)."""
    columns = _RESPONSE_TABLE.c
    now = bindparam("now", type_=columns.updated_at.type)
    return (
        update(_RESPONSE_TABLE)
        .where(
            columns.id == bindparam("response_id"),
            columns.revision == bindparam("expected_revision"),
            columns.status == ResponseStatus.IN_PROGRESS.value,
        )
        .values(
            status=ResponseStatus.COMPLETE.value,
            completed_at=now,
            updated_at=now,
            revision=columns.revision + 1,
        )
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
    via = "via_web" if mode == "web" else "via_phone"
    statement = _save_statement(last_page is not None, language is not None, via)
    session.flush()  # what the ORM would autoflush before its own UPDATE (usually nothing)
    result = session.connection().execute(statement, params)  # (Core: a table's UPDATE)
    if result.rowcount != 1:
        _forget(session, response)
        raise StaleForm()
    # A response never re-opened has no corrections to log: neither the old answers'
    # serialisation nor the look-up for the re-opening is needed (the usual save).
    if interview.reopened is not False:
        before = answers_to_json(interview.questionnaire, interview.answers)
        _log_corrections(session, response, before, stored, now, user_id)
    # An ORM response reads only what the UPDATE changed again when next used; the id and
    # the rest stay loaded (the submit that follows a last page finds the response without
    # a SELECT). A record is replaced by one with what was stored.
    changed = ["answers", "revision", "updated_at", via]
    if last_page is not None:
        changed.append("last_page")
    if language is not None:
        changed.append("language")
    if isinstance(response, Response):
        session.expire(response, changed)
    else:  # a record: what the UPDATE stored
        interview.response = replace(
            response,
            answers=stored,
            revision=expected_revision + 1,
            last_page=response.last_page if last_page is None else last_page,
        )
    interview.answers = answers


def _forget(session: Session, response: Response | ResponseRow) -> None:
    """After a refused UPDATE (a stale form): an ORM response reads everything again when
    next used (a record is what this request read, and stays so)."""
    if isinstance(response, Response):
        session.expire(response)


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
    Sends ``response_completed`` (app.platform.signals) once it is complete.
    """
    if not interview.flow.is_complete(interview.state(), mode):
        return False
    response = interview.response
    session.flush()  # what the ORM would autoflush before its own UPDATE (usually nothing)
    result = session.connection().execute(  # (Core: a table's UPDATE)
        _submit_statement(),
        {"response_id": response.id, "expected_revision": expected_revision, "now": now},
    )
    if result.rowcount != 1:
        _forget(session, response)
        raise StaleForm()
    if isinstance(response, Response):
        session.expire(response, ["status", "completed_at", "updated_at", "revision"])
    else:
        response = interview.response = replace(
            response,
            status=ResponseStatus.COMPLETE.value,
            completed_at=now,
            revision=expected_revision + 1,
        )
    response_completed.send(response, session=session, mode=mode, now=now)
    log.info("response %d complete", response.id)
    return True


def _log_corrections(
    session: Session,
    response: Response | ResponseRow,
    before: dict[str, Any],
    after: dict[str, Any],
    now: datetime,
    user_id: int | None,
) -> None:
    """If ``response`` was re-opened, log every answer that differs from ``before`` (a
    list's per instance and field: ``partnerzy[2].nazwa``)."""
    changed = answer_changes(before, after)
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
    for name, old, new in changed:
        session.add(
            ResponseChange(
                response_id=response.id,
                user_id=reopened.user_id,
                at=now,
                action="changed",
                variable=name[:VARIABLE_LENGTH],
                old_value=old,
                new_value=new,
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
            detail={"variable": name, "old": _loggable(old), "new": _loggable(new)},
        )


def _loggable(value: Any) -> Any:
    """A changed answer as the audit log keeps it: a file's size and type, not its name
    (the log cannot be erased; the correction itself, which erasure clears, has it)."""
    if isinstance(value, dict) and "file" in value:
        return {"file": True, "size": value.get("size"), "type": value.get("type")}
    return value


VARIABLE_LENGTH = 100  # ResponseChange.variable's column


def answer_changes(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Every answer that differs between two stored (JSON) answer sets, as (name, old,
    new), sorted by name. A list (a JSON list of instance objects) is compared instance by
    instance and field by field (``partnerzy[2].nazwa``, nested
    ``partnerzy[1].etaty[2].stanowisko``), and a change in its number of entries is one
    change of the list's own name (old and new counts)."""
    changes: list[tuple[str, Any, Any]] = []
    _compare(before, after, "", changes)
    return sorted(changes, key=lambda change: change[0])


def _compare(
    before: dict[str, Any], after: dict[str, Any], prefix: str, out: list[tuple[str, Any, Any]]
) -> None:
    for name in set(before) | set(after):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if (_is_list(old) or _is_list(new)) and all(
            _is_list(value) or value in (None, []) for value in (old, new)
        ):
            _compare_lists(old or [], new or [], prefix + name, out)
        else:
            out.append((prefix + name, old, new))


def _compare_lists(
    old: list[dict[str, Any]], new: list[dict[str, Any]], name: str, out: list[tuple[str, Any, Any]]
) -> None:
    if len(old) != len(new):
        out.append((name, len(old), len(new)))
    for number in range(1, max(len(old), len(new)) + 1):
        before = old[number - 1] if number <= len(old) else {}
        after = new[number - 1] if number <= len(new) else {}
        _compare(before, after, f"{name}[{number}].", out)


def _is_list(value: Any) -> bool:
    """True for a list's stored instances (a JSON list of objects; a select_multiple's
    codes are a list of strings)."""
    return isinstance(value, list) and all(isinstance(each, dict) for each in value) and bool(value)


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
