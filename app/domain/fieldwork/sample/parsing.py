"""From a table of cells to checked sample rows: ``parse_sample``, the entry point."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from app.domain.fieldwork.sample.cells import (
    Cell,
    NoCachedValue,
    cell_text,
    is_empty,
    phone_number,
    variable_value,
)
from app.domain.fieldwork.sample.columns import (
    ALIASES,
    MAX_LENGTHS,
    PHONE_COLUMNS,
    REQUIRED_COLUMNS,
    normalise_name,
    standard_column,
)
from app.domain.fieldwork.sample.files import READ, Table, read_csv, read_xlsx
from app.domain.fieldwork.sample.results import (
    REASON_LENGTH,
    SampleParseResult,
    SampleProblem,
    SampleRow,
    VariableValue,
    problem_at,
)
from app.domain.messages import N_

MAX_FILE_BYTES: Final = 50 * 1024 * 1024
_EXCEL_ERRORS = frozenset(
    {
        "#NULL!",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#N/A",
        "#GETTING_DATA",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
    }
)
_EMAIL = re.compile(r"[^@\s,;<>()\[\]\"]+@[^@\s,;<>()\[\]\".]+(?:\.[^@\s,;<>()\[\]\".]+)+")
_NO_RESULT = N_(
    "the formula here has no saved result; open the file in Excel or LibreOffice, "
    "let it calculate and save it again"
)

# --- from cells to sample rows ---------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    index: int  # 0-based
    letter: str
    header: str  # as written, for messages
    standard: str | None  # the standard column, or None for a variable
    variable: str | None


def _read_header(
    header_number: int, header: tuple[Cell, ...], used: set[int], problems: list[SampleProblem]
) -> list[_Column]:
    """The columns a header row names; ``used``: the headerless columns with data below."""
    from openpyxl.utils.cell import get_column_letter

    columns: list[_Column] = []
    taken: dict[str, _Column] = {}
    width = max([len(header), *(index + 1 for index in used)])
    for index in range(width):
        letter = get_column_letter(index + 1)
        cell = header[index] if index < len(header) else None
        if isinstance(cell, NoCachedValue):
            problems.append(problem_at(header_number, letter, _NO_RESULT))
            continue
        text = cell_text(cell)
        if not text:
            if index in used:
                problems.append(
                    problem_at(
                        header_number,
                        None,
                        N_("column %(letter)s has data but no header; name it or delete it"),
                        letter=letter,
                    )
                )
            continue
        standard = standard_column(text)
        variable = None if standard else normalise_name(text)
        if not standard and not variable:
            problems.append(
                problem_at(
                    header_number,
                    text,
                    N_("a variable name cannot be made from this header; use letters or digits"),
                )
            )
            continue
        column = _Column(index, letter, text, standard, variable)
        key = standard or variable or ""
        earlier = taken.get(key)
        if earlier is None:
            taken[key] = column
            columns.append(column)
        elif standard:
            problems.append(
                problem_at(
                    header_number,
                    text,
                    N_(
                        "column %(letter)s repeats column %(other_letter)s (%(other)s): "
                        "both are the %(name)s column; keep one of them"
                    ),
                    letter=letter,
                    other_letter=earlier.letter,
                    other=earlier.header,
                    name=standard,
                )
            )
        else:
            problems.append(
                problem_at(
                    header_number,
                    text,
                    N_(
                        "column %(letter)s and column %(other_letter)s (%(other)s) both become "
                        "the sample variable %(name)s; rename one of them"
                    ),
                    letter=letter,
                    other_letter=earlier.letter,
                    other=earlier.header,
                    name=variable,
                )
            )
    for name in REQUIRED_COLUMNS:
        if name not in taken:
            aliases = [alias for alias, standard in ALIASES.items() if standard == name]
            problems.append(
                problem_at(
                    None,
                    None,
                    N_(
                        "the required column %(name)s is missing "
                        "(it may also be called %(aliases)s)"
                    ),
                    name=name,
                    aliases=", ".join(aliases),
                )
            )
    return columns


class _RowReader:
    """Turns data rows into sample rows, collecting every problem."""

    def __init__(
        self, columns: list[_Column], typed: bool, on_row: Callable[[SampleRow], None] | None
    ) -> None:
        self.columns = columns
        self.typed = typed
        self.on_row = on_row  # each good row goes here instead of into ``rows`` (streaming)
        self.has_required = all(
            any(column.standard == name for column in columns) for name in REQUIRED_COLUMNS
        )
        self.headers = {column.standard: column.header for column in columns if column.standard}
        self.first_row_of_id: dict[str, int] = {}
        self.problems: list[SampleProblem] = []
        self.rows: list[SampleRow] = []

    def read(self, number: int, cells: tuple[Cell, ...]) -> None:
        problems: list[SampleProblem] = []
        standard: dict[str, str] = {}
        phones: list[str] = []
        variables: dict[str, VariableValue] = {}
        for column in self.columns:
            cell = cells[column.index] if column.index < len(cells) else None
            if isinstance(cell, NoCachedValue):
                problems.append(
                    problem_at(
                        number,
                        column.header,
                        _NO_RESULT,
                    )
                )
                continue
            if isinstance(cell, str) and cell.strip() in _EXCEL_ERRORS:
                problems.append(
                    problem_at(
                        number,
                        column.header,
                        N_("the cell shows the Excel error %(value)s"),
                        value=cell.strip(),
                    )
                )
                continue
            if column.variable is not None:
                variables[column.variable] = variable_value(cell, self.typed)
            elif column.standard in PHONE_COLUMNS:
                if is_empty(cell):
                    continue
                number_text, error = phone_number(cell)
                if error is not None:
                    problems.append(SampleProblem(number, column.header, error))
                elif number_text not in phones:
                    phones.append(number_text)
            elif column.standard is not None:
                text = self.check_text(number, column, cell_text(cell), problems)
                standard[column.standard] = text
        if self.has_required:
            self.check_identity(number, standard, problems)
        self.problems.extend(problems)
        if problems or not self.has_required:
            return
        (self.on_row or self.rows.append)(
            SampleRow(
                row=number,
                external_id=standard["external_id"],
                name=standard["name"],
                entity_type=standard.get("entity_type", ""),
                subregion=standard.get("subregion", ""),
                powiat=standard.get("powiat", ""),
                gmina=standard.get("gmina", ""),
                contact_person=standard.get("contact_person", ""),
                email=standard.get("email", ""),
                phones=tuple(phones),
                variables=variables,
            )
        )

    def check_text(
        self, number: int, column: _Column, text: str, problems: list[SampleProblem]
    ) -> str:
        """A standard text value, cleaned; its problems (length, e-mail form) added."""
        name = column.standard or ""
        if name == "entity_type":
            text = text.upper()
        limit = MAX_LENGTHS.get(name)
        if limit is not None and len(text) > limit:
            problems.append(
                problem_at(
                    number,
                    column.header,
                    N_("the text is %(length)s characters long; at most %(limit)s fit"),
                    length=len(text),
                    limit=limit,
                )
            )
        elif name == "email" and text and not _EMAIL.fullmatch(text):
            problems.append(
                problem_at(
                    number, column.header, N_("'%(value)s' is not an e-mail address"), value=text
                )
            )
        return text

    def check_identity(
        self, number: int, standard: dict[str, str], problems: list[SampleProblem]
    ) -> None:
        """external_id and name present, external_id not seen in an earlier row."""
        headers = self.headers
        reported = {problem.column for problem in problems}
        for name in REQUIRED_COLUMNS:
            header = headers[name]
            if not standard.get(name) and header not in reported:
                problems.append(problem_at(number, header, N_("a value is required here")))
        external_id = standard.get("external_id", "")
        if not external_id:
            return
        first = self.first_row_of_id.setdefault(external_id, number)
        if first != number:
            problems.append(
                problem_at(
                    number,
                    headers["external_id"],
                    N_("external id %(value)s repeats row %(other)s"),
                    value=external_id,
                    other=first,
                )
            )


def _headerless_columns_with_data(
    header: tuple[Cell, ...], data: Iterable[tuple[int, tuple[Cell, ...]]]
) -> set[int]:
    """The 0-based columns without a header text that have data in some row."""
    blank = [index for index, cell in enumerate(header) if not cell_text(cell)]
    used: set[int] = set()
    for _number, cells in data:
        used.update(index for index in blank if index < len(cells) and not is_empty(cells[index]))
        # Rows are trimmed, so a row longer than the header has data past it.
        if len(cells) > len(header):
            used.update(
                index for index in range(len(header), len(cells)) if not is_empty(cells[index])
            )
    return used


def _build(
    table: Table, typed: bool, on_row: Callable[[SampleRow], None] | None = None
) -> SampleParseResult:
    """Sample rows from a table of cells: header, then every data row checked.

    With ``on_row`` each good row is handed to it as it is read and none is kept.
    """
    if table.problems:
        return SampleParseResult([], table.problems)
    if not table.rows:
        return SampleParseResult([], [problem_at(None, None, N_("the file is empty"))])
    header_number, header = table.rows[0]
    used = _headerless_columns_with_data(header, table.data())
    problems: list[SampleProblem] = []
    columns = _read_header(header_number, header, used, problems)
    if not table.data_rows:
        problems.append(problem_at(None, None, N_("the file has a header row but no rows of data")))
    reader = _RowReader(columns, typed, on_row)
    rows_read = table.rows
    if table.reread is not None:
        for number, cells in table.data():
            reader.read(number, cells)
    for index in range(1, len(rows_read)):
        number, cells = rows_read[index]
        rows_read[index] = READ  # the cells are not needed again: let them go
        reader.read(number, cells)
    problems.extend(reader.problems)
    rows = reader.rows if reader.has_required else []
    variable_names = [column.variable for column in columns if column.variable is not None]
    headers = {column.standard: column.header for column in columns if column.standard}
    return SampleParseResult(rows, problems, variable_names, headers)


# --- the entry point -------------------------------------------------------------------


def parse_sample(
    data: bytes, filename: str, on_row: Callable[[SampleRow], None] | None = None
) -> SampleParseResult:
    """Read a sample from an .xlsx or .csv file's bytes; never raises.

    With ``on_row``, each row without a problem is handed to it as it is read and the
    result holds no rows (a large sample is then never all in memory as ``SampleRow``s);
    the file is still good only if the result has no problems.
    """
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    if extension not in ("xlsx", "csv"):
        return SampleParseResult(
            [],
            [
                problem_at(
                    None,
                    None,
                    N_("%(filename)s is not an .xlsx or .csv file: use .xlsx or .csv"),
                    filename=filename[-REASON_LENGTH:] or "?",
                )
            ],
        )
    if len(data) > MAX_FILE_BYTES:
        return SampleParseResult(
            [],
            [
                problem_at(
                    None,
                    None,
                    N_("the file is larger than %(limit)s MB; a sample file is much smaller"),
                    limit=MAX_FILE_BYTES // (1024 * 1024),
                )
            ],
        )
    if not data.strip():
        return SampleParseResult([], [problem_at(None, None, N_("the file is empty"))])
    try:
        if extension == "csv":
            return _build(read_csv(data), typed=False, on_row=on_row)
        return _build(read_xlsx(data), typed=True, on_row=on_row)
    except Exception as error:  # the promise: a problem, never a crash
        return SampleParseResult(
            [],
            [
                problem_at(
                    None,
                    None,
                    N_("the file cannot be read (%(reason)s)"),
                    reason=f"{type(error).__name__}: {error}"[:REASON_LENGTH],
                )
            ],
        )
