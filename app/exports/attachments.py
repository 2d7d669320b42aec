"""The files respondents sent with file questions, as one zip (a results file of its own).

The zip holds each file as ``RESPONSE_ID/FIELD/NAME`` (``FIELD``: the question's variable,
inside a list's entry ``LIST.N.VARIABLE``, as in the form) under the name it was sent with,
and ``zalaczniki.csv`` (``attachments.csv`` in English): one line a file, with the
response, the institution, the variable, the name, size and type and the path in the zip;
a file named by an answer but no longer in the store is listed with an empty path. The
same responses as the response files (the same filters and scope), and only the answers
those files hold (a question that does not apply is left out, as there).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.domain.outputs.export import AnswerReader, neutralise
from app.domain.questionnaire.answers import StoredFile
from app.exports.services import BATCH, ExportOptions, _local, _responses_query, _versions
from app.models.fieldwork import Fieldwork
from app.models.surveys import flow_of
from app.platform.uploads import file_store

MANIFEST = {"pl": "zalaczniki.csv", "en": "attachments.csv"}
MANIFEST_COLUMNS = {
    "pl": ("id_odpowiedzi", "id_zewnetrzne", "zmienna", "nazwa", "rozmiar", "typ", "plik"),
    "en": ("response_id", "external_id", "variable", "name", "size", "type", "path"),
}


def files_of(answers: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, StoredFile]]:
    """Each file among clean answers with its field ("photo", "partnerzy.2.photo")."""
    for name, value in answers.items():
        if isinstance(value, StoredFile) and not value.erased:
            yield prefix + name, value
        elif isinstance(value, tuple):
            for number, instance in enumerate(value, 1):
                if isinstance(instance, Mapping):
                    yield from files_of(instance, f"{prefix}{name}.{number}.")


def write_attachments(
    session: Session,
    fieldwork: Fieldwork,
    path: Path,
    options: ExportOptions,
    *,
    translate: Any = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the zip of the files sent with the responses ``options`` select; the number of
    responses read."""
    store = file_store()
    language = "en" if options.language == "en" else "pl"  # as the response files' words
    readers = {v.id: AnswerReader(flow_of(v)) for v in _versions(session, fieldwork, options)}
    lines: list[list[Any]] = []
    used: set[str] = set()
    responses = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        query = _responses_query(fieldwork, options).execution_options(yield_per=BATCH)
        result = session.execute(query)
        try:
            for row in result:
                responses += 1
                reader = readers[row.survey_version_id]
                sample = {**(row.variables or {}), "external_id": row.external_id or ""}
                moment = _local(row.completed_at) or _local(row.updated_at) or datetime.now()
                clean = reader.clean(row.answers or {}, sample=sample, today=moment.date())
                for field, sent in files_of(clean):
                    data = store.read(sent.key)
                    where = ""
                    if data is not None:
                        where = _unique(f"{row.id}/{field}/{sent.name or sent.key}", used)
                        archive.writestr(where, data)
                    lines.append(
                        [row.id, neutralise(row.external_id or ""), field,
                         neutralise(sent.name), sent.size, sent.content_type, where]
                    )  # fmt: skip
                if progress is not None:
                    progress(1)
        finally:
            result.close()
        manifest = io.StringIO()
        writer = csv.writer(manifest, delimiter=";" if language == "pl" else ",")
        writer.writerow(MANIFEST_COLUMNS[language])
        writer.writerows(lines)
        archive.writestr(MANIFEST[language], "\ufeff" + manifest.getvalue())
    return responses


def _unique(name: str, used: set[str]) -> str:
    """``name``, or ``name`` with (2), (3), ... before its ending when it is taken."""
    candidate, number = name, 1
    stem, dot, ending = name.rpartition(".")
    while candidate in used:
        number += 1
        candidate = (
            f"{stem} ({number}).{ending}" if dot and "/" not in ending else f"{name} ({number})"
        )
    used.add(candidate)
    return candidate
