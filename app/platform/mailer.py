"""Sending e-mail: the settings (``ANKIETA_SMTP_URL`` and friends) and one SMTP connection.

The password in ``ANKIETA_SMTP_URL`` is never printed or logged: the settings print as
``smtp://user:***@host:587``, and SMTP errors are reported by their code and the
server's words only.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import Any

from app.domain.fieldwork.mail import MailConfigError, SmtpSettings, is_address, parse_smtp_url


@dataclass(frozen=True)
class MailSettings:
    smtp: SmtpSettings
    sender: str
    reply_to: str
    per_minute: int

    @property
    def pause(self) -> float:
        """Seconds between two messages at the configured rate."""
        return 60.0 / self.per_minute


def mail_settings(config: dict[str, Any]) -> MailSettings:
    """The configured mail settings; MailConfigError (one line) if missing or malformed."""
    url = (config.get("SMTP_URL") or "").strip()
    if not url:
        raise MailConfigError("e-mail is not set up: set ANKIETA_SMTP_URL and ANKIETA_MAIL_FROM")
    smtp = parse_smtp_url(url)
    sender = (config.get("MAIL_FROM") or "").strip()
    if not is_address(parseaddr(sender)[1]):
        raise MailConfigError(
            "ANKIETA_MAIL_FROM must be an address, e.g. 'ROPS Kraków <badania@rops.example.pl>'"
        )
    reply_to = (config.get("MAIL_REPLY_TO") or "").strip()
    if reply_to and not is_address(parseaddr(reply_to)[1]):
        raise MailConfigError("ANKIETA_MAIL_REPLY_TO must be an address (or unset)")
    try:
        rate = int(config.get("MAIL_RATE") or 0)
    except (TypeError, ValueError):
        rate = 0
    if not 1 <= rate <= 10_000:
        raise MailConfigError("ANKIETA_MAIL_RATE must be messages per minute, 1 to 10000")
    return MailSettings(smtp, sender, reply_to, rate)


def _address(value: str) -> Address:
    name, email = parseaddr(value)
    user, _, domain = email.partition("@")
    return Address(display_name=name, username=user, domain=domain)


def build_message(
    settings: MailSettings,
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    unsubscribe_url: str,
    now: datetime,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A multipart/alternative message (UTF-8 text and HTML) with RFC 8058 one-click headers."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = _address(settings.sender)
    message["To"] = to
    if settings.reply_to:
        message["Reply-To"] = _address(settings.reply_to)
    message["Date"] = format_datetime(now)
    domain = parseaddr(settings.sender)[1].partition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text, charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message


class Refused(Exception):
    """The server refused a message: ``permanent`` for a 5xx reply (the address bounced)."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.code, self.text = code, text

    @property
    def permanent(self) -> bool:
        return 500 <= self.code < 600


class Unreachable(Exception):
    """The SMTP server could not be reached or dropped the connection."""


def _text(reply: bytes | str) -> str:
    return (reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)).strip()


class Connection:
    """One SMTP session for a wave: opened on first use, re-opened after a dropped line."""

    def __init__(self, settings: MailSettings, timeout: float = 30.0) -> None:
        self.settings, self.timeout = settings, timeout
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        smtp_settings = self.settings.smtp
        try:
            if smtp_settings.tls == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    smtp_settings.host,
                    smtp_settings.port,
                    timeout=self.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(smtp_settings.host, smtp_settings.port, timeout=self.timeout)
                if smtp_settings.tls == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if smtp_settings.username:
                smtp.login(smtp_settings.username, smtp_settings.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise Unreachable(f"login refused: {exc.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise Unreachable(
                f"{smtp_settings.host}:{smtp_settings.port}: {type(exc).__name__}"
            ) from None
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` over; Refused (with the reply) or Unreachable if it was not taken."""
        if self._smtp is None:
            self._smtp = self._open()
        sender = parseaddr(self.settings.sender)[1]
        try:
            refused = self._smtp.send_message(message, from_addr=sender)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise Refused(code, _text(reply)) from None
        except smtplib.SMTPResponseException as exc:
            self._reset()
            raise Refused(exc.smtp_code, _text(exc.smtp_error)) from None
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self.close()
            raise Unreachable(type(exc).__name__) from None
        if refused:
            code, reply = next(iter(refused.values()))
            raise Refused(code, _text(reply))

    def _reset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._smtp = None


__all__ = [
    "Connection",
    "MailConfigError",
    "MailSettings",
    "Refused",
    "Unreachable",
    "build_message",
    "formataddr",
    "mail_settings",
]
