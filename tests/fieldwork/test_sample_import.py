"""A large sample file is imported in the background: bounded memory, progress, all or nothing.

(The 100,000-row figures come from bench/sample_import.py; here a few thousand rows go
through the same code with the background threshold set low.)
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from app.fieldwork import imports
from app.fieldwork import services as fieldwork_services
from app.models.audit import AuditEvent
from app.models.cati import Case
from app.models.fieldwork import ContactPhone, SampleUnit
from app.models.jobs import SampleImport
from app.models.users import Role
from bench._load import sample_csv
from tests.support import database, page_text


def _counts(app) -> tuple[int, int, int]:
    with database(app).session() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (SampleUnit, Case, ContactPhone)
        )


def _upload(client, fieldwork_id: int, data: bytes, name: str = "proba.csv"):
    return client.post(
        f"/fieldwork/{fieldwork_id}/sample",
        data={"sample": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _empty_fieldwork(app, units: str = "") -> int:
    """A draft fieldwork of the JST survey, with ``units`` (a CSV sample) or none."""
    from app.surveys import services as survey_services
    from tests.support import SHIPPED

    with database(app).session() as session:
        loaded = survey_services.load_file(session, SHIPPED / "jst_gmina.yaml")
        fieldwork = fieldwork_services.create_fieldwork(session, loaded.survey.code, "Duża próba")
        if units:
            assert fieldwork_services.import_sample(
                session, fieldwork, units.encode(), "s.csv", now=fieldwork.created_at
            ).ok
        return fieldwork.id


@pytest.fixture
def background(app):
    app.config["SAMPLE_IMPORT_BACKGROUND_BYTES"] = 1024  # every file but a tiny one


def test_a_large_sample_is_imported_in_the_background_with_progress(
    app, client, make_fieldwork, login_as, background
) -> None:
    fieldwork_id = _empty_fieldwork(app)
    login_as(Role.ANALYST)
    answer = _upload(client, fieldwork_id, sample_csv(2_500))
    assert answer.status_code == 302 and "/sample-imports/" in answer.location
    imports.wait(app)
    status = client.get(answer.location)
    assert status.status_code == 200
    assert "Zaimportowane instytucje: 2500." in page_text(status), page_text(status)[:500]
    assert _counts(app) == (2_500, 2_500, 2_500)
    with database(app).session() as session:
        job = session.scalar(select(SampleImport))
        assert (job.state, job.total, job.done, job.data) == ("done", 2_500, 2_500, b"")
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "sample.imported"))
        assert event.detail == {"file": "proba.csv", "institutions": 2_500}
        assert event.actor == "analyst1"


def test_a_large_sample_with_a_bad_row_stores_nothing_and_names_the_row(
    app, client, make_fieldwork, login_as, background
) -> None:
    fieldwork_id = _empty_fieldwork(app)
    login_as(Role.ANALYST)
    data = sample_csv(3_000).replace(b"cis2999@example.org", b"not-an-address")
    answer = _upload(client, fieldwork_id, data)  # checked at once, rows streamed
    assert answer.status_code == 400
    text = page_text(answer)
    assert "niczego nie zaimportowano" in text.lower()
    assert "wiersz 3000, kolumna e-mail" in text, text[:600]
    assert _counts(app) == (0, 0, 0)
    with database(app).session() as session:
        assert session.scalar(select(func.count()).select_from(SampleImport)) == 0


def test_an_import_that_fails_half_way_leaves_nothing_of_the_file(
    app, client, make_fieldwork, login_as, background, monkeypatch
) -> None:
    fieldwork_id = _empty_fieldwork(app, "id;nazwa;telefon\nX-1;Już jest;32 123 45 67\n")
    login_as(Role.ANALYST)
    insert_rows = fieldwork_services._insert_rows
    batches = []

    def failing(session, *args):
        batches.append(1)
        if len(batches) == 3:
            raise RuntimeError("disk full (simulated)")
        insert_rows(session, *args)

    monkeypatch.setattr(fieldwork_services, "_insert_rows", failing)
    answer = _upload(client, fieldwork_id, sample_csv(2_500))
    imports.wait(app)
    assert "nic z niego nie zostało zapisane" in page_text(client.get(answer.location)).lower()
    assert _counts(app) == (1, 1, 1)  # what was there before, nothing of the file
    with database(app).session() as session:
        assert session.scalar(select(SampleImport.state)) == "failed"


def test_a_second_import_waits_for_the_first(
    app, client, make_fieldwork, login_as, background, clock
) -> None:
    fieldwork_id = _empty_fieldwork(app)
    analyst = login_as(Role.ANALYST)
    with database(app).session() as session:
        from app.models.fieldwork import Fieldwork

        imports.start(
            session, session.get(Fieldwork, fieldwork_id), analyst.id, b"x", "a.csv", clock()
        )
    refused = _upload(client, fieldwork_id, sample_csv(100))
    assert refused.status_code == 409
    assert "trwa import innego pliku" in page_text(refused).lower()
    clock.advance(minutes=3)  # its server died: the heartbeat stopped, no longer in the way
    assert _upload(client, fieldwork_id, sample_csv(100)).status_code == 302
    imports.wait(app)


def test_a_small_sample_is_still_imported_at_once(app, client, make_fieldwork, login_as) -> None:
    fieldwork_id = _empty_fieldwork(app)
    login_as(Role.ANALYST)
    answer = _upload(client, fieldwork_id, sample_csv(20))
    assert answer.status_code == 302 and answer.location.endswith(f"/fieldwork/{fieldwork_id}")
    assert _counts(app) == (20, 20, 20)


def test_the_command_line_stores_in_batches_and_all_or_nothing(
    app, runner, tmp_path, monkeypatch
) -> None:
    fieldwork_id = _empty_fieldwork(app)
    path = tmp_path / "proba.csv"
    path.write_bytes(sample_csv(2_500))
    transactions = []
    insert_rows = fieldwork_services._insert_rows

    def counting(session, *args):
        transactions.append(session)  # kept alive: distinct objects, distinct ids
        if len(transactions) == 3 and fail:
            raise RuntimeError("disk full (simulated)")
        insert_rows(session, *args)

    monkeypatch.setattr(fieldwork_services, "_insert_rows", counting)
    fail = True
    result = runner.invoke(args=["sample", "import", str(fieldwork_id), str(path)])
    assert result.exit_code != 0
    assert _counts(app) == (0, 0, 0)
    transactions.clear()
    fail = False
    result = runner.invoke(args=["sample", "import", str(fieldwork_id), str(path)])
    assert result.exit_code == 0, result.output
    assert "Instytucje zaimportowane do badania" in result.output
    assert ": 2500." in result.output
    assert _counts(app) == (2_500, 2_500, 2_500)
    assert len({id(s) for s in transactions}) == 3  # one transaction per 1,000 rows


def test_the_fieldwork_page_lists_a_large_sample_only_in_part(
    app, client, login_as, monkeypatch
) -> None:
    from app.fieldwork import screens

    monkeypatch.setattr(screens, "UNITS_SHOWN", 50)
    fieldwork_id = _empty_fieldwork(app, sample_csv(120).decode())
    login_as(Role.ANALYST)
    page = client.get(f"/fieldwork/{fieldwork_id}")
    assert page.status_code == 200
    listed = re.findall(r"<td>(\d{6})</td>", page.get_data(as_text=True))
    assert len(listed) == 50
    assert "Pierwsze 50 instytucji" in page_text(page)
    small = client.get(f"/fieldwork/{fieldwork_id}?gmina=Żory&subregion=zachodni")
    assert small.status_code == 200
