"""The REST API's own reads: surveys, the call queue's cases and calls (of the
institutions in the token user's scope).

Fieldworks and responses are read in their features' ``api.py`` (responses by the
export's own reader, so the API and the files always agree on what a response says).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from app.models.cati import Call, Case, Outcome
from app.models.fieldwork import Fieldwork, SampleUnit
from app.models.scope import Scope
from app.models.surveys import Survey
from app.models.users import User


def surveys(session: Session, survey_id: int | None = None) -> list[dict[str, Any]]:
    query = select(Survey).order_by(Survey.id)
    if survey_id is not None:
        query = query.where(Survey.id == survey_id)
    return [
        {
            "id": survey.id,
            "code": survey.code,
            "title": survey.title,
            "versions": [
                {
                    "id": v.id,
                    "number": v.number,
                    "title": v.title,
                    "source_format": v.source_format,
                    "item_count": v.item_count,
                    "loaded_at": v.loaded_at,
                }
                for v in survey.versions
            ],
        }
        for survey in session.scalars(query)
    ]


def cases(
    session: Session, fieldwork: Fieldwork, scope: Scope, after: int, limit: int
) -> dict[str, Any]:
    """A page of the fieldwork's cases (of institutions in ``scope``) with ids above ``after``."""
    rows = session.execute(
        select(Case, SampleUnit.external_id, SampleUnit.name, SampleUnit.subregion, Outcome.code)
        .join(SampleUnit, Case.sample_unit_id == SampleUnit.id)
        .outerjoin(Outcome, Case.disposition_outcome_id == Outcome.id)
        .where(Case.fieldwork_id == fieldwork.id, Case.id > after, scope.covers(SampleUnit.id))
        .order_by(Case.id)
        .limit(limit + 1)
    ).all()
    items = [
        {
            "id": case.id,
            "external_id": external_id,
            "institution": name,
            "subregion": subregion,
            "attempts": case.attempts,
            "is_final": case.is_final,
            "excluded": case.excluded,
            "priority": case.priority,
            "disposition_code": case.disposition_code,
            "outcome_code": outcome,
            "next_callable_at": case.next_callable_at,
        }
        for case, external_id, name, subregion, outcome in rows[:limit]
    ]
    return {"items": items, "next_after": items[-1]["id"] if len(rows) > limit else None}


def calls(
    session: Session, fieldwork: Fieldwork, scope: Scope, after: int, limit: int, language: str
) -> dict[str, Any]:
    """A page of the calls (to institutions in ``scope``) with ids above ``after``."""
    interviewer = aliased(User)
    rows = session.execute(
        select(
            Call,
            SampleUnit.external_id,
            interviewer.full_name,
            interviewer.username,
            Outcome.code,
            Outcome.label_pl,
            Outcome.label_en,
            Outcome.aapor,
        )
        .join(Case, Call.case_id == Case.id)
        .join(SampleUnit, Case.sample_unit_id == SampleUnit.id)
        .outerjoin(interviewer, Call.interviewer_id == interviewer.id)
        .outerjoin(Outcome, Call.outcome_id == Outcome.id)
        .where(Case.fieldwork_id == fieldwork.id, Call.id > after, scope.covers(SampleUnit.id))
        .order_by(Call.id)
        .limit(limit + 1)
    ).all()
    items = [
        {
            "id": call.id,
            "case_id": call.case_id,
            "external_id": external_id,
            "interviewer": full_name or username,
            "number": call.number,
            "started": call.started_at,
            "ended": call.ended_at,
            "outcome_code": code,
            "outcome_label": label_en if language == "en" else label_pl,
            "aapor_code": aapor,
            "note": call.note,
        }
        for call, external_id, full_name, username, code, label_pl, label_en, aapor in rows[:limit]
    ]
    return {"items": items, "next_after": items[-1]["id"] if len(rows) > limit else None}
