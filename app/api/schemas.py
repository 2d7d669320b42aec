"""What the REST API takes and gives, as marshmallow schemas (its OpenAPI document too)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.exports.jobs import RESPONSE_FORMATS

LANGUAGES = ("pl", "en")
PAGE_MAX = 1000


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE
        ordered = True


# -- errors (RFC 9457) ----------------------------------------------------------------------------


class ProblemError(ma.Schema):
    row = ma.fields.Integer(allow_none=True, metadata={"description": "Row (1: the header)"})
    column = ma.fields.String(allow_none=True)
    field = ma.fields.String(allow_none=True, metadata={"description": "Parameter or field"})
    message = ma.fields.String(required=True)


class Problem(ma.Schema):
    """RFC 9457 problem details."""

    type = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    errors = ma.fields.List(ma.fields.Nested(ProblemError))


# -- who ------------------------------------------------------------------------------------------


class Me(ma.Schema):
    id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    full_name = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    token_id = ma.fields.Integer(required=True)
    scope = ma.fields.String(required=True, validate=validate.OneOf(["read", "write"]))
    expires_at = ma.fields.AwareDateTime(required=True)


# -- surveys --------------------------------------------------------------------------------------


class Version(ma.Schema):
    id = ma.fields.Integer(required=True)
    number = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    source_format = ma.fields.String(required=True)
    item_count = ma.fields.Integer(required=True)
    loaded_at = ma.fields.AwareDateTime(required=True)


class Survey(ma.Schema):
    id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    versions = ma.fields.List(ma.fields.Nested(Version), required=True)


# -- fieldwork ------------------------------------------------------------------------------------


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


# -- sample ---------------------------------------------------------------------------------------


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


# -- responses ------------------------------------------------------------------------------------


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
            "don't know / refused as their codes (-98 / -99) or labels"
        },
    )


class ResponsePage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ResponseOut), required=True)
    next_after = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "after= for the next page"}
    )


# -- CATI -----------------------------------------------------------------------------------------


class PageQuery(Strict):
    after = ma.fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31 - 1))
    limit = ma.fields.Integer(load_default=100, validate=validate.Range(min=1, max=PAGE_MAX))


class CaseOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    external_id = ma.fields.String(required=True)
    institution = ma.fields.String(required=True)
    subregion = ma.fields.String(required=True)
    attempts = ma.fields.Integer(required=True)
    is_final = ma.fields.Boolean(required=True)
    excluded = ma.fields.Boolean(required=True)
    priority = ma.fields.Integer(required=True)
    disposition_code = ma.fields.String(required=True)
    outcome_code = ma.fields.String(allow_none=True, required=True)
    next_callable_at = ma.fields.AwareDateTime(allow_none=True, required=True)


class CasePage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CaseOut), required=True)
    next_after = ma.fields.Integer(allow_none=True, required=True)


class CallOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    case_id = ma.fields.Integer(required=True)
    external_id = ma.fields.String(required=True)
    interviewer = ma.fields.String(allow_none=True, required=True)
    number = ma.fields.String(allow_none=True, required=True)
    started = ma.fields.AwareDateTime(allow_none=True, required=True)
    ended = ma.fields.AwareDateTime(allow_none=True, required=True)
    outcome_code = ma.fields.String(allow_none=True, required=True)
    outcome_label = ma.fields.String(allow_none=True, required=True)
    aapor_code = ma.fields.String(allow_none=True, required=True)
    note = ma.fields.String(allow_none=True, required=True)


class CallPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CallOut), required=True)
    next_after = ma.fields.Integer(allow_none=True, required=True)


# -- exports --------------------------------------------------------------------------------------


class ExportRequest(Strict):
    format = ma.fields.String(
        load_default="xlsx", validate=validate.OneOf(["csv", *RESPONSE_FORMATS])
    )
    labels = ma.fields.Boolean(load_default=False)
    language = ma.fields.String(validate=validate.OneOf(LANGUAGES))
    complete_only = ma.fields.Boolean(load_default=False)
    date_from = ma.fields.Date()
    date_to = ma.fields.Date()
    subregion = ma.fields.String(validate=validate.Length(max=100))

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
