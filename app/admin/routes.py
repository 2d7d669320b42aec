"""User administration pages (admins only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import services
from app.admin.forms import AuditFilterForm, ConfirmForm, CreateUserForm, EditUserForm
from app.domain.dates import local_midnight
from app.models.users import Role, User
from app.platform import accounts
from app.platform import audit as audit_events
from app.platform.extensions import db_session, discard_changes
from app.platform.security import WHOLE_REGION, roles
from app.platform.web import ROLE_LABELS, audit, role_label, state_label

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@roles(Role.ADMIN, scope=WHOLE_REGION)
def users():
    rows = services.list_users(db_session())
    return render_template(
        "admin/users.html", users=rows, role_labels=ROLE_LABELS, form=CreateUserForm()
    )


@bp.route("/users", methods=["POST"])
@roles(Role.ADMIN, scope=WHOLE_REGION)
def create_user():
    form = CreateUserForm()
    if form.validate_on_submit():
        try:
            user, password = accounts.create_user(
                db_session(),
                cast(str, form.username.data),  # DataRequired: text by now
                form.role.data,
                full_name=form.full_name.data or "",
                subregions=accounts.split_list(form.subregions.data or ""),
                entity_types=accounts.split_list(form.entity_types.data or ""),
            )
        except accounts.AccountError as exc:
            cast(list[str], form.username.errors).append(exc.message.render(_))
        else:
            audit(
                "user.created",
                target=f"user {user.username}",
                detail={"role": user.role, **accounts.scope_detail(user)},
            )
            return _password_page(user, password)
    rows = services.list_users(db_session())
    return (
        render_template("admin/users.html", users=rows, role_labels=ROLE_LABELS, form=form),
        400,
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles(Role.ADMIN, scope=WHOLE_REGION)
def edit_user(user_id: int):
    user = _user_or_404(user_id)
    form = EditUserForm(
        data={
            "full_name": user.full_name,
            "role": user.role,
            "active": user.active,
            "subregions": ", ".join(user.subregions or []),
            "entity_types": ", ".join(user.entity_types or []),
        },
    )
    if form.validate_on_submit():
        if user.id == current_user.id and (not form.active.data or form.role.data != "admin"):
            cast(list[str], form.role.errors).append(
                _("You cannot disable yourself or take away your own admin role.")
            )
        else:
            try:
                changed = services.update_user(
                    user,
                    form.full_name.data or "",
                    form.role.data,
                    form.active.data,
                    accounts.split_list(form.subregions.data or ""),
                    accounts.split_list(form.entity_types.data or ""),
                )
            except accounts.AccountError as exc:
                discard_changes()
                cast(list[str], form.subregions.errors).append(exc.message.render(_))
                return render_template(
                    "admin/edit_user.html", user=user, form=form, reset_form=ConfirmForm()
                ), 400
            if changed:
                audit("user.changed", target=f"user {user.username}", detail=changed)
            flash(_("Changes to %(name)s saved.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/edit_user.html", user=user, form=form, reset_form=ConfirmForm()
    ), (400 if form.errors else 200)


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@roles(Role.ADMIN, scope=WHOLE_REGION)
def reset_password(user_id: int):
    user = _user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    password = accounts.reset_password(user)
    audit("user.password_reset", target=f"user {user.username}")
    return _password_page(user, password)


@bp.route("/users/<int:user_id>/end-sessions", methods=["POST"])
@roles(Role.ADMIN, scope=WHOLE_REGION)
def end_sessions(user_id: int):
    user = _user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user.end_sessions()
    audit("user.sessions_ended", target=f"user {user.username}")
    if user.id == current_user.id:
        return redirect(url_for("auth.login"))
    flash(_("All sessions of %(name)s have ended.", name=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


def _password_page(user: User, password: str):
    """The one page that shows a generated password; never cached."""
    response = make_response(
        render_template("admin/password_issued.html", user=user, password=password)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/audit")
@roles(Role.ADMIN, scope=WHOLE_REGION)
def audit_log():
    form = AuditFilterForm(request.args)
    form.action.choices = [("", _("all"))] + [
        (code, _(label)) for code, label in sorted(audit_events.ACTIONS.items())
    ]
    events = []
    if form.validate():
        before = request.args.get("before", type=int)
        filters = audit_events.AuditFilter(
            action=form.action.data or "",
            actor=(form.actor.data or "").strip().lower(),
            fieldwork_id=form.fieldwork.data,
            since=_warsaw_midnight(form.since.data),
            until=_warsaw_midnight(form.until.data, next_day=True),
            before_id=before,
        )
        events = audit_events.find_events(db_session(), filters)
    names = _AuditNames(events)
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "before"}
    older = None
    if len(events) == audit_events.PAGE_SIZE:
        older = url_for("admin.audit_log", before=events[-1].id, **args)
    return render_template(
        "admin/audit.html",
        form=form,
        events=events,
        older=older,
        first_page=url_for("admin.audit_log", **args),
        paged="before" in request.args,
        action_label=lambda code: _(audit_events.ACTIONS.get(code, code)),
        actor_label=_actor_label,
        target_label=lambda event: audit_events.describe_target(event.target, _, names.target),
        details=lambda event: audit_events.describe_detail(event.detail, _, names.value_for(event)),
    ), (200 if not form.errors else 400)


class _AuditNames:
    """Names for what the audit log stores as codes and ids: fieldwork titles, user names,
    states, roles, supervisor actions (looked up once per page)."""

    def __init__(self, events) -> None:
        self.titles, self.users = services.audit_names(db_session(), events)

    def target(self, kind: str, key: str) -> str | None:
        if kind == "fieldwork" and key.isdigit() and int(key) in self.titles:
            return f"„{self.titles[int(key)]}”"
        return None

    def value_for(self, event):
        action = (event.detail or {}).get("action")
        people = event.action == "supervisor.action" and action in ("team", "assign", "release")

        def label(key: str, value):
            if key == "state" and isinstance(value, str):
                return state_label(value)
            if key == "role" and value in {r.value for r in Role}:
                return role_label(value)
            if key == "action" and value in audit_events.SUPERVISOR_ACTIONS:
                return _(audit_events.SUPERVISOR_ACTIONS[value])
            if key == "active" and isinstance(value, bool):
                return _("yes") if value else _("no")
            if people and key in ("old", "new"):
                if value is None:
                    return "—"
                return self.users.get(value) if isinstance(value, int) else None
            return None

        return label


def _actor_label(event) -> str:
    if event.actor == audit_events.RESPONDENT:
        return _("respondent (personal link)")
    if event.actor.startswith(audit_events.CLI_ACTOR):
        return _("command line (%(who)s)", who=event.actor.partition(":")[2] or "?")
    return event.actor or "—"


def _warsaw_midnight(day, next_day: bool = False):
    if day is None:
        return None
    if next_day:
        day = day + timedelta(days=1)
    return local_midnight(day)


def _user_or_404(user_id: int) -> User:
    user = db_session().get(User, user_id)
    if user is None:
        abort(404)
    return user
