"""Forms for managing user accounts."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.models.users import Role
from app.platform.web import ROLE_LABELS, DateInRange, Form


def role_choices() -> list[tuple[str, str]]:
    return [(role.value, ROLE_LABELS[role]) for role in Role]


SUBREGIONS_HELP = _l(
    "Comma-separated, spelt as in the sample (e.g. zachodni). Empty: the whole region. "
    "An OWES coordinator needs at least one."
)
ENTITY_TYPES_HELP = _l("Comma-separated (e.g. CIS, KIS). Empty: every type.")


class CreateUserForm(Form):
    username = StringField(
        _l("User name"),
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(
                r"^[A-Za-z0-9._-]+$",
                message=_l("Use letters without accents, digits, dots, dashes and _."),
            ),
        ],
    )
    full_name = StringField(_l("Full name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=role_choices, validators=[DataRequired()])
    subregions = StringField(
        _l("Subregions"), description=SUBREGIONS_HELP, validators=[Length(max=2000)]
    )
    entity_types = StringField(
        _l("Entity types"), description=ENTITY_TYPES_HELP, validators=[Length(max=2000)]
    )


class EditUserForm(Form):
    full_name = StringField(_l("Full name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=role_choices, validators=[DataRequired()])
    subregions = StringField(
        _l("Subregions"), description=SUBREGIONS_HELP, validators=[Length(max=2000)]
    )
    entity_types = StringField(
        _l("Entity types"), description=ENTITY_TYPES_HELP, validators=[Length(max=2000)]
    )
    active = BooleanField(_l("Account active"))


class ConfirmForm(Form):
    """A button that only needs the CSRF token."""


class AuditFilterForm(Form):
    class Meta:
        csrf = False  # a GET filter, changes nothing

    action = SelectField(_l("Action"), validators=[Optional()])
    actor = StringField(_l("User (name begins with)"), validators=[Optional(), Length(max=150)])
    fieldwork = IntegerField(_l("Fieldwork number"), validators=[Optional()])
    since = DateField(_l("From"), validators=[Optional(), DateInRange()])
    until = DateField(_l("Until"), validators=[Optional(), DateInRange()])
