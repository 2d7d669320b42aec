"""The monitoring pages in Chromium: indicators, progress and rates pass axe-core."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import expect
from sqlalchemy import select

from app.models.fieldwork import Fieldwork, Response, ResponseStatus, SampleUnit
from app.models.users import Role
from app.platform.accounts import create_user
from app.surveys import services as survey_services
from tests.browser.screens import log_in
from tests.support import TEST_PASSWORD

PLAN = """\
plan:
  id: plan_przegladarka
  title: Plan do testu przeglądarki
areas:
  - {code: "1", name: Integracja}
indicators:
  - id: udzial_cis
    area: "1"
    name: Odsetek CIS
    questionnaire: monitoring_cis_kis
    measure: share
    value: "${a1} = 'cis'"
    targets: {2026: 60}
"""


def test_the_monitoring_pages_pass_axe(page, live_server, new_link, assert_accessible):
    with live_server.app.extensions["ankieta.db"].session() as session:
        create_user(
            session,
            "analityk-wskazniki",
            Role.ANALYST,
            password=TEST_PASSWORD,
            must_change_password=False,
        )
        fieldwork = session.scalars(
            select(Fieldwork).where(Fieldwork.title == "Monitoring 2026 (monitoring_cis_kis)")
        ).one()
        # two institutions of its own: their links are taken out of the shared pool
        tokens = [new_link("monitoring_cis_kis").rsplit("/", 1)[-1] for _ in range(2)]
        units = session.scalars(
            select(SampleUnit).where(SampleUnit.token.in_(tokens)).order_by(SampleUnit.id)
        ).all()
        for day, (unit, kind) in enumerate(zip(units, ["cis", "kis"], strict=True), start=3):
            session.add(
                Response(
                    fieldwork_id=fieldwork.id,
                    sample_unit_id=unit.id,
                    survey_version_id=fieldwork.survey_version_id,
                    answers={"a1": kind},
                    status=ResponseStatus.COMPLETE.value,
                    completed_at=datetime(2026, 3, day, 10, tzinfo=UTC),
                )
            )
        assert survey_services.load_plan_bytes(session, PLAN.encode(), "plan.yaml").ok
        fieldwork_id = fieldwork.id
    log_in(page, live_server, "analityk-wskazniki")
    page.get_by_role("link", name="Wskaźniki").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wskaźniki")
    assert_accessible(page, "the monitoring overview")
    page.goto(f"{live_server.url}/monitoring/{fieldwork_id}")
    expect(page.get_by_role("heading", name="Postęp w czasie")).to_be_visible()
    expect(page.locator("img.chart").first).to_be_visible()
    # one CIS of two complete responses: 50 %, target 60 % -> 83,3 % achieved
    expect(page.get_by_role("row", name="Odsetek CIS").first).to_contain_text("83,3%")
    assert_accessible(page, "the monitoring page of a fieldwork")


def test_the_monitoring_pages_pass_axe_for_an_owes_coordinator(
    page, live_server, new_link, assert_accessible
):
    with live_server.app.extensions["ankieta.db"].session() as session:
        fieldwork = session.scalars(
            select(Fieldwork).where(Fieldwork.title == "Monitoring 2026 (monitoring_cis_kis)")
        ).one()
        token = new_link("monitoring_cis_kis").rsplit("/", 1)[-1]
        unit = session.scalars(select(SampleUnit).where(SampleUnit.token == token)).one()
        unit.subregion = "zachodni"  # ours (out of the shared pool); the others are elsewhere
        session.add(
            Response(
                fieldwork_id=fieldwork.id,
                sample_unit_id=unit.id,
                survey_version_id=fieldwork.survey_version_id,
                answers={"a1": "cis"},
                status=ResponseStatus.COMPLETE.value,
                completed_at=datetime(2026, 3, 6, 10, tzinfo=UTC),
            )
        )
        assert survey_services.load_plan_bytes(session, PLAN.encode(), "plan.yaml").ok
        subregion = unit.subregion
        others = set(
            session.scalars(
                select(SampleUnit.subregion).where(
                    SampleUnit.fieldwork_id == fieldwork.id, SampleUnit.subregion != subregion
                )
            )
        )
        create_user(
            session,
            "owes-wskazniki",
            Role.COORDINATOR,
            password=TEST_PASSWORD,
            must_change_password=False,
            subregions=[subregion],
        )
        fieldwork_id = fieldwork.id
    assert subregion and others  # the sample has other subregions the coordinator must not see
    log_in(page, live_server, "owes-wskazniki")
    page.get_by_role("link", name="Wskaźniki").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wskaźniki")
    assert_accessible(page, "the monitoring overview of an OWES coordinator")
    page.goto(f"{live_server.url}/monitoring/{fieldwork_id}")
    expect(page.get_by_role("heading", name="Postęp w czasie")).to_be_visible()
    by_subregion = page.locator("section[aria-labelledby='rates-subregion'] table")
    expect(by_subregion).to_contain_text(subregion)
    for other in others:
        expect(by_subregion).not_to_contain_text(other)
    assert_accessible(page, "the monitoring page of a fieldwork, for an OWES coordinator")
    for url in (f"/fieldwork/{fieldwork_id}", f"/supervise/{fieldwork_id}"):
        page.goto(f"{live_server.url}{url}")
        assert_accessible(page, f"{url} for an OWES coordinator")
