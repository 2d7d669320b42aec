"""Surveys and their immutable definition versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.dates import utcnow
from app.models.base import Base


class Survey(Base):
    """A questionnaire known by its definition's ``settings.id``, with one or more versions."""

    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)  # settings.id
    title: Mapped[str] = mapped_column(String(500))  # of the latest version, default language
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    versions: Mapped[list[SurveyVersion]] = relationship(
        back_populates="survey", order_by="SurveyVersion.number", cascade="all, delete-orphan"
    )

    @property
    def latest(self) -> SurveyVersion | None:
        return self.versions[-1] if self.versions else None


class SurveyVersion(Base):
    """One definition as loaded, keyed by the hash of its content; never changed afterwards."""

    __tablename__ = "survey_version"
    __table_args__ = (
        UniqueConstraint("survey_id", "number"),
        UniqueConstraint("survey_id", "content_hash"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("source_format IN ('yaml', 'xlsform')", name="source_format_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    number: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex of the source bytes
    source_name: Mapped[str] = mapped_column(String(255))
    source_format: Mapped[str] = mapped_column(String(10))
    # read only when a version is first parsed or downloaded, not with every response
    source: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    title: Mapped[str] = mapped_column(String(500))
    item_count: Mapped[int] = mapped_column(default=0)
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    survey: Mapped[Survey] = relationship(back_populates="versions")
