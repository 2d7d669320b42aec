"""Dates a person types are bounded everywhere: a clear message, never a 500 (issue #16)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.models.cati import Appointment
from app.models.fieldwork import Fieldwork
from app.models.jobs import ExportJob
from app.models.users import Role
from tests.support import database, page_text

RANGE = "Podaj datę od 01.01.1900 do 31.12.2100."
OUT_OF_RANGE = ["01.01.0001", "31.12.1899", "31.12.9999"]


@pytest.mark.parametrize("day", OUT_OF_RANGE)
def test_an_appointment_outside_the_range_is_refused_clearly(
    join_team, app, client, make_fieldwork, login_as, day
) -> None:
    fieldwork_id = make_fieldwork("jst_gmina", units=[("G-1", "Gmina Biała", {})])
    join_team(fieldwork_id, login_as(Role.INTERVIEWER))
    taken = client.post(f"/cati/{fieldwork_id}/next", data={})
    case_id = int(re.search(r"/cati/case/(\d+)", taken.location).group(1))
    refused = client.post(
        f"/cati/case/{case_id}/outcome",
        data={
            "outcome": "appointment",
            "appointment_date": day,
            "appointment_from": "10:00",
            "appointment_to": "11:00",
        },
    )
    assert refused.status_code == 400
    assert RANGE in page_text(refused)
    with database(app).session() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 0


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_date_filters_and_settings_outside_the_range_are_refused_clearly(
    app, client, make_fieldwork, login_as, day
) -> None:
    fieldwork_id = make_fieldwork("jst_gmina", state="closed")
    login_as(Role.ADMIN)
    for field in ("since", "until"):
        audit = client.get(f"/admin/audit?{field}={day}")
        assert audit.status_code == 400 and RANGE in page_text(audit), field
    export = client.post(
        f"/fieldwork/{fieldwork_id}/files",
        data={"kind": "responses", "date_from": day, "date_to": "2026-03-01"},
    )
    assert export.status_code == 400 and RANGE in page_text(export)
    retention = client.post(
        f"/fieldwork/{fieldwork_id}/retention", data={"until": day}, follow_redirects=True
    )
    assert RANGE in page_text(retention)
    with database(app).session() as session:
        assert session.get(Fieldwork, fieldwork_id).retain_contacts_until is None
        assert session.scalar(select(func.count()).select_from(ExportJob)) == 0


def test_command_line_dates_outside_the_range_are_refused(app, runner) -> None:
    result = runner.invoke(
        args=["fieldwork", "create", "jst_gmina", "--title", "Badanie", "--opens", "01.01.0001"]
    )
    assert result.exit_code != 0
    assert "Podaj datę od 01.01.1900 do 31.12.2100." in result.output
    assert "Traceback" not in result.output
