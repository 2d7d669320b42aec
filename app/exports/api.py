"""The export endpoints of the REST API: responses read as the export reads them, and
results files prepared in the background (the same jobs as on the website); both hold
only the institutions in the token user's scope."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

import marshmallow as ma
from flask import Response, g, request, stream_with_context, url_for
from flask_babel import gettext as _
from marshmallow import validate
from sqlalchemy.orm import Session

from app.domain.dates import WARSAW
from app.domain.outputs.export import META_COLUMNS
from app.exports import jobs
from app.exports.routes import start as start_job
from app.exports.services import ExportOptions, Instances, Translate, response_page
from app.models.fieldwork import Fieldwork
from app.models.fieldwork import Response as SurveyResponse
from app.models.jobs import JobState
from app.platform import audit as audit_log
from app.platform.api import (
    AUTH_ERRORS,
    FOLLOWERS,
    LANGUAGES,
    PAGE_MAX,
    Strict,
    abort_problem,
    bp,
    errors,
    fieldwork_or_404,
    refuse_out_of_scope,
    token_scope,
)
from app.platform.extensions import db_session, get_db, now
from app.platform.i18n import translate
from app.platform.security import SCOPED, token_roles

FILE_TYPES = ("text/csv", jobs.ZIP_MIMETYPE, jobs.XLSX_MIMETYPE, *jobs.STAT_MIMETYPES.values())


# -- schemas --------------------------------------------------------------------------------------


class ResponsesQuery(Strict):
    status = ma.fields.String(validate=validate.OneOf(["complete", "partial"]))
    date_from = ma.fields.Date(metadata={"description": "Last worked on from (Warsaw day)"})
    date_to = ma.fields.Date()
    subregion = ma.fields.String(validate=validate.Length(max=100))
    labels = ma.fields.Boolean(load_default=False)
    language = ma.fields.String(validate=validate.OneOf(LANGUAGES))
    after = ma.fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=2**31 - 1),
        metadata={"description": "Only responses with a greater id (the previous page's next)"},
    )
    limit = ma.fields.Integer(load_default=100, validate=validate.Range(min=1, max=PAGE_MAX))

    @ma.validates_schema
    def dates_in_order(self, data, **_kwargs) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ma.ValidationError("date_to is before date_from", "date_to")


class OneResponseQuery(Strict):
    labels = ma.fields.Boolean(load_default=False)
    language = ma.fields.String(validate=validate.OneOf(LANGUAGES))


class ResponseOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    external_id = ma.fields.String(allow_none=True, required=True)
    institution = ma.fields.String(allow_none=True, required=True)
    entity_type = ma.fields.String(allow_none=True, required=True)
    subregion = ma.fields.String(allow_none=True, required=True)
    powiat = ma.fields.String(allow_none=True, required=True)
    gmina = ma.fields.String(allow_none=True, required=True)
    mode = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(["complete", "partial"]))
    started = ma.fields.AwareDateTime(allow_none=True, required=True)
    completed = ma.fields.AwareDateTime(allow_none=True, required=True)
    duration_minutes = ma.fields.Float(allow_none=True, required=True)
    interviewer = ma.fields.String(allow_none=True, required=True)
    definition_version = ma.fields.Integer(allow_none=True, required=True)
    demo = ma.fields.Boolean(required=True)
    answers = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Raw(allow_none=True),
        required=True,
        metadata={
            "description": "Column -> value, as in the export's Responses sheet: codes "
            "(or labels), numbers, dates (YYYY-MM-DD), 0/1 per choice of a multiple choice; "
            "don't know / refused as their codes (-98 / -99) or labels; a repeat's entries "
            "as a list of objects (column -> value, as on the repeat's sheet; a nested "
            "repeat's entries a list inside)"
        },
    )


class ResponsePage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ResponseOut), required=True)
    next_after = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "after= for the next page"}
    )


class ExportRequest(Strict):
    format = ma.fields.String(
        load_default="xlsx", validate=validate.OneOf(["csv", *jobs.RESPONSE_FORMATS])
    )
    labels = ma.fields.Boolean(load_default=False)
    language = ma.fields.String(validate=validate.OneOf(LANGUAGES))
    complete_only = ma.fields.Boolean(load_default=False)
    date_from = ma.fields.Date()
    date_to = ma.fields.Date()
    subregion = ma.fields.String(validate=validate.Length(max=100))
    csv_dialect = ma.fields.String(
        load_default="excel-pl",
        validate=validate.OneOf(["excel-pl", "rfc4180"]),
        metadata={
            "description": "csv only: excel-pl (';', decimal comma, UTF-8 BOM) or rfc4180 "
            "(',', decimal point, no BOM)"
        },
    )

    @ma.validates_schema
    def dates_in_order(self, data, **_kwargs) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ma.ValidationError("date_to is before date_from", "date_to")


class ExportJobOut(ma.Schema):
    key = ma.fields.String(required=True)
    fieldwork_id = ma.fields.Integer(required=True)
    format = ma.fields.String(required=True)
    state = ma.fields.String(
        required=True, validate=validate.OneOf(["queued", "running", "done", "failed"])
    )
    done = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)
    size = ma.fields.Integer(required=True)
    file_name = ma.fields.String(required=True)
    error = ma.fields.String(required=True)
    status_url = ma.fields.String(required=True)
    download_url = ma.fields.String(allow_none=True, required=True)


# -- reading responses ----------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):  # the export's Warsaw wall time, made explicit
        return value.replace(tzinfo=WARSAW).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


def _json_entries(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            name: _json_entries(value) if isinstance(value, list) else _json_value(value)
            for name, value in entry.items()
        }
        for entry in entries
    ]


def _response_object(header: Sequence[str], row: tuple[Sequence[Any], Instances]) -> dict[str, Any]:
    cells, instances = row
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
    # a repeat's column: its entries as a list of objects (None when it was not asked)
    answers = record["answers"]
    for name, entries in instances.items():
        if answers.get(name) is not None:
            answers[name] = _json_entries(entries)
    return record


def response_items(
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


# -- responses ------------------------------------------------------------------------------------


def _options(args: dict[str, Any]) -> ExportOptions:
    """The export's options from a request, limited to the token user's scope."""
    return ExportOptions(
        labels=args.get("labels", False),
        language=args.get("language"),
        complete_only=args.get("status") == "complete" or args.get("complete_only", False),
        date_from=args.get("date_from"),
        date_to=args.get("date_to"),
        subregion=args.get("subregion") or None,
        scope=token_scope(),
        csv_dialect=args.get("csv_dialect", "excel-pl"),
    )


@bp.route("/fieldworks/<int:fieldwork_id>/responses")
@bp.arguments(ResponsesQuery, location="query")
@bp.response(200, ResponsePage)
@errors(*AUTH_ERRORS, 404)
@token_roles(*FOLLOWERS, scope=SCOPED)
def responses(args: dict[str, Any], fieldwork_id: int):
    """A page of responses in id order, read as the export reads them.

    Filters as the export's: status, last worked on from/to (Warsaw days), subregion;
    ``labels=true`` gives choice labels (in ``language``) instead of codes. Ask for the
    next page with ``after`` = the page's ``next_after`` (null: this was the last page).
    """
    fieldwork = fieldwork_or_404(fieldwork_id)
    return response_items(
        db_session(),
        fieldwork,
        _options(args),
        translate=translate,
        partial_only=args.get("status") == "partial",
        after=args["after"],
        limit=args["limit"],
    )


@bp.route("/fieldworks/<int:fieldwork_id>/responses/<int:response_id>")
@bp.arguments(OneResponseQuery, location="query")
@bp.response(200, ResponseOut)
@errors(*AUTH_ERRORS, 404)
@token_roles(*FOLLOWERS, scope=SCOPED)
def response(args: dict[str, Any], fieldwork_id: int, response_id: int):
    """One response."""
    fieldwork = fieldwork_or_404(fieldwork_id)
    missing = _("There is no such response in this fieldwork.")
    stored = db_session().get(SurveyResponse, response_id)
    if stored is None or stored.fieldwork_id != fieldwork.id:
        abort_problem(404, missing)
    if not token_scope().admits(stored.sample_unit):
        refuse_out_of_scope(f"response {response_id}", fieldwork.id, missing)
    found = one_response(db_session(), fieldwork, response_id, _options(args), translate=translate)
    if found is None:  # a test response: not in the export either
        abort_problem(404, missing)
    return found


# -- results files --------------------------------------------------------------------------------


def _job_out(job) -> dict[str, Any]:
    status = jobs.status_of(job, now())
    return {
        "key": job.key,
        "fieldwork_id": job.fieldwork_id,
        "format": jobs.file_format(job.kind, job.options),
        "state": status.state.value,
        "done": job.done,
        "total": job.total,
        "size": job.size,
        "file_name": job.file_name,
        "error": status.error.render(_) if status.error else "",
        "status_url": url_for("api.export_job", key=job.key),
        "download_url": url_for("api.export_file", key=job.key)
        if status.state == JobState.DONE
        else None,
    }


@bp.route("/fieldworks/<int:fieldwork_id>/exports", methods=["POST"])
@bp.arguments(ExportRequest)
@bp.response(202, ExportJobOut)
@errors(*AUTH_ERRORS, 404)
@token_roles(*FOLLOWERS, scope=SCOPED)
def start_export(body: dict[str, Any], fieldwork_id: int):
    """Have a results file prepared in the background (the same job as on the website):
    xlsx (with codebook, calls and rates), csv, sav (SPSS) or dta (Stata)."""
    fieldwork = fieldwork_or_404(fieldwork_id)
    options = jobs.export_options_to_json(_options(body))
    kind = jobs.CSV if body["format"] == "csv" else jobs.RESPONSES
    if body["format"] in jobs.STAT_FORMATS:
        options["format"] = body["format"]
    job, new = jobs.create_job(db_session(), fieldwork, g.api_user.id, kind, options, now())
    if new:
        start_job(job.id)
    return _job_out(job)


def _job_or_404(key: str):
    """The token user's own job (another's, or a wider one than the user's scope now: 404;
    one outside a scoped user's scope is an audited attempt)."""
    missing = _("There is no such file of yours.")
    found = jobs.job_for(db_session(), key, g.api_user.id, token_scope())
    if found.refused is not None:
        refuse_out_of_scope(f"file {key[:12]}", found.refused.fieldwork_id, missing)
    if found.job is None:
        abort_problem(404, missing)
    return found.job


@bp.route("/exports/<key>")
@bp.response(200, ExportJobOut)
@errors(*AUTH_ERRORS, 404)
@token_roles(*FOLLOWERS, scope=SCOPED)
def export_job(key: str):
    """How far the file is (poll until ``state`` is ``done`` or ``failed``)."""
    return _job_out(_job_or_404(key))


@bp.route("/exports/<key>/file")
@bp.doc(
    responses={
        "200": {
            "description": "The file",
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in FILE_TYPES},
        }
    }
)
@errors(*AUTH_ERRORS, 404, 409)
@token_roles(*FOLLOWERS, scope=SCOPED)
def export_file(key: str):
    """The prepared file (409 while it is still being prepared or if it failed)."""
    job = _job_or_404(key)
    if jobs.status_of(job, now()).state != JobState.DONE:
        abort_problem(409, _("The file is not ready."))
    with get_db().session() as session:
        audit_log.record(
            session,
            "report.downloaded" if job.kind in jobs.REPORT_KINDS else "export.downloaded",
            now(),
            actor=g.api_user,
            ip=request.remote_addr or "",
            fieldwork_id=job.fieldwork_id,
            target=f"fieldwork {job.fieldwork_id}",
            detail={
                "format": jobs.file_format(job.kind, job.options),
                "kind": job.kind,
                "via": "api",
                **job.options,
            },
        )
    database, job_id = get_db(), job.id
    return Response(
        stream_with_context(jobs.iter_file(database, job_id)),
        mimetype=jobs.mimetype(job.kind, job.options, job.file_name),
        headers={
            "Content-Disposition": f'attachment; filename="{job.file_name}"',
            "Content-Length": str(job.size),
            "Cache-Control": "no-store",
        },
    )
