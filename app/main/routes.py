"""Home page per role, language switch and health check."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.main import services
from app.models.users import Role
from app.platform.extensions import db_session, get_db, now
from app.platform.i18n import SURVEY_LANGUAGE_KEY
from app.platform.security import NO_INSTITUTIONS, public, roles
from app.platform.web import safe_next

bp = Blueprint("main", __name__)
SURVEY_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}")


@bp.route("/")
@roles(*Role, scope=NO_INSTITUTIONS)
def index():
    return render_template(
        "main/home.html", home=services.home_for(db_session(), current_user.role_enum, now())
    )


@bp.route("/language", methods=["POST"])
@public
def set_language():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    if SURVEY_LANGUAGE_CODE.fullmatch(lang):
        # a respondent page also offers the questionnaire's own languages; which of them
        # it has is checked where the questionnaire is shown
        session[SURVEY_LANGUAGE_KEY] = lang
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"))


@bp.route("/healthz")
@public
def healthz():
    try:
        with get_db().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        current_app.logger.error("health check: database unreachable: %s", exc.__class__.__name__)
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}, 200
