"""Accounts: who may log in and with which role."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.dates import utcnow
from app.models.base import Base


class Role(enum.StrEnum):
    """What a user may do. Each role's home page and routes are declared in
    app.platform.security."""

    ADMIN = "admin"  # everything
    ANALYST = "analyst"  # ROPS staff: surveys, fieldwork, results, exports
    SUPERVISOR = "supervisor"  # runs telephone fieldwork
    INTERVIEWER = "interviewer"  # phone interviews only
    COORDINATOR = "coordinator"  # an OWES: progress, responses, CATI supervision of its subregions


ROLE_VALUES = ", ".join(f"'{role.value}'" for role in Role)


class User(Base):
    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint(f"role IN ({ROLE_VALUES})", name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)  # stored lower-case
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    # part of every session's user id: raising it ends all of this account's sessions
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # the part of the region this account sees (app.models.scope): empty lists = all of it
    subregions: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    entity_types: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")

    # Flask-Login's protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """The user id kept in the session: the account and its session generation."""
        return f"{self.id}-{self.session_generation}"

    def end_sessions(self) -> None:
        """Make every session of this account invalid, on every app server."""
        self.session_generation += 1

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


class LoginThrottle(Base):
    """Failed logins from one client address in the current window (see app.auth.services)."""

    __tablename__ = "login_throttle"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime]
