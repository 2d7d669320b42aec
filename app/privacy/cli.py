"""`ankieta privacy`: retention dates and erasure of a fieldwork's contact data."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import AppGroup

from app.domain.dates import local_date
from app.platform.cli import acting_as, as_user_option, fail, parse_date, say

if TYPE_CHECKING:
    from app.platform.cli import Acting


@click.group("privacy", cls=AppGroup)
def privacy_group() -> None:
    """Personal data: how long contact data is kept, and erasing it."""


def _acting(session, as_user: str | None) -> Acting:
    """Who the command acts as: on the web, retention and erasure are an analyst's (or an
    administrator's) and work on the whole region, so a scoped account is refused."""
    from app.models.users import Role

    return acting_as(session, as_user, (Role.ANALYST,), whole_region=True)


@privacy_group.command("erase")
@click.argument("fieldwork_id", type=int)
@click.option("--yes", is_flag=True, help="Really erase (without it, only say what would go).")
@as_user_option
def privacy_erase(fieldwork_id: int, yes: bool, as_user: str | None) -> None:
    """Pseudonymise FIELDWORK_ID's contact data for good; responses and rates stay."""
    from app.platform.extensions import get_db
    from app.privacy import services as privacy

    with get_db().session() as session:
        acting = _acting(session, as_user)
        fieldwork = acting.fieldwork(session, fieldwork_id)
        if not yes:
            state = fieldwork.state
            click.echo(
                say(
                    "Fieldwork %(id)d (%(title)s, %(state)s): its contact persons, e-mails,"
                    " phone numbers, call and case notes and personal links would be replaced"
                    " by pseudonyms, and the files sent with answers deleted. Run again with"
                    " --yes to do it.",
                    id=fieldwork_id,
                    title=fieldwork.title,
                    state=say(state),  # the web's msgids "draft", "open", "closed"
                )
            )
            raise SystemExit(1)
        try:
            erased = privacy.erase_contacts(
                session,
                fieldwork,
                current_app.config["CLOCK"](),
                user_id=acting.user_id,
                actor_name=acting.actor_name,
            )
        except privacy.PrivacyError as exc:
            raise fail(exc.message) from None
    click.echo(
        say(
            "Contact data of fieldwork %(id)d erased: institutions: %(institutions)d, phone"
            " numbers: %(phones)d, calls: %(calls)d, notes: %(notes)d, stored results files:"
            " %(files)d, files sent with answers: %(attachments)d.",
            id=fieldwork_id,
            institutions=erased.institutions,
            phones=erased.phones,
            calls=erased.calls,
            notes=erased.notes,
            files=erased.files,
            attachments=erased.attachments,
        )
    )


@privacy_group.command("retention")
@click.argument("fieldwork_id", type=int)
@click.option(
    "--until", "until", default=None, help="keep contact data until then (YYYY-MM-DD or DD.MM.YYYY)"
)
@click.option("--clear", is_flag=True, help="Remove the date.")
@as_user_option
def privacy_retention(
    fieldwork_id: int, until: str | None, clear: bool, as_user: str | None
) -> None:
    """Show or set how long FIELDWORK_ID's contact data is kept."""
    from app.platform.extensions import get_db
    from app.privacy import services as privacy

    if until is not None and clear:
        raise click.UsageError(say("Give either --until or --clear."))
    day = parse_date(until)
    with get_db().session() as session:
        acting = _acting(session, as_user)
        fieldwork = acting.fieldwork(session, fieldwork_id)
        if until is not None or clear:
            privacy.set_retention(
                session,
                fieldwork,
                day,
                current_app.config["CLOCK"](),
                user_id=acting.user_id,
                actor_name=acting.actor_name,
            )
        kept = fieldwork.retain_contacts_until
        erased = fieldwork.contacts_erased_at
    if erased is not None:
        click.echo(
            say(
                "Fieldwork %(id)d: contact data erased on %(day)s.",
                id=fieldwork_id,
                day=f"{local_date(erased):%d.%m.%Y}",
            )
        )
    elif kept is None:
        click.echo(say("Fieldwork %(id)d: contact data kept with no end date.", id=fieldwork_id))
    else:
        click.echo(
            say(
                "Fieldwork %(id)d: contact data kept until %(day)s.",
                id=fieldwork_id,
                day=f"{kept:%d.%m.%Y}",
            )
        )


@privacy_group.command("due")
def privacy_due() -> None:
    """List fieldworks whose contact data is past its retention date (tab-separated, for
    scripts)."""
    from app.models.fieldwork import due_for_erasure
    from app.platform.extensions import get_db

    with get_db().session() as session:
        due = due_for_erasure(session, current_app.config["CLOCK"]())
        rows = [(f.id, f.title, f.retain_contacts_until) for f in due]
    if not rows:
        click.echo(say("No fieldwork is past its retention date."))
    for fieldwork_id, title, until in rows:
        click.echo(f"{fieldwork_id}\t{title}\tkept until {until}")
