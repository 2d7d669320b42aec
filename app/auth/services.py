"""Logging in (with throttling) and changing one's own password."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.domain.dates import WARSAW
from app.domain.messages import N_, Message
from app.models.users import LoginThrottle, User
from app.platform.accounts import (
    AccountError,
    find_user,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)

log = logging.getLogger(__name__)

# Verified against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = hash_password(secrets.token_hex(16))


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
    if needs_rehash(user.password_hash):
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
