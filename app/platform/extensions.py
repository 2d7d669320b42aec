"""Flask extensions, created here once and bound to the app in create_app."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, g, request, session
from flask_babel import Babel
from flask_login import LoginManager as _LoginManager
from flask_login.config import COOKIE_NAME
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.platform.db import Database, begin_for_writing

F = TypeVar("F", bound=Callable[..., Any])

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # requests that only read


class LoginManager(_LoginManager):  # type: ignore[misc]  # Flask-Login has no types
    """Flask-Login's manager, whose "strong" session protection leaves alone a session
    nobody is logged into.

    Flask-Login checks every non-empty session against the client's address and browser;
    an anonymous one (a respondent's, which holds only its CSRF token) never carries the
    fingerprint, so it "failed" on every page that looked at ``current_user``: the session
    cookie was rewritten and a remember-me cookie deleted on each of them. With no user in
    the session and no remember-me cookie there is nobody to protect (the visitor is
    anonymous either way); everything else is checked as before.
    """

    def _session_protection_failed(self) -> bool:
        cookie = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
        if "_user_id" not in session and cookie not in request.cookies:
            return False
        return bool(super()._session_protection_failed())


babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()


def get_db() -> Database:
    """The application's Database (engine and session factory)."""
    return cast(Database, current_app.extensions["ankieta.db"])


def writes_on_get(view: F) -> F:
    """Mark a view whose GET changes data (it starts a response, keeps a claim alive).

    Its transaction then starts as a writing one, like every POST's, so that on SQLite it
    waits its turn for the write lock instead of failing at commit (see app/db.py).
    """
    view.writes_on_get = True  # type: ignore[attr-defined]
    return view


def _request_writes() -> bool:
    if request.method not in SAFE_METHODS:
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "writes_on_get", False))


def _unmarked_write(session: Session, *_args: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise AssertionError(
            f"{request.endpoint} changed data on {request.method} without @writes_on_get"
        )


def db_session() -> Session:
    """This request's session: committed when the request succeeds, rolled back otherwise."""
    if "db_session" not in g:
        session = get_db().sessionmaker()
        if _request_writes():
            begin_for_writing(session)
        elif current_app.testing:
            # in tests, a GET that writes without saying so fails at once, not only on a
            # busy SQLite server
            event.listen(session, "before_flush", _unmarked_write)
        g.db_session = session
    return cast(Session, g.db_session)


def discard_changes() -> None:
    """Undo what this request has changed so far: a refused action keeps nothing, and the
    page shown next reads the stored state."""
    db_session().rollback()


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once this request's transaction is committed (e.g. hand work to the
    worker, which reads the request's rows in its own transaction); never if it is not."""
    g.setdefault("after_commit", []).append(callback)


def now() -> datetime:
    """The current moment from the application's clock (tests inject their own)."""
    return cast(datetime, current_app.config["CLOCK"]())


def init_database(app: Flask) -> None:
    """Bind a Database to ``app`` and the one-transaction-per-request boundary."""
    app.extensions["ankieta.db"] = Database(app.config["DATABASE_URL"])

    @app.after_request
    def commit_session(response: Response) -> Response:
        session = g.pop("db_session", None)
        callbacks = g.pop("after_commit", [])
        if session is not None:
            try:
                if response.status_code < 500:
                    session.commit()
                else:
                    session.rollback()
                    callbacks = []
            finally:
                session.close()
        for callback in callbacks:
            callback()
        return response

    @app.teardown_request
    def close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)  # still here only if the request raised
        if session is not None:
            session.rollback()
            session.close()
