"""The form that asks for a results file (responses workbook, CSV or monitoring report)."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, RadioField, SelectField
from wtforms.validators import Optional, ValidationError

from app.platform.web import DateInRange, Form


def kind_choices() -> list[tuple[str, str]]:
    return [
        ("responses", _l("Responses with codebook, calls and rates (Excel)")),
        ("csv", _l("Responses only (CSV)")),
        ("sav", _l("Responses for SPSS (.sav) with variable and value labels")),
        ("dta", _l("Responses for Stata (.dta) with variable and value labels")),
        ("attachments", _l("Files sent with file questions (zip)")),
        ("report", _l("Monitoring report: tables and charts (Excel)")),
        (
            "document",
            _l("Monitoring report: a document with the plan's indicators and charts (Word)"),
        ),
    ]


def csv_dialect_choices() -> list[tuple[str, str]]:
    return [
        ("excel-pl", _l("Excel in Polish (semicolons, decimal comma)")),
        ("rfc4180", _l("other programs: R, pandas, SPSS (commas, decimal point, RFC 4180)")),
    ]


class ExportForm(Form):
    kind = RadioField(_l("File"), choices=kind_choices, default="responses")
    language = SelectField(
        _l("Language of the file: labels, sheet names and headers"),
        validators=[Optional()],
    )
    labels = BooleanField(_l("Choice labels instead of codes (responses files)"))
    csv_dialect = SelectField(_l("CSV file for"), choices=csv_dialect_choices, default="excel-pl")
    complete_only = BooleanField(_l("Complete responses only"))
    date_from = DateField(_l("Last worked on from"), validators=[Optional(), DateInRange()])
    date_to = DateField(_l("Last worked on until"), validators=[Optional(), DateInRange()])
    subregion = SelectField(_l("Subregion"), validators=[Optional()])
    include_tests = BooleanField(_l("Also test responses (from the test link)"))
    by = SelectField(_l("Break down by"), validators=[Optional()])
    compare = SelectField(_l("Compare with an earlier fieldwork"), validators=[Optional()])
    include_partial = BooleanField(_l("Include partial responses"))

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))
