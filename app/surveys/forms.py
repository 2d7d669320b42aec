"""The definition upload form."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired

from app.platform.web import Form

MAX_DEFINITION_BYTES = 5 * 1024 * 1024


class UploadDefinitionForm(Form):
    definition = FileField(
        _l("Definition file (YAML or XLSForm .xlsx)"),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileAllowed(["yaml", "yml", "xlsx"], _l("Only .yaml, .yml and .xlsx files.")),
        ],
    )
