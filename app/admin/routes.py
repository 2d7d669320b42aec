"""User administration pages (admins only)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.admin.forms import ConfirmForm, CreateUserForm, EditUserForm
from app.auth import services
from app.extensions import db_session
from app.models.users import Role, User
from app.security import roles
from app.web import ROLE_LABELS

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@roles(Role.ADMIN)
def users():
    rows = db_session().scalars(select(User).order_by(User.username)).all()
    return render_template(
        "admin/users.html", users=rows, role_labels=ROLE_LABELS, form=CreateUserForm()
    )


@bp.route("/users", methods=["POST"])
@roles(Role.ADMIN)
def create_user():
    form = CreateUserForm()
    if form.validate_on_submit():
        try:
            user, password = services.create_user(
                db_session(),
                form.username.data,
                form.role.data,
                full_name=form.full_name.data or "",
            )
        except services.AccountError as exc:
            form.username.errors.append(exc.message.render(_))
        else:
            return _password_page(user, password)
    rows = db_session().scalars(select(User).order_by(User.username)).all()
    return (
        render_template("admin/users.html", users=rows, role_labels=ROLE_LABELS, form=form),
        400,
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def edit_user(user_id: int):
    user = _user_or_404(user_id)
    form = EditUserForm(obj=user)
    if form.validate_on_submit():
        if user.id == current_user.id and (not form.active.data or form.role.data != "admin"):
            form.role.errors.append(
                _("You cannot disable yourself or take away your own admin role.")
            )
        else:
            user.full_name = (form.full_name.data or "").strip()
            user.role = Role(form.role.data).value
            user.active = form.active.data
            flash(_("Changes to %(name)s saved.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/edit_user.html", user=user, form=form, reset_form=ConfirmForm()
    ), (400 if form.errors else 200)


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@roles(Role.ADMIN)
def reset_password(user_id: int):
    user = _user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _password_page(user, services.reset_password(user))


def _password_page(user: User, password: str):
    """The one page that shows a generated password; never cached."""
    response = make_response(
        render_template("admin/password_issued.html", user=user, password=password)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _user_or_404(user_id: int) -> User:
    user = db_session().get(User, user_id)
    if user is None:
        abort(404)
    return user
