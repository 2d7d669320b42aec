"""Form fields: the strings a submitted page sends, as values (and values back as fields).

One field per variable; a select_multiple sends one value per ticked code; don't know /
refused are sent as the reserved values ``DONT_KNOW_FIELD_VALUE`` / ``REFUSED_FIELD_VALUE``
in the variable's own field. Numbers may group thousands with spaces and use a decimal
comma; dates are DD.MM.YYYY or ISO.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from app.domain import dates
from app.domain.messages import N_, Message
from app.domain.questionnaire.answers import DONT_KNOW, ISO_DATE, REFUSED, Missing
from app.domain.questionnaire.model import ItemType

DONT_KNOW_FIELD_VALUE = "__dk__"
REFUSED_FIELD_VALUE = "__rf__"
TEXT_MAX_LENGTH = 10_000
OTHER_MAX_LENGTH = 255
INTEGER_LIMIT = 2**53  # the largest integer a browser (and a JSON double) holds exactly
DECIMAL_MAX_INTEGER_DIGITS = 15  # beyond this a spreadsheet cell is no longer exact
DECIMAL_MAX_PLACES = 10
FIELD_VALUES = {DONT_KNOW_FIELD_VALUE: DONT_KNOW, REFUSED_FIELD_VALUE: REFUSED}

_GROUPED = r"[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+"
_INTEGER = re.compile(rf"([+\-\u2212]?)({_GROUPED}|[0-9]+)")
_DECIMAL = re.compile(rf"([+\-\u2212]?)({_GROUPED}|[0-9]*)(?:[.,]([0-9]+))?")
_POLISH_DATE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")
_SPACES = re.compile(r"[ \u00a0\u202f]")


class InvalidValue(Exception):
    """A submitted string that is not a value of its variable's type."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.msgid)
        self.message = message


def _parse_integer(raw: str) -> int:
    """A whole number; spaces may group thousands ("1 234")."""
    match = _INTEGER.fullmatch(raw.strip())
    if match is None:
        raise InvalidValue(Message(N_("Enter a whole number.")))
    digits = _SPACES.sub("", match.group(2)).lstrip("0") or "0"
    # Count digits before converting: int() of thousands of digits is slow, then refused.
    if len(digits) > len(str(INTEGER_LIMIT)) or int(digits) > INTEGER_LIMIT:
        raise InvalidValue(Message(N_("The number is too large.")))
    return -int(digits) if match.group(1) else int(digits)


def _parse_decimal(raw: str) -> Decimal:
    """A number with a decimal comma or point ("12,5", "12.5", "1 234,5")."""
    match = _DECIMAL.fullmatch(raw.strip())
    if match is None or not (match.group(2) or match.group(3)):
        raise InvalidValue(Message(N_("Enter a number.")))
    sign, whole, fraction = match.group(1), _SPACES.sub("", match.group(2)), match.group(3)
    if len(whole.lstrip("0")) > DECIMAL_MAX_INTEGER_DIGITS:
        raise InvalidValue(Message(N_("The number is too large.")))
    if fraction and len(fraction) > DECIMAL_MAX_PLACES:
        raise InvalidValue(
            Message(N_("Use at most %(places)d decimal places."), {"places": DECIMAL_MAX_PLACES})
        )
    digits = f"{whole or '0'}.{fraction}" if fraction else whole
    return Decimal(f"-{digits}" if sign else digits)  # as typed: "12,50" stays 12.50


def _parse_date(raw: str) -> date:
    """A date as DD.MM.YYYY (Polish) or YYYY-MM-DD (ISO, what date inputs send)."""
    text = raw.strip()
    day = None
    try:
        if match := ISO_DATE.fullmatch(text):
            day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        elif match := _POLISH_DATE.fullmatch(text):
            day = date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    except ValueError:
        pass  # a day that does not exist: the same message as any malformed date
    if day is None:
        raise InvalidValue(Message(N_("Enter a date as DD.MM.YYYY.")))
    if not dates.in_range(day):  # 01.01.0001 is a typo, and no date to a spreadsheet
        raise InvalidValue(dates.out_of_range_message())
    return day


def parse_text(raw: str, max_length: int) -> str:
    """A text with Unix line ends, at most ``max_length`` characters long."""
    text = raw.replace("\r\n", "\n")
    if len(text) > max_length:
        raise InvalidValue(
            Message(N_("The text is too long: at most %(max)d characters."), {"max": max_length})
        )
    return text


PARSERS: dict[ItemType, Callable[[str], str | int | Decimal | date]] = {
    ItemType.INTEGER: _parse_integer,
    ItemType.DECIMAL: _parse_decimal,
    ItemType.DATE: _parse_date,
    ItemType.TEXT: lambda raw: parse_text(raw, TEXT_MAX_LENGTH),
    ItemType.TEXTAREA: lambda raw: parse_text(raw, TEXT_MAX_LENGTH),
}


def to_field(value: Any) -> list[str]:
    """A stored value as the strings a form field holds."""
    if isinstance(value, Missing):
        return [DONT_KNOW_FIELD_VALUE if value is DONT_KNOW else REFUSED_FIELD_VALUE]
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, date):
        return [value.isoformat()]
    return [str(value)]


def field_values(form: Mapping[str, Any], name: str) -> list[str]:
    """All values sent under ``name`` (a MultiDict or a mapping of name -> list)."""
    getlist = getattr(form, "getlist", None)
    if getlist is not None:
        return [str(v) for v in getlist(name)]
    value = form.get(name, ())
    return [value] if isinstance(value, str) else [str(v) for v in value]
