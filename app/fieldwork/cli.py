"""`ankieta fieldwork|sample|invitations export`: fieldworks, samples, links on the command line.

``fieldwork list`` prints tab-separated rows for scripts (not translated); every other
message follows the command line's language. The fieldwork group's ``team`` command is
app.supervise's, the invitations group's e-mail commands app.mailing's: the root
(app/cli.py) adds them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import AppGroup

from app.domain.messages import N_
from app.platform.cli import (
    acting_as,
    as_user_option,
    audit_cli,
    cli_gettext,
    fail,
    parse_date,
    say,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.platform.cli import Acting

_STATE_SENTENCES = {
    "draft": N_("Fieldwork %(id)d is a draft."),
    "open": N_("Fieldwork %(id)d is open."),
    "closed": N_("Fieldwork %(id)d is closed."),
}


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
                opens_on=parse_date(opens),
                closes_on=parse_date(closes),
                open_link=open_link,
            )
            fieldwork_id = fieldwork.id
            audit_cli(session, "fieldwork.created", fieldwork_id, title=title, survey=survey)
    except services.FieldworkError as exc:
        raise fail(exc.message) from None
    click.echo(fieldwork_id)


@fieldwork_group.command("open")
@click.argument("fieldwork_id", type=int)
@as_user_option
def fieldwork_open(fieldwork_id: int, as_user: str | None) -> None:
    """Open a fieldwork: it starts accepting answers."""
    _change_state(fieldwork_id, "open", as_user)


@fieldwork_group.command("close")
@click.argument("fieldwork_id", type=int)
@as_user_option
def fieldwork_close(fieldwork_id: int, as_user: str | None) -> None:
    """Close a fieldwork: it keeps everything and accepts no more answers."""
    _change_state(fieldwork_id, "close", as_user)


def _analyst_of_the_region(session: Session, as_user: str | None) -> Acting:
    """Who the command acts as: on the web, opening, closing and upgrading a fieldwork are
    an analyst's (or an administrator's) and work on the whole region."""
    from app.models.users import Role

    return acting_as(session, as_user, (Role.ANALYST,), whole_region=True)


def _change_state(fieldwork_id: int, action: str, as_user: str | None) -> None:
    from app.fieldwork import services
    from app.platform.extensions import get_db

    try:
        with get_db().session() as session:
            acting = _analyst_of_the_region(session, as_user)
            fieldwork = acting.fieldwork(session, fieldwork_id)
            before = fieldwork.state
            services.change_state(
                session,
                fieldwork,
                action,
                current_app.config["CLOCK"](),
                retention_days=current_app.config["CONTACT_RETENTION_DAYS"],
            )
            state = fieldwork.state
            acting.record(session, "fieldwork.state_changed", fieldwork_id, state=[before, state])
    except services.FieldworkError as exc:
        raise fail(exc.message) from None
    click.echo(say(_STATE_SENTENCES[state], id=fieldwork_id))


@fieldwork_group.command("upgrade")
@click.argument("fieldwork_id", type=int)
@click.option("--to", "number", type=int, required=True, help="the survey's version number")
@click.option("--dry-run", is_flag=True, help="only show what would happen")
@as_user_option
def fieldwork_upgrade(fieldwork_id: int, number: int, dry_run: bool, as_user: str | None) -> None:
    """Move FIELDWORK_ID to a newer version of its definition (links stay the same)."""
    from app.fieldwork import services, upgrades
    from app.platform.extensions import get_db

    try:
        with get_db().session() as session:
            acting = _analyst_of_the_region(session, as_user)
            fieldwork = acting.fieldwork(session, fieldwork_id)
            plan = upgrades.plan_upgrade(session, fieldwork, number)
            for line in upgrades.upgrade_report(plan, cli_gettext()):
                click.echo(line)
            if not plan.changes.ok:
                raise fail("The new version is not compatible; nothing changed.")
            if dry_run:
                click.echo(say("Dry run: nothing changed."))
                return
            detail = plan.audit_detail()
            upgrades.upgrade(session, plan, current_app.config["CLOCK"]())
            acting.record(session, "fieldwork.upgraded", fieldwork_id, **detail)
    except services.FieldworkError as exc:
        raise fail(exc.message) from None
    click.echo(say("Fieldwork %(id)d now uses version %(n)d.", id=fieldwork_id, n=number))


@fieldwork_group.command("list")
@as_user_option
def fieldwork_list(as_user: str | None) -> None:
    """List fieldworks with their sample size and response counts (tab-separated, for scripts)."""
    from app.fieldwork import services
    from app.models.users import Role
    from app.platform.extensions import get_db

    with get_db().session() as session:
        acting = acting_as(session, as_user, (Role.ANALYST, Role.COORDINATOR))
        rows = services.list_fieldworks(session, acting.scope)
        if not rows:
            click.echo(say("No fieldwork."))
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
@as_user_option
def sample_import(fieldwork_id: int, path: Path, as_user: str | None) -> None:
    """Import a sample file (.xlsx or .csv); a file with any bad row imports nothing (with
    --as, a row outside that account's subregions or entity types is a bad row)."""
    from app.fieldwork import services
    from app.models.users import Role
    from app.platform.extensions import get_db

    try:
        with get_db().session() as session:
            acting = acting_as(session, as_user, (Role.ANALYST,))
            acting.fieldwork(session, fieldwork_id, empty_ok=True)
        # checked first, then stored 1,000 rows per transaction: a large file never keeps
        # the server's logins waiting for the database (all or nothing all the same)
        outcome = services.import_sample_in_batches(
            get_db(),
            fieldwork_id,
            path.read_bytes(),
            path.name,
            current_app.config["CLOCK"](),
            scope=acting.scope,
        )
        if outcome.ok:
            with get_db().session() as session:
                acting.record(
                    session,
                    "sample.imported",
                    fieldwork_id,
                    file=path.name[:200],
                    institutions=outcome.imported,
                )
    except services.FieldworkError as exc:
        raise fail(exc.message) from None
    if not outcome.ok:
        click.echo(say("%(file)s: refused, nothing imported:", file=path), err=True)
        for problem in outcome.problems:
            click.echo(f"  {problem.render(cli_gettext())}", err=True)
        sys.exit(1)
    click.echo(
        say(
            "Institutions imported into fieldwork %(id)d: %(count)d.",
            id=fieldwork_id,
            count=outcome.imported,
        )
    )


@click.group("invitations", cls=AppGroup)
def invitations_group() -> None:
    """Personal links, and invitations and reminders by e-mail."""


@invitations_group.command("export")
@click.argument("fieldwork_id", type=int)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--base-url", default=None, help="the site's public address (default: BASE_URL)")
@as_user_option
def invitations_export(
    fieldwork_id: int, output: Path, base_url: str | None, as_user: str | None
) -> None:
    """Write the personal links as CSV (UTF-8, ';'-separated, opens in Excel) for mail merge."""
    from app.fieldwork import services
    from app.models.users import Role
    from app.platform.extensions import get_db

    with get_db().session() as session:
        acting = acting_as(session, as_user, (Role.ANALYST,))
        fieldwork = acting.fieldwork(session, fieldwork_id)
        data = services.invitation_links_csv(
            session, fieldwork, base_url or current_app.config["BASE_URL"], acting.scope
        )
        acting.record(session, "invitations.exported", fieldwork_id)
    output.write_bytes(data)
    click.echo(say("Links written to %(file)s.", file=output))
