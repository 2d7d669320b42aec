"""Login, logout and password change pages."""

from __future__ import annotations

from typing import cast

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.auth import services
from app.auth.forms import ChangePasswordForm, LoginForm
from app.models.users import Role
from app.platform.accounts import AccountError
from app.platform.extensions import db_session, now
from app.platform.security import NO_INSTITUTIONS, public, roles
from app.platform.signals import user_logged_out
from app.platform.web import audit, safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        config = current_app.config
        policy = services.LoginPolicy(
            config["LOGIN_MAX_FAILURES"],
            config["LOGIN_LOCK_MINUTES"],
            config["LOGIN_ADDRESS_MAX_FAILURES"],
            config["LOGIN_ADDRESS_WINDOW_MINUTES"],
        )
        try:
            user = services.authenticate(
                db_session(),
                cast(str, form.username.data),  # DataRequired: text by now
                cast(str, form.password.data),
                now(),
                policy,
                address=request.remote_addr or "",
            )
        except AccountError as exc:
            audit(
                "auth.login_failed",
                target=f"user {(form.username.data or '').strip().lower()[:64]}",
                detail={"reason": exc.message.as_json()},
            )
            cast(list[str], form.password.errors).append(exc.message.render(_))
            return render_template("auth/login.html", form=form)
        login_user(user)
        audit("auth.login", target=f"user {user.username}")
        if user.must_change_password:
            return redirect(url_for("auth.change_password"))
        return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@roles(*Role, while_password_change_due=True, scope=NO_INSTITUTIONS)
def logout():
    # an interviewer's open case goes back (CATI hears this: app/cati/receivers.py)
    user_logged_out.send(current_user.id, session=db_session())
    audit("auth.logout", target=f"user {current_user.username}")
    current_user.end_sessions()  # a copied session cookie is logged out too, on every server
    logout_user()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@roles(*Role, while_password_change_due=True, scope=NO_INSTITUTIONS)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user, cast(str, form.current.data), cast(str, form.new.data)
            )
        except AccountError as exc:
            cast(list[str], form.new.errors).append(exc.message.render(_))
        else:
            login_user(current_user._get_current_object())  # this session goes on; others end
            audit("auth.password_changed", target=f"user {current_user.username}")
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/change_password.html", form=form)
