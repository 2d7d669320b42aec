"""Surveys and their immutable definition versions; the parsed questionnaire of a version."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.domain.dates import utcnow
from app.domain.monitoring.plan import Plan, load_plan
from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.model import Questionnaire
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


_questionnaires: dict[str, Questionnaire] = {}
_flows: dict[str, Flow] = {}
_cache_lock = threading.Lock()


def questionnaire_of(version: SurveyVersion) -> Questionnaire:
    """The questionnaire of a stored version, parsed once per content and then kept.

    Versions never change, so their content hash is a safe cache key.
    """
    cached = _questionnaires.get(version.content_hash)
    if cached is None:
        result = load_definition(version.source, version.source_name)
        if result.questionnaire is None:  # it was checked when it was stored
            raise ValueError(f"stored definition {version.source_name} no longer loads")
        with _cache_lock:
            cached = _questionnaires.setdefault(version.content_hash, result.questionnaire)
    return cached


def flow_of(version: SurveyVersion) -> Flow:
    """The interview flow of a stored version (built once per content)."""
    cached = _flows.get(version.content_hash)
    if cached is None:
        flow = Flow(questionnaire_of(version))
        with _cache_lock:
            cached = _flows.setdefault(version.content_hash, flow)
    return cached


def flow_of_hash(session: Session, version_id: int, content_hash: str) -> Flow:
    """The interview flow of the version ``version_id`` whose content hash is known (read
    with other columns): the version itself is loaded only the first time its content is
    seen in this process."""
    cached = _flows.get(content_hash)
    if cached is None:
        cached = flow_of(session.get_one(SurveyVersion, version_id))
    return cached


@dataclass
class SurveyRow:
    survey: Survey
    versions: int
    latest: SurveyVersion | None


def list_surveys(session: Session) -> list[SurveyRow]:
    """Every survey with its number of versions and its latest version."""
    surveys = session.scalars(select(Survey).order_by(Survey.code)).all()
    return [SurveyRow(s, len(s.versions), s.latest) for s in surveys]


def version_numbered(session: Session, survey_id: int, number: int) -> SurveyVersion | None:
    """The survey's version with this number (1, 2, ...)."""
    return session.scalar(
        select(SurveyVersion).where(
            SurveyVersion.survey_id == survey_id, SurveyVersion.number == number
        )
    )


class MonitoringPlan(Base):
    """A monitoring plan (indicators and their targets) as last loaded from its file."""

    __tablename__ = "monitoring_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)  # plan.id
    title: Mapped[str] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64))
    source_name: Mapped[str] = mapped_column(String(255))
    source: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)


_plans: dict[str, Plan] = {}


def plan_of(row: MonitoringPlan) -> Plan:
    """The plan of a stored row, parsed once per content (it was checked when stored)."""
    cached = _plans.get(row.content_hash)
    if cached is None:
        result = load_plan(row.source, row.source_name)
        if result.plan is None:
            raise ValueError(f"stored plan {row.source_name} no longer loads")
        with _cache_lock:
            cached = _plans.setdefault(row.content_hash, result.plan)
    return cached


def stored_plans(session: Session) -> list[Plan]:
    """Every stored monitoring plan, by code."""
    rows = session.scalars(select(MonitoringPlan).order_by(MonitoringPlan.code))
    return [plan_of(row) for row in rows]
