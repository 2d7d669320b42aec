"""How the supervisor's screens show numbers, times, outcomes and people (given to templates)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import get_locale
from flask_babel import gettext as _

from app.domain.dates import WARSAW
from app.models.cati import Outcome
from app.models.users import User


def _decimal(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if str(get_locale() or "pl") == "pl" else text


def percent(value: float | None) -> str:
    """A rate as a percentage with one decimal (Polish decimal comma); "—" when undefined."""
    return "—" if value is None else _decimal(value * 100, 1) + "%"


def number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else _decimal(value, digits)


def hours_minutes(seconds: float) -> str:
    """Time logged as H:MM."""
    minutes = round(seconds / 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def minutes_seconds(seconds: float | None) -> str:
    """An interview's length as M:SS."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def window_text(start: datetime, end: datetime | None) -> str:
    """An appointment's window in Warsaw time: DD.MM.YYYY HH:MM–HH:MM."""
    begins = start.astimezone(WARSAW)
    text = begins.strftime("%d.%m.%Y %H:%M")
    if end is None:
        return text
    ends = end.astimezone(WARSAW)
    same_day = ends.date() == begins.date()
    return text + "–" + ends.strftime("%H:%M" if same_day else "%d.%m.%Y %H:%M")


def outcome_label(outcome: Outcome | None) -> str:
    """An outcome's label in the reader's language (labels are data, kept in both)."""
    if outcome is None:
        return _("not attempted yet")
    return outcome.label_pl if str(get_locale() or "pl") == "pl" else outcome.label_en


def user_name(user: User | None) -> str:
    if user is None:
        return ""
    return user.full_name or user.username


FORMATTERS = {
    "percent": percent,
    "number": number,
    "hours_minutes": hours_minutes,
    "minutes_seconds": minutes_seconds,
    "outcome_label": outcome_label,
    "window_text": window_text,
    "user_name": user_name,
}
