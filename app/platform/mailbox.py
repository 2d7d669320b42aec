"""Reading a bounce mailbox: the setting ``ANKIETA_BOUNCE_IMAP_URL``, one IMAP session, and
what a returned mail says.

``imaps://user:password@host:993/INBOX`` reads over TLS; ``imap://user:password@host/INBOX``
uses STARTTLS, and without it reads in the clear only from a server on this machine
(loopback), never sending a password unencrypted over a network. The password is never
printed or logged: the setting prints as ``imaps://user:***@host:993/INBOX`` and errors name
the server and what went wrong only.

:func:`read_returned` recognises a returned mail: an RFC 3464 delivery status notification
(``multipart/report; report-type=delivery-status``: ``Action: failed`` with a ``5.x.x``
``Status`` is a hard bounce, ``delayed`` or ``4.x.x`` is not), or a common non-standard
bounce (from ``MAILER-DAEMON``/``postmaster`` or with a bounce subject) whose attached or
quoted original names its ``Message-ID``.
"""

from __future__ import annotations

import email
import email.errors
import email.header
import email.policy
import imaplib
import ipaddress
import re
import ssl
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from app.domain.fieldwork.mail import MailConfigError

SETTING = "ANKIETA_BOUNCE_IMAP_URL"
EXAMPLE = "imaps://user:password@host:993/INBOX"


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    tls: str  # "ssl" (imaps) or "starttls" (imap: STARTTLS, or in the clear on loopback)
    username: str
    password: str
    folder: str = "INBOX"

    def __repr__(self) -> str:  # the password never reaches a log line or a traceback
        return f"ImapSettings({self.masked()})"

    __str__ = __repr__

    def masked(self) -> str:
        scheme = "imaps" if self.tls == "ssl" else "imap"
        return f"{scheme}://{self.username}:***@{self.host}:{self.port}/{self.folder}"


def parse_imap_url(url: str) -> ImapSettings:
    """``imaps://user:pass@host:993/INBOX`` or ``imap://user:pass@host:143/INBOX``.

    MailConfigError (one line, never repeating the password) if it cannot work.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise MailConfigError(f"{SETTING} is not an address; use {EXAMPLE}") from None
    if parts.scheme not in ("imap", "imaps"):
        raise MailConfigError(
            f"{SETTING} must start with imaps:// or imap:// (not {parts.scheme or '…'}://)"
        )
    if not parts.hostname:
        raise MailConfigError(f"{SETTING} has no host; use {EXAMPLE}")
    if not parts.username or parts.password is None:
        raise MailConfigError(f"{SETTING} needs the mailbox's user and password; use {EXAMPLE}")
    if parts.query or parts.fragment:
        raise MailConfigError(f"{SETTING} takes no ?options; use {EXAMPLE}")
    folder = unquote(parts.path.strip("/")) or "INBOX"
    if not folder.isascii() or any(ord(c) < 32 for c in folder):
        raise MailConfigError(f"{SETTING}: name the folder in plain ASCII letters (e.g. /INBOX)")
    tls = "ssl" if parts.scheme == "imaps" else "starttls"
    return ImapSettings(
        host=parts.hostname,
        port=port or (993 if tls == "ssl" else 143),
        tls=tls,
        username=unquote(parts.username),
        password=unquote(parts.password),
        folder=folder,
    )


def bounce_settings(url: str | None) -> ImapSettings | None:
    """The bounce mailbox of the setting's value; None when it is not set."""
    url = (url or "").strip()
    return parse_imap_url(url) if url else None


class MailboxError(Exception):
    """The bounce mailbox could not be read; the message is one line without the password."""


def _bytes(item: Any) -> bytes:
    if isinstance(item, tuple):
        return b" ".join(_bytes(part) for part in item)
    return item if isinstance(item, bytes) else b""


def _literal(data: list[Any]) -> bytes:
    """The text a FETCH answered (its one literal)."""
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return bytes(item[1])
    return b""


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Mailbox:
    """One IMAP session on the bounce folder: ``with Mailbox(settings) as box: box.unseen()``.

    ``readonly`` (a dry run) selects the folder read-only: nothing in it can change.
    """

    def __init__(self, settings: ImapSettings, *, readonly: bool = False, timeout: float = 30):
        self.settings, self.readonly, self.timeout = settings, readonly, timeout
        self._imap: imaplib.IMAP4 | None = None

    def __enter__(self) -> Mailbox:
        self._imap = self._open()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def _open(self) -> imaplib.IMAP4:
        settings = self.settings
        try:
            if settings.tls == "ssl":
                imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    settings.host,
                    settings.port,
                    ssl_context=ssl.create_default_context(),
                    timeout=self.timeout,
                )
            else:
                imap = imaplib.IMAP4(settings.host, settings.port, timeout=self.timeout)
                if "STARTTLS" in imap.capabilities:
                    imap.starttls(ssl_context=ssl.create_default_context())
                elif not _is_loopback(settings.host):
                    imap.shutdown()
                    raise MailboxError(
                        f"the bounce mailbox {self._where()} offers no STARTTLS: the password "
                        "would cross the network unencrypted; use imaps://"
                    )
        except MailboxError:
            raise
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(
                f"cannot reach the bounce mailbox {self._where()}: {type(exc).__name__}"
            ) from None
        try:
            imap.login(settings.username, settings.password)
        except (imaplib.IMAP4.error, UnicodeEncodeError):
            self._drop(imap)
            raise MailboxError(
                f"the bounce mailbox {self._where()} refused the login of {settings.username!r}; "
                f"check the user and password in {SETTING}"
            ) from None
        except OSError as exc:
            self._drop(imap)
            raise MailboxError(
                f"the bounce mailbox {self._where()} dropped the connection: {type(exc).__name__}"
            ) from None
        try:
            status, _ = self._call(imap, "select", _quoted(settings.folder), self.readonly)
        except MailboxError:
            self._drop(imap)
            raise
        if status != "OK":
            self._drop(imap)
            raise MailboxError(
                f"the bounce mailbox {self._where()} has no folder {settings.folder!r}"
            )
        return imap

    def _call(self, imap: imaplib.IMAP4, command: str, *args: Any) -> tuple[str, list[Any]]:
        """``imap.command(*args)``: its status and data, or MailboxError."""
        try:
            status, data = getattr(imap, command)(*args)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(
                f"reading the bounce mailbox {self._where()} failed: {type(exc).__name__}"
            ) from None
        return str(status), list(data)

    def _session(self) -> imaplib.IMAP4:
        if self._imap is None:
            raise MailboxError("the bounce mailbox is not open")
        return self._imap

    @staticmethod
    def _drop(imap: imaplib.IMAP4) -> None:
        try:
            imap.shutdown()
        except OSError:
            pass

    def unseen(self, limit: int = 500) -> list[bytes]:
        """The UIDs of the folder's unseen mails (the newest ``limit``: mails nobody reads
        pile up unseen, while bounces come soon after a wave)."""
        status, data = self._call(self._session(), "uid", "SEARCH", None, "UNSEEN")
        if status != "OK":
            raise MailboxError(f"the bounce mailbox {self._where()} refused to search")
        return bytes(data[0] or b"").split()[-limit:]

    def fetch(self, uid: bytes, max_bytes: int = 2_000_000) -> bytes | None:
        """Mail ``uid`` as sent if it may be a returned mail, leaving it unseen.

        None if it is gone, larger than ``max_bytes`` (a returned invitation is small), or
        its headers show it is no returned mail (a reply is not downloaded every time).
        """
        imap = self._session()
        status, data = self._call(imap, "uid", "FETCH", uid, "(RFC822.SIZE BODY.PEEK[HEADER])")
        size = re.search(rb"RFC822\.SIZE (\d+)", b" ".join(_bytes(item) for item in data))
        if status != "OK" or size is None or int(size.group(1)) > max_bytes:
            return None
        if not may_be_returned(_literal(data)):
            return None
        status, data = self._call(imap, "uid", "FETCH", uid, "(BODY.PEEK[])")
        if status != "OK":
            return None
        return _literal(data) or None

    def mark_seen(self, uid: bytes) -> None:
        """Flag mail ``uid`` as seen, so that it is not read again."""
        self._call(self._session(), "uid", "STORE", uid, "+FLAGS", "(\\Seen)")

    def close(self) -> None:
        if self._imap is None:
            return
        imap, self._imap = self._imap, None
        try:
            imap.logout()
        except (OSError, imaplib.IMAP4.error):
            self._drop(imap)


# -- what a returned mail says ------------------------------------------------------------------


@dataclass(frozen=True)
class Returned:
    """A mail that returns one of ours, and what it says about it."""

    hard: bool  # the address does not work: failed for good (5.x.x)
    status: str  # the status code, e.g. "5.1.1" ("" if the mail gives none)
    recipients: tuple[str, ...]  # the addresses it reports on (lower case)
    message_ids: tuple[str, ...]  # the Message-IDs of the returned original(s)
    standard: bool  # an RFC 3464 delivery status notification


_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_MESSAGE_ID_LINE = re.compile(r"^[\s>]*message-id:\s*(<[^<>\s]+@[^<>\s]+>)", re.I | re.M)
_BOUNCE_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon")
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status notification|failure|has failed)|"
    r"mail delivery (failed|failure|subsystem)|returned mail|failure notice|"
    r"could not be delivered|non[- ]?delivery|nondeliverable|niedostarcz|"
    r"nie ?(można|udało się) (było )?dostarczyć",
    re.I,
)
_DELAY_WORDS = re.compile(
    r"\bdelay(ed)?\b|\bwarning\b|will (retry|keep trying|continue)|still trying|"
    r"not yet been delivered|opóźni|ostrzeżenie",
    re.I,
)


def may_be_returned(header: bytes) -> bool:
    """Whether a mail with this header may be a returned mail (a report, or a bounce's
    sender or subject); what :func:`read_returned` needs to see it as one."""
    message = email.message_from_bytes(header, policy=email.policy.compat32)
    return message.get_content_type() == "multipart/report" or _looks_bounced(message)


def _looks_bounced(message: Message) -> bool:
    """Sent by a mail system (MAILER-DAEMON, postmaster) or titled as a bounce."""
    senders = [address.lower() for _, address in getaddresses(message.get_all("From", []))]
    if any(address.partition("@")[0] in _BOUNCE_SENDERS for address in senders):
        return True
    return bool(_BOUNCE_SUBJECT.search(_decoded(str(message.get("Subject") or ""))))


def read_returned(raw: bytes) -> Returned | None:
    """What a mail says about a message it returns; None if it is not a returned mail."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    report = _delivery_report(message)
    if report is not None:
        return report
    return _plain_bounce(message)


def _parts(message: Message) -> list[Message]:
    """Every part of ``message``, itself included, entering attached messages."""
    found = [message]
    payload = message.get_payload()
    if isinstance(payload, list):
        for part in payload:
            if isinstance(part, Message):
                found.extend(_parts(part))
    return found


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def _message_id(value: str | None) -> str | None:
    match = re.search(r"<[^<>\s]+@[^<>\s]+>", value or "")
    return match.group(0) if match else None


def _original_ids(parts: list[Message], outer: Message) -> list[str]:
    """Message-IDs of the returned original: an attached message or its headers, or quoted."""
    ids: list[str] = []
    for part in parts:
        kind = part.get_content_type()
        if kind == "message/rfc822" and isinstance(part.get_payload(), list):
            for inner in part.get_payload():
                found = _message_id(inner.get("Message-ID") if isinstance(inner, Message) else "")
                ids += [found] if found else []
        elif kind == "text/rfc822-headers":
            headers = HeaderParser(policy=email.policy.compat32).parsestr(_text(part))
            found = _message_id(headers.get("Message-ID"))
            ids += [found] if found else []
        elif kind == "text/plain":  # the original quoted in the bounce's text
            ids += _MESSAGE_ID_LINE.findall(_text(part))
    own = _message_id(outer.get("Message-ID"))
    return list(dict.fromkeys(i for i in ids if i != own))


def _address(value: str) -> str:
    """``rfc822; Jan@Example.PL`` as ``jan@example.pl``."""
    address = value.partition(";")[2] if ";" in value else value
    return address.strip().strip("<>").strip().lower()


def _delivery_report(message: Message) -> Returned | None:
    if message.get_content_type() != "multipart/report":
        return None
    parts = _parts(message)
    blocks: list[Message] = []
    for part in parts:
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            payload = part.get_payload()
            if isinstance(payload, list):
                blocks += [b for b in payload if isinstance(b, Message)]
    if not blocks:
        return None
    failed: dict[str, str] = {}  # address -> its 5.x.x status
    other: dict[str, str] = {}  # delayed, or failed for now (4.x.x): address -> status
    for block in blocks:
        recipient = block.get("Final-Recipient") or block.get("Original-Recipient")
        if not recipient:
            continue  # the per-message fields
        action = (block.get("Action") or "").strip().lower()
        code = _STATUS.search(block.get("Status") or "")
        status = code.group(0) if code else ""
        if action == "failed" and status.startswith("5"):
            failed[_address(str(recipient))] = status
        else:
            other[_address(str(recipient))] = status
    if not failed and not other:
        return None
    reported = failed or other
    return Returned(
        hard=bool(failed),
        status=next(iter(reported.values())),
        recipients=tuple(reported),
        message_ids=tuple(_original_ids(parts, message)),
        standard=True,
    )


def _plain_bounce(message: Message) -> Returned | None:
    """A non-standard bounce: from a mail system, returning one of ours (by its Message-ID)."""
    if not _looks_bounced(message):
        return None
    subject = _decoded(str(message.get("Subject") or ""))
    ids = _original_ids(_parts(message), message)
    if not ids:
        return None
    # what the mail system says itself (not the returned original's own text)
    said = "\n".join(_text(part) for part in _own_texts(message))
    codes = [match.group(0) for match in _STATUS.finditer(said)]
    permanent = [code for code in codes if code.startswith("5")]
    delayed = bool(_DELAY_WORDS.search(subject) or _DELAY_WORDS.search(said))
    hard = not delayed and (bool(permanent) or not codes)
    return Returned(
        hard=hard,
        status=(permanent[0] if hard and permanent else codes[0] if codes else ""),
        recipients=(),
        message_ids=tuple(ids),
        standard=False,
    )


def _own_texts(message: Message) -> list[Message]:
    """The text parts of ``message`` outside the messages attached to it."""
    if message.get_content_type() == "text/plain":
        return [message]
    payload = message.get_payload()
    if message.get_content_type() == "message/rfc822" or not isinstance(payload, list):
        return []
    return [text for part in payload if isinstance(part, Message) for text in _own_texts(part)]


def _decoded(header: str) -> str:
    try:
        return str(email.header.make_header(email.header.decode_header(header)))
    except (UnicodeDecodeError, LookupError, email.errors.HeaderParseError):
        return header
