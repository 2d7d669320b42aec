"""Files given with an XLSForm workbook: the choices files of its ``select_one_from_file``
and ``select_multiple_from_file`` questions, and the bundle that keeps them together.

Where the files come from: beside the workbook on disk (``ankieta surveys check`` and
``load`` read ``FILE.csv`` from the workbook's folder), or from the upload (a .zip holding
the workbook and its files, or the workbook and its files sent at once), as
``AttachedFiles``. Only plain file names are read (no folder, no ``..``), each file up to
``MAX_ATTACHMENT_BYTES``. Nothing is unpacked to disk: a zip's members are read into memory,
within the caps below, and a member in a folder deeper than one is refused.

A stored version whose workbook uses files is a *bundle*: a zip of the workbook and the
files it reads, written the same way every time (sorted names, a fixed date), so the same
workbook and files give the same content hash, and ``load_definition`` reads it back.

Choices files as ODK reads them:

- CSV (UTF-8, comma-separated, a header row): the column ``name`` is the choice's code,
  ``label`` its label (``label::English``, ``label::Polski (pl)`` one per language, as on
  the choices sheet); every other column is a column of the choice, which a
  ``choice_filter`` may name. ``parameters`` ``value=COLUMN`` and ``label=COLUMN`` name
  other columns for the code and the label.
- XML (an ODK secondary instance): ``<root><item><name>a</name><label>A</label>...</item>
  ...</root>``, each child of an ``item`` a column. A DOCTYPE or entity declaration is
  refused (defusedxml).

Problems name the file and, for a CSV, its line; ``ChoicesFileError`` carries them.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from app.domain.messages import N_, Message

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024  # a list of every village in Poland is ~3 MB
MAX_BUNDLE_MEMBERS = 100
MAX_BUNDLE_BYTES = 30 * 1024 * 1024  # unpacked, in all
MAX_FILE_CHOICES = 100_000
CHOICES_SUFFIXES = (".csv", ".xml")
BUNDLE_SUFFIX = ".zip"
_BUNDLE_DATE = (2000, 1, 1, 0, 0, 0)  # every member's date: the same files, the same bytes
_MAX_NAME = 200
_SKIPPED_PREFIXES = ("__MACOSX/",)  # what archivers add beside the files


class ChoicesFileError(ValueError):
    """A choices file that cannot be read: why, and the line (CSV) where."""

    def __init__(self, message: Message, line: int | None = None) -> None:
        super().__init__(message.msgid)
        self.message = message
        self.line = line


def plain_name(name: str) -> bool:
    """True for a file name without a folder, a leading dot or control characters."""
    return (
        0 < len(name) <= _MAX_NAME
        and "/" not in name
        and "\\" not in name
        and not name.startswith(".")
        and name.isprintable()
    )


@dataclass
class AttachedFiles:
    """The files a workbook may read by name, and those it did read (``used``)."""

    reader: Callable[[str], bytes | None]
    folder: str = ""  # where the files are, for messages ("" in an upload)
    offered: tuple[str, ...] = ()  # the files given (an upload's), not those of a folder
    used: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def beside(cls, workbook: Path) -> AttachedFiles:
        """The files in the workbook's folder (the command line)."""
        folder = workbook.parent

        def read(name: str) -> bytes | None:
            path = folder / name
            if not path.is_file():
                return None
            with path.open("rb") as stream:
                return stream.read(MAX_ATTACHMENT_BYTES + 1)

        return cls(read, str(folder) if str(folder) != "." else "")

    @classmethod
    def given(cls, files: Mapping[str, bytes]) -> AttachedFiles:
        """The files of an upload or a bundle, by name."""
        return cls(files.get, offered=tuple(files))

    @classmethod
    def none(cls) -> AttachedFiles:
        """No files at all (a workbook sent alone)."""
        return cls(lambda name: None)

    def shown(self, name: str) -> str:
        """The file as problems name it: its path beside the workbook, or its name."""
        return str(PurePosixPath(self.folder, name)) if self.folder else name

    def read(self, name: str) -> bytes:
        """The file's bytes; ``ChoicesFileError`` when it is not there or too large."""
        if not plain_name(name):
            raise ChoicesFileError(
                Message(
                    N_("The file name %(file)s is not a plain file name (no folders)."),
                    {"file": name},
                )
            )
        try:
            data = self.reader(name)
        except OSError as error:
            raise ChoicesFileError(
                Message(
                    N_("The file %(file)s cannot be read: %(reason)s."),
                    {"file": name, "reason": error.strerror or str(error)},
                )
            ) from None
        if data is None:
            raise ChoicesFileError(
                Message(
                    N_(
                        "The file %(file)s is missing: put it beside the workbook, or upload "
                        "it together with the workbook."
                    ),
                    {"file": name},
                )
            )
        if len(data) > MAX_ATTACHMENT_BYTES:
            raise ChoicesFileError(
                Message(
                    N_("The file %(file)s is larger than %(limit)s MB."),
                    {"file": name, "limit": MAX_ATTACHMENT_BYTES // (1024 * 1024)},
                )
            )
        self.used[name] = data
        return data


# --- bundles ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bundle:
    """A definition file and the files that came with it."""

    name: str
    data: bytes
    files: dict[str, bytes]


def is_bundle(name: str) -> bool:
    return name.lower().endswith(BUNDLE_SUFFIX)


def read_bundle(data: bytes, definition_suffixes: tuple[str, ...]) -> Bundle:
    """The definition file (one of ``definition_suffixes``) and the other files of a zip;
    ``ChoicesFileError`` saying why when the zip cannot be used. Only the zip's directory
    is trusted for sizes before reading: Python's zipfile never returns more than a
    member's declared size (a member that lies fails its CRC check)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ChoicesFileError(Message(N_("The .zip file cannot be read."))) from None
    with archive:
        members = [
            info
            for info in archive.infolist()
            if not info.is_dir() and not info.filename.startswith(_SKIPPED_PREFIXES)
        ]
        if len(members) > MAX_BUNDLE_MEMBERS:
            raise ChoicesFileError(
                Message(
                    N_("The .zip file holds %(count)s files, more than %(limit)s."),
                    {"count": len(members), "limit": MAX_BUNDLE_MEMBERS},
                )
            )
        if sum(info.file_size for info in members) > MAX_BUNDLE_BYTES:
            raise ChoicesFileError(
                Message(
                    N_("The .zip file would unpack to more than %(limit)s MB."),
                    {"limit": MAX_BUNDLE_BYTES // (1024 * 1024)},
                )
            )
        names = _member_names([info.filename for info in members])
        files: dict[str, bytes] = {}
        for info, name in zip(members, names, strict=True):
            if name.startswith(".") or name in files:
                continue  # .DS_Store and the like
            if info.file_size > MAX_ATTACHMENT_BYTES:
                raise ChoicesFileError(
                    Message(
                        N_("The file %(file)s is larger than %(limit)s MB."),
                        {"file": name, "limit": MAX_ATTACHMENT_BYTES // (1024 * 1024)},
                    )
                )
            try:
                files[name] = archive.read(info)
            except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError):
                raise ChoicesFileError(
                    Message(N_("The file %(file)s in the .zip file is damaged."), {"file": name})
                ) from None
    definitions = sorted(n for n in files if n.lower().endswith(definition_suffixes))
    if len(definitions) != 1:
        raise ChoicesFileError(
            Message(
                N_(
                    "The .zip file must hold exactly one questionnaire (%(suffixes)s); it "
                    "holds %(count)s."
                ),
                {"suffixes": ", ".join(definition_suffixes), "count": len(definitions)},
            )
        )
    name = definitions[0]
    return Bundle(name, files.pop(name), files)


def _member_names(paths: list[str]) -> list[str]:
    """The members' plain names: a zip of a folder (``form/form.xlsx``) counts as a zip of
    its files; anything deeper, absolute or with ``..`` is refused."""
    parts = [PurePosixPath(path.replace("\\", "/")).parts for path in paths]
    in_folder = len({each[0] for each in parts if each}) == 1 and all(len(p) == 2 for p in parts)
    names = []
    for path, each in zip(paths, parts, strict=True):
        name = each[-1] if each else ""
        allowed = len(each) == 1 or (in_folder and each[0] not in ("/", ".."))
        if not allowed or not plain_name(name):
            raise ChoicesFileError(
                Message(
                    N_("The .zip file holds %(file)s: give its files without folders."),
                    {"file": path[:_MAX_NAME]},
                )
            )
        names.append(name)
    return names


def write_bundle(name: str, data: bytes, files: Mapping[str, bytes]) -> bytes:
    """A zip of the definition ``name`` and ``files``, the same bytes for the same files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, content in sorted({name: data, **files}.items()):
            info = zipfile.ZipInfo(member, date_time=_BUNDLE_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


# --- choices files ----------------------------------------------------------------------


@dataclass
class FileChoice:
    """One choice of a choices file: its code, its labels by language as the header names
    it ('' for a bare ``label``), its other columns, and its CSV line."""

    name: str
    labels: dict[str, str]
    columns: dict[str, str]
    line: int | None = None


@dataclass
class FileChoices:
    """The choices of a file and its other columns, in order."""

    choices: list[FileChoice]
    columns: list[str]


def read_choices(name: str, data: bytes, value: str = "name", label: str = "label") -> FileChoices:
    """The choices of the CSV or XML file ``name``; ``ChoicesFileError`` when it cannot
    be read. ``value`` and ``label`` are the columns of the code and the label."""
    value, label = value.lower(), label.lower()
    if name.lower().endswith(".csv"):
        return _read_csv(data, value, label)
    return _read_xml(data, value, label)


def _label_language(column: str, label: str) -> str | None:
    """'' for the label column itself, the language of ``label::LANGUAGE``, else None."""
    if column == label:
        return ""
    prefix = label + "::"
    return column[len(prefix) :].strip() if column.startswith(prefix) else None


def _read_csv(data: bytes, value: str, label: str) -> FileChoices:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ChoicesFileError(Message(N_("the file is not UTF-8 text")), line) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [cell.strip() for cell in next(reader, [])]
        if not any(header):
            raise ChoicesFileError(Message(N_("the file has no header row")), 1)
        keys = [_column_key(cell, value, label) for cell in header]
        if value not in keys:
            raise ChoicesFileError(
                Message(
                    N_("the header has no column %(column)s (it has: %(columns)s)"),
                    {"column": value, "columns": ", ".join(c for c in header if c)},
                ),
                1,
            )
        found: list[FileChoice] = []
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(keys):
                raise ChoicesFileError(
                    Message(
                        N_("the row has %(count)s cells, the header %(columns)s"),
                        {"count": len(row), "columns": len(keys)},
                    ),
                    line,
                )
            cells = dict(zip(keys, (cell.strip() for cell in row), strict=False))
            found.append(_choice(cells, value, label, line))
            if len(found) > MAX_FILE_CHOICES:
                raise ChoicesFileError(
                    Message(
                        N_("the file has more than %(limit)s choices"), {"limit": MAX_FILE_CHOICES}
                    ),
                    line,
                )
    except csv.Error as error:
        raise ChoicesFileError(
            Message(N_("the file is not valid CSV: %(reason)s"), {"reason": str(error)}),
            reader.line_num,
        ) from None
    columns = [k for k in keys if k and k != value and _label_language(k, label) is None]
    return FileChoices(found, columns)


def _column_key(cell: str, value: str, label: str) -> str:
    """A header cell as columns are matched: ``Name``, ``LABEL::English`` as ``name``,
    ``label::English`` (the language as written)."""
    lowered = cell.lower()
    if lowered in (value, label):
        return lowered
    if lowered.startswith(label + "::"):
        return label + "::" + cell[len(label) + 2 :]
    return cell


def _choice(cells: Mapping[str, str], value: str, label: str, line: int | None) -> FileChoice:
    """One choice from its cells by column; a choice without a code is an error."""
    code = cells.get(value, "")
    if not code:
        raise ChoicesFileError(Message(N_("the choice has no %(column)s"), {"column": value}), line)
    labels: dict[str, str] = {}
    columns: dict[str, str] = {}
    for column, text in cells.items():
        language = _label_language(column, label)
        if language is not None:
            if text:
                labels[language] = text
        elif column and column != value:
            columns[column] = text
    return FileChoice(code, labels, columns, line)


def _read_xml(data: bytes, value: str, label: str) -> FileChoices:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(data)
    except ParseError as error:
        line = error.position[0] if error.position else None
        raise ChoicesFileError(
            Message(N_("the file is not valid XML: %(reason)s"), {"reason": str(error)}), line
        ) from None
    except DefusedXmlException:
        raise ChoicesFileError(
            Message(N_("the file declares a DOCTYPE or entities, which are not read"))
        ) from None
    found: list[FileChoice] = []
    columns: list[str] = []
    items = [element for element in root if _local(element.tag) == "item"]
    if not items:
        raise ChoicesFileError(Message(N_("the file has no item elements under its root")))
    for item in items:
        cells = {_local(child.tag): (child.text or "").strip() for child in item}
        columns += [
            c
            for c in cells
            if c not in columns and c != value and _label_language(c, label) is None
        ]
        found.append(_choice(cells, value, label, None))
        if len(found) > MAX_FILE_CHOICES:
            raise ChoicesFileError(
                Message(N_("the file has more than %(limit)s choices"), {"limit": MAX_FILE_CHOICES})
            )
    return FileChoices(found, columns)


def _local(tag: object) -> str:
    """An element's name without its namespace."""
    return str(tag).rsplit("}", 1)[-1]
