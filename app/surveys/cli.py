"""`ankieta surveys check|load|list`: questionnaire definitions from the command line.

Messages follow the command line's language (``--lang`` or the locale; Polish by default);
the list's tab-separated rows are for scripts and stay as they are.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.domain.dates import format_local
from app.platform.cli import cli_gettext, language_option, say


@click.group("surveys", cls=AppGroup)
def surveys_group() -> None:
    """Questionnaire definitions."""


@surveys_group.command("check", with_appcontext=False)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@language_option
def surveys_check(paths: tuple[Path, ...]) -> None:
    """Check definition files and print every problem as FILE:LINE: item NAME: sentence."""
    from app.domain.check_files import run_check

    sys.exit(run_check([str(p) for p in paths], sys.stdout, gettext=cli_gettext()))


@surveys_group.command("load")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def surveys_load(paths: tuple[Path, ...]) -> None:
    """Store definitions as new versions (unchanged files are skipped)."""
    status = load_surveys(list(paths))
    if status:
        sys.exit(status)


def load_surveys(paths: list[Path]) -> int:
    """Load every definition under ``paths``; 1 if any was refused."""
    from app.platform import audit
    from app.platform.extensions import get_db
    from app.surveys import services

    gettext = cli_gettext()
    failed = 0
    files = services.definition_files(paths)
    for path in files:
        with get_db().session() as session:
            outcome = services.load_file(session, path)
            if not outcome.ok:
                failed += 1
                _refused(path, outcome.problems, gettext)
                continue
            survey, version = outcome.survey, outcome.version
            assert survey is not None and version is not None  # noqa: S101 - ok outcome
            if outcome.status == "unchanged":
                click.echo(
                    say(
                        "%(file)s: unchanged (%(survey)s version %(number)d)",
                        file=path,
                        survey=survey.code,
                        number=version.number,
                    )
                )
            else:
                audit.record_cli(
                    session,
                    "survey.loaded",
                    current_app.config["CLOCK"](),
                    file=path.name,
                    survey=survey.code,
                    version=version.number,
                )
                click.echo(
                    say(
                        "%(file)s: loaded %(survey)s version %(number)d",
                        file=path,
                        survey=survey.code,
                        number=version.number,
                    )
                )
    plans = services.plan_files(paths)
    for path in plans:
        with get_db().session() as session:
            plan_outcome = services.load_plan_file(session, path)
            if not plan_outcome.ok:
                failed += 1
                _refused(path, plan_outcome.problems, gettext)
                continue
            row = plan_outcome.plan
            assert row is not None  # noqa: S101 - ok outcome
            if plan_outcome.status == "unchanged":
                click.echo(say("%(file)s: unchanged (plan %(plan)s)", file=path, plan=row.code))
                continue
            audit.record_cli(
                session,
                "plan.loaded",
                current_app.config["CLOCK"](),
                file=path.name,
                plan=row.code,
            )
            click.echo(say("%(file)s: loaded plan %(plan)s", file=path, plan=row.code))
    if not files and not plans:
        click.echo(say("No definition files found."))
    return 1 if failed else 0


def _refused(path: Path, problems, gettext) -> None:
    """A file that was not stored: why, every problem on a line of its own."""
    click.echo(say("%(file)s: refused, nothing stored:", file=path), err=True)
    for problem in problems:
        click.echo(f"  {problem.render(gettext)}", err=True)


@surveys_group.command("list")
def surveys_list() -> None:
    """List surveys with their versions."""
    from app.models.surveys import list_surveys
    from app.platform.extensions import get_db

    with get_db().session() as session:
        rows = list_surveys(session)
        if not rows:
            click.echo(say("No surveys loaded."))
        for row in rows:
            latest = row.latest
            loaded = format_local(latest.loaded_at) if latest else "-"
            items = latest.item_count if latest else 0
            click.echo(
                f"{row.survey.id}\t{row.survey.code}\t{row.survey.title}\t"
                f"versions: {row.versions}\titems: {items}\tlatest: {loaded} (Warsaw time)"
            )
