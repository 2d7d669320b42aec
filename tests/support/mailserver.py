"""A real SMTP server for the mail tests (aiosmtpd on loopback), collecting what it receives,
and the mail tests' contacts.

Addresses in ``refuse`` get a permanent ``550`` reply at RCPT (a hard bounce); everything
else is accepted and kept, parsed, in ``messages``. ``UNITS``/``EMAILS`` are the sample of
the ``fieldwork_id`` fixture (tests/mailing/conftest.py); ``invitations`` runs
``ankieta invitations ...`` and waits for the worker.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from sqlalchemy import select

UNITS = [
    ("K-01", "Klub Integracji Społecznej w Żorach", {}),
    ("C-02", "Centrum Integracji Społecznej w Gliwicach", {}),
    ("S-03", "Spółdzielnia Socjalna „Źródło” w Łodzi", {}),
    ("N-04", "Stowarzyszenie bez adresu", {}),
]
EMAILS = {
    "K-01": "kis@zory.example.pl",
    "C-02": "cis@gliwice.example.pl",
    "S-03": "zrodlo@lodz.example.pl",
}


def invitations(app, runner, *args: str):
    """``ankieta invitations ARGS``, then the queued work done; the CLI's result."""
    result = runner.invoke(args=["invitations", *args])
    app.extensions["ankieta.tasks"].wait()
    return result


def sample_unit(app, fieldwork_id: int, external_id: str):
    """One sampled institution as stored now (detached)."""
    from app.models.fieldwork import SampleUnit

    with app.extensions["ankieta.db"].session() as session:
        unit = session.scalar(
            select(SampleUnit).where(
                SampleUnit.fieldwork_id == fieldwork_id, SampleUnit.external_id == external_id
            )
        )
        session.expunge(unit)
        return unit


class Collector:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 Mailbox does not exist"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(parsed)
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


class MailServer:
    def __init__(self) -> None:
        self.collector = Collector()
        with socket.socket() as probe:  # aiosmtpd checks its own port, so it cannot be 0
            probe.bind(("127.0.0.1", 0))
            self._port = probe.getsockname()[1]
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self._port)

    def __enter__(self) -> MailServer:
        self.controller.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?starttls=no"

    @property
    def messages(self) -> list[EmailMessage]:
        return self.collector.messages
