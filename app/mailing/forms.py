"""The forms of the e-mail page: the messages and schedule, and sending a wave."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, Length, Optional

from app.platform.web import Form


class MailSettingsForm(Form):
    language = SelectField(_l("Language of the messages"), validators=[AnyOf(["pl", "en"])])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = [("pl", "polski"), ("en", "English")]

    rops_contact = StringField(
        _l("Who to ask (shown as {rops_contact})"), validators=[Optional(), Length(max=500)]
    )
    invitation_subject = StringField(
        _l("Invitation: subject (empty: the default)"), validators=[Optional(), Length(max=300)]
    )
    invitation_body = TextAreaField(
        _l("Invitation: text (empty: the default)"), validators=[Optional(), Length(max=20000)]
    )
    reminder_subject = StringField(
        _l("Reminder: subject (empty: the default)"), validators=[Optional(), Length(max=300)]
    )
    reminder_body = TextAreaField(
        _l("Reminder: text (empty: the default)"), validators=[Optional(), Length(max=20000)]
    )
    reminder_days = StringField(
        _l("Send reminders automatically this many days after the invitation (e.g. 7, 14)"),
        validators=[Optional(), Length(max=100)],
    )


class SendForm(Form):
    kind = HiddenField(validators=[AnyOf(["invitation", "reminder"])])
