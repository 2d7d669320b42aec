"""Reading a questionnaire definition file: our YAML, or an XLSForm workbook.

``load_definition`` reads a file, builds a :class:`~app.domain.questionnaire.model.Questionnaire`
and checks it. Every problem found is returned, not just the first, as a
:class:`~app.domain.questionnaire.problems.Problem` pointing at the line (YAML) or the sheet
and row (workbook) where it was written. A questionnaire comes back only when there is no
error, and then it is compiled: every expression parsed, ``parent`` links set,
``settings.languages`` filled in.

The modules below it, in the order they build on each other: ``problems`` (what is wrong
and where), ``checks`` (the checks that need the whole questionnaire), ``build`` (from a
:class:`~app.domain.questionnaire.build.Node` document to the model), then the two readers
``yaml_reader`` and ``xlsform``, which both end in ``build``.
"""

from __future__ import annotations

from pathlib import Path

from app.domain.messages import N_
from app.domain.questionnaire.model import SourceLocation
from app.domain.questionnaire.problems import LoadResult, refused
from app.domain.questionnaire.xlsform import load_xlsform
from app.domain.questionnaire.yaml_reader import load_yaml

MAX_DEFINITION_BYTES = 10 * 1024 * 1024  # far beyond any real questionnaire
YAML_SUFFIXES = (".yaml", ".yml")
WORKBOOK_SUFFIXES = (".xlsx",)
DEFINITION_SUFFIXES = YAML_SUFFIXES + WORKBOOK_SUFFIXES


def load_definition(source: str | Path | bytes, filename: str | None = None) -> LoadResult:
    """Read, build and check a definition: YAML (.yaml, .yml) or XLSForm (.xlsx) by extension.

    ``source`` is a path or the file's bytes; ``filename`` is the name used in problems
    (and, for bytes, the extension that says the format).
    """
    name = filename or (str(source) if not isinstance(source, bytes) else "definition")
    whole_file = SourceLocation(name)
    if isinstance(source, bytes):
        data = source
    else:
        try:
            data = _read_file(Path(source))
        except OSError as error:
            reason = error.strerror or str(error)
            return refused(whole_file, N_("The file cannot be read: %(reason)s."), reason=reason)
    if len(data) > MAX_DEFINITION_BYTES:
        limit = MAX_DEFINITION_BYTES // (1024 * 1024)
        return refused(whole_file, N_("The file is larger than %(limit)s MB."), limit=limit)
    suffix = Path(name).suffix.lower()
    if suffix in YAML_SUFFIXES:
        return load_yaml(data, name)
    if suffix in WORKBOOK_SUFFIXES:
        return load_xlsform(data, name)
    return refused(
        whole_file,
        N_("Unknown kind of file %(suffix)s: use .yaml, .yml or .xlsx."),
        suffix=suffix or '""',
    )


def _read_file(path: Path) -> bytes:
    """The file's bytes, reading no more than shows that it is too big to be a definition."""
    with path.open("rb") as stream:
        return stream.read(MAX_DEFINITION_BYTES + 1)
