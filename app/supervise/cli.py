"""`ankieta fieldwork team`: which interviewers get a fieldwork's cases (the root adds it to
the fieldwork group)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.platform.cli import fail, say


@click.command("team")
@click.argument("fieldwork_id", type=int)
@click.option("--add", "add", multiple=True, help="an interviewer's user name (repeatable)")
@click.option("--remove", "remove", multiple=True, help="an interviewer's user name (repeatable)")
@with_appcontext
def team_command(fieldwork_id: int, add: tuple[str, ...], remove: tuple[str, ...]) -> None:
    """Show or change which interviewers get FIELDWORK_ID's cases."""
    from app.domain.messages import N_, Message
    from app.models.fieldwork import Fieldwork
    from app.platform import audit
    from app.platform.accounts import find_user
    from app.platform.extensions import get_db
    from app.supervise import services as supervise

    try:
        with get_db().session() as session:
            fieldwork = session.get(Fieldwork, fieldwork_id)
            if fieldwork is None:
                message = Message(N_("There is no fieldwork %(id)s."), {"id": fieldwork_id})
                raise fail(message)
            members = {u.id for u in supervise.team(session, fieldwork)}
            for username in (*add, *remove):
                user = find_user(session, username)
                if user is None:
                    raise fail("There is no user %(name)s.", name=repr(username))
                if username in add:
                    members.add(user.id)
                else:
                    members.discard(user.id)
            if add or remove:
                supervise.set_team(
                    session,
                    fieldwork,
                    members,
                    None,
                    current_app.config["CLOCK"](),
                    actor_name=audit.cli_actor(),
                )
            names = [u.username for u in supervise.team(session, fieldwork)]
    except supervise.SupervisorError as exc:
        raise fail(exc.message) from None
    if names:
        click.echo(
            say("Team of fieldwork %(id)d: %(names)s", id=fieldwork_id, names=", ".join(names))
        )
    else:
        click.echo(say("Team of fieldwork %(id)d: nobody", id=fieldwork_id))
