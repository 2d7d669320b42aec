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

A workbook may read choices files (``attachments``): beside it on disk, or sent with it.
``load_with_files`` loads a definition with the files given and says what to store: the
definition alone, or a bundle (a .zip) of it and the files it read, which
``load_definition`` reads back.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from app.domain.messages import N_, Message
from app.domain.questionnaire.attachments import (
    AttachedFiles,
    ChoicesFileError,
    is_bundle,
    read_bundle,
    write_bundle,
)
from app.domain.questionnaire.model import SourceLocation
from app.domain.questionnaire.problems import LoadResult, Problem, refused
from app.domain.questionnaire.xlsform import load_xlsform
from app.domain.questionnaire.yaml_reader import load_yaml

MAX_DEFINITION_BYTES = 10 * 1024 * 1024  # far beyond any real questionnaire
YAML_SUFFIXES = (".yaml", ".yml")
WORKBOOK_SUFFIXES = (".xlsx",)
DEFINITION_SUFFIXES = YAML_SUFFIXES + WORKBOOK_SUFFIXES


def load_definition(
    source: str | Path | bytes, filename: str | None = None, attached: AttachedFiles | None = None
) -> LoadResult:
    """Read, build and check a definition: YAML (.yaml, .yml) or XLSForm (.xlsx) by extension,
    or a bundle (.zip) of one with the files it reads.

    ``source`` is a path or the file's bytes; ``filename`` is the name used in problems
    (and, for bytes, the extension that says the format). ``attached``: the files a
    workbook may read; by default those beside a path, none for bytes.
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
        if attached is None:
            attached = AttachedFiles.beside(Path(source))
    if len(data) > MAX_DEFINITION_BYTES:
        limit = MAX_DEFINITION_BYTES // (1024 * 1024)
        return refused(whole_file, N_("The file is larger than %(limit)s MB."), limit=limit)
    suffix = Path(name).suffix.lower()
    if is_bundle(name):
        return load_with_files(data, name, AttachedFiles.none())[0]
    if suffix in YAML_SUFFIXES:
        return load_yaml(data, name)
    if suffix in WORKBOOK_SUFFIXES:
        return load_xlsform(data, name, attached)
    return refused(
        whole_file,
        N_("Unknown kind of file %(suffix)s: use .yaml, .yml or .xlsx."),
        suffix=suffix or '""',
    )


def load_with_files(
    data: bytes, name: str, attached: AttachedFiles
) -> tuple[LoadResult, str, bytes]:
    """Load a definition (or a .zip of one and its files) with the files it may read, and
    say what to store: ``(result, name, bytes)`` of the definition alone, or of a bundle of
    it and the files it read. A file given and not read is a warning."""
    if is_bundle(name):
        if len(data) > MAX_DEFINITION_BYTES:
            limit = MAX_DEFINITION_BYTES // (1024 * 1024)
            return (
                refused(
                    SourceLocation(name), N_("The file is larger than %(limit)s MB."), limit=limit
                ),
                name,
                data,
            )
        try:
            bundle = read_bundle(data, DEFINITION_SUFFIXES)
        except ChoicesFileError as error:
            return (
                LoadResult(None, [Problem(SourceLocation(name), None, error.message)]),
                name,
                data,
            )
        name, data, attached = bundle.name, bundle.data, AttachedFiles.given(bundle.files)
    result = load_definition(data, name, attached)
    for unused in sorted(set(attached.offered) - set(attached.used)):
        result.problems.append(
            Problem(
                SourceLocation(unused),
                None,
                Message(
                    N_("The file %(file)s is not used by the questionnaire."), {"file": unused}
                ),
                "warning",
            )
        )
    if not attached.used:
        return result, name, data
    stored = f"{PurePosixPath(name).stem}.zip"
    return result, stored, write_bundle(name, data, attached.used)


def _read_file(path: Path) -> bytes:
    """The file's bytes, reading no more than shows that it is too big to be a definition."""
    with path.open("rb") as stream:
        return stream.read(MAX_DEFINITION_BYTES + 1)
