"""The form that makes a personal API token."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from app.platform.web import Form
from app.tokens.services import DEFAULT_DAYS, MAX_DAYS, NAME_MAX


class TokenForm(Form):
    name = StringField(
        _l("What is it for"),
        validators=[DataRequired(), Length(max=NAME_MAX)],
        description=_l("E.g. the system that will use it: “BI reports”."),
    )
    days = IntegerField(
        _l("Valid for (days)"),
        default=DEFAULT_DAYS,
        validators=[DataRequired(), NumberRange(min=1, max=MAX_DAYS)],
    )
    read_only = BooleanField(_l("Read only (no sample imports, no exports)"), default=True)


class RevokeForm(Form):
    """Only the CSRF token: revoking takes no input."""
