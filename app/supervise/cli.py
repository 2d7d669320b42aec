"""`ankieta fieldwork team`: which interviewers get a fieldwork's cases (the root adds it to
the fieldwork group)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.platform.cli import acting_as, as_user_option, fail, say


@click.command("team")
@click.argument("fieldwork_id", type=int)
@click.option("--add", "add", multiple=True, help="an interviewer's user name (repeatable)")
@click.option("--remove", "remove", multiple=True, help="an interviewer's user name (repeatable)")
@as_user_option
@with_appcontext
def team_command(
    fieldwork_id: int, add: tuple[str, ...], remove: tuple[str, ...], as_user: str | None
) -> None:
    """Show or change which interviewers get FIELDWORK_ID's cases (with --as, changing it
    needs a supervisor who sees the whole region, as on the web)."""
    from app.models.users import Role
    from app.platform.accounts import find_user
    from app.platform.extensions import get_db
    from app.supervise import services as supervise

    changing = bool(add or remove)
    # the web: the supervision page shows the team to supervisors and OWES coordinators
    # of the fieldwork's subregions; only a supervisor of the whole region changes it
    may = (Role.SUPERVISOR,) if changing else (Role.SUPERVISOR, Role.COORDINATOR)
    try:
        with get_db().session() as session:
            acting = acting_as(session, as_user, may, whole_region=changing)
            fieldwork = acting.fieldwork(session, fieldwork_id)
            members = {u.id for u in supervise.team(session, fieldwork)}
            for username in (*add, *remove):
                user = find_user(session, username)
                if user is None:
                    raise fail("There is no user %(name)s.", name=repr(username))
                if username in add:
                    members.add(user.id)
                else:
                    members.discard(user.id)
            if changing:
                supervise.set_team(
                    session,
                    fieldwork,
                    members,
                    acting.user_id,
                    current_app.config["CLOCK"](),
                    actor_name=acting.actor_name,
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
