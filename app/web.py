"""Small helpers shared by the routes."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from app.models.users import Role


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (never another host), else None."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.ANALYST: _l("Analyst"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.INTERVIEWER: _l("Interviewer"),
}


def role_label(role: Role | str) -> str:
    """The role's name in the user's language."""
    return str(ROLE_LABELS[Role(role)])


STATE_LABELS = {
    "draft": _l("draft"),
    "open": _l("open"),
    "closed": _l("closed"),
}
STATUS_LABELS = {
    "not_started": _l("not started"),
    "in_progress": _l("in progress"),
    "complete": _l("complete"),
}


def state_label(state: str) -> str:
    """A fieldwork state in the user's language."""
    return str(STATE_LABELS.get(state, state))


def status_label(status: str) -> str:
    """A response status in the user's language."""
    return str(STATUS_LABELS.get(status, status))
