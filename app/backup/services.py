"""Backing up and restoring the whole database (plain Python and SQLAlchemy, no Flask).

SQLite: a backup is a copy made with SQLite's online backup API, so it is consistent even
while the server runs and writes (the copy is one read snapshot; WAL writers are not held
up). PostgreSQL: a backup is ``pg_dump --format=custom`` taken in the same snapshot in which
the summary figures are counted; a restore is ``pg_restore --clean --if-exists --no-owner
--single-transaction``, so a restore that fails part-way changes nothing.

Every check on a backup file happens before the configured database is touched; a problem
is a :class:`BackupError` whose message (a translatable ``Message``) is one line saying what
is wrong.

Over 500 lines on purpose: backing up and restoring are one cohesive thing (the same file
format, the same checks, both backends side by side), read and changed together.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

import app.models  # noqa: F401 - registers every model on Base.metadata
from app.domain.messages import N_, Message
from app.models.base import Base
from app.platform.migrate import alembic_config

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
# Tables present at every schema revision: a file without them is not an Ankieta database.
CORE_TABLES = frozenset({"user_account", "survey", "survey_version"})
PG_TIMEOUT_SECONDS = 6 * 3600

# URL query options that pg_dump/pg_restore take from libpq environment variables.
_LIBPQ_ENV = {
    "host": "PGHOST",
    "port": "PGPORT",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "gssencmode": "PGGSSENCMODE",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
}


_EXISTS = N_("%(file)s already exists; choose another name or use --force.")
_NO_FOLDER = N_("The folder %(folder)s does not exist.")
_CANNOT_READ = N_("Cannot read %(file)s: %(error)s")
_CANNOT_WRITE = N_("Cannot write %(file)s: %(error)s")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is one line, nothing was changed."""

    def __init__(self, msgid: str, **params: object) -> None:
        self.message = Message(msgid, params)
        super().__init__(self.message.render())


@dataclass
class Summary:
    """What a database (or a backup of one) holds, in a few figures."""

    revision: str | None
    responses: int | None
    users: int | None
    tables: frozenset[str] = field(default_factory=frozenset)

    def describe(self) -> Message:
        def figure(value: int | None) -> str:
            return "?" if value is None else str(value)

        if self.revision is None and self.responses is None and self.users is None:
            return Message(N_("empty: no Ankieta tables"))
        return Message(
            N_("schema revision %(revision)s, responses: %(responses)s, users: %(users)s"),
            {
                "revision": self.revision or "-",
                "responses": figure(self.responses),
                "users": figure(self.users),
            },
        )


@dataclass
class BackupResult:
    path: Path
    size: int
    summary: Summary


@dataclass
class RestoreResult:
    summary: Summary
    needs_upgrade: bool  # the backup is at an older schema revision than this code's head
    head: str
    leftover_tables: list[str]  # PostgreSQL: tables of the database that the backup lacks


def backend_of(url: str) -> str:
    """``sqlite`` or ``postgresql``."""
    return make_url(url).get_backend_name()


def masked(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


# --- schema revisions ---------------------------------------------------------------------


def _scripts(url: str) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(url))


def head_revision(url: str) -> str:
    return _scripts(url).get_current_head() or ""


def _check_revision(url: str, revision: str | None, label: str) -> bool:
    """Whether ``revision`` is older than head (True) or head (False); refused if unknown."""
    if not revision:
        raise BackupError(N_("%(file)s has no schema revision (empty alembic_version)"), file=label)
    scripts = _scripts(url)
    if revision not in {script.revision for script in scripts.walk_revisions()}:
        raise BackupError(
            N_(
                "%(file)s is at schema revision %(revision)s, which this version of Ankieta"
                " does not know (made by a newer version?); install that version to restore it"
            ),
            file=label,
            revision=revision,
        )
    return revision != scripts.get_current_head()


def _check_tables(tables: frozenset[str], revision: str, head: str, label: str) -> None:
    expected = {t.name for t in Base.metadata.sorted_tables} if revision == head else CORE_TABLES
    missing = sorted(expected - tables)
    if missing:
        raise BackupError(
            N_("%(file)s is not an Ankieta database: missing tables %(tables)s"),
            file=label,
            tables=", ".join(missing),
        )


# --- writing a file safely ----------------------------------------------------------------


def _temporary_beside(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def _private_temporary_beside(target: Path) -> Path:
    """A new, empty file beside ``target`` that only its owner may read (mode 0600).

    A backup holds password hashes and contact data: the file is created owner-only before
    sqlite3 or pg_dump write into it (they keep an existing file's mode), whatever the umask.
    """
    tmp = _temporary_beside(target)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return tmp


def _check_target(target: Path, force: bool) -> None:
    if target.is_dir():
        raise BackupError(N_("%(file)s is a directory; give a file name"), file=target)
    if target.exists() and not force:
        raise BackupError(_EXISTS, file=target)
    if not target.parent.is_dir():
        raise BackupError(_NO_FOLDER, folder=target.parent)


def _put_in_place(tmp: Path, target: Path, force: bool) -> None:
    """Move the finished ``tmp`` to ``target`` in one step (never a half-written target)."""
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    if force:
        os.replace(tmp, target)
    else:
        try:
            os.link(tmp, target)  # fails if someone created target meanwhile
        except FileExistsError:
            raise BackupError(_EXISTS, file=target) from None
        tmp.unlink()
    with contextlib.suppress(OSError):  # make the rename itself durable
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _cleanup(path: Path) -> Iterator[None]:
    """Remove ``path`` (a temporary file) whatever happens in the block."""
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


# --- SQLite -------------------------------------------------------------------------------


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(N_("An in-memory SQLite database cannot be backed up or restored."))
    return Path(database)


@contextlib.contextmanager
def _sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    try:
        yield connection
    finally:
        connection.close()


def _sqlite_summary(connection: sqlite3.Connection) -> Summary:
    tables = frozenset(
        row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
    )
    revision = None
    if "alembic_version" in tables:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else None

    def count(table: str) -> int | None:
        if table not in tables:
            return None
        return connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608

    return Summary(revision, count("response"), count("user_account"), tables)


def _sqlite_backup(url: str, target: Path, force: bool) -> Summary:
    source = _sqlite_path(url)
    if not source.is_file():
        raise BackupError(N_("The database file %(file)s does not exist."), file=source)
    tmp = _private_temporary_beside(target)
    with _cleanup(tmp):
        with _sqlite(source) as src, _sqlite(tmp) as dst:
            src.backup(dst)  # all pages in one step: one consistent read snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            _sqlite_verify(dst, str(target))
            summary = _sqlite_summary(dst)
        _put_in_place(tmp, target, force)
    return summary


def _sqlite_verify(connection: sqlite3.Connection, label: str) -> None:
    try:
        rows = connection.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        raise BackupError(
            N_("%(file)s is damaged or not a SQLite database: %(error)s"), file=label, error=exc
        ) from None
    if rows != [("ok",)]:
        lines = [line for row in rows for line in str(row[0]).splitlines()]
        first = next((line for line in lines if not line.startswith("***")), lines[0])
        raise BackupError(
            N_("%(file)s is damaged (truncated?): SQLite integrity check: %(error)s"),
            file=label,
            error=first,
        )


def _file_kind(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(N_("%(file)s does not exist."), file=path) from None
    except IsADirectoryError:
        raise BackupError(N_("%(file)s is a directory, not a backup file."), file=path) from None
    except OSError as exc:
        raise BackupError(_CANNOT_READ, file=path, error=exc.strerror or exc) from None
    if head == SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(PG_CUSTOM_MAGIC):
        return "postgresql"
    return "unknown"


def _check_kind(path: Path, backend: str) -> None:
    kind = _file_kind(path)
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    if kind == backend:
        return
    if kind == "unknown":
        if backend == "sqlite":
            raise BackupError(
                N_("%(file)s is not an Ankieta backup (expected a SQLite database file)."),
                file=path,
            )
        raise BackupError(
            N_("%(file)s is not an Ankieta backup (expected a pg_dump custom archive)."),
            file=path,
        )
    raise BackupError(
        N_(
            "%(file)s is a %(kind)s backup but the configured database is %(backend)s;"
            " restore it into a %(kind)s database."
        ),
        file=path,
        kind=names[kind],
        backend=names[backend],
    )


@dataclass
class _SQLitePrepared:
    copy: Path
    summary: Summary


def _sqlite_prepare(url: str, path: Path) -> _SQLitePrepared:
    """A checked working copy of the backup beside the configured database."""
    _check_kind(path, "sqlite")
    destination = _sqlite_path(url)
    if not destination.parent.is_dir():
        raise BackupError(_NO_FOLDER, folder=destination.parent)
    copy = _temporary_beside(destination)
    try:
        shutil.copyfile(path, copy)
        with _sqlite(copy) as connection:
            _sqlite_verify(connection, str(path))
            try:
                summary = _sqlite_summary(connection)
            except sqlite3.DatabaseError as exc:
                raise BackupError(_CANNOT_READ, file=path, error=exc) from None
            connection.execute("PRAGMA journal_mode=DELETE")
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            copy.unlink()
        raise
    return _SQLitePrepared(copy, summary)


def _sqlite_restore(url: str, prepared: _SQLitePrepared) -> None:
    """Copy the checked backup into the configured database in one write transaction.

    The backup API writes into the live file (its WAL and shared memory stay coherent), so a
    connection left open sees either the old database or the restored one, never a mixture.
    """
    destination = _sqlite_path(url)
    with _cleanup(prepared.copy):
        with _sqlite(destination) as dst:
            dst.execute("PRAGMA busy_timeout=30000")
            page_size = dst.execute("PRAGMA page_size").fetchone()[0]
            with _sqlite(prepared.copy) as src:
                if src.execute("PRAGMA page_size").fetchone()[0] != page_size:
                    # a WAL database cannot change its page size: make the copy match
                    src.execute(f"PRAGMA page_size={int(page_size)}")
                    src.execute("VACUUM")
                try:
                    src.backup(dst)
                except sqlite3.Error as exc:
                    raise BackupError(_CANNOT_WRITE, file=destination, error=exc) from None
            # the server sets WAL on every connection anyway; with it running, these may wait
            with contextlib.suppress(sqlite3.OperationalError):
                dst.execute("PRAGMA journal_mode=WAL")
                dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            N_(
                "%(program)s is not installed or not on PATH; install the PostgreSQL client"
                " (Debian/Ubuntu: apt install postgresql-client) of the server's version or newer."
            ),
            program=name,
        )
    return found


def pg_environment(url: str | URL) -> dict[str, str]:
    """libpq variables for the database in ``url``: the password never goes on a command line."""
    parsed = make_url(url)
    env = dict(os.environ)  # what libpq (and so psycopg) also reads, e.g. PGSSLMODE
    pairs = {
        "PGHOST": parsed.host,
        "PGPORT": str(parsed.port) if parsed.port else None,
        "PGUSER": parsed.username,
        "PGPASSWORD": parsed.password,
        "PGDATABASE": parsed.database,
    }
    for key, value in parsed.query.items():
        if key not in _LIBPQ_ENV:
            raise BackupError(
                N_(
                    "The database URL option %(option)s cannot be passed to pg_dump; set the"
                    " matching PG* environment variable and leave it out of the URL."
                ),
                option=repr(key),
            )
        pairs[_LIBPQ_ENV[key]] = value if isinstance(value, str) else value[-1]
    if not parsed.database:
        raise BackupError(N_("The database URL names no database."))
    env.update({key: str(value) for key, value in pairs.items() if value})
    return env


def _run(args: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(  # noqa: S603 - a fixed tool, arguments we built
            args,
            env=env,
            capture_output=True,
            text=True,
            timeout=PG_TIMEOUT_SECONDS,
            check=False,
        )
    except OSError as exc:
        raise BackupError(
            N_("Cannot run %(program)s: %(error)s"), program=args[0], error=exc.strerror or exc
        ) from None
    except subprocess.TimeoutExpired:
        raise BackupError(
            N_("%(program)s took longer than %(hours)d hours."),
            program=what,
            hours=PG_TIMEOUT_SECONDS // 3600,
        ) from None
    if done.returncode != 0:
        raise BackupError(
            N_("%(program)s failed: %(error)s"), program=what, error=_first_error(done.stderr)
        )
    return done


def _first_error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if "error" in line.lower() or "fatal" in line.lower():
            return line
    return lines[0] if lines else "no message"


def _pg_engine(url: str):
    return create_engine(url, connect_args={"connect_timeout": 5})


def _pg_summary(connection) -> Summary:
    tables = frozenset(
        connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                " AND tablename NOT LIKE 'pg\\_%'"
            )
        ).scalars()
    )
    revision = None
    if "alembic_version" in tables:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def count(table: str) -> int | None:
        if table not in tables:
            return None
        return connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar()  # noqa: S608

    return Summary(revision, count("response"), count("user_account"), tables)


def _pg_backup(url: str, target: Path, force: bool) -> Summary:
    pg_dump = _pg_tool("pg_dump")
    env = pg_environment(url)
    tmp = _private_temporary_beside(target)
    engine = _pg_engine(url)
    try:
        with _cleanup(tmp), engine.connect() as connection:
            # pg_dump works in the snapshot this transaction exports, so the figures
            # printed are those of the file
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar()
                summary = _pg_summary(connection)
                _run(
                    [
                        pg_dump,
                        "--format=custom",
                        "--no-password",
                        f"--snapshot={snapshot}",
                        f"--file={tmp}",
                    ],
                    env,
                    "pg_dump",
                )
            _put_in_place(tmp, target, force)
    finally:
        engine.dispose()
    return summary


_COPY = re.compile(r'^COPY (?:"?[\w]+"?\.)?"?(\w+)"? \(')


def _pg_inspect(path: Path, env: dict[str, str]) -> Summary:
    """Check the archive and read its schema revision and figures without touching a database."""
    pg_restore = _pg_tool("pg_restore")
    listing = _run([pg_restore, "--list", str(path)], env, f"pg_restore --list {path}").stdout
    tables = set()
    for line in listing.splitlines():
        parts = line.split()
        if line.startswith(";") or "TABLE" not in parts or "DATA" in parts:
            continue
        at = parts.index("TABLE")
        if len(parts) > at + 2:  # TABLE schema name [owner]
            tables.add(parts[at + 2])
    # Reading every row finds a truncated or damaged archive before anything is changed.
    revision = None
    counts: dict[str, int] = {}
    current: str | None = None
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as errors,
        subprocess.Popen(  # noqa: S603
            [pg_restore, "--data-only", "--file=-", str(path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            encoding="utf-8",
            errors="replace",
        ) as process,
    ):
        assert process.stdout is not None  # noqa: S101 - stdout=PIPE
        for line in process.stdout:
            if current is None:
                match = _COPY.match(line)
                if match:
                    current = match.group(1)
                    counts[current] = 0
            elif line.rstrip("\n") == "\\.":
                current = None
            else:
                counts[current] += 1
                if current == "alembic_version":
                    revision = line.strip()
        process.wait()
        errors.seek(0)
        stderr = errors.read()
    if process.returncode != 0:
        raise BackupError(_CANNOT_READ, file=path, error=_first_error(stderr))
    return Summary(revision, counts.get("response"), counts.get("user_account"), frozenset(tables))


def _pg_restore(url: str, path: Path, env: dict[str, str]) -> None:
    database = make_url(url).database or ""
    _run(
        [
            _pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={database}",
            str(path),
        ],
        env,
        "pg_restore",
    )


# --- the public operations ----------------------------------------------------------------


def backup(url: str, target: Path, *, force: bool = False) -> BackupResult:
    """Write a backup of the database at ``url`` to ``target``."""
    _check_target(target, force)
    backend = backend_of(url)
    try:
        if backend == "sqlite":
            summary = _sqlite_backup(url, target, force)
        elif backend == "postgresql":
            summary = _pg_backup(url, target, force)
        else:
            raise BackupError(N_("Cannot back up a %(backend)s database."), backend=backend)
    except OSError as exc:
        raise BackupError(_CANNOT_WRITE, file=target, error=exc.strerror or exc) from None
    except sqlite3.Error as exc:
        raise BackupError(
            N_("Cannot back up %(database)s: %(error)s"), database=masked(url), error=exc
        ) from None
    return BackupResult(target, target.stat().st_size, summary)


def current_summary(url: str) -> Summary:
    """The configured database's figures (as the restore would replace them)."""
    backend = backend_of(url)
    if backend == "sqlite":
        path = _sqlite_path(url)
        if not path.exists():
            return Summary(None, None, None)
        with _sqlite(path) as connection:
            return _sqlite_summary(connection)
    engine = _pg_engine(url)
    try:
        with engine.connect() as connection:
            return _pg_summary(connection)
    finally:
        engine.dispose()


class Restore:
    """A checked backup file, ready to be restored into the database at ``url``.

    Creating it checks everything (and changes nothing); :meth:`run` restores; :meth:`close`
    removes the working copy when the restore is not run.
    """

    def __init__(self, url: str, path: Path) -> None:
        self.url = url
        self.path = path
        self.backend = backend_of(url)
        self._prepared: _SQLitePrepared | None = None
        self._env: dict[str, str] = {}
        label = str(path)
        if self.backend == "sqlite":
            self._prepared = _sqlite_prepare(url, path)
            self.summary = self._prepared.summary
        elif self.backend == "postgresql":
            _check_kind(path, "postgresql")
            self._env = pg_environment(url)
            self.summary = _pg_inspect(path, self._env)
        else:
            raise BackupError(
                N_("Cannot restore into a %(backend)s database."), backend=self.backend
            )
        try:
            if "alembic_version" not in self.summary.tables:
                raise BackupError(
                    N_("%(file)s is not an Ankieta database: no alembic_version table."),
                    file=label,
                )
            self.head = head_revision(url)
            self.needs_upgrade = _check_revision(url, self.summary.revision, label)
            _check_tables(self.summary.tables, self.summary.revision or "", self.head, label)
        except BaseException:
            self.close()
            raise

    def run(self) -> RestoreResult:
        leftover: list[str] = []
        if self.backend == "sqlite":
            assert self._prepared is not None  # noqa: S101 - set in __init__ for SQLite
            _sqlite_restore(self.url, self._prepared)
            self._prepared = None
        else:
            before = current_summary(self.url).tables
            _pg_restore(self.url, self.path, self._env)
            leftover = sorted(before - self.summary.tables)
        return RestoreResult(self.summary, self.needs_upgrade, self.head, leftover)

    def close(self) -> None:
        if self._prepared is not None:
            with contextlib.suppress(FileNotFoundError):
                self._prepared.copy.unlink()
            self._prepared = None
