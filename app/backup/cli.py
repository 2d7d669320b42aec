"""`ankieta backup` and `ankieta restore`: the whole database to one file and back."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext


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
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Backup of {masked(url)} written to {result.path}: {human_size(result.size)}, "
        f"{result.summary.describe()}."
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
        raise click.ClickException(str(exc)) from None
    try:
        if not yes:
            current = current_summary(url)
            click.echo(
                f"This would replace everything in {masked(url)} ({current.describe()}) "
                f"with the backup {path} ({restore.summary.describe()}).",
                err=True,
            )
            click.echo("Stop the server, then run again with --yes to restore.", err=True)
            sys.exit(1)
        get_db().dispose()  # this process's own pooled connections
        result = restore.run()
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        restore.close()
    click.echo(f"Restored {path} into {masked(url)}: {result.summary.describe()}.")
    if result.leftover_tables:
        click.echo(
            "Warning: these tables are not in the backup and were left as they were: "
            + ", ".join(result.leftover_tables),
            err=True,
        )
    if result.needs_upgrade:
        click.echo(
            f"The backup is at an older schema revision ({result.summary.revision}; this "
            f"version's is {result.head}): run `ankieta db upgrade` before starting the server."
        )
