"""Small helpers shared by the routes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, NoReturn
from urllib.parse import urlsplit

from flask import abort, current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map
from wtforms import FileField

from app.domain import dates
from app.models.scope import Scope
from app.models.users import Role
from app.platform import audit as audit_log


class Form(FlaskForm):  # type: ignore[misc]  # flask_wtf ships no type information
    """The house form (every form derives from it): Flask-WTF's, except that a posted file
    reaches only a file field.

    Flask-WTF hands a form the posted files together with its fields, so a file posted
    under a text or password field's name would reach that field's validators as a file
    object and fail them with a TypeError (a 500). Here such a file is left out: to that
    field, nothing was posted.
    """

    class Meta:
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            data = super().wrap_formdata(form, formdata)  # type: ignore[misc]
            if not isinstance(data, CombinedMultiDict):
                return data
            file_fields = {field.name for field in form if isinstance(field, FileField)}
            files = MultiDict(
                [(k, v) for k, v in request.files.items(multi=True) if k in file_fields]
            )
            return CombinedMultiDict((files, request.form)) if files else request.form


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (never another host), else None.

    A control character (a CR/LF would split the Location header) makes it invalid too.
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def audit(action: str, **fields: Any) -> None:
    """Record ``action`` in the audit log as done by this request's user (or ``actor=``:
    the REST API's token user), from its address."""
    from app.platform.extensions import SAFE_METHODS, db_session, get_db, now

    if "actor" not in fields:
        fields["actor"] = (
            current_user._get_current_object() if current_user.is_authenticated else None
        )
    fields.setdefault("ip", request.remote_addr or "")
    if request.method not in SAFE_METHODS:
        audit_log.record(db_session(), action, now(), **fields)
        return
    # A page that only reads (a download) writes its event in a short transaction of its
    # own, started as a writing one (see app.platform.db.begin_for_writing).
    with get_db().session() as session:
        audit_log.record(session, action, now(), **fields)


def current_scope() -> Scope:
    """The part of the region this request's user sees (app.models.scope)."""
    if not current_user.is_authenticated:
        return Scope()
    return Scope.of(current_user._get_current_object())


def refuse_out_of_scope(target: str, fieldwork_id: int | None = None) -> NoReturn:
    """Answer 404 for an object outside the user's scope, as for one that does not exist,
    and record the attempt in the audit log."""
    audit("scope.denied", target=target, fieldwork_id=fieldwork_id)
    abort(404)


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.ANALYST: _l("Analyst"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.INTERVIEWER: _l("Interviewer"),
    Role.COORDINATOR: _l("OWES coordinator"),
}


def role_label(role: Role | str) -> str:
    """The role's name in the user's language."""
    return str(ROLE_LABELS[Role(role)])


STATE_LABELS = {
    "draft": _l("draft"),
    "open": _l("open"),
    "closed": _l("closed"),
}
STATUS_LABELS = {
    "not_started": _l("not started"),
    "in_progress": _l("in progress"),
    "complete": _l("complete"),
}


MAIL_STATE_LABELS = {
    "no_email": _l("no e-mail address"),
    "not_invited": _l("not invited"),
    "queued": _l("queued"),
    "sent": _l("sent"),
    "failed": _l("failed"),
    "bounced": _l("bounced"),
    "opted_out": _l("opted out"),
    "completed": _l("completed"),
}


def mail_state_label(state: str) -> str:
    """A contact's e-mail state in the user's language."""
    return str(MAIL_STATE_LABELS.get(state, state))


def state_label(state: str) -> str:
    """A fieldwork state in the user's language."""
    return str(STATE_LABELS.get(state, state))


def status_label(status: str) -> str:
    """A response status in the user's language."""
    return str(STATUS_LABELS.get(status, status))


class IdConverter(IntegerConverter):
    """``<int:...>`` in a route: a whole number no larger than a database id can be.

    A larger one in the address is simply no page (404), never a number the database
    driver cannot take (SQLite refuses integers past 64 bits with an error 500).
    """

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def refuse_unreadable_form() -> None:
    """before_request (ahead of the CSRF check): a form body that cannot be read is a 400.

    Werkzeug reads an urlencoded body whole and silently drops one that is not UTF-8, so
    without this the CSRF check would report a missing token ("the form has expired"); and
    it applies no memory limit to such a body, so MAX_FORM_MEMORY_SIZE is enforced here.
    """
    if request.mimetype != "application/x-www-form-urlencoded":
        return
    limit = current_app.config.get("MAX_FORM_MEMORY_SIZE")
    if limit is not None and (request.content_length or 0) > limit:
        abort(413)
    try:
        request.get_data(cache=True).decode("utf-8")
    except UnicodeDecodeError:
        abort(400)


# C0 control characters other than tab, line feed and carriage return (which a text area
# sends), and DEL: no field has a use for them, and PostgreSQL refuses NUL in text outright
_CONTROL = frozenset(chr(c) for c in (*range(0x20), 0x7F)) - {"\t", "\n", "\r"}
_CONTROL_SEARCH = re.compile(f"[{re.escape(''.join(sorted(_CONTROL)))}]").search


class ControlCharacterError(BadRequest):
    """A request field holds a control character; ``field`` names the field."""

    def __init__(self, field: str) -> None:
        super().__init__(f"control character in field {field!r}")
        self.field = field


def _first_control_field(items: Iterable[tuple[str, Any]]) -> str | None:
    for name, value in items:
        if _CONTROL_SEARCH(name) or (isinstance(value, str) and _CONTROL_SEARCH(value)):
            return name
    return None


def refuse_control_characters() -> None:
    """before_request: refuse (400, nothing changed) text with a NUL or another C0 control.

    Every text a request carries is checked here, once, so every database sees the same
    thing (SQLite would store NUL that PostgreSQL refuses with an error): the query string,
    the form fields (not uploaded files' contents, which their own readers check) and the
    address's own parts.
    """
    sources = [request.args.items(multi=True), (request.view_args or {}).items()]
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        # a multipart part without a name is no field (and trips Flask-WTF's CSRF check)
        if None in request.form or None in request.files:
            raise BadRequest("a form part without a name")
        sources.append(request.form.items(multi=True))
    for items in sources:
        field = _first_control_field(items)
        if field is not None:
            raise ControlCharacterError("".join(c for c in field if c not in _CONTROL)[:64])


class DateInRange:
    """A form validator: the date typed (a DateField's date, or DD.MM.YYYY text) is within
    ``app.domain.dates``'s range. Text that is not a date is left to the field's own checks.
    """

    def __call__(self, form: Any, field: Any) -> None:
        from flask_babel import gettext
        from wtforms.validators import StopValidation

        value = field.data
        day = dates.polish_date(value) if isinstance(value, str) else value
        if day is not None and not dates.in_range(day):
            raise StopValidation(dates.out_of_range_message().render(gettext))
