"""Friendly error pages (in the user's language) instead of tracebacks."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError


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

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
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

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.exception("unhandled error on %s", request.path)
        title, message = _describe(500)
        try:
            page = render_template("errors/error.html", code=500, title=title, message=message)
        except Exception:  # the full layout needs the database, which may be what failed
            app.logger.exception("error page could not be rendered; using the plain one")
            page = render_template("errors/plain.html", code=500, title=title, message=message)
        return page, 500

    app.register_error_handler(InternalServerError, unexpected_error)


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
