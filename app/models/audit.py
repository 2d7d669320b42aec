"""The audit log: who did what, when, to which object. Rows are only ever added.

The database refuses UPDATE, DELETE and (PostgreSQL) TRUNCATE on ``audit_event`` (triggers
created by the migrations), so neither a bug nor the application's own database account can
rewrite history. The table's owner or a superuser can still drop the triggers or the table
(a migration, a restore does): give the application an account that does not own the
schema when that matters (docs/deploy.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.dates import utcnow
from app.models.base import Base


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_at", "at"),
        Index("ix_audit_event_action_at", "action", "at"),
        Index("ix_audit_event_fieldwork_at", "fieldwork_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # who: the account (kept as a name too, so the row reads the same if the account changes)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    actor: Mapped[str] = mapped_column(String(150), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(60))  # e.g. "login.failed", "export.downloaded"
    # what it was done to: a fieldwork (for filtering) and a readable object reference
    fieldwork_id: Mapped[int | None] = mapped_column(default=None)
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
