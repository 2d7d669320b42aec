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
@click.option(
    "--role", required=True, help="admin, analyst, supervisor, interviewer or coordinator"
)
@click.option("--name", "full_name", default="", help="The person's full name.")
@click.option(
    "--password",
    default=None,
    help="Set this password (else one is generated and printed; it must be changed at login).",
)
@click.option("--subregions", default="", help="Comma-separated; the account sees only these.")
@click.option("--entity-types", default="", help="Comma-separated; the account sees only these.")
def users_create(
    username: str,
    role: str,
    full_name: str,
    password: str | None,
    subregions: str,
    entity_types: str,
) -> None:
    """Create a user with ROLE (limited to some subregions and entity types if given)."""
    from app.platform import audit
    from app.platform.accounts import AccountError, create_user, scope_detail, split_list
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
                subregions=split_list(subregions),
                entity_types=split_list(entity_types),
            )
            audit.record(
                session,
                "user.created",
                current_app.config["CLOCK"](),
                actor_name=audit.cli_actor(),
                target=f"user {user.username}",
                detail={"role": user.role, **scope_detail(user)},
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


@users_group.command("change")
@click.argument("username")
@click.option("--role", default=None, help="admin, analyst, supervisor, interviewer or coordinator")
@click.option("--subregions", default=None, help="Comma-separated; empty: the whole region.")
@click.option("--entity-types", default=None, help="Comma-separated; empty: every type.")
def users_change(
    username: str, role: str | None, subregions: str | None, entity_types: str | None
) -> None:
    """Change a user's role, subregions or entity types (what is not given stays)."""
    from app.admin import services
    from app.models.users import Role
    from app.platform import audit
    from app.platform.accounts import AccountError, find_user, split_list
    from app.platform.extensions import get_db

    if role is not None and role not in {r.value for r in Role}:
        raise fail(
            "Unknown role %(role)s; choose one of: %(roles)s.",
            role=role,
            roles=", ".join(r.value for r in Role),
        )
    try:
        with get_db().session() as session:
            user = find_user(session, username)
            if user is None:
                raise fail("No user %(name)s.", name=username)
            changed = services.update_user(
                user,
                user.full_name,
                role or user.role,
                user.active,
                split_list(subregions) if subregions is not None else user.subregions,
                split_list(entity_types) if entity_types is not None else user.entity_types,
            )
            if changed:
                audit.record(
                    session,
                    "user.changed",
                    current_app.config["CLOCK"](),
                    actor_name=audit.cli_actor(),
                    target=f"user {user.username}",
                    detail=changed,
                )
    except AccountError as exc:
        raise fail(exc.message) from None
    click.echo(say("Changes to %(name)s saved.", name=user.username))


@users_group.command("list")
def users_list() -> None:
    """List user accounts (tab-separated, for scripts: name, role, active/disabled, full name,
    subregions, entity types)."""
    from sqlalchemy import select

    from app.models.users import User
    from app.platform.extensions import get_db

    with get_db().session() as session:
        for user in session.scalars(select(User).order_by(User.username)):
            state = "active" if user.active else "disabled"
            scope = "\t".join(
                ",".join(values or []) for values in (user.subregions, user.entity_types)
            )
            click.echo(f"{user.username}\t{user.role}\t{state}\t{user.full_name}\t{scope}")
