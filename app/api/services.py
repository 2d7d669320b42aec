"""The REST API's reads: surveys, fieldwork progress, responses, cases and calls.

Responses are read by the export's own reader (``app.exports.services.response_page``),
so the API and the files always agree on what a response says.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from app.domain.dates import WARSAW
from app.domain.outputs.export import META_COLUMNS
from app.exports.services import ExportOptions, Translate, response_page
from app.fieldwork.services import list_fieldworks
from app.models.cati import Call, Case, Outcome
from app.models.fieldwork import Fieldwork, SampleUnit
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


def fieldworks(session: Session, fieldwork_id: int | None = None) -> list[dict[str, Any]]:
    """Fieldworks with their progress, oldest first (or the one ``fieldwork_id``)."""
    rows = []
    for summary in reversed(list_fieldworks(session)):
        fw = summary.fieldwork
        if fieldwork_id is not None and fw.id != fieldwork_id:
            continue
        rows.append(
            {
                "id": fw.id,
                "title": fw.title,
                "state": fw.state,
                "survey_id": fw.survey_id,
                "survey_code": fw.survey.code,
                "survey_version": fw.survey_version.number,
                "opens_on": fw.opens_on,
                "closes_on": fw.closes_on,
                "opened_at": fw.opened_at,
                "closed_at": fw.closed_at,
                "progress": {
                    "sample_size": summary.sample_size,
                    "started": summary.opened,
                    "partial": summary.partial,
                    "complete": summary.complete,
                },
            }
        )
    return rows


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):  # the export's Warsaw wall time, made explicit
        return value.replace(tzinfo=WARSAW).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _response_object(header: Sequence[str], cells: Sequence[Any]) -> dict[str, Any]:
    meta = len(META_COLUMNS)
    record = dict(zip(META_COLUMNS, cells[:meta], strict=True))
    record["id"] = record.pop("response_id")
    record["demo"] = bool(record["demo"])
    for name in ("started", "completed"):
        value = record[name]
        record[name] = value.replace(tzinfo=WARSAW) if value is not None else None
    record["answers"] = {
        name: _json_value(value) for name, value in zip(header[meta:], cells[meta:], strict=True)
    }
    return record


def responses(
    session: Session,
    fieldwork: Fieldwork,
    options: ExportOptions,
    *,
    translate: Translate,
    partial_only: bool,
    after: int,
    limit: int,
) -> dict[str, Any]:
    """A page of responses (ids above ``after``) and where the next page starts."""
    header, rows = response_page(
        session,
        fieldwork,
        options,
        translate=translate,
        partial_only=partial_only,
        after=after,
        limit=limit + 1,
    )
    more = len(rows) > limit
    items = [_response_object(header, row) for row in rows[:limit]]
    return {"items": items, "next_after": items[-1]["id"] if more else None}


def one_response(
    session: Session,
    fieldwork: Fieldwork,
    response_id: int,
    options: ExportOptions,
    *,
    translate: Translate,
) -> dict[str, Any] | None:
    header, rows = response_page(
        session, fieldwork, options, translate=translate, response_id=response_id, limit=1
    )
    return _response_object(header, rows[0]) if rows else None


def cases(session: Session, fieldwork: Fieldwork, after: int, limit: int) -> dict[str, Any]:
    rows = session.execute(
        select(Case, SampleUnit.external_id, SampleUnit.name, SampleUnit.subregion, Outcome.code)
        .join(SampleUnit, Case.sample_unit_id == SampleUnit.id)
        .outerjoin(Outcome, Case.disposition_outcome_id == Outcome.id)
        .where(Case.fieldwork_id == fieldwork.id, Case.id > after)
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
    session: Session, fieldwork: Fieldwork, after: int, limit: int, language: str
) -> dict[str, Any]:
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
        .where(Case.fieldwork_id == fieldwork.id, Call.id > after)
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


def rows_as_csv(rows: Sequence[Mapping[str, str]]) -> bytes:
    """Sample rows given as JSON objects, as the sample file the upload would have had:
    the columns in the order they first appear, row 1 the header."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(list(columns))
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return out.getvalue().encode("utf-8")
