"""Personal API tokens: made by a user for themselves (or by the command line), shown once,
stored hashed, checked on every API request, revoked at will."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.messages import N_, Message
from app.models.tokens import PREFIX, ApiToken, TokenScope, hash_token
from app.models.users import User

HINT_LENGTH = 8  # characters after the prefix kept in clear, to tell tokens apart
DEFAULT_DAYS = 90
MAX_DAYS = 366
NAME_MAX = 100


class TokenError(Exception):
    """A token that cannot be made as asked."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render())
        self.message = message


@dataclass(frozen=True)
class Issued:
    token: ApiToken
    secret: str  # the token itself: shown once, never stored


def create_token(
    session: Session,
    user: User,
    *,
    now: datetime,
    name: str = "",
    days: int = DEFAULT_DAYS,
    scope: TokenScope = TokenScope.READ,
) -> Issued:
    """A new token for ``user``, valid for ``days`` days."""
    if not 1 <= days <= MAX_DAYS:
        raise TokenError(Message(N_("A token is valid for 1 to %(max)d days."), {"max": MAX_DAYS}))
    if not user.active:
        raise TokenError(Message(N_("The account is disabled.")))
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name.strip()[:NAME_MAX],
        hint=secret[: len(PREFIX) + HINT_LENGTH],
        token_hash=hash_token(secret),
        scope=TokenScope(scope).value,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    return Issued(token, secret)


def tokens_of(session: Session, user_id: int | None = None) -> list[ApiToken]:
    """A user's tokens (everybody's without ``user_id``), newest first."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.scalars(query))


def revoke_token(
    session: Session, token_id: int, now: datetime, *, user_id: int | None = None
) -> ApiToken | None:
    """Revoke a token (only one of ``user_id``'s when given); None if there is no such token."""
    token = session.get(ApiToken, token_id)
    if token is None or (user_id is not None and token.user_id != user_id):
        return None
    token.revoke(now)
    session.flush()
    return token
