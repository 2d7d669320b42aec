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
from tests.support.exports import (
    ADDED,
    CMD,
    DEFINITION,
    HYPERLINK,
    REPEATS_DEFINITION,
    SUM,
    Setup,
    moment,
)


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


@pytest.fixture
def repeats(app: Flask, clock) -> Setup:
    """A fieldwork of the repeats questionnaire (tests/support/repeats.yaml) with three
    responses: two partners (the first with two jobs, the second a company whose answer
    to an irrelevant question is stored), a fixed count of two with one stored entry more
    than it allows; one response without partners; one with the repeat's answers stored
    in a shape that is not a list (dropped)."""
    database = app.extensions["ankieta.db"]
    with database.session() as session:
        loaded = survey_services.load_file(session, REPEATS_DEFINITION)
        assert loaded.ok, [str(p) for p in loaded.problems]
        fieldwork = fieldwork_services.create_fieldwork(session, "eksport_powtorzen", "Listy")
        sample = "\n".join(
            [
                "external_id;name;entity_type;subregion;gmina;phone",
                "101;CIS Bytom;CIS;centralny;Bytom;032 123 45 01",
                "102;KIS Rybnik;KIS;rybnicki;Rybnik;032 123 45 02",
                "103;CIS Gliwice;CIS;centralny;Gliwice;032 123 45 03",
            ]
        )
        imported = fieldwork_services.import_sample(
            session, fieldwork, sample.encode("utf-8"), "sample.csv", now=clock()
        )
        assert imported.ok
        fieldwork.open(clock())
        units = {
            u.external_id: u
            for u in session.scalars(
                select(SampleUnit).where(SampleUnit.fieldwork_id == fieldwork.id)
            )
        }
        q = questionnaire_of(fieldwork.survey_version)
        first = {
            "liczba": 2,
            "partnerzy": (
                {
                    "nazwa": "Fundacja Szansa",
                    "typ_partnera": "ngo",
                    "miejsca": 4,  # stored, but irrelevant for an NGO
                    "formy": ("01", "02"),
                    "od": date(2025, 9, 1),
                    "etaty": (
                        {"stanowisko": "Trener", "wymiar": Decimal("0.5")},
                        {"stanowisko": "Doradca", "wymiar": Decimal("1")},
                    ),
                },
                {
                    "nazwa": "Piekarnia Kłos",
                    "typ_partnera": "firma",
                    "miejsca": 3,
                    "formy": DONT_KNOW,
                },
            ),
            "stale": ({"opis": "Klub pracy"}, {}, {"opis": "ponad liczbę"}),
        }
        second = {"liczba": 0, "partnerzy": ({"nazwa": "Gmina Rybnik", "typ_partnera": "jst"},)}
        rows = [
            Response(
                fieldwork_id=fieldwork.id,
                sample_unit_id=units["101"].id,
                survey_version_id=fieldwork.survey_version_id,
                answers=answers_to_json(q, first),
                status="complete",
                via_web=True,
                started_at=moment(10, 8),
                completed_at=moment(10, 8, 30),
                updated_at=moment(10, 8, 30),
            ),
            Response(
                fieldwork_id=fieldwork.id,
                sample_unit_id=units["102"].id,
                survey_version_id=fieldwork.survey_version_id,
                answers=answers_to_json(q, second),
                status="complete",
                via_phone=True,
                started_at=moment(11, 8),
                completed_at=moment(11, 8, 30),
                updated_at=moment(11, 8, 30),
            ),
            Response(
                fieldwork_id=fieldwork.id,
                sample_unit_id=units["103"].id,
                survey_version_id=fieldwork.survey_version_id,
                answers={"liczba": 1, "partnerzy": "not a list"},
                status="in_progress",
                via_web=True,
                started_at=moment(12, 8),
                updated_at=moment(12, 8, 30),
            ),
        ]
        session.add_all(rows)
        session.flush()
        return Setup(fieldwork.id, [r.id for r in rows])
