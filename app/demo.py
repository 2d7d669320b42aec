"""Demo data for a first look: one account per role and an open demo fieldwork with a sample."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.services import create_user, find_user
from app.fieldwork import services as fieldwork_services
from app.models.fieldwork import Fieldwork, SampleUnit
from app.models.surveys import Survey
from app.models.users import Role

DEMO_PASSWORD = "ankieta-demo"  # noqa: S105 - printed by `make run`; demo instances only
DEMO_ACCOUNTS = [
    ("admin", Role.ADMIN, "Administrator Demo"),
    ("analityk", Role.ANALYST, "Anna Analityczna"),
    ("koordynator", Role.SUPERVISOR, "Krzysztof Koordynator"),
    ("ankieter", Role.INTERVIEWER, "Iwona Ankieterka"),
]
DEMO_SURVEY = "monitoring_cis_kis"
DEMO_TITLE = "Monitoring CIS i KIS 2026 (demo)"

# A made-up sample of Śląskie institutions: real place names, invented institutions and numbers.
DEMO_SAMPLE_FILE = Path(__file__).with_name("demo_sample.csv")


@dataclass
class DemoFieldwork:
    id: int
    title: str
    links: list[tuple[str, str]]  # (institution, personal link path)


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


def ensure_demo_fieldwork(session: Session, now: datetime) -> DemoFieldwork | None:
    """An open demo fieldwork of the CIS/KIS survey with a sample (created once)."""
    survey = session.scalar(select(Survey).where(Survey.code == DEMO_SURVEY))
    if survey is None:
        return None
    fieldwork = session.scalar(select(Fieldwork).where(Fieldwork.title == DEMO_TITLE))
    if fieldwork is None:
        fieldwork = fieldwork_services.create_fieldwork(
            session,
            DEMO_SURVEY,
            DEMO_TITLE,
            opens_on=date(now.year, 1, 1),
            closes_on=date(now.year, 12, 31),
        )
        outcome = fieldwork_services.import_sample(
            session, fieldwork, DEMO_SAMPLE_FILE.read_bytes(), DEMO_SAMPLE_FILE.name, now=now
        )
        if not outcome.ok:  # the demo sample is ours: a problem here is a bug
            raise RuntimeError("; ".join(p.render() for p in outcome.problems))
        fieldwork.open(now)
        session.flush()
    units = session.scalars(
        select(SampleUnit).where(SampleUnit.fieldwork_id == fieldwork.id).order_by(SampleUnit.id)
    ).all()
    return DemoFieldwork(fieldwork.id, fieldwork.title, [(u.name, f"/r/{u.token}") for u in units])
