"""Dates and moments: the one Warsaw zone, local days, and the range of dates a person may type.

Every moment is stored in UTC and shown, compared by day, or typed in Warsaw time; the
helpers here are the one place that conversion is written.

The range of dates a person may type anywhere (forms, answers, filters, the command line):

A typo such as 01.01.0001 or 31.12.9999 is refused with a clear message instead of reaching
arithmetic that overflows (a 500) or a workbook cell that Excel cannot show (dates before
1900 are not dates to Excel).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from app.domain.messages import N_, Message

WARSAW = ZoneInfo("Europe/Warsaw")
EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)

_POLISH_DATE = re.compile(r"\s*([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{1,4})\s*")


def utcnow() -> datetime:
    """The current moment, timezone-aware (the default clock)."""
    return datetime.now(UTC)


def local_date(moment: datetime) -> date:
    """The day in Warsaw at ``moment`` (an aware datetime)."""
    return moment.astimezone(WARSAW).date()


def local_midnight(day: date) -> datetime:
    """The UTC moment at which ``day`` begins in Warsaw."""
    return datetime.combine(day, time(), tzinfo=WARSAW).astimezone(UTC)


def local_wall_time(moment: datetime) -> datetime:
    """``moment`` as Warsaw wall-clock time without a zone (how spreadsheets take it)."""
    return moment.astimezone(WARSAW).replace(tzinfo=None)


def format_local(moment: datetime) -> str:
    """``moment`` in Warsaw time as Poles write it: 04.12.2026 14:30."""
    return moment.astimezone(WARSAW).strftime("%d.%m.%Y %H:%M")


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
