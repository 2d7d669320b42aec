"""Template globals and filters: languages, navigation per role, Polish date formats."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from flask import Flask, current_app, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.domain.dates import format_local, local_date
from app.models.scope import Scope
from app.platform.i18n import language_name
from app.platform.security import access_rule
from app.platform.web import mail_state_label, role_label, state_label, status_label

# (endpoint, label): shown to whoever the endpoint's access rule admits
NAVIGATION = [
    ("main.index", _l("Home")),
    ("surveys.index", _l("Surveys")),
    ("fieldwork.index", _l("Fieldwork")),
    ("supervise.index", _l("Telephone fieldwork")),
    ("cati.index", _l("Telephone interviews")),
    ("monitoring.index", _l("Indicators")),
    ("admin.users", _l("Users")),
    ("admin.audit_log", _l("Audit log")),
]


def register(app: Flask) -> None:
    @app.context_processor
    def globals_for_templates() -> dict:
        return {
            "languages": [(code, language_name(code)) for code in app.config["LANGUAGES"]],
            "current_language": str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]),
            "navigation": navigation(),
            "may": may,
            "user_scope": user_scope(),
            "request_path": request.full_path.rstrip("?") if request else "/",
            "role_label": role_label,
            "state_label": state_label,
            "mail_state_label": mail_state_label,
            "status_label": status_label,
        }

    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_phone, "phone")
    app.add_template_filter(variable_label, "variable_label")
    app.add_template_filter(format_number, "number")


def may(endpoint: str) -> bool:
    """Whether the current user may open ``endpoint`` (its role and scope rule): a page
    shows a link or a form only to those who may use it."""
    if not current_user.is_authenticated:
        return False
    rule = access_rule(current_app, endpoint)
    return rule is not None and rule.admits(current_user._get_current_object())


def user_scope() -> str:
    """The current user's subregions and entity types, for the header ("" if all)."""
    if not current_user.is_authenticated:
        return ""
    scope = Scope.of(current_user._get_current_object())
    return ", ".join([*sorted(scope.subregions), *sorted(scope.entity_types)])


def navigation() -> list[tuple[str, str]]:
    """The menu entries the current user may open."""
    if not current_user.is_authenticated or current_user.must_change_password:
        return []
    user = current_user._get_current_object()
    entries = []
    for endpoint, label in NAVIGATION:
        rule = access_rule(current_app, endpoint)
        if rule is not None and rule.admits(user):
            entries.append((endpoint, str(label)))
    return entries


def format_number(value: float | int | Decimal | None, digits: int = 1) -> str:
    """A figure as the reader's language writes it: 1 234,5 in Polish, 1,234.5 in English;
    whole numbers without decimals; "–" for no value."""
    if value is None:
        return "–"
    number = float(value)
    if number.is_integer() and abs(number) < 1e15:
        text = f"{int(number):,}"
    else:
        text = f"{number:,.{digits}f}"
    if str(get_locale()) == "en":
        return text
    return text.replace(",", "\u00a0").replace(".", ",")


def format_date(value: date | datetime | None) -> str:
    """DD.MM.YYYY, as Polish offices write dates (local Warsaw date for moments)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_date(value)
    return value.strftime("%d.%m.%Y")


def format_datetime(value: datetime | None) -> str:
    """DD.MM.YYYY HH:MM in Warsaw time."""
    if value is None:
        return ""
    return format_local(value)


# Polish mobile numbers start with these two digits (written 3-3-3); the rest are landlines
# with a two-digit area code (written 2-3-2-2), as the numbers are said aloud.
_MOBILE_PREFIXES = frozenset("45 50 51 53 57 60 66 69 72 73 78 79 88".split())


def format_phone(number: str | None) -> str:
    """A stored phone number grouped the Polish way: ``0321111101`` -> ``32 111 11 01``,
    ``+48501234567`` -> ``+48 501 234 567``; anything else is shown as stored."""
    if not number:
        return ""
    digits = re.sub(r"[^0-9+]", "", number)
    country = ""
    if digits.startswith("+48") and len(digits) == 12:
        country, digits = "+48 ", digits[3:]
    elif digits.startswith("0048") and len(digits) == 13:
        country, digits = "+48 ", digits[4:]
    elif digits.startswith("0") and len(digits) == 10:
        digits = digits[1:]  # the old trunk prefix
    if not digits.isdigit() or len(digits) != 9:
        return number
    if digits[:2] in _MOBILE_PREFIXES:
        return f"{country}{digits[:3]} {digits[3:6]} {digits[6:]}"
    return f"{country}{digits[:2]} {digits[2:5]} {digits[5:7]} {digits[7:]}"


def variable_label(name: str) -> str:
    """A sample variable's name as a label: ``liczba_miejsc`` -> ``Liczba miejsc``."""
    if name.startswith("v_") and name[2:3].isdigit():
        name = name[2:]  # the letter added to a header that began with a digit
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]
