"""The range of dates a person may type anywhere (forms, answers, filters, the command line).

A typo such as 01.01.0001 or 31.12.9999 is refused with a clear message instead of reaching
arithmetic that overflows (a 500) or a workbook cell that Excel cannot show (dates before
1900 are not dates to Excel).
"""

from __future__ import annotations

import re
from datetime import date

from app.domain.messages import N_, Message

EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)

_POLISH_DATE = re.compile(r"\s*([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{1,4})\s*")


def in_range(day: date) -> bool:
    return EARLIEST <= day <= LATEST


def out_of_range_message() -> Message:
    """What to tell a person who typed a date outside the range."""
    return Message(
        N_("Enter a date between %(earliest)s and %(latest)s."),
        {"earliest": EARLIEST.strftime("%d.%m.%Y"), "latest": LATEST.strftime("%d.%m.%Y")},
    )


def polish_date(text: str) -> date | None:
    """The date written DD.MM.YYYY in ``text``, or None if it is not one (or no such day)."""
    match = _POLISH_DATE.fullmatch(text or "")
    if match is None:
        return None
    try:
        return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None
