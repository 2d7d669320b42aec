"""Calls and interviewers made directly in the database (through the CATI services), and the
supervisor's figures read back from a page."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.cati.services import AppointmentRequest, finish_call, start_call
from app.models.calling import outcomes_of
from app.models.cati import Case
from app.models.fieldwork import SampleUnit
from app.models.users import Role
from tests.support import database

UNITS = [
    ("A-01", "Centrum Integracji Społecznej w Gliwicach", {"entity_type": "CIS"}),
    ("B-02", "Klub Integracji Społecznej w Żorach", {"entity_type": "KIS"}),
    ("C-03", "Klub Integracji Społecznej w Rybniku", {"entity_type": "KIS"}),
    ("D-04", "Centrum Integracji Społecznej w Bytomiu", {"entity_type": "CIS"}),
    ("E-05", "Klub Integracji Społecznej w Tychach", {"entity_type": "KIS"}),
    ("F-06", "Centrum Integracji Społecznej w Zabrzu", {"entity_type": "CIS"}),
]
# Monday 16 March 2026, 07:00 UTC = 08:00 in Warsaw (CET); the clock fixture says 09:30 UTC.
MORNING = datetime(2026, 3, 16, 7, 0, tzinfo=UTC)
APPOINTMENT_START = datetime(2026, 3, 17, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Warsaw


def add_interviewer(app, username: str, full_name: str, *, active: bool = True) -> int:
    from app.platform.accounts import create_user

    with database(app).session() as session:
        user, _ = create_user(
            session, username, Role.INTERVIEWER, full_name=full_name, password="x" * 20
        )
        user.active = active
        session.flush()
        return user.id


def case_id_of(app, fieldwork_id: int, external_id: str) -> int:
    with database(app).session() as session:
        return session.scalar(
            select(Case.id)
            .join(SampleUnit, Case.sample_unit_id == SampleUnit.id)
            .where(Case.fieldwork_id == fieldwork_id, SampleUnit.external_id == external_id)
        )


def make_call(
    app,
    case_id: int,
    interviewer_id: int,
    code: str,
    start: datetime,
    minutes: float,
    *,
    note: str = "",
    appointment: AppointmentRequest | None = None,
) -> int:
    """One call through the CATI services: dialled at ``start``, ended ``minutes`` later."""
    with database(app).session() as session:
        case = session.get(Case, case_id)
        outcome = next(o for o in outcomes_of(session, case.fieldwork) if o.code == code)
        phone = case.sample_unit.phones[0] if case.sample_unit.phones else None
        call = start_call(session, case, interviewer_id, phone, start)
        finish_call(
            session,
            case,
            call,
            outcome,
            interviewer_id=interviewer_id,
            note=note,
            now=start + timedelta(minutes=minutes),
            appointment=appointment,
        )
        return call.id


def cell(body: str, element_id: str) -> str:
    """The text of the element with ``id`` (a table cell of the figures)."""
    match = re.search(rf'id="{re.escape(element_id)}"[^>]*>(.*?)</t[dh]>', body, re.S)
    assert match, f"no element {element_id}"
    return html.unescape(re.sub(r"<[^>]+>|\s+", " ", match.group(1))).strip()


def row_html(body: str, element_id: str) -> str:
    match = re.search(rf'<tr id="{re.escape(element_id)}".*?</tr>', body, re.S)
    assert match, f"no row {element_id}"
    return match.group(0)


def figures(body: str, interviewer_id: int) -> dict[str, str]:
    row = row_html(body, f"interviewer-{interviewer_id}")
    return {
        name: value.strip() for name, value in re.findall(r'data-figure="([a-z-]+)">([^<]*)<', row)
    }


def percent(value: float | None) -> str:
    """How the page writes a rate: one decimal, Polish decimal comma."""
    return "—" if value is None else f"{value * 100:.1f}".replace(".", ",") + "%"
