"""Forms for setting up a fieldwork."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.platform.web import Form


class FieldworkForm(Form):
    survey = SelectField(_l("Survey"), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    opens_on = DateField(_l("Opens on"), validators=[Optional()])
    closes_on = DateField(_l("Closes on"), validators=[Optional()])
    open_link = BooleanField(_l("Also an open link for anonymous respondents"))


class SampleUploadForm(Form):
    sample = FileField(
        _l("Sample file (.xlsx or .csv)"),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileAllowed(["xlsx", "csv"], _l("Only .xlsx and .csv files.")),
        ],
    )


class StateForm(Form):
    """Open or close: only the CSRF token and the button's value."""


class ReopenForm(Form):
    reason = TextAreaField(
        _l("Reason for the correction"), validators=[DataRequired(), Length(max=2000)]
    )


class StaffEditForm(Form):
    reason = TextAreaField(
        _l("Reason for the correction"), validators=[DataRequired(), Length(max=2000)]
    )


class UnitFilterForm(Form):
    class Meta:
        csrf = False  # a GET filter, changes nothing

    subregion = SelectField(_l("Subregion"), validators=[Optional()], validate_choice=False)
    entity_type = SelectField(_l("Entity type"), validators=[Optional()], validate_choice=False)
    status = SelectField(_l("Status"), validators=[Optional()], validate_choice=False)
