"""The indicators page: the plan's values against targets, overall and by subregion."""

from __future__ import annotations

import io
from datetime import date

from sqlalchemy import select

from app.models.fieldwork import Fieldwork, Response, ResponseStatus, SampleUnit
from app.models.users import Role
from tests.support import database, page_text

PLAN = """\
plan:
  id: plan_slaski
  title: {pl: Plan śląski, en: Silesian plan}
areas:
  - {code: "1", name: {pl: Integracja i reintegracja, en: Integration}}
indicators:
  - id: zatrudnieni
    area: "1"
    name: {pl: Absolwenci zatrudnieni u pracodawcy, en: Graduates employed}
    unit: {pl: osoby, en: people}
    questionnaire: monitoring_cis_kis
    measure: sum
    value: "${d1}"
    targets: {2026: 20}
  - id: udzial_cis
    area: "1"
    name: Odsetek CIS wśród jednostek
    questionnaire: monitoring_cis_kis
    measure: share
    value: "${a1} = 'cis'"
"""

UNITS = [
    ("Z-1", "CIS Rybnik", {"subregion": "zachodni", "entity_type": "CIS"}),
    ("Z-2", "KIS Żory", {"subregion": "zachodni", "entity_type": "KIS"}),
    ("P-1", "CIS Częstochowa", {"subregion": "północny", "entity_type": "CIS"}),
    ("P-2", "CIS Lubliniec", {"subregion": "północny", "entity_type": "CIS"}),
]
# external id -> answers of a complete response (P-2 has none: not counted)
ANSWERS = {
    "Z-1": {"a1": "cis", "b2": 10, "d1": 6},
    "Z-2": {"a1": "kis", "b2": 4, "d1": 1},
    "P-1": {"a1": "cis", "b2": 5},  # d1 not answered: missing
}


def _store(app, fieldwork_id: int, *, test: bool = False) -> None:
    with database(app).session() as session:
        units = {
            u.external_id: u
            for u in session.scalars(
                select(SampleUnit).where(SampleUnit.fieldwork_id == fieldwork_id)
            )
        }
        fieldwork = session.get(Fieldwork, fieldwork_id)
        for external_id, answers in ANSWERS.items():
            session.add(
                Response(
                    fieldwork_id=fieldwork_id,
                    sample_unit_id=units[external_id].id,
                    survey_version_id=fieldwork.survey_version_id,
                    answers=answers,
                    status=ResponseStatus.COMPLETE.value,
                    is_test=test,
                )
            )
        fieldwork.closes_on = date(2026, 12, 15)


def test_the_page_shows_each_indicator_against_its_target(app, client, login_as, make_fieldwork):
    fieldwork_id = make_fieldwork(units=UNITS)
    _store(app, fieldwork_id)
    login_as(Role.ANALYST)
    client.post(
        "/surveys/",
        data={"definition": (io.BytesIO(PLAN.encode()), "plan.yaml")},
        content_type="multipart/form-data",
    )
    overview = page_text(client.get("/monitoring/"))
    assert "Plan śląski" in overview and "Monitoring 2026" in overview
    text = page_text(client.get(f"/monitoring/{fieldwork_id}"))
    assert "Obszar priorytetowy 1: Integracja i reintegracja" in text
    # 6 + 1 employed of 3 complete responses, one without an answer; target 20 -> 35%
    row = text[text.index("Absolwenci zatrudnieni u pracodawcy") :]
    assert row.split()[4:11] == ["7", "osoby", "3", "1", "20", "35%", "–"], row[:120]
    # 2 of 3 units are CIS: 66,7%
    assert "Odsetek CIS wśród jednostek 66,7 %" in text
    by_region = text[text.index("Według podregionu") :]
    assert "północny" in by_region and "zachodni" in by_region
    assert "7 osoby" not in by_region  # units are not repeated per subregion
    assert "brak danych (n=1)" in by_region  # północny: its only response did not answer d1


def test_test_responses_do_not_count(app, client, login_as, make_fieldwork):
    fieldwork_id = make_fieldwork(units=UNITS)
    _store(app, fieldwork_id, test=True)
    login_as(Role.ANALYST)
    client.post(
        "/surveys/",
        data={"definition": (io.BytesIO(PLAN.encode()), "plan.yaml")},
        content_type="multipart/form-data",
    )
    text = page_text(client.get(f"/monitoring/{fieldwork_id}"))
    row = text[text.index("Absolwenci zatrudnieni u pracodawcy") :]
    assert row.split()[4:8] == ["brak", "danych", "0", "0"], row[:120]


def test_without_a_plan_the_page_says_how_to_load_one(client, login_as):
    login_as(Role.ANALYST)
    assert "Nie wczytano jeszcze planu monitoringu" in page_text(client.get("/monitoring/"))
    assert client.get("/monitoring/999").status_code == 404
