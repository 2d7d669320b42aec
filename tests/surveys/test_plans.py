"""Monitoring plans loaded next to the questionnaires: by `surveys load` and from the web."""

from __future__ import annotations

import io
from pathlib import Path

from app.models.surveys import MonitoringPlan
from app.models.users import Role
from tests.support import count_rows, page_text
from tests.support.small_survey import MINIMAL

PLAN = """\
plan:
  id: plan_proby
  title: {pl: Plan próby, en: Test plan}
areas:
  - {code: "1", name: Integracja}
indicators:
  - id: suma_liczb
    area: "1"
    name: Suma liczb
    questionnaire: proba
    measure: sum
    value: "${liczba}"
    targets: {2026: 100}
"""


def _upload(client, content: bytes, filename: str):
    return client.post(
        "/surveys/",
        data={"definition": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def test_surveys_load_stores_the_questionnaires_then_the_plan(app, runner, tmp_path: Path):
    (tmp_path / "proba.yaml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "plan.yaml").write_text(PLAN, encoding="utf-8")
    first = runner.invoke(args=["surveys", "load", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert "plan.yaml: wczytano plan plan_proby" in first.output
    assert count_rows(app, MonitoringPlan) == 1
    again = runner.invoke(args=["surveys", "load", str(tmp_path)])
    assert "plan.yaml: bez zmian (plan plan_proby)" in again.output
    (tmp_path / "plan.yaml").write_text(PLAN.replace("${liczba}", "${brak}"), "utf-8")
    refused = runner.invoke(args=["surveys", "load", str(tmp_path / "plan.yaml")])
    assert refused.exit_code == 1
    assert "plan.yaml:12: pozycja suma_liczb: value odwołuje się do ${brak}" in refused.output
    assert count_rows(app, MonitoringPlan) == 1


def test_an_analyst_uploads_a_plan_and_sees_it_listed(client, login_as) -> None:
    login_as(Role.ANALYST)
    before = _upload(client, PLAN.encode(), "plan.yaml")  # its questionnaire is not loaded
    assert before.status_code == 400
    text = page_text(before)
    assert "Nie ma ankiety proba" in text and "niczego nie zapisano" in text
    assert _upload(client, MINIMAL.encode(), "proba.yaml").status_code == 302
    loaded = _upload(client, PLAN.encode(), "plan.yaml")
    assert loaded.status_code == 302
    page = page_text(client.get(loaded.location))
    assert "Plan próby" in page and "plan_proby" in page
    assert "Wczytano plan monitoringu plan_proby" in page
