"""Results files prepared in the background: progress, reuse, failure, staleness, access.

The worker thread is real; tests that need to see a job half-way hold it on an event
planted in the export's progress callback.
"""

from __future__ import annotations

import io
import threading
import time

import openpyxl
import pytest
from sqlalchemy import select

from app.exports import jobs
from app.models.audit import AuditEvent
from app.models.jobs import ExportChunk, ExportJob
from app.models.users import Role
from tests.support import count_rows
from tests.support.files import prepare_file, wait_for_file


@pytest.fixture
def fieldwork_id(app, runner, make_fieldwork):
    units = [(f"U-{n:03d}", f"Instytucja {n}", {}) for n in range(30)]
    fieldwork = make_fieldwork(units=units)
    result = runner.invoke(args=["demo-data", str(fieldwork), "--responses", "30", "--seed", "1"])
    assert result.exit_code == 0, result.output
    return fieldwork


class Gate:
    """Holds the export after its first row until released (and says when it got there)."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()

    def install(self, monkeypatch) -> None:
        original = jobs.write_xlsx

        def held(*args, progress=None, **kwargs):
            def step(rows: int) -> None:
                progress(rows)
                if not self.reached.is_set():
                    self.reached.set()
                    assert self.release.wait(30), "the test never released the export"

            return original(*args, progress=step, **kwargs)

        monkeypatch.setattr(jobs, "write_xlsx", held)
        monkeypatch.setattr(jobs, "HEARTBEAT_SECONDS", 0.05)


def test_file_is_prepared_while_the_server_keeps_answering(
    app, client, login_as, fieldwork_id, monkeypatch
):
    gate = Gate()
    gate.install(monkeypatch)
    login_as(Role.ANALYST)
    asked = client.post(f"/fieldwork/{fieldwork_id}/files", data={"kind": "responses"})
    assert asked.status_code == 302  # answered at once, with the export still to run
    job_page = asked.headers["Location"]
    assert gate.reached.wait(30)
    # the export is in the middle of its rows: other pages are served, progress is visible
    assert client.get(f"/fieldwork/{fieldwork_id}").status_code == 200
    running = wait_for_file(client, job_page, states=("running",))
    deadline = time.monotonic() + 10
    while running["done"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
        running = client.get(f"{job_page}/status").get_json()
    assert running["total"] == 30 and 1 <= running["done"] < 30
    page = client.get(job_page).get_data(as_text=True)
    assert "<progress" in page and 'role="status"' in page
    gate.release.set()
    done = wait_for_file(client, job_page)
    assert done["state"] == "done" and done["done"] == 30
    with client.get(done["download"]) as download:
        workbook = openpyxl.load_workbook(io.BytesIO(download.get_data()), read_only=True)
    assert workbook["Odpowiedzi"].max_row == 31


def test_a_double_click_reuses_the_job_being_prepared(
    app, client, login_as, fieldwork_id, monkeypatch
):
    gate = Gate()
    gate.install(monkeypatch)
    login_as(Role.ANALYST)
    first = client.post(f"/fieldwork/{fieldwork_id}/files", data={"kind": "responses"})
    assert gate.reached.wait(30)
    again = client.post(f"/fieldwork/{fieldwork_id}/files", data={"kind": "responses"})
    other = client.post(
        f"/fieldwork/{fieldwork_id}/files", data={"kind": "responses", "labels": "y"}
    )
    assert again.headers["Location"] == first.headers["Location"]
    assert other.headers["Location"] != first.headers["Location"]
    gate.release.set()
    assert wait_for_file(client, first.headers["Location"])["state"] == "done"
    assert wait_for_file(client, other.headers["Location"])["state"] == "done"
    assert count_rows(app, ExportJob) == 2


def test_large_file_is_stored_in_chunks_and_sent_whole(
    app, client, login_as, fieldwork_id, monkeypatch
):
    monkeypatch.setattr(jobs, "CHUNK_BYTES", 4096)
    login_as(Role.ANALYST)
    body = prepare_file(client, fieldwork_id)
    assert count_rows(app, ExportChunk) == -(-len(body) // 4096) > 1
    workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    assert workbook.sheetnames == [
        "Odpowiedzi",
        "Partner",  # the list of partners (monitoring_cis_kis), a sheet of its own
        "Książka kodowa",
        "Kategorie",
        "Połączenia",
        "Wyniki końcowe",
        "Kontakty",
    ]


def test_a_failed_build_says_so_and_keeps_no_half_file(
    app, client, login_as, fieldwork_id, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(jobs, "write_xlsx", broken)
    login_as(Role.ANALYST)
    asked = client.post(f"/fieldwork/{fieldwork_id}/files", data={"kind": "responses"})
    status = wait_for_file(client, asked.headers["Location"])
    assert status["state"] == "failed" and status["download"] == ""
    assert "spróbuj" in status["error"].lower() or "try again" in status["error"].lower()
    assert "disk full" not in status["error"]  # details go to the log, not to the user
    assert count_rows(app, ExportChunk) == 0
    # asking for the file of a failed job leads back to its page, which says why
    download = client.get(f"{asked.headers['Location']}/download")
    assert download.status_code == 302
    assert status["error"] in client.get(asked.headers["Location"]).get_data(as_text=True)


def test_a_job_whose_server_died_is_reported_failed_and_can_be_asked_again(
    app, client, login_as, fieldwork_id, clock
):
    user = login_as(Role.ANALYST)
    with app.extensions["ankieta.db"].session() as session:
        from app.models.fieldwork import Fieldwork

        fieldwork = session.get(Fieldwork, fieldwork_id)
        # a job left "running" by a process that was killed: nobody will finish it
        job, new = jobs.create_job(session, fieldwork, user.id, "responses", {}, clock())
        job.state = "running"
        key = job.key
    assert new
    assert client.get(f"/files/{key}/status").get_json()["state"] == "running"
    clock.advance(minutes=3)
    status = client.get(f"/files/{key}/status").get_json()
    assert status["state"] == "failed" and status["error"]
    files = client.get(f"/fieldwork/{fieldwork_id}/files").get_data(as_text=True)
    assert status["error"] in files
    # asking again (same options) starts a new job instead of waiting for the dead one
    options = jobs.export_options_to_json(jobs.ExportOptions())
    asked = client.post(f"/fieldwork/{fieldwork_id}/files", data={"kind": "responses"})
    assert asked.headers["Location"] != f"/files/{key}"
    assert wait_for_file(client, asked.headers["Location"])["state"] == "done"
    assert options  # the web form's default options are the plain export's


def test_files_are_their_owners_only_and_expire(
    app, client, auth, make_user, login_as, fieldwork_id, clock
):
    login_as(Role.ANALYST)
    asked = client.post(f"/fieldwork/{fieldwork_id}/files", data={"kind": "report"})
    job_page = asked.headers["Location"]
    assert wait_for_file(client, job_page)["state"] == "done"
    auth.logout()
    make_user("analyst2", Role.ANALYST)
    auth.login("analyst2")
    for suffix in ("", "/status", "/download"):
        assert client.get(f"{job_page}{suffix}").status_code == 404
    assert client.get("/files/not-a-key/status").status_code == 404
    # a day later the file is gone: the next request purges it
    clock.advance(hours=25)
    again = client.post(f"/fieldwork/{fieldwork_id}/files", data={"kind": "report"})
    assert wait_for_file(client, again.headers["Location"])["state"] == "done"
    with app.extensions["ankieta.db"].session() as session:
        keys = session.scalars(select(ExportJob.key)).all()
    assert [f"/files/{key}" for key in keys] == [again.headers["Location"]]


def test_downloads_are_audited(app, client, login_as, fieldwork_id):
    login_as(Role.ANALYST)
    prepare_file(client, fieldwork_id, kind="report", by="subregion")
    prepare_file(client, fieldwork_id, kind="csv", complete_only="y")
    with app.extensions["ankieta.db"].session() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("%.downloaded")).order_by(AuditEvent.id)
        ).all()
    assert [(e.action, e.actor, e.fieldwork_id) for e in events] == [
        ("report.downloaded", "analyst1", fieldwork_id),
        ("export.downloaded", "analyst1", fieldwork_id),
    ]
    assert events[0].detail["by"] == "subregion"
    assert events[1].detail["format"] == "csv" and events[1].detail["complete_only"] is True


def test_csv_is_prepared_as_a_file_with_the_same_filters(app, client, login_as, fieldwork_id):
    login_as(Role.ANALYST)
    asked = client.post(
        f"/fieldwork/{fieldwork_id}/files",
        data={"kind": "csv", "complete_only": "y", "date_from": "2026-01-01"},
    )
    assert asked.status_code == 302 and asked.headers["Location"].startswith("/files/")
    status = wait_for_file(client, asked.headers["Location"])
    assert status["state"] == "done", status
    with app.extensions["ankieta.db"].session() as session:
        job = session.scalar(select(ExportJob).order_by(ExportJob.id.desc()))
        assert (job.kind, job.file_name) == (
            "csv",
            # the questionnaire has a list: one CSV per sheet, zipped
            f"odpowiedzi-badanie-{fieldwork_id}-kompletne-od-2026-01-01.zip",
        )
        assert job.options["complete_only"] is True
        assert job.options["date_from"] == "2026-01-01"
    bad = client.post(
        f"/fieldwork/{fieldwork_id}/files",
        data={"kind": "responses", "date_from": "2026-02-01", "date_to": "2026-01-01"},
    )
    assert bad.status_code == 400 and 'id="date_to-error"' in bad.get_data(as_text=True)
    assert count_rows(app, ExportJob) == 1  # the CSV's, and no more
    # for tools: the dialect is an option of the job, and the file's name says it
    tools = client.post(
        f"/fieldwork/{fieldwork_id}/files", data={"kind": "csv", "csv_dialect": "rfc4180"}
    )
    assert wait_for_file(client, tools.headers["Location"])["state"] == "done"
    with app.extensions["ankieta.db"].session() as session:
        job = session.scalar(select(ExportJob).order_by(ExportJob.id.desc()))
        assert job.options["csv_dialect"] == "rfc4180"
        assert job.file_name == f"odpowiedzi-badanie-{fieldwork_id}-rfc4180.zip"
