"""Fieldwork URLs for analysts: create, open/close, sample, links, responses (thin: see screens)."""

from __future__ import annotations

from typing import cast

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.domain.fieldwork.sample.templates import sample_template_csv, sample_template_xlsx
from app.fieldwork import imports, screens, services, upgrades
from app.fieldwork.forms import ReopenForm, SampleUploadForm, StaffEditForm, StateForm
from app.interview.corrections import staff_edit
from app.interview.pages import read_page_post
from app.interview.service import Interview, NotAccepting, StaleForm, reopen
from app.interview.submit import refused_lists
from app.models.users import Role
from app.platform.extensions import after_commit, db_session, now
from app.platform.security import NO_INSTITUTIONS, SCOPED, WHOLE_REGION, roles
from app.platform.web import audit, current_scope

bp = Blueprint("fieldwork", __name__, url_prefix="/fieldwork")

MAX_SAMPLE_BYTES = 20 * 1024 * 1024


@bp.route("/")
@roles(Role.ANALYST, Role.COORDINATOR, scope=SCOPED)
def index():
    return render_template(
        "fieldwork/index.html",
        rows=services.list_fieldworks(db_session(), current_scope()),
        form=screens.create_form(),
    )


@bp.route("/", methods=["POST"])
@roles(Role.ANALYST, scope=WHOLE_REGION)
def create():
    form = screens.create_form()
    if form.validate_on_submit():
        try:
            fieldwork = services.create_fieldwork(
                db_session(),
                form.survey.data,
                form.title.data or "",
                opens_on=form.opens_on.data,
                closes_on=form.closes_on.data,
                open_link=form.open_link.data,
            )
        except services.FieldworkError as exc:
            cast(list[str], form.title.errors).append(exc.message.render(_))
        else:
            audit(
                "fieldwork.created",
                fieldwork_id=fieldwork.id,
                target=f"fieldwork {fieldwork.id}",
                detail={"title": fieldwork.title, "survey": form.survey.data},
            )
            flash(_("Fieldwork created as a draft. Import the sample, then open it."), "success")
            return redirect(url_for("fieldwork.detail", fieldwork_id=fieldwork.id))
    rows = services.list_fieldworks(db_session(), current_scope())
    return render_template("fieldwork/index.html", rows=rows, form=form), 400


@bp.route("/<int:fieldwork_id>")
@roles(Role.ANALYST, Role.COORDINATOR, scope=SCOPED)
def detail(fieldwork_id: int):
    fieldwork = screens.fieldwork_or_404(fieldwork_id)
    return screens.detail_page(fieldwork, SampleUploadForm())


@bp.route("/<int:fieldwork_id>/state", methods=["POST"])
@roles(Role.ANALYST, scope=WHOLE_REGION)
def change_state(fieldwork_id: int):
    fieldwork = screens.fieldwork_or_404(fieldwork_id)
    StateForm().validate_on_submit()
    before = fieldwork.state
    try:
        services.change_state(
            db_session(),
            fieldwork,
            request.form.get("action", ""),
            now(),
            retention_days=current_app.config["CONTACT_RETENTION_DAYS"],
        )
    except services.FieldworkError as exc:
        flash(exc.message.render(_), "error")
    else:
        audit(
            "fieldwork.state_changed",
            fieldwork_id=fieldwork.id,
            target=f"fieldwork {fieldwork.id}",
            detail={"state": [before, fieldwork.state]},
        )
        flash(
            _("The fieldwork is open.") if fieldwork.is_open else _("The fieldwork is closed."),
            "success",
        )
    return redirect(url_for("fieldwork.detail", fieldwork_id=fieldwork.id))


def _upgrade_number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 9 else None


@bp.route("/<int:fieldwork_id>/upgrade")
@roles(Role.ANALYST, scope=WHOLE_REGION)
def upgrade_check(fieldwork_id: int):
    """What moving to a newer version would do: refused changes, moved and kept answers."""
    fieldwork = screens.fieldwork_or_404(fieldwork_id)
    number = _upgrade_number(request.args.get("to"))
    if number is None:
        abort(404)
    try:
        plan = upgrades.plan_upgrade(db_session(), fieldwork, number)
    except services.FieldworkError as exc:
        flash(exc.message.render(_), "error")
        return redirect(url_for("fieldwork.detail", fieldwork_id=fieldwork.id))
    return render_template(
        "fieldwork/upgrade.html",
        fieldwork=fieldwork,
        plan=plan,
        lines=upgrades.upgrade_report(plan, _),
        form=StateForm(),
    )


@bp.route("/<int:fieldwork_id>/upgrade", methods=["POST"])
@roles(Role.ANALYST, scope=WHOLE_REGION)
def upgrade(fieldwork_id: int):
    fieldwork = screens.fieldwork_or_404(fieldwork_id)
    if not StateForm().validate_on_submit():
        abort(400)
    number = _upgrade_number(request.form.get("to"))
    checked = _upgrade_number(request.form.get("from"))
    if number is None or checked is None:
        abort(400)
    back = url_for("fieldwork.detail", fieldwork_id=fieldwork.id)
    if checked != fieldwork.survey_version.number:
        flash(_("The fieldwork changed meanwhile; check again."), "error")
        return redirect(back)
    try:
        plan = upgrades.plan_upgrade(db_session(), fieldwork, number)
        detail = plan.audit_detail()
        upgrades.upgrade(db_session(), plan, now())
    except services.FieldworkError as exc:
        flash(exc.message.render(_), "error")
        return redirect(back)
    audit(
        "fieldwork.upgraded",
        fieldwork_id=fieldwork.id,
        target=f"fieldwork {fieldwork.id}",
        detail=detail,
    )
    flash(_("The fieldwork now uses version %(n)d; the links stay the same.", n=number), "success")
    return redirect(back)


@bp.route("/<int:fieldwork_id>/test-link", methods=["POST"])
@roles(Role.ANALYST, scope=WHOLE_REGION)
def test_link(fieldwork_id: int):
    fieldwork = screens.fieldwork_or_404(fieldwork_id)
    if not StateForm().validate_on_submit():
        abort(400)
    try:
        made = services.make_test_link(db_session(), fieldwork)
    except services.FieldworkError as exc:
        flash(exc.message.render(_), "error")
    else:
        if made:
            audit(
                "fieldwork.test_link_made",
                fieldwork_id=fieldwork.id,
                target=f"fieldwork {fieldwork.id}",
            )
    return redirect(url_for("fieldwork.detail", fieldwork_id=fieldwork.id) + "#links")


@bp.route("/<int:fieldwork_id>/sample", methods=["POST"])
@roles(Role.ANALYST, scope=WHOLE_REGION)
def import_sample(fieldwork_id: int):
    fieldwork = screens.fieldwork_or_404(fieldwork_id)
    form = SampleUploadForm()
    if not form.validate_on_submit():
        return screens.detail_page(fieldwork, form, status=400)
    upload = form.sample.data
    data = upload.read(MAX_SAMPLE_BYTES + 1)
    if len(data) > MAX_SAMPLE_BYTES:
        form.sample.errors.append(_("The file is larger than 20 MB."))
        return screens.detail_page(fieldwork, form, status=400)
    session, filename = db_session(), upload.filename or "sample"
    if imports.busy(session, fieldwork, now()):
        form.sample.errors.append(_(imports.BUSY_MESSAGE))
        return screens.detail_page(fieldwork, form, status=409)
    if len(data) > current_app.config["SAMPLE_IMPORT_BACKGROUND_BYTES"]:
        # a large file: checked here (rows streamed, a few seconds for 100,000 CSV rows),
        # so its problems show at once; stored in the background, its progress on a page
        checked = services.check_sample(session, fieldwork, data, filename)
        if not checked.ok:
            form.sample.errors.append(_("The file has errors; nothing was imported."))
            problems = [p.render(_) for p in checked.problems]
            return screens.detail_page(fieldwork, form, problems, status=400)
        job = imports.start(session, fieldwork, current_user.id, data, filename, now())
        key, job_id, app = job.key, job.id, current_app
        # the worker reads the import in its own transaction: handed over once committed
        after_commit(lambda: imports.submit(app, job_id))
        return redirect(
            url_for("fieldwork.sample_import_status", fieldwork_id=fieldwork.id, key=key)
        )
    outcome = services.import_sample(session, fieldwork, data, filename, now=now())
    if not outcome.ok:
        form.sample.errors.append(_("The file has errors; nothing was imported."))
        problems = [p.render(_) for p in outcome.problems]
        return screens.detail_page(fieldwork, form, problems, status=400)
    audit(
        "sample.imported",
        fieldwork_id=fieldwork.id,
        target=f"fieldwork {fieldwork.id}",
        detail={"file": (upload.filename or "")[:200], "institutions": outcome.imported},
    )
    flash(
        _("%(n)d institutions imported.", n=outcome.imported),
        "success",
    )
    return redirect(url_for("fieldwork.detail", fieldwork_id=fieldwork.id))


@bp.route("/<int:fieldwork_id>/sample-imports/<key>")
@roles(Role.ANALYST, scope=WHOLE_REGION)
def sample_import_status(fieldwork_id: int, key: str):
    fieldwork = screens.fieldwork_or_404(fieldwork_id)
    job = imports.import_for(db_session(), key, fieldwork.id)
    if job is None:
        abort(404)
    status = imports.status_of(job, now())
    return render_template(
        "fieldwork/sample_import.html",
        fieldwork=fieldwork,
        job=job,
        status=status,
        problems=[p.render(_) for p in status.problems],
    )


@bp.route("/sample-template.<fmt>")
@roles(Role.ANALYST, scope=NO_INSTITUTIONS)
def sample_template(fmt: str):
    if fmt == "xlsx":
        return screens.download(sample_template_xlsx(), "proba-wzor.xlsx", screens.XLSX_MIME)
    if fmt == "csv":
        return screens.download(sample_template_csv(), "proba-wzor.csv", "text/csv; charset=utf-8")
    abort(404)


@bp.route("/<int:fieldwork_id>/links.csv")
@roles(Role.ANALYST, scope=WHOLE_REGION)
def links(fieldwork_id: int):
    fieldwork = screens.fieldwork_or_404(fieldwork_id)
    data = services.invitation_links_csv(db_session(), fieldwork, request.host_url)
    audit("invitations.exported", fieldwork_id=fieldwork.id, target=f"fieldwork {fieldwork.id}")
    return screens.download(data, f"linki-badanie-{fieldwork.id}.csv", "text/csv; charset=utf-8")


@bp.route("/<int:fieldwork_id>/responses/<int:response_id>")
@roles(Role.ANALYST, Role.COORDINATOR, scope=SCOPED)
def response(fieldwork_id: int, response_id: int):
    fieldwork = screens.fieldwork_or_404(fieldwork_id)
    answer = screens.response_or_404(fieldwork, response_id)
    return screens.response_page(fieldwork, answer, ReopenForm())


@bp.route("/<int:fieldwork_id>/responses/<int:response_id>/files/<key>")
@roles(Role.ANALYST, Role.COORDINATOR, scope=SCOPED)
def response_file(fieldwork_id: int, response_id: int, key: str):
    """A file a respondent sent with a file question, for staff who may read the response."""
    fieldwork = screens.fieldwork_or_404(fieldwork_id)
    answer = screens.response_or_404(fieldwork, response_id)
    download = screens.response_file(answer, key)
    audit(
        "response.file_downloaded",
        fieldwork_id=fieldwork.id,
        target=f"response {answer.id}",
        detail={"file": key},
    )
    return download


@bp.route("/<int:fieldwork_id>/responses/<int:response_id>/reopen", methods=["POST"])
@roles(Role.ANALYST, scope=WHOLE_REGION)
def reopen_response(fieldwork_id: int, response_id: int):
    fieldwork = screens.fieldwork_or_404(fieldwork_id)
    answer = screens.response_or_404(fieldwork, response_id)
    form = ReopenForm()
    if not form.validate_on_submit():
        return screens.response_page(fieldwork, answer, form, status=400)
    try:
        reopen(db_session(), answer, current_user.id, form.reason.data or "", now())
    except NotAccepting:
        flash(_("This response is not complete; there is nothing to re-open."), "error")
    else:
        flash(
            _("The response is open for correction; the respondent's link works again."),
            "success",
        )
    return redirect(url_for("fieldwork.response", fieldwork_id=fieldwork.id, response_id=answer.id))


@bp.route("/<int:fieldwork_id>/responses/<int:response_id>/edit")
@bp.route("/<int:fieldwork_id>/responses/<int:response_id>/edit/<page_id>")
@roles(Role.ANALYST, Role.SUPERVISOR, scope=SCOPED)
def edit_response(fieldwork_id: int, response_id: int, page_id: str | None = None):
    """A supervisor or analyst corrects answers, one screen at a time, with a reason."""
    fieldwork = screens.fieldwork_or_404(fieldwork_id)
    answer = screens.response_or_404(fieldwork, response_id)
    interview = Interview.of(answer, now())
    state = interview.state()
    if page_id is None:
        first = interview.flow.next_page(state, screens.STAFF_MODE, None)
        if first is None:
            abort(404)
        return redirect(
            url_for(
                "fieldwork.edit_response",
                fieldwork_id=fieldwork.id,
                response_id=answer.id,
                page_id=first.id,
            )
        )
    page = screens.staff_page_or_404(interview, page_id)
    values = interview.flow.form_values(page, state)
    return screens.edit_page(fieldwork, interview, page, values, {}, StaffEditForm(formdata=None))


@bp.route("/<int:fieldwork_id>/responses/<int:response_id>/edit/<page_id>", methods=["POST"])
@roles(Role.ANALYST, Role.SUPERVISOR, scope=SCOPED)
def save_edit(fieldwork_id: int, response_id: int, page_id: str):
    fieldwork = screens.fieldwork_or_404(fieldwork_id)
    answer = screens.response_or_404(fieldwork, response_id)
    interview = Interview.of(answer, now())
    page = screens.staff_page_or_404(interview, page_id)
    form = StaffEditForm()
    data = request.form.copy()
    data.poplist("reason")
    post = read_page_post(data, ("save",))
    if post is None:
        abort(400)
    result = interview.flow.validate_page(
        page,
        post.fields,
        interview.answers,
        mode=screens.STAFF_MODE,
        sample=interview.sample,
        today=interview.today,
        now=interview.now,
    )
    reason_ok = form.validate_on_submit()
    merged = result.apply(interview.answers)
    notice = None
    refused = refused_lists(page, result, post.fields)  # a forged list: nothing is saved
    if refused is not None:
        errors, message = refused
        return screens.edit_page(
            fieldwork,
            interview,
            page,
            post.fields.to_dict(flat=False),
            errors,
            form,
            status=400,
            notice=message.render(_) if message else None,
        )
    if result.ok and answer.is_complete:
        flow = interview.flow
        already = set(flow.problems(interview.state()))
        missing = sorted(set(flow.problems(interview.state(merged))) - already)
        if missing:
            notice = _(
                "The response is complete; after this correction these answers would be "
                "missing or wrong: %(names)s. Nothing was saved. For a change that needs more "
                "answers, re-open the response for correction.",
                names=", ".join(missing),
            )
    if not result.ok or not reason_ok or notice:
        values = post.fields.to_dict(flat=False)
        return screens.edit_page(
            fieldwork, interview, page, values, result.errors, form, status=400, notice=notice
        )
    try:
        changed = staff_edit(
            db_session(),
            interview,
            merged,
            expected_revision=post.revision,
            reason=form.reason.data or "",
            user_id=current_user.id,
            now=now(),
        )
    except StaleForm:
        db_session().expire_all()
        fresh = Interview.of(screens.response_or_404(fieldwork, response_id), now())
        values = fresh.flow.form_values(page, fresh.state())
        notice = _(
            "The response was changed by someone else after this page was opened; nothing "
            "was saved. Below are the answers saved most recently."
        )
        return screens.edit_page(
            fieldwork, fresh, page, values, {}, form, status=409, notice=notice
        )
    if changed:
        flash(
            _("Corrected: %(names)s. The old and new values are logged.", names=", ".join(changed)),
            "success",
        )
    else:
        flash(_("No answer was changed."), "info")
    return redirect(
        url_for(
            "fieldwork.edit_response",
            fieldwork_id=fieldwork.id,
            response_id=answer.id,
            page_id=page.id,
        )
    )
