"""Reading a sample file's bytes into a table of cells: CSV (encoding and delimiter
sniffed) or an XLSX workbook (defended against zip bombs, formulas without results found)."""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from defusedxml.ElementTree import iterparse

from app.domain.fieldwork.sample.cells import NO_CACHED_VALUE, Cell, is_empty
from app.domain.fieldwork.sample.columns import normalise_name
from app.domain.fieldwork.sample.results import REASON_LENGTH, SampleProblem, problem_at
from app.domain.messages import N_
from app.domain.workbooks import zip_problem

MAX_ROWS: Final = 100_000  # data rows, header not counted
MAX_COLUMNS: Final = 200
_SHEET_NAMES = frozenset({"sample", "proba"})  # normalised: "próba", "Próba ", "SAMPLE"
_CSV_DELIMITERS = (";", ",", "\t")  # in order of preference when they split a header alike
_SCAN_CHUNK = 1024 * 1024
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")

READ: tuple[int, tuple[Cell, ...]] = (0, ())  # a row already handed on


@dataclass
class Table:
    """The non-empty rows of a file (number, cells without trailing empties), or why not.

    A CSV keeps only its header row in ``rows``: ``reread`` reads the rows from its text
    again whenever they are needed, so a 100,000-row file is never all in memory as cells.
    """

    rows: list[tuple[int, tuple[Cell, ...]]] = field(default_factory=list)
    problems: list[SampleProblem] = field(default_factory=list)
    reread: Callable[[], Iterator[tuple[int, tuple[Cell, ...]]]] | None = None
    data_rows: int = 0  # non-empty rows after the header

    def data(self) -> Iterator[tuple[int, tuple[Cell, ...]]]:
        """The rows after the header."""
        if self.reread is None:
            yield from self.rows[1:]
            return
        rows = self.reread()
        next(rows, None)  # the header
        yield from rows


def _collect(
    numbered_rows: Iterable[tuple[int, Sequence[Cell]]], table: Table, keep: bool = True
) -> None:
    """Keep the non-empty rows (only the header unless ``keep``), stopping with a problem
    past the row or column limit."""
    for number, cells in _non_empty(numbered_rows, table.problems):
        if keep or not table.rows:
            table.rows.append((number, cells))
        else:
            table.data_rows += 1
    if keep:
        table.data_rows = max(len(table.rows) - 1, 0)


def _non_empty(
    numbered_rows: Iterable[tuple[int, Sequence[Cell]]], problems: list[SampleProblem]
) -> Iterator[tuple[int, tuple[Cell, ...]]]:
    """The non-empty rows, trimmed; a problem added (and the end) past a limit."""
    from openpyxl.utils.cell import get_column_letter

    data_rows = -1  # the first non-empty row is the header
    for number, cells in numbered_rows:
        width = len(cells)
        while width and is_empty(cells[width - 1]):
            width -= 1
        if not width:
            continue
        if width > MAX_COLUMNS:
            problems.append(
                problem_at(
                    number,
                    None,
                    N_(
                        "there is data in column %(letter)s; a sample has at most %(limit)s columns"
                    ),
                    # a CSV may go past Excel's last column (XFD): then its number
                    letter=get_column_letter(width) if width <= 16384 else str(width),
                    limit=MAX_COLUMNS,
                )
            )
            return
        data_rows += 1
        if data_rows > MAX_ROWS:
            problems.append(
                problem_at(
                    None,
                    None,
                    N_(
                        "the file has more than %(limit)s rows; split the sample into smaller files"
                    ),
                    limit=MAX_ROWS,
                )
            )
            return
        yield number, tuple(cells[:width])


def _decode_csv(data: bytes) -> str | SampleProblem | None:
    """CSV bytes as text: UTF-8 (BOM or not), UTF-16 with a BOM, or Windows-1250; None if not.

    A file of mixed encodings (a UTF-8 mark, or lines with Polish letters in UTF-8, and a
    line that is not UTF-8, e.g. pasted from a Windows-1250 file) is neither: read either
    way, some of its lines would be stored garbled (``SpĂłĹ‚dzielnia``). That is a problem
    naming the first line that is not UTF-8.
    """
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError as error:  # a BOM means UTF-8: no guessing
            return _not_utf8_line(data, error)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        # Polish letters in UTF-8 before or after the bad line: a mixed file, not cp1250
        # (whose bytes almost never decode as UTF-8, let alone to Polish letters)
        if _polish_utf8(data[: error.start]) or any(
            _polish_utf8(line) for line in data[error.start :].split(b"\n")
        ):
            return _not_utf8_line(data, error)
    try:
        return data.decode("cp1250")
    except UnicodeDecodeError:
        return None


_POLISH_LETTERS = frozenset("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")


def _polish_utf8(part: bytes) -> bool:
    """``part`` is UTF-8 text with a Polish letter in it."""
    if part.isascii():
        return False
    try:
        return not _POLISH_LETTERS.isdisjoint(part.decode("utf-8"))
    except UnicodeDecodeError:
        return False


def _not_utf8_line(data: bytes, error: UnicodeDecodeError) -> SampleProblem:
    line = data.count(b"\n", 0, error.start) + 1
    return problem_at(
        None,
        None,
        N_(
            "line %(line)s is not UTF-8 text, unlike the rest of the file (it may have been "
            'pasted from a Windows-1250 file); in Excel save the file as "CSV UTF-8 (comma '
            'delimited)" and import it again'
        ),
        line=line,
    )


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their ends, split as ``newline=""`` does (\\r\\n, \\r, \\n).

    What csv.reader needs, without io.StringIO's copy of the whole text (4 bytes a
    character: 40 MB for a 10 MB sample).
    """
    return (match.group() for match in _LINE.finditer(text))


def _has_content(field_text: str) -> bool:
    return bool(field_text.strip(" \t;,"))


def _csv_delimiter(text: str) -> str:
    """The delimiter that splits the header (the first non-empty record) into most fields."""
    best, best_count = _CSV_DELIMITERS[0], 0
    for delimiter in _CSV_DELIMITERS:
        try:
            records = csv.reader(_lines(text), delimiter=delimiter)
            # A line of nothing but delimiters and spaces (";;;") is no header under any.
            header = next((record for record in records if any(map(_has_content, record))), [])
        except csv.Error:
            continue
        if len(header) > best_count:
            best, best_count = delimiter, len(header)
    return best


def read_csv(data: bytes) -> Table:
    table = Table()
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if not utf16 and b"\x00" in data:
        # A workbook or other binary file named .csv: reading it as text would only
        # produce noise problems.
        table.problems.append(
            problem_at(
                None,
                None,
                N_(
                    "the file holds binary data, not CSV text; "
                    "if it is an Excel workbook, name it .xlsx"
                ),
            )
        )
        return table
    text = _decode_csv(data)
    if isinstance(text, SampleProblem):
        table.problems.append(text)
        return table
    if text is None:
        table.problems.append(
            problem_at(
                None,
                None,
                N_(
                    "the file is neither UTF-8 nor Windows-1250 text; "
                    'in Excel save it as "CSV UTF-8 (comma delimited)"'
                ),
            )
        )
        return table
    delimiter = _csv_delimiter(text)
    read = 0

    def numbered() -> Iterator[tuple[int, Sequence[Cell]]]:
        nonlocal read
        read = 0
        for record in csv.reader(_lines(text), delimiter=delimiter):
            read += 1
            yield read, record

    def reread() -> Iterator[tuple[int, tuple[Cell, ...]]]:
        return _non_empty(numbered(), [])  # read once already: no problem can be new

    try:
        _collect(numbered(), table, keep=False)
        table.reread = reread
    except csv.Error as error:
        table.rows.clear()
        table.problems.append(
            problem_at(
                read + 1,
                None,
                N_("the CSV text cannot be read here: %(reason)s"),
                reason=str(error)[:REASON_LENGTH],
            )
        )
    return table


def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def _has_formulas(archive: zipfile.ZipFile, path: str) -> bool:
    """Whether a sheet's XML has an ``<f>`` (formula) element, read in chunks, cheaply."""
    overlap = b""
    with archive.open(path) as source:
        while chunk := source.read(_SCAN_CHUNK):
            if _FORMULA_TAG.search(overlap + chunk):
                return True
            overlap = chunk[-64:]  # a tag cut between two chunks
    return False


def _formulas_without_values(archive: zipfile.ZipFile, path: str) -> dict[int, set[int]]:
    """Row -> 1-based columns of formula cells saved without a result, in one sheet's XML.

    openpyxl's ``data_only`` reading shows such a cell as empty, so the sheet is scanned
    for ``<c>`` elements with an ``<f>`` and no usable ``<v>``. An empty ``<v>`` is a saved
    empty text only in a string-typed cell (``=IF(A1="";"";...)``). Most samples have no
    formulas, and a quick byte scan spares them the XML parse.
    """
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    missing: dict[int, set[int]] = {}
    if not _has_formulas(archive, path):
        return missing
    row_number = 0
    with archive.open(path) as source:
        # defusedxml refuses entity declarations, so a hostile sheet cannot blow up here.
        for _event, element in iterparse(source, events=("end",)):
            if _local_name(element.tag) != "row":
                continue
            reference = element.get("r")
            row_number = int(reference) if reference else row_number + 1
            column = 0
            for cell in element:
                if _local_name(cell.tag) != "c":
                    continue
                reference = cell.get("r")
                if reference:
                    column = column_index_from_string(coordinate_from_string(reference)[0])
                else:
                    column += 1
                parts = {_local_name(part.tag): part for part in cell}
                value = parts.get("v")
                if "f" in parts and (
                    value is None or (not value.text and cell.get("t") not in ("str", "inlineStr"))
                ):
                    missing.setdefault(row_number, set()).add(column)
            element.clear()
    return missing


def _chosen_sheet(workbook: Any) -> Any:
    """The sheet named ``sample`` / ``próba`` if there is one, else the first worksheet."""
    sheets = workbook.worksheets
    for sheet in sheets:
        if normalise_name(sheet.title) in _SHEET_NAMES:
            return sheet
    return sheets[0] if sheets else None


def read_xlsx(data: bytes) -> Table:
    table = Table()
    buffer = io.BytesIO(data)
    try:
        archive = zipfile.ZipFile(buffer)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        table.problems.append(
            problem_at(
                None,
                None,
                N_(
                    "this is not an .xlsx workbook; an old .xls file or a password-protected "
                    "workbook cannot be read: save it in Excel as .xlsx without a password"
                ),
            )
        )
        return table
    with archive:
        try:
            refusal = zip_problem(archive)
        except Exception as error:  # a damaged directory is a refusal, not a crash
            table.problems.append(_unreadable(error))
            return table
        if refusal is not None:
            table.problems.append(SampleProblem(None, None, refusal))
            return table
        try:
            _read_workbook(buffer, archive, table)
        except Exception as error:  # openpyxl fails in many ways on damaged files
            table.rows.clear()
            table.problems.append(_unreadable(error))
    return table


def _unreadable(error: Exception) -> SampleProblem:
    reason = f"{type(error).__name__}: {error}"[:REASON_LENGTH]
    return problem_at(
        None,
        None,
        N_("the workbook cannot be read (%(reason)s); open it in Excel and save it again as .xlsx"),
        reason=reason,
    )


def _read_workbook(buffer: io.BytesIO, archive: zipfile.ZipFile, table: Table) -> None:
    """Read the chosen sheet's cells (saved formula results) into ``table``."""
    import openpyxl  # loaded only for an .xlsx file: it brings numpy when installed

    with warnings.catch_warnings():
        # openpyxl warns about workbook features it skips (data validation, ...): they
        # say nothing about the sample.
        warnings.simplefilter("ignore")
        workbook = openpyxl.load_workbook(buffer, read_only=True, data_only=True)
        try:
            sheet = _chosen_sheet(workbook)
            if sheet is None:
                table.problems.append(problem_at(None, None, N_("the workbook has no worksheet")))
                return
            # Dimensions written by other programs can be wrong (A1:XFD1048576); without
            # them openpyxl makes each row as wide as its own last cell.
            sheet.reset_dimensions()
            # openpyxl has no public name for the sheet's part in the zip; this attribute
            # has been there since read-only mode exists.
            missing = _formulas_without_values(archive, sheet._worksheet_path)
            rows = sheet.iter_rows(values_only=True)
            _collect(_mark_missing(enumerate(rows, start=1), missing), table)
        finally:
            workbook.close()


def _mark_missing(
    numbered_rows: Iterable[tuple[int, Sequence[Cell]]], missing: dict[int, set[int]]
) -> Iterator[tuple[int, Sequence[Cell]]]:
    """Put the formula-without-result marker into the cells openpyxl shows as empty."""
    for number, cells in numbered_rows:
        columns = missing.get(number)
        if columns:
            marked = list(cells) + [None] * (max(columns) - len(cells))
            for column in columns:
                if marked[column - 1] is None:
                    marked[column - 1] = NO_CACHED_VALUE
            cells = marked
        yield number, cells
