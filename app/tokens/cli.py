"""`ankieta api-tokens`: personal API tokens from the command line."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.domain.dates import format_local
from app.platform.cli import fail, say


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
            raise fail("There is no user %(name)s.", name=repr(username))
        scope = TokenScope.READ if read_only else TokenScope.WRITE
        try:
            issued = create_token(session, user, now=now, name=name, days=days, scope=scope)
        except TokenError as exc:
            raise fail(exc.message) from None
        audit.record(
            session,
            "api_token.created",
            now,
            actor_name=audit.cli_actor(),
            target=f"user {user.username}",
            detail={"token": issued.token.id, "scope": scope.value, "days": days},
        )
        click.echo(
            say(
                "Token %(id)d for %(user)s (%(scope)s), valid until %(moment)s (Warsaw time):",
                id=issued.token.id,
                user=user.username,
                scope=scope.value,
                moment=format_local(issued.token.expires_at),
            )
        )
        click.echo(issued.secret)
        click.echo(say("It is shown only now; keep it secret."), err=True)


@api_tokens_group.command("list")
def list_command() -> None:
    """List every token, tab-separated for scripts: id, user, scope, state, expiry (UTC), last
    use (UTC), hint, name."""
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
            raise fail("There is no token %(id)d.", id=token_id)
        audit.record(
            session,
            "api_token.revoked",
            now,
            actor_name=audit.cli_actor(),
            target=f"user {token.user.username}",
            detail={"token": token.id},
        )
    click.echo(say("Token %(id)d revoked.", id=token_id))
