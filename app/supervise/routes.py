"""The supervisor's URLs for telephone fieldwork: figures, settings, cases (thin: see screens)."""

from __future__ import annotations

from typing import cast

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models.cati import Call, Case, Outcome
from app.models.users import Role
from app.platform.extensions import db_session, discard_changes, now
from app.platform.security import SCOPED, WHOLE_REGION, roles
from app.platform.web import current_scope
from app.supervise import figures, formatting, screens, services
from app.supervise import productivity as productivity_figures
from app.supervise.forms import (
    AttemptLimitForm,
    CallingHoursForm,
    CallOutcomeForm,
    ClaimTimeoutForm,
    EForm,
    ExcludeForm,
    PriorityForm,
    ProductivityForm,
    ReleaseForm,
)

bp = Blueprint("supervise", __name__, url_prefix="/supervise")


# --- the fieldwork's screen -------------------------------------------------------------------


@bp.route("/")
@roles(Role.SUPERVISOR, Role.COORDINATOR, scope=SCOPED)
def index():
    return render_template(
        "supervise/index.html",
        rows=figures.list_fieldworks(db_session(), current_scope()),
        **formatting.FORMATTERS,
    )


@bp.route("/productivity")
@roles(Role.SUPERVISOR, Role.COORDINATOR, scope=SCOPED)
def productivity():
    """Interviewers' productivity across fieldworks (or in one), by days and shift."""
    session = db_session()
    form = ProductivityForm(request.args)
    form.fieldwork.choices = [("", _("all fieldworks"))] + [
        (str(row.fieldwork.id), row.fieldwork.title)
        for row in figures.list_fieldworks(session, current_scope())
    ]
    if request.args and not form.validate():
        return render_template(
            "supervise/productivity.html", form=form, figures=None, **formatting.FORMATTERS
        ), 400
    period = productivity_figures.Period(
        fieldwork_id=int(form.fieldwork.data) if form.fieldwork.data else None,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        shift_from=form.shift_from.data,
        shift_to=form.shift_to.data,
    )
    return render_template(
        "supervise/productivity.html",
        form=form,
        figures=productivity_figures.productivity(session, period, current_scope()),
        **formatting.FORMATTERS,
    )


@bp.route("/<int:fieldwork_id>")
@roles(Role.SUPERVISOR, Role.COORDINATOR, scope=SCOPED)
def fieldwork(fieldwork_id: int):
    return screens.fieldwork_page(screens.fieldwork_or_404(fieldwork_id))


@bp.route("/<int:fieldwork_id>/team", methods=["POST"])
@roles(Role.SUPERVISOR, scope=WHOLE_REGION)
def team(fieldwork_id: int):
    fieldwork = screens.fieldwork_or_404(fieldwork_id)
    form = screens.team_form(fieldwork)
    if form.validate_on_submit():
        try:
            services.set_team(
                db_session(), fieldwork, set(form.interviewers.data or []), current_user.id, now()
            )
        except services.SupervisorError as exc:
            cast(list[str], form.interviewers.errors).append(exc.message.render(_))
        else:
            flash(_("The team is saved."), "success")
            return redirect(url_for("supervise.fieldwork", fieldwork_id=fieldwork.id))
    discard_changes()  # nothing of a refused action is kept
    return screens.fieldwork_page(screens.fieldwork_or_404(fieldwork_id), ("team_form", form), 400)


@bp.route("/<int:fieldwork_id>/calling-hours", methods=["POST"])
@roles(Role.SUPERVISOR, scope=WHOLE_REGION)
def calling_hours(fieldwork_id: int):
    return screens.settings_action(
        fieldwork_id,
        "hours_form",
        CallingHoursForm(),
        lambda fw, text: services.set_calling_hours(db_session(), fw, text, current_user.id, now()),
        "calling_hours",
        _("Calling hours saved."),
    )


@bp.route("/<int:fieldwork_id>/attempt-limit", methods=["POST"])
@roles(Role.SUPERVISOR, scope=WHOLE_REGION)
def attempt_limit(fieldwork_id: int):
    return screens.settings_action(
        fieldwork_id,
        "limit_form",
        AttemptLimitForm(),
        lambda fw, limit: services.set_attempt_limit(
            db_session(), fw, limit, current_user.id, now()
        ),
        "attempt_limit",
        _("Attempt limit saved."),
    )


@bp.route("/<int:fieldwork_id>/claim-timeout", methods=["POST"])
@roles(Role.SUPERVISOR, scope=WHOLE_REGION)
def claim_timeout(fieldwork_id: int):
    return screens.settings_action(
        fieldwork_id,
        "timeout_form",
        ClaimTimeoutForm(),
        lambda fw, minutes: services.set_claim_timeout(
            db_session(), fw, minutes, current_user.id, now()
        ),
        "claim_timeout",
        _("Claim timeout saved."),
    )


@bp.route("/<int:fieldwork_id>/e", methods=["POST"])
@roles(Role.SUPERVISOR, scope=WHOLE_REGION)
def aapor_e(fieldwork_id: int):
    return screens.settings_action(
        fieldwork_id,
        "e_form",
        EForm(),
        lambda fw, text: services.set_e(
            db_session(), fw, services.parse_e(text or ""), current_user.id, now()
        ),
        "e",
        _("e saved."),
    )


# --- a case -----------------------------------------------------------------------------------


@bp.route("/<int:fieldwork_id>/case/<int:case_id>")
@roles(Role.SUPERVISOR, Role.COORDINATOR, scope=SCOPED)
def case(fieldwork_id: int, case_id: int):
    fieldwork = screens.fieldwork_or_404(fieldwork_id)
    return screens.case_page(fieldwork, screens.case_or_404(fieldwork, case_id))


@bp.route("/<int:fieldwork_id>/case/<int:case_id>/priority", methods=["POST"])
@roles(Role.SUPERVISOR, Role.COORDINATOR, scope=SCOPED)
def case_priority(fieldwork_id: int, case_id: int):
    return screens.case_action(
        fieldwork_id,
        case_id,
        "priority_form",
        lambda fw, case: PriorityForm(),
        lambda case, form: services.set_priority(
            db_session(), case, form.priority.data, current_user.id, now()
        ),
        "priority",
        _("Priority saved."),
    )


@bp.route("/<int:fieldwork_id>/case/<int:case_id>/assign", methods=["POST"])
@roles(Role.SUPERVISOR, Role.COORDINATOR, scope=SCOPED)
def case_assign(fieldwork_id: int, case_id: int):
    return screens.case_action(
        fieldwork_id,
        case_id,
        "assign_form",
        lambda fw, case: screens.assign_form(case),
        lambda case, form: services.assign(
            db_session(),
            case,
            int(form.interviewer.data) if form.interviewer.data else None,
            current_user.id,
            now(),
        ),
        "interviewer",
        _("Assignment saved."),
    )


@bp.route("/<int:fieldwork_id>/case/<int:case_id>/release", methods=["POST"])
@roles(Role.SUPERVISOR, Role.COORDINATOR, scope=SCOPED)
def case_release(fieldwork_id: int, case_id: int):
    return screens.case_action(
        fieldwork_id,
        case_id,
        "release_form",
        lambda fw, case: ReleaseForm(),
        lambda case, form: services.release_claim(db_session(), case, current_user.id, now()),
        None,
        _("The case is back in the queue."),
    )


@bp.route("/<int:fieldwork_id>/case/<int:case_id>/exclusion", methods=["POST"])
@roles(Role.SUPERVISOR, Role.COORDINATOR, scope=SCOPED)
def case_exclusion(fieldwork_id: int, case_id: int):
    wanted = request.form.get("action", "")
    return screens.case_action(
        fieldwork_id,
        case_id,
        "exclude_form",
        lambda fw, case: ExcludeForm(),
        lambda case, form: services.set_exclusion(
            db_session(), case, wanted, form.reason.data or "", current_user.id, now()
        ),
        None,
        _("The case is excluded from the queue and the rates.")
        if wanted == "exclude"
        else _("The case is included again."),
    )


@bp.route("/<int:fieldwork_id>/case/<int:case_id>/call-outcome", methods=["POST"])
@roles(Role.SUPERVISOR, Role.COORDINATOR, scope=SCOPED)
def call_outcome(fieldwork_id: int, case_id: int):
    return screens.case_action(
        fieldwork_id,
        case_id,
        "outcome_form",
        lambda fw, case: screens.outcome_form(fw, figures.case_calls(db_session(), case)),
        _change_outcome,
        "note",
        _("The call's outcome is changed; the case's disposition follows it."),
    )


def _change_outcome(case: Case, form: CallOutcomeForm) -> None:
    session = db_session()
    call = session.get(Call, form.call.data)
    outcome = session.get(Outcome, form.outcome.data)
    if call is None or call.case_id != case.id or outcome is None:  # choices checked already
        abort(400)
    services.change_call_outcome(
        session, case, call, outcome, form.note.data or "", current_user.id, now()
    )
