"""Checks run when a server or a command starts (never inside the app factory)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from app.domain.messages import N_
from app.platform.config import ConfigError


def check_database(app: Flask) -> None:
    """Raise ConfigError (one line) unless the database is reachable and migrated."""
    url = make_url(app.config["DATABASE_URL"]).render_as_string(hide_password=True)
    engine = app.extensions["ankieta.db"].engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            migrated = inspect(connection).has_table("alembic_version")
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise ConfigError(
            N_("cannot reach the database %(url)s: %(reason)s"), url=url, reason=reason
        ) from None
    if not migrated:
        raise ConfigError(
            N_("the database %(url)s has no schema yet; run `ankieta db upgrade`"), url=url
        )
