"""The task queue (app/platform/tasks.py) in the test process: its settings and the workers' checks.

The worker processes themselves are in ``test_workers.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.exports import jobs
from app.models.fieldwork import Fieldwork
from app.models.users import Role
from app.platform.config import ConfigError
from app.platform.tasks import make_huey
from tests.support.files import wait_for_file


def test_the_queue_lives_beside_the_database_unless_told_otherwise(tmp_path: Path):
    sqlite = make_huey({"DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}, tmp_path)
    assert type(sqlite).__name__ == "SqliteHuey"
    assert (tmp_path / "queue.db").exists()
    redis = make_huey(
        {"DATABASE_URL": "sqlite://", "QUEUE_URL": "redis://127.0.0.1:6379/3"}, tmp_path
    )
    assert type(redis).__name__ == "RedisHuey"
    with pytest.raises(ConfigError) as refused:
        make_huey({"DATABASE_URL": "sqlite://", "QUEUE_URL": "amqp://guest:tajne@host"}, tmp_path)
    assert "ANKIETA_QUEUE_URL" in str(refused.value) and "tajne" not in str(refused.value)
    assert "\n" not in str(refused.value)


def test_the_worker_refuses_the_test_suites_in_process_queue(runner):
    result = runner.invoke(args=["worker"])
    assert result.exit_code != 0
    assert "Błąd: ANKIETA_QUEUE_URL=memory służy tylko do testów." in result.output


def test_a_job_whose_worker_died_is_built_again_once_then_reported_failed(
    app, client, login_as, make_fieldwork, clock
):
    user = login_as(Role.ANALYST)
    fieldwork_id = make_fieldwork()
    queue = app.extensions["ankieta.tasks"]

    def abandoned() -> str:
        with app.extensions["ankieta.db"].session() as session:
            fieldwork = session.get(Fieldwork, fieldwork_id)
            job, _ = jobs.create_job(session, fieldwork, user.id, "csv", {}, clock())
            job.state = "running"  # taken by a worker that was then killed
            return job.key

    key = abandoned()
    clock.advance(seconds=150)  # silent past JOB_STALE_SECONDS (120), within the retry window
    assert client.get(f"/files/{key}/status").get_json()["state"] == "queued"
    queue.run_periodic()  # a worker's check puts it back on the queue
    queue.wait()
    assert wait_for_file(client, f"/files/{key}")["state"] == "done"
    with app.extensions["ankieta.db"].session() as session:
        job = session.scalar(jobs.select(jobs.ExportJob).where(jobs.ExportJob.key == key))
        assert job.attempts == 1
        job.state = "running"  # ... and its second worker dies too
        job.heartbeat_at = clock()
    clock.advance(seconds=150)
    with app.app_context():
        assert jobs.recover_stale(app) == []
    status = client.get(f"/files/{key}/status").get_json()
    assert status["state"] == "failed" and status["error"]


def test_a_job_whose_message_a_dying_worker_took_before_starting_it_is_built_again(
    app, client, login_as, make_fieldwork, clock
):
    user = login_as(Role.ANALYST)
    fieldwork_id = make_fieldwork()
    queue = app.extensions["ankieta.tasks"]
    with app.extensions["ankieta.db"].session() as session:
        fieldwork = session.get(Fieldwork, fieldwork_id)
        # queued, and its message gone with the worker that took it (nothing submitted here)
        job, _ = jobs.create_job(session, fieldwork, user.id, "csv", {}, clock())
        key = job.key
    clock.advance(seconds=150)  # silent past JOB_STALE_SECONDS (120), within the retry window
    assert client.get(f"/files/{key}/status").get_json()["state"] == "queued"
    queue.run_periodic()
    queue.wait()
    assert wait_for_file(client, f"/files/{key}")["state"] == "done"
    with app.extensions["ankieta.db"].session() as session:
        job = session.scalar(jobs.select(jobs.ExportJob).where(jobs.ExportJob.key == key))
        assert job.attempts == 1
