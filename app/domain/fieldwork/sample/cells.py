"""A cell's value, from CSV text or a typed workbook cell, as text, variable or phone."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta
from typing import Final

from app.domain.fieldwork.sample.results import VariableValue
from app.domain.messages import N_, Message

PHONE_MIN_DIGITS: Final = 6
PHONE_MAX_DIGITS: Final = 15  # E.164
_PHONE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212.()/]+")
_PHONE = re.compile(r"\+?[0-9]+")
_DIGIT = re.compile(r"[0-9]")
_CSV_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]{0,14})(?:[.,][0-9]+)?")
_CSV_DATE = re.compile(r"([0-9]{2})\.([0-9]{2})\.([0-9]{4})")
_CSV_BOOLEANS = {"true": 1, "false": 0, "prawda": 1, "fałsz": 0, "falsz": 0}
_MAX_EXACT_INT = 2**53  # beyond it a float's integral value is not exact


class NoCachedValue:
    """Marks a formula cell saved without its result."""

    def __repr__(self) -> str:
        return "<formula without a saved value>"


NO_CACHED_VALUE = NoCachedValue()
Cell = str | int | float | bool | date | datetime | time | timedelta | NoCachedValue | None


def is_empty(cell: Cell) -> bool:
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


def cell_text(cell: Cell) -> str:
    """A cell's value as text for a standard column (inner white space made single)."""
    if cell is None or isinstance(cell, NoCachedValue):
        return ""
    if isinstance(cell, str):
        return " ".join(cell.split())
    if isinstance(cell, bool):
        return "1" if cell else "0"
    if isinstance(cell, int | float):
        return _number_text(cell)
    return _temporal_text(cell)


def variable_value(cell: Cell, typed: bool) -> VariableValue:
    """A cell's value for a sample variable: numbers stay numbers, dates become ISO text.

    ``typed`` says the file has cell types (.xlsx); in CSV text, numbers, booleans and
    Polish dates are recognised instead.
    """
    if cell is None or isinstance(cell, NoCachedValue):
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
        return variable_value(float(text.replace(",", ".")), typed=True)
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


def phone_number(cell: Cell) -> tuple[str, Message | None]:
    """A phone cell as digits with an optional leading ``+``, or the reason it is not one."""
    shown = cell_text(cell)
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
