"""Template globals and filters: languages, navigation per role, Polish date formats."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.models.users import Role
from app.web import mail_state_label, role_label, state_label, status_label

WARSAW = ZoneInfo("Europe/Warsaw")
LANGUAGE_NAMES = {"pl": "Polski", "en": "English"}

# (endpoint, label, roles that see it; admins see everything)
NAVIGATION = [
    ("main.index", _l("Home"), set(Role)),
    ("surveys.index", _l("Surveys"), {Role.ANALYST}),
    ("fieldwork.index", _l("Fieldwork"), {Role.ANALYST}),
    ("supervise.index", _l("Telephone fieldwork"), {Role.SUPERVISOR}),
    ("cati.index", _l("Telephone interviews"), {Role.INTERVIEWER, Role.SUPERVISOR}),
    ("admin.users", _l("Users"), set()),
    ("admin.audit_log", _l("Audit log"), set()),
]


def register(app: Flask) -> None:
    @app.context_processor
    def globals_for_templates() -> dict:
        return {
            "languages": [
                (code, LANGUAGE_NAMES.get(code, code)) for code in app.config["LANGUAGES"]
            ],
            "current_language": str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]),
            "navigation": navigation(),
            "request_path": request.full_path.rstrip("?") if request else "/",
            "role_label": role_label,
            "state_label": state_label,
            "mail_state_label": mail_state_label,
            "status_label": status_label,
        }

    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_datetime, "datetime")


def navigation() -> list[tuple[str, str]]:
    """The menu entries the current user may open."""
    if not current_user.is_authenticated or current_user.must_change_password:
        return []
    role = current_user.role_enum
    return [
        (endpoint, str(label))
        for endpoint, label, allowed in NAVIGATION
        if role is Role.ADMIN or role in allowed
    ]


def format_date(value: date | datetime | None) -> str:
    """DD.MM.YYYY, as Polish offices write dates (local Warsaw date for moments)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(WARSAW).date()
    return value.strftime("%d.%m.%Y")


def format_datetime(value: datetime | None) -> str:
    """DD.MM.YYYY HH:MM in Warsaw time."""
    if value is None:
        return ""
    return value.astimezone(WARSAW).strftime("%d.%m.%Y %H:%M")
