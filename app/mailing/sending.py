"""Sending e-mail waves: the worker's part of app.mailing (see app.mailing.services).

The worker claims a wave and sends its messages one at a time at the configured rate; every
minute it puts back waves whose worker was killed and queues the reminders that are due;
every ``BOUNCE_CHECK_SECONDS`` it reads the bounce mailbox, if there is one
(app.mailing.bounces).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any, cast

from flask import Flask
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain.fieldwork import mail as mail_domain
from app.mailing import bounces
from app.mailing.services import (
    INVITATION,
    REMINDER,
    MailingError,
    create_wave,
    enqueue_wave,
    render,
    settings_of,
    wave_counts,
)
from app.models.fieldwork import Fieldwork, FieldworkState, Response, ResponseStatus, SampleUnit
from app.models.mail import (
    FieldworkMail,
    MailMessage,
    MailWave,
    MessageState,
    WaveState,
)
from app.platform import tasks
from app.platform.audit import record_for_fieldwork
from app.platform.mailbox import MailboxError
from app.platform.mailer import Connection, MailSettings, Refused, Unreachable, build_message
from app.platform.mailer import mail_settings as configured_mail

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted while being sent; not sent again (it may have been delivered)"


# -- sending (the worker) ---------------------------------------------------------------------


def _stale_after(app: Flask) -> timedelta:
    return timedelta(seconds=app.config["JOB_STALE_SECONDS"])


@tasks.handler("mail_wave")
def send_wave(app: Flask, wave_id: int, sleep=time.sleep) -> None:
    """The queue's ``mail_wave`` work: send what is still queued in wave ``wave_id``."""
    from app.platform.extensions import get_db

    database, clock = get_db(), app.config["CLOCK"]
    with database.session() as session:
        claimed = cast(
            CursorResult[Any],
            session.execute(
                update(MailWave)
                .where(MailWave.id == wave_id, MailWave.state == WaveState.QUEUED.value)
                .values(state=WaveState.RUNNING.value, heartbeat_at=clock())
            ),
        ).rowcount
    if not claimed:
        return  # done already, or another worker has it
    try:
        settings = configured_mail(app.config)
    except mail_domain.MailConfigError as exc:
        _finish(database, wave_id, clock(), WaveState.FAILED, str(exc))
        return
    connection = Connection(settings)
    try:
        while True:
            sent = _send_next(app, database, wave_id, settings, connection, clock)
            if sent is None:
                break
            if sent:
                sleep(settings.pause)  # the rate: messages per minute
    except Exception as exc:
        log.exception("mail wave %d failed", wave_id)
        _finish(database, wave_id, clock(), WaveState.FAILED, type(exc).__name__)
        return
    finally:
        connection.close()
    _finish(database, wave_id, clock(), WaveState.DONE, "")


def _send_next(
    app: Flask,
    database,
    wave_id: int,
    settings: MailSettings,
    connection: Connection,
    clock,
) -> bool | None:
    """Send the wave's next queued message: True if one went to the server, None if none left."""
    with database.session() as session:
        message = session.scalar(
            select(MailMessage)
            .where(MailMessage.wave_id == wave_id, MailMessage.state == MessageState.QUEUED.value)
            .order_by(MailMessage.id)
            .limit(1)
        )
        if message is None:
            return None
        unit = message.sample_unit
        fieldwork = session.get(Fieldwork, message.fieldwork_id)
        now = clock()
        session.execute(update(MailWave).where(MailWave.id == wave_id).values(heartbeat_at=now))
        completed = session.scalar(
            select(func.count())
            .select_from(Response)
            .where(
                Response.sample_unit_id == unit.id,
                Response.status == ResponseStatus.COMPLETE.value,
            )
        )
        if unit.mail_opted_out_at or unit.mail_bounced_at or completed or not unit.email:
            message.state = MessageState.SKIPPED.value
            return False
        rendered = render(
            fieldwork,
            settings_of(session, fieldwork),
            unit,
            message.kind,
            app.config["BASE_URL"],
            app.config["SECRET_KEY"],
        )
        email = build_message(
            settings,
            to=rendered.to,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            unsubscribe_url=rendered.opt_out_url,
            now=now,
        )
        message.state = MessageState.SENDING.value
        message.message_id = email["Message-ID"]
        message_pk, unit_pk = message.id, unit.id
    # committed as "sending": from here on, this message is never handed over again
    state, error = MessageState.SENT, ""
    try:
        connection.send(email)
    except Refused as exc:
        state = MessageState.BOUNCED if exc.permanent else MessageState.FAILED
        error = str(exc)[:1000]
    except Unreachable as exc:
        state, error = MessageState.FAILED, str(exc)[:1000]
    with database.session() as session:
        now = clock()
        values: dict[str, Any] = {"state": state.value, "error": error}
        if state == MessageState.SENT:
            values["sent_at"] = now
        session.execute(update(MailMessage).where(MailMessage.id == message_pk).values(**values))
        if state == MessageState.BOUNCED:
            session.execute(
                update(SampleUnit).where(SampleUnit.id == unit_pk).values(mail_bounced_at=now)
            )
    return True


def _finish(database, wave_id: int, now: datetime, state: WaveState, error: str) -> None:
    with database.session() as session:
        wave = session.get(MailWave, wave_id)
        if wave is None:
            return
        wave.state, wave.error, wave.finished_at, wave.heartbeat_at = state.value, error, now, now
        counts = wave_counts(session, wave_id)
        fieldwork = session.get(Fieldwork, wave.fieldwork_id)
        detail = {"kind": wave.kind, "wave": wave.number, **counts}
        if error:
            detail["error"] = error
        record_for_fieldwork(
            session, "mail.wave_sent", now, fieldwork.id, None, detail, without_user="worker"
        )


@tasks.periodic("mailing.recover")
def recover_waves(app: Flask) -> list[int]:
    """Waves whose worker died, or whose queue message was lost, go back on the queue."""
    from app.platform.extensions import get_db

    now = app.config["CLOCK"]()
    again: list[int] = []
    with get_db().session() as session:
        stale = session.execute(
            select(MailWave.id, MailWave.state, MailWave.heartbeat_at).where(
                MailWave.state.in_((WaveState.QUEUED.value, WaveState.RUNNING.value)),
                MailWave.heartbeat_at < now - _stale_after(app),
            )
        ).all()
        for wave_id, state, heartbeat in stale:
            taken = cast(
                CursorResult[Any],
                session.execute(
                    update(MailWave)
                    .where(
                        MailWave.id == wave_id,
                        MailWave.state == state,
                        MailWave.heartbeat_at == heartbeat,
                    )
                    .values(state=WaveState.QUEUED.value, heartbeat_at=now)
                ),
            ).rowcount
            if not taken:
                continue
            session.execute(
                update(MailMessage)
                .where(
                    MailMessage.wave_id == wave_id,
                    MailMessage.state == MessageState.SENDING.value,
                )
                .values(state=MessageState.FAILED.value, error=INTERRUPTED)
            )
            again.append(wave_id)
    for wave_id in again:
        log.warning("mail wave %d: its worker stopped; the rest is sent now", wave_id)
        tasks.queue_of(app).enqueue("mail_wave", wave_id=wave_id)
    return again


@tasks.periodic("mailing.reminders")
def schedule_reminders(app: Flask) -> list[int]:
    """Create the reminder waves that are due by their fieldworks' schedules; their ids."""
    from app.platform.extensions import get_db

    now = app.config["CLOCK"]()
    created: list[MailWave] = []
    database = get_db()
    with database.session() as session:
        plans = session.execute(
            select(FieldworkMail.fieldwork_id, FieldworkMail.reminder_days)
            .join(Fieldwork, Fieldwork.id == FieldworkMail.fieldwork_id)
            .where(FieldworkMail.reminder_days != "", Fieldwork.state == FieldworkState.OPEN.value)
        ).all()
    for fieldwork_id, days_text in plans:
        with database.session() as session:
            fieldwork = session.get_one(Fieldwork, fieldwork_id)
            due = _due_reminder(session, fieldwork, mail_domain.reminder_days(days_text), now)
            if not due:
                continue
            try:
                with session.begin_nested():
                    wave = create_wave(session, fieldwork, REMINDER, now, scheduled=True)
            except (MailingError, IntegrityError):
                continue  # past the closing date, or another worker made it this minute
            created.append(wave)
    for wave in created:
        enqueue_wave(app, wave)
    return [wave.id for wave in created]


def _due_reminder(session: Session, fieldwork: Fieldwork, days: list[int], now: datetime) -> bool:
    first = session.scalar(
        select(func.min(MailWave.created_at)).where(
            MailWave.fieldwork_id == fieldwork.id, MailWave.kind == INVITATION
        )
    )
    if first is None:
        return False
    done = session.execute(
        select(func.count())
        .select_from(MailWave)
        .where(MailWave.fieldwork_id == fieldwork.id, MailWave.kind == REMINDER)
    ).scalar_one()
    if done >= len(days):
        return False
    return now >= first + timedelta(days=days[done])


_BOUNCES_READ_AT = "ankieta.mailing.bounces_read_at"


@tasks.periodic("mailing.bounces")
def check_bounces(app: Flask) -> bounces.BounceReading | None:
    """Read the bounce mailbox if one is set up and it is time (None: not read now)."""
    if not bounces.configured(app):
        return None
    now = app.config["CLOCK"]()
    last = app.extensions.get(_BOUNCES_READ_AT)
    if last is not None and now < last + timedelta(seconds=app.config["BOUNCE_CHECK_SECONDS"]):
        return None
    app.extensions[_BOUNCES_READ_AT] = now
    try:
        reading = bounces.read_bounces(app)
    except (mail_domain.MailConfigError, MailboxError) as exc:
        log.warning("bounce mailbox not read: %s", exc)  # one line; never the password
        return None
    if reading.bounced:
        log.info("bounce mailbox: %d contacts bounced", len(reading.bounced))
    return reading
