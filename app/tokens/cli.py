"""`ankieta api-tokens`: personal API tokens from the command line."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup


@click.group("api-tokens", cls=AppGroup)
def api_tokens_group() -> None:
    """Personal tokens for the REST API (/api/v1/)."""


@api_tokens_group.command("create")
@click.argument("username")
@click.option("--days", type=int, default=90, show_default=True, help="Valid for this many days.")
@click.option("--read-only", is_flag=True, help="Only reading (GET); no imports or exports.")
@click.option("--name", default="", help="What the token is for, e.g. the system using it.")
def create_command(username: str, days: int, read_only: bool, name: str) -> None:
    """Make a token for USERNAME and print it (once: only its hash is kept)."""
    from sqlalchemy import select

    from app.models.tokens import TokenScope
    from app.models.users import User
    from app.platform import audit
    from app.platform.extensions import get_db
    from app.tokens.services import TokenError, create_token

    now = current_app.config["CLOCK"]()
    with get_db().session() as session:
        user = session.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None:
            raise click.ClickException(f"no user {username!r}")
        scope = TokenScope.READ if read_only else TokenScope.WRITE
        try:
            issued = create_token(session, user, now=now, name=name, days=days, scope=scope)
        except TokenError as exc:
            raise click.ClickException(exc.message.render()) from None
        audit.record(
            session,
            "api_token.created",
            now,
            actor_name=audit.cli_actor(),
            target=f"user {user.username}",
            detail={"token": issued.token.id, "scope": scope.value, "days": days},
        )
        expires = issued.token.expires_at.strftime("%Y-%m-%d %H:%M UTC")
        click.echo(f"Token {issued.token.id} for {user.username} ({scope.value}), until {expires}:")
        click.echo(issued.secret)
        click.echo("It is shown only now; keep it secret.", err=True)


@api_tokens_group.command("list")
def list_command() -> None:
    """List every token: id, user, scope, state, expiry, last use."""
    from app.platform.extensions import get_db
    from app.tokens.services import tokens_of

    now = current_app.config["CLOCK"]()
    with get_db().session() as session:
        for token in tokens_of(session):
            if token.revoked_at is not None:
                state = "revoked"
            elif not token.is_valid(now):
                state = "expired"
            else:
                state = "valid"
            used = token.last_used_at.strftime("%Y-%m-%d %H:%M") if token.last_used_at else "-"
            click.echo(
                f"{token.id}\t{token.user.username}\t{token.scope}\t{state}\t"
                f"{token.expires_at:%Y-%m-%d}\t{used}\t{token.hint}…\t{token.name}"
            )


@api_tokens_group.command("revoke")
@click.argument("token_id", type=int)
def revoke_command(token_id: int) -> None:
    """Revoke token TOKEN_ID: it stops working at once."""
    from app.platform import audit
    from app.platform.extensions import get_db
    from app.tokens.services import revoke_token

    now = current_app.config["CLOCK"]()
    with get_db().session() as session:
        token = revoke_token(session, token_id, now)
        if token is None:
            raise click.ClickException(f"no token {token_id}")
        audit.record(
            session,
            "api_token.revoked",
            now,
            actor_name=audit.cli_actor(),
            target=f"user {token.user.username}",
            detail={"token": token.id},
        )
    click.echo(f"Token {token_id} revoked.")
