"""Friendly error pages (in the user's language) instead of tracebacks."""

from __future__ import annotations

from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.platform.problems import is_api_path, problem
from app.platform.web import ControlCharacterError


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        app.logger.info("CSRF check failed on %s: %s", request.endpoint, error.description)
        return (
            render_template(
                "errors/error.html",
                code=400,
                title=_("The form has expired"),
                message=_(
                    "For your safety the form could not be accepted (its security token is "
                    "missing or out of date). Go back, reload the page and send it again."
                ),
            ),
            400,
        )

    @app.errorhandler(ControlCharacterError)
    def control_character(error: ControlCharacterError):
        app.logger.info("control character refused on %s in %r", request.path, error.field)
        message = _(
            "The field “%(field)s” contains a control character (such as a NUL byte) "
            "that cannot be saved. Nothing was saved: go back, retype the text and "
            "send it again.",
            field=error.field,
        )
        if is_api_path(request.path):  # the REST API answers in problem details, not pages
            return problem(400, message)
        return (
            render_template(
                "errors/error.html",
                code=400,
                title=_("The form contains an invisible control character"),
                message=message,
            ),
            400,
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if is_api_path(request.path):  # the REST API answers in problem details, not pages
            return problem(error.code or 500, _describe(error.code or 500)[1])
        title, message = _describe(error.code or 500)
        if error.code == 404 and error.description == "link":
            title = _("This link does not work")
            message = _(
                "The address is not a valid questionnaire link. Copy the whole link from your "
                "invitation, or ask the sender for a new one."
            )
        return render_template(
            "errors/error.html", code=error.code, title=title, message=message
        ), (error.code or 500)

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError):
        if not _database_unavailable(error):  # a bug (constraint, bad SQL): a plain 500
            return unexpected_error(error)
        # The connection was lost (server restarted, backend terminated, network) or the
        # database is busy: nothing of this request was committed, and the pool has
        # dropped the dead connection, so trying again is the right advice.
        app.logger.error("database unavailable on %s: %s", request.path, _first_line(error))
        _discard_session(app)
        title = _("The database is unavailable")
        message = _(
            "The server could not reach its database for a moment. Nothing you sent was "
            "saved; wait a few seconds and try again."
        )
        if is_api_path(request.path):
            return problem(503, message, headers={"Retry-After": "5"})
        return _error_page(app, 503, title, message), 503, {"Retry-After": "5"}

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        # A database error raised outside the view (the commit in after_request) reaches
        # this handler wrapped in an InternalServerError.
        original = getattr(error, "original_exception", None)
        if isinstance(original, DBAPIError) and _database_unavailable(original):
            return database_error(original)
        app.logger.exception("unhandled error on %s", request.path)
        title, message = _describe(500)
        if is_api_path(request.path):
            return problem(500, message)
        return _error_page(app, 500, title, message), 500

    app.register_error_handler(InternalServerError, unexpected_error)


def _error_page(app: Flask, code: int, title: str, message: str) -> str:
    try:
        return render_template("errors/error.html", code=code, title=title, message=message)
    except Exception:  # the full layout needs the database, which may be what failed
        app.logger.exception("error page could not be rendered; using the plain one")
        return render_template("errors/plain.html", code=code, title=title, message=message)


def _database_unavailable(error: DBAPIError) -> bool:
    """True for a lost connection or a busy/unreachable database, not for a bug."""
    return isinstance(error, OperationalError) or error.connection_invalidated


def _first_line(error: DBAPIError) -> str:
    lines = str(error.orig or error).strip().splitlines()
    return f"{type(error.orig or error).__name__}: {lines[0] if lines else ''}"


def _discard_session(app: Flask) -> None:
    """Roll back and close this request's session (its connection may be dead)."""
    session = g.pop("db_session", None)
    if session is None:
        return
    try:
        session.rollback()
        session.close()
    except SQLAlchemyError as exc:
        app.logger.warning("rollback after a database error failed: %s", exc.__class__.__name__)


def _describe(code: int) -> tuple[str, str]:
    if code == 403:
        return _("Access denied"), _("Your account may not open this page.")
    if code == 404:
        return _("Page not found"), _("There is no such page. Check the address or go home.")
    if code == 405:
        return _("Method not allowed"), _("This page cannot be used that way.")
    if code == 413:
        return _("File too large"), _("The file or form sent is larger than the server accepts.")
    if code == 400:
        return _("Bad request"), _("The server could not understand what was sent.")
    return _("Something went wrong"), _(
        "The server hit an unexpected error. Nothing you sent was half-saved; try again, and "
        "tell the administrator if it happens again."
    )
