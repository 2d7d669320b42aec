"""The mail tests' fixtures: a real SMTP server, and a fieldwork whose contacts have e-mails."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from app.models.fieldwork import SampleUnit
from tests.support.mailserver import EMAILS, UNITS, MailServer


@pytest.fixture
def smtp(app):
    with MailServer() as server:
        app.config.update(
            SMTP_URL=server.url,
            MAIL_FROM="ROPS Śląsk <badania@rops.example.pl>",
            MAIL_REPLY_TO="kontakt@rops.example.pl",
            MAIL_RATE=10_000,
            BASE_URL="http://ankieta.example.pl",
        )
        yield server


@pytest.fixture
def fieldwork_id(app, make_fieldwork):
    fieldwork = make_fieldwork(units=UNITS, title="Monitoring ekonomii społecznej 2026")
    with app.extensions["ankieta.db"].session() as session:
        for external_id, address in EMAILS.items():
            session.execute(
                update(SampleUnit)
                .where(SampleUnit.fieldwork_id == fieldwork, SampleUnit.external_id == external_id)
                .values(email=address, contact_person="Pani Łucja Żak")
            )
    return fieldwork
