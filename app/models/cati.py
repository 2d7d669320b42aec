"""Telephone interviewing: cases, their calls, appointments, outcomes, supervisor actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.dates import utcnow
from app.models.base import Base
from app.models.fieldwork import ContactPhone, Fieldwork, SampleUnit
from app.models.users import User

OUTCOME_KINDS = "'temporary', 'appointment', 'refusal', 'final', 'supervisor'"
APPOINTMENT_STATES = "'pending', 'kept', 'missed', 'cancelled'"


class Outcome(Base):
    """One row of a fieldwork's outcome table: how a call can end, with its AAPOR code."""

    __tablename__ = "outcome"
    __table_args__ = (
        UniqueConstraint("fieldwork_id", "code"),
        CheckConstraint(f"kind IN ({OUTCOME_KINDS})", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fieldwork_id: Mapped[int] = mapped_column(ForeignKey("fieldwork.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    code: Mapped[str] = mapped_column(String(40))
    label_pl: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    aapor: Mapped[str] = mapped_column(String(10))
    contacted: Mapped[bool] = mapped_column(default=False)
    eligible: Mapped[bool | None] = mapped_column(Boolean, default=None)
    kind: Mapped[str] = mapped_column(String(20))
    retry_minutes: Mapped[int | None] = mapped_column(default=None)
    try_other_number: Mapped[bool] = mapped_column(default=False)
    note_required: Mapped[bool] = mapped_column(default=False)
    is_complete: Mapped[bool] = mapped_column(default=False)
    is_partial: Mapped[bool] = mapped_column(default=False)


class Case(Base):
    """A sampled institution as the call queue sees it (one per sample unit).

    ``next_callable_at``, ``is_final`` and ``attempts`` are derived from the calls by the
    domain rules and stored so that claiming the next case is one indexed query.
    """

    __tablename__ = "cati_case"
    __table_args__ = (
        # the queue's order for cases without an appointment (app.domain.fieldwork.calling):
        # priority first (queue_rank = -priority), fresh before retried, then due time
        Index(
            "ix_cati_case_queue",
            "fieldwork_id",
            "is_final",
            "queue_rank",
            "retried",
            "next_callable_at",
            "id",
        ),
        Index("ix_cati_case_appointment", "fieldwork_id", "appointment_start"),
        Index("ix_cati_case_claimed_by", "claimed_by_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fieldwork_id: Mapped[int] = mapped_column(ForeignKey("fieldwork.id", ondelete="CASCADE"))
    sample_unit_id: Mapped[int] = mapped_column(
        ForeignKey("sample_unit.id", ondelete="CASCADE"), unique=True
    )
    priority: Mapped[int] = mapped_column(default=0)  # higher is called sooner
    queue_rank: Mapped[int] = mapped_column(default=0)  # -priority: one ascending index serves
    assigned_interviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), default=None
    )
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    retried: Mapped[bool] = mapped_column(default=False)  # attempts > 0: fresh cases go first
    next_callable_at: Mapped[datetime | None] = mapped_column(default=None)
    is_final: Mapped[bool] = mapped_column(default=False)
    excluded: Mapped[bool] = mapped_column(default=False)
    disposition_code: Mapped[str] = mapped_column(String(10), default="3.11")
    disposition_outcome_id: Mapped[int | None] = mapped_column(
        ForeignKey("outcome.id", ondelete="SET NULL"), default=None
    )
    ever_contacted: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    # the pending appointment's window, copied here so the queue needs no join
    appointment_start: Mapped[datetime | None] = mapped_column(default=None)
    appointment_end: Mapped[datetime | None] = mapped_column(default=None)
    appointment_interviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), default=None
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    fieldwork: Mapped[Fieldwork] = relationship()
    sample_unit: Mapped[SampleUnit] = relationship()
    disposition_outcome: Mapped[Outcome | None] = relationship()
    calls: Mapped[list[Call]] = relationship(
        back_populates="case", order_by="Call.started_at", cascade="all, delete-orphan"
    )

    def set_priority(self, priority: int) -> None:
        self.priority = priority
        self.queue_rank = -priority

    def set_attempts(self, attempts: int) -> None:
        self.attempts = attempts
        self.retried = attempts > 0


class Appointment(Base):
    """An agreed time to call back: a window in Warsaw time, for one interviewer or anyone."""

    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint(f"status IN ({APPOINTMENT_STATES})", name="status_known"),
        Index("ix_appointment_case_status", "case_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cati_case.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None] = mapped_column(default=None)
    interviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    phone_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_phone.id", ondelete="SET NULL"), default=None
    )
    with_whom: Mapped[str] = mapped_column(String(300), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(foreign_keys=[case_id])
    interviewer: Mapped[User | None] = relationship(foreign_keys=[interviewer_id])
    phone: Mapped[ContactPhone | None] = relationship()


class Call(Base):
    """One call attempt: who called which number, when, and how it ended."""

    __tablename__ = "call"
    __table_args__ = (
        Index("ix_call_interviewer_started", "interviewer_id", "started_at"),
        Index("ix_call_case_started", "case_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cati_case.id", ondelete="CASCADE"))
    interviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    phone_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_phone.id", ondelete="SET NULL"), default=None
    )
    number: Mapped[str] = mapped_column(String(40), default="")
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome_id: Mapped[int | None] = mapped_column(ForeignKey("outcome.id"), default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    interview_seconds: Mapped[int] = mapped_column(default=0)

    case: Mapped[Case] = relationship(back_populates="calls")
    outcome: Mapped[Outcome | None] = relationship()
    interviewer: Mapped[User | None] = relationship()


class SupervisorAction(Base):
    """A supervisor's change to fieldwork, a case or a call, with who, when and what."""

    __tablename__ = "supervisor_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    fieldwork_id: Mapped[int] = mapped_column(ForeignKey("fieldwork.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cati_case.id", ondelete="CASCADE"), default=None
    )
    call_id: Mapped[int | None] = mapped_column(
        ForeignKey("call.id", ondelete="CASCADE"), default=None
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
