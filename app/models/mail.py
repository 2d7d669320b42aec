"""E-mail fieldwork: the messages of a fieldwork, its waves, and every message sent.

A *wave* is one sending: the invitation to everybody not yet invited, or reminder number N
to everybody invited who has not answered. Its recipients are fixed when it is created
(one ``mail_message`` row each, ``queued``); the worker then sends them one at a time,
marking each ``sending`` (committed) before handing it to the SMTP server and ``sent``
after. A message found ``sending`` after a crash is never sent again (it may have left).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.domain.dates import utcnow
from app.models.base import Base
from app.models.fieldwork import Fieldwork, SampleUnit


class MessageKind(enum.StrEnum):
    INVITATION = "invitation"
    REMINDER = "reminder"


class WaveState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class MessageState(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # handed to the SMTP server; never sent again
    SENT = "sent"
    FAILED = "failed"  # the server refused it for now (4xx) or could not be reached
    BOUNCED = "bounced"  # refused for good (5xx): the address does not work
    SKIPPED = "skipped"  # the contact completed, opted out or bounced before its turn


def _values(kind: type[enum.StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in kind)


class FieldworkMail(Base):
    """A fieldwork's messages and reminder schedule (empty texts: the shipped defaults)."""

    __tablename__ = "fieldwork_mail"

    fieldwork_id: Mapped[int] = mapped_column(
        ForeignKey("fieldwork.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(5), default="pl")
    invitation_subject: Mapped[str] = mapped_column(Text, default="")
    invitation_body: Mapped[str] = mapped_column(Text, default="")
    reminder_subject: Mapped[str] = mapped_column(Text, default="")
    reminder_body: Mapped[str] = mapped_column(Text, default="")
    rops_contact: Mapped[str] = mapped_column(Text, default="")
    # days after the invitation wave, e.g. "7,14"; empty: reminders only when asked for
    reminder_days: Mapped[str] = mapped_column(String(100), default="")


class MailWave(Base):
    __tablename__ = "mail_wave"
    __table_args__ = (
        CheckConstraint(f"state IN ({_values(WaveState)})", name="state_known"),
        CheckConstraint(f"kind IN ({_values(MessageKind)})", name="kind_known"),
        # one reminder number once: two workers' schedulers cannot both create reminder 1
        UniqueConstraint("fieldwork_id", "kind", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fieldwork_id: Mapped[int] = mapped_column(ForeignKey("fieldwork.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[int] = mapped_column(default=1)  # the n-th invitation or reminder wave
    scheduled: Mapped[bool] = mapped_column(default=False)  # made by the schedule, not a person
    state: Mapped[str] = mapped_column(String(10), default=WaveState.QUEUED.value)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    total: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    fieldwork: Mapped[Fieldwork] = relationship()


class MailMessage(Base):
    __tablename__ = "mail_message"
    __table_args__ = (
        CheckConstraint(f"state IN ({_values(MessageState)})", name="state_known"),
        UniqueConstraint("wave_id", "sample_unit_id"),
        Index("ix_mail_message_unit", "sample_unit_id", "kind"),
        Index("ix_mail_message_wave_state", "wave_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("mail_wave.id", ondelete="CASCADE"))
    fieldwork_id: Mapped[int] = mapped_column(ForeignKey("fieldwork.id", ondelete="CASCADE"))
    sample_unit_id: Mapped[int] = mapped_column(ForeignKey("sample_unit.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(300))  # the address it went to (personal data)
    state: Mapped[str] = mapped_column(String(10), default=MessageState.QUEUED.value)
    message_id: Mapped[str] = mapped_column(String(300), default="")
    error: Mapped[str] = mapped_column(Text, default="")  # the SMTP server's reply
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)

    sample_unit: Mapped[SampleUnit] = relationship()


def sent_counts(session: Session, fieldwork_id: int) -> dict[int, tuple[int, int]]:
    """Invitations and reminders sent, per sample unit id (for the export and the report)."""
    result: dict[int, list[int]] = {}
    for unit_id, kind, count in session.execute(
        select(MailMessage.sample_unit_id, MailMessage.kind, func.count())
        .where(
            MailMessage.fieldwork_id == fieldwork_id,
            MailMessage.state == MessageState.SENT.value,
        )
        .group_by(MailMessage.sample_unit_id, MailMessage.kind)
    ):
        pair = result.setdefault(unit_id, [0, 0])
        pair[0 if kind == MessageKind.INVITATION else 1] += count
    return {unit_id: (pair[0], pair[1]) for unit_id, pair in result.items()}
