"""The supervisor's screens for telephone fieldwork: figures, settings, cases, the action log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.domain.dates import WARSAW
from app.domain.fieldwork.aapor import FORMULAS
from app.domain.fieldwork.calling_hours import CallingHoursError
from app.models import calling
from app.models.cati import Call, Case, Outcome, SupervisorAction
from app.models.fieldwork import Fieldwork
from app.models.users import Role, User
from app.platform import audit as audit_log
from app.platform.extensions import db_session, discard_changes, now
from app.platform.security import roles
from app.supervise import services
from app.supervise.forms import (
    AssignForm,
    AttemptLimitForm,
    CallingHoursForm,
    CallOutcomeForm,
    ClaimTimeoutForm,
    EForm,
    ExcludeForm,
    PriorityForm,
    ProductivityForm,
    ReleaseForm,
    TeamForm,
)

bp = Blueprint("supervise", __name__, url_prefix="/supervise")

CASE_LIST_LIMIT = 100
COUNT_NAMES = ("I", "P", "R", "NC", "O", "UH", "UO", "NE")
ACTION_LABELS = {code: _l(label) for code, label in audit_log.SUPERVISOR_ACTIONS.items()}


# --- formatting -------------------------------------------------------------------------------


def _decimal(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if str(get_locale() or "pl") == "pl" else text


def percent(value: float | None) -> str:
    """A rate as a percentage with one decimal (Polish decimal comma); "—" when undefined."""
    return "—" if value is None else _decimal(value * 100, 1) + "%"


def number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else _decimal(value, digits)


def hours_minutes(seconds: float) -> str:
    """Time logged as H:MM."""
    minutes = round(seconds / 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def minutes_seconds(seconds: float | None) -> str:
    """An interview's length as M:SS."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def window_text(start: datetime, end: datetime | None) -> str:
    """An appointment's window in Warsaw time: DD.MM.YYYY HH:MM–HH:MM."""
    begins = start.astimezone(WARSAW)
    text = begins.strftime("%d.%m.%Y %H:%M")
    if end is None:
        return text
    ends = end.astimezone(WARSAW)
    same_day = ends.date() == begins.date()
    return text + "–" + ends.strftime("%H:%M" if same_day else "%d.%m.%Y %H:%M")


def outcome_label(outcome: Outcome | None) -> str:
    """An outcome's label in the reader's language (labels are data, kept in both)."""
    if outcome is None:
        return _("not attempted yet")
    return outcome.label_pl if str(get_locale() or "pl") == "pl" else outcome.label_en


def user_name(user: User | None) -> str:
    if user is None:
        return ""
    return user.full_name or user.username


FORMATTERS = {
    "percent": percent,
    "number": number,
    "hours_minutes": hours_minutes,
    "minutes_seconds": minutes_seconds,
    "outcome_label": outcome_label,
    "window_text": window_text,
    "user_name": user_name,
}


# --- loading ----------------------------------------------------------------------------------


def _fieldwork_or_404(fieldwork_id: int) -> Fieldwork:
    fieldwork = db_session().get(Fieldwork, fieldwork_id)
    if fieldwork is None:
        abort(404)
    return fieldwork


def _case_or_404(fieldwork: Fieldwork, case_id: int) -> Case:
    case = db_session().get(Case, case_id)
    if case is None or case.fieldwork_id != fieldwork.id:
        abort(404)
    return case


def _describe(action: SupervisorAction, users: dict[int, User], outcomes: dict[int, Outcome]):
    """(what, change) of a logged action, in the reader's language."""
    what = str(ACTION_LABELS.get(action.action, action.action))
    detail = action.detail or {}
    old: Any = detail.get("old")  # ids, outcome ids, numbers or lists, by action
    new: Any = detail.get("new")
    if action.action == "assign":
        nobody = _("anyone")
        old = user_name(users.get(old)) if old else nobody
        new = user_name(users.get(new)) if new else nobody
    elif action.action == "release":
        return what, user_name(users.get(old))
    elif action.action == "call_outcome":
        old = outcome_label(outcomes.get(old)) if old else "—"
        new = outcome_label(outcomes.get(new))
    elif action.action == "aapor_e":
        estimated = _("estimated")
        old = estimated if old is None else number(old, 3)
        new = estimated if new is None else number(new, 3)
    elif action.action in ("exclude", "include"):
        return what, ""
    elif action.action == "team":
        old = ", ".join(user_name(users.get(i)) for i in old or []) or "—"
        new = ", ".join(user_name(users.get(i)) for i in new or []) or "—"
    return what, f"{old} → {new}"


def _action_rows(fieldwork: Fieldwork, case: Case | None = None) -> list[dict]:
    session = db_session()
    actions = services.recent_actions(session, fieldwork, case=case)
    ids: set[int] = set()
    for action in actions:
        if action.user_id:
            ids.add(action.user_id)
        if action.action == "assign":
            for key in ("old", "new"):
                if (action.detail or {}).get(key):
                    ids.add(action.detail[key])
        if action.action == "release" and (action.detail or {}).get("old"):
            ids.add(action.detail["old"])
        if action.action == "team":
            for key in ("old", "new"):
                ids.update((action.detail or {}).get(key) or [])
    users = services.users_by_id(session, ids)
    outcomes = {o.id: o for o in calling.outcomes_of(session, fieldwork)}
    rows = []
    for action in actions:
        what, change = _describe(action, users, outcomes)
        rows.append(
            {
                "action": action,
                "who": user_name(users.get(action.user_id) if action.user_id else None),
                "what": what,
                "change": change,
            }
        )
    return rows


# --- the fieldwork's screen -------------------------------------------------------------------


@bp.route("/")
@roles(Role.SUPERVISOR)
def index():
    return render_template(
        "supervise/index.html", rows=services.list_fieldworks(db_session()), **FORMATTERS
    )


@bp.route("/productivity")
@roles(Role.SUPERVISOR)
def productivity():
    """Interviewers' productivity across fieldworks (or in one), by days and shift."""
    session = db_session()
    form = ProductivityForm(request.args)
    form.fieldwork.choices = [("", _("all fieldworks"))] + [
        (str(row.fieldwork.id), row.fieldwork.title) for row in services.list_fieldworks(session)
    ]
    if request.args and not form.validate():
        return render_template(
            "supervise/productivity.html", form=form, figures=None, **FORMATTERS
        ), 400
    period = services.Period(
        fieldwork_id=int(form.fieldwork.data) if form.fieldwork.data else None,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        shift_from=form.shift_from.data,
        shift_to=form.shift_to.data,
    )
    return render_template(
        "supervise/productivity.html",
        form=form,
        figures=services.productivity(session, period),
        **FORMATTERS,
    )


@bp.route("/<int:fieldwork_id>")
@roles(Role.SUPERVISOR)
def fieldwork(fieldwork_id: int):
    return _fieldwork_page(_fieldwork_or_404(fieldwork_id))


def _fieldwork_page(fieldwork: Fieldwork, failed=None, status: int = 200):
    """The fieldwork's screen; ``failed`` is the form that was refused (shown with its errors)."""
    session = db_session()
    forms = {
        "hours_form": CallingHoursForm(formdata=None, calling_hours=fieldwork.calling_hours),
        "limit_form": AttemptLimitForm(formdata=None, attempt_limit=fieldwork.attempt_limit),
        "timeout_form": ClaimTimeoutForm(
            formdata=None, claim_timeout=fieldwork.claim_timeout_minutes
        ),
        "e_form": EForm(
            formdata=None,
            e="" if fieldwork.aapor_e is None else number(fieldwork.aapor_e, 3),
        ),
    }
    forms["team_form"] = _team_form(fieldwork, formdata=False)
    if failed is not None:
        forms[failed[0]] = failed[1]
    code = request.args.get("code", "").strip()
    search = request.args.get("q", "").strip()
    return (
        render_template(
            "supervise/fieldwork.html",
            fieldwork=fieldwork,
            dispositions=services.dispositions(session, fieldwork),
            excluded=services.excluded_count(session, fieldwork),
            appointments=services.upcoming_appointments(session, fieldwork, now()),
            rates=services.rates_view(session, fieldwork),
            formulas=FORMULAS,
            count_names=COUNT_NAMES,
            interviewers=services.interviewer_figures(session, fieldwork),
            claimed=services.claimed_cases(session, fieldwork),
            cases=services.find_cases(session, fieldwork, code, search, CASE_LIST_LIMIT),
            code=code,
            search=search,
            case_limit=CASE_LIST_LIMIT,
            actions=_action_rows(fieldwork),
            **forms,
            **FORMATTERS,
        ),
        status,
    )


def _team_form(fieldwork: Fieldwork, formdata: bool = True) -> TeamForm:
    session = db_session()
    members = services.team(session, fieldwork)
    candidates = {u.id: u for u in services.active_interviewers(session)}
    candidates.update({u.id: u for u in members})  # a disabled member can still be removed
    kwargs = {} if formdata else {"formdata": None, "interviewers": [u.id for u in members]}
    form = TeamForm(**kwargs)
    form.interviewers.choices = [
        (u.id, user_name(u))
        for u in sorted(candidates.values(), key=lambda u: (u.full_name, u.username))
    ]
    return form


@bp.route("/<int:fieldwork_id>/team", methods=["POST"])
@roles(Role.SUPERVISOR)
def team(fieldwork_id: int):
    fieldwork = _fieldwork_or_404(fieldwork_id)
    form = _team_form(fieldwork)
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
    return _fieldwork_page(_fieldwork_or_404(fieldwork_id), ("team_form", form), 400)


def _settings_action(fieldwork_id: int, key: str, form, apply, field_name: str, done: str):
    """Validate ``form``, call ``apply(value)``; refused input: 400 with the error shown."""
    fieldwork = _fieldwork_or_404(fieldwork_id)
    field = form[field_name]
    if form.validate_on_submit():
        try:
            apply(fieldwork, field.data)
        except (services.SupervisorError, CallingHoursError) as exc:
            field.errors.append(exc.message.render(_))
        else:
            flash(done, "success")
            return redirect(url_for("supervise.fieldwork", fieldwork_id=fieldwork.id))
    discard_changes()  # nothing of a refused action is kept
    return _fieldwork_page(_fieldwork_or_404(fieldwork_id), (key, form), 400)


@bp.route("/<int:fieldwork_id>/calling-hours", methods=["POST"])
@roles(Role.SUPERVISOR)
def calling_hours(fieldwork_id: int):
    return _settings_action(
        fieldwork_id,
        "hours_form",
        CallingHoursForm(),
        lambda fw, text: services.set_calling_hours(db_session(), fw, text, current_user.id, now()),
        "calling_hours",
        _("Calling hours saved."),
    )


@bp.route("/<int:fieldwork_id>/attempt-limit", methods=["POST"])
@roles(Role.SUPERVISOR)
def attempt_limit(fieldwork_id: int):
    return _settings_action(
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
@roles(Role.SUPERVISOR)
def claim_timeout(fieldwork_id: int):
    return _settings_action(
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
@roles(Role.SUPERVISOR)
def aapor_e(fieldwork_id: int):
    return _settings_action(
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
@roles(Role.SUPERVISOR)
def case(fieldwork_id: int, case_id: int):
    fieldwork = _fieldwork_or_404(fieldwork_id)
    return _case_page(fieldwork, _case_or_404(fieldwork, case_id))


def _assign_form(case: Case, formdata=True) -> AssignForm:
    kwargs = {} if formdata else {"formdata": None}
    form = AssignForm(
        **kwargs,
        interviewer=str(case.assigned_interviewer_id or ""),
    )
    form.interviewer.choices = [("", _("nobody (anyone on the team may call)"))] + [
        (str(u.id), user_name(u)) for u in services.team(db_session(), case.fieldwork) if u.active
    ]
    return form


def _outcome_form(fieldwork: Fieldwork, calls: list[Call], formdata=True) -> CallOutcomeForm:
    form = CallOutcomeForm() if formdata else CallOutcomeForm(formdata=None)
    form.call.choices = [
        (c.id, f"{c.started_at.astimezone(WARSAW):%d.%m.%Y %H:%M} · {c.number}") for c in calls
    ]
    form.outcome.choices = [
        (o.id, f"{outcome_label(o)} ({o.aapor})")
        for o in calling.outcomes_of(db_session(), fieldwork)
    ]
    return form


def _case_page(fieldwork: Fieldwork, case: Case, failed=None, status: int = 200):
    session = db_session()
    calls = services.case_calls(session, case)
    forms = {
        "priority_form": PriorityForm(formdata=None, priority=case.priority),
        "assign_form": _assign_form(case, formdata=False),
        "release_form": ReleaseForm(formdata=None),
        "exclude_form": ExcludeForm(formdata=None),
        "outcome_form": _outcome_form(fieldwork, calls, formdata=False),
    }
    forms["team_form"] = _team_form(fieldwork, formdata=False)
    if failed is not None:
        forms[failed[0]] = failed[1]
    ids = {i for i in (case.claimed_by_id, case.assigned_interviewer_id) if i}
    ids |= {c.interviewer_id for c in calls if c.interviewer_id}
    return (
        render_template(
            "supervise/case.html",
            fieldwork=fieldwork,
            case=case,
            unit=case.sample_unit,
            calls=calls,
            users=services.users_by_id(session, ids),
            actions=_action_rows(fieldwork, case),
            response_id=services.response_id_of(session, case),
            **forms,
            **FORMATTERS,
        ),
        status,
    )


def _case_action(fieldwork_id: int, case_id: int, key: str, make_form, apply, field_name, done):
    """Validate the form, call ``apply(case, form)``; refused input: 400 with the error shown."""
    fieldwork = _fieldwork_or_404(fieldwork_id)
    case = _case_or_404(fieldwork, case_id)
    form = make_form(fieldwork, case)
    if form.validate_on_submit():
        try:
            apply(case, form)
        except services.SupervisorError as exc:
            if field_name:
                form[field_name].errors.append(exc.message.render(_))
            else:
                flash(exc.message.render(_), "error")
        else:
            flash(done, "success")
            return redirect(url_for("supervise.case", fieldwork_id=fieldwork.id, case_id=case.id))
    discard_changes()  # nothing of a refused action is kept
    fieldwork = _fieldwork_or_404(fieldwork_id)
    return _case_page(fieldwork, _case_or_404(fieldwork, case_id), (key, form), 400)


@bp.route("/<int:fieldwork_id>/case/<int:case_id>/priority", methods=["POST"])
@roles(Role.SUPERVISOR)
def case_priority(fieldwork_id: int, case_id: int):
    return _case_action(
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
@roles(Role.SUPERVISOR)
def case_assign(fieldwork_id: int, case_id: int):
    return _case_action(
        fieldwork_id,
        case_id,
        "assign_form",
        lambda fw, case: _assign_form(case),
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
@roles(Role.SUPERVISOR)
def case_release(fieldwork_id: int, case_id: int):
    return _case_action(
        fieldwork_id,
        case_id,
        "release_form",
        lambda fw, case: ReleaseForm(),
        lambda case, form: services.release_claim(db_session(), case, current_user.id, now()),
        None,
        _("The case is back in the queue."),
    )


@bp.route("/<int:fieldwork_id>/case/<int:case_id>/exclusion", methods=["POST"])
@roles(Role.SUPERVISOR)
def case_exclusion(fieldwork_id: int, case_id: int):
    wanted = request.form.get("action", "")
    return _case_action(
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
@roles(Role.SUPERVISOR)
def call_outcome(fieldwork_id: int, case_id: int):
    return _case_action(
        fieldwork_id,
        case_id,
        "outcome_form",
        lambda fw, case: _outcome_form(fw, services.case_calls(db_session(), case)),
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
