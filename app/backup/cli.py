"""`ankieta backup` and `ankieta restore`: the whole database to one file and back."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.platform.cli import fail, render, say


@click.command("backup")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The backup file to write.",
)
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@with_appcontext
def backup_command(output: Path, force: bool) -> None:
    """Write a consistent backup of the database (safe while the server runs).

    SQLite: a copy made with SQLite's online backup. PostgreSQL: a pg_dump custom archive
    (pg_dump must be on PATH).
    """
    from app.backup.services import BackupError, backup, human_size, masked

    url = current_app.config["DATABASE_URL"]
    try:
        result = backup(url, output, force=force)
    except BackupError as exc:
        raise fail(exc.message) from None
    click.echo(
        say(
            "Backup of %(database)s written to %(file)s: %(size)s, %(summary)s.",
            database=masked(url),
            file=result.path,
            size=human_size(result.size),
            summary=render(result.summary.describe()),
        )
    )


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Really replace the database's whole contents.")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Replace the whole database with the backup in PATH (stop the server first).

    The file is checked before anything is changed; without --yes the command only says
    what it would replace.
    """
    from app.backup.services import BackupError, Restore, current_summary, masked
    from app.platform.extensions import get_db

    url = current_app.config["DATABASE_URL"]
    try:
        restore = Restore(url, path)
    except BackupError as exc:
        raise fail(exc.message) from None
    try:
        if not yes:
            current = current_summary(url)
            click.echo(
                say(
                    "This would replace everything in %(database)s (%(current)s)"
                    " with the backup %(file)s (%(backup)s).",
                    database=masked(url),
                    current=render(current.describe()),
                    file=path,
                    backup=render(restore.summary.describe()),
                ),
                err=True,
            )
            click.echo(say("Stop the server, then run again with --yes to restore."), err=True)
            sys.exit(1)
        get_db().dispose()  # this process's own pooled connections
        result = restore.run()
    except BackupError as exc:
        raise fail(exc.message) from None
    finally:
        restore.close()
    click.echo(
        say(
            "Restored %(file)s into %(database)s: %(summary)s.",
            file=path,
            database=masked(url),
            summary=render(result.summary.describe()),
        )
    )
    if result.leftover_tables:
        click.echo(
            say(
                "Warning: these tables are not in the backup and were left as they were:"
                " %(tables)s",
                tables=", ".join(result.leftover_tables),
            ),
            err=True,
        )
    if result.needs_upgrade:
        click.echo(
            say(
                "The backup is at an older schema revision (%(revision)s; this version's is"
                " %(head)s): run `ankieta db upgrade` before starting the server.",
                revision=result.summary.revision,
                head=result.head,
            )
        )
