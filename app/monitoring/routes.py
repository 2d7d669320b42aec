"""The monitoring pages: indicators of the plan against their targets."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_babel import get_locale

from app.models.fieldwork import Fieldwork
from app.models.users import Role
from app.monitoring import services
from app.platform.extensions import db_session
from app.platform.security import SCOPED, roles
from app.platform.web import current_scope, refuse_out_of_scope

bp = Blueprint("monitoring", __name__, url_prefix="/monitoring")


@bp.route("/")
@roles(Role.ANALYST, Role.COORDINATOR, scope=SCOPED)
def index():
    return render_template(
        "monitoring/index.html", overview=services.overview(db_session(), current_scope())
    )


@bp.route("/<int:fieldwork_id>")
@roles(Role.ANALYST, Role.COORDINATOR, scope=SCOPED)
def fieldwork(fieldwork_id: int):
    found = db_session().get(Fieldwork, fieldwork_id)
    if found is None:
        abort(404)
    scope = current_scope()
    if not scope.admits_fieldwork(db_session(), found):
        refuse_out_of_scope(f"fieldwork {fieldwork_id}", fieldwork_id)
    page = services.fieldwork_indicators(db_session(), found, scope, language=str(get_locale()))
    return render_template("monitoring/fieldwork.html", page=page)
