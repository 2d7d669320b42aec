"""`ankieta export` (a fieldwork's responses to an XLSX workbook, a CSV, SPSS or Stata file)
and `ankieta report` (its monitoring report workbook).

Their messages follow the command line's language (``ankieta --lang en export ...`` or the
locale; Polish by default). Their own ``--lang`` is another thing: the language of the
questionnaire's labels in the file (default: the questionnaire's own). The last line on
stdout names the file written, for scripts.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import with_appcontext

from app.platform.cli import (
    LANGUAGES,
    acting_as,
    as_user_option,
    fail,
    parse_date,
    say,
)

if TYPE_CHECKING:
    from app.models.users import Role


def _may_export() -> tuple[Role, ...]:
    """Who asks for results files on the web: analysts and OWES coordinators (and admins)."""
    from app.models.users import Role

    return (Role.ANALYST, Role.COORDINATOR)


@click.command("export")
@click.argument("fieldwork_id", type=int)
@click.option(
    "-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), required=True
)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["xlsx", "csv", "sav", "dta", "attachments"]),
    default=None,
    help="Default: from the file name's extension (.zip: csv), else xlsx. With repeats, "
    "csv, sav and dta give a zip of files, one per sheet. attachments: a zip of the files "
    "sent with file questions.",
)
@click.option("--labels", is_flag=True, help="Choice labels instead of codes.")
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default=None,
    help="Language of the file: its question and choice labels (default: the "
    "questionnaire's), sheet names and fixed headers (Polish unless en); the messages' "
    "language is `ankieta --lang`.",
)
@click.option(
    "--csv-dialect",
    type=click.Choice(["excel-pl", "rfc4180"]),
    default="excel-pl",
    show_default=True,
    help="CSV only: excel-pl (';', decimal comma, UTF-8 with BOM: Excel in Polish) or "
    "rfc4180 (',', decimal point, no BOM: R, pandas, SPSS).",
)
@click.option("--complete-only", is_flag=True, help="Only completed responses.")
@click.option("--from", "date_from", default=None, help="YYYY-MM-DD or DD.MM.YYYY")
@click.option("--to", "date_to", default=None, help="YYYY-MM-DD or DD.MM.YYYY")
@click.option("--subregion", default=None, help="Only institutions of this subregion.")
@click.option("--tests", "include_tests", is_flag=True, help="Also test responses.")
@as_user_option
@with_appcontext
def export_command(
    fieldwork_id: int,
    output: Path,
    file_format: str | None,
    labels: bool,
    lang: str | None,
    csv_dialect: str,
    complete_only: bool,
    date_from: str | None,
    date_to: str | None,
    subregion: str | None,
    include_tests: bool,
    as_user: str | None,
) -> None:
    """Export a fieldwork's responses (with codebook, calls and dispositions in XLSX;
    with variable labels, value labels and missing values in SPSS .sav and Stata .dta)."""
    from app.exports import services, workbook
    from app.exports.attachments import write_attachments
    from app.exports.jobs import export_options_to_json
    from app.exports.statfiles import write_statfile
    from app.platform.extensions import get_db
    from app.platform.i18n import translate

    if file_format is None:
        suffix = output.suffix.lower().lstrip(".")
        # a .zip is the CSV of a questionnaire with repeats (one CSV per sheet)
        file_format = (
            "csv" if suffix == "zip" else suffix if suffix in ("csv", "sav", "dta") else "xlsx"
        )
    options = services.ExportOptions(
        labels=labels,
        language=lang,
        complete_only=complete_only,
        date_from=parse_date(date_from),
        date_to=parse_date(date_to),
        subregion=subregion,
        include_tests=include_tests,
        csv_dialect=csv_dialect,
    )
    if options.date_from and options.date_to and options.date_from > options.date_to:
        raise click.BadParameter(say("--from is after --to."), param_hint="--from")
    try:
        with get_db().session() as session:
            acting = acting_as(session, as_user, _may_export())
            fieldwork = acting.fieldwork(session, fieldwork_id)
            options = replace(options, scope=acting.scope)
            total = services.count_responses(session, fieldwork, options)
            if file_format in ("sav", "dta"):

                def write(*args, **kwargs):
                    return write_statfile(*args, file_format=file_format, **kwargs)

            elif file_format == "attachments":
                write = write_attachments
            else:
                write = workbook.write_xlsx if file_format == "xlsx" else services.write_csv
            # the bar goes to stderr, so stdout keeps only the result lines (the file last)
            with click.progressbar(length=total, label=say("Exporting"), file=sys.stderr) as bar:
                written = write(
                    session, fieldwork, output, options, translate=translate, progress=bar.update
                )
            zipped = file_format not in ("xlsx", "attachments") and services.has_repeats(
                session, fieldwork, options
            )
            acting.record(
                session,
                "export.downloaded",
                fieldwork_id,
                format=file_format,
                file=str(output)[:200],
                **export_options_to_json(options),
            )
    except OSError as exc:
        raise fail(
            "Cannot write %(file)s: %(error)s", file=output, error=exc.strerror or exc
        ) from None
    except workbook.SheetFull as exc:
        raise fail(exc.message) from None
    if zipped:
        click.echo(say("The questionnaire has lists: the file is a zip with one file per sheet."))
    click.echo(say("Responses exported: %(n)d.", n=written))
    click.echo(output)


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
    type=click.Choice(LANGUAGES),
    help="Language of the report's question and choice labels (default: the questionnaire's); "
    "the messages' language is `ankieta --lang`.",
)
@click.option("--all", "include_partial", is_flag=True, help="Include partial responses too.")
@as_user_option
@with_appcontext
def report_command(
    fieldwork_id: int,
    output: Path,
    by: str | None,
    compare_id: int | None,
    lang: str | None,
    include_partial: bool,
    as_user: str | None,
) -> None:
    """Write the monitoring report of FIELDWORK_ID: frequencies, numeric summaries, rates."""
    from app.exports.report import ReportError, known_breakdowns, write_report
    from app.models.fieldwork import Fieldwork
    from app.platform.extensions import get_db

    with get_db().session() as session:
        acting = acting_as(session, as_user, _may_export())
        fieldwork = acting.fieldwork(session, fieldwork_id)
        scope = acting.scope
        # the web offers only these choices; here they are checked, in the reader's language
        if by is not None and by not in known_breakdowns(session, fieldwork):
            raise fail("The sample has no variable %(name)s.", name=repr(by))
        compare = None
        if compare_id is not None:
            compare = session.get(Fieldwork, compare_id)
            if compare is None:
                raise fail("There is no fieldwork %(id)s.", id=compare_id)
            if compare.id == fieldwork.id:
                raise fail("A fieldwork cannot be compared with itself.")
            if compare.survey_id != fieldwork.survey_id:
                raise fail("Fieldwork %(id)d is of another survey.", id=compare_id)
        try:
            data = write_report(
                session,
                fieldwork,
                by=by,
                compare=compare,
                language=lang,
                include_partial=include_partial,
                scope=scope,
            )
        except ReportError as exc:
            raise fail("The report cannot be made: %(reason)s", reason=str(exc)) from None
        output.write_bytes(data)
        acting.record(
            session,
            "report.downloaded",
            fieldwork_id,
            by=by,
            compare_id=compare_id,
            language=lang,
            include_partial=include_partial,
            file=str(output)[:200],
            **({} if scope.is_whole_region else {"scope": scope.describe()}),
        )
    click.echo(say("Report of fieldwork %(id)d written.", id=fieldwork_id))
    click.echo(output)
