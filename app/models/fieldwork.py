"""Fieldwork: a survey version put in the field for a period, its sample and invitations."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.domain.dates import local_date, utcnow
from app.domain.fieldwork.sample.columns import SAMPLE_VARIABLES
from app.models.base import Base
from app.models.surveys import Survey, SurveyVersion
from app.models.users import User


class FieldworkState(enum.StrEnum):
    DRAFT = "draft"  # being set up: sample may be imported, no answers accepted
    OPEN = "open"  # accepts answers
    CLOSED = "closed"  # keeps everything, accepts nothing


class InvalidTransition(Exception):
    """A fieldwork state change that is not allowed from the current state."""

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"fieldwork is {current}; it cannot become {wanted}")
        self.current = current
        self.wanted = wanted


STATE_VALUES = ", ".join(f"'{s.value}'" for s in FieldworkState)


class Fieldwork(Base):
    """A survey version in the field for a period, e.g. "Monitoring KIS 2026, 1 Jan – 31 Mar"."""

    __tablename__ = "fieldwork"
    __table_args__ = (CheckConstraint(f"state IN ({STATE_VALUES})", name="state_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"))
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_version.id"))
    title: Mapped[str] = mapped_column(String(300))
    opens_on: Mapped[date | None] = mapped_column(default=None)
    closes_on: Mapped[date | None] = mapped_column(default=None)
    state: Mapped[str] = mapped_column(String(10), default=FieldworkState.DRAFT.value)
    open_link_token: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    # trying the form before and during fieldwork: answers given through it are tests
    test_link_token: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    # telephone fieldwork settings (the supervisor's)
    calling_hours: Mapped[str] = mapped_column(
        String(200), default="pn-pt 8:00-16:00", server_default="pn-pt 8:00-16:00"
    )
    attempt_limit: Mapped[int] = mapped_column(default=10, server_default="10")
    claim_timeout_minutes: Mapped[int] = mapped_column(default=30, server_default="30")
    aapor_e: Mapped[float | None] = mapped_column(default=None)  # None: estimated from the cases
    # personal data: contact data is kept until this day, then erased (RODO storage limitation)
    retain_contacts_until: Mapped[date | None] = mapped_column(default=None)
    contacts_erased_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)

    survey: Mapped[Survey] = relationship()
    survey_version: Mapped[SurveyVersion] = relationship()
    team: Mapped[list[User]] = relationship(
        secondary="fieldwork_interviewer", order_by="User.username"
    )

    @property
    def state_enum(self) -> FieldworkState:
        return FieldworkState(self.state)

    @property
    def is_open(self) -> bool:
        return self.state == FieldworkState.OPEN

    def open(self, now: datetime) -> None:
        """Start accepting answers (from draft, or again after closing)."""
        if self.state == FieldworkState.OPEN:
            raise InvalidTransition(self.state, FieldworkState.OPEN)
        self.state = FieldworkState.OPEN.value
        self.opened_at = now

    def close(self, now: datetime) -> None:
        """Stop accepting answers; everything collected is kept."""
        if self.state != FieldworkState.OPEN:
            raise InvalidTransition(self.state, FieldworkState.CLOSED)
        self.state = FieldworkState.CLOSED.value
        self.closed_at = now


class FieldworkInterviewer(Base):
    """An interviewer on a fieldwork's team: only they get its cases."""

    __tablename__ = "fieldwork_interviewer"

    fieldwork_id: Mapped[int] = mapped_column(
        ForeignKey("fieldwork.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )


class SampleUnit(Base):
    """One sampled institution in one fieldwork, with its personal link token."""

    __tablename__ = "sample_unit"
    __table_args__ = (UniqueConstraint("fieldwork_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fieldwork_id: Mapped[int] = mapped_column(ForeignKey("fieldwork.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(500))
    entity_type: Mapped[str] = mapped_column(String(50), default="")
    subregion: Mapped[str] = mapped_column(String(100), default="")
    powiat: Mapped[str] = mapped_column(String(100), default="")
    gmina: Mapped[str] = mapped_column(String(100), default="")
    contact_person: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(300), default="")
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # other columns
    token: Mapped[str] = mapped_column(String(64), unique=True)  # the personal link
    # e-mail fieldwork (app.mailing): asked for no more messages; the address bounced
    mail_opted_out_at: Mapped[datetime | None] = mapped_column(default=None)
    mail_bounced_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    fieldwork: Mapped[Fieldwork] = relationship()
    phones: Mapped[list[ContactPhone]] = relationship(
        back_populates="sample_unit", order_by="ContactPhone.position", cascade="all, delete-orphan"
    )

    def sample_variables(self) -> dict[str, Any]:
        """What ``${sample.NAME}`` refers to: the standard columns plus the extra ones."""
        return sample_values(
            self.variables, {name: getattr(self, name) for name in SAMPLE_VARIABLES}
        )


def sample_values(
    variables: Mapping[str, Any] | None, standard: Mapping[str, Any]
) -> dict[str, Any]:
    """A sampled institution's ``${sample.NAME}`` values: its extra columns (``variables``)
    and then its standard ones (SAMPLE_VARIABLES, which win)."""
    values = dict(variables or {})
    values.update(standard)
    return values


class ContactPhone(Base):
    """A phone number of a sampled institution, in calling order."""

    __tablename__ = "contact_phone"
    __table_args__ = (UniqueConstraint("sample_unit_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_unit_id: Mapped[int] = mapped_column(ForeignKey("sample_unit.id", ondelete="CASCADE"))
    position: Mapped[int]
    number: Mapped[str] = mapped_column(String(40))  # as text: leading zeros matter
    label: Mapped[str] = mapped_column(String(100), default="")

    sample_unit: Mapped[SampleUnit] = relationship(back_populates="phones")


class ResponseStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"


RESPONSE_STATUS_VALUES = ", ".join(f"'{s.value}'" for s in ResponseStatus)


class Response(Base):
    """The answers of one sampled institution (or one open-link respondent) in a fieldwork.

    ``revision`` grows with every saved page; a page carries the revision it was shown at,
    and a save that finds a newer revision is refused (the respondent is told), so two
    tabs never overwrite each other silently.
    """

    __tablename__ = "response"
    __table_args__ = (
        CheckConstraint(f"status IN ({RESPONSE_STATUS_VALUES})", name="status_known"),
        Index("ix_response_fieldwork_status", "fieldwork_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fieldwork_id: Mapped[int] = mapped_column(ForeignKey("fieldwork.id", ondelete="CASCADE"))
    sample_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("sample_unit.id", ondelete="CASCADE"), unique=True, default=None
    )
    open_token: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_version.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=ResponseStatus.IN_PROGRESS.value)
    last_page: Mapped[str | None] = mapped_column(String(100), default=None)
    language: Mapped[str] = mapped_column(String(10), default="pl")
    revision: Mapped[int] = mapped_column(default=0)
    via_web: Mapped[bool] = mapped_column(default=False)
    via_phone: Mapped[bool] = mapped_column(default=False)
    is_demo: Mapped[bool] = mapped_column(default=False)
    # given through the test link: never counted, reported or exported unless asked for
    is_test: Mapped[bool] = mapped_column(default=False, server_default=false())
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)

    fieldwork: Mapped[Fieldwork] = relationship()
    sample_unit: Mapped[SampleUnit | None] = relationship()
    survey_version: Mapped[SurveyVersion] = relationship()

    @property
    def is_complete(self) -> bool:
        return self.status == ResponseStatus.COMPLETE


@dataclass(frozen=True, slots=True)
class ResponseRow:
    """A response's columns as one request read them: a plain record, not an ORM object.

    What showing and saving a respondent's pages reads (app.respond resolves a link into
    one); its saves are UPDATEs by id (app.interview.service), which hand back a new record
    with what they changed."""

    id: int
    fieldwork_id: int
    sample_unit_id: int | None
    survey_version_id: int
    answers: dict[str, Any]
    status: str
    last_page: str | None
    revision: int
    is_test: bool
    completed_at: datetime | None

    @property
    def is_complete(self) -> bool:
        return self.status == ResponseStatus.COMPLETE


class ResponseChange(Base):
    """A correction of a completed response: who changed what, from what, to what, and why."""

    __tablename__ = "response_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    # indexed: every save of a changed page looks for the response's re-opening
    response_id: Mapped[int] = mapped_column(
        ForeignKey("response.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(20))  # "reopened", "changed" or "edited"
    variable: Mapped[str | None] = mapped_column(String(100), default=None)
    old_value: Mapped[Any] = mapped_column(JSON, default=None)
    new_value: Mapped[Any] = mapped_column(JSON, default=None)
    reason: Mapped[str] = mapped_column(Text, default="")


def due_for_erasure(session: Session, now: datetime) -> list[Fieldwork]:
    """Fieldworks whose contact data should have been erased by today (Warsaw)."""
    today = local_date(now)
    return list(
        session.scalars(
            select(Fieldwork)
            .where(
                Fieldwork.retain_contacts_until.is_not(None),
                Fieldwork.retain_contacts_until <= today,
                Fieldwork.contacts_erased_at.is_(None),
            )
            .order_by(Fieldwork.retain_contacts_until, Fieldwork.id)
        )
    )


def sample_facets(
    session: Session, fieldwork: Fieldwork, *where: Any
) -> tuple[list[str], list[str]]:
    """The subregions and entity types present in the sample (for filters), of the units
    matching ``where`` (e.g. a scope's ``covers(SampleUnit.id)``)."""
    subregions = session.scalars(
        select(SampleUnit.subregion)
        .where(SampleUnit.fieldwork_id == fieldwork.id, SampleUnit.subregion != "", *where)
        .distinct()
        .order_by(SampleUnit.subregion)
    ).all()
    types = session.scalars(
        select(SampleUnit.entity_type)
        .where(SampleUnit.fieldwork_id == fieldwork.id, SampleUnit.entity_type != "", *where)
        .distinct()
        .order_by(SampleUnit.entity_type)
    ).all()
    return list(subregions), list(types)


def known_subregions(session: Session) -> list[str]:
    """Every subregion some sample names (the choices of an account's scope)."""
    return _named(session, SampleUnit.subregion)


def known_entity_types(session: Session) -> list[str]:
    """Every entity type some sample names."""
    return _named(session, SampleUnit.entity_type)


def _named(session: Session, column: Any) -> list[str]:
    """The distinct non-empty values of a sample unit's ``column``, sorted."""
    return list(session.scalars(select(column).where(column != "").distinct().order_by(column)))


def earlier_fieldworks(session: Session, fieldwork: Fieldwork) -> list[Fieldwork]:
    """The earlier fieldworks of the same survey, newest first (a report compares with them)."""
    return list(
        session.scalars(
            select(Fieldwork)
            .where(Fieldwork.survey_id == fieldwork.survey_id, Fieldwork.id < fieldwork.id)
            .order_by(Fieldwork.id.desc())
        )
    )
