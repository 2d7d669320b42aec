"""Survey pages: the list, loading a definition from a file, one survey's versions."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from app.domain.monitoring.plan import is_plan
from app.domain.questionnaire.attachments import is_bundle
from app.models.surveys import (
    Survey,
    SurveyVersion,
    list_surveys,
    questionnaire_of,
    version_numbered,
)
from app.models.users import Role
from app.platform.extensions import db_session
from app.platform.security import NO_INSTITUTIONS, roles
from app.platform.web import audit
from app.surveys import services
from app.surveys.forms import MAX_DEFINITION_BYTES, UploadDefinitionForm

bp = Blueprint("surveys", __name__, url_prefix="/surveys")


@bp.route("/")
@roles(Role.ANALYST, scope=NO_INSTITUTIONS)
def index():
    return render_template(
        "surveys/index.html",
        rows=list_surveys(db_session()),
        plans=services.list_plans(db_session()),
        form=UploadDefinitionForm(),
    )


@bp.route("/", methods=["POST"])
@roles(Role.ANALYST, scope=NO_INSTITUTIONS)
def upload():
    form = UploadDefinitionForm()
    problems = []
    if form.validate_on_submit():
        files = _read_uploads(form.definition.data)
        sent = ", ".join(name for name, _ in files)
        if sum(len(data) for _, data in files) > MAX_DEFINITION_BYTES:
            form.definition.errors.append(
                _("The file is larger than 5 MB.")
                if len(files) == 1
                else _("The files are larger than 5 MB together.")
            )
        elif len(files) == 1 and is_plan(files[0][1]):
            name, data = files[0]
            plan = services.load_plan_bytes(db_session(), data, name)
            if plan.ok and plan.plan is not None:
                if plan.status == "unchanged":
                    flash(_("This plan is already stored."), "info")
                else:
                    audit(
                        "plan.loaded",
                        target=f"plan {plan.plan.code}",
                        detail={"file": name},
                    )
                    flash(_("Loaded the monitoring plan %(code)s.", code=plan.plan.code), "success")
                return redirect(url_for("surveys.index"))
            problems = [problem.render(_) for problem in plan.problems]
            form.definition.errors.append(_("The plan has errors; nothing was stored."))
        else:
            outcome = services.load_upload(db_session(), files)
            if outcome.ok and outcome.survey and outcome.version:
                if outcome.status == "unchanged":
                    flash(
                        _(
                            "This definition is already stored as version %(n)d.",
                            n=outcome.version.number,
                        ),
                        "info",
                    )
                else:
                    audit(
                        "survey.loaded",
                        target=f"survey {outcome.survey.code}",
                        detail={"file": sent, "version": outcome.version.number},
                    )
                    flash(_("Loaded as version %(n)d.", n=outcome.version.number), "success")
                return redirect(url_for("surveys.detail", survey_id=outcome.survey.id))
            problems = [problem.render(_) for problem in outcome.problems]
            form.definition.errors.append(_("The definition has errors; nothing was stored."))
    rows = list_surveys(db_session())
    plans = services.list_plans(db_session())
    return render_template(
        "surveys/index.html", rows=rows, plans=plans, form=form, problems=problems
    ), 400


def _read_uploads(uploads: list[FileStorage]) -> list[tuple[str, bytes]]:
    """Each uploaded file's name and bytes, reading no more than shows they are too large."""
    files: list[tuple[str, bytes]] = []
    left = MAX_DEFINITION_BYTES + 1
    for upload in uploads:
        data = upload.read(max(left, 0))
        left -= len(data)
        files.append((_safe_name(upload.filename), data))
    return files


def _safe_name(filename: str | None) -> str:
    """The upload's base name, for messages and the stored source name."""
    name = (filename or "definition").replace("\\", "/").rsplit("/", 1)[-1]
    return name[:200] or "definition"


@bp.route("/<int:survey_id>")
@roles(Role.ANALYST, scope=NO_INSTITUTIONS)
def detail(survey_id: int):
    survey = db_session().get(Survey, survey_id)
    if survey is None or survey.latest is None:
        abort(404)
    questionnaire = questionnaire_of(survey.latest)
    return render_template("surveys/detail.html", survey=survey, questionnaire=questionnaire)


@bp.route("/<int:survey_id>/versions/<int:number>/source")
@roles(Role.ANALYST, scope=NO_INSTITUTIONS)
def source(survey_id: int, number: int):
    version = version_numbered(db_session(), survey_id, number)
    if version is None:
        abort(404)
    if is_bundle(version.source_name):
        mimetype = "application/zip"  # a workbook and the choices files it reads
    elif version.source_format == "xlsform":
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        mimetype = "application/yaml"

    return Response(
        version.source,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{_download_name(version)}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def _download_name(version: SurveyVersion) -> str:
    suffix = ".xlsx" if version.source_format == "xlsform" else ".yaml"
    if is_bundle(version.source_name):
        suffix = ".zip"
    return f"{version.survey.code}_v{version.number}{suffix}"
