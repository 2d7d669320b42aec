"""Demo data for a first look: one account per role (more arrives with fieldwork)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.auth.services import create_user, find_user
from app.models.users import Role

DEMO_PASSWORD = "ankieta-demo"  # noqa: S105 - printed by `make run`; demo instances only
DEMO_ACCOUNTS = [
    ("admin", Role.ADMIN, "Administrator Demo"),
    ("analityk", Role.ANALYST, "Anna Analityczna"),
    ("koordynator", Role.SUPERVISOR, "Krzysztof Koordynator"),
    ("ankieter", Role.INTERVIEWER, "Iwona Ankieterka"),
]


def ensure_demo_accounts(session: Session) -> list[tuple[str, str, str]]:
    """Create the demo accounts that are missing; return (user name, password, role) rows."""
    for username, role, full_name in DEMO_ACCOUNTS:
        if find_user(session, username) is None:
            create_user(
                session,
                username,
                role,
                full_name=full_name,
                password=DEMO_PASSWORD,
                must_change_password=False,
            )
    return [(username, DEMO_PASSWORD, role.value) for username, role, _ in DEMO_ACCOUNTS]
