"""`ankieta users create|list`: user accounts from the command line."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.platform.cli import fail, say


@click.group("users", cls=AppGroup)
def users_group() -> None:
    """User accounts."""


@users_group.command("create")
@click.argument("username")
@click.option("--role", required=True, help="admin, analyst, supervisor or interviewer")
@click.option("--name", "full_name", default="", help="The person's full name.")
@click.option(
    "--password",
    default=None,
    help="Set this password (else one is generated and printed; it must be changed at login).",
)
def users_create(username: str, role: str, full_name: str, password: str | None) -> None:
    """Create a user with ROLE."""
    from app.platform import audit
    from app.platform.accounts import AccountError, create_user
    from app.platform.extensions import get_db

    try:
        with get_db().session() as session:
            user, issued = create_user(
                session,
                username,
                role,
                full_name=full_name,
                password=password,
                must_change_password=password is None,
            )
            audit.record(
                session,
                "user.created",
                current_app.config["CLOCK"](),
                actor_name=audit.cli_actor(),
                target=f"user {user.username}",
                detail={"role": user.role},
            )
    except AccountError as exc:
        raise fail(exc.message) from None
    click.echo(say("Created %(user)s (%(role)s).", user=username.strip().lower(), role=role))
    if password is None:
        click.echo(
            say(
                "Password (shown once, to be changed at first login): %(password)s", password=issued
            )
        )


@users_group.command("list")
def users_list() -> None:
    """List user accounts (tab-separated, for scripts: name, role, active/disabled, full name)."""
    from sqlalchemy import select

    from app.models.users import User
    from app.platform.extensions import get_db

    with get_db().session() as session:
        for user in session.scalars(select(User).order_by(User.username)):
            state = "active" if user.active else "disabled"
            click.echo(f"{user.username}\t{user.role}\t{state}\t{user.full_name}")
