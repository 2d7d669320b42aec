"""Forms of the personal-data section of a fieldwork's page."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField
from wtforms.validators import DataRequired, Optional

from app.platform.web import DateInRange, Form


class RetentionForm(Form):
    until = DateField(_l("Keep contact data until"), validators=[Optional(), DateInRange()])


class EraseContactsForm(Form):
    confirm = BooleanField(
        _l(
            "I understand: names, e-mails, phone numbers, notes and personal links of this "
            "fieldwork will be replaced by pseudonyms for good."
        ),
        validators=[DataRequired()],
    )
