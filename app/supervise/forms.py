"""Forms of the supervisor's actions; ranges and texts are checked again by the services."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.platform.web import Form
from app.supervise.services import ATTEMPT_LIMIT_RANGE, CLAIM_TIMEOUT_RANGE, PRIORITY_RANGE


def _range(bounds: tuple[int, int]) -> NumberRange:
    low, high = bounds
    return NumberRange(
        low, high, message=_l("Give a whole number from %(low)d to %(high)d.", low=low, high=high)
    )


_WHOLE_NUMBER = _l("Give a whole number.")


class CallingHoursForm(Form):
    calling_hours = StringField(
        _l("Calling hours"),
        validators=[DataRequired(_l("Give the calling hours.")), Length(max=200)],
        description=_l("Days and windows in Warsaw time, e.g. “pn-pt 8:00-16:00; so 9-12”."),
    )


class AttemptLimitForm(Form):
    attempt_limit = IntegerField(
        _l("Attempt limit"),
        validators=[InputRequired(_WHOLE_NUMBER), _range(ATTEMPT_LIMIT_RANGE)],
    )


class ClaimTimeoutForm(Form):
    claim_timeout = IntegerField(
        _l("Release an idle case after (minutes)"),
        validators=[InputRequired(_WHOLE_NUMBER), _range(CLAIM_TIMEOUT_RANGE)],
    )


class EForm(Form):
    e = StringField(
        _l("e (share of unknown-eligibility cases that are eligible)"),
        validators=[Optional(), Length(max=20)],
        description=_l("From 0 to 1, e.g. 0,8. Leave empty to estimate it from the cases."),
    )


class PriorityForm(Form):
    priority = IntegerField(
        _l("Priority (higher is called sooner)"),
        validators=[InputRequired(_WHOLE_NUMBER), _range(PRIORITY_RANGE)],
    )


class TeamForm(Form):
    interviewers = SelectMultipleField(
        _l("Interviewers on this fieldwork"), coerce=int, validators=[Optional()]
    )


class AssignForm(Form):
    interviewer = SelectField(_l("Interviewer"), validators=[Optional()])


class ReleaseForm(Form):
    """Only the CSRF token."""


class ExcludeForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class CallOutcomeForm(Form):
    call = SelectField(_l("Call"), coerce=int, validators=[InputRequired()])
    outcome = SelectField(_l("New outcome"), coerce=int, validators=[InputRequired()])
    note = TextAreaField(
        _l("Why the outcome is changed"),
        validators=[DataRequired(_l("Say why the outcome is changed.")), Length(max=2000)],
    )


class ProductivityForm(Form):
    """The productivity filters (a GET form: it changes nothing)."""

    class Meta:
        csrf = False

    fieldwork = SelectField(_l("Fieldwork"), validators=[Optional()])
    date_from = DateField(
        _l("Calls from (day)"),
        validators=[Optional()],
        format=["%Y-%m-%d", "%d.%m.%Y"],
    )
    date_to = DateField(
        _l("Calls until (day)"),
        validators=[Optional()],
        format=["%Y-%m-%d", "%d.%m.%Y"],
    )
    shift_from = TimeField(_l("Shift from (time)"), validators=[Optional()])
    shift_to = TimeField(_l("Shift until (time)"), validators=[Optional()])

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))
