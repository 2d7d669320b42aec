"""Invitations and reminders by e-mail, sent through a real SMTP server started by the test.

The queue runs in the test process (``QUEUE_URL=memory``): a wave asked for on the command
line or on the page is sent by its worker thread, and ``queue.wait()`` waits for it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.mailing import services
from app.models.audit import AuditEvent
from app.models.cati import Case
from app.models.fieldwork import Response, ResponseStatus, SampleUnit
from app.models.mail import MailMessage, MailWave
from app.models.users import Role
from tests.support import ENGLISH_LOCALE
from tests.support.mailserver import EMAILS, invitations, sample_unit


def _complete(app, fieldwork_id: int, external_id: str) -> None:
    unit = sample_unit(app, fieldwork_id, external_id)
    with app.extensions["ankieta.db"].session() as session:
        from app.models.fieldwork import Fieldwork

        fieldwork = session.get(Fieldwork, fieldwork_id)
        session.add(
            Response(
                fieldwork_id=fieldwork_id,
                sample_unit_id=unit.id,
                survey_version_id=fieldwork.survey_version_id,
                status=ResponseStatus.COMPLETE.value,
            )
        )


def test_invitations_reach_every_contact_in_polish_with_a_working_link_and_opt_out_headers(
    app, client, runner, smtp, fieldwork_id
):
    result = invitations(app, runner, "send", str(fieldwork_id))
    assert result.exit_code == 0, result.output
    assert "do 3 kontaktów czeka w kolejce" in result.output
    assert sorted(m["To"] for m in smtp.messages) == sorted(EMAILS.values())
    message = smtp.collector.to("zrodlo@lodz.example.pl")[0]
    assert message["Subject"] == "Zaproszenie do badania: Monitoring ekonomii społecznej 2026"
    assert message["From"].addresses[0].display_name == "ROPS Śląsk"
    assert message["Reply-To"] == "kontakt@rops.example.pl"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Spółdzielnia Socjalna „Źródło” w Łodzi" in text
    assert "Spółdzielnia Socjalna „Źródło” w Łodzi" in html
    unit = sample_unit(app, fieldwork_id, "S-03")
    link = f"http://ankieta.example.pl/r/{unit.token}"
    assert link in text and f'href="{link}"' in html
    assert client.get(link.removeprefix("http://ankieta.example.pl")).status_code == 200
    # RFC 8058: an HTTPS/HTTP URI and the one-click POST marker
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = "".join(message["List-Unsubscribe"].split()).strip("<>")
    assert unsubscribe.startswith("http://ankieta.example.pl/mail/opt-out/")
    assert unsubscribe in text
    # the message left as 8-bit-safe encoded parts (no raw UTF-8 in the headers)
    assert message.get_content_type() == "multipart/alternative"
    # sent twice? no: everybody has been invited now
    again = invitations(app, runner, "send", str(fieldwork_id))
    assert again.exit_code != 0 and "Nikt nie czeka na tę wiadomość" in again.output
    assert len(smtp.messages) == 3
    with app.extensions["ankieta.db"].session() as session:
        sent = session.scalars(select(MailMessage)).all()
        assert {m.state for m in sent} == {"sent"}
        assert all(m.message_id and m.sent_at for m in sent)
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "mail.wave_queued" in actions and "mail.wave_sent" in actions


def test_a_5xx_reply_marks_the_contact_bounced_and_no_reminder_goes_there(
    app, runner, smtp, fieldwork_id
):
    smtp.collector.refuse.add("cis@gliwice.example.pl")
    assert invitations(app, runner, "send", str(fieldwork_id)).exit_code == 0
    assert sorted(m["To"] for m in smtp.messages) == [
        "kis@zory.example.pl",
        "zrodlo@lodz.example.pl",
    ]
    assert sample_unit(app, fieldwork_id, "C-02").mail_bounced_at is not None
    with app.extensions["ankieta.db"].session() as session:
        bounced = session.scalar(select(MailMessage).where(MailMessage.state == "bounced"))
        assert bounced.error.startswith("550")
    status = runner.invoke(args=["invitations", "status", str(fieldwork_id)])
    assert f"{'odrzucony adres':<20} 1" in status.output and f"{'wysłano':<20} 2" in status.output
    smtp.collector.refuse.clear()
    assert invitations(app, runner, "remind", str(fieldwork_id)).exit_code == 0
    reminded = [m["To"] for m in smtp.messages[2:]]
    assert sorted(reminded) == ["kis@zory.example.pl", "zrodlo@lodz.example.pl"]
    assert smtp.messages[2]["Subject"].startswith("Przypomnienie")


def test_one_click_opt_out_is_honoured_by_every_later_wave(app, client, runner, smtp, fieldwork_id):
    assert invitations(app, runner, "send", str(fieldwork_id)).exit_code == 0
    message = smtp.collector.to("kis@zory.example.pl")[0]
    path = (
        "".join(message["List-Unsubscribe"].split())
        .strip("<>")
        .removeprefix("http://ankieta.example.pl")
    )
    # a link checker's GET changes nothing
    page = client.get(path)
    assert page.status_code == 200
    assert sample_unit(app, fieldwork_id, "K-01").mail_opted_out_at is None
    # the mail program's one-click POST: no cookie, no CSRF token, just the RFC 8058 body
    fresh = app.test_client()
    done = fresh.post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
        csrf=False,
    )
    assert done.status_code == 200
    assert sample_unit(app, fieldwork_id, "K-01").mail_opted_out_at is not None
    assert fresh.post(path, data={}, csrf=False).status_code == 200  # twice is harmless
    assert client.post("/mail/opt-out/forged-token", data={}, csrf=False).status_code == 404
    assert invitations(app, runner, "remind", str(fieldwork_id)).exit_code == 0
    reminded = [m["To"] for m in smtp.messages[3:]]
    assert sorted(reminded) == ["cis@gliwice.example.pl", "zrodlo@lodz.example.pl"]


def test_reminders_skip_completed_contacts_and_open_phone_appointments(
    app, runner, smtp, fieldwork_id, clock
):
    assert invitations(app, runner, "send", str(fieldwork_id)).exit_code == 0
    _complete(app, fieldwork_id, "K-01")
    unit = sample_unit(app, fieldwork_id, "C-02")
    with app.extensions["ankieta.db"].session() as session:
        case = session.scalar(select(Case).where(Case.sample_unit_id == unit.id))
        case.appointment_start = clock() + timedelta(days=1)
    dry = runner.invoke(args=["invitations", "remind", str(fieldwork_id), "--dry-run"])
    assert (
        dry.exit_code == 0 and "trafiłoby do kontaktów: 1" in dry.output and "zrodlo@" in dry.output
    )
    english = runner.invoke(
        args=["invitations", "remind", str(fieldwork_id), "--dry-run"], env=ENGLISH_LOCALE
    )
    assert "Would send the reminder to 1 contacts (dry run: nothing sent)." in english.output
    assert len(smtp.messages) == 3  # a dry run sends nothing
    with app.extensions["ankieta.db"].session() as session:
        assert session.scalar(select(MailWave).where(MailWave.kind == "reminder")) is None
    assert invitations(app, runner, "remind", str(fieldwork_id)).exit_code == 0
    assert [m["To"] for m in smtp.messages[3:]] == ["zrodlo@lodz.example.pl"]


def test_scheduled_reminders_go_out_on_their_days_and_never_after_the_closing_date(
    app, runner, smtp, fieldwork_id, clock
):
    with app.extensions["ankieta.db"].session() as session:
        from app.models.fieldwork import Fieldwork

        fieldwork = session.get(Fieldwork, fieldwork_id)
        fieldwork.closes_on = (clock() + timedelta(days=10)).date()
        services.save_settings(
            session, fieldwork, {"reminder_days": "7, 14"}, clock(), user_id=None
        )
    assert invitations(app, runner, "send", str(fieldwork_id)).exit_code == 0
    queue = app.extensions["ankieta.tasks"]
    clock.advance(days=6)
    queue.run_periodic()
    queue.wait()
    assert len(smtp.messages) == 3
    clock.advance(days=1, minutes=1)
    queue.run_periodic()
    queue.run_periodic()  # the next minute's check makes no second wave
    queue.wait()
    assert len(smtp.messages) == 6
    clock.advance(days=7)  # day 14 is past the closing date
    queue.run_periodic()
    queue.wait()
    assert len(smtp.messages) == 6
    with app.extensions["ankieta.db"].session() as session:
        waves = session.scalars(select(MailWave).where(MailWave.kind == "reminder")).all()
    assert [(w.number, w.scheduled) for w in waves] == [(1, True)]


def test_a_closed_fieldwork_sends_no_reminder_scheduled_or_asked_for(
    app, runner, smtp, fieldwork_id, clock
):
    from app.models.fieldwork import Fieldwork

    with app.extensions["ankieta.db"].session() as session:
        fieldwork = session.get(Fieldwork, fieldwork_id)
        services.save_settings(session, fieldwork, {"reminder_days": "7"}, clock(), user_id=None)
    assert invitations(app, runner, "send", str(fieldwork_id)).exit_code == 0
    assert len(smtp.messages) == 3
    with app.extensions["ankieta.db"].session() as session:
        session.get(Fieldwork, fieldwork_id).close(clock())
    queue = app.extensions["ankieta.tasks"]
    clock.advance(days=8)  # past the reminder's day, but the fieldwork is closed
    queue.run_periodic()
    queue.wait()
    refused = invitations(app, runner, "remind", str(fieldwork_id))
    assert refused.exit_code == 1  # refused, with the reason (the command line's language: #19)
    assert len(smtp.messages) == 3
    with app.extensions["ankieta.db"].session() as session:
        assert session.scalar(select(MailWave).where(MailWave.kind == "reminder")) is None


def test_malformed_mail_settings_are_refused_in_one_line_without_the_password(
    app, runner, fieldwork_id
):
    app.config.update(
        SMTP_URL="smtp://ropsuser:tajne-haslo@mail.example.pl:port", MAIL_FROM="x@y.pl"
    )
    result = runner.invoke(args=["invitations", "send", str(fieldwork_id)])
    assert result.exit_code != 0
    assert "ANKIETA_SMTP_URL" in result.output and "tajne-haslo" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    app.config.update(SMTP_URL="smtps://ropsuser:tajne-haslo@mail.example.pl", MAIL_FROM="nobody")
    result = runner.invoke(args=["invitations", "send", str(fieldwork_id)])
    assert "ANKIETA_MAIL_FROM" in result.output and "tajne-haslo" not in result.output
    from app.domain.fieldwork.mail import parse_smtp_url

    settings = parse_smtp_url("smtps://ropsuser:tajne-haslo@mail.example.pl")
    assert (settings.port, settings.tls) == (465, "ssl")
    assert "tajne-haslo" not in repr(settings) and "tajne-haslo" not in str(settings)
    assert parse_smtp_url("smtp://u:p@mail.example.pl").tls == "starttls"


def test_the_mail_page_previews_a_real_row_saves_messages_sends_and_filters(
    app, client, login_as, smtp, fieldwork_id
):
    login_as(Role.ANALYST)
    page = client.get(f"/fieldwork/{fieldwork_id}/mail")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Klub Integracji Społecznej w Żorach" in body  # the preview of the first contact
    assert "kis@zory.example.pl" in body
    saved = client.post(
        f"/fieldwork/{fieldwork_id}/mail",
        data={
            "language": "en",
            "rops_contact": "Anna Nowak, 32 000 00 00",
            "invitation_subject": "Please answer: {survey}",
            "invitation_body": "Hello {contact_person} of {institution}: {link} — {rops_contact}",
            "reminder_subject": "",
            "reminder_body": "",
            "reminder_days": "",
        },
    )
    assert saved.status_code == 302
    preview = client.get(f"/fieldwork/{fieldwork_id}/mail").get_data(as_text=True)
    assert "Hello Pani Łucja Żak of Klub Integracji Społecznej w Żorach" in preview
    wrong = client.post(
        f"/fieldwork/{fieldwork_id}/mail",
        data={"language": "pl", "invitation_body": "Dzień dobry {instytucja}"},
    )
    assert wrong.status_code == 400 and "{instytucja}" in wrong.get_data(as_text=True)
    sent = client.post(f"/fieldwork/{fieldwork_id}/mail/send", data={"kind": "invitation"})
    assert sent.status_code == 302
    app.extensions["ankieta.tasks"].wait()
    assert len(smtp.messages) == 3
    assert smtp.messages[0]["Subject"] == "Please answer: Monitoring ekonomii społecznej 2026"
    listed = client.get(f"/fieldwork/{fieldwork_id}/mail?state=no_email").get_data(as_text=True)
    assert "Stowarzyszenie bez adresu" in listed
    assert "Klub Integracji Społecznej w Żorach</td>" not in listed
    listed = client.get(f"/fieldwork/{fieldwork_id}/mail?state=sent").get_data(as_text=True)
    assert "Klub Integracji Społecznej w Żorach</td>" in listed


def test_an_interviewer_cannot_open_the_mail_page(app, client, login_as, fieldwork_id):
    login_as(Role.INTERVIEWER)
    assert client.get(f"/fieldwork/{fieldwork_id}/mail").status_code == 403
    assert (
        client.post(f"/fieldwork/{fieldwork_id}/mail/send", data={"kind": "invitation"}).status_code
        == 403
    )


def test_the_contacts_sheet_and_the_report_count_invitations_and_reminders(
    app, client, runner, login_as, smtp, fieldwork_id
):
    import io

    import openpyxl

    from tests.support.files import prepare_file

    smtp.collector.refuse.add("cis@gliwice.example.pl")
    assert invitations(app, runner, "send", str(fieldwork_id)).exit_code == 0
    assert invitations(app, runner, "remind", str(fieldwork_id)).exit_code == 0
    login_as(Role.ANALYST)
    book = openpyxl.load_workbook(io.BytesIO(prepare_file(client, fieldwork_id)), read_only=True)
    header, *rows = book["Kontakty"].iter_rows(values_only=True)
    contacts = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    sent = ("wysłane_zaproszenia", "wysłane_przypomnienia")
    assert (contacts["K-01"][sent[0]], contacts["K-01"][sent[1]]) == (1, 1)
    assert contacts["C-02"][sent[0]] == 0 and contacts["C-02"]["poczta_niedoręczona"] == 1
    assert contacts["N-04"][sent[0]] == 0
    assert not {"email", "e-mail"} & set(header)  # no addresses in a results file
    report = openpyxl.load_workbook(
        io.BytesIO(prepare_file(client, fieldwork_id, kind="report")), read_only=True
    )
    rates_header, total, *_ = report["realizacja badania"].iter_rows(values_only=True)
    total = dict(zip(rates_header, total, strict=True))
    assert (total["wysłane zaproszenia"], total["wysłane przypomnienia"]) == (2, 2)


def test_erasing_contact_data_erases_the_mail_log_and_keeps_the_counts_and_opt_outs(
    app, runner, smtp, fieldwork_id, clock
):
    smtp.collector.refuse.add("cis@gliwice.example.pl")
    assert invitations(app, runner, "send", str(fieldwork_id)).exit_code == 0
    unit_id = sample_unit(app, fieldwork_id, "K-01").id
    with app.extensions["ankieta.db"].session() as session:
        services.opt_out(session, session.get(SampleUnit, unit_id), clock())
    assert runner.invoke(args=["fieldwork", "close", str(fieldwork_id)]).exit_code == 0
    erased = runner.invoke(args=["privacy", "erase", str(fieldwork_id), "--yes"])
    assert erased.exit_code == 0, erased.output
    with app.extensions["ankieta.db"].session() as session:
        messages = session.scalars(select(MailMessage)).all()
        assert len(messages) == 3
        for message in messages:
            assert message.email.startswith("email-") and not message.error
            assert "example.pl" not in message.email
        assert [m.state for m in messages].count("sent") == 2
        assert session.scalar(
            select(SampleUnit.mail_opted_out_at).where(SampleUnit.external_id == "K-01")
        )
