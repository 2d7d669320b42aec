"""The accounts every feature relies on: password hashing and policy, creating users.

Logging in is app.auth's; managing accounts in the browser app.admin's; both, the command
line and the demo create and find accounts here.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.messages import N_, Message
from app.models.users import Role, User

log = logging.getLogger(__name__)

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105 - an alphabet, not a password


class AccountError(Exception):
    """A refused account operation, with a message for the person who asked."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render())
        self.message = message


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with older parameters (rehash at the next login)."""
    return _hasher.check_needs_rehash(password_hash)


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


def create_user(
    session: Session,
    username: str,
    role: Role | str,
    *,
    full_name: str = "",
    password: str | None = None,
    must_change_password: bool = True,
    subregions: Iterable[str] = (),
    entity_types: Iterable[str] = (),
) -> tuple[User, str]:
    """Create a user (limited to ``subregions`` and ``entity_types`` if given, see
    ``set_scope``); returns the user and the password to hand over (generated if not given)."""
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
    set_scope(user, subregions, entity_types)
    session.add(user)
    session.flush()
    log.info("user created: %s (%s)", username, role.value)
    return user, password


MAX_SCOPE_VALUE = 100  # as long as a sample's subregion may be


def split_list(text: str) -> list[str]:
    """Comma-separated values typed in a form or on the command line, without blanks."""
    return [part.strip() for part in text.split(",") if part.strip()]


def set_scope(user: User, subregions: Iterable[str], entity_types: Iterable[str]) -> None:
    """Limit ``user`` to ``subregions`` and ``entity_types`` (empty: no limit; see
    app.models.scope). An administrator sees the whole region; an OWES coordinator needs
    at least one subregion."""
    subs = sorted({value.strip() for value in subregions if value.strip()})
    types = sorted({value.strip() for value in entity_types if value.strip()})
    for value in subs + types:
        if len(value) > MAX_SCOPE_VALUE or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
            raise AccountError(
                Message(
                    N_("A subregion or entity type has up to %(n)d characters, no control codes."),
                    {"n": MAX_SCOPE_VALUE},
                )
            )
    role = Role(user.role)
    if role is Role.ADMIN and (subs or types):
        raise AccountError(
            Message(N_("An administrator sees the whole region: leave subregions and types empty."))
        )
    if role is Role.COORDINATOR and not subs:
        raise AccountError(Message(N_("An OWES coordinator needs at least one subregion.")))
    user.subregions = subs
    user.entity_types = types


def scope_detail(user: User) -> dict[str, str]:
    """The account's subregions and entity types for the audit log (nothing if none)."""
    detail = {}
    if user.subregions:
        detail["subregions"] = ", ".join(user.subregions)
    if user.entity_types:
        detail["entity_types"] = ", ".join(user.entity_types)
    return detail


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
