"""The API's own endpoints: who the token is, the surveys, the call queue's cases and calls.

The machinery (token authentication, audit, problem details, the OpenAPI document) is in
app.platform.api; fieldwork, sample and export endpoints are in their features' ``api.py``.
"""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask_babel import gettext as _

from app.api import schemas, services
from app.models.tokens import ApiToken
from app.models.users import Role
from app.platform.api import (
    ANALYSTS,
    AUTH_ERRORS,
    PageQuery,
    abort_problem,
    bp,
    errors,
    fieldwork_or_404,
    token_scope,
)
from app.platform.extensions import db_session
from app.platform.security import NO_INSTITUTIONS, SCOPED, token_roles

# the supervisor's pages (an OWES coordinator's too), the export's Calls
CATI_READERS = (Role.ANALYST, Role.SUPERVISOR, Role.COORDINATOR)


# -- who am I -------------------------------------------------------------------------------------


@bp.route("/me")
@bp.response(200, schemas.Me)
@errors(*AUTH_ERRORS)
@token_roles(*Role, scope=NO_INSTITUTIONS)
def me():
    """The token's user (with the subregions and entity types it is limited to) and the
    token itself."""
    user = g.api_user
    token = db_session().get_one(ApiToken, g.api_token_id)
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        **token_scope().describe(),
        "token_id": token.id,
        "scope": token.scope,
        "expires_at": token.expires_at,
    }


# -- surveys --------------------------------------------------------------------------------------


@bp.route("/surveys")
@bp.response(200, schemas.Survey(many=True))
@errors(*AUTH_ERRORS)
@token_roles(*ANALYSTS, scope=NO_INSTITUTIONS)
def surveys():
    """Every survey with its definition versions."""
    return services.surveys(db_session())


@bp.route("/surveys/<int:survey_id>")
@bp.response(200, schemas.Survey)
@errors(*AUTH_ERRORS, 404)
@token_roles(*ANALYSTS, scope=NO_INSTITUTIONS)
def survey(survey_id: int):
    """One survey with its definition versions."""
    found = services.surveys(db_session(), survey_id)
    if not found:
        abort_problem(404, _("There is no such survey."))
    return found[0]


# -- CATI -----------------------------------------------------------------------------------------


@bp.route("/fieldworks/<int:fieldwork_id>/cases")
@bp.arguments(PageQuery, location="query")
@bp.response(200, schemas.CasePage)
@errors(*AUTH_ERRORS, 404)
@token_roles(*CATI_READERS, scope=SCOPED)
def cases(args: dict[str, Any], fieldwork_id: int):
    """The call queue's cases: attempts, final or not, AAPOR disposition."""
    fieldwork = fieldwork_or_404(fieldwork_id)
    return services.cases(db_session(), fieldwork, token_scope(), args["after"], args["limit"])


@bp.route("/fieldworks/<int:fieldwork_id>/calls")
@bp.arguments(PageQuery, location="query")
@bp.response(200, schemas.CallPage)
@errors(*AUTH_ERRORS, 404)
@token_roles(*CATI_READERS, scope=SCOPED)
def calls(args: dict[str, Any], fieldwork_id: int):
    """Every call made: who, when, the outcome and its AAPOR code."""
    fieldwork = fieldwork_or_404(fieldwork_id)
    language = "en" if request.accept_languages.best_match(["pl", "en"]) == "en" else "pl"
    return services.calls(
        db_session(), fieldwork, token_scope(), args["after"], args["limit"], language
    )
