"""Personal API tokens: a user's key to the REST API (``/api/v1/``), stored only as a hash.

The token itself is shown once, when it is made; the database keeps its SHA-256 (a token
is 256 random bits, so a fast hash is enough: there is nothing to guess), the first few
characters (so that a list can tell tokens apart), its scope, its expiry and, once
revoked, when. A token acts as its user, with the user's role.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.domain.dates import utcnow
from app.models.base import Base
from app.models.users import User

PREFIX = "ank_"  # says what the string is when it turns up in a log or a repository


class TokenScope(enum.StrEnum):
    READ = "read"  # GET only
    WRITE = "write"  # also what changes data (a sample import, an export)


SCOPE_VALUES = ", ".join(f"'{s.value}'" for s in TokenScope)


class ApiToken(Base):
    __tablename__ = "api_token"
    __table_args__ = (CheckConstraint(f"scope IN ({SCOPE_VALUES})", name="scope_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100), default="")
    hint: Mapped[str] = mapped_column(String(12))  # the token's first characters
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex
    scope: Mapped[str] = mapped_column(String(10), default=TokenScope.READ.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship()

    @property
    def scope_enum(self) -> TokenScope:
        return TokenScope(self.scope)

    def is_valid(self, now: datetime) -> bool:
        """Neither revoked nor expired (the user's account is checked apart)."""
        return self.revoked_at is None and now < self.expires_at

    def revoke(self, now: datetime) -> None:
        if self.revoked_at is None:
            self.revoked_at = now


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def valid_token(session: Session, presented: str, now: datetime) -> ApiToken | None:
    """The valid token ``presented`` is, with an active user; None for anything else."""
    if not presented.startswith(PREFIX) or len(presented) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(presented)))
    if token is None or not token.is_valid(now) or not token.user.active:
        return None
    return token
