"""`ankieta backup` and `ankieta restore` through the CLI runner, on SQLite and PostgreSQL.

A realistic database (accounts, a fieldwork with its sample, responses with answers, phone
calls, an appointment, a supervisor action) is backed up, changed, restored, and every
table's full contents are compared with a snapshot taken at backup time.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import MetaData, Table, create_engine, delete, select, text, update

from app.backup import services as backup_module
from app.backup.services import BackupError, pg_environment
from app.cati.queue import claim_next
from app.cati.services import AppointmentRequest, finish_call, start_call
from app.models.base import Base
from app.models.cati import Call, Outcome
from app.models.fieldwork import Fieldwork, Response
from app.models.users import User
from app.platform import migrate
from app.supervise.services import log_action
from tests.support import database

SURVEY = Path(__file__).resolve().parents[2] / "surveys" / "monitoring_cis_kis.yaml"


# --- helpers ------------------------------------------------------------------------------


def _backend(app: Flask) -> str:
    return database(app).engine.dialect.name


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table of the models, plus alembic_version, in primary-key order."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = list(Base.metadata.sorted_tables)
            tables.append(Table("alembic_version", MetaData(), autoload_with=connection))
            result = {}
            for table in tables:
                order = list(table.primary_key.columns) or list(table.columns)
                result[table.name] = [
                    tuple(row) for row in connection.execute(select(table).order_by(*order))
                ]
            return result
    finally:
        engine.dispose()


def build_database(app: Flask, runner, clock) -> None:
    """Accounts, the demo fieldwork with its sample and responses, calls and an appointment."""
    loaded = runner.invoke(args=["surveys", "load", str(SURVEY)])
    assert loaded.exit_code == 0, loaded.output
    demo = runner.invoke(args=["demo"])
    assert demo.exit_code == 0, demo.output
    with database(app).session() as session:
        fieldwork = session.scalar(select(Fieldwork))
        interviewer = session.scalar(select(User).where(User.username == "ankieter"))
        supervisor = session.scalar(select(User).where(User.username == "koordynator"))
        outcomes = {o.kind: o for o in session.scalars(select(Outcome).order_by(Outcome.id))}
        now = clock()
        for kind in ("temporary", "appointment", "refusal"):
            claim = claim_next(session, fieldwork, interviewer.id, now)
            assert claim.case is not None, claim.nothing
            call = start_call(session, claim.case, interviewer.id, None, now)
            appointment = None
            if kind == "appointment":
                appointment = AppointmentRequest(now + timedelta(days=1), None, for_me=True)
            finish_call(
                session,
                claim.case,
                call,
                outcomes[kind],
                interviewer_id=interviewer.id,
                note=f"note: {kind}",
                now=now,
                appointment=appointment,
            )
            now += timedelta(minutes=65)  # past the retry delay of a temporary outcome
        log_action(session, fieldwork, supervisor.id, "set_priority", now, case_id=claim.case.id)
    counts = {name: len(rows) for name, rows in snapshot(database(app).url).items()}
    for table in ("user_account", "sample_unit", "response", "call", "appointment", "outcome"):
        assert counts[table] > 0, table


def change_everything(app: Flask, runner) -> None:
    with database(app).session() as session:
        session.execute(delete(Call))
        session.execute(delete(Response).where(Response.id % 2 == 0))
        session.execute(update(User).values(full_name="Zmieniono"))
    created = runner.invoke(args=["users", "create", "nowa", "--role", "analyst"])
    assert created.exit_code == 0, created.output


def _rows(url: str) -> dict[str, list[tuple]]:
    return snapshot(url)


# --- the round trip -------------------------------------------------------------------------


@pytest.mark.db
def test_backup_then_restore_brings_back_every_row(app, runner, clock, tmp_path) -> None:
    url = database(app).url
    build_database(app, runner, clock)
    at_backup = snapshot(url)
    target = tmp_path / "nightly.backup"

    made = runner.invoke(args=["backup", "-o", str(target)])
    assert made.exit_code == 0, made.output
    head = at_backup["alembic_version"][0][0]
    responses, users = len(at_backup["response"]), len(at_backup["user_account"])
    assert f"zapisana w {target}: " in made.output
    assert f"wersja schematu {head}, odpowiedzi: {responses}, użytkownicy: {users}" in made.output
    assert target.stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    change_everything(app, runner)
    changed = snapshot(url)
    assert changed != at_backup

    asked = runner.invoke(args=["restore", str(target)])
    assert asked.exit_code == 1
    assert "To zastąpiłoby całą zawartość" in asked.output
    assert f"kopią zapasową {target} (wersja schematu {head}, " in asked.output
    assert f"odpowiedzi: {responses}, użytkownicy: {users})." in asked.output
    assert "Zatrzymaj serwer, potem uruchom ponownie z --yes" in asked.output
    assert snapshot(url) == changed

    postgresql = _backend(app) == "postgresql"
    if postgresql:  # a table the backup does not have is left alone, and the user is told
        with database(app).session() as session:
            session.execute(text("CREATE TABLE scratch_notes (id integer)"))
    try:
        restored = runner.invoke(args=["restore", str(target), "--yes"])
    finally:
        if postgresql:
            with database(app).session() as session:
                session.execute(text("DROP TABLE IF EXISTS scratch_notes"))
    assert restored.exit_code == 0, restored.output
    assert f"Odtworzono {target} do " in restored.output
    assert "db upgrade" not in restored.output
    assert ("pozostawiono je bez zmian: scratch_notes" in restored.output) == postgresql
    assert snapshot(url) == at_backup

    # the restored database works: ids continue after the restored rows
    again = runner.invoke(args=["users", "create", "po-przywroceniu", "--role", "analyst"])
    assert again.exit_code == 0, again.output
    assert len(snapshot(url)["user_account"]) == users + 1


# --- refusals -------------------------------------------------------------------------------


def _refused(runner, args: list[str], needle: str):
    result = runner.invoke(args=args)
    assert result.exit_code != 0, result.output
    assert needle in result.output, result.output
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def built(app, runner, clock, tmp_path):
    """A built database and a backup of it: (url, backup path, snapshot)."""
    build_database(app, runner, clock)
    target = tmp_path / "ankieta.backup"
    made = runner.invoke(args=["backup", "-o", str(target)])
    assert made.exit_code == 0, made.output
    return database(app).url, target, snapshot(database(app).url)


@pytest.mark.db
def test_restore_refuses_bad_files_and_changes_nothing(app, runner, built, tmp_path) -> None:
    url, good, before = built
    garbage = tmp_path / "garbage.backup"
    garbage.write_bytes(bytes(range(256)) * 40)
    _refused(runner, ["restore", str(garbage), "--yes"], "nie jest kopią zapasową Ankiety")

    data = good.read_bytes()
    for cut in (len(data) * 2 // 3, len(data) - 1024):
        truncated = tmp_path / f"truncated-{cut}.backup"
        truncated.write_bytes(data[:cut])
        result = _refused(runner, ["restore", str(truncated), "--yes"], str(truncated))
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert "uszkodzony" in result.output or "end of file" in result.output, result.output

    other = tmp_path / "other.backup"
    if _backend(app) == "sqlite":
        other.write_bytes(b"PGDMP\x01\x0e\x00\x04\x08\x01\x01" + b"\x00" * 500)
        needle = "to kopia zapasowa PostgreSQL, a skonfigurowana baza danych to SQLite"
    else:
        sqlite_file = tmp_path / "a.db"
        migrate.upgrade(f"sqlite:///{sqlite_file}")
        other.write_bytes(sqlite_file.read_bytes())
        needle = "to kopia zapasowa SQLite, a skonfigurowana baza danych to PostgreSQL"
    _refused(runner, ["restore", str(other), "--yes"], needle)

    _refused(runner, ["restore", str(tmp_path / "missing.backup"), "--yes"], "nie istnieje.")
    empty = tmp_path / "empty.backup"
    empty.write_bytes(b"")
    _refused(runner, ["restore", str(empty), "--yes"], "nie jest kopią zapasową Ankiety")

    assert snapshot(url) == before
    leftovers = [p.name for p in Path(tmp_path).rglob(".*.tmp")]
    assert leftovers == []


@pytest.mark.db
def test_backup_does_not_overwrite_without_force(app, runner, tmp_path) -> None:
    target = tmp_path / "ankieta.backup"
    target.write_bytes(b"an older backup")
    _refused(runner, ["backup", "-o", str(target)], "już istnieje; wybierz inną nazwę")
    assert target.read_bytes() == b"an older backup"
    forced = runner.invoke(args=["backup", "-o", str(target), "--force"])
    assert forced.exit_code == 0, forced.output
    assert target.read_bytes() != b"an older backup"
    missing_folder = target.parent / "no"
    _refused(
        runner,
        ["backup", "-o", str(missing_folder / "such.backup")],
        f"Folder {missing_folder} nie istnieje.",
    )


@pytest.mark.db
def test_backup_file_is_readable_by_its_owner_only(app, runner, tmp_path, monkeypatch) -> None:
    """It holds password hashes and contact data: 0600 whatever the umask, from the start."""
    modes_while_written = []
    put_in_place = backup_module._put_in_place

    def watch(tmp: Path, target: Path, force: bool) -> None:
        modes_while_written.append(tmp.stat().st_mode & 0o777)
        put_in_place(tmp, target, force)

    monkeypatch.setattr(backup_module, "_put_in_place", watch)
    old_umask = os.umask(0o022)
    try:
        target = tmp_path / "ankieta.backup"
        result = runner.invoke(args=["backup", "-o", str(target)])
        assert result.exit_code == 0, result.output
        forced = runner.invoke(args=["backup", "-o", str(target), "--force"])
        assert forced.exit_code == 0, forced.output
    finally:
        os.umask(old_umask)
    assert modes_while_written == [0o600, 0o600]
    assert target.stat().st_mode & 0o777 == 0o600


@pytest.mark.db
def test_a_failed_backup_leaves_no_file(app, runner, tmp_path, monkeypatch) -> None:
    def fail(tmp: Path, target: Path, force: bool) -> None:
        assert tmp.exists() and tmp.stat().st_size > 0
        raise BackupError("disk full (simulated)")

    monkeypatch.setattr(backup_module, "_put_in_place", fail)
    target = tmp_path / "out" / "ankieta.backup"
    target.parent.mkdir()
    _refused(runner, ["backup", "-o", str(target)], "disk full (simulated)")
    assert list(target.parent.iterdir()) == []


@pytest.mark.db
def test_restore_refuses_a_backup_from_a_newer_version(app, runner, built, tmp_path) -> None:
    url, good, before = built
    if _backend(app) == "sqlite":
        newer = tmp_path / "newer.backup"
        newer.write_bytes(good.read_bytes())
        with sqlite3.connect(newer) as connection:
            connection.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
        connection.close()
    else:
        # a database at an unknown revision, dumped with pg_dump
        with database(app).session() as session:
            session.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
        newer = tmp_path / "newer.backup"
        assert runner.invoke(args=["backup", "-o", str(newer)]).exit_code == 0
        restored = runner.invoke(args=["restore", str(good), "--yes"])
        assert restored.exit_code == 0, restored.output
    _refused(runner, ["restore", str(newer), "--yes"], "której ta wersja Ankiety nie zna")
    assert snapshot(url) == before


def test_pg_environment_keeps_the_password_off_the_command_line(monkeypatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    env = pg_environment(
        "postgresql+psycopg://ankieta:s3cr%40t@db.internal:5433/rops?sslmode=require"
    )
    assert env["PGPASSWORD"] == "s3cr@t"
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"]) == ("db.internal", "5433", "ankieta")
    assert (env["PGDATABASE"], env["PGSSLMODE"]) == ("rops", "require")
    with pytest.raises(BackupError, match="'options' cannot be passed to pg_dump"):
        pg_environment("postgresql+psycopg://u@h/db?options=-c%20x")


POSTGRESQL_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
# the online backup API is SQLite's; pg_dump keeps its own snapshot
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.mark.db
@POSTGRESQL_ONLY
def test_postgresql_without_pg_dump_is_one_clear_line(app, runner, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    target = tmp_path / "x.backup"
    result = _refused(runner, ["backup", "-o", str(target)], "pg_dump nie jest zainstalowany")
    assert len(result.output.strip().splitlines()) == 1
    assert not target.exists()


# --- SQLite: consistent while the server writes; older schema revisions -----------------------


USER_INSERT = (
    "INSERT INTO user_account (username, full_name, role, password_hash, must_change_password,"
    " active, failed_logins, created_at) VALUES (?, '', 'analyst', 'x', 0, 1, 0,"
    " '2026-03-16 09:30:00')"
)


@pytest.mark.db
@SQLITE_ONLY
def test_sqlite_backup_during_an_open_write_keeps_only_committed_rows(
    app, runner, tmp_path
) -> None:
    path = Path(database(app).engine.url.database)
    writer = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(USER_INSERT, ("committed-before",))
        writer.execute("COMMIT")
        writer.execute("BEGIN IMMEDIATE")  # the server is mid-write: lock held, not committed
        writer.execute(USER_INSERT, ("uncommitted",))
        target = tmp_path / "mid-write.backup"
        made = runner.invoke(args=["backup", "-o", str(target)])
        assert made.exit_code == 0, made.output
        writer.execute("COMMIT")
    finally:
        writer.close()
    with sqlite3.connect(target) as copy:
        names = [r[0] for r in copy.execute("SELECT username FROM user_account")]
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    copy.close()
    assert names == ["committed-before"]
    assert "użytkownicy: 1." in made.output


@pytest.mark.db
@SQLITE_ONLY
def test_sqlite_backups_taken_while_another_connection_writes_are_consistent(
    app, runner, tmp_path
) -> None:
    path = Path(database(app).engine.url.database)
    stop = threading.Event()
    written: list[int] = []
    errors: list[BaseException] = []

    def write() -> None:
        # every transaction adds a pair of accounts; a consistent copy never holds half a pair
        connection = sqlite3.connect(path, isolation_level=None, timeout=30)
        try:
            n = 0
            while not stop.is_set():
                connection.execute("BEGIN IMMEDIATE")
                connection.execute(USER_INSERT, (f"w{n}-a",))
                connection.execute(USER_INSERT, (f"w{n}-b",))
                connection.execute("COMMIT")
                written.append(n)
                n += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=write)
    thread.start()
    seen: list[int] = []
    try:
        for i in range(6):
            while len(written) < 20 * (i + 1) and thread.is_alive():
                threading.Event().wait(0.001)
            target = tmp_path / f"b{i}.backup"
            made = runner.invoke(args=["backup", "-o", str(target)])
            assert made.exit_code == 0, made.output
            with sqlite3.connect(target) as copy:
                assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
                names = {r[0] for r in copy.execute("SELECT username FROM user_account")}
            copy.close()
            firsts = {name[:-2] for name in names if name.endswith("-a")}
            seconds = {name[:-2] for name in names if name.endswith("-b")}
            assert firsts == seconds
            assert f"użytkownicy: {len(names)}." in made.output
            seen.append(len(firsts))
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not errors, errors
    assert seen == sorted(seen) and seen[-1] > seen[0] > 0


@pytest.mark.db
@SQLITE_ONLY
def test_sqlite_restore_of_an_older_schema_says_to_upgrade(app, runner, tmp_path) -> None:
    from alembic.script import ScriptDirectory

    url = database(app).url
    scripts = ScriptDirectory.from_config(migrate.alembic_config(url))
    first = list(scripts.walk_revisions())[-1].revision
    old_db = tmp_path / "old.db"
    migrate.upgrade(f"sqlite:///{old_db}", first)
    old_backup = tmp_path / "old.backup"
    backup_module.backup(f"sqlite:///{old_db}", old_backup)

    restored = runner.invoke(args=["restore", str(old_backup), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert f"Kopia ma starszą wersję schematu ({first}" in restored.output
    assert "uruchom `ankieta db upgrade`" in restored.output
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert snapshot(url)["alembic_version"] == [(scripts.get_current_head(),)]


@pytest.mark.db
@SQLITE_ONLY
def test_sqlite_restore_refuses_a_sqlite_file_that_is_not_ankieta(app, runner, tmp_path) -> None:
    before = snapshot(database(app).url)
    stranger = tmp_path / "stranger.db"
    with sqlite3.connect(stranger) as connection:
        connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    connection.close()
    _refused(runner, ["restore", str(stranger), "--yes"], "nie jest bazą Ankiety")
    assert snapshot(database(app).url) == before
