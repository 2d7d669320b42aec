"""Flask extensions, created here once and bound to the app in create_app."""

from datetime import datetime

from flask import Flask, Response, current_app, g, request
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session

from app.db import Database, begin_for_writing

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # requests that only read

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()


def get_db() -> Database:
    """The application's Database (engine and session factory)."""
    return current_app.extensions["ankieta.db"]


def db_session() -> Session:
    """This request's session: committed when the request succeeds, rolled back otherwise."""
    if "db_session" not in g:
        session = get_db().sessionmaker()
        if request.method not in SAFE_METHODS:
            begin_for_writing(session)
        g.db_session = session
    return g.db_session


def now() -> datetime:
    """The current moment from the application's clock (tests inject their own)."""
    return current_app.config["CLOCK"]()


def init_database(app: Flask) -> None:
    """Bind a Database to ``app`` and the one-transaction-per-request boundary."""
    app.extensions["ankieta.db"] = Database(app.config["DATABASE_URL"])

    @app.after_request
    def commit_session(response: Response) -> Response:
        session = g.pop("db_session", None)
        if session is not None:
            try:
                if response.status_code < 500:
                    session.commit()
                else:
                    session.rollback()
            finally:
                session.close()
        return response

    @app.teardown_request
    def close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)  # still here only if the request raised
        if session is not None:
            session.rollback()
            session.close()
