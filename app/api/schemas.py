"""What the API's own endpoints give, as marshmallow schemas (its OpenAPI document too)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

# -- who ------------------------------------------------------------------------------------------


class Me(ma.Schema):
    id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    full_name = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    subregions = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "The subregions the account sees (empty: all of them)"},
    )
    entity_types = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "The entity types the account sees (empty: all of them)"},
    )
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


# -- CATI -----------------------------------------------------------------------------------------


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
