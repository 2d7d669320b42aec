"""Accounts: password hashing, login with throttling, creating users and passwords."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.domain.dates import WARSAW
from app.domain.messages import N_, Message
from app.models.users import LoginThrottle, Role, User

log = logging.getLogger(__name__)

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


def find_user(session: Session, username: str, *, for_update: bool = False) -> User | None:
    """The account named ``username``; ``for_update`` locks its row until the transaction ends."""
    query = select(User).where(User.username == username.strip().lower())
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalar(query)


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the active user of this session, from this request's session.

    The session's id is ``<account id>-<session generation>``: a session made before the
    account's sessions were ended (logout, password change, disabling) finds no user.
    """
    from app.platform.extensions import db_session

    account, _, generation = user_id.partition("-")
    if not account.isdigit() or not generation.isdigit():
        return None
    user = db_session().get(User, int(account))
    if user is None or not user.active or user.session_generation != int(generation):
        return None
    return user


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int  # wrong passwords in a row for one account
    lock_minutes: int
    address_max_failures: int = 0  # failed logins from one address per window (0: no limit)
    address_window_minutes: int = 15


def authenticate(
    session: Session,
    username: str,
    password: str,
    now: datetime,
    policy: LoginPolicy,
    *,
    address: str = "",
) -> User:
    """The user these credentials belong to; AccountError (and a counted failure) otherwise.

    Concurrent attempts are counted one after the other: the address's throttle row and the
    account's row are locked (in that order) until the transaction ends, so the checks and
    the counting cannot interleave (on SQLite the write transaction does the same).
    """
    throttle = _address_throttle(session, address, now, policy)
    if throttle is not None and throttle.failures >= policy.address_max_failures:
        log.warning("login refused: address %s is throttled", address)
        until = throttle.window_started_at + timedelta(minutes=policy.address_window_minutes)
        raise AccountError(_throttled_message(until))
    try:
        return _check_credentials(session, username, password, now, policy)
    except AccountError:
        if throttle is not None:
            throttle.failures += 1
        raise


def _address_throttle(
    session: Session, address: str, now: datetime, policy: LoginPolicy
) -> LoginThrottle | None:
    """The locked throttle row of ``address`` (its window restarted if over); None if unused."""
    if not address or policy.address_max_failures <= 0:
        return None
    address = address[:64]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(LoginThrottle)
        .values(address=address, failures=0, window_started_at=now)
        .on_conflict_do_nothing(index_elements=["address"])
    )
    throttle = session.scalar(
        select(LoginThrottle)
        .where(LoginThrottle.address == address)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert throttle is not None  # noqa: S101 - inserted just above
    if now - throttle.window_started_at >= timedelta(minutes=policy.address_window_minutes):
        throttle.failures = 0
        throttle.window_started_at = now
    return throttle


def _check_credentials(
    session: Session, username: str, password: str, now: datetime, policy: LoginPolicy
) -> User:
    user = find_user(session, username, for_update=True)
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


def _throttled_message(until: datetime) -> Message:
    return Message(
        N_("Too many failed logins from your address. Try again after %(time)s."),
        {"time": until.astimezone(WARSAW).strftime("%H:%M")},
    )


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
    user.end_sessions()  # whoever knew the old password is logged out everywhere
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
    user.end_sessions()  # every other session (a copied cookie too); the caller logs in anew
    log.info("password changed: %s", user.username)
