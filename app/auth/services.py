"""Accounts: password hashing, login with throttling, creating users and passwords."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.messages import N_, Message
from app.models.users import Role, User

log = logging.getLogger(__name__)

WARSAW = ZoneInfo("Europe/Warsaw")
_hasher = PasswordHasher()
# Verified against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))

MIN_PASSWORD_LENGTH = 10
_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105 - an alphabet, not a password


class AccountError(Exception):
    """A refused account operation, with a message for the person who asked."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render())
        self.message = message


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A random password to hand over once (4 groups of 4; about 93 bits)."""
    groups = ("".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)


def password_problem(password: str, username: str) -> Message | None:
    """Why ``password`` may not be used, or None if it may."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return Message(
            N_("The password must have at least %(n)d characters."), {"n": MIN_PASSWORD_LENGTH}
        )
    if username.lower() in password.lower():
        return Message(N_("The password must not contain the user name."))
    return None


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the active user with this id, from this request's session."""
    from app.extensions import db_session

    if not user_id.isdigit():
        return None
    user = db_session().get(User, int(user_id))
    return user if user is not None and user.active else None


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int
    lock_minutes: int


def authenticate(
    session: Session, username: str, password: str, now: datetime, policy: LoginPolicy
) -> User:
    """The user these credentials belong to; AccountError (and a counted failure) otherwise."""
    user = find_user(session, username)
    if user is None:
        verify_password(_DUMMY_HASH, password)
        log.info("login failed: unknown user %r", username[:64])
        raise AccountError(Message(N_("Wrong user name or password.")))
    if user.is_locked(now):
        log.info("login refused: %s is throttled", user.username)
        raise AccountError(_locked_message(user))
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= policy.max_failures:
            user.locked_until = now + timedelta(minutes=policy.lock_minutes)
            user.failed_logins = 0
            log.warning("login throttled: %s after %d failures", user.username, policy.max_failures)
            raise AccountError(_locked_message(user))
        log.info("login failed: wrong password for %s", user.username)
        raise AccountError(Message(N_("Wrong user name or password.")))
    if not user.active:
        log.info("login refused: %s is disabled", user.username)
        raise AccountError(Message(N_("This account is disabled. Ask an administrator.")))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    log.info("login: %s", user.username)
    return user


def _locked_message(user: User) -> Message:
    until = user.locked_until.astimezone(WARSAW).strftime("%H:%M") if user.locked_until else ""
    return Message(N_("Too many failed attempts. Try again after %(time)s."), {"time": until})


def create_user(
    session: Session,
    username: str,
    role: Role | str,
    *,
    full_name: str = "",
    password: str | None = None,
    must_change_password: bool = True,
) -> tuple[User, str]:
    """Create a user; returns the user and the password to hand over (generated if not given)."""
    username = username.strip().lower()
    if not username or len(username) > 64 or not all(c.isalnum() or c in "._-" for c in username):
        raise AccountError(
            Message(N_("A user name may have up to 64 letters, digits, dots, dashes and _."))
        )
    try:
        role = Role(role)
    except ValueError:
        raise AccountError(
            Message(
                N_("Unknown role %(role)s; choose one of: %(roles)s."),
                {"role": role, "roles": ", ".join(r.value for r in Role)},
            )
        ) from None
    if session.scalar(select(func.count()).where(User.username == username)):
        raise AccountError(Message(N_("User %(name)s already exists."), {"name": username}))
    if password is None:
        password = generate_password()
    else:
        problem = password_problem(password, username)
        if problem:
            raise AccountError(problem)
    user = User(
        username=username,
        full_name=full_name.strip(),
        role=role.value,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    log.info("user created: %s (%s)", username, role.value)
    return user, password


def reset_password(user: User) -> str:
    """Give ``user`` a new generated password that must be changed at the next login."""
    password = generate_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    log.info("password reset: %s", user.username)
    return password


def change_password(user: User, current: str, new: str) -> None:
    """Set ``user``'s own new password after checking the current one."""
    if not verify_password(user.password_hash, current):
        raise AccountError(Message(N_("The current password is wrong.")))
    if verify_password(user.password_hash, new):
        raise AccountError(Message(N_("The new password must differ from the current one.")))
    problem = password_problem(new, user.username)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    log.info("password changed: %s", user.username)
