"""Bounces that come back by mail: a real IMAP server (Dovecot, started by the test) holds the
bounce mailbox, invitations go through the real SMTP server, and the worker's periodic
check (or ``ankieta invitations bounces``) reads the mailbox.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from app import create_app
from app.models.audit import AuditEvent
from app.models.mail import MailMessage
from app.platform.config import ConfigError
from app.platform.mailbox import may_be_returned, parse_imap_url, read_returned
from tests.support import database
from tests.support.imapserver import (
    PASSWORD,
    ImapServer,
    delivery_report,
    outward_address,
    plain_bounce,
    reply_to,
)
from tests.support.mailserver import invitations, sample_unit


@pytest.fixture
def imap(app):
    with ImapServer() as server:
        app.config.update(BOUNCE_IMAP_URL=server.url)
        yield server


def _invited(app, runner, smtp, fieldwork_id) -> dict[str, object]:
    """Send the invitation wave; the messages the SMTP server received, by recipient."""
    result = invitations(app, runner, "send", str(fieldwork_id))
    assert result.exit_code == 0, result.output
    return {str(message["To"]): message for message in smtp.messages}


def _states(app) -> dict[str, str]:
    with database(app).session() as session:
        return dict(session.execute(select(MailMessage.email, MailMessage.state)).all())


def _bounce_events(app) -> int:
    with database(app).session() as session:
        return session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "mail.bounced")
        )


def test_a_returned_hard_bounce_marks_the_contact_and_a_delay_or_a_reply_changes_nothing(
    app, runner, smtp, imap, fieldwork_id, clock
):
    sent = _invited(app, runner, smtp, fieldwork_id)
    imap.deliver(delivery_report(sent["cis@gliwice.example.pl"], status="5.1.1"))
    imap.deliver(
        delivery_report(
            sent["zrodlo@lodz.example.pl"], action="delayed", status="4.2.2", whole_original=True
        )
    )
    imap.deliver(reply_to(sent["kis@zory.example.pl"], "Dziękujemy, wypełnimy do piątku."))
    assert len(imap.unseen()) == 3

    queue = app.extensions["ankieta.tasks"]
    queue.run_periodic()  # the worker's checks: the bounce mailbox is read
    queue.wait()

    bounced_at = sample_unit(app, fieldwork_id, "C-02").mail_bounced_at
    assert bounced_at == clock()
    assert sample_unit(app, fieldwork_id, "S-03").mail_bounced_at is None
    assert sample_unit(app, fieldwork_id, "K-01").mail_bounced_at is None
    assert _states(app) == {
        "kis@zory.example.pl": "sent",
        "cis@gliwice.example.pl": "bounced",
        "zrodlo@lodz.example.pl": "sent",
    }
    # the two returned mails are read; the person's reply is left for people
    assert imap.unseen() == ["Re: Zaproszenie do badania: Monitoring ekonomii społecznej 2026"]
    assert imap.count() == 3
    with database(app).session() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "mail.bounced"))
        assert (event.actor, event.target) == ("worker", "sample unit C-02")
        assert event.detail == {"kind": "invitation", "status": "5.1.1"}
        error = session.scalar(
            select(MailMessage.error).where(MailMessage.email == "cis@gliwice.example.pl")
        )
    assert error.startswith("5.1.1") and "gliwice" not in error  # no address kept from the mail
    status = runner.invoke(args=["invitations", "status", str(fieldwork_id)])
    assert f"{'odrzucony adres':<20} 1" in status.output and f"{'wysłano':<20} 2" in status.output
    assert (
        "  zaproszenie 1: zakończona, odbiorcy: 3 (odrzucony adres 1, wysłano 2)" in status.output
    )

    # read again now: nothing new
    clock.advance(minutes=10)
    again = runner.invoke(args=["invitations", "bounces"])
    assert again.exit_code == 0, again.output
    assert (
        "w skrzynce zwrotów: 1." in again.output
        and "nie zwroty (pozostawione jako nieprzeczytane): 1" in again.output
    )
    # and even if somebody marks everything unread, the same bounce changes nothing twice
    imap.mark_all_unseen()
    again = runner.invoke(args=["invitations", "bounces"])
    assert again.exit_code == 0, again.output
    assert "trwałe zwroty, kontakty oznaczone jako odrzucone: 0" in again.output
    assert "trwałe zwroty kontaktów oznaczonych wcześniej: 1" in again.output
    assert "opóźnienia lub przejściowe błędy (nic się nie zmienia): 1" in again.output
    assert sample_unit(app, fieldwork_id, "C-02").mail_bounced_at == bounced_at
    assert _bounce_events(app) == 1

    # the bounced contact gets no reminder; the delayed one does
    result = invitations(app, runner, "remind", str(fieldwork_id))
    assert result.exit_code == 0, result.output
    assert sorted(str(m["To"]) for m in smtp.messages[3:]) == [
        "kis@zory.example.pl",
        "zrodlo@lodz.example.pl",
    ]


def test_a_non_standard_bounce_is_found_by_the_quoted_message_id_and_a_dry_run_changes_nothing(
    app, runner, smtp, imap, fieldwork_id
):
    sent = _invited(app, runner, smtp, fieldwork_id)
    imap.deliver(plain_bounce(sent["kis@zory.example.pl"]))
    dry = runner.invoke(args=["invitations", "bounces", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "kontakty, które zostałyby oznaczone jako odrzucone: 1" in dry.output
    assert "K-01" in dry.output and "kis@zory.example.pl" in dry.output
    assert "Tylko sprawdzenie: nic nie zmieniono" in dry.output
    assert sample_unit(app, fieldwork_id, "K-01").mail_bounced_at is None
    assert imap.unseen() == ["failure notice"]
    assert _bounce_events(app) == 0

    done = runner.invoke(args=["invitations", "bounces"])
    assert done.exit_code == 0, done.output
    assert "trwałe zwroty, kontakty oznaczone jako odrzucone: 1" in done.output
    assert sample_unit(app, fieldwork_id, "K-01").mail_bounced_at is not None
    assert imap.unseen() == []
    with database(app).session() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "mail.bounced"))
    assert event.actor.startswith("cli") and event.target == "sample unit K-01"


def test_a_report_without_the_original_is_matched_by_its_failed_address(
    app, runner, smtp, imap, fieldwork_id
):
    sent = _invited(app, runner, smtp, fieldwork_id)
    report = delivery_report(sent["zrodlo@lodz.example.pl"], status="5.2.1")
    # some servers return no part of the original: only the address it failed for
    report = report.split(b"Content-Description: Undelivered Message Headers")[0]
    report = report.replace(b"rfc822; zrodlo", b"rfc822; ZRODLO")  # any case is the same
    imap.deliver(report + b"--7A1B2C3D.1742118000/mx.example.pl--\n")
    # a bounce of a message Ankieta never sent is left alone
    stranger = delivery_report(sent["kis@zory.example.pl"], recipient="ktos@innadomena.example.pl")
    stranger = stranger.replace(str(sent["kis@zory.example.pl"]["Message-ID"]).encode(), b"<x@y>")
    imap.deliver(stranger)
    result = runner.invoke(args=["invitations", "bounces"])
    assert result.exit_code == 0, result.output
    assert "trwałe zwroty, kontakty oznaczone jako odrzucone: 1" in result.output
    assert (
        "zwroty wiadomości, których Ankieta nie wysłała (pozostawione jako nieprzeczytane): 1"
        in result.output
    )
    assert sample_unit(app, fieldwork_id, "S-03").mail_bounced_at is not None
    assert sample_unit(app, fieldwork_id, "K-01").mail_bounced_at is None
    assert imap.unseen() == ["Undelivered Mail Returned to Sender"]


def test_wrong_credentials_say_so_in_one_line_and_change_nothing(
    app, runner, smtp, imap, fieldwork_id, caplog
):
    sent = _invited(app, runner, smtp, fieldwork_id)
    imap.deliver(delivery_report(sent["cis@gliwice.example.pl"]))
    app.config["BOUNCE_IMAP_URL"] = imap.url_for("zle-haslo-123")
    result = runner.invoke(args=["invitations", "bounces"])
    assert result.exit_code == 1
    assert "refused the login" in result.output and "ANKIETA_BOUNCE_IMAP_URL" in result.output
    assert "zle-haslo-123" not in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    with caplog.at_level(logging.WARNING):
        app.extensions["ankieta.tasks"].run_periodic()
    warnings = [r for r in caplog.records if "bounce mailbox" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].exc_info is None
    assert "refused the login" in warnings[0].getMessage()
    assert "zle-haslo-123" not in caplog.text and PASSWORD not in caplog.text
    assert sample_unit(app, fieldwork_id, "C-02").mail_bounced_at is None
    assert imap.unseen() == ["Undelivered Mail Returned to Sender"]
    # nobody listening there: one line too
    app.config["BOUNCE_IMAP_URL"] = "imap://zwroty:x@127.0.0.1:1/INBOX"
    result = runner.invoke(args=["invitations", "bounces"])
    assert result.exit_code == 1 and "cannot reach the bounce mailbox 127.0.0.1:1" in result.output


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("imaps://zwroty:tajne-haslo@imap.example.pl:port/INBOX", "is not an address"),
        ("pop3://zwroty:tajne-haslo@imap.example.pl/INBOX", "must start with imaps://"),
        ("imaps://imap.example.pl/INBOX", "needs the mailbox's user and password"),
        ("imaps://zwroty:tajne-haslo@/INBOX", "has no host"),
    ],
)
def test_a_malformed_bounce_mailbox_address_stops_the_start_in_one_line(
    app, runner, tmp_path, url, says
):
    with pytest.raises(ConfigError) as refused:
        create_app({"INSTANCE_PATH": str(tmp_path), "BOUNCE_IMAP_URL": url, "QUEUE_URL": "memory"})
    message = str(refused.value)
    assert message.startswith("ANKIETA_BOUNCE_IMAP_URL") and says in message
    assert "tajne-haslo" not in message and "\n" not in message
    # set after the start (the app's own config changed): the command says the same
    app.config["BOUNCE_IMAP_URL"] = url
    result = runner.invoke(args=["invitations", "bounces"])
    assert result.exit_code == 1 and says in result.output and "tajne-haslo" not in result.output
    app.config["BOUNCE_IMAP_URL"] = ""
    result = runner.invoke(args=["invitations", "bounces"])
    assert result.exit_code == 1 and "Nie skonfigurowano skrzynki zwrotów" in result.output


def test_the_address_is_read_with_its_defaults_and_never_shows_the_password():
    settings = parse_imap_url("imaps://zwroty:tajne%2Fhaslo@imap.example.pl/Zwroty")
    assert (settings.port, settings.tls, settings.folder) == (993, "ssl", "Zwroty")
    assert settings.password == "tajne/haslo"
    assert "tajne" not in repr(settings) and "tajne" not in str(settings)
    assert settings.masked() == "imaps://zwroty:***@imap.example.pl:993/Zwroty"
    plain = parse_imap_url("imap://zwroty:x@imap.example.pl")
    assert (plain.port, plain.tls, plain.folder) == (143, "starttls", "INBOX")


def test_starttls_is_used_when_offered_and_imaps_from_the_start(
    app, runner, smtp, fieldwork_id, monkeypatch
):
    sent = _invited(app, runner, smtp, fieldwork_id)
    with ImapServer(tls=True) as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.certificate))  # trust the test's own CA
        server.deliver(delivery_report(sent["cis@gliwice.example.pl"]))
        app.config["BOUNCE_IMAP_URL"] = server.url  # imap://: STARTTLS, as the server offers it
        result = runner.invoke(args=["invitations", "bounces"])
        assert result.exit_code == 0, result.output
        assert "trwałe zwroty, kontakty oznaczone jako odrzucone: 1" in result.output
        server.deliver(delivery_report(sent["kis@zory.example.pl"]))
        app.config["BOUNCE_IMAP_URL"] = server.url_for(PASSWORD, "imaps")
        result = runner.invoke(args=["invitations", "bounces"])
        assert result.exit_code == 0, result.output
        assert "trwałe zwroty, kontakty oznaczone jako odrzucone: 1" in result.output
        logins = [line for line in server.log().splitlines() if "Login: user=<zwroty>" in line]
    # the two readings logged in over TLS (the fixture's own deliveries did not)
    assert sum(1 for line in logins if "TLS" in line) == 2, logins
    assert sample_unit(app, fieldwork_id, "K-01").mail_bounced_at is not None


def test_a_server_on_another_machine_without_starttls_gets_no_password(app, runner):
    address = outward_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    with ImapServer(address=address) as server:  # the same Dovecot, without TLS, on the network
        app.config["BOUNCE_IMAP_URL"] = server.url
        result = runner.invoke(args=["invitations", "bounces"])
    assert result.exit_code == 1
    assert f"{address}:{server.port} offers no STARTTLS" in result.output
    assert "use imaps://" in result.output and PASSWORD not in result.output


def test_delivery_reports_are_told_apart_hard_from_delayed():
    from email.message import EmailMessage

    original = EmailMessage()
    original["From"] = "ROPS <badania@rops.example.pl>"
    original["To"] = "kis@zory.example.pl"
    original["Subject"] = "Zaproszenie"
    original["Date"] = "Mon, 16 Mar 2026 09:30:00 +0000"
    original["Message-ID"] = "<1742117400.1.2@rops.example.pl>"
    original.set_content("Treść")
    hard = read_returned(delivery_report(original, status="5.1.1"))
    assert hard is not None and hard.hard and hard.standard and hard.status == "5.1.1"
    assert hard.recipients == ("kis@zory.example.pl",)
    assert hard.message_ids == ("<1742117400.1.2@rops.example.pl>",)
    delayed = read_returned(delivery_report(original, action="delayed", status="4.4.7"))
    assert delayed is not None and not delayed.hard
    # "failed" with a temporary status is not a hard bounce either
    odd = read_returned(delivery_report(original, action="failed", status="4.4.7"))
    assert odd is not None and not odd.hard
    quoted = read_returned(plain_bounce(original))
    assert quoted is not None and quoted.hard and not quoted.standard
    assert quoted.message_ids == ("<1742117400.1.2@rops.example.pl>",)
    assert read_returned(reply_to(original, "Odpowiem jutro.")) is None
    # a reply is recognised as none by its headers alone (the worker downloads no more)
    assert not may_be_returned(reply_to(original, "Odpowiem jutro.").split(b"\n\n")[0])
    assert may_be_returned(delivery_report(original).split(b"\n\n")[0])
    assert may_be_returned(plain_bounce(original).split(b"\n\n")[0])
    assert read_returned(b"\x00\xff garbage without headers") is None
