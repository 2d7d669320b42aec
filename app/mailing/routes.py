"""The e-mail page of a fieldwork (analysts) and the one-click opt-out (anyone with the link)."""

from __future__ import annotations

from typing import cast

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.domain.fieldwork.mail import PLACEHOLDERS, MailConfigError
from app.mailing import services
from app.mailing.forms import MailSettingsForm, SendForm
from app.models.fieldwork import Fieldwork, SampleUnit
from app.models.users import Role
from app.platform.extensions import after_commit, csrf, db_session, discard_changes, now
from app.platform.mailer import mail_settings
from app.platform.security import WHOLE_REGION, public, roles

bp = Blueprint("mailing", __name__)

FIELDS = (
    "language",
    "rops_contact",
    "invitation_subject",
    "invitation_body",
    "reminder_subject",
    "reminder_body",
    "reminder_days",
)


def _fieldwork_or_404(fieldwork_id: int) -> Fieldwork:
    fieldwork = db_session().get(Fieldwork, fieldwork_id)
    if fieldwork is None:
        abort(404)
    return fieldwork


def _page(fieldwork: Fieldwork, form: MailSettingsForm, status: int = 200):
    session = db_session()
    settings = services.settings_of(session, fieldwork)
    rows = services.contacts(session, fieldwork)
    counts = services.state_counts(rows)
    wanted = request.args.get("state", "")
    shown = [row for row in rows if not wanted or row.state == wanted]
    kind = request.args.get("preview", services.INVITATION)
    if kind not in (services.INVITATION, services.REMINDER):
        kind = services.INVITATION
    # the preview uses a real row: the first contact the message would go to, else any
    sample = next(iter(services.recipients(session, fieldwork, kind)), None)
    if sample is None:
        sample = session.query(SampleUnit).filter_by(fieldwork_id=fieldwork.id).first()
    preview = (
        services.render(
            fieldwork,
            settings,
            sample,
            kind,
            request.host_url,
            current_app.config["SECRET_KEY"],
        )
        if sample is not None
        else None
    )
    try:
        mail_settings(current_app.config)
        mail_problem = ""
    except MailConfigError as exc:
        mail_problem = str(exc)
    waiting = {
        k: len(services.recipients(session, fieldwork, k))
        for k in (services.INVITATION, services.REMINDER)
    }
    return (
        render_template(
            "mailing/page.html",
            fieldwork=fieldwork,
            form=form,
            send_form=SendForm(),
            counts=counts,
            rows=shown[:500],
            hidden=max(0, len(shown) - 500),
            wanted=wanted,
            states=services.CONTACT_STATES,
            preview=preview,
            preview_kind=kind,
            placeholders=PLACEHOLDERS,
            mail_problem=mail_problem,
            waiting=waiting,
            waves=services.waves(session, fieldwork),
        ),
        status,
    )


@bp.route("/fieldwork/<int:fieldwork_id>/mail")
@roles(Role.ANALYST, scope=WHOLE_REGION)
def page(fieldwork_id: int):
    fieldwork = _fieldwork_or_404(fieldwork_id)
    settings = services.settings_of(db_session(), fieldwork)
    form = MailSettingsForm(data={name: getattr(settings, name) for name in FIELDS})
    return _page(fieldwork, form)


@bp.route("/fieldwork/<int:fieldwork_id>/mail", methods=["POST"])
@roles(Role.ANALYST, scope=WHOLE_REGION)
def save(fieldwork_id: int):
    fieldwork = _fieldwork_or_404(fieldwork_id)
    form = MailSettingsForm()
    if not form.validate_on_submit():
        return _page(fieldwork, form, status=400)
    values = {name: (getattr(form, name).data or "").strip() for name in FIELDS}
    try:
        services.save_settings(db_session(), fieldwork, values, now(), current_user.id)
    except services.MailingError as exc:
        form.invitation_body.errors = [exc.message.render(_)]
        discard_changes()
        return _page(fieldwork, form, status=400)
    flash(_("The messages are saved."), "success")
    return redirect(url_for("mailing.page", fieldwork_id=fieldwork.id))


@bp.route("/fieldwork/<int:fieldwork_id>/mail/send", methods=["POST"])
@roles(Role.ANALYST, scope=WHOLE_REGION)
def send(fieldwork_id: int):
    fieldwork = _fieldwork_or_404(fieldwork_id)
    form = SendForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        mail_settings(current_app.config)
    except MailConfigError:
        flash(_("E-mail is not set up on this server; ask an administrator."), "error")
        return redirect(url_for("mailing.page", fieldwork_id=fieldwork.id))
    try:
        wave = services.create_wave(
            db_session(), fieldwork, cast(str, form.kind.data), now(), user_id=current_user.id
        )
    except services.MailingError as exc:
        flash(exc.message.render(_), "error")
        return redirect(url_for("mailing.page", fieldwork_id=fieldwork.id))
    # the worker reads the wave in its own transaction: handed over once committed
    after_commit(services.wave_enqueuer(current_app, wave))
    flash(
        _("%(count)d messages are queued; the worker is sending them.", count=wave.total), "success"
    )
    return redirect(url_for("mailing.page", fieldwork_id=fieldwork.id))


# -- opting out (no account: the link in the message) -------------------------------------------


def _unit_or_404(token: str) -> SampleUnit:
    unit = services.unit_for_opt_out(db_session(), current_app.config["SECRET_KEY"], token)
    if unit is None:
        abort(404)
    return unit


@bp.route("/mail/opt-out/<token>")
@public
def opt_out_page(token: str):
    """The link in the message: one button (a link checker's GET must not opt anybody out)."""
    unit = _unit_or_404(token)
    return render_template("mailing/opt_out.html", unit=unit, token=token, done=False)


@bp.route("/mail/opt-out/<token>", methods=["POST"])
@public
@csrf.exempt
def opt_out(token: str):
    """The button, and RFC 8058 one-click (``List-Unsubscribe=One-Click``) from mail programs."""
    unit = _unit_or_404(token)
    services.opt_out(db_session(), unit, now())
    return render_template("mailing/opt_out.html", unit=unit, token=token, done=True)
