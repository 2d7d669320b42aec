"""The `ankieta` command: the Flask CLI for this app plus its own commands.

Every command speaks Polish by default, English with ``ankieta --lang en ...`` or an English
locale (``LANG=en_...``): see ``say`` in app/platform/cli.py. Click's own usage errors and
the ``--help`` texts stay English.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import OperationalError

from app.platform.cli import fail, language_option, render, say
from app.platform.config import ConfigError


def _create_app() -> Flask:
    from app import create_app

    try:
        return create_app()
    except ConfigError as exc:
        error = render(exc.message)
        click.echo(say("ankieta: configuration error: %(error)s", error=error), err=True)
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
            raise fail("Cannot reach the database: %(reason)s", reason=reason) from None


@click.group(cls=AnkietaGroup, create_app=_create_app, add_version_option=False)
@language_option
def main() -> None:
    """Ankieta: survey collection and telephone interviewing."""


def register_commands(app: Flask) -> None:
    for command in _commands():
        app.cli.add_command(command)


def _commands() -> list[click.Command]:
    """Every Ankieta command, collected from the packages (their modules of commands import
    only click and flask at the top)."""
    from app.admin.cli import users_group
    from app.backup.cli import backup_command, restore_command
    from app.demo.cli import demo_command, demo_data_command
    from app.exports.cli import export_command, report_command
    from app.fieldwork.cli import fieldwork_group, invitations_group, sample_group
    from app.mailing.cli import register as register_mail_commands
    from app.platform.cli import db_group, worker_command
    from app.privacy.cli import privacy_group
    from app.supervise.cli import team_command
    from app.surveys.cli import surveys_group
    from app.tokens.cli import api_tokens_group

    fieldwork_group.add_command(team_command)
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


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Migrate the database to the newest schema, then load every definition in surveys/."""
    from app.platform.cli import masked_url, upgrade_database
    from app.surveys.cli import load_surveys

    upgrade_database()
    click.echo(say("Database ready: %(url)s", url=masked_url()))
    status = load_surveys([Path(current_app.config["SURVEYS_DIR"])])
    if status:
        sys.exit(status)


# Registered here too (see AnkietaGroup): after every command above is defined.
for _command in _commands():
    main.add_command(_command)
