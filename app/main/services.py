"""What each role's home page shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.fieldwork import Fieldwork, due_for_erasure
from app.models.surveys import Survey, SurveyVersion
from app.models.users import Role, User


@dataclass
class SurveySummary:
    id: int
    code: str
    title: str
    versions: int


@dataclass
class Home:
    role: Role
    users_by_role: dict[str, int] = field(default_factory=dict)
    surveys: list[SurveySummary] = field(default_factory=list)
    erasure_due: list[Fieldwork] = field(default_factory=list)  # contact data kept too long


def home_for(session: Session, role: Role, now: datetime) -> Home:
    """The figures and lists the home page of ``role`` shows."""
    home = Home(role=role)
    if role is Role.ADMIN:
        rows = session.execute(select(User.role, func.count()).group_by(User.role)).all()
        home.users_by_role = {r: n for r, n in rows}
        home.erasure_due = due_for_erasure(session, now)
    if role in (Role.ADMIN, Role.ANALYST):
        home.surveys = survey_summaries(session)
    return home


def survey_summaries(session: Session) -> list[SurveySummary]:
    rows = session.execute(
        select(Survey.id, Survey.code, Survey.title, func.count(SurveyVersion.id))
        .join(SurveyVersion, SurveyVersion.survey_id == Survey.id, isouter=True)
        .group_by(Survey.id, Survey.code, Survey.title)
        .order_by(Survey.title)
    ).all()
    return [SurveySummary(*row) for row in rows]
