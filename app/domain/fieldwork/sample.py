"""Reading a fieldwork's sample (one row per institution) from an .xlsx or .csv file.

``parse_sample(data, filename)`` never raises: it returns the rows and every problem found.
A file with any problem is refused as a whole (``SampleParseResult.ok`` is false), so a
sample is never half-imported.

Columns (the first non-empty row is the header; ``row`` numbers count from the top of the
file, header included). A header is matched after normalising it like a variable name
(below), so case, surrounding spaces, Polish letters and punctuation do not matter:

=================  ================================================================
standard column    also accepted (after normalising: ``Telefon 2`` -> ``telefon_2``)
=================  ================================================================
``external_id``    ``id``, ``identyfikator``, ``externalid``, ``id_zewnetrzny``  (required)
``name``           ``nazwa``, ``nazwa_podmiotu``, ``nazwa_instytucji``           (required)
``entity_type``    ``typ``, ``typ_podmiotu``, ``typ_instytucji``, ``entitytype``
``subregion``      ``podregion``
``powiat``         --
``gmina``          --
``contact_person`` ``osoba_kontaktowa``, ``osoba_do_kontaktu``, ``contactperson``
``email``          ``e-mail``, ``e mail``, ``e_mail``, ``mail``, ``adres_email``, ``adres_e-mail``
``phone``          ``telefon``, ``tel``, ``phone_1``, ``phone1``, ``telefon_1``, ``telefon1``,
                   ``tel_1``, ``nr_telefonu``, ``numer_telefonu``
``phone_2``        ``telefon_2``, ``telefon 2``, ``telefon2``, ``tel_2``, ``tel2``, ``phone2``
``phone_3``        ``telefon_3``, ``telefon 3``, ``telefon3``, ``tel_3``, ``tel3``, ``phone3``
=================  ================================================================

Any other column is a sample variable (``${sample.NAME}``) named by normalising its header:
Polish (and other accented) letters transliterated, lower case, every run of other
characters an underscore, no leading or trailing underscore, ``v_`` in front of a name that
would start with a digit (a reference name cannot): ``Liczba miejsc`` -> ``liczba_miejsc``,
``2025 r.`` -> ``v_2025_r``. Because standard columns are recognised on the same normalised
name, a variable can never shadow one; two headers that end up with the same name (two
``email`` columns, ``Liczba miejsc`` and ``liczba-miejsc``) are a problem. A column without
a header is ignored when it is empty and a problem when it has data.

Values:

- Standard text columns: surrounding space removed and inner runs of white space made one
  space; ``entity_type`` upper-cased (any non-empty text is allowed: CIS, KIS, OWES, ...).
  ``external_id`` and ``name`` must not be empty; ``external_id`` must be unique in the file
  (compared exactly, case included, as the database does).
- ``email``, when given, must look like one address (``local@domain.tld``).
- Phones are kept as text: digits with an optional leading ``+``; spaces, dashes, dots,
  slashes and parentheses are removed, leading zeros survive; letters or other characters,
  or fewer than 6 / more than 15 digits, are a problem. ``phones`` lists ``phone``,
  ``phone_2``, ``phone_3`` in that order, empty ones left out and a repeated number kept once.
- Excel cell types: a number in a text column (an ID or phone stored as a number,
  ``123456789`` or ``123456789.0``) becomes ``"123456789"``; a fraction keeps its digits
  (``12.5`` -> ``"12.5"``). In variables numbers stay numbers (``int`` when integral). Dates
  become ISO text (``2026-01-15``, with ``T08:30:00`` when there is a time of day), times
  ``08:30:00``. Booleans become ``1`` / ``0`` (numbers in variables, text in text columns),
  so ``${sample.x} = 1`` works whichever way the cell was typed. A formula gives its saved
  (cached) result; a formula saved without one (files written by scripts that do not
  calculate) is a problem, and so is a cell showing an Excel error (``#N/A``, ``#DIV/0!``...).
- CSV has no cell types, so in variables a plain number (``42``, ``-3``, ``1,5``, ``1.5``;
  no leading zero, at most 15 digits before the point) becomes a number, ``TRUE`` /
  ``FALSE`` / ``PRAWDA`` / ``FAŁSZ`` become ``1`` / ``0`` and a ``DD.MM.YYYY`` date becomes
  ``YYYY-MM-DD`` (what Polish Excel writes into a CSV), so a sample gives the same variables
  as .csv and as .xlsx. An empty variable cell is ``""``.

Files:

- CSV: UTF-8 (with or without BOM), UTF-16 with a BOM, or else Windows-1250 (Polish Excel's
  plain "CSV" export); the delimiter is the one of ``;`` ``,`` and tab that splits the header
  into most columns (Polish Excel writes ``;``). A row is a CSV record, so quoted fields
  may hold line breaks.
- XLSX: the sheet named ``sample`` or ``próba`` (any case) if there is one, else the first.
  Before openpyxl opens it, the file must be a zip whose members unpack to at most
  ``MAX_UNPACKED_BYTES`` in all, each packed at most ``MAX_PACKING_RATIO`` times (a zip bomb
  is refused from the zip directory alone, nothing is unpacked). Read with
  ``read_only=True, data_only=True``.
- At most ``MAX_FILE_BYTES`` per file, ``MAX_ROWS`` data rows and ``MAX_COLUMNS`` columns.
  Completely empty rows are skipped; empty columns after the last header are ignored.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Final

import xlsxwriter
from defusedxml.ElementTree import iterparse

from app.domain.messages import N_, Message

Gettext = Callable[[str], str]
VariableValue = str | int | float

MAX_FILE_BYTES: Final = 50 * 1024 * 1024
MAX_UNPACKED_BYTES: Final = 100 * 1024 * 1024
MAX_PACKING_RATIO: Final = 100  # applies to members above _RATIO_FLOOR bytes unpacked
MAX_ZIP_MEMBERS: Final = 1000  # an .xlsx has a dozen or two
MAX_ROWS: Final = 100_000  # data rows, header not counted
MAX_COLUMNS: Final = 200
_RATIO_FLOOR = 1024 * 1024  # tiny members (styles, rels) may pack tightly, they cannot hurt
PHONE_MIN_DIGITS: Final = 6
PHONE_MAX_DIGITS: Final = 15  # E.164

STANDARD_COLUMNS: Final = (
    "external_id",
    "name",
    "entity_type",
    "subregion",
    "powiat",
    "gmina",
    "contact_person",
    "email",
    "phone",
    "phone_2",
    "phone_3",
)
REQUIRED_COLUMNS: Final = ("external_id", "name")
PHONE_COLUMNS: Final = ("phone", "phone_2", "phone_3")

# Other names of the standard columns, written as normalised headers (see normalise_name).
ALIASES: Final[dict[str, str]] = {
    "id": "external_id",
    "identyfikator": "external_id",
    "externalid": "external_id",
    "id_zewnetrzny": "external_id",
    "nazwa": "name",
    "nazwa_podmiotu": "name",
    "nazwa_instytucji": "name",
    "typ": "entity_type",
    "typ_podmiotu": "entity_type",
    "typ_instytucji": "entity_type",
    "entitytype": "entity_type",
    "podregion": "subregion",
    "osoba_kontaktowa": "contact_person",
    "osoba_do_kontaktu": "contact_person",
    "contactperson": "contact_person",
    "e_mail": "email",
    "mail": "email",
    "adres_email": "email",
    "adres_e_mail": "email",
    "telefon": "phone",
    "tel": "phone",
    "phone_1": "phone",
    "phone1": "phone",
    "telefon_1": "phone",
    "telefon1": "phone",
    "tel_1": "phone",
    "nr_telefonu": "phone",
    "numer_telefonu": "phone",
    "telefon_2": "phone_2",
    "telefon2": "phone_2",
    "tel_2": "phone_2",
    "tel2": "phone_2",
    "phone2": "phone_2",
    "telefon_3": "phone_3",
    "telefon3": "phone_3",
    "tel_3": "phone_3",
    "tel3": "phone_3",
    "phone3": "phone_3",
}

# The longest text each standard column may hold (the sample_unit / contact_phone columns).
_MAX_LENGTHS = {
    "external_id": 100,
    "name": 500,
    "entity_type": 50,
    "subregion": 100,
    "powiat": 100,
    "gmina": 100,
    "contact_person": 300,
    "email": 254,  # RFC 5321's limit for a usable address
}
_SHEET_NAMES = frozenset({"sample", "proba"})  # normalised: "próba", "Próba ", "SAMPLE"
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
_CSV_DELIMITERS = (";", ",", "\t")  # in order of preference when they split a header alike
_TRANSLITERATION = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ß": "ss"})
_NOT_NAME_CHARACTERS = re.compile(r"[^a-z0-9]+")
_PHONE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212.()/]+")
_PHONE = re.compile(r"\+?[0-9]+")
_DIGIT = re.compile(r"[0-9]")
_EMAIL = re.compile(r"[^@\s,;<>()\[\]\"]+@[^@\s,;<>()\[\]\".]+(?:\.[^@\s,;<>()\[\]\".]+)+")
_CSV_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]{0,14})(?:[.,][0-9]+)?")
_CSV_DATE = re.compile(r"([0-9]{2})\.([0-9]{2})\.([0-9]{4})")
_CSV_BOOLEANS = {"true": 1, "false": 0, "prawda": 1, "fałsz": 0, "falsz": 0}
_MAX_EXACT_INT = 2**53  # beyond it a float's integral value is not exact
_REASON_LENGTH = 200
_NO_RESULT = N_(
    "the formula here has no saved result; open the file in Excel or LibreOffice, "
    "let it calculate and save it again"
)
_SCAN_CHUNK = 1024 * 1024
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")


# --- results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleRow:
    """One sampled institution as read from the file, values cleaned and checked."""

    row: int  # 1-based row number in the file (the header is usually row 1), for messages
    external_id: str
    name: str
    entity_type: str = ""
    subregion: str = ""
    powiat: str = ""
    gmina: str = ""
    contact_person: str = ""
    email: str = ""
    phones: tuple[str, ...] = ()
    variables: dict[str, VariableValue] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class SampleProblem:
    """Why a sample file is refused: what is wrong, in which row and column if any."""

    row: int | None
    column: str | None  # the header as written in the file
    message: Message

    def render(self, gettext: Gettext | None = None) -> str:
        """``row 7, column email: 'abc' is not an e-mail address`` in the reader's language."""
        text = _render(self.message, gettext)
        if self.row is not None and self.column is not None:
            where = Message(
                N_("row %(row)s, column %(column)s: %(message)s"),
                {"row": self.row, "column": self.column, "message": text},
            )
        elif self.row is not None:
            where = Message(N_("row %(row)s: %(message)s"), {"row": self.row, "message": text})
        elif self.column is not None:
            where = Message(
                N_("column %(column)s: %(message)s"), {"column": self.column, "message": text}
            )
        else:
            return text
        return where.render(gettext)

    def __str__(self) -> str:
        return self.render()


@dataclass
class SampleParseResult:
    """The rows of a sample file and every problem in it."""

    rows: list[SampleRow]  # the rows without a problem of their own (all of them when ok)
    problems: list[SampleProblem]  # in file order: the file, the header, then row by row
    variable_names: list[str] = field(default_factory=list)  # the extra columns, in order
    headers: dict[str, str] = field(default_factory=dict)  # standard column -> its header

    @property
    def ok(self) -> bool:
        """No problems: the whole file may be imported (otherwise nothing of it is)."""
        return not self.problems


def _render(message: Message, gettext: Gettext | None) -> str:
    """Render ``message``, first rendering any parameter that is itself a message."""
    params = {
        key: value.render(gettext) if isinstance(value, Message) else value
        for key, value in message.params.items()
    }
    return Message(message.msgid, params).render(gettext)


def _problem(row: int | None, column: str | None, msgid: str, **params: object) -> SampleProblem:
    return SampleProblem(row, column, Message(msgid, params))


# --- names -----------------------------------------------------------------------------


def normalise_name(header: str) -> str:
    """A header as a variable name: ``Liczba miejsc`` -> ``liczba_miejsc`` ("" if no letters)."""
    decomposed = unicodedata.normalize("NFKD", header.translate(_TRANSLITERATION))
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    name = _NOT_NAME_CHARACTERS.sub("_", ascii_text).strip("_")
    if name[:1].isdigit():
        name = "v_" + name  # ${sample.NAME} needs a name that starts with a letter
    return name


def standard_column(header: str) -> str | None:
    """The standard column a header names (``Telefon 2`` -> ``phone_2``), or None."""
    name = normalise_name(header)
    if name in STANDARD_COLUMNS:
        return name
    return ALIASES.get(name)


# --- cells -----------------------------------------------------------------------------


class _NoCachedValue:
    """Marks a formula cell saved without its result."""

    def __repr__(self) -> str:
        return "<formula without a saved value>"


_NO_CACHED_VALUE = _NoCachedValue()
Cell = str | int | float | bool | date | datetime | time | timedelta | _NoCachedValue | None


def _is_empty(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _temporal_text(cell: date | time | timedelta) -> str:
    """A date, time or duration as ISO text (a date alone when there is no time of day)."""
    if isinstance(cell, datetime):
        if cell.time() == time(0):
            return cell.date().isoformat()
        return cell.isoformat(timespec="seconds")
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, time):
        return cell.isoformat(timespec="seconds")
    seconds = int(cell.total_seconds())
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _number_text(cell: int | float) -> str:
    """A number as an ID would be written: ``123456789.0`` -> ``123456789``."""
    if isinstance(cell, float):
        if math.isfinite(cell) and cell.is_integer():
            return str(int(cell))
        return format(cell, ".15g")  # Excel keeps 15 significant digits
    return str(cell)


def _cell_text(cell: Cell) -> str:
    """A cell's value as text for a standard column (inner white space made single)."""
    if cell is None or isinstance(cell, _NoCachedValue):
        return ""
    if isinstance(cell, str):
        return " ".join(cell.split())
    if isinstance(cell, bool):
        return "1" if cell else "0"
    if isinstance(cell, int | float):
        return _number_text(cell)
    return _temporal_text(cell)


def _variable_value(cell: Cell, typed: bool) -> VariableValue:
    """A cell's value for a sample variable: numbers stay numbers, dates become ISO text.

    ``typed`` says the file has cell types (.xlsx); in CSV text, numbers, booleans and
    Polish dates are recognised instead.
    """
    if cell is None or isinstance(cell, _NoCachedValue):
        return ""
    if isinstance(cell, bool):
        return int(cell)
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float):
        if not math.isfinite(cell):
            return str(cell)
        if cell.is_integer() and abs(cell) <= _MAX_EXACT_INT:
            return int(cell)
        return cell
    if isinstance(cell, str):
        text = cell.strip()
        return text if typed else _csv_variable_value(text)
    return _temporal_text(cell)


def _csv_variable_value(text: str) -> VariableValue:
    """A CSV field as a variable: a plain number, a boolean or a DD.MM.YYYY date recognised."""
    if _CSV_NUMBER.fullmatch(text):
        if text.lstrip("-").isdigit():
            return int(text)
        return _variable_value(float(text.replace(",", ".")), typed=True)
    boolean = _CSV_BOOLEANS.get(text.lower())
    if boolean is not None:
        return boolean
    if match := _CSV_DATE.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return text  # 31.02.2026 is not a date; keep what was written
    return text


def _phone_number(cell: Cell) -> tuple[str, Message | None]:
    """A phone cell as digits with an optional leading ``+``, or the reason it is not one."""
    shown = _cell_text(cell)
    not_a_number = isinstance(cell, bool | date | time | timedelta)
    if isinstance(cell, int) and not isinstance(cell, bool):
        not_a_number = cell < 0
    elif isinstance(cell, float):
        not_a_number = not (math.isfinite(cell) and cell >= 0 and cell.is_integer())
    if not_a_number:
        return "", Message(N_("'%(value)s' is not a phone number"), {"value": shown})
    number = _PHONE_SEPARATORS.sub("", shown)
    if not _PHONE.fullmatch(number):
        return "", Message(
            N_(
                "'%(value)s' is not a phone number: only digits, a leading +, spaces, "
                "dashes, dots, slashes and parentheses may be used"
            ),
            {"value": shown},
        )
    digits = len(_DIGIT.findall(number))
    if not PHONE_MIN_DIGITS <= digits <= PHONE_MAX_DIGITS:
        return "", Message(
            N_("'%(value)s' has %(count)s digits; a phone number has %(min)s to %(max)s"),
            {"value": shown, "count": digits, "min": PHONE_MIN_DIGITS, "max": PHONE_MAX_DIGITS},
        )
    return number, None


# --- reading the file into rows of cells -----------------------------------------------

_READ: tuple[int, tuple[Cell, ...]] = (0, ())  # a row already handed on


@dataclass
class _Table:
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
    numbered_rows: Iterable[tuple[int, Sequence[Cell]]], table: _Table, keep: bool = True
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
        while width and _is_empty(cells[width - 1]):
            width -= 1
        if not width:
            continue
        if width > MAX_COLUMNS:
            problems.append(
                _problem(
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
                _problem(
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
    return _problem(
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


def _read_csv(data: bytes) -> _Table:
    table = _Table()
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if not utf16 and b"\x00" in data:
        # A workbook or other binary file named .csv: reading it as text would only
        # produce noise problems.
        table.problems.append(
            _problem(
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
            _problem(
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
            _problem(
                read + 1,
                None,
                N_("the CSV text cannot be read here: %(reason)s"),
                reason=str(error)[:_REASON_LENGTH],
            )
        )
    return table


def zip_problem(archive: zipfile.ZipFile) -> SampleProblem | None:
    """Why a zip must not be unpacked (too big, too tightly packed, too many parts), or None.

    Only the central directory is looked at. Python's zipfile never unpacks more than a
    member's declared size (a member that lies fails its CRC), so declared sizes bound
    what openpyxl can be made to read.
    """
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        return _problem(
            None,
            None,
            N_("the workbook has %(count)s parts, far more than a real one has; it is refused"),
            count=len(members),
        )
    if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
        return _problem(
            None,
            None,
            N_("the workbook would unpack to more than %(limit)s MB; it is refused"),
            limit=MAX_UNPACKED_BYTES // (1024 * 1024),
        )
    for member in members:
        if member.file_size > _RATIO_FLOOR and (
            member.file_size > MAX_PACKING_RATIO * max(member.compress_size, 1)
        ):
            return _problem(
                None,
                None,
                N_("the workbook is packed suspiciously tightly (part %(part)s); it is refused"),
                part=member.filename[:_REASON_LENGTH],
            )
    return None


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


def _read_xlsx(data: bytes) -> _Table:
    table = _Table()
    buffer = io.BytesIO(data)
    try:
        archive = zipfile.ZipFile(buffer)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        table.problems.append(
            _problem(
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
            refused = zip_problem(archive)
        except Exception as error:  # a damaged directory is a refusal, not a crash
            refused = _unreadable(error)
        if refused is not None:
            table.problems.append(refused)
            return table
        try:
            _read_workbook(buffer, archive, table)
        except Exception as error:  # openpyxl fails in many ways on damaged files
            table.rows.clear()
            table.problems.append(_unreadable(error))
    return table


def _unreadable(error: Exception) -> SampleProblem:
    reason = f"{type(error).__name__}: {error}"[:_REASON_LENGTH]
    return _problem(
        None,
        None,
        N_("the workbook cannot be read (%(reason)s); open it in Excel and save it again as .xlsx"),
        reason=reason,
    )


def _read_workbook(buffer: io.BytesIO, archive: zipfile.ZipFile, table: _Table) -> None:
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
                table.problems.append(_problem(None, None, N_("the workbook has no worksheet")))
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
                    marked[column - 1] = _NO_CACHED_VALUE
            cells = marked
        yield number, cells


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
        if isinstance(cell, _NoCachedValue):
            problems.append(_problem(header_number, letter, _NO_RESULT))
            continue
        text = _cell_text(cell)
        if not text:
            if index in used:
                problems.append(
                    _problem(
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
                _problem(
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
                _problem(
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
                _problem(
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
                _problem(
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
            if isinstance(cell, _NoCachedValue):
                problems.append(
                    _problem(
                        number,
                        column.header,
                        _NO_RESULT,
                    )
                )
                continue
            if isinstance(cell, str) and cell.strip() in _EXCEL_ERRORS:
                problems.append(
                    _problem(
                        number,
                        column.header,
                        N_("the cell shows the Excel error %(value)s"),
                        value=cell.strip(),
                    )
                )
                continue
            if column.variable is not None:
                variables[column.variable] = _variable_value(cell, self.typed)
            elif column.standard in PHONE_COLUMNS:
                if _is_empty(cell):
                    continue
                number_text, error = _phone_number(cell)
                if error is not None:
                    problems.append(SampleProblem(number, column.header, error))
                elif number_text not in phones:
                    phones.append(number_text)
            elif column.standard is not None:
                text = self.check_text(number, column, _cell_text(cell), problems)
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
        limit = _MAX_LENGTHS.get(name)
        if limit is not None and len(text) > limit:
            problems.append(
                _problem(
                    number,
                    column.header,
                    N_("the text is %(length)s characters long; at most %(limit)s fit"),
                    length=len(text),
                    limit=limit,
                )
            )
        elif name == "email" and text and not _EMAIL.fullmatch(text):
            problems.append(
                _problem(
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
                problems.append(_problem(number, header, N_("a value is required here")))
        external_id = standard.get("external_id", "")
        if not external_id:
            return
        first = self.first_row_of_id.setdefault(external_id, number)
        if first != number:
            problems.append(
                _problem(
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
    blank = [index for index, cell in enumerate(header) if not _cell_text(cell)]
    used: set[int] = set()
    for _number, cells in data:
        used.update(index for index in blank if index < len(cells) and not _is_empty(cells[index]))
        # Rows are trimmed, so a row longer than the header has data past it.
        if len(cells) > len(header):
            used.update(
                index for index in range(len(header), len(cells)) if not _is_empty(cells[index])
            )
    return used


def _build(
    table: _Table, typed: bool, on_row: Callable[[SampleRow], None] | None = None
) -> SampleParseResult:
    """Sample rows from a table of cells: header, then every data row checked.

    With ``on_row`` each good row is handed to it as it is read and none is kept.
    """
    if table.problems:
        return SampleParseResult([], table.problems)
    if not table.rows:
        return SampleParseResult([], [_problem(None, None, N_("the file is empty"))])
    header_number, header = table.rows[0]
    used = _headerless_columns_with_data(header, table.data())
    problems: list[SampleProblem] = []
    columns = _read_header(header_number, header, used, problems)
    if not table.data_rows:
        problems.append(_problem(None, None, N_("the file has a header row but no rows of data")))
    reader = _RowReader(columns, typed, on_row)
    rows_read = table.rows
    if table.reread is not None:
        for number, cells in table.data():
            reader.read(number, cells)
    for index in range(1, len(rows_read)):
        number, cells = rows_read[index]
        rows_read[index] = _READ  # the cells are not needed again: let them go
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
                _problem(
                    None,
                    None,
                    N_("%(filename)s is not an .xlsx or .csv file: use .xlsx or .csv"),
                    filename=filename[-_REASON_LENGTH:] or "?",
                )
            ],
        )
    if len(data) > MAX_FILE_BYTES:
        return SampleParseResult(
            [],
            [
                _problem(
                    None,
                    None,
                    N_("the file is larger than %(limit)s MB; a sample file is much smaller"),
                    limit=MAX_FILE_BYTES // (1024 * 1024),
                )
            ],
        )
    if not data.strip():
        return SampleParseResult([], [_problem(None, None, N_("the file is empty"))])
    try:
        if extension == "csv":
            return _build(_read_csv(data), typed=False, on_row=on_row)
        return _build(_read_xlsx(data), typed=True, on_row=on_row)
    except Exception as error:  # the promise: a problem, never a crash
        return SampleParseResult(
            [],
            [
                _problem(
                    None,
                    None,
                    N_("the file cannot be read (%(reason)s)"),
                    reason=f"{type(error).__name__}: {error}"[:_REASON_LENGTH],
                )
            ],
        )


# --- templates -------------------------------------------------------------------------

_TEMPLATE_HEADER = (*STANDARD_COLUMNS, "liczba_miejsc")
_TEMPLATE_ROWS: tuple[tuple[str | int, ...], ...] = (
    (
        "KIS-001",
        "Klub Integracji Społecznej w Żywcu",
        "KIS",
        "południowy",
        "żywiecki",
        "Żywiec",
        "Anna Wójcik",
        "kis.zywiec@example.pl",
        "33 861 23 45",
        "",
        "",
        25,
    ),
    (
        "CIS-002",
        "Centrum Integracji Społecznej „Źródło” w Gliwicach",
        "CIS",
        "środkowy",
        "Gliwice",
        "Gliwice",
        "Łukasz Mączyński",
        "cis.gliwice@example.pl",
        "+48 32 231 45 67",
        "0 600 123 456",
        "",
        40,
    ),
)
_TEMPLATE_NOTES: dict[str, tuple[str, str]] = {
    # column: (required?, what it holds), in Polish: the template is for ROPS staff
    "external_id": ("tak", "Identyfikator instytucji, niepowtarzalny w pliku (np. KIS-001)."),
    "name": ("tak", "Nazwa instytucji, pokazywana respondentowi w ankiecie."),
    "entity_type": ("nie", "Typ podmiotu: CIS, KIS, OWES, JST, PES, WTZ, ZAZ lub inny."),
    "subregion": ("nie", "Podregion, np. północny, środkowy, zachodni, południowy."),
    "powiat": ("nie", "Powiat."),
    "gmina": ("nie", "Gmina."),
    "contact_person": ("nie", "Osoba do kontaktu (dane osobowe, chronione zgodnie z RODO)."),
    "email": ("nie", "Adres e-mail, na który trafi zaproszenie do ankiety."),
    "phone": (
        "nie",
        "Telefon: cyfry, na początku może być +; spacje, myślniki, kropki, ukośniki i nawiasy "
        "są pomijane, zera na początku zostają; od 6 do 15 cyfr.",
    ),
    "phone_2": ("nie", "Drugi telefon, jak wyżej."),
    "phone_3": ("nie", "Trzeci telefon, jak wyżej."),
}
_TEMPLATE_RULES = (
    "Każda inna kolumna (np. liczba_miejsc) staje się zmienną próby, dostępną w ankiecie "
    "jako ${sample.nazwa}. Nazwa zmiennej powstaje z nagłówka: małe litery, bez polskich "
    "znaków, spacje zamienione na _ (np. „Liczba miejsc” → liczba_miejsc).",
    "Wielkość liter i spacje wokół nagłówków nie mają znaczenia. Puste wiersze są pomijane.",
    "Plik z jakimkolwiek błędem jest odrzucany w całości, z listą wszystkich błędów "
    "(wiersz, kolumna, przyczyna); nic nie jest importowane częściowo.",
    f"Plik .xlsx: czytany jest arkusz „próba” (albo pierwszy arkusz). Plik CSV: kodowanie "
    f"UTF-8 lub Windows-1250, separator ; , lub tabulator. Najwyżej {MAX_ROWS} wierszy "
    f"i {MAX_COLUMNS} kolumn.",
    "Formuły: liczy się zapisany wynik; plik musi być zapisany w Excelu lub LibreOffice.",
)


def sample_template_xlsx() -> bytes:
    """A sample template workbook: headers, two example rows and a sheet explaining columns."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    workbook.set_properties({"title": "Próba", "created": datetime(2026, 1, 1)})
    bold = workbook.add_format({"bold": True})
    text = workbook.add_format({"num_format": "@"})  # IDs and phones keep leading zeros
    wrapped = workbook.add_format({"text_wrap": True, "valign": "top"})
    sample = workbook.add_worksheet("próba")
    for index, name in enumerate(_TEMPLATE_HEADER):
        is_text = name == "external_id" or name in PHONE_COLUMNS
        sample.set_column(index, index, 18 if name != "name" else 45, text if is_text else None)
        sample.write_string(0, index, name, bold)
    for row, values in enumerate(_TEMPLATE_ROWS, start=1):
        for index, value in enumerate(values):
            if isinstance(value, int):
                sample.write_number(row, index, value)
            elif value:
                sample.write_string(row, index, value)
    sample.freeze_panes(1, 0)
    notes = workbook.add_worksheet("objaśnienia")
    notes.set_column(0, 0, 18)
    notes.set_column(1, 1, 40, wrapped)
    notes.set_column(2, 2, 10)
    notes.set_column(3, 3, 70, wrapped)
    for index, title in enumerate(("Kolumna", "Inne nazwy", "Wymagana", "Opis")):
        notes.write_string(0, index, title, bold)
    for row, name in enumerate(STANDARD_COLUMNS, start=1):
        required, description = _TEMPLATE_NOTES[name]
        aliases = ", ".join(alias for alias, standard in ALIASES.items() if standard == name)
        notes.write_string(row, 0, name)
        notes.write_string(row, 1, aliases)
        notes.write_string(row, 2, required)
        notes.write_string(row, 3, description)
    first_rule = len(STANDARD_COLUMNS) + 2
    for offset, rule in enumerate(_TEMPLATE_RULES):
        notes.write_string(first_rule + offset, 3, rule)
    workbook.close()
    return buffer.getvalue()


def sample_template_csv() -> bytes:
    """The sample template as CSV the way Polish Excel opens it: UTF-8 with a BOM, ``;``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(_TEMPLATE_HEADER)
    writer.writerows(_TEMPLATE_ROWS)
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
