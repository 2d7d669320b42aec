"""Fieldwork by e-mail: invitation and reminder waves, sent by the worker, tracked per contact.

A wave is created in one transaction together with one ``queued`` message per recipient,
then put on the task queue (``mail_wave``). The worker claims it and sends its messages one
at a time at the configured rate. Each message is committed as ``sending`` before it is
handed to the SMTP server and as ``sent`` (or ``bounced`` on a 5xx reply, ``failed`` on
anything else) after, so a wave that is run again — by the periodic recovery after its
worker was killed, or twice by mistake — sends only what is still ``queued``: nobody gets
the same message twice. A message left ``sending`` by a killed worker is not sent again
(the server may have taken it) and is reported failed.

Who gets what:

- an invitation: every contact with an e-mail address who has no invitation yet (or whose
  earlier one failed), who has not completed, opted out or bounced;
- a reminder: every contact invited successfully who has not completed, opted out or
  bounced, and has no open telephone appointment; never after the closing date.

Reminders are sent when asked for, or on the fieldwork's schedule (``reminder_days``, days
after the first invitation wave), checked every minute. The worker's part (sending, the
periodic checks) is ``app.mailing.sending``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.domain.dates import local_date
from app.domain.fieldwork import mail as mail_domain
from app.domain.messages import N_, Message
from app.models.cati import Case
from app.models.fieldwork import Fieldwork, FieldworkState, Response, ResponseStatus, SampleUnit
from app.models.mail import (
    FieldworkMail,
    MailMessage,
    MailWave,
    MessageKind,
    MessageState,
    WaveState,
)
from app.models.scope import UNSCOPED, Scope
from app.platform import tasks
from app.platform.audit import record_for_fieldwork

log = logging.getLogger(__name__)

INVITATION, REMINDER = MessageKind.INVITATION.value, MessageKind.REMINDER.value


class MailingError(Exception):
    def __init__(self, message: Message) -> None:
        super().__init__(message.render())
        self.message = message


# -- settings and texts ---------------------------------------------------------------------


def settings_of(session: Session, fieldwork: Fieldwork) -> FieldworkMail:
    """The fieldwork's mail settings (the defaults, not yet stored, if never changed)."""
    found = session.get(FieldworkMail, fieldwork.id)
    if found is not None:
        return found
    return FieldworkMail(
        fieldwork_id=fieldwork.id,
        language="pl",
        invitation_subject="",
        invitation_body="",
        reminder_subject="",
        reminder_body="",
        rops_contact="",
        reminder_days="",
    )


def texts(settings: FieldworkMail, kind: str) -> tuple[str, str]:
    """The subject and body of ``kind``: the fieldwork's own, or the default of its language."""
    default_subject, default_body = mail_domain.DEFAULTS[settings.language or "pl"][kind]
    subject = getattr(settings, f"{kind}_subject") or default_subject
    body = getattr(settings, f"{kind}_body") or default_body
    return subject, body


def save_settings(
    session: Session,
    fieldwork: Fieldwork,
    values: dict[str, str],
    now: datetime,
    user_id: int | None,
) -> FieldworkMail:
    """Store the messages and schedule (MailingError naming an unknown placeholder)."""
    for name in ("invitation_subject", "invitation_body", "reminder_subject", "reminder_body"):
        unknown = mail_domain.unknown_placeholders(values.get(name, ""))
        if unknown:
            raise MailingError(
                Message(
                    N_("Unknown placeholder {%(name)s}; use one of: %(known)s."),
                    {
                        "name": unknown[0],
                        "known": ", ".join("{" + p + "}" for p in mail_domain.PLACEHOLDERS),
                    },
                )
            )
    try:
        mail_domain.reminder_days(values.get("reminder_days", ""))
    except ValueError as exc:
        raise MailingError(
            Message(
                N_("Reminder days must be whole numbers of days, e.g. 7, 14 (not %(value)s)."),
                {"value": str(exc)},
            )
        ) from None
    settings = session.get(FieldworkMail, fieldwork.id)
    if settings is None:
        settings = settings_of(session, fieldwork)
        session.add(settings)
    for name, value in values.items():
        setattr(settings, name, value)
    record_for_fieldwork(
        session, "mail.settings_changed", now, fieldwork.id, user_id, {}, without_user="worker"
    )
    session.flush()
    return settings


def _signer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="ankieta.mail.opt-out")


def opt_out_token(secret: str, unit: SampleUnit) -> str:
    return _signer(secret).dumps(unit.id)


def unit_for_opt_out(session: Session, secret: str, token: str) -> SampleUnit | None:
    try:
        unit_id = _signer(secret).loads(token)
    except BadSignature:
        return None
    return session.get(SampleUnit, unit_id) if isinstance(unit_id, int) else None


@dataclass(frozen=True)
class Rendered:
    to: str
    subject: str
    text: str
    html: str
    opt_out_url: str


def render(
    fieldwork: Fieldwork,
    settings: FieldworkMail,
    unit: SampleUnit,
    kind: str,
    base_url: str,
    secret: str,
) -> Rendered:
    """The message ``kind`` for ``unit`` as it will be sent (subject, text and HTML)."""
    base = base_url.rstrip("/")
    opt_out_url = f"{base}/mail/opt-out/{opt_out_token(secret, unit)}"
    values = {
        "institution": unit.name,
        "contact_person": unit.contact_person,
        "link": f"{base}/r/{unit.token}",
        "deadline": mail_domain.deadline_text(fieldwork.closes_on),
        "rops_contact": settings.rops_contact or "",
        "survey": fieldwork.title,
        "opt_out_link": opt_out_url,
    }
    subject, body = texts(settings, kind)
    text = mail_domain.fill(body, values)
    # a subject is one line: whatever a sample row holds, no header can be smuggled in
    subject = " ".join(mail_domain.fill(subject, values).split())
    html = mail_domain.to_html(text, settings.language or "pl")
    return Rendered(unit.email.strip(), subject, text, html, opt_out_url)


# -- who gets a message -----------------------------------------------------------------------


def _completed(fieldwork: Fieldwork):
    return exists().where(
        Response.sample_unit_id == SampleUnit.id,
        Response.status == ResponseStatus.COMPLETE.value,
    )


def _has_message(kind: str, states: tuple[str, ...]):
    return exists().where(
        MailMessage.sample_unit_id == SampleUnit.id,
        MailMessage.kind == kind,
        MailMessage.state.in_(states),
    )


def recipients(
    session: Session, fieldwork: Fieldwork, kind: str, scope: Scope = UNSCOPED
) -> list[SampleUnit]:
    """The contacts (in ``scope``) a wave of ``kind`` would go to now (see the module
    docstring)."""
    query = select(SampleUnit).where(
        SampleUnit.fieldwork_id == fieldwork.id,
        scope.covers(SampleUnit.id),
        SampleUnit.email != "",
        SampleUnit.mail_opted_out_at.is_(None),
        SampleUnit.mail_bounced_at.is_(None),
        ~_completed(fieldwork),
    )
    if kind == INVITATION:
        taken = (MessageState.QUEUED, MessageState.SENDING, MessageState.SENT)
        query = query.where(~_has_message(INVITATION, tuple(s.value for s in taken)))
    else:
        query = query.where(
            _has_message(INVITATION, (MessageState.SENT.value,)),
            ~exists().where(
                Case.sample_unit_id == SampleUnit.id, Case.appointment_start.is_not(None)
            ),
        )
    units = session.scalars(query.order_by(SampleUnit.id)).all()
    return [unit for unit in units if mail_domain.is_address(unit.email)]


def check_can_send(fieldwork: Fieldwork, kind: str, now: datetime) -> None:
    """MailingError if no wave of ``kind`` may go out for this fieldwork now."""
    if fieldwork.state != FieldworkState.OPEN:
        raise MailingError(Message(N_("Open the fieldwork before sending messages.")))
    today = local_date(now)
    if fieldwork.closes_on is not None and today > fieldwork.closes_on:
        raise MailingError(Message(N_("The fieldwork's closing date has passed.")))


def create_wave(
    session: Session,
    fieldwork: Fieldwork,
    kind: str,
    now: datetime,
    *,
    user_id: int | None = None,
    scheduled: bool = False,
    scope: Scope = UNSCOPED,
    actor_name: str | None = None,
) -> MailWave:
    """A wave of ``kind`` to the contacts in ``scope``, its messages queued (commit, then
    ``enqueue_wave``); queued by the account ``user_id``, by the command line named
    ``actor_name``, or else by the worker (a scheduled reminder)."""
    check_can_send(fieldwork, kind, now)
    units = recipients(session, fieldwork, kind, scope)
    if not units and not scheduled:
        raise MailingError(Message(N_("Nobody is waiting for this message.")))
    number = (
        session.scalar(
            select(func.max(MailWave.number)).where(
                MailWave.fieldwork_id == fieldwork.id, MailWave.kind == kind
            )
        )
        or 0
    ) + 1
    wave = MailWave(
        fieldwork_id=fieldwork.id,
        kind=kind,
        number=number,
        scheduled=scheduled,
        state=WaveState.QUEUED.value if units else WaveState.DONE.value,
        user_id=user_id,
        total=len(units),
        created_at=now,
        heartbeat_at=now,
        finished_at=None if units else now,
    )
    session.add(wave)
    session.flush()
    session.add_all(
        MailMessage(
            wave_id=wave.id,
            fieldwork_id=fieldwork.id,
            sample_unit_id=unit.id,
            kind=kind,
            email=unit.email.strip(),
            queued_at=now,
        )
        for unit in units
    )
    detail: dict[str, object] = {
        "kind": kind,
        "wave": number,
        "recipients": len(units),
        "scheduled": scheduled,
    }
    if not scope.is_whole_region:
        detail["scope"] = scope.describe()
    record_for_fieldwork(
        session,
        "mail.wave_queued",
        now,
        fieldwork.id,
        user_id,
        detail,
        without_user=None if actor_name else "worker",
        actor_name=actor_name,
    )
    session.flush()
    return wave


def enqueue_wave(app: Flask, wave: MailWave) -> None:
    wave_enqueuer(app, wave)()


def wave_enqueuer(app: Flask, wave: MailWave) -> Callable[[], None]:
    """What puts ``wave`` on the queue, for after its transaction commits (nothing to do for
    a wave that waits for its scheduled time)."""
    queued, wave_id = wave.state == WaveState.QUEUED, wave.id

    def enqueue() -> None:
        if queued:
            tasks.queue_of(app).enqueue("mail_wave", wave_id=wave_id)

    return enqueue


# -- opting out ---------------------------------------------------------------------------------


def opt_out(session: Session, unit: SampleUnit, now: datetime) -> bool:
    """Record that ``unit`` wants no more messages; False if it had already said so."""
    if unit.mail_opted_out_at is not None:
        return False
    unit.mail_opted_out_at = now
    from app.platform.audit import RESPONDENT, record

    record(
        session,
        "mail.opted_out",
        now,
        actor_name=RESPONDENT,
        fieldwork_id=unit.fieldwork_id,
        target=f"sample unit {unit.external_id}",
    )
    session.flush()
    return True


# -- tracking -----------------------------------------------------------------------------------

CONTACT_STATES = (
    "no_email",
    "not_invited",
    "queued",
    "sent",
    "failed",
    "bounced",
    "opted_out",
    "completed",
)


@dataclass(frozen=True)
class ContactRow:
    unit_id: int
    external_id: str
    name: str
    email: str
    state: str
    invitations: int  # sent
    reminders: int  # sent
    last_sent_at: datetime | None
    last_error: str


def contacts(session: Session, fieldwork: Fieldwork, scope: Scope = UNSCOPED) -> list[ContactRow]:
    """Every contact of the fieldwork (in ``scope``) with its e-mail state and message counts."""
    completed = set(
        session.scalars(
            select(Response.sample_unit_id).where(
                Response.fieldwork_id == fieldwork.id,
                Response.status == ResponseStatus.COMPLETE.value,
            )
        )
    )
    per_unit: dict[int, list[tuple[str, str, datetime | None, str]]] = {}
    for unit_id, kind, state, sent_at, error in session.execute(
        select(
            MailMessage.sample_unit_id,
            MailMessage.kind,
            MailMessage.state,
            MailMessage.sent_at,
            MailMessage.error,
        )
        .where(MailMessage.fieldwork_id == fieldwork.id)
        .order_by(MailMessage.id)
    ):
        per_unit.setdefault(unit_id, []).append((kind, state, sent_at, error))
    rows = []
    for unit in session.scalars(
        select(SampleUnit)
        .where(SampleUnit.fieldwork_id == fieldwork.id, scope.covers(SampleUnit.id))
        .order_by(SampleUnit.id)
    ):
        messages = [m for m in per_unit.get(unit.id, []) if m[1] != MessageState.SKIPPED]
        sent = [m for m in messages if m[1] == MessageState.SENT]
        last = messages[-1] if messages else None
        if unit.id in completed:
            state = "completed"
        elif unit.mail_opted_out_at:
            state = "opted_out"
        elif unit.mail_bounced_at:
            state = "bounced"
        elif last is None:
            state = "not_invited" if unit.email else "no_email"
        elif last[1] in (MessageState.QUEUED, MessageState.SENDING):
            state = "queued"
        elif last[1] == MessageState.SENT:
            state = "sent"
        else:
            state = "failed"
        rows.append(
            ContactRow(
                unit.id,
                unit.external_id,
                unit.name,
                unit.email,
                state,
                sum(1 for m in sent if m[0] == INVITATION),
                sum(1 for m in sent if m[0] == REMINDER),
                max((m[2] for m in sent if m[2]), default=None),
                last[3] if last and last[1] in (MessageState.FAILED, MessageState.BOUNCED) else "",
            )
        )
    return rows


def state_counts(rows: list[ContactRow]) -> dict[str, int]:
    counts = Counter(row.state for row in rows)
    return {state: counts.get(state, 0) for state in CONTACT_STATES}


def wave_counts(session: Session, wave_id: int, scope: Scope = UNSCOPED) -> dict[str, int]:
    """A wave's messages (to contacts in ``scope``) per state."""
    rows = session.execute(
        select(MailMessage.state, func.count())
        .where(MailMessage.wave_id == wave_id, scope.covers(MailMessage.sample_unit_id))
        .group_by(MailMessage.state)
    ).all()
    return {state: count for state, count in rows}


def waves(
    session: Session, fieldwork: Fieldwork, scope: Scope = UNSCOPED
) -> list[tuple[MailWave, dict[str, int]]]:
    """The fieldwork's waves, newest first, each with its messages per state; with a
    ``scope``, only the waves that had messages to its contacts, counting only those."""
    found = session.scalars(
        select(MailWave).where(MailWave.fieldwork_id == fieldwork.id).order_by(MailWave.id.desc())
    ).all()
    counted = [(wave, wave_counts(session, wave.id, scope)) for wave in found]
    if scope.is_whole_region:
        return counted
    return [(wave, counts) for wave, counts in counted if counts]
