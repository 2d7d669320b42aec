"""Forms of the interviewer's screens."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.platform.web import DateInRange, Form

TIME_PATTERN = r"^([01]?[0-9]|2[0-3])[:.][0-5][0-9]$"
DATE_PATTERN = r"^\s*([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})\s*$"


class DialForm(Form):
    """ "I am calling this number": only the CSRF token and the phone's id (a button)."""


class OutcomeForm(Form):
    outcome = SelectField(_l("Outcome of the call"), validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    appointment_date = StringField(
        _l("Appointment date (DD.MM.YYYY)"),
        validators=[
            Optional(),
            Regexp(DATE_PATTERN, message=_l("Enter a date as DD.MM.YYYY.")),
            DateInRange(),  # 01.01.0001 overflowed the time zone arithmetic (a 500)
        ],
    )
    appointment_from = StringField(
        _l("From (HH:MM)"),
        validators=[Optional(), Regexp(TIME_PATTERN, message=_l("Enter a time as HH:MM."))],
    )
    appointment_to = StringField(
        _l("To (HH:MM)"),
        validators=[Optional(), Regexp(TIME_PATTERN, message=_l("Enter a time as HH:MM."))],
    )
    appointment_with = StringField(_l("With whom"), validators=[Optional(), Length(max=300)])
    appointment_mine = BooleanField(_l("Only I will call (otherwise anyone may)"))


class PhoneForm(Form):
    number = StringField(
        _l("New phone number"),
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(r"^\+?[0-9 ()./-]{6,30}$", message=_l("Enter a phone number (digits).")),
        ],
    )
    label = StringField(_l("Label (e.g. secretariat)"), validators=[Optional(), Length(max=100)])


class NotesForm(Form):
    notes = TextAreaField(_l("Notes on this institution"), validators=[Length(max=5000)])
