"""The platform's commands (`ankieta db`, `ankieta worker`) and what every feature's commands share.

Like every module of commands, it imports only click and flask at the top: ``ankieta --help``
must not import the ORM or the web application.

The command line speaks Polish unless told otherwise (``--lang en`` or an English locale):
every message a person reads goes through ``say`` (a message id, English with ``%(name)s``
placeholders, translated from the web's catalogue) or ``render`` (a domain ``Message``).
Lines meant for scripts (the tab-separated lists, file paths, ids) are not translated.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from app.domain import dates
from app.domain.messages import Message

if TYPE_CHECKING:  # the ORM is imported only by the commands that use it
    from sqlalchemy.orm import Session

    from app.models.fieldwork import Fieldwork
    from app.models.scope import Scope
    from app.models.users import Role

LANGUAGES = ("pl", "en")
_LANGUAGE_KEY = "ankieta.lang"  # in click's context meta, shared by every nested command
F = TypeVar("F", bound=Callable[..., Any])


def locale_language(environ: Mapping[str, str] | None = None) -> str:
    """The language the command line speaks: English when the locale asks for it
    (``LC_ALL``, ``LC_MESSAGES``, ``LANG``, first set wins), otherwise Polish."""
    environ = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            return "en" if value.lower().startswith("en") else "pl"
    return "pl"


def _remember_language(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.meta[_LANGUAGE_KEY] = value


def language_option(function: F) -> F:
    """The ``--lang pl|en`` option: the language of this command's messages (and, on the
    root group, of every command's)."""
    option = click.option(
        "--lang",
        type=click.Choice(LANGUAGES),
        default=None,
        expose_value=False,
        is_eager=True,
        callback=_remember_language,
        help="Message language (default: from the locale, LC_ALL/LC_MESSAGES/LANG; else Polish).",
    )
    return option(function)


def cli_language() -> str:
    """The language of the running command: ``--lang`` if given, else the locale's."""
    ctx = click.get_current_context(silent=True)
    chosen = ctx.meta.get(_LANGUAGE_KEY) if ctx is not None else None
    return str(chosen) if chosen else locale_language()


def cli_gettext() -> Callable[[str], str]:
    """Translation into the command's language (message ids are English)."""
    language = cli_language()
    if language == "en":
        return _english
    from app.platform.i18n import translations  # Babel's catalogues only when they are used

    return translations(language).gettext


def _english(msgid: str) -> str:
    return msgid


def say(msgid: str, **params: Any) -> str:
    """``msgid`` (English, ``%(name)s`` placeholders) in the command's language."""
    return Message(msgid, params).render(cli_gettext())


def render(message: Message) -> str:
    """A domain message in the command's language."""
    return message.render(cli_gettext())


class CliError(click.ClickException):
    """A refused command: ``Error: message`` on stderr in the command's language, status 1."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        # said now: click shows the error after the command's context (its --lang) is gone
        self.line = say("Error: %(message)s", message=message)

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.line, file, err=True)


def fail(message: str | Message, **params: Any) -> CliError:
    """The error that stops a command, in its language: ``raise fail("msgid", name=...)``
    or, for a domain message, ``raise fail(exc.message)``."""
    if isinstance(message, Message):
        return CliError(render(message))
    return CliError(say(message, **params))


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
            raise click.BadParameter(render(dates.out_of_range_message()))
        return day
    raise click.BadParameter(
        say("%(value)s is not a date; use YYYY-MM-DD or DD.MM.YYYY.", value=repr(value))
    )


def audit_cli(
    session: Session, action: str, fieldwork_id: int | None = None, **detail: Any
) -> None:
    """Record a command-line action in the audit log, at the app's clock."""
    from app.platform import audit

    audit.record_cli(session, action, current_app.config["CLOCK"](), fieldwork_id, **detail)


AS_USER_HELP = (
    "Act as this account: only its subregions and entity types, only what its role may do "
    "on the web, and audited as it."
)


def as_user_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--as USER``: the command acts as ``USER`` (its role, its scope; see ``acting_as``)."""
    return click.option("--as", "as_user", default=None, metavar="USER", help=AS_USER_HELP)(command)


@dataclass(frozen=True)
class Acting:
    """Who a command acts as: the account ``--as`` names, or without it the operator, who
    sees the whole region."""

    user_id: int | None  # the account (None: the operator)
    scope: Scope
    actor_name: str  # in the audit log: ``cli:<os user>``, or ``cli:<os user> --as NAME``

    def record(
        self, session: Session, action: str, fieldwork_id: int | None = None, **detail: Any
    ) -> None:
        """Record an action of the command in the audit log, as done by this account."""
        from app.platform import audit

        audit.record(
            session,
            action,
            current_app.config["CLOCK"](),
            actor_id=self.user_id,
            actor_name=self.actor_name,
            fieldwork_id=fieldwork_id,
            target=f"fieldwork {fieldwork_id}" if fieldwork_id else "",
            detail=detail,
        )

    def fieldwork(
        self, session: Session, fieldwork_id: int, *, empty_ok: bool = False
    ) -> Fieldwork:
        """The fieldwork ``fieldwork_id`` if it exists and has institutions in the scope (or,
        with ``empty_ok``, none at all: a sample goes into an empty one); another
        subregion's fieldwork is refused as missing and recorded in the audit log."""
        from sqlalchemy import select

        from app.models.fieldwork import Fieldwork, SampleUnit

        fieldwork = session.get(Fieldwork, fieldwork_id)
        if fieldwork is None:
            raise fail("There is no fieldwork %(id)s.", id=fieldwork_id)
        if self.scope.admits_fieldwork(session, fieldwork):
            return fieldwork
        if empty_ok:
            units = select(SampleUnit.id).where(SampleUnit.fieldwork_id == fieldwork.id)
            if session.scalar(units.limit(1)) is None:
                return fieldwork
        from app.platform import audit

        audit.record(
            session,
            "scope.denied",
            current_app.config["CLOCK"](),
            actor_id=self.user_id,
            actor_name=self.actor_name,
            fieldwork_id=fieldwork_id,
            target=f"fieldwork {fieldwork_id}",
        )
        session.commit()
        raise fail("There is no fieldwork %(id)s.", id=fieldwork_id)


def acting_as(
    session: Session,
    as_user: str | None,
    may: Iterable[Role],
    *,
    whole_region: bool = False,
) -> Acting:
    """Who the command acts as: the account ``--as`` names (active, with a role that ``may``
    do this on the web, an administrator always; with ``whole_region``, one that sees the
    whole region, as the web refuses a scoped account such a page), else the operator."""
    from app.models.scope import UNSCOPED, Scope
    from app.models.users import Role
    from app.platform import audit
    from app.platform.accounts import find_user

    if as_user is None:
        return Acting(None, UNSCOPED, audit.cli_actor())
    user = find_user(session, as_user)
    if user is None or not user.active:
        raise fail("No active user %(name)s.", name=as_user)
    if user.role != Role.ADMIN and user.role not in set(may):
        raise fail(
            "The account %(name)s (role: %(role)s) may not do this.",
            name=user.username,
            role=user.role,
        )
    scope = Scope.of(user)
    if whole_region and not scope.is_whole_region:
        raise fail(
            "The account %(name)s sees only some subregions or entity types; this command"
            " works on the whole region.",
            name=user.username,
        )
    return Acting(user.id, scope, f"{audit.cli_actor()} --as {user.username}"[:150])


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
    click.echo(say("Database at %(revision)s: %(url)s", revision=revision, url=masked_url()))


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


def lower_cpu_priority() -> None:
    """Give this process (and the threads it starts from now on) the CPU only when nothing
    else wants it: Linux's SCHED_IDLE policy, or the lowest nice value where there is none.

    A worker sharing a machine with gunicorn then leaves the cores to page requests and
    builds its files in the time they leave over (bench/export_load.py measures it).
    """
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):  # not Linux, or refused
        with contextlib.suppress(OSError):
            os.nice(19 - os.nice(0))
    # Linux's autogroups share the CPU between sessions first and only then between the
    # processes of a session, so a worker leading a session of its own (a service, or
    # started with setsid) would still get as much as all of gunicorn: lower its session's
    # share too. A worker sharing a session (`make run`) leaves it alone, as it would
    # lower the server's share with its own.
    if os.getsid(0) == os.getpid():
        with contextlib.suppress(OSError):
            Path("/proc/self/autogroup").write_text("19")


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
        raise fail("ANKIETA_QUEUE_URL=memory is for the test suite only.")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("huey").setLevel(logging.WARNING)
    threads = threads or current_app.config["WORKER_THREADS"]
    if current_app.config["WORKER_IDLE_PRIORITY"]:
        # before the job threads start: they inherit the calling thread's policy
        lower_cpu_priority()
    click.echo(say("Worker started (threads: %(threads)d); Ctrl+C stops it.", threads=threads))
    queue.run_worker(threads, current_app.config["WORKER_CHECK_SECONDS"])
