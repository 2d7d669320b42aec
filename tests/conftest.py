"""Fixtures for every test: the app on every database backend, clients, users and an injected clock.

Every test that uses the ``app`` fixture runs twice: on SQLite and on PostgreSQL (a scratch
database created for this run on the local server and dropped afterwards). Without a
PostgreSQL server those runs are skipped, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.models.base import Base
from app.models.users import Role, User
from app.platform import migrate
from app.platform.accounts import create_user
from tests.support import (
    CI_LOCALE,
    SHIPPED,
    TEST_PASSWORD,
    Auth,
    CSRFClient,
    FakeClock,
    unavailable,
)

POSTGRES_SERVER = os.environ.get(
    "ANKIETA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


# --- databases ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A scratch PostgreSQL database for this test run, migrated to head; dropped at the end."""
    server = make_url(POSTGRES_SERVER)
    admin_engine = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"ankieta_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        with admin_engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        admin_engine.dispose()
        unavailable(f"PostgreSQL at {server.render_as_string()} is not available: {exc}")
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database on each backend in turn."""
    if request.param == "sqlite":
        path = tmp_path / "ankieta.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    _truncate_all(url)


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        # as a replica the session fires no ordinary trigger: the audit log's refusal of
        # TRUNCATE (the test user is a superuser; the application's is not)
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


# --- the application --------------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 16, 9, 30, tzinfo=UTC))  # a Monday morning


@pytest.fixture
def app(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Flask]:
    instance = tmp_path / "instance"
    instance.mkdir()
    application = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-" + "x" * 32,
            "CLOCK": clock,
            "QUEUE_URL": "memory",  # background work on a worker thread of this process
        }
    )
    application.test_client_class = CSRFClient
    yield application
    exports = application.extensions.get("ankieta.export_runner")
    if exports is not None:  # a results file still being prepared finishes first
        exports.wait()
    application.extensions["ankieta.db"].dispose()


@pytest.fixture
def client(app: Flask) -> CSRFClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    """The command line, in CI's locale (Polish messages)."""
    return app.test_cli_runner(env=CI_LOCALE)


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """Create a user (role, name, password, scope) directly in the database; an OWES
    coordinator's subregions default to ``zachodni``."""

    def factory(
        username: str = "user",
        role: Role | str = Role.ANALYST,
        *,
        password: str = TEST_PASSWORD,
        must_change_password: bool = False,
        active: bool = True,
        subregions: list[str] | None = None,
        entity_types: list[str] | None = None,
    ) -> User:
        if subregions is None and Role(role) is Role.COORDINATOR:
            subregions = ["zachodni"]
        with app.extensions["ankieta.db"].session() as session:
            user, _ = create_user(
                session,
                username,
                role,
                password=password,
                must_change_password=must_change_password,
                subregions=subregions or (),
                entity_types=entity_types or (),
            )
            user.active = active
        return user

    return factory


@pytest.fixture
def auth(client: CSRFClient) -> Auth:
    return Auth(client)


@pytest.fixture
def login_as(make_user: Callable[..., User], auth: Auth) -> Callable[[Role | str], User]:
    """Create a user with ``role`` and log the client in as that user."""

    def go(role: Role | str) -> User:
        role = Role(role)
        user = make_user(f"{role.value}1", role)
        response = auth.login(user.username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return go


# --- fieldwork ----------------------------------------------------------------------------


@pytest.fixture
def make_fieldwork(app: Flask, clock: FakeClock):
    """Load a shipped survey (by file stem, or a definition's path), create a fieldwork
    with a sample, optionally open.

    Returns the fieldwork id; ``units`` rows are (external_id, name, extra columns dict).
    """
    from app.fieldwork import services as fieldwork_services
    from app.surveys import services as survey_services

    def factory(
        survey: str | Path = "monitoring_cis_kis",
        *,
        units: list[tuple[str, str, dict]] | None = None,
        state: str = "open",
        open_link: bool = False,
        title: str = "Monitoring 2026",
    ) -> int:
        database = app.extensions["ankieta.db"]
        with database.session() as session:
            path = survey if isinstance(survey, Path) else SHIPPED / f"{survey}.yaml"
            outcome = survey_services.load_file(session, path)
            assert outcome.ok, [str(p) for p in outcome.problems]
            fieldwork = fieldwork_services.create_fieldwork(
                session, outcome.survey.code, title, open_link=open_link
            )
            rows = (
                units
                if units is not None
                else [
                    ("K-01", "Klub Integracji Społecznej w Żorach", {"entity_type": "KIS"}),
                    ("C-02", "Centrum Integracji Społecznej w Gliwicach", {"entity_type": "CIS"}),
                ]
            )
            header = ["external_id", "name", "entity_type", "subregion", "gmina", "phone"]
            lines = [";".join(header)]
            for external_id, name, extra in rows:
                lines.append(
                    ";".join(
                        [
                            external_id,
                            name,
                            extra.get("entity_type", "CIS"),
                            extra.get("subregion", "południowy"),
                            extra.get("gmina", "Żory"),
                            extra.get("phone", "032 123 45 67"),
                        ]
                    )
                )
            imported = fieldwork_services.import_sample(
                session, fieldwork, "\n".join(lines).encode("utf-8"), "sample.csv", now=clock()
            )
            assert imported.ok, [p.render() for p in imported.problems]
            if state in ("open", "closed"):
                fieldwork.open(clock())
            if state == "closed":
                fieldwork.close(clock())
            return fieldwork.id

    return factory


@pytest.fixture
def join_team(app: Flask):
    """Put interviewers (users or ids) on a fieldwork's team, so they get its cases."""
    from app.models.fieldwork import FieldworkInterviewer

    def join(fieldwork_id: int, *users: User | int) -> None:
        with app.extensions["ankieta.db"].session() as session:
            for user in users:
                user_id = user if isinstance(user, int) else user.id
                session.add(FieldworkInterviewer(fieldwork_id=fieldwork_id, user_id=user_id))

    return join
