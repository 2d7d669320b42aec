"""The REST API (``/api/v1/``): surveys, fieldwork, samples, responses, CATI, exports.

Every route declares its roles with ``token_roles`` (the same roles as the web pages that
show the same things) and is opened only with a personal token in ``Authorization:
Bearer …`` — never with the session cookie, so a browser logged in to Ankieta cannot be
made to call it (the API therefore needs, and has, no CSRF token). A request that would
change data needs a read-write token. Every use of a token is written to the audit log.
Errors are RFC 9457 problem details. The OpenAPI document is built by flask-smorest from
the schemas in ``app.api.schemas``.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import (
    Flask,
    Response,
    current_app,
    g,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from sqlalchemy import update
from werkzeug.exceptions import HTTPException

from app.api import schemas, services
from app.domain.fieldwork.sample import MAX_FILE_BYTES
from app.exports import jobs
from app.exports.routes import start as start_job
from app.exports.services import ExportOptions
from app.fieldwork import services as fieldwork_services
from app.models.fieldwork import Fieldwork
from app.models.jobs import JobState
from app.models.tokens import ApiToken, TokenScope
from app.models.users import Role
from app.platform import audit as audit_log
from app.platform.extensions import SAFE_METHODS, csrf, db_session, get_db, now
from app.platform.i18n import translate
from app.platform.problems import PROBLEM_MIMETYPE, problem
from app.platform.security import access_rule, public, token_roles
from app.platform.web import IdConverter
from app.tokens.services import authenticate

API_VERSION = "1"
PREFIX = "/api/v1"
ANALYSTS = (Role.ANALYST,)
CATI_READERS = (Role.ANALYST, Role.SUPERVISOR)  # the supervisor's pages, the export's Calls
FILE_TYPES = ("text/csv", jobs.XLSX_MIMETYPE, *jobs.STAT_MIMETYPES.values())

bp = Blueprint(
    "api",
    __name__,
    url_prefix=PREFIX,
    description="Ankieta's REST API: personal bearer tokens, JSON, RFC 9457 problems.",
)
csrf.exempt(bp)  # a token in a header, never a cookie, opens the API: nothing to forge


class ProblemApi(Api):
    """flask-smorest, documenting errors as problem details and leaving the app's other
    error pages alone (the API blueprint answers its own errors)."""

    ERROR_SCHEMA = schemas.Problem

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


def init_app(app: Flask) -> None:
    """Register the API blueprint and its OpenAPI description on ``app``."""
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


def _errors(*codes: int):
    """Document the problem responses a route may give (besides 422 for bad input)."""

    def decorate(view):
        for code in codes:
            view = bp.alt_response(code, schema=schemas.Problem, content_type=PROBLEM_MIMETYPE)(
                view
            )
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
    token = authenticate(db_session(), presented.strip(), now())
    if token is None:
        challenge["WWW-Authenticate"] += ', error="invalid_token"'
        return problem(401, _("The token is unknown, expired or revoked."), headers=challenge)
    user = token.user
    g.api_token_id, g.api_user = token.id, user
    if user.must_change_password:
        return problem(403, _("Change your password on the website first."))
    if not rule.allows(user.role_enum):
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

    def record(session) -> None:
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
def http_problem(error: HTTPException):
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if error.code == 422 and messages:
        return problem(422, _("The request is not valid."), errors=_field_errors(messages))
    return problem(error.code or 500, error.description if error.code != 500 else "")


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


def _fieldwork_or_404(fieldwork_id: int) -> Fieldwork:
    fieldwork = db_session().get(Fieldwork, fieldwork_id)
    if fieldwork is None:
        _abort(404, _("There is no such fieldwork."))
    return fieldwork


class _Problem(HTTPException):
    def __init__(self, code: int, detail: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(detail)
        self.code = code
        self.errors = errors

    def get_response(self, environ=None, scope=None):  # noqa: ARG002 - werkzeug's signature
        return problem(self.code, self.description or "", errors=self.errors)


def _abort(code: int, detail: str, errors: list[dict[str, Any]] | None = None):
    raise _Problem(code, detail, errors)


@bp.errorhandler(_Problem)
def own_problem(error: _Problem):
    return error.get_response()


# -- the description ------------------------------------------------------------------------------


@bp.route("/openapi.json")
@bp.doc(
    security=[],
    summary="This API's OpenAPI document",
    responses={"200": {"description": "OpenAPI 3", "content": {"application/json": {}}}},
)
@public
def openapi_json():
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
def docs():
    spec = current_app.extensions["ankieta.api"].spec.to_dict()
    return render_template("api/docs.html", spec=spec, prefix=PREFIX)


# -- who am I -------------------------------------------------------------------------------------


@bp.route("/me")
@bp.response(200, schemas.Me)
@_errors(*AUTH_ERRORS)
@token_roles(*Role)
def me():
    """The token's user and the token itself."""
    user = g.api_user
    token = db_session().get(ApiToken, g.api_token_id)
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "token_id": token.id,
        "scope": token.scope,
        "expires_at": token.expires_at,
    }


# -- surveys --------------------------------------------------------------------------------------


@bp.route("/surveys")
@bp.response(200, schemas.Survey(many=True))
@_errors(*AUTH_ERRORS)
@token_roles(*ANALYSTS)
def surveys():
    """Every survey with its definition versions."""
    return services.surveys(db_session())


@bp.route("/surveys/<int:survey_id>")
@bp.response(200, schemas.Survey)
@_errors(*AUTH_ERRORS, 404)
@token_roles(*ANALYSTS)
def survey(survey_id: int):
    """One survey with its definition versions."""
    found = services.surveys(db_session(), survey_id)
    if not found:
        _abort(404, _("There is no such survey."))
    return found[0]


# -- fieldwork ------------------------------------------------------------------------------------


@bp.route("/fieldworks")
@bp.response(200, schemas.FieldworkOut(many=True))
@_errors(*AUTH_ERRORS)
@token_roles(*ANALYSTS)
def fieldworks():
    """Every fieldwork with its progress (sample size, responses begun and completed)."""
    return services.fieldworks(db_session())


@bp.route("/fieldworks/<int:fieldwork_id>")
@bp.response(200, schemas.FieldworkOut)
@_errors(*AUTH_ERRORS, 404)
@token_roles(*ANALYSTS)
def fieldwork(fieldwork_id: int):
    """One fieldwork with its progress."""
    found = services.fieldworks(db_session(), fieldwork_id)
    if not found:
        _abort(404, _("There is no such fieldwork."))
    return found[0]


def _import(fieldwork: Fieldwork, data: bytes, filename: str, *, json_rows: bool):
    outcome = fieldwork_services.import_sample(db_session(), fieldwork, data, filename, now=now())
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
        _abort(422, _("The sample has errors; nothing was imported."), errors)
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
@bp.arguments(schemas.SampleRows)
@bp.response(201, schemas.Imported)
@_errors(*AUTH_ERRORS, 404)
@token_roles(*ANALYSTS)
def import_sample_rows(body: dict[str, Any], fieldwork_id: int):
    """Add institutions to the sample, given as JSON rows.

    The same checks and messages as a sample file uploaded on the fieldwork page; any
    error refuses the whole sample (nothing is added) with a 422 whose ``errors`` give the
    row (1: the first object) and column of each problem.
    """
    fieldwork = _fieldwork_or_404(fieldwork_id)
    return _import(fieldwork, services.rows_as_csv(body["rows"]), "api.csv", json_rows=True)


@bp.route("/fieldworks/<int:fieldwork_id>/sample/file", methods=["POST"])
@bp.arguments(schemas.SampleFile, location="files")
@bp.response(201, schemas.Imported)
@_errors(*AUTH_ERRORS, 404)
@token_roles(*ANALYSTS)
def import_sample_file(files: dict[str, Any], fieldwork_id: int):
    """Add institutions from a sample file (.xlsx or .csv), exactly as the upload does;
    ``errors`` give the file's row (1: the header) and column of each problem."""
    fieldwork = _fieldwork_or_404(fieldwork_id)
    upload = files["file"]
    data = upload.read(MAX_FILE_BYTES + 1)  # a larger one is refused by the same check
    return _import(fieldwork, data, upload.filename or "sample", json_rows=False)


# -- responses ------------------------------------------------------------------------------------


def _options(args: dict[str, Any]) -> ExportOptions:
    return ExportOptions(
        labels=args.get("labels", False),
        language=args.get("language"),
        complete_only=args.get("status") == "complete" or args.get("complete_only", False),
        date_from=args.get("date_from"),
        date_to=args.get("date_to"),
        subregion=args.get("subregion") or None,
    )


@bp.route("/fieldworks/<int:fieldwork_id>/responses")
@bp.arguments(schemas.ResponsesQuery, location="query")
@bp.response(200, schemas.ResponsePage)
@_errors(*AUTH_ERRORS, 404)
@token_roles(*ANALYSTS)
def responses(args: dict[str, Any], fieldwork_id: int):
    """A page of responses in id order, read as the export reads them.

    Filters as the export's: status, last worked on from/to (Warsaw days), subregion;
    ``labels=true`` gives choice labels (in ``language``) instead of codes. Ask for the
    next page with ``after`` = the page's ``next_after`` (null: this was the last page).
    """
    fieldwork = _fieldwork_or_404(fieldwork_id)
    return services.responses(
        db_session(),
        fieldwork,
        _options(args),
        translate=translate,
        partial_only=args.get("status") == "partial",
        after=args["after"],
        limit=args["limit"],
    )


@bp.route("/fieldworks/<int:fieldwork_id>/responses/<int:response_id>")
@bp.arguments(schemas.OneResponseQuery, location="query")
@bp.response(200, schemas.ResponseOut)
@_errors(*AUTH_ERRORS, 404)
@token_roles(*ANALYSTS)
def response(args: dict[str, Any], fieldwork_id: int, response_id: int):
    """One response."""
    fieldwork = _fieldwork_or_404(fieldwork_id)
    found = services.one_response(
        db_session(), fieldwork, response_id, _options(args), translate=translate
    )
    if found is None:
        _abort(404, _("There is no such response in this fieldwork."))
    return found


# -- CATI -----------------------------------------------------------------------------------------


@bp.route("/fieldworks/<int:fieldwork_id>/cases")
@bp.arguments(schemas.PageQuery, location="query")
@bp.response(200, schemas.CasePage)
@_errors(*AUTH_ERRORS, 404)
@token_roles(*CATI_READERS)
def cases(args: dict[str, Any], fieldwork_id: int):
    """The call queue's cases: attempts, final or not, AAPOR disposition."""
    fieldwork = _fieldwork_or_404(fieldwork_id)
    return services.cases(db_session(), fieldwork, args["after"], args["limit"])


@bp.route("/fieldworks/<int:fieldwork_id>/calls")
@bp.arguments(schemas.PageQuery, location="query")
@bp.response(200, schemas.CallPage)
@_errors(*AUTH_ERRORS, 404)
@token_roles(*CATI_READERS)
def calls(args: dict[str, Any], fieldwork_id: int):
    """Every call made: who, when, the outcome and its AAPOR code."""
    fieldwork = _fieldwork_or_404(fieldwork_id)
    language = "en" if request.accept_languages.best_match(["pl", "en"]) == "en" else "pl"
    return services.calls(db_session(), fieldwork, args["after"], args["limit"], language)


# -- exports --------------------------------------------------------------------------------------


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
@bp.arguments(schemas.ExportRequest)
@bp.response(202, schemas.ExportJobOut)
@_errors(*AUTH_ERRORS, 404)
@token_roles(*ANALYSTS)
def start_export(body: dict[str, Any], fieldwork_id: int):
    """Have a results file prepared in the background (the same job as on the website):
    xlsx (with codebook, calls and rates), csv, sav (SPSS) or dta (Stata)."""
    fieldwork = _fieldwork_or_404(fieldwork_id)
    options = jobs.export_options_to_json(_options(body))
    kind = jobs.CSV if body["format"] == "csv" else jobs.RESPONSES
    if body["format"] in jobs.STAT_FORMATS:
        options["format"] = body["format"]
    job, new = jobs.create_job(db_session(), fieldwork, g.api_user.id, kind, options, now())
    if new:
        start_job(job.id)
    return _job_out(job)


def _job_or_404(key: str):
    job = jobs.job_for(db_session(), key, g.api_user.id)
    if job is None:
        _abort(404, _("There is no such file of yours."))
    return job


@bp.route("/exports/<key>")
@bp.response(200, schemas.ExportJobOut)
@_errors(*AUTH_ERRORS, 404)
@token_roles(*ANALYSTS)
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
@_errors(*AUTH_ERRORS, 404, 409)
@token_roles(*ANALYSTS)
def export_file(key: str):
    """The prepared file (409 while it is still being prepared or if it failed)."""
    job = _job_or_404(key)
    if jobs.status_of(job, now()).state != JobState.DONE:
        _abort(409, _("The file is not ready."))
    with get_db().session() as session:
        audit_log.record(
            session,
            "report.downloaded" if job.kind == jobs.REPORT else "export.downloaded",
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
        mimetype=jobs.mimetype(job.kind, job.options),
        headers={
            "Content-Disposition": f'attachment; filename="{job.file_name}"',
            "Content-Length": str(job.size),
            "Cache-Control": "no-store",
        },
    )
