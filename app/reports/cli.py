"""The `ankieta report` command: write a fieldwork's monitoring report workbook."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext


@click.command("report")
@click.argument("fieldwork_id", type=int)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The workbook to write (.xlsx).",
)
@click.option(
    "--by",
    default=None,
    help="Break figures down by this sample variable: subregion, entity_type, powiat, gmina "
    "or any other sample column.",
)
@click.option(
    "--compare",
    "compare_id",
    type=int,
    default=None,
    help="An earlier fieldwork of the same survey, shown side by side.",
)
@click.option(
    "--lang",
    default=None,
    type=click.Choice(["pl", "en"]),
    help="Language of question and choice labels (default: the questionnaire's).",
)
@click.option("--all", "include_partial", is_flag=True, help="Include partial responses too.")
@with_appcontext
def report_command(
    fieldwork_id: int,
    output: Path,
    by: str | None,
    compare_id: int | None,
    lang: str | None,
    include_partial: bool,
) -> None:
    """Write the monitoring report of FIELDWORK_ID: frequencies, numeric summaries, rates."""
    from flask import current_app

    from app.models.fieldwork import Fieldwork
    from app.platform import audit
    from app.platform.extensions import get_db
    from app.reports.services import ReportError, write_report

    with get_db().session() as session:
        fieldwork = session.get(Fieldwork, fieldwork_id)
        if fieldwork is None:
            raise click.ClickException(f"no fieldwork {fieldwork_id}")
        compare = None
        if compare_id is not None:
            compare = session.get(Fieldwork, compare_id)
            if compare is None:
                raise click.ClickException(f"no fieldwork {compare_id}")
        try:
            data = write_report(
                session,
                fieldwork,
                by=by,
                compare=compare,
                language=lang,
                include_partial=include_partial,
            )
        except ReportError as exc:
            raise click.ClickException(str(exc)) from None
        output.write_bytes(data)
        audit.record_cli(
            session,
            "report.downloaded",
            current_app.config["CLOCK"](),
            fieldwork_id,
            by=by,
            compare_id=compare_id,
            language=lang,
            include_partial=include_partial,
            file=str(output)[:200],
        )
    click.echo(f"Report of fieldwork {fieldwork_id} written to {output}.")
