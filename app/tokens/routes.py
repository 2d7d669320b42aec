"""A user's own personal API tokens: make one (shown once), see them, revoke one."""

from __future__ import annotations

from typing import cast

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models.tokens import TokenScope
from app.platform.extensions import db_session, now
from app.platform.security import NO_INSTITUTIONS, any_role
from app.platform.web import audit
from app.tokens import services
from app.tokens.forms import RevokeForm, TokenForm

bp = Blueprint("tokens", __name__, url_prefix="/account/api-tokens")


def _page(form: TokenForm, secret: str | None = None, status: int = 200):
    tokens = services.tokens_of(db_session(), current_user.id)
    response = render_template(
        "tokens/index.html",
        form=form,
        revoke_form=RevokeForm(),
        tokens=tokens,
        secret=secret,
        moment=now(),
    )
    return response, status, {"Cache-Control": "no-store"}


@bp.route("/")
@any_role(scope=NO_INSTITUTIONS)
def index():
    return _page(TokenForm())


@bp.route("/", methods=["POST"])
@any_role(scope=NO_INSTITUTIONS)
def create():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    scope = TokenScope.READ if form.read_only.data else TokenScope.WRITE
    try:
        issued = services.create_token(
            db_session(),
            current_user._get_current_object(),
            now=now(),
            name=form.name.data or "",
            days=cast(int, form.days.data),  # DataRequired: a number by now
            scope=scope,
        )
    except services.TokenError as exc:
        cast(list[str], form.days.errors).append(exc.message.render(_))
        return _page(form, status=400)
    audit(
        "api_token.created",
        target=f"user {current_user.username}",
        detail={"token": issued.token.id, "scope": scope.value, "days": form.days.data},
    )
    # shown on this answer only (never stored, never redirected to)
    return _page(TokenForm(formdata=None), secret=issued.secret)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@any_role(scope=NO_INSTITUTIONS)
def revoke(token_id: int):
    if not RevokeForm().validate_on_submit():
        abort(400)
    token = services.revoke_token(db_session(), token_id, now(), user_id=current_user.id)
    if token is None:
        abort(404)
    audit("api_token.revoked", target=f"user {current_user.username}", detail={"token": token.id})
    flash(_("The token is revoked; it no longer works."), "success")
    return redirect(url_for("tokens.index"))
