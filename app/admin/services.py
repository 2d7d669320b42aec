"""User administration: the list of accounts, changing one, the names the audit log shows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.audit import AuditEvent
from app.models.fieldwork import Fieldwork
from app.models.users import Role, User
from app.platform.accounts import set_scope


def list_users(session: Session) -> list[User]:
    """Every account, by user name."""
    return list(session.scalars(select(User).order_by(User.username)))


def _settings(user: User) -> dict[str, Any]:
    return {
        "full_name": user.full_name,
        "role": user.role,
        "active": user.active,
        "subregions": list(user.subregions or []),
        "entity_types": list(user.entity_types or []),
    }


def update_user(
    user: User,
    full_name: str,
    role: str,
    active: bool,
    subregions: Iterable[str] = (),
    entity_types: Iterable[str] = (),
) -> dict[str, list[Any]]:
    """Change ``user``'s name, role, scope (subregions and entity types) and whether it may
    log in; what changed, [before, after]. Raises AccountError for a refused scope.

    A disabled account, or one whose role or scope changed, is logged out everywhere at once
    (its open pages were built for what it could see before).
    """
    before = _settings(user)
    user.full_name = full_name.strip()
    user.role = Role(role).value
    set_scope(user, subregions, entity_types)
    after = _settings(user)
    narrowed = any(before[k] != after[k] for k in ("role", "subregions", "entity_types"))
    if (user.active and not active) or narrowed:
        user.end_sessions()
    user.active = active
    after["active"] = active
    return {k: [before[k], after[k]] for k in before if before[k] != after[k]}


def audit_names(
    session: Session, events: Iterable[AuditEvent]
) -> tuple[dict[int, str], dict[int, str]]:
    """The titles of the fieldworks and the names of the people the ``events`` name by id.

    People appear by id in a supervisor's action's old and new values (team, assign, release).
    """
    events = list(events)
    fieldwork_ids = {e.fieldwork_id for e in events if e.fieldwork_id is not None}
    titles = dict(
        session.execute(
            select(Fieldwork.id, Fieldwork.title).where(Fieldwork.id.in_(fieldwork_ids))
        )
        .tuples()
        .all()
    )
    user_ids: set[int] = set()
    for event in events:
        if event.action == "supervisor.action":
            for key in ("old", "new"):
                value = (event.detail or {}).get(key)
                values = value if isinstance(value, list) else [value]
                user_ids.update(v for v in values if isinstance(v, int))
    users = {
        user.id: user.full_name or user.username
        for user in session.scalars(select(User).where(User.id.in_(user_ids)))
    }
    return titles, users
