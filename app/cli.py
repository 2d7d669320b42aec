"""The `ankieta` command: the Flask CLI for this app plus its own commands.

The command line is an administrator's tool and speaks English; the checker's messages
can be printed in Polish with ``--lang pl``. The web interface is Polish first.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from sqlalchemy.exc import OperationalError

from app.config import ConfigError


def _create_app() -> Flask:
    from app import create_app

    try:
        return create_app()
    except ConfigError as exc:
        click.echo(f"ankieta: configuration error: {exc}", err=True)
        sys.exit(2)


class AnkietaGroup(FlaskGroup):
    """The Flask CLI group, turning an unreachable database into one line instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise click.ClickException(f"cannot reach the database: {reason}") from None


@click.group(cls=AnkietaGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Ankieta: survey collection and telephone interviewing."""


def register_commands(app: Flask) -> None:
    app.cli.add_command(init_command)
    app.cli.add_command(db_group)
    app.cli.add_command(users_group)
    app.cli.add_command(surveys_group)
    app.cli.add_command(demo_command)


def _database_url() -> str:
    return current_app.config["DATABASE_URL"]


def _upgrade_database() -> None:
    from app import migrate

    migrate.upgrade(_database_url())


def _masked_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(_database_url()).render_as_string(hide_password=True)


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Migrate the database to the newest schema, then load every definition in surveys/."""
    _upgrade_database()
    click.echo(f"Database ready: {_masked_url()}")
    status = _load_surveys([Path(current_app.config["SURVEYS_DIR"])])
    if status:
        sys.exit(status)


# --- database -----------------------------------------------------------------------------


@click.group("db", cls=AppGroup)
def db_group() -> None:
    """Database schema migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    from app import migrate

    if revision == "head":
        _upgrade_database()
    else:
        migrate.upgrade(_database_url(), revision)
    click.echo(f"Database at {revision}: {_masked_url()}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION."""
    from app import migrate

    migrate.downgrade(_database_url(), revision)


@db_group.command("current")
def db_current() -> None:
    """Print the database's current schema revision."""
    from app import migrate

    migrate.current(_database_url())


# --- users --------------------------------------------------------------------------------


@click.group("users", cls=AppGroup)
def users_group() -> None:
    """User accounts."""


@users_group.command("create")
@click.argument("username")
@click.option("--role", required=True, help="admin, analyst, supervisor or interviewer")
@click.option("--name", "full_name", default="", help="The person's full name.")
@click.option(
    "--password",
    default=None,
    help="Set this password (else one is generated and printed; it must be changed at login).",
)
def users_create(username: str, role: str, full_name: str, password: str | None) -> None:
    """Create a user with ROLE."""
    from app.auth.services import AccountError, create_user
    from app.extensions import get_db

    try:
        with get_db().session() as session:
            _user, issued = create_user(
                session,
                username,
                role,
                full_name=full_name,
                password=password,
                must_change_password=password is None,
            )
    except AccountError as exc:
        raise click.ClickException(exc.message.render()) from None
    click.echo(f"Created {username.strip().lower()} ({role}).")
    if password is None:
        click.echo(f"Password (shown once, to be changed at first login): {issued}")


@users_group.command("list")
def users_list() -> None:
    """List user accounts."""
    from sqlalchemy import select

    from app.extensions import get_db
    from app.models.users import User

    with get_db().session() as session:
        for user in session.scalars(select(User).order_by(User.username)):
            state = "active" if user.active else "disabled"
            click.echo(f"{user.username}\t{user.role}\t{state}\t{user.full_name}")


# --- surveys ------------------------------------------------------------------------------


@click.group("surveys", cls=AppGroup)
def surveys_group() -> None:
    """Questionnaire definitions."""


@surveys_group.command("check", with_appcontext=False)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--lang", default="en", type=click.Choice(["en", "pl"]), help="Message language.")
def surveys_check(paths: tuple[Path, ...], lang: str) -> None:
    """Check definition files and print every problem as FILE:LINE: item NAME: sentence."""
    from app.domain.checker import run_check
    from app.i18n import translations

    gettext = translations(lang).gettext if lang != "en" else None
    sys.exit(run_check([str(p) for p in paths], sys.stdout, gettext=gettext))


@surveys_group.command("load")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def surveys_load(paths: tuple[Path, ...]) -> None:
    """Store definitions as new versions (unchanged files are skipped)."""
    status = _load_surveys(list(paths))
    if status:
        sys.exit(status)


def _load_surveys(paths: list[Path]) -> int:
    """Load every definition under ``paths``; 1 if any was refused."""
    from app.extensions import get_db
    from app.surveys import services

    failed = 0
    files = services.definition_files(paths)
    for path in files:
        with get_db().session() as session:
            outcome = services.load_file(session, path)
            if not outcome.ok:
                failed += 1
                click.echo(f"{path}: refused, nothing stored:", err=True)
                for problem in outcome.problems:
                    click.echo(f"  {problem}", err=True)
                continue
            survey, version = outcome.survey, outcome.version
            assert survey is not None and version is not None  # noqa: S101 - ok outcome
            if outcome.status == "unchanged":
                click.echo(f"{path}: unchanged ({survey.code} version {version.number})")
            else:
                click.echo(f"{path}: loaded {survey.code} version {version.number}")
    if not files:
        click.echo("No definition files found.")
    return 1 if failed else 0


@surveys_group.command("list")
def surveys_list() -> None:
    """List surveys with their versions."""
    from app.extensions import get_db
    from app.surveys import services

    with get_db().session() as session:
        rows = services.list_surveys(session)
        if not rows:
            click.echo("No surveys loaded.")
        for row in rows:
            latest = row.latest
            loaded = latest.loaded_at.strftime("%d.%m.%Y %H:%M") if latest else "-"
            items = latest.item_count if latest else 0
            click.echo(
                f"{row.survey.id}\t{row.survey.code}\t{row.survey.title}\t"
                f"versions: {row.versions}\titems: {items}\tlatest: {loaded}"
            )


# --- demo ---------------------------------------------------------------------------------


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Create the demo accounts (one per role) if they do not exist; print their logins."""
    from app.demo import ensure_demo_accounts
    from app.extensions import get_db

    with get_db().session() as session:
        accounts = ensure_demo_accounts(session)
    click.echo("Demo accounts (user name, password, role):")
    for username, password, role in accounts:
        click.echo(f"  {username:<12} {password:<16} {role}")
