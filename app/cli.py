"""The `ankieta` command: the Flask CLI for this app plus its own commands.

The command line is an administrator's tool and speaks English, except the definition
checker: its messages are for questionnaire authors and follow ``--lang`` or the locale
(``LANG=en_...`` gives English), Polish by default, like the web checker.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from sqlalchemy.exc import OperationalError

from app.domain import dates
from app.domain.dates import format_local
from app.platform.config import ConfigError


def _create_app() -> Flask:
    from app import create_app

    try:
        return create_app()
    except ConfigError as exc:
        click.echo(f"ankieta: configuration error: {exc}", err=True)
        sys.exit(2)


class AnkietaGroup(FlaskGroup):
    """The Flask CLI group, turning an unreachable database into one line instead of a traceback.

    Ankieta's commands are registered on this group itself (at the end of this module) as
    well as on the app's ``cli``: Flask then finds a command without building the app, so
    ``ankieta --help`` and ``ankieta surveys check`` answer without importing the web
    application (models, blueprints, templates); a command that needs it still gets it
    through ``with_appcontext``.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        # FlaskGroup would build the app to add the commands of its ``cli``: they are ours,
        # already here (see the class docstring).
        self._load_plugin_commands()
        return click.Group.list_commands(self, ctx)

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
    for command in _commands():
        app.cli.add_command(command)


def _commands() -> list[click.Command]:
    """Every Ankieta command (their modules import only click and flask at the top)."""
    from app.backup.cli import backup_command, restore_command
    from app.exports.cli import export_command, report_command
    from app.mailing.cli import register as register_mail_commands
    from app.privacy.cli import privacy_group
    from app.tokens.cli import api_tokens_group

    register_mail_commands(invitations_group)
    return [
        init_command,
        db_group,
        users_group,
        surveys_group,
        demo_command,
        fieldwork_group,
        sample_group,
        invitations_group,
        worker_command,
        demo_data_command,
        export_command,
        report_command,
        backup_command,
        restore_command,
        privacy_group,
        api_tokens_group,
    ]


def _database_url() -> str:
    return current_app.config["DATABASE_URL"]


def _upgrade_database() -> None:
    from app.platform import migrate

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
    from app.platform import migrate

    if revision == "head":
        _upgrade_database()
    else:
        migrate.upgrade(_database_url(), revision)
    click.echo(f"Database at {revision}: {_masked_url()}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION."""
    from app.platform import migrate

    migrate.downgrade(_database_url(), revision)


@db_group.command("current")
def db_current() -> None:
    """Print the database's current schema revision."""
    from app.platform import migrate

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
    from app.platform import audit
    from app.platform.accounts import AccountError, create_user
    from app.platform.extensions import get_db

    try:
        with get_db().session() as session:
            user, issued = create_user(
                session,
                username,
                role,
                full_name=full_name,
                password=password,
                must_change_password=password is None,
            )
            audit.record(
                session,
                "user.created",
                current_app.config["CLOCK"](),
                actor_name=audit.cli_actor(),
                target=f"user {user.username}",
                detail={"role": user.role},
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

    from app.models.users import User
    from app.platform.extensions import get_db

    with get_db().session() as session:
        for user in session.scalars(select(User).order_by(User.username)):
            state = "active" if user.active else "disabled"
            click.echo(f"{user.username}\t{user.role}\t{state}\t{user.full_name}")


def locale_language(environ: Mapping[str, str] | None = None) -> str:
    """The language the command line speaks: English when the locale asks for it
    (``LC_ALL``, ``LC_MESSAGES``, ``LANG``, first set wins), otherwise Polish."""
    environ = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            return "en" if value.lower().startswith("en") else "pl"
    return "pl"


# --- surveys ------------------------------------------------------------------------------


@click.group("surveys", cls=AppGroup)
def surveys_group() -> None:
    """Questionnaire definitions."""


@surveys_group.command("check", with_appcontext=False)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--lang",
    default=None,
    type=click.Choice(["en", "pl"]),
    help="Message language (default: from the locale, LC_ALL/LC_MESSAGES/LANG; else Polish).",
)
def surveys_check(paths: tuple[Path, ...], lang: str | None) -> None:
    """Check definition files and print every problem as FILE:LINE: item NAME: sentence."""
    from app.domain.questionnaire.checker import run_check

    lang = lang or locale_language()
    gettext = None
    if lang != "en":  # Babel's catalogues only when they are used
        from app.platform.i18n import translations

        gettext = translations(lang).gettext
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
    from app.platform import audit
    from app.platform.extensions import get_db
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
                audit.record_cli(
                    session,
                    "survey.loaded",
                    current_app.config["CLOCK"](),
                    file=path.name,
                    survey=survey.code,
                    version=version.number,
                )
                click.echo(f"{path}: loaded {survey.code} version {version.number}")
    if not files:
        click.echo("No definition files found.")
    return 1 if failed else 0


@surveys_group.command("list")
def surveys_list() -> None:
    """List surveys with their versions."""
    from app.models.surveys import list_surveys
    from app.platform.extensions import get_db

    with get_db().session() as session:
        rows = list_surveys(session)
        if not rows:
            click.echo("No surveys loaded.")
        for row in rows:
            latest = row.latest
            loaded = format_local(latest.loaded_at) if latest else "-"
            items = latest.item_count if latest else 0
            click.echo(
                f"{row.survey.id}\t{row.survey.code}\t{row.survey.title}\t"
                f"versions: {row.versions}\titems: {items}\tlatest: {loaded} (Warsaw time)"
            )


# --- fieldwork ----------------------------------------------------------------------------


def _parse_date(value: str | None) -> date | None:
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


@click.group("fieldwork", cls=AppGroup)
def fieldwork_group() -> None:
    """Fieldworks: a survey version in the field for a period."""


@fieldwork_group.command("create")
@click.argument("survey")
@click.option("--title", required=True, help="e.g. 'Monitoring KIS 2026'")
@click.option("--opens", default=None, help="opening date (YYYY-MM-DD or DD.MM.YYYY)")
@click.option("--closes", default=None, help="closing date (YYYY-MM-DD or DD.MM.YYYY)")
@click.option("--open-link", is_flag=True, help="also make an open link for anonymous answers")
def fieldwork_create(
    survey: str, title: str, opens: str | None, closes: str | None, open_link: bool
) -> None:
    """Create a draft fieldwork of SURVEY's latest version; prints the new fieldwork's id."""
    from app.fieldwork import services
    from app.platform.extensions import get_db

    try:
        with get_db().session() as session:
            fieldwork = services.create_fieldwork(
                session,
                survey,
                title,
                opens_on=_parse_date(opens),
                closes_on=_parse_date(closes),
                open_link=open_link,
            )
            fieldwork_id = fieldwork.id
            _audit(session, "fieldwork.created", fieldwork_id, title=title, survey=survey)
    except services.FieldworkError as exc:
        raise click.ClickException(exc.message.render()) from None
    click.echo(fieldwork_id)


@fieldwork_group.command("open")
@click.argument("fieldwork_id", type=int)
def fieldwork_open(fieldwork_id: int) -> None:
    """Open a fieldwork: it starts accepting answers."""
    _change_state(fieldwork_id, "open")


@fieldwork_group.command("close")
@click.argument("fieldwork_id", type=int)
def fieldwork_close(fieldwork_id: int) -> None:
    """Close a fieldwork: it keeps everything and accepts no more answers."""
    _change_state(fieldwork_id, "close")


def _change_state(fieldwork_id: int, action: str) -> None:
    from app.fieldwork import services
    from app.platform.extensions import get_db

    try:
        with get_db().session() as session:
            fieldwork = services.get_fieldwork(session, fieldwork_id)
            before = fieldwork.state
            services.change_state(
                session,
                fieldwork,
                action,
                current_app.config["CLOCK"](),
                retention_days=current_app.config["CONTACT_RETENTION_DAYS"],
            )
            state = fieldwork.state
            _audit(session, "fieldwork.state_changed", fieldwork_id, state=[before, state])
    except services.FieldworkError as exc:
        raise click.ClickException(exc.message.render()) from None
    click.echo(f"Fieldwork {fieldwork_id} is {state}.")


@fieldwork_group.command("team")
@click.argument("fieldwork_id", type=int)
@click.option("--add", "add", multiple=True, help="an interviewer's user name (repeatable)")
@click.option("--remove", "remove", multiple=True, help="an interviewer's user name (repeatable)")
def fieldwork_team(fieldwork_id: int, add: tuple[str, ...], remove: tuple[str, ...]) -> None:
    """Show or change which interviewers get FIELDWORK_ID's cases."""
    from app.fieldwork import services
    from app.platform import audit
    from app.platform.accounts import find_user
    from app.platform.extensions import get_db
    from app.supervise import services as supervise

    try:
        with get_db().session() as session:
            fieldwork = services.get_fieldwork(session, fieldwork_id)
            members = {u.id for u in supervise.team(session, fieldwork)}
            for username in (*add, *remove):
                user = find_user(session, username)
                if user is None:
                    raise click.ClickException(f"no user {username!r}")
                if username in add:
                    members.add(user.id)
                else:
                    members.discard(user.id)
            if add or remove:
                supervise.set_team(
                    session,
                    fieldwork,
                    members,
                    None,
                    current_app.config["CLOCK"](),
                    actor_name=audit.cli_actor(),
                )
            names = [u.username for u in supervise.team(session, fieldwork)]
    except services.FieldworkError as exc:
        raise click.ClickException(exc.message.render()) from None
    except supervise.SupervisorError as exc:
        raise click.ClickException(exc.message.render()) from None
    click.echo(f"Team of fieldwork {fieldwork_id}: {', '.join(names) or '(nobody)'}")


@fieldwork_group.command("upgrade")
@click.argument("fieldwork_id", type=int)
@click.option("--to", "number", type=int, required=True, help="the survey's version number")
@click.option("--dry-run", is_flag=True, help="only show what would happen")
def fieldwork_upgrade(fieldwork_id: int, number: int, dry_run: bool) -> None:
    """Move FIELDWORK_ID to a newer version of its definition (links stay the same)."""
    from app.fieldwork import services
    from app.platform.extensions import get_db
    from app.platform.i18n import translations

    gettext = translations(current_app.config["BABEL_DEFAULT_LOCALE"]).gettext
    try:
        with get_db().session() as session:
            fieldwork = services.get_fieldwork(session, fieldwork_id)
            plan = services.plan_upgrade(session, fieldwork, number)
            for line in services.upgrade_report(plan, gettext):
                click.echo(line)
            if not plan.changes.ok:
                raise click.ClickException(
                    gettext("The new version is not compatible; nothing changed.")
                )
            if dry_run:
                click.echo(gettext("Dry run: nothing changed."))
                return
            detail = plan.audit_detail()
            services.upgrade(session, plan, current_app.config["CLOCK"]())
            _audit(session, "fieldwork.upgraded", fieldwork_id, **detail)
    except services.FieldworkError as exc:
        raise click.ClickException(exc.message.render(gettext)) from None
    click.echo(
        gettext("Fieldwork %(id)d now uses version %(n)d.") % {"id": fieldwork_id, "n": number}
    )


def _audit(session, action: str, fieldwork_id: int | None = None, **detail) -> None:
    from app.platform import audit

    audit.record_cli(session, action, current_app.config["CLOCK"](), fieldwork_id, **detail)


@fieldwork_group.command("list")
def fieldwork_list() -> None:
    """List fieldworks with their sample size and response counts."""
    from app.fieldwork import services
    from app.platform.extensions import get_db

    with get_db().session() as session:
        rows = services.list_fieldworks(session)
        if not rows:
            click.echo("No fieldwork.")
        for row in rows:
            fw = row.fieldwork
            closes = fw.closes_on.strftime("%d.%m.%Y") if fw.closes_on else "-"
            click.echo(
                f"{fw.id}\t{fw.title}\t{fw.survey.code} v{fw.survey_version.number}\t{fw.state}\t"
                f"closes: {closes}\tsample: {row.sample_size}\tpartial: {row.partial}\t"
                f"complete: {row.complete}"
            )


@click.group("sample", cls=AppGroup)
def sample_group() -> None:
    """The institutions sampled for a fieldwork."""


@sample_group.command("import")
@click.argument("fieldwork_id", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def sample_import(fieldwork_id: int, path: Path) -> None:
    """Import a sample file (.xlsx or .csv); a file with any bad row imports nothing."""
    from app.fieldwork import services
    from app.platform.extensions import get_db

    try:
        # checked first, then stored 1,000 rows per transaction: a large file never keeps
        # the server's logins waiting for the database (all or nothing all the same)
        outcome = services.import_sample_in_batches(
            get_db(), fieldwork_id, path.read_bytes(), path.name, current_app.config["CLOCK"]()
        )
        if outcome.ok:
            with get_db().session() as session:
                _audit(
                    session,
                    "sample.imported",
                    fieldwork_id,
                    file=path.name[:200],
                    institutions=outcome.imported,
                )
    except services.FieldworkError as exc:
        raise click.ClickException(exc.message.render()) from None
    if not outcome.ok:
        click.echo(f"{path}: refused, nothing imported:", err=True)
        for problem in outcome.problems:
            click.echo(f"  {problem.render()}", err=True)
        sys.exit(1)
    click.echo(f"{outcome.imported} institutions imported into fieldwork {fieldwork_id}.")


@click.group("invitations", cls=AppGroup)
def invitations_group() -> None:
    """Personal links, and invitations and reminders by e-mail."""


@invitations_group.command("export")
@click.argument("fieldwork_id", type=int)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--base-url", default=None, help="the site's public address (default: BASE_URL)")
def invitations_export(fieldwork_id: int, output: Path, base_url: str | None) -> None:
    """Write the personal links as CSV (UTF-8, ';'-separated, opens in Excel) for mail merge."""
    from app.fieldwork import services
    from app.platform.extensions import get_db

    try:
        with get_db().session() as session:
            fieldwork = services.get_fieldwork(session, fieldwork_id)
            data = services.invitation_links_csv(
                session, fieldwork, base_url or current_app.config["BASE_URL"]
            )
            _audit(session, "invitations.exported", fieldwork_id)
    except services.FieldworkError as exc:
        raise click.ClickException(exc.message.render()) from None
    output.write_bytes(data)
    click.echo(f"Links written to {output}.")


@click.command("demo-data")
@click.argument("fieldwork_id", type=int)
@click.option(
    "--responses", "count", default=50, show_default=True, type=click.IntRange(0, 1_000_000)
)
@click.option("--seed", default=0, show_default=True, type=int, help="same seed, same answers")
@with_appcontext
def demo_data_command(fieldwork_id: int, count: int, seed: int) -> None:
    """Add synthetic responses, marked as demo, that obey the questionnaire's logic."""
    from app.demo.data import create_demo_responses
    from app.fieldwork import services
    from app.platform.extensions import get_db

    try:
        with get_db().session() as session:
            fieldwork = services.get_fieldwork(session, fieldwork_id)
            outcome = create_demo_responses(
                session, fieldwork, count, seed=seed, now=current_app.config["CLOCK"]()
            )
    except services.FieldworkError as exc:
        raise click.ClickException(exc.message.render()) from None
    click.echo(
        f"{outcome.created} demo responses created in fieldwork {fieldwork_id} "
        f"({outcome.complete} complete, {outcome.partial} partial; "
        f"{outcome.units_added} institutions added to the sample)."
    )


# --- the worker ---------------------------------------------------------------------------


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

    queue = queue_of(current_app._get_current_object())
    if queue.local:
        raise click.ClickException("ANKIETA_QUEUE_URL=memory is for the test suite only")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("huey").setLevel(logging.WARNING)
    threads = threads or current_app.config["WORKER_THREADS"]
    click.echo(f"Worker started ({threads} threads); Ctrl+C stops it.")
    queue.run_worker(threads, current_app.config["WORKER_CHECK_SECONDS"])


# --- demo ---------------------------------------------------------------------------------


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Create the demo accounts (one per role) and an open demo fieldwork; print how to start."""
    from app.demo.services import ensure_demo_accounts, ensure_demo_fieldwork
    from app.platform.extensions import get_db

    with get_db().session() as session:
        accounts = ensure_demo_accounts(session)
        demo = ensure_demo_fieldwork(session, current_app.config["CLOCK"]())
    click.echo("Demo accounts (user name, password, role):")
    for username, password, role in accounts:
        click.echo(f"  {username:<12} {password:<16} {role}")
    if demo is not None:
        base = current_app.config["BASE_URL"].rstrip("/")
        click.echo(f"Demo fieldwork {demo.id}: {demo.title}; personal links, e.g.:")
        for name, path in demo.links[:3]:
            click.echo(f"  {base}{path}  ({name})")
        click.echo(
            f"Telephone interviews: log in as {demo.interviewer}; {demo.callable} institutions"
            f" are waiting for a call, and calls are allowed at any hour"
            f" (calling hours {demo.calling_hours})."
        )


# Registered here too (see AnkietaGroup): after every command above is defined.
for _command in _commands():
    main.add_command(_command)
