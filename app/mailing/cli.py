"""``ankieta invitations send|remind|status ID|bounces``: e-mail from the command line.

A wave is queued here and sent by the worker (``ankieta worker``); ``--dry-run`` only
counts who would get it and changes nothing. ``bounces`` reads the bounce mailbox now
(the worker reads it on its own every ``BOUNCE_CHECK_SECONDS``).
"""

from __future__ import annotations

import click
from flask import current_app


def _fieldwork(session, fieldwork_id: int):
    from app.models.fieldwork import Fieldwork

    fieldwork = session.get(Fieldwork, fieldwork_id)
    if fieldwork is None:
        raise click.ClickException(f"no fieldwork {fieldwork_id}")
    return fieldwork


def _queue_wave(fieldwork_id: int, kind: str, dry_run: bool) -> None:
    from app.domain.fieldwork.mail import MailConfigError
    from app.mailing import services
    from app.platform.extensions import get_db
    from app.platform.mailer import mail_settings

    app = current_app
    with get_db().session() as session:
        fieldwork = _fieldwork(session, fieldwork_id)
        units = services.recipients(session, fieldwork, kind)
        what = "invitation" if kind == services.INVITATION else "reminder"
        if dry_run:
            try:
                services.check_can_send(fieldwork, kind, app.config["CLOCK"]())
            except services.MailingError as exc:
                click.echo(f"Would send nothing: {exc.message.render()}")
                return
            click.echo(f"Would send the {what} to {len(units)} contacts (dry run: nothing sent).")
            for unit in units[:20]:
                click.echo(f"  {unit.external_id}  {unit.email}")
            if len(units) > 20:
                click.echo(f"  ... and {len(units) - 20} more")
            return
        try:
            mail_settings(app.config)
        except MailConfigError as exc:
            raise click.ClickException(str(exc)) from None
        try:
            wave = services.create_wave(session, fieldwork, kind, app.config["CLOCK"](), cli=True)
        except services.MailingError as exc:
            raise click.ClickException(exc.message.render()) from None
        session.commit()
        services.enqueue_wave(app, wave)
        click.echo(
            f"{what.capitalize()} wave {wave.number} queued for {wave.total} contacts; "
            "the worker sends it (`ankieta invitations status "
            f"{fieldwork_id}` shows progress)."
        )


def register(group: click.Group) -> None:
    @group.command("send")
    @click.argument("fieldwork_id", type=int)
    @click.option("--dry-run", is_flag=True, help="only say who would get it")
    def send(fieldwork_id: int, dry_run: bool) -> None:
        """Send the invitation to every contact not yet invited."""
        from app.mailing import services

        _queue_wave(fieldwork_id, services.INVITATION, dry_run)

    @group.command("remind")
    @click.argument("fieldwork_id", type=int)
    @click.option("--dry-run", is_flag=True, help="only say who would get it")
    def remind(fieldwork_id: int, dry_run: bool) -> None:
        """Send a reminder to every invited contact who has not answered."""
        from app.mailing import services

        _queue_wave(fieldwork_id, services.REMINDER, dry_run)

    @group.command("status")
    @click.argument("fieldwork_id", type=int)
    def status(fieldwork_id: int) -> None:
        """Counts per e-mail state, and every wave so far."""
        from app.mailing import services
        from app.platform.extensions import get_db

        with get_db().session() as session:
            fieldwork = _fieldwork(session, fieldwork_id)
            rows = services.contacts(session, fieldwork)
            counts = services.state_counts(rows)
            click.echo(f"Fieldwork {fieldwork_id}: {fieldwork.title}")
            for state, count in counts.items():
                click.echo(f"  {state:<12} {count}")
            for wave, per_state in services.waves(session, fieldwork):
                parts = ", ".join(f"{k} {v}" for k, v in sorted(per_state.items()))
                click.echo(
                    f"  {wave.kind} {wave.number}: {wave.state}, {wave.total} recipients"
                    f"{' (' + parts + ')' if parts else ''}"
                    f"{'; ' + wave.error if wave.error else ''}"
                )

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
            raise click.ClickException(
                "no bounce mailbox is set up: set ANKIETA_BOUNCE_IMAP_URL "
                "(e.g. imaps://user:password@host:993/INBOX)"
            )
        try:
            found = bounces.read_bounces(app, dry_run=dry_run, actor=cli_actor())
        except (MailConfigError, MailboxError) as exc:
            raise click.ClickException(str(exc)) from None
        marked = "would be marked bounced" if dry_run else "marked bounced"
        click.echo(f"Read {found.read} unseen mails in the bounce mailbox.")
        click.echo(f"  {len(found.bounced)} hard bounces: contacts {marked}")
        for bounce in found.bounced:
            click.echo(
                f"    fieldwork {bounce.fieldwork_id}  {bounce.external_id}  "
                f"{bounce.email}  {bounce.status}"
            )
        click.echo(f"  {found.already} hard bounces of contacts marked before")
        click.echo(f"  {found.delayed} delays or temporary failures (nothing changes)")
        click.echo(
            f"  {found.not_ours} returned mails of messages Ankieta did not send (left unread)"
        )
        click.echo(f"  {found.unrecognised} other mails, not bounces (left unread)")
        if dry_run:
            click.echo("Dry run: nothing changed, in Ankieta or in the mailbox.")
