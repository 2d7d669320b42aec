"""Download buttons: a fieldwork's responses as an XLSX workbook or a streamed CSV.

The filters are query parameters (``labels=1``, ``lang=pl|en``, ``complete_only=1``,
``from=YYYY-MM-DD``, ``to=YYYY-MM-DD``, ``subregion=...``). The CSV is streamed a row at a
time, so a large export neither holds the response in memory nor waits for the whole file
before the first byte. The XLSX format needs a finished file (a zip), so it is written to
a temporary file in constant-memory mode and then sent.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from flask import Blueprint, Response, abort, request, send_file, stream_with_context

from app.exports import services
from app.exports.cli import LANGUAGES, translate
from app.extensions import db_session, get_db
from app.models.fieldwork import Fieldwork
from app.models.users import Role
from app.security import roles

bp = Blueprint("exports", __name__, url_prefix="/fieldwork")

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_STORE = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def _flag(name: str) -> bool:
    return request.args.get(name, "") in ("1", "true", "yes", "on")


def _day(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400)


def _options() -> services.ExportOptions:
    """The export's options from the query string (a malformed one is a 400)."""
    language = request.args.get("lang") or None
    if language is not None and language not in LANGUAGES:
        abort(400)
    return services.ExportOptions(
        labels=_flag("labels"),
        language=language,
        complete_only=_flag("complete_only"),
        date_from=_day("from"),
        date_to=_day("to"),
        subregion=request.args.get("subregion") or None,
    )


def _fieldwork_or_404(fieldwork_id: int) -> Fieldwork:
    fieldwork = db_session().get(Fieldwork, fieldwork_id)
    if fieldwork is None:
        abort(404)
    return fieldwork


@bp.route("/<int:fieldwork_id>/export.xlsx")
@roles(Role.ANALYST)
def export_xlsx(fieldwork_id: int):
    fieldwork = _fieldwork_or_404(fieldwork_id)
    options = _options()
    # the temporary file is deleted when closed: after sending, or at once on an error
    handle = tempfile.NamedTemporaryFile(prefix="ankieta-export-", suffix=".xlsx")
    try:
        services.write_xlsx(
            db_session(), fieldwork, Path(handle.name), options, translate=translate
        )
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    response = send_file(
        handle,
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"odpowiedzi-badanie-{fieldwork.id}.xlsx",
    )
    response.headers.update(NO_STORE)
    response.call_on_close(handle.close)
    return response


@bp.route("/<int:fieldwork_id>/export.csv")
@roles(Role.ANALYST)
def export_csv(fieldwork_id: int):
    fieldwork = _fieldwork_or_404(fieldwork_id)
    options = _options()
    database = get_db()

    def generate():
        # The request's session is committed and closed before the body is sent, so the
        # stream reads through a session of its own, closed when the stream ends or the
        # client goes away (no connection is left holding a transaction).
        with database.sessionmaker() as session:
            streamed = session.get(Fieldwork, fieldwork.id)
            for line in services.iter_csv(session, streamed, options, translate=translate):
                yield line.encode("utf-8")

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="odpowiedzi-badanie-{fieldwork.id}.csv"',
            **NO_STORE,
        },
    )
