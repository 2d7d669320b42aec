"""`ankieta demo` and `ankieta demo-data`: demo accounts, a demo fieldwork, synthetic answers."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.platform.cli import fail, say


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Create the demo accounts (one per role) and an open demo fieldwork; print how to start."""
    from app.demo.services import ensure_demo_accounts, ensure_demo_fieldwork
    from app.platform.extensions import get_db

    with get_db().session() as session:
        accounts = ensure_demo_accounts(session)
        demo = ensure_demo_fieldwork(session, current_app.config["CLOCK"]())
    click.echo(say("Demo accounts (user name, password, role):"))
    for username, password, role in accounts:
        click.echo(f"  {username:<16} {password:<16} {role}")
    if demo is not None:
        base = current_app.config["BASE_URL"].rstrip("/")
        click.echo(
            say(
                "Demo fieldwork %(id)d: %(title)s; personal links, e.g.:",
                id=demo.id,
                title=demo.title,
            )
        )
        for name, path in demo.links[:3]:
            click.echo(f"  {base}{path}  ({name})")
        click.echo(
            say(
                "Telephone interviews: log in as %(interviewer)s; institutions waiting for a"
                " call: %(count)d; calls are allowed at any hour (calling hours %(hours)s).",
                interviewer=demo.interviewer,
                count=demo.callable,
                hours=demo.calling_hours,
            )
        )


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
        raise fail(exc.message) from None
    click.echo(
        say(
            "Demo responses created in fieldwork %(id)d: %(created)d (complete: %(complete)d,"
            " partial: %(partial)d); institutions added to the sample: %(added)d.",
            id=fieldwork_id,
            created=outcome.created,
            complete=outcome.complete,
            partial=outcome.partial,
            added=outcome.units_added,
        )
    )
