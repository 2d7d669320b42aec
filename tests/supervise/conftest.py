"""Fixtures of the supervisor's tests: a fieldwork with calls, a logged-in supervisor."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.cati.services import AppointmentRequest
from app.models.users import Role
from tests.support.calls import (
    APPOINTMENT_START,
    MORNING,
    UNITS,
    add_interviewer,
    case_id_of,
    make_call,
)


@pytest.fixture
def fieldwork_with_calls(app, make_fieldwork, join_team):
    """Six cases, two interviewers, the calls below; returns the ids the tests need.

    Anna:   A no answer (2 min), A complete (20 min), B hard refusal (5 min)
    Bartek: C no answer (1 min), D institution closed (2 min), E appointment (5 min)
    F is never called. Dispositions: A 1.1, B 2.112, C 3.13, D 4.51, E 2.21, F 3.11.
    """
    fieldwork_id = make_fieldwork(units=UNITS)
    anna = add_interviewer(app, "anna", "Anna Nowak")
    bartek = add_interviewer(app, "bartek", "Bartosz Wiśniewski")
    join_team(fieldwork_id, anna, bartek)
    cases = {ext[0]: case_id_of(app, fieldwork_id, ext) for ext, _, _ in UNITS}
    calls = {
        "A1": make_call(app, cases["A"], anna, "no_answer", MORNING, 2),
        "B1": make_call(
            app,
            cases["B"],
            anna,
            "hard_refusal",
            MORNING + timedelta(minutes=10),
            5,
            note="Nie będą udzielać wywiadów",
        ),
        "A2": make_call(app, cases["A"], anna, "complete", MORNING + timedelta(hours=1), 20),
        "C1": make_call(app, cases["C"], bartek, "no_answer", MORNING, 1),
        "D1": make_call(
            app,
            cases["D"],
            bartek,
            "institution_closed",
            MORNING + timedelta(minutes=5),
            2,
            note="Zlikwidowany w 2025 r.",
        ),
        "E1": make_call(
            app,
            cases["E"],
            bartek,
            "appointment",
            MORNING + timedelta(minutes=20),
            5,
            appointment=AppointmentRequest(
                starts_at=APPOINTMENT_START,
                ends_at=APPOINTMENT_START + timedelta(minutes=30),
                for_me=False,
                with_whom="Pani Kowalska, kierownik",
            ),
        ),
    }
    return {
        "fieldwork": fieldwork_id,
        "anna": anna,
        "bartek": bartek,
        "cases": cases,
        "calls": calls,
    }


@pytest.fixture
def supervisor(login_as):
    return login_as(Role.SUPERVISOR)
