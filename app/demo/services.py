"""Demo data for a first look: one account per role and an open demo fieldwork with a sample."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.demo.data import create_demo_responses
from app.fieldwork import services as fieldwork_services
from app.models.calling import on_team
from app.models.cati import Case
from app.models.fieldwork import Fieldwork, FieldworkInterviewer, Response, SampleUnit
from app.models.surveys import Survey
from app.models.users import Role
from app.platform.accounts import create_user, find_user

DEMO_PASSWORD = "ankieta-demo"  # noqa: S105 - printed by `make run`; demo instances only
DEMO_ACCOUNTS = [
    ("admin", Role.ADMIN, "Administrator Demo"),
    ("analityk", Role.ANALYST, "Anna Analityczna"),
    ("koordynator", Role.SUPERVISOR, "Krzysztof Koordynator"),
    ("ankieter", Role.INTERVIEWER, "Iwona Ankieterka"),
]
# one OWES coordinator per subregion of the demo sample (Śląskie's four): user name, subregion
DEMO_OWES = [
    ("owes_polnocny", "północny"),
    ("owes_srodkowy", "środkowy"),
    ("owes_zachodni", "zachodni"),
    ("owes_poludniowy", "południowy"),
]
DEMO_SURVEY = "monitoring_cis_kis"
DEMO_TITLE = "Monitoring CIS i KIS 2026 (demo)"
DEMO_RESPONSES = 8  # enough for exports and reports to show something; quick to make
DEMO_SPARE_LINKS = 2  # sampled institutions left without a demo response, to try the form
DEMO_SEED = 2026
# Calls may be tried at any hour of the demo (a real fieldwork keeps office hours), and
# enough institutions wait for a call that a newcomer can try several interviews.
DEMO_CALLING_HOURS = "pn-nd 0:00-23:59"
DEMO_PHONE_CASES = 20
DEMO_PHONE_PLACES = (
    ("KIS", "zachodni", "rybnicki", "Rybnik", "32 422"),
    ("CIS", "środkowy", "Katowice", "Katowice", "32 253"),
    ("KIS", "południowy", "bielski", "Bielsko-Biała", "33 812"),
    ("CIS", "północny", "Częstochowa", "Częstochowa", "34 365"),
    ("KIS", "środkowy", "gliwicki", "Gliwice", "32 231"),
)

# A made-up sample of Śląskie institutions: real place names, invented institutions and numbers.
DEMO_SAMPLE_FILE = Path(__file__).with_name("sample.csv")


@dataclass
class DemoFieldwork:
    id: int
    title: str
    links: list[tuple[str, str]]  # (institution, personal link path)
    calling_hours: str = ""
    callable: int = 0  # cases not final, waiting for a call
    interviewer: str = ""  # the demo interviewer's user name


def ensure_demo_accounts(session: Session) -> list[tuple[str, str, str]]:
    """Create the demo accounts that are missing (one per role, and an OWES coordinator per
    subregion); return (user name, password, role and subregion) rows."""
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
    for username, subregion in DEMO_OWES:
        if find_user(session, username) is None:
            create_user(
                session,
                username,
                Role.COORDINATOR,
                full_name=f"OWES {subregion}",
                password=DEMO_PASSWORD,
                must_change_password=False,
                subregions=[subregion],
            )
    return [(username, DEMO_PASSWORD, role.value) for username, role, _ in DEMO_ACCOUNTS] + [
        (username, DEMO_PASSWORD, f"{Role.COORDINATOR.value} ({subregion})")
        for username, subregion in DEMO_OWES
    ]


def _phone_sample() -> bytes:
    """Made-up institutions for the demo interviewer to call, with phone numbers."""
    lines = ["id;nazwa;typ;podregion;powiat;gmina;telefon"]
    for number in range(1, DEMO_PHONE_CASES + 1):
        kind, subregion, powiat, gmina, prefix = DEMO_PHONE_PLACES[number % len(DEMO_PHONE_PLACES)]
        kind_name = "Klub" if kind == "KIS" else "Centrum"
        name = f"{kind_name} Integracji Społecznej nr {number} ({gmina})"
        phone = f"{prefix} {number:02d} {50 + number:02d}"
        lines.append(f"TEL-{number:03d};{name};{kind};{subregion};{powiat};{gmina};{phone}")
    return "\n".join(lines).encode("utf-8")


def ensure_demo_fieldwork(session: Session, now: datetime) -> DemoFieldwork | None:
    """An open demo fieldwork of the CIS/KIS survey with a sample and a few demo responses
    (created once); its links are those of the institutions without a response."""
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
        outcome = fieldwork_services.import_sample(
            session, fieldwork, _phone_sample(), "demo_telefony.csv", now=now
        )
        if not outcome.ok:
            raise RuntimeError("; ".join(p.render() for p in outcome.problems))
        fieldwork.calling_hours = DEMO_CALLING_HOURS
        fieldwork.open(now)
        session.flush()
    for username, role, _name in DEMO_ACCOUNTS:  # the demo interviewer calls this fieldwork
        user = find_user(session, username) if role is Role.INTERVIEWER else None
        if user is not None and not on_team(session, fieldwork.id, user.id):
            session.add(FieldworkInterviewer(fieldwork_id=fieldwork.id, user_id=user.id))
    has_demo_responses = session.scalar(
        select(Response.id).where(Response.fieldwork_id == fieldwork.id, Response.is_demo).limit(1)
    )
    if has_demo_responses is None:
        # Analysts see data at once; the first institutions' links stay free to try.
        create_demo_responses(
            session, fieldwork, DEMO_RESPONSES, seed=DEMO_SEED, now=now, spare=DEMO_SPARE_LINKS
        )
    answered = select(Response.sample_unit_id).where(
        Response.fieldwork_id == fieldwork.id, Response.sample_unit_id.is_not(None)
    )
    units = session.scalars(
        select(SampleUnit)
        .where(SampleUnit.fieldwork_id == fieldwork.id, SampleUnit.id.not_in(answered))
        .order_by(SampleUnit.id)
    ).all()
    waiting = session.scalar(
        select(func.count())
        .select_from(Case)
        .where(Case.fieldwork_id == fieldwork.id, Case.is_final.is_(False))
    )
    interviewer = next(name for name, role, _ in DEMO_ACCOUNTS if role is Role.INTERVIEWER)
    return DemoFieldwork(
        fieldwork.id,
        fieldwork.title,
        [(u.name, f"/r/{u.token}") for u in units],
        calling_hours=fieldwork.calling_hours,
        callable=waiting or 0,
        interviewer=interviewer,
    )
