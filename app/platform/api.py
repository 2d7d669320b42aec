"""The REST API's machinery (``/api/v1/``), shared by the features that offer endpoints.

Every route declares its roles with ``token_roles`` (the same roles as the web pages that
show the same things) and is opened only with a personal token in ``Authorization:
Bearer …`` — never with the session cookie, so a browser logged in to Ankieta cannot be
made to call it (the API therefore needs, and has, no CSRF token). A request that would
change data needs a read-write token. Every use of a token is written to the audit log.
A token sees what its account sees on the website: a route declared ``SCOPED`` filters by
``token_scope()`` and answers another subregion's object as missing, recorded as on the
website (``refuse_out_of_scope``); a ``WHOLE_REGION`` one refuses a scoped account (403).
Errors are RFC 9457 problem details. The OpenAPI document is built by flask-smorest from
the features' marshmallow schemas.

A feature adds its endpoints to the one blueprint :data:`bp` in a module of its own
(``app/<feature>/api.py``); ``create_app`` names those modules (``API_ROUTES``), so the
endpoints keep one prefix, one set of hooks and one document.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any, NoReturn

import marshmallow as ma
from flask import Flask, Response, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from marshmallow import validate
from sqlalchemy import update
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from app.models.fieldwork import Fieldwork
from app.models.scope import Scope
from app.models.tokens import ApiToken, TokenScope, valid_token
from app.models.users import Role
from app.platform import audit as audit_log
from app.platform.extensions import SAFE_METHODS, csrf, db_session, get_db, now
from app.platform.problems import PROBLEM_MIMETYPE, problem
from app.platform.security import access_rule, public
from app.platform.web import IdConverter, audit

API_VERSION = "1"
PREFIX = "/api/v1"
ANALYSTS = (Role.ANALYST,)
# who reads fieldworks, responses and files on the website (an OWES coordinator too)
FOLLOWERS = (Role.ANALYST, Role.COORDINATOR)
LANGUAGES = ("pl", "en")
PAGE_MAX = 1000

bp = Blueprint(
    "api",
    __name__,
    url_prefix=PREFIX,
    description="Ankieta's REST API: personal bearer tokens, JSON, RFC 9457 problems.",
)
csrf.exempt(bp)  # a token in a header, never a cookie, opens the API: nothing to forge


# -- schemas every part of the API uses -----------------------------------------------------------


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


class PageQuery(Strict):
    after = ma.fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31 - 1))
    limit = ma.fields.Integer(load_default=100, validate=validate.Range(min=1, max=PAGE_MAX))


class ProblemApi(Api):
    """flask-smorest, documenting errors as problem details and leaving the app's other
    error pages alone (the API blueprint answers its own errors)."""

    ERROR_SCHEMA = Problem

    def _register_error_handlers(self) -> None:
        pass

    def _register_responses(self) -> None:
        for status in HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MIMETYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MIMETYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def init_app(app: Flask, route_modules: Sequence[str]) -> None:
    """Register the API blueprint, with the features' ``route_modules``, on ``app``."""
    for module in route_modules:  # imported for the routes they add to ``bp``
        importlib.import_module(module)
    app.config.update(
        API_TITLE="Ankieta",
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.0.3",
        API_SPEC_OPTIONS={
            "components": {
                "securitySchemes": {
                    "bearer": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "A personal token (ank_…) from the account page or "
                        "`ankieta api-tokens create`",
                    }
                }
            },
            "security": [{"bearer": []}],
            "servers": [{"url": "/"}],
        },
    )
    api = ProblemApi(app)
    api.register_converter(
        IdConverter, lambda _c: {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
    )
    api.register_blueprint(bp)
    app.extensions["ankieta.api"] = api


def errors(*codes: int) -> Callable[[Any], Any]:
    """Document the problem responses a route may give (besides 422 for bad input)."""

    def decorate(view: Any) -> Any:
        for code in codes:
            view = bp.alt_response(code, schema=Problem, content_type=PROBLEM_MIMETYPE)(view)
        return view

    return decorate


AUTH_ERRORS = (401, 403)


# -- authentication, audit, errors ----------------------------------------------------------------


@bp.before_request
def authenticate_token() -> Response | None:
    """The bearer token's user, checked against the route's roles and the token's scope."""
    rule = access_rule(current_app, request.endpoint or "")
    if rule is None or not rule.by_token:  # public (the description); no rule: refused before
        return None
    scheme, _sep, presented = request.headers.get("Authorization", "").partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="ankieta"'}
    if scheme.lower() != "bearer" or not presented.strip():
        return problem(
            401, _("Send a personal API token: Authorization: Bearer …"), headers=challenge
        )
    token = valid_token(db_session(), presented.strip(), now())
    if token is None:
        challenge["WWW-Authenticate"] += ', error="invalid_token"'
        return problem(401, _("The token is unknown, expired or revoked."), headers=challenge)
    user = token.user
    g.api_token_id, g.api_user = token.id, user
    if user.must_change_password:
        return problem(403, _("Change your password on the website first."))
    if not rule.admits(user):
        return problem(403, _("Your account may not use this part of the API."))
    if request.method not in SAFE_METHODS and token.scope != TokenScope.WRITE:
        return problem(403, _("This token may only read; this request changes data."))
    return None


@bp.after_request
def audit_token_use(response: Response) -> Response:
    """Every request made with a valid token is in the audit log (refused ones too)."""
    token_id = g.pop("api_token_id", None)
    if token_id is None:
        return response
    user = g.pop("api_user")
    moment = now()
    detail = {
        "token": token_id,
        "method": request.method,
        "path": request.path[:200],
        "status": response.status_code,
    }
    fieldwork_id = (request.view_args or {}).get("fieldwork_id")

    def record(session: Session) -> None:
        audit_log.record(
            session,
            "api.used",
            moment,
            actor=user,
            ip=request.remote_addr or "",
            fieldwork_id=fieldwork_id if isinstance(fieldwork_id, int) else None,
            target=f"token {token_id}",
            detail=detail,
        )
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=moment))

    if request.method not in SAFE_METHODS and response.status_code < 500:
        record(db_session())  # in the request's own transaction
    else:
        if request.method not in SAFE_METHODS:
            # a failed write is undone first (it would also hold SQLite's write lock)
            db_session().rollback()
        # a read's transaction writes nothing: the event gets a short one of its own
        with get_db().session() as session:
            record(session)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.errorhandler(HTTPException)
def http_problem(error: HTTPException) -> Response:
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if error.code == 422 and messages:
        return problem(422, _("The request is not valid."), errors=_field_errors(messages))
    return problem(error.code or 500, (error.description or "") if error.code != 500 else "")


def _field_errors(messages: Any, path: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """webargs' nested ``{location: {field: [messages]}}`` as a flat list of errors, each
    naming its field as ``rows.3.email`` (the location, json or query, left out)."""
    if isinstance(messages, dict):
        found: list[dict[str, Any]] = []
        for key, value in messages.items():
            found.extend(_field_errors(value, (*path, str(key))))
        return found
    field = ".".join(path[1:]) or None
    texts = messages if isinstance(messages, list) else [messages]
    found = []
    for text in texts:
        if isinstance(text, dict | list):
            found.extend(_field_errors(text, path))
        else:
            found.append({"field": field, "message": str(text)})
    return found


def token_scope() -> Scope:
    """The part of the region the token's user sees (app.models.scope), as on the website."""
    return Scope.of(g.api_user)


def refuse_out_of_scope(target: str, fieldwork_id: int | None, detail: str) -> NoReturn:
    """Answer as for an object that does not exist (404, ``detail``) for one outside the
    token user's scope, and record the attempt in the audit log as the website does."""
    audit("scope.denied", actor=g.api_user, target=target, fieldwork_id=fieldwork_id)
    abort_problem(404, detail)


def fieldwork_or_404(fieldwork_id: int) -> Fieldwork:
    """The fieldwork, if it has institutions in the token user's scope (else 404; one
    outside the scope is an audited attempt)."""
    missing = _("There is no such fieldwork.")
    fieldwork = db_session().get(Fieldwork, fieldwork_id)
    if fieldwork is None:
        abort_problem(404, missing)
    if not token_scope().admits_fieldwork(db_session(), fieldwork):
        refuse_out_of_scope(f"fieldwork {fieldwork_id}", fieldwork_id, missing)
    return fieldwork


class _Problem(HTTPException):
    def __init__(self, code: int, detail: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(detail)
        self.code = code
        self.errors = errors

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:  # noqa: ARG002
        return problem(self.code or 500, self.description or "", errors=self.errors)


def abort_problem(code: int, detail: str, errors: list[dict[str, Any]] | None = None) -> NoReturn:
    raise _Problem(code, detail, errors)


@bp.errorhandler(_Problem)
def own_problem(error: _Problem) -> Response:
    return error.get_response()


# -- the description ------------------------------------------------------------------------------


@bp.route("/openapi.json")
@bp.doc(
    security=[],
    summary="This API's OpenAPI document",
    responses={"200": {"description": "OpenAPI 3", "content": {"application/json": {}}}},
)
@public
def openapi_json() -> ResponseReturnValue:
    response = current_app.json.response(current_app.extensions["ankieta.api"].spec.to_dict())
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/docs")
@bp.doc(
    security=[],
    summary="This API's reference, as a web page",
    responses={"200": {"description": "HTML", "content": {"text/html": {}}}},
)
@public
def docs() -> str:
    spec = current_app.extensions["ankieta.api"].spec.to_dict()
    return render_template("api/docs.html", spec=spec, prefix=PREFIX)
