"""The supervisor's screens: a fieldwork's and a case's page with their forms, the action log."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.domain.dates import WARSAW
from app.domain.fieldwork.aapor import FORMULAS
from app.domain.fieldwork.calling_hours import CallingHoursError
from app.models import calling
from app.models.cati import Call, Case, Outcome, SupervisorAction
from app.models.fieldwork import Fieldwork
from app.models.users import User
from app.platform import audit as audit_log
from app.platform.extensions import db_session, discard_changes, now
from app.platform.web import current_scope, refuse_out_of_scope
from app.supervise import figures, services
from app.supervise.formatting import FORMATTERS, number, outcome_label, user_name
from app.supervise.forms import (
    AssignForm,
    AttemptLimitForm,
    CallingHoursForm,
    CallOutcomeForm,
    ClaimTimeoutForm,
    EForm,
    ExcludeForm,
    PriorityForm,
    ReleaseForm,
    TeamForm,
)
from app.supervise.productivity import interviewer_figures

CASE_LIST_LIMIT = 100
COUNT_NAMES = ("I", "P", "R", "NC", "O", "UH", "UO", "NE")
ACTION_LABELS = {code: _l(label) for code, label in audit_log.SUPERVISOR_ACTIONS.items()}


# --- loading ----------------------------------------------------------------------------------


def fieldwork_or_404(fieldwork_id: int) -> Fieldwork:
    """The fieldwork, if it exists and has institutions in the user's scope (else 404; one
    outside the scope is an audited attempt)."""
    fieldwork = db_session().get(Fieldwork, fieldwork_id)
    if fieldwork is None:
        abort(404)
    if not current_scope().admits_fieldwork(db_session(), fieldwork):
        refuse_out_of_scope(f"fieldwork {fieldwork_id}", fieldwork_id)
    return fieldwork


def case_or_404(fieldwork: Fieldwork, case_id: int) -> Case:
    """The fieldwork's case, if its institution is in the user's scope (else 404; one
    outside the scope is an audited attempt)."""
    case = db_session().get(Case, case_id)
    if case is None or case.fieldwork_id != fieldwork.id:
        abort(404)
    if not current_scope().admits(case.sample_unit):
        refuse_out_of_scope(f"case {case_id}", fieldwork.id)
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


def action_rows(fieldwork: Fieldwork, case: Case | None = None) -> list[dict]:
    session = db_session()
    actions = figures.recent_actions(session, fieldwork, current_scope(), case=case)
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
    users = figures.users_by_id(session, ids)
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


def fieldwork_page(fieldwork: Fieldwork, failed=None, status: int = 200):
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
    forms["team_form"] = team_form(fieldwork, formdata=False)
    if failed is not None:
        forms[failed[0]] = failed[1]
    code = request.args.get("code", "").strip()
    search = request.args.get("q", "").strip()
    scope = current_scope()
    return (
        render_template(
            "supervise/fieldwork.html",
            fieldwork=fieldwork,
            dispositions=figures.dispositions(session, fieldwork, scope),
            excluded=figures.excluded_count(session, fieldwork, scope),
            appointments=figures.upcoming_appointments(session, fieldwork, now(), scope),
            rates=figures.rates_view(session, fieldwork, scope),
            formulas=FORMULAS,
            count_names=COUNT_NAMES,
            interviewers=interviewer_figures(session, fieldwork, scope),
            claimed=figures.claimed_cases(session, fieldwork, scope),
            cases=figures.find_cases(session, fieldwork, scope, code, search, CASE_LIST_LIMIT),
            code=code,
            search=search,
            case_limit=CASE_LIST_LIMIT,
            actions=action_rows(fieldwork),
            **forms,
            **FORMATTERS,
        ),
        status,
    )


def team_form(fieldwork: Fieldwork, formdata: bool = True) -> TeamForm:
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


def settings_action(fieldwork_id: int, key: str, form, apply, field_name: str, done: str):
    """Validate ``form``, call ``apply(value)``; refused input: 400 with the error shown."""
    fieldwork = fieldwork_or_404(fieldwork_id)
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
    return fieldwork_page(fieldwork_or_404(fieldwork_id), (key, form), 400)


# --- a case -----------------------------------------------------------------------------------


def assign_form(case: Case, formdata=True) -> AssignForm:
    kwargs = {} if formdata else {"formdata": None}
    form = AssignForm(
        **kwargs,
        interviewer=str(case.assigned_interviewer_id or ""),
    )
    form.interviewer.choices = [("", _("nobody (anyone on the team may call)"))] + [
        (str(u.id), user_name(u)) for u in services.team(db_session(), case.fieldwork) if u.active
    ]
    return form


def outcome_form(fieldwork: Fieldwork, calls: list[Call], formdata=True) -> CallOutcomeForm:
    form = CallOutcomeForm() if formdata else CallOutcomeForm(formdata=None)
    form.call.choices = [
        (c.id, f"{c.started_at.astimezone(WARSAW):%d.%m.%Y %H:%M} · {c.number}") for c in calls
    ]
    form.outcome.choices = [
        (o.id, f"{outcome_label(o)} ({o.aapor})")
        for o in calling.outcomes_of(db_session(), fieldwork)
    ]
    return form


def case_page(fieldwork: Fieldwork, case: Case, failed=None, status: int = 200):
    session = db_session()
    calls = figures.case_calls(session, case)
    forms = {
        "priority_form": PriorityForm(formdata=None, priority=case.priority),
        "assign_form": assign_form(case, formdata=False),
        "release_form": ReleaseForm(formdata=None),
        "exclude_form": ExcludeForm(formdata=None),
        "outcome_form": outcome_form(fieldwork, calls, formdata=False),
    }
    forms["team_form"] = team_form(fieldwork, formdata=False)
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
            users=figures.users_by_id(session, ids),
            actions=action_rows(fieldwork, case),
            response_id=figures.response_id_of(session, case),
            **forms,
            **FORMATTERS,
        ),
        status,
    )


def case_action(fieldwork_id: int, case_id: int, key: str, make_form, apply, field_name, done):
    """Validate the form, call ``apply(case, form)``; refused input: 400 with the error shown."""
    fieldwork = fieldwork_or_404(fieldwork_id)
    case = case_or_404(fieldwork, case_id)
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
    fieldwork = fieldwork_or_404(fieldwork_id)
    return case_page(fieldwork, case_or_404(fieldwork, case_id), (key, form), 400)
