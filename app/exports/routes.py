"""Results files for analysts: ask for one, watch it being prepared, download it.

Every file (the response workbook, the responses CSV, the monitoring report) is prepared
in the background (``app.exports.jobs``): the request that asks for it returns at once
with a page that shows how far it is, so a 100,000-response export never holds a server
worker (nor runs into its timeout) or keeps other users waiting.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.exports import jobs, services
from app.exports.forms import ExportForm
from app.exports.report import known_breakdowns
from app.models.fieldwork import Fieldwork, SampleUnit, earlier_fieldworks, sample_facets
from app.models.jobs import ExportJob, JobState
from app.models.users import Role
from app.platform.extensions import after_commit, db_session, get_db, now
from app.platform.security import SCOPED, roles
from app.platform.tasks import queue_of
from app.platform.web import audit, current_scope, refuse_out_of_scope

bp = Blueprint("exports", __name__)

NO_STORE = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def _fieldwork_or_404(fieldwork_id: int) -> Fieldwork:
    """The fieldwork, if it has institutions in the user's scope (else 404, audited)."""
    fieldwork = db_session().get(Fieldwork, fieldwork_id)
    if fieldwork is None:
        abort(404)
    if not current_scope().admits_fieldwork(db_session(), fieldwork):
        refuse_out_of_scope(f"fieldwork {fieldwork_id}", fieldwork_id)
    return fieldwork


# -- asking for a file --------------------------------------------------------------------------


def _form(fieldwork: Fieldwork) -> ExportForm:
    session = db_session()
    form = ExportForm()
    form.language.choices = [("", _("the questionnaire's")), ("pl", "polski"), ("en", "English")]
    subregions, _types = sample_facets(session, fieldwork, current_scope().covers(SampleUnit.id))
    form.subregion.choices = [("", _("all"))] + [(s, s) for s in subregions]
    form.by.choices = [("", _("no breakdown"))] + [
        (name, _breakdown_label(name)) for name in known_breakdowns(session, fieldwork)
    ]
    # only an earlier fieldwork of the same survey can be compared with
    earlier = earlier_fieldworks(session, fieldwork)
    form.compare.choices = [("", _("none"))] + [(str(f.id), f.title) for f in earlier]
    return form


BREAKDOWN_LABELS = {
    "subregion": _l("Subregion"),
    "entity_type": _l("Type of institution"),
    "powiat": _l("Powiat"),
    "gmina": _l("Gmina"),
}


def _breakdown_label(name: str) -> str:
    """A breakdown in words: a standard column's name, or a sample variable's in words."""
    if name in BREAKDOWN_LABELS:
        return str(BREAKDOWN_LABELS[name])
    text = name.removeprefix("v_").replace("_", " ")
    return _("sample variable: %(name)s", name=text)


def _files_page(fieldwork: Fieldwork, form: ExportForm, status: int = 200):
    moment = now()
    recent = [
        (job, jobs.status_in(current_app, job, moment))
        for job in jobs.recent_jobs(db_session(), fieldwork, current_user.id, moment)
    ]
    return (
        render_template(
            "exports/files.html", fieldwork=fieldwork, form=form, recent=recent, _render=_
        ),
        status,
    )


@bp.route("/fieldwork/<int:fieldwork_id>/files")
@roles(Role.ANALYST, Role.COORDINATOR, scope=SCOPED)
def files(fieldwork_id: int):
    fieldwork = _fieldwork_or_404(fieldwork_id)
    return _files_page(fieldwork, _form(fieldwork))


@bp.route("/fieldwork/<int:fieldwork_id>/files", methods=["POST"])
@roles(Role.ANALYST, Role.COORDINATOR, scope=SCOPED)
def request_file(fieldwork_id: int):
    fieldwork = _fieldwork_or_404(fieldwork_id)
    form = _form(fieldwork)
    if not form.validate_on_submit():
        return _files_page(fieldwork, form, status=400)
    export_options = services.ExportOptions(
        labels=form.labels.data,
        language=form.language.data or None,
        complete_only=form.complete_only.data,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        subregion=form.subregion.data or None,
        include_tests=form.include_tests.data,
        scope=current_scope(),
        csv_dialect=form.csv_dialect.data,
    )
    kind = form.kind.data
    if kind in (jobs.RESPONSES, jobs.CSV, jobs.ATTACHMENTS):
        options = jobs.export_options_to_json(export_options)
    elif kind in jobs.STAT_FORMATS:  # the same responses job, in another format
        options = {**jobs.export_options_to_json(export_options), "format": kind}
        kind = jobs.RESPONSES
    else:
        options = jobs.ReportOptions(
            by=form.by.data or None,
            compare_id=int(form.compare.data) if form.compare.data else None,
            language=export_options.language,
            include_partial=form.include_partial.data,
            scope=export_options.scope,
        ).to_json()
    job, new = jobs.create_job(db_session(), fieldwork, current_user.id, kind, options, now())
    key = job.key
    if new:
        start(job.id)
    return redirect(url_for("exports.job", key=key))


def start(job_id: int) -> None:
    """Queue a job just created in this request's transaction for a worker to build, once
    the request commits (the worker reads the job in its own transaction)."""
    queue = queue_of(current_app)
    after_commit(lambda: queue.submit(job_id))


# -- watching it and downloading it -------------------------------------------------------------


def _job_or_404(key: str) -> ExportJob:
    """The user's own job (another's, or a wider one than the user's scope now: 404; one
    outside a scoped user's scope is an audited attempt)."""
    found = jobs.job_for(db_session(), key, current_user.id, current_scope())
    if found.refused is not None:
        refuse_out_of_scope(f"file {key[:12]}", found.refused.fieldwork_id)
    if found.job is None:
        abort(404)
    return found.job


def _status(job: ExportJob) -> dict:
    status = jobs.status_in(current_app, job, now())
    return {
        "state": status.state.value,
        "done": job.done,
        "total": job.total,
        "size": job.size,
        "error": status.error.render(_) if status.error else "",
        "download": url_for("exports.download", key=job.key)
        if status.state == JobState.DONE
        else "",
    }


@bp.route("/files/<key>")
@roles(Role.ANALYST, Role.COORDINATOR, scope=SCOPED)
def job(key: str):
    found = _job_or_404(key)
    fieldwork = _fieldwork_or_404(found.fieldwork_id)
    response = Response(
        render_template("exports/job.html", job=found, fieldwork=fieldwork, status=_status(found))
    )
    response.headers.update(NO_STORE)
    return response


@bp.route("/files/<key>/status")
@roles(Role.ANALYST, Role.COORDINATOR, scope=SCOPED)
def job_status(key: str):
    response = jsonify(_status(_job_or_404(key)))
    response.headers.update(NO_STORE)
    return response


@bp.route("/files/<key>/download")
@roles(Role.ANALYST, Role.COORDINATOR, scope=SCOPED)
def download(key: str):
    found = _job_or_404(key)
    if found.state != JobState.DONE:
        return redirect(url_for("exports.job", key=found.key))
    audit(
        "report.downloaded" if found.kind in jobs.REPORT_KINDS else "export.downloaded",
        fieldwork_id=found.fieldwork_id,
        target=f"fieldwork {found.fieldwork_id}",
        detail={
            "format": jobs.file_format(found.kind, found.options),
            "kind": found.kind,
            **found.options,
        },
    )
    database, job_id = get_db(), found.id
    return Response(
        stream_with_context(jobs.iter_file(database, job_id)),
        mimetype=jobs.mimetype(found.kind, found.options, found.file_name),
        headers={
            "Content-Disposition": f'attachment; filename="{found.file_name}"',
            "Content-Length": str(found.size),
            **NO_STORE,
        },
    )
