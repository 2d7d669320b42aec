"""Writing to the audit log, and what its actions are called.

Every recorded event says who (the account, or ``cli`` for the command line), from where
(the client's address), what (an action code from ``ACTIONS``), to what (a fieldwork and a
readable target such as ``response 12``) and the details (old and new values, the reason,
the export's options). Events are added in the same transaction as the change they
describe, so a change that is rolled back leaves no event and an event never describes a
change that did not happen. Contact data (names, e-mails, phone numbers of institutions)
and free text typed about a case (notes, reasons) are never written here, only that a note
or a reason was given: the log cannot be changed, and erasing a fieldwork's contact data
must leave nothing of them behind.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.messages import N_, Message
from app.models.audit import AuditEvent
from app.models.users import User

# action code -> its description in the viewer (translated there)
ACTIONS: dict[str, str] = {
    "auth.login": N_("Logged in"),
    "auth.login_failed": N_("Failed login"),
    "auth.logout": N_("Logged out"),
    "auth.password_changed": N_("Changed own password"),
    "user.created": N_("Created a user"),
    "user.changed": N_("Changed a user"),
    "user.password_reset": N_("Reset a user's password"),
    "user.sessions_ended": N_("Ended a user's sessions"),
    "survey.loaded": N_("Loaded a questionnaire"),
    "plan.loaded": N_("Loaded a monitoring plan"),
    "fieldwork.created": N_("Created a fieldwork"),
    "fieldwork.state_changed": N_("Opened or closed a fieldwork"),
    "fieldwork.retention_changed": N_("Changed the contact data retention date"),
    "fieldwork.contacts_erased": N_("Erased contact data"),
    "fieldwork.upgraded": N_("Moved a fieldwork to a newer questionnaire version"),
    "fieldwork.test_link_made": N_("Made a fieldwork's test link"),
    "sample.imported": N_("Imported a sample"),
    "invitations.exported": N_("Downloaded the personal links"),
    "mail.settings_changed": N_("Changed the e-mail messages"),
    "mail.wave_queued": N_("Queued an e-mail wave"),
    "mail.wave_sent": N_("Sent an e-mail wave"),
    "mail.opted_out": N_("A contact opted out of e-mail"),
    "mail.bounced": N_("A contact's e-mail came back undelivered"),
    "response.reopened": N_("Re-opened a completed response"),
    "response.changed": N_("Changed an answer of a completed response"),
    "response.edited": N_("Corrected an answer (staff edit)"),
    "response.file_downloaded": N_("Downloaded a file sent with a response"),
    "supervisor.action": N_("Supervisor action"),
    "export.downloaded": N_("Downloaded responses"),
    "report.downloaded": N_("Downloaded a report"),
    "api_token.created": N_("Created an API token"),
    "api_token.revoked": N_("Revoked an API token"),
    "api.used": N_("Used the API"),
    "scope.denied": N_("Tried to open another subregion's data"),
}

# supervisor.action's "action" detail -> what the supervisor did (translated where shown)
SUPERVISOR_ACTIONS: dict[str, str] = {
    "calling_hours": N_("Calling hours changed"),
    "attempt_limit": N_("Attempt limit changed"),
    "claim_timeout": N_("Claim timeout changed"),
    "aapor_e": N_("e changed"),
    "priority": N_("Case priority changed"),
    "assign": N_("Case assigned"),
    "release": N_("Case released"),
    "exclude": N_("Case excluded"),
    "include": N_("Case included again"),
    "call_outcome": N_("Call outcome changed"),
    "team": N_("Team changed"),
}

# the first word of a target ("fieldwork 2") -> how the viewer names it
TARGET_KINDS: dict[str, str] = {
    "user": N_("account %(name)s"),
    "fieldwork": N_("fieldwork %(name)s"),
    "response": N_("response no. %(name)s"),
    "survey": N_("questionnaire %(name)s"),
    "case": N_("case no. %(name)s"),
    "call": N_("call no. %(name)s"),
    "file": N_("file %(name)s"),
}

# detail keys -> their names in the viewer
DETAIL_NAMES: dict[str, str] = {
    "action": N_("what"),
    "active": N_("active"),
    "file": N_("file"),
    "format": N_("format"),
    "full_name": N_("full name"),
    "institutions": N_("institutions"),
    "kind": N_("kind"),
    "new": N_("new value"),
    "note": N_("note"),
    "old": N_("old value"),
    "reason": N_("reason"),
    "role": N_("role"),
    "state": N_("state"),
    "status": N_("delivery status"),
    "subregions": N_("subregions"),
    "entity_types": N_("entity types"),
    "survey": N_("questionnaire"),
    "title": N_("title"),
    "variable": N_("question"),
    "version": N_("version"),
}

CLI_ACTOR = "cli"
RESPONDENT = "respondent"  # someone using a personal link (no account)


def cli_actor() -> str:
    """The name recorded for a command-line action: ``cli`` and the operating-system user."""
    try:
        return f"{CLI_ACTOR}:{getpass.getuser()}"[:150]
    except (KeyError, OSError):  # no passwd entry (some containers)
        return CLI_ACTOR


def record(
    session: Session,
    action: str,
    at: datetime,
    *,
    actor: User | None = None,
    actor_name: str | None = None,
    actor_id: int | None = None,
    ip: str = "",
    fieldwork_id: int | None = None,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one event to the log (in ``session``'s transaction); ``actor_id`` names the
    account when only its id is at hand (with ``actor_name``)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(
        at=at,
        actor_id=actor.id if actor is not None else actor_id,
        actor=(actor_name if actor_name is not None else (actor.username if actor else ""))[:150],
        ip=(ip or "")[:64],
        action=action,
        fieldwork_id=fieldwork_id,
        target=target[:200],
        detail=detail or {},
    )
    session.add(event)
    return event


def record_cli(
    session: Session, action: str, at: datetime, fieldwork_id: int | None = None, **detail: Any
) -> AuditEvent:
    """``record`` for a command-line action, done by ``cli:<operating-system user>``."""
    return record(
        session,
        action,
        at,
        actor_name=cli_actor(),
        fieldwork_id=fieldwork_id,
        target=f"fieldwork {fieldwork_id}" if fieldwork_id else "",
        detail=detail,
    )


def record_by_id(
    session: Session, action: str, at: datetime, user_id: int | None, **fields: Any
) -> AuditEvent:
    """``record`` for services that know the acting user only by id.

    Done by an account inside a web request, the request's address is recorded too (a
    respondent's address is not: it is personal data the log must not keep).
    """
    actor = session.get(User, user_id) if user_id is not None else None
    if actor is not None and not fields.get("ip"):
        from flask import has_request_context, request

        if has_request_context():
            fields["ip"] = request.remote_addr or ""
    return record(session, action, at, actor=actor, **fields)


def record_for_fieldwork(
    session: Session,
    action: str,
    at: datetime,
    fieldwork_id: int,
    user_id: int | None,
    detail: dict[str, Any],
    *,
    without_user: str | None = None,
    actor_name: str | None = None,
) -> AuditEvent:
    """``record`` of an action on a fieldwork by the account ``user_id``.

    Without an account it is recorded as done by ``without_user`` (e.g. ``"worker"``), by
    default the command line's user. ``actor_name`` names the actor instead of the
    account's name (a command run ``--as`` an account: ``cli:<user> --as NAME``).
    """
    fields: dict[str, Any] = {
        "fieldwork_id": fieldwork_id,
        "target": f"fieldwork {fieldwork_id}",
        "detail": detail,
    }
    if user_id is None:
        name = actor_name or without_user or cli_actor()
        return record(session, action, at, actor_name=name, **fields)
    if actor_name:
        fields["actor_name"] = actor_name
    return record_by_id(session, action, at, user_id, **fields)


PAGE_SIZE = 100
# detail keys whose two-item lists are values, not a change "before → after"
NOT_CHANGES = frozenset({"old", "new", "added", "removed"})


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    actor: str = ""  # the beginning of the account name
    fieldwork_id: int | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    before_id: int | None = None  # keyset paging: events older than this one


def find_events(session: Session, filters: AuditFilter, limit: int = PAGE_SIZE) -> list[AuditEvent]:
    """The newest events matching ``filters`` (``limit`` of them), newest first."""
    query = select(AuditEvent)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor:
        pattern = filters.actor.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(AuditEvent.actor.ilike(pattern + "%", escape="\\"))
    if filters.fieldwork_id is not None:
        query = query.where(AuditEvent.fieldwork_id == filters.fieldwork_id)
    if filters.since is not None:
        query = query.where(AuditEvent.at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEvent.at < filters.until)
    if filters.before_id is not None:
        query = query.where(AuditEvent.id < filters.before_id)
    return list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))


ValueLabel = Callable[[str, Any], "str | None"]  # (detail key, one value) -> its label


def describe_detail(
    detail: dict[str, Any],
    gettext: Callable[[str], str],
    value_label: ValueLabel | None = None,
) -> list[tuple[str, str]]:
    """An event's details as (name, text) pairs in the reader's language: stored messages
    translated, known keys named, and values the caller can name (``value_label``: a state,
    a role, a user id) named instead of shown raw."""

    def plain(key: str, value: Any) -> str:
        if value_label is not None:
            if isinstance(value, list):
                labels = [value_label(key, item) for item in value]
                if value and all(label is not None for label in labels):
                    return ", ".join(str(label) for label in labels)
                if not value:
                    return "—"
            else:
                label = value_label(key, value)
                if label is not None:
                    return label
        return _plain(value)

    rows = []
    for name, value in (detail or {}).items():
        message = Message.from_json(value)
        if message is not None:
            text = message.render(gettext)
        elif isinstance(value, list) and len(value) == 2 and name not in NOT_CHANGES:
            text = f"{plain(name, value[0])} → {plain(name, value[1])}"
        else:
            text = plain(name, value)
        label = DETAIL_NAMES.get(name)
        rows.append((gettext(label) if label else name, text))
    return rows


def describe_target(
    target: str, gettext: Callable[[str], str], name_of: Callable[[str, str], str | None]
) -> str:
    """A target such as ``fieldwork 2`` in words (``name_of(kind, key)`` may name the
    object, e.g. a fieldwork's title); an unknown kind is shown as it is."""
    kind, _, key = target.partition(" ")
    template = TARGET_KINDS.get(kind)
    if template is None or not key:
        return target
    return gettext(template) % {"name": name_of(kind, key) or key}


def _plain(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
