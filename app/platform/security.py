"""Who may open which route: every view declares its access rule, enforced before each request.

A view without a declared rule is refused (and a test fails), so a new route cannot be
left open by accident. Admins may open every route that any role may open.

Each rule also says what the route does with an account's subregional scope
(app.models.scope): it filters what it shows and refuses another subregion's objects
(``SCOPED``), it shows no institution's data (``NO_INSTITUTIONS``), or it works on the whole
region and is refused to a scoped account (``WHOLE_REGION``). ``tests/test_access.py``
fails for a route whose rule does not say.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

from app.models.scope import Scope
from app.models.users import Role, User

F = TypeVar("F", bound=Callable[..., Any])

# Endpoints that Flask itself registers, with their rule.
BUILTIN_PUBLIC_ENDPOINTS = frozenset({"static"})


class ScopeRule(enum.Enum):
    """What a route does with the subregional scope of the account opening it."""

    SCOPED = "scoped"  # shows only the account's institutions; another's object is a 404
    NO_INSTITUTIONS = "no_institutions"  # shows no institution's data: nothing to filter
    WHOLE_REGION = "whole_region"  # works on the whole region: refused to a scoped account


SCOPED = ScopeRule.SCOPED
NO_INSTITUTIONS = ScopeRule.NO_INSTITUTIONS
WHOLE_REGION = ScopeRule.WHOLE_REGION


@dataclass(frozen=True)
class Access:
    """A route's rule: public, or the roles that may open it; and its scope rule."""

    roles: frozenset[Role] | None  # None: anyone, logged in or not
    while_password_change_due: bool = False  # reachable before a forced password change
    by_token: bool = False  # the REST API: the user is the bearer token's, never the session's
    scope: ScopeRule | None = None  # None: undeclared (tests/test_access.py fails)

    def allows(self, role: Role | None) -> bool:
        if self.roles is None:
            return True
        return role is not None and (role is Role.ADMIN or role in self.roles)

    def admits(self, user: User) -> bool:
        """Whether ``user`` (logged in) may open the route: its role and its scope."""
        if not self.allows(user.role_enum):
            return False
        declared = self.scope in (ScopeRule.SCOPED, ScopeRule.NO_INSTITUTIONS)
        return declared or Scope.of(user).is_whole_region


def _declare(rule: Access) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        view.access = rule  # type: ignore[attr-defined]
        return view

    return decorator


def public(view: F) -> F:
    """Anyone may open this route, logged in or not."""
    return _declare(
        Access(roles=None, while_password_change_due=True, scope=ScopeRule.NO_INSTITUTIONS)
    )(view)


def roles(
    *allowed: Role, scope: ScopeRule | None = None, while_password_change_due: bool = False
) -> Callable[[F], F]:
    """Only users with one of ``allowed`` (or admins) may open this route; ``scope`` says
    what it does with a scoped account (see the module docstring)."""
    return _declare(Access(frozenset(allowed), while_password_change_due, scope=scope))


def any_role(*, scope: ScopeRule | None = None) -> Callable[[F], F]:
    """Any logged-in user may open this route."""
    return _declare(Access(frozenset(Role), scope=scope))


def token_roles(*allowed: Role, scope: ScopeRule | None = None) -> Callable[[F], F]:
    """An API route: only a valid bearer token of a user with one of ``allowed`` (or an
    admin) may open it; the API checks the token (``app.api.auth``) before the view."""
    return _declare(Access(frozenset(allowed), by_token=True, scope=scope))


def access_rule(app: Flask, endpoint: str) -> Access | None:
    """The declared rule of ``endpoint`` (None if it has none)."""
    if endpoint in BUILTIN_PUBLIC_ENDPOINTS:
        return Access(roles=None, while_password_change_due=True, scope=NO_INSTITUTIONS)
    view = app.view_functions.get(endpoint)
    return getattr(view, "access", None)


def enforce_access() -> Any:
    """before_request: refuse what the current user may not open."""
    if request.endpoint is None:  # no route matched: Flask answers 404 / 405 itself
        return None
    rule = access_rule(current_app, request.endpoint)
    if rule is None:
        current_app.logger.error("route %s declares no access rule; refused", request.endpoint)
        abort(403)
    if rule.roles is None:
        return None
    if rule.by_token:  # checked by the API's own before_request, with the same Access
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if current_user.must_change_password and not rule.while_password_change_due:
        return redirect(url_for("auth.change_password"))
    if not rule.admits(current_user):
        abort(403)
    return None
