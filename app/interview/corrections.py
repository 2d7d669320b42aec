"""Staff edits: a supervisor or analyst corrects answers of a response, with a reason.

Every changed answer is logged (``ResponseChange`` "edited" and the audit log) with its old
and new value, the reason and who did it; the response keeps its status. A form shown
before someone else saved the response is refused (``StaleForm``), changing nothing.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.domain.questionnaire.answers import answers_to_json
from app.interview.service import VARIABLE_LENGTH, Interview, StaleForm, answer_changes
from app.models.fieldwork import Response, ResponseChange
from app.platform.audit import record_by_id

log = logging.getLogger(__name__)

MAX_REASON = 2000


def staff_edit(
    session: Session,
    interview: Interview,
    answers: dict[str, Any],
    *,
    expected_revision: int,
    reason: str,
    user_id: int,
    now: datetime,
) -> list[str]:
    """Store the corrected ``answers``; the names of the answers that changed (logged; a
    list's per instance and field, ``partnerzy[2].nazwa``)."""
    reason = reason.strip()[:MAX_REASON]
    if not reason:
        raise ValueError("a staff edit needs a reason")
    response = interview.response
    before = answers_to_json(interview.questionnaire, interview.answers)
    after = answers_to_json(interview.questionnaire, answers)
    changed = answer_changes(before, after)
    if not changed:
        return []
    result = session.execute(
        update(Response)
        .where(Response.id == response.id, Response.revision == expected_revision)
        .values(answers=after, revision=Response.revision + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's CursorResult
        if isinstance(response, Response):
            session.expire(response)
        raise StaleForm()
    for name, old, new in changed:
        session.add(
            ResponseChange(
                response_id=response.id,
                user_id=user_id,
                at=now,
                action="edited",
                variable=name[:VARIABLE_LENGTH],
                old_value=old,
                new_value=new,
                reason=reason,
            )
        )
        record_by_id(
            session,
            "response.edited",
            now,
            user_id,
            fieldwork_id=response.fieldwork_id,
            target=f"response {response.id}",
            detail={
                "variable": name,
                "old": old,
                "new": new,
                "reason": reason,
            },
        )
    if isinstance(response, Response):
        session.expire(response)
    else:  # a record read for this request: what the UPDATE stored
        interview.response = replace(response, answers=after, revision=expected_revision + 1)
    interview.answers = answers
    log.info("response %d: %d answers corrected by user %d", response.id, len(changed), user_id)
    return [name for name, _, _ in changed]
