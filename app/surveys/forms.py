"""The definition upload form."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileRequired, MultipleFileField

from app.platform.web import Form

MAX_DEFINITION_BYTES = 5 * 1024 * 1024


class UploadDefinitionForm(Form):
    """A definition file; a workbook may come with the choices files it reads (.csv, .xml),
    chosen together with it or in a .zip with it."""

    definition = MultipleFileField(
        _l(
            "Definition file (YAML or XLSForm .xlsx, with its .csv and .xml choices files or "
            "in a .zip with them)"
        ),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileAllowed(
                ["yaml", "yml", "xlsx", "csv", "xml", "zip"],
                _l("Only .yaml, .yml, .xlsx, .csv, .xml and .zip files."),
            ),
        ],
    )
