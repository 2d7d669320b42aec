"""Bounces that come back by mail: the bounce mailbox (``ANKIETA_BOUNCE_IMAP_URL``) read.

A hard bounce from the SMTP server's reply is marked while sending (app.mailing.sending);
many mail servers take a message first and return it later, to the sender's bounce
mailbox. Reading that mailbox (every ``BOUNCE_CHECK_SECONDS`` on each worker, or
``ankieta invitations bounces``) looks at its unseen mails:

- a returned mail (app.platform.mailbox.read_returned) is matched to the message we sent by
  the returned original's Message-ID (stored per message when it was sent), or else by the
  address it failed for (the last message sent to that address);
- a hard bounce (``failed``, ``5.x.x``) marks that message ``bounced`` and its contact's
  ``mail_bounced_at``, as a ``5xx`` reply does, with an audit event; a delay or a
  temporary failure changes nothing;
- a returned mail matched to one of our messages is flagged seen, so it is counted once;
  everything else (a reply, a bounce of somebody else's mail) is left unseen, for people.

Marking is one conditional UPDATE, so reading the same bounce twice (by two workers, or
after somebody marked it unseen again) changes nothing the second time. Nothing of the
returned mail is kept but the state, the time and the status code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from flask import Flask
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from app.models.fieldwork import SampleUnit
from app.models.mail import MailMessage, MessageState
from app.platform.audit import record
from app.platform.mailbox import Mailbox, Returned, bounce_settings, read_returned

log = logging.getLogger(__name__)

# a message in one of these states may have left: a bounce can come back for it
_MAY_BOUNCE = (MessageState.SENT.value, MessageState.SENDING.value, MessageState.FAILED.value)
WORKER = "worker"


@dataclass(frozen=True)
class Bounced:
    fieldwork_id: int
    external_id: str
    email: str
    status: str


@dataclass
class BounceReading:
    """What one reading of the bounce mailbox found (and, unless a dry run, did)."""

    read: int = 0  # unseen mails looked at
    bounced: list[Bounced] = field(default_factory=list)  # contacts marked bounced now
    already: int = 0  # hard bounces of messages marked before
    delayed: int = 0  # delays and temporary failures of our messages: nothing changes
    not_ours: int = 0  # returned mails matching no message we sent (left unseen)
    unrecognised: int = 0  # not returned mails (left unseen)


def configured(app: Flask) -> bool:
    return bool((app.config.get("BOUNCE_IMAP_URL") or "").strip())


def read_bounces(app: Flask, *, dry_run: bool = False, actor: str = WORKER) -> BounceReading:
    """Read the bounce mailbox's unseen mails and mark the hard bounces (see the docstring).

    MailConfigError or MailboxError (one line each) if it cannot be read; a dry run changes
    nothing, in the database or in the mailbox.
    """
    from app.platform.extensions import get_db

    settings = bounce_settings(app.config.get("BOUNCE_IMAP_URL"))
    reading = BounceReading()
    if settings is None:
        return reading
    database, clock = get_db(), app.config["CLOCK"]
    with Mailbox(settings, readonly=dry_run) as mailbox:
        for uid in mailbox.unseen():
            reading.read += 1
            raw = mailbox.fetch(uid)
            if raw is None:  # its headers say it is no returned mail (or it is gone, or huge)
                reading.unrecognised += 1
                continue
            try:
                returned = read_returned(raw)
            except Exception:  # noqa: BLE001 - a hostile or broken mail is only not recognised
                log.warning("bounce mailbox: mail %s could not be parsed", uid.decode())
                returned = None
            if returned is None:
                reading.unrecognised += 1
                continue
            with database.session() as session:
                messages = _messages_for(session, returned)
                if not messages:
                    reading.not_ours += 1
                    continue
                if not returned.hard:
                    reading.delayed += 1
                else:
                    for message in messages:
                        _mark(session, message, returned, clock(), reading, dry_run, actor)
            if not dry_run:
                mailbox.mark_seen(uid)  # after the commit: a crash between reads it again
    return reading


def _messages_for(session: Session, returned: Returned) -> list[MailMessage]:
    """The messages ``returned`` is about: by the original's Message-ID, else by address."""
    ids = [value for value in returned.message_ids if value]
    if ids:
        found = session.scalars(
            select(MailMessage).where(MailMessage.message_id.in_(ids)).order_by(MailMessage.id)
        ).all()
        if found:
            return list(found)
    messages = []
    for address in returned.recipients:
        last = session.scalar(
            select(MailMessage)
            .where(
                func.lower(MailMessage.email) == address.lower(),
                MailMessage.state.in_((*_MAY_BOUNCE, MessageState.BOUNCED.value)),
                MailMessage.message_id != "",
            )
            .order_by(MailMessage.queued_at.desc(), MailMessage.id.desc())
            .limit(1)
        )
        if last is not None:
            messages.append(last)
    return messages


def _mark(
    session: Session,
    message: MailMessage,
    returned: Returned,
    now: datetime,
    reading: BounceReading,
    dry_run: bool,
    actor: str,
) -> None:
    """Mark ``message`` bounced and its contact's address as not working (once)."""
    unit = session.get_one(SampleUnit, message.sample_unit_id)
    status = returned.status or "5.0.0"
    if dry_run:
        fresh = message.state in _MAY_BOUNCE or unit.mail_bounced_at is None
    else:
        changed = cast(
            CursorResult[Any],
            session.execute(
                update(MailMessage)
                .where(MailMessage.id == message.id, MailMessage.state.in_(_MAY_BOUNCE))
                .values(state=MessageState.BOUNCED.value, error=f"{status} (returned by mail)")
            ),
        ).rowcount
        flagged = cast(
            CursorResult[Any],
            session.execute(
                update(SampleUnit)
                .where(SampleUnit.id == unit.id, SampleUnit.mail_bounced_at.is_(None))
                .values(mail_bounced_at=now)
            ),
        ).rowcount
        fresh = bool(changed or flagged)
        if fresh:
            record(
                session,
                "mail.bounced",
                now,
                actor_name=actor,
                fieldwork_id=message.fieldwork_id,
                target=f"sample unit {unit.external_id}",
                detail={"kind": message.kind, "status": status},
            )
    if fresh:
        reading.bounced.append(Bounced(message.fieldwork_id, unit.external_id, unit.email, status))
    else:
        reading.already += 1
