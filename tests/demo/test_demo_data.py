"""`ankieta demo-data`: synthetic responses stored as demo, on both databases."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlalchemy import func, select

from app.demo.services import DEMO_PHONE_CASES, ensure_demo_fieldwork
from app.domain.dates import local_date
from app.domain.questionnaire.answers import answers_from_json
from app.models.cati import Case
from app.models.fieldwork import Fieldwork, Response, ResponseStatus, SampleUnit
from app.models.surveys import flow_of


def _responses(app: Flask, fieldwork_id: int) -> list[Response]:
    with app.extensions["ankieta.db"].session() as session:
        rows = session.scalars(
            select(Response).where(Response.fieldwork_id == fieldwork_id).order_by(Response.id)
        ).all()
        session.expunge_all()
        return list(rows)


def _count(app: Flask, model, fieldwork_id: int) -> int:
    with app.extensions["ankieta.db"].session() as session:
        return session.scalar(
            select(func.count()).select_from(model).where(model.fieldwork_id == fieldwork_id)
        )


def _as_utc(moment: datetime, clock_now: datetime) -> datetime:
    """SQLite gives naive datetimes back: read them as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=clock_now.tzinfo)


def test_demo_data_creates_valid_demo_responses(app, runner, make_fieldwork, clock) -> None:
    fieldwork_id = make_fieldwork("monitoring_cis_kis")
    result = runner.invoke(
        args=["demo-data", str(fieldwork_id), "--responses", "12", "--seed", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "Utworzone odpowiedzi demonstracyjne w badaniu " in result.output
    assert ": 12 (pełne: " in result.output
    responses = _responses(app, fieldwork_id)
    assert len(responses) == 12
    assert all(r.is_demo for r in responses)
    assert all(r.via_web != r.via_phone for r in responses)
    # the two sampled institutions were used, ten more were added, each with a call case
    assert _count(app, SampleUnit, fieldwork_id) == 12
    assert _count(app, Case, fieldwork_id) == 12
    assert len({r.sample_unit_id for r in responses}) == 12
    with app.extensions["ankieta.db"].session() as session:
        fieldwork = session.get(Fieldwork, fieldwork_id)
        flow = flow_of(fieldwork.survey_version)
        for response in responses:
            unit = session.get(SampleUnit, response.sample_unit_id)
            completed = _as_utc(response.completed_at or response.updated_at, clock.now)
            assert _as_utc(response.started_at, clock.now) <= completed <= clock.now
            answers = answers_from_json(flow.questionnaire, response.answers, flow.variables)
            state = flow.state(answers, sample=unit.sample_variables(), today=local_date(completed))
            if response.status == ResponseStatus.COMPLETE:
                assert flow.problems(state) == {}
            assert "@aside" not in answers


def test_demo_data_is_deterministic_and_a_second_run_adds_more(app, runner, make_fieldwork) -> None:
    first = make_fieldwork("owes_polroczne", title="A")
    second = make_fieldwork("owes_polroczne", title="B")
    for fieldwork_id in (first, second):
        result = runner.invoke(
            args=["demo-data", str(fieldwork_id), "--responses", "5", "--seed", "3"]
        )
        assert result.exit_code == 0, result.output
    one, two = _responses(app, first), _responses(app, second)
    assert [r.answers for r in one] == [r.answers for r in two]
    assert [(r.status, r.via_web, r.started_at) for r in one] == [
        (r.status, r.via_web, r.started_at) for r in two
    ]
    again = runner.invoke(args=["demo-data", str(first), "--responses", "4", "--seed", "3"])
    assert again.exit_code == 0, again.output
    after = _responses(app, first)
    assert len(after) == 9 and all(r.is_demo for r in after)
    # the run continues the sequence rather than repeating the first answers
    assert [r.answers for r in after[5:]] != [r.answers for r in one[:4]]


def test_demo_data_stores_the_entries_of_lists_within_their_counts(
    app, runner, make_fieldwork
) -> None:
    fieldwork_id = make_fieldwork("owes_polroczne")
    result = runner.invoke(args=["demo-data", str(fieldwork_id), "--responses", "6", "--seed", "2"])
    assert result.exit_code == 0, result.output
    enterprises = [
        each
        for response in _responses(app, fieldwork_id)
        if response.status == ResponseStatus.COMPLETE
        for each in response.answers.get("przedsiebiorstwa", [])
    ]
    assert enterprises  # jobs were created somewhere, so enterprises were listed
    for enterprise in enterprises:
        assert enterprise["pe_nazwa"] and enterprise["pe_forma"]
        # the nested list of jobs is as long as the number of jobs given (a fixed count)
        assert len(enterprise["pe_etaty"]) == enterprise["pe_miejsca"]
        assert all(0 < float(job["pe_wymiar"]) <= 1 for job in enterprise["pe_etaty"])


def test_demo_data_on_every_shipped_survey(app, runner, make_fieldwork) -> None:
    for survey in ("jst_gmina", "ocena_koordynacji", "ops_pcpr", "pes", "pup", "wtz", "zaz"):
        fieldwork_id = make_fieldwork(survey, title=survey)
        result = runner.invoke(args=["demo-data", str(fieldwork_id), "--responses", "3"])
        assert result.exit_code == 0, result.output
        assert len(_responses(app, fieldwork_id)) == 3


def test_demo_data_refuses_an_unknown_fieldwork(app, runner) -> None:
    result = runner.invoke(args=["demo-data", "999", "--responses", "3"])
    assert result.exit_code != 0
    assert "999" in result.output


def test_the_demo_fieldwork_gets_demo_responses_once(app, runner, clock) -> None:
    assert runner.invoke(args=["init"]).exit_code == 0
    for _ in range(2):
        with app.extensions["ankieta.db"].session() as session:
            demo = ensure_demo_fieldwork(session, clock())
    assert demo is not None
    responses = _responses(app, demo.id)
    assert len(responses) == 8
    assert all(r.is_demo for r in responses)
    # the sample is used, its first institutions left free: their links lead to a form
    with app.extensions["ankieta.db"].session() as session:
        units = session.scalars(
            select(SampleUnit).where(SampleUnit.fieldwork_id == demo.id).order_by(SampleUnit.id)
        ).all()
        # then the institutions added for telephone interviews, all without a response
        links = [f"/r/{unit.token}" for unit in units[:2] + units[10:]]
        assert len(units) == 10 + DEMO_PHONE_CASES
        assert {r.sample_unit_id for r in responses} == {unit.id for unit in units[2:10]}
    assert [path for _, path in demo.links] == links


def test_demo_responses_are_flagged_in_the_export(app, runner, make_fieldwork, tmp_path) -> None:
    import openpyxl

    fieldwork_id = make_fieldwork("monitoring_cis_kis")
    made = runner.invoke(args=["demo-data", str(fieldwork_id), "--responses", "3", "--seed", "2"])
    assert made.exit_code == 0, made.output
    real = _responses(app, fieldwork_id)[0]  # made real, for the comparison
    with app.extensions["ankieta.db"].session() as session:
        session.get(Response, real.id).is_demo = False
    out = tmp_path / "odpowiedzi.xlsx"
    exported = runner.invoke(args=["export", str(fieldwork_id), "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    book = openpyxl.load_workbook(out, read_only=True)
    rows = list(book["Odpowiedzi"].iter_rows(values_only=True))
    book.close()
    header = list(rows[0])
    flags = {row[header.index("id_odpowiedzi")]: row[header.index("demo")] for row in rows[1:]}
    assert flags == {r.id: (0 if r.id == real.id else 1) for r in _responses(app, fieldwork_id)}
