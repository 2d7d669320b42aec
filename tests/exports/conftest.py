"""Fixtures of the export tests: a fieldwork of the small every-type survey, exported."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app.domain.questionnaire.answers import DONT_KNOW, REFUSED, answers_to_json
from app.fieldwork import services as fieldwork_services
from app.models.fieldwork import Response, SampleUnit
from app.models.surveys import questionnaire_of
from app.surveys import services as survey_services
from tests.support.exports import ADDED, CMD, DEFINITION, HYPERLINK, SUM, Setup, moment


@pytest.fixture
def exported(app: Flask, clock, tmp_path: Path) -> Setup:
    """A fieldwork of the test survey with three responses, one under a second version."""
    v1 = tmp_path / "eksport_test.yaml"
    v1.write_text(DEFINITION % {"version": "1", "added": ""}, encoding="utf-8")
    v2 = tmp_path / "eksport_test_v2.yaml"
    v2.write_text(DEFINITION % {"version": "2", "added": ADDED}, encoding="utf-8")
    database = app.extensions["ankieta.db"]
    with database.session() as session:
        loaded = survey_services.load_file(session, v1)
        assert loaded.ok, [str(p) for p in loaded.problems]
        fieldwork = fieldwork_services.create_fieldwork(session, "eksport_test", "Eksport 2026")
        sample = "\n".join(
            [
                "external_id;name;entity_type;subregion;gmina;phone",
                "007;Klub Integracji Społecznej w Żorach;KIS;południowy;Żory;032 123 45 67",
                "008;Centrum Integracji Społecznej w Gliwicach;CIS;centralny;Gliwice;032 123 45 68",
                "009;Gmina Łódź;JST;centralny;Łódź;032 123 45 69",
            ]
        )
        imported = fieldwork_services.import_sample(
            session, fieldwork, sample.encode("utf-8"), "sample.csv", now=clock()
        )
        assert imported.ok
        fieldwork.open(clock())
        loaded2 = survey_services.load_file(session, v2)
        assert loaded2.status == "new_version", loaded2.problems
        units = {
            u.external_id: u
            for u in session.scalars(
                select(SampleUnit).where(SampleUnit.fieldwork_id == fieldwork.id)
            )
        }
        q1 = questionnaire_of(fieldwork.survey_version)
        q2 = questionnaire_of(loaded2.version)
        rows = [
            Response(
                fieldwork_id=fieldwork.id,
                sample_unit_id=units["007"].id,
                survey_version_id=fieldwork.survey_version_id,
                answers=answers_to_json(
                    q1,
                    {
                        "nazwa": HYPERLINK,
                        "kod": "007",
                        "liczba": 5,
                        "kwota": Decimal("12.5"),
                        "data": date(2026, 3, 1),
                        "filtr": "1",
                        "obszary": ("01", "inny"),
                        "obszary_other": CMD,
                        "m_r1": "2",
                        "m_r2": DONT_KNOW,
                    },
                ),
                status="complete",
                via_web=True,
                started_at=moment(10, 8),
                completed_at=moment(10, 8, 30),
                updated_at=moment(10, 8, 30),
            ),
            Response(
                fieldwork_id=fieldwork.id,
                sample_unit_id=units["008"].id,
                survey_version_id=fieldwork.survey_version_id,
                answers=answers_to_json(
                    q1,
                    {
                        "nazwa": SUM,
                        "kod": "-5",
                        "liczba": REFUSED,
                        "filtr": "2",
                        "obszary": ("02",),  # kept, but irrelevant once filtr = 2
                    },
                ),
                status="in_progress",
                via_phone=True,
                started_at=moment(12, 9),
                updated_at=moment(12, 9, 10),
            ),
            Response(
                fieldwork_id=fieldwork.id,
                sample_unit_id=units["009"].id,
                survey_version_id=loaded2.version.id,
                answers=answers_to_json(
                    q2, {"liczba": 1, "nowe": 7, "filtr": "1", "obszary": DONT_KNOW}
                ),
                status="complete",
                via_web=True,
                via_phone=True,
                started_at=moment(14, 10),
                completed_at=moment(14, 11, 15),
                updated_at=moment(14, 11, 15),
            ),
        ]
        session.add_all(rows)
        session.flush()
        return Setup(fieldwork.id, [r.id for r in rows])
