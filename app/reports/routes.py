"""Download of the monitoring report workbook (analysts)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from app.extensions import db_session
from app.models.fieldwork import Fieldwork
from app.models.users import Role
from app.reports.services import ReportError, write_report
from app.security import roles

bp = Blueprint("reports", __name__)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LANGUAGES = ("pl", "en")


@bp.route("/fieldwork/<int:fieldwork_id>/report.xlsx")
@roles(Role.ANALYST)
def fieldwork_report(fieldwork_id: int):
    """The report workbook; ``?by=`` a sample variable, ``?compare=`` an earlier fieldwork,
    ``?lang=`` pl or en, ``?all=1`` partial responses too."""
    session = db_session()
    fieldwork = session.get(Fieldwork, fieldwork_id)
    if fieldwork is None:
        abort(404)
    compare = None
    compare_id = request.args.get("compare", type=int)
    if compare_id is not None:
        compare = session.get(Fieldwork, compare_id)
        if compare is None:
            abort(404)
    language = request.args.get("lang")
    try:
        data = write_report(
            session,
            fieldwork,
            by=request.args.get("by") or None,
            compare=compare,
            language=language if language in LANGUAGES else None,
            include_partial=request.args.get("all") == "1",
        )
    except ReportError:
        abort(400)
    return Response(
        data,
        mimetype=XLSX_MIME,
        headers={
            "Content-Disposition": f'attachment; filename="raport-badanie-{fieldwork.id}.xlsx"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
