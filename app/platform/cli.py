"""The platform's commands (`ankieta db`, `ankieta worker`) and what every feature's commands share.

Like every module of commands, it imports only click and flask at the top: ``ankieta --help``
must not import the ORM or the web application.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from app.domain import dates

if TYPE_CHECKING:  # the ORM is imported only by the commands that use it
    from sqlalchemy.orm import Session


def locale_language(environ: Mapping[str, str] | None = None) -> str:
    """The language the command line speaks: English when the locale asks for it
    (``LC_ALL``, ``LC_MESSAGES``, ``LANG``, first set wins), otherwise Polish."""
    environ = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            return "en" if value.lower().startswith("en") else "pl"
    return "pl"


def parse_date(value: str | None) -> date | None:
    """A date given as YYYY-MM-DD or DD.MM.YYYY (None stays None)."""
    if value is None:
        return None
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            day = datetime.strptime(value, fmt).date()
        except ValueError:
            continue
        if not dates.in_range(day):
            raise click.BadParameter(dates.out_of_range_message().render())
        return day
    raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD or DD.MM.YYYY")


def audit_cli(
    session: Session, action: str, fieldwork_id: int | None = None, **detail: Any
) -> None:
    """Record a command-line action in the audit log, at the app's clock."""
    from app.platform import audit

    audit.record_cli(session, action, current_app.config["CLOCK"](), fieldwork_id, **detail)


def database_url() -> str:
    return str(current_app.config["DATABASE_URL"])


def upgrade_database() -> None:
    from app.platform import migrate

    migrate.upgrade(database_url())


def masked_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(database_url()).render_as_string(hide_password=True)


# --- database -------------------------------------------------------------------------------------


@click.group("db", cls=AppGroup)
def db_group() -> None:
    """Database schema migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    from app.platform import migrate

    if revision == "head":
        upgrade_database()
    else:
        migrate.upgrade(database_url(), revision)
    click.echo(f"Database at {revision}: {masked_url()}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION."""
    from app.platform import migrate

    migrate.downgrade(database_url(), revision)


@db_group.command("current")
def db_current() -> None:
    """Print the database's current schema revision."""
    from app.platform import migrate

    migrate.current(database_url())


# --- the worker -----------------------------------------------------------------------------------


@click.command("worker")
@click.option(
    "--threads",
    default=None,
    type=click.IntRange(1, 64),
    help="jobs run at once (default: WORKER_THREADS, 2)",
)
@with_appcontext
def worker_command(threads: int | None) -> None:
    """Run the background worker: results files, reports and e-mail (see docs/deploy.md)."""
    import logging

    from app.platform.tasks import queue_of

    queue = queue_of(current_app)
    if queue.local:
        raise click.ClickException("ANKIETA_QUEUE_URL=memory is for the test suite only")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("huey").setLevel(logging.WARNING)
    threads = threads or current_app.config["WORKER_THREADS"]
    click.echo(f"Worker started ({threads} threads); Ctrl+C stops it.")
    queue.run_worker(threads, current_app.config["WORKER_CHECK_SECONDS"])
