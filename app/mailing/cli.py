"""``ankieta invitations send|remind|status ID|bounces``: e-mail from the command line.

A wave is queued here and sent by the worker (``ankieta worker``); ``--dry-run`` only
counts who would get it and changes nothing. ``--as USER`` acts as an analyst's (or an
administrator's) account: only its subregions' contacts are sent to and counted.
``bounces`` reads the bounce mailbox now (the worker reads it on its own every
``BOUNCE_CHECK_SECONDS``). Every message follows the command line's language (Polish by
default); the mail settings' own complaints (which setting to fix) stay as the platform
words them.
"""

from __future__ import annotations

import click
from flask import current_app

from app.domain.messages import N_
from app.platform.cli import acting_as, as_user_option, fail, render, say

# a contact's e-mail state and a wave's state, as the web's mail page names them
_CONTACT_STATES = {
    "no_email": N_("no e-mail address"),
    "not_invited": N_("not invited"),
    "queued": N_("queued"),
    "sent": N_("sent"),
    "failed": N_("failed"),
    "bounced": N_("bounced"),
    "opted_out": N_("opted out"),
    "completed": N_("completed"),
}
_WAVE_STATES = {
    "queued": N_("queued"),
    "running": N_("sending"),
    "done": N_("done"),
    "failed": N_("failed"),
}

_WOULD_SEND = {
    True: N_("Would send the invitation to %(n)d contacts (dry run: nothing sent)."),
    False: N_("Would send the reminder to %(n)d contacts (dry run: nothing sent)."),
}
_QUEUED = {
    True: N_(
        "Invitation wave %(number)d queued for %(n)d contacts; the worker sends it"
        " (`ankieta invitations status %(id)d` shows progress)."
    ),
    False: N_(
        "Reminder wave %(number)d queued for %(n)d contacts; the worker sends it"
        " (`ankieta invitations status %(id)d` shows progress)."
    ),
}

_WAVE_LINE = {
    True: N_("invitation %(number)d: %(state)s, recipients: %(n)d"),
    False: N_("reminder %(number)d: %(state)s, recipients: %(n)d"),
}

_BOUNCED = {
    True: N_("hard bounces, contacts that would be marked bounced: %(n)d"),
    False: N_("hard bounces, contacts marked bounced: %(n)d"),
}


def _state(names: dict[str, str], state: str) -> str:
    return say(names[state]) if state in names else state


def _acting(session, as_user: str | None):
    """Who the command acts as: on the web, the e-mail page is the analysts' (and admins')."""
    from app.models.users import Role

    return acting_as(session, as_user, (Role.ANALYST,))


def _queue_wave(fieldwork_id: int, kind: str, dry_run: bool, as_user: str | None) -> None:
    from app.domain.fieldwork.mail import MailConfigError
    from app.mailing import services
    from app.platform.extensions import get_db
    from app.platform.mailer import mail_settings

    app = current_app
    invitation = kind == services.INVITATION
    with get_db().session() as session:
        acting = _acting(session, as_user)
        fieldwork = acting.fieldwork(session, fieldwork_id)
        units = services.recipients(session, fieldwork, kind, acting.scope)
        if dry_run:
            try:
                services.check_can_send(fieldwork, kind, app.config["CLOCK"]())
            except services.MailingError as exc:
                click.echo(say("Would send nothing: %(reason)s", reason=render(exc.message)))
                return
            click.echo(say(_WOULD_SEND[invitation], n=len(units)))
            for unit in units[:20]:
                click.echo(f"  {unit.external_id}  {unit.email}")
            if len(units) > 20:
                click.echo("  " + say("... and %(n)d more", n=len(units) - 20))
            return
        try:
            mail_settings(app.config)
        except MailConfigError as exc:
            raise fail("E-mail is not set up: %(reason)s", reason=str(exc)) from None
        try:
            wave = services.create_wave(
                session,
                fieldwork,
                kind,
                app.config["CLOCK"](),
                user_id=acting.user_id,
                scope=acting.scope,
                actor_name=acting.actor_name,
            )
        except services.MailingError as exc:
            raise fail(exc.message) from None
        session.commit()
        services.enqueue_wave(app, wave)
        click.echo(
            say(
                _QUEUED[invitation],
                number=wave.number,
                n=wave.total,
                id=fieldwork_id,
            )
        )


def register(group: click.Group) -> None:
    @group.command("send")
    @click.argument("fieldwork_id", type=int)
    @click.option("--dry-run", is_flag=True, help="only say who would get it")
    @as_user_option
    def send(fieldwork_id: int, dry_run: bool, as_user: str | None) -> None:
        """Send the invitation to every contact not yet invited (with --as, of that
        account's subregions and entity types)."""
        from app.mailing import services

        _queue_wave(fieldwork_id, services.INVITATION, dry_run, as_user)

    @group.command("remind")
    @click.argument("fieldwork_id", type=int)
    @click.option("--dry-run", is_flag=True, help="only say who would get it")
    @as_user_option
    def remind(fieldwork_id: int, dry_run: bool, as_user: str | None) -> None:
        """Send a reminder to every invited contact who has not answered (with --as, of
        that account's subregions and entity types)."""
        from app.mailing import services

        _queue_wave(fieldwork_id, services.REMINDER, dry_run, as_user)

    @group.command("status")
    @click.argument("fieldwork_id", type=int)
    @as_user_option
    def status(fieldwork_id: int, as_user: str | None) -> None:
        """Counts per e-mail state, and every wave so far (with --as, of that account's
        contacts only)."""
        from app.mailing import services
        from app.platform.extensions import get_db

        with get_db().session() as session:
            acting = _acting(session, as_user)
            fieldwork = acting.fieldwork(session, fieldwork_id)
            rows = services.contacts(session, fieldwork, acting.scope)
            counts = services.state_counts(rows)
            click.echo(say("Fieldwork %(id)d: %(title)s", id=fieldwork_id, title=fieldwork.title))
            for state, count in counts.items():
                click.echo(f"  {_state(_CONTACT_STATES, state):<20} {count}")
            for wave, per_state in services.waves(session, fieldwork, acting.scope):
                parts = ", ".join(
                    f"{_state(_CONTACT_STATES, k)} {v}" for k, v in sorted(per_state.items())
                )
                # a scoped account's share of the wave: the messages to its contacts
                total = wave.total if acting.scope.is_whole_region else sum(per_state.values())
                line = say(
                    _WAVE_LINE[wave.kind == services.INVITATION],
                    number=wave.number,
                    state=_state(_WAVE_STATES, wave.state),
                    n=total,
                )
                if parts:
                    line += f" ({parts})"
                if wave.error:
                    line += f"; {wave.error}"
                click.echo(f"  {line}")

    @group.command("bounces")
    @click.option("--dry-run", is_flag=True, help="only say what it found; change nothing")
    def read_bounces(dry_run: bool) -> None:
        """Read the bounce mailbox (ANKIETA_BOUNCE_IMAP_URL) now and mark the hard bounces."""
        from app.domain.fieldwork.mail import MailConfigError
        from app.mailing import bounces
        from app.platform.audit import cli_actor
        from app.platform.mailbox import MailboxError

        app = current_app
        if not bounces.configured(app):
            raise fail(
                "No bounce mailbox is set up: set ANKIETA_BOUNCE_IMAP_URL"
                " (e.g. imaps://user:password@host:993/INBOX)."
            )
        try:
            found = bounces.read_bounces(app, dry_run=dry_run, actor=cli_actor())
        except (MailConfigError, MailboxError) as exc:
            raise fail("Cannot read the bounce mailbox: %(reason)s", reason=str(exc)) from None
        click.echo(say("Unseen mails read in the bounce mailbox: %(n)d.", n=found.read))
        click.echo("  " + say(_BOUNCED[dry_run], n=len(found.bounced)))
        for bounce in found.bounced:
            click.echo(
                "    "
                + say("fieldwork %(id)d", id=bounce.fieldwork_id)
                + f"  {bounce.external_id}  {bounce.email}  {bounce.status}"
            )
        click.echo("  " + say("hard bounces of contacts marked before: %(n)d", n=found.already))
        click.echo(
            "  " + say("delays or temporary failures (nothing changes): %(n)d", n=found.delayed)
        )
        click.echo(
            "  "
            + say(
                "returned mails of messages Ankieta did not send (left unread): %(n)d",
                n=found.not_ours,
            )
        )
        click.echo(
            "  " + say("other mails, not bounces (left unread): %(n)d", n=found.unrecognised)
        )
        if dry_run:
            click.echo(say("Dry run: nothing changed, in Ankieta or in the mailbox."))
