"""The fieldwork endpoints of the REST API: fieldworks with their progress (over the token
user's scope), sample imports (the whole region's)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

import marshmallow as ma
from flask import g
from flask_babel import gettext as _
from marshmallow import validate
from sqlalchemy.orm import Session

from app.domain.fieldwork.sample.parsing import MAX_FILE_BYTES
from app.fieldwork import services
from app.models.fieldwork import Fieldwork
from app.models.scope import Scope
from app.platform import audit as audit_log
from app.platform.api import (
    ANALYSTS,
    AUTH_ERRORS,
    FOLLOWERS,
    Strict,
    abort_problem,
    bp,
    errors,
    fieldwork_or_404,
    token_scope,
)
from app.platform.extensions import db_session, now
from app.platform.security import SCOPED, WHOLE_REGION, token_roles

# -- schemas --------------------------------------------------------------------------------------


class Progress(ma.Schema):
    sample_size = ma.fields.Integer(required=True)
    started = ma.fields.Integer(required=True, metadata={"description": "Responses begun"})
    # the field "partial" hides Schema.partial, an option only a schema instance sets
    partial = ma.fields.Integer(required=True)  # type: ignore[assignment]
    complete = ma.fields.Integer(required=True)


class FieldworkOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    state = ma.fields.String(required=True, validate=validate.OneOf(["draft", "open", "closed"]))
    survey_id = ma.fields.Integer(required=True)
    survey_code = ma.fields.String(required=True)
    survey_version = ma.fields.Integer(required=True)
    opens_on = ma.fields.Date(allow_none=True, required=True)
    closes_on = ma.fields.Date(allow_none=True, required=True)
    opened_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    closed_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    progress = ma.fields.Nested(Progress, required=True)


class SampleRows(Strict):
    rows = ma.fields.List(
        ma.fields.Dict(
            keys=ma.fields.String(validate=validate.Length(min=1, max=100)),
            values=ma.fields.String(validate=validate.Length(max=2000)),
        ),
        required=True,
        validate=validate.Length(min=1, max=50_000),
        metadata={
            "description": "One object per institution, keyed by the sample file's column "
            "names (external_id, name, entity_type, subregion, powiat, gmina, email, phone, "
            "and any extra variables)."
        },
    )


class SampleFile(ma.Schema):
    file = ma.fields.Raw(
        required=True, metadata={"type": "string", "format": "binary"}
    )  # a CSV or XLSX, as on the fieldwork page


class Imported(ma.Schema):
    imported = ma.fields.Integer(required=True)


# -- reading --------------------------------------------------------------------------------------


def fieldworks_out(
    session: Session, scope: Scope, fieldwork_id: int | None = None
) -> list[dict[str, Any]]:
    """Fieldworks (with institutions in ``scope``) with their progress over that scope,
    oldest first (or the one ``fieldwork_id``)."""
    rows = []
    for summary in reversed(services.list_fieldworks(session, scope)):
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


# -- routes ---------------------------------------------------------------------------------------


@bp.route("/fieldworks")
@bp.response(200, FieldworkOut(many=True))
@errors(*AUTH_ERRORS)
@token_roles(*FOLLOWERS, scope=SCOPED)
def fieldworks():
    """Every fieldwork with its progress (sample size, responses begun and completed)."""
    return fieldworks_out(db_session(), token_scope())


@bp.route("/fieldworks/<int:fieldwork_id>")
@bp.response(200, FieldworkOut)
@errors(*AUTH_ERRORS, 404)
@token_roles(*FOLLOWERS, scope=SCOPED)
def fieldwork(fieldwork_id: int):
    """One fieldwork with its progress."""
    found = fieldwork_or_404(fieldwork_id)
    return fieldworks_out(db_session(), token_scope(), found.id)[0]


def _import(fieldwork: Fieldwork, data: bytes, filename: str, *, json_rows: bool):
    outcome = services.import_sample(db_session(), fieldwork, data, filename, now=now())
    if not outcome.ok:
        errors = [
            {
                # a JSON row n is line n + 1 of the file it stands for (line 1: the header)
                "row": (p.row - 1 if json_rows and p.row is not None else p.row),
                "column": p.column,
                "message": p.message.render(_),
            }
            for p in outcome.problems
        ]
        abort_problem(422, _("The sample has errors; nothing was imported."), errors)
    audit_log.record_by_id(
        db_session(),
        "sample.imported",
        now(),
        g.api_user.id,
        fieldwork_id=fieldwork.id,
        target=f"fieldwork {fieldwork.id}",
        detail={"file": filename[:200], "institutions": outcome.imported, "via": "api"},
    )
    return {"imported": outcome.imported}


@bp.route("/fieldworks/<int:fieldwork_id>/sample", methods=["POST"])
@bp.arguments(SampleRows)
@bp.response(201, Imported)
@errors(*AUTH_ERRORS, 404)
@token_roles(*ANALYSTS, scope=WHOLE_REGION)
def import_sample_rows(body: dict[str, Any], fieldwork_id: int):
    """Add institutions to the sample, given as JSON rows.

    The same checks and messages as a sample file uploaded on the fieldwork page; any
    error refuses the whole sample (nothing is added) with a 422 whose ``errors`` give the
    row (1: the first object) and column of each problem.
    """
    fieldwork = fieldwork_or_404(fieldwork_id)
    return _import(fieldwork, rows_as_csv(body["rows"]), "api.csv", json_rows=True)


@bp.route("/fieldworks/<int:fieldwork_id>/sample/file", methods=["POST"])
@bp.arguments(SampleFile, location="files")
@bp.response(201, Imported)
@errors(*AUTH_ERRORS, 404)
@token_roles(*ANALYSTS, scope=WHOLE_REGION)
def import_sample_file(files: dict[str, Any], fieldwork_id: int):
    """Add institutions from a sample file (.xlsx or .csv), exactly as the upload does;
    ``errors`` give the file's row (1: the header) and column of each problem."""
    fieldwork = fieldwork_or_404(fieldwork_id)
    upload = files["file"]
    data = upload.read(MAX_FILE_BYTES + 1)  # a larger one is refused by the same check
    return _import(fieldwork, data, upload.filename or "sample", json_rows=False)
