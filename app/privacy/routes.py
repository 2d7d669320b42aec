"""The personal-data section of a fieldwork's page: its retention date, erasing contacts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models.fieldwork import Fieldwork
from app.models.users import Role
from app.platform.extensions import db_session, now
from app.platform.security import WHOLE_REGION, roles
from app.privacy import services
from app.privacy.forms import EraseContactsForm, RetentionForm

bp = Blueprint("privacy", __name__, url_prefix="/fieldwork")


@bp.app_template_global()
def privacy_forms(fieldwork: Fieldwork) -> tuple[RetentionForm, EraseContactsForm]:
    """The section's two forms, for templates/privacy/_fieldwork.html."""
    return (
        RetentionForm(formdata=None, until=fieldwork.retain_contacts_until),
        EraseContactsForm(formdata=None),
    )


def _fieldwork_or_404(fieldwork_id: int) -> Fieldwork:
    fieldwork = db_session().get(Fieldwork, fieldwork_id)
    if fieldwork is None:
        abort(404)
    return fieldwork


def _back(fieldwork: Fieldwork):
    return redirect(url_for("fieldwork.detail", fieldwork_id=fieldwork.id) + "#privacy")


@bp.route("/<int:fieldwork_id>/retention", methods=["POST"])
@roles(Role.ANALYST, scope=WHOLE_REGION)
def retention(fieldwork_id: int):
    fieldwork = _fieldwork_or_404(fieldwork_id)
    form = RetentionForm()
    if not form.validate_on_submit():
        for error in form.until.errors:
            flash(_("Retention date: %(error)s", error=error), "error")
        return _back(fieldwork)
    services.set_retention(db_session(), fieldwork, form.until.data, now(), user_id=current_user.id)
    flash(_("The retention date is saved."), "success")
    return _back(fieldwork)


@bp.route("/<int:fieldwork_id>/erase-contacts", methods=["POST"])
@roles(Role.ANALYST, scope=WHOLE_REGION)
def erase_contacts(fieldwork_id: int):
    fieldwork = _fieldwork_or_404(fieldwork_id)
    form = EraseContactsForm()
    if not form.validate_on_submit():
        flash(_("Tick the confirmation to erase the contact data."), "error")
        return _back(fieldwork)
    try:
        erased = services.erase_contacts(db_session(), fieldwork, now(), user_id=current_user.id)
    except services.PrivacyError as exc:
        flash(exc.message.render(_), "error")
    else:
        flash(
            _(
                "Contact data erased: %(institutions)d institutions, %(phones)d phone numbers, "
                "%(calls)d calls, %(notes)d notes, %(attachments)d files sent with answers. "
                "Responses and rates are unchanged.",
                institutions=erased.institutions,
                phones=erased.phones,
                calls=erased.calls,
                notes=erased.notes,
                attachments=erased.attachments,
            ),
            "success",
        )
    return _back(fieldwork)
