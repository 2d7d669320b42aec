"""A real IMAP server for the bounce tests: Dovecot on loopback with a throwaway configuration,
and the returned mails a bounce mailbox receives.

Dovecot (Debian: ``dovecot-imapd``, installed by ``make test-deps``) runs in the foreground
as the current user, everything in a temporary directory: its sockets and state, one
mailbox user in a passwd-file, the maildir. As root (a container), Dovecot's own users
``dovecot``/``dovenull`` run it, as it refuses root. On 127.0.0.1 (or ``address``),
without TLS (``ssl = no``: the application allows that on loopback only), or with ``tls``
STARTTLS and an ``imaps`` port with a certificate made for the test. Mails are put
into the mailbox over IMAP (``APPEND``), as a mail server's delivery would; ``unseen()`` and
``mark_all_unseen()`` look at and reset the ``\\Seen`` flags.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import quote

from tests.support import unavailable

USER = "zwroty"
PASSWORD = "tajne+Haslo/7"  # noqa: S105 - the throwaway mailbox's; characters a URL must escape
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
IMAP_BINARY = Path("/usr/lib/dovecot/imap")  # dovecot-imapd (dovecot-core alone has no IMAP)


def _free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


def outward_address() -> str | None:
    """This machine's address on its network (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: it only picks the route
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


class ImapServer:
    """``with ImapServer() as imap: imap.url; imap.deliver(raw); imap.unseen()``."""

    def __init__(self, address: str = "127.0.0.1", *, tls: bool = False) -> None:
        if not Path(DOVECOT).exists() or not IMAP_BINARY.exists():
            unavailable("Dovecot's IMAP server is not installed (apt install dovecot-imapd)")
        if tls and not shutil.which("openssl"):
            unavailable("openssl is not installed (it comes with dovecot-core)")
        self.address, self.tls = address, tls
        self.port = _free_port(address)
        self.tls_port = _free_port(address) if tls else 0
        self.process: subprocess.Popen[bytes] | None = None
        self.dir = Path(tempfile.mkdtemp(prefix="ankieta-imap-"))
        self.dir.chmod(0o755)  # as root, Dovecot's own users must reach their files

    @property
    def url(self) -> str:
        return self.url_for(PASSWORD)

    def url_for(self, password: str, scheme: str = "imap") -> str:
        port = self.tls_port if scheme == "imaps" else self.port
        return f"{scheme}://{USER}:{quote(password, safe='')}@{self.address}:{port}/INBOX"

    @property
    def certificate(self) -> Path:
        """The server's self-signed certificate (with ``tls``): trust it as a CA to connect."""
        return self.dir / "cert.pem"

    def _certificate(self) -> str:
        """Dovecot's TLS settings: a certificate for ``address`` made now, or none."""
        if not self.tls:
            return "ssl = no"
        key = self.dir / "key.pem"
        subprocess.run(  # noqa: S603 - fixed arguments
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-keyout", str(key), "-out", str(self.certificate),
                "-subj", f"/CN={self.address}", "-addext", f"subjectAltName=IP:{self.address}",
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        key.chmod(0o644)  # read by Dovecot's own users when run as root
        return f"ssl = yes\nssl_cert = <{self.certificate}\nssl_key = <{key}"

    def _users(self) -> tuple[str, str, str, int, int]:
        """The internal user, its group, the login user, and the mailbox's uid and gid."""
        if os.geteuid() != 0:
            me = pwd.getpwuid(os.getuid())
            return me.pw_name, _group_name(me.pw_gid), me.pw_name, me.pw_uid, me.pw_gid
        try:
            dovecot, dovenull = pwd.getpwnam("dovecot"), pwd.getpwnam("dovenull")
        except KeyError:
            unavailable("Dovecot's users dovecot/dovenull are missing (apt install dovecot-core)")
        group = _group_name(dovecot.pw_gid)
        return "dovecot", group, dovenull.pw_name, dovecot.pw_uid, dovecot.pw_gid

    def _configure(self) -> Path:
        internal, group, login, uid, gid = self._users()
        mail = self.dir / "mail"
        mail.mkdir()
        os.chown(mail, uid, gid)
        users = self.dir / "users"
        users.write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{mail / USER}\n")
        users.chmod(0o644)
        config = self.dir / "dovecot.conf"
        config.write_text(
            f"""
instance_name = ankieta-test-{self.port}
protocols = imap
listen = {self.address}
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
{self._certificate()}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = {min(uid, 500)}
first_valid_gid = {min(gid, 500)}
mail_location = maildir:{mail}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {users}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {self.address}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {self.address}
    port = {self.tls_port}
  }}
}}
service anvil {{
  chroot =
}}
"""
        )
        return config

    def __enter__(self) -> ImapServer:
        config = self._configure()
        self.process = subprocess.Popen(  # noqa: S603 - our own binary and file
            [DOVECOT, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.log()
                self._cleanup()
                raise RuntimeError(f"Dovecot did not start:\n{log}")
            try:
                with socket.create_connection((self.address, self.port), timeout=1) as connection:
                    if connection.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError(f"Dovecot did not answer on port {self.port}:\n{self.log()}")

    def __exit__(self, *_exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._cleanup()

    def _cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        """What Dovecot logged (a login over TLS says ``TLS``)."""
        path = self.dir / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- the mailbox, as a mail program sees it --------------------------------------------

    def _session(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.address, self.port, timeout=10)
        imap.login(USER, PASSWORD)
        imap.select("INBOX")
        return imap

    def deliver(self, raw: bytes) -> None:
        """Put a mail into the mailbox, unseen (as the mail server's delivery would)."""
        imap = self._session()
        try:
            status, _ = imap.append("INBOX", None, None, raw.replace(b"\r\n", b"\n"))
            assert status == "OK"
        finally:
            imap.logout()

    def unseen(self) -> list[str]:
        """The subjects of the unseen mails, oldest first."""
        imap = self._session()
        try:
            _, data = imap.uid("SEARCH", None, "UNSEEN")
            subjects = []
            for uid in (data[0] or b"").split():
                _, fetched = imap.uid("FETCH", uid, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
                header = fetched[0][1].decode("ascii", "replace").partition(":")[2]
                subjects.append(
                    str(make_header(decode_header(re.sub(r"\s+", " ", header)))).strip()
                )
            return subjects
        finally:
            imap.logout()

    def count(self) -> int:
        imap = self._session()
        try:
            _, data = imap.uid("SEARCH", None, "ALL")
            return len((data[0] or b"").split())
        finally:
            imap.logout()

    def mark_all_unseen(self) -> None:
        imap = self._session()
        try:
            imap.uid("STORE", "1:*", "-FLAGS", "(\\Seen)")
        finally:
            imap.logout()


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


# -- the mails a bounce mailbox receives ----------------------------------------------------------


def _headers_of(original: EmailMessage) -> bytes:
    raw = original.as_bytes()
    return raw.split(b"\n\n", 1)[0].replace(b"\r\n", b"\n") + b"\n"


def delivery_report(
    original: EmailMessage,
    *,
    action: str = "failed",
    status: str = "5.1.1",
    whole_original: bool = False,
    recipient: str | None = None,
) -> bytes:
    """An RFC 3464 report on ``original`` as Postfix writes it: failed or delayed."""
    recipient = recipient or str(original["To"])
    sender = original["From"].addresses[0].addr_spec
    failed = action == "failed"
    subject = (
        "Undelivered Mail Returned to Sender" if failed else "Delayed Mail (still being retried)"
    )
    human = (
        f"This is the mail system at host mx.example.pl.\n\nI'm sorry to have to inform you "
        f"that your message could not\nbe delivered to one or more recipients.\n\n"
        f"<{recipient}>: host mx said: 550 {status} User unknown\n"
        if failed
        else "This is the mail system at host mx.example.pl.\n\n####### THIS IS A WARNING ONLY."
        "  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #######\n\nYour message could not be "
        f"delivered for 4 hours.\nIt will be retried until it is 5 days old.\n\n<{recipient}>: "
        f"host mx said: 452 {status} Mailbox full\n"
    )
    returned = (
        b"Content-Type: message/rfc822\n\n" + original.as_bytes().replace(b"\r\n", b"\n")
        if whole_original
        else b"Content-Type: text/rfc822-headers\n\n" + _headers_of(original)
    )
    boundary = "7A1B2C3D.1742118000/mx.example.pl"
    head = (
        f"From: MAILER-DAEMON@mx.example.pl (Mail Delivery System)\n"
        f"To: {sender}\n"
        f"Subject: {subject}\n"
        f"Date: {format_datetime(original_date(original))}\n"
        f"Message-ID: {make_msgid(domain='mx.example.pl')}\n"
        f"Auto-Submitted: auto-replied\n"
        f"MIME-Version: 1.0\n"
        f"Content-Type: multipart/report; report-type=delivery-status;\n"
        f'\tboundary="{boundary}"\n\n'
        f"This is a MIME-encapsulated message.\n\n"
        f"--{boundary}\n"
        f"Content-Description: Notification\n"
        f"Content-Type: text/plain; charset=us-ascii\n\n"
        f"{human}\n"
        f"--{boundary}\n"
        f"Content-Description: Delivery report\n"
        f"Content-Type: message/delivery-status\n\n"
        f"Reporting-MTA: dns; mx.example.pl\n"
        f"X-Postfix-Queue-ID: 4TBQ1k0ZzVz\n"
        f"Arrival-Date: {format_datetime(original_date(original))}\n\n"
        f"Final-Recipient: rfc822; {recipient}\n"
        f"Original-Recipient: rfc822;{recipient}\n"
        f"Action: {action}\n"
        f"Status: {status}\n"
        f"Remote-MTA: dns; mx.example.pl\n"
        f"Diagnostic-Code: smtp; 550 {status} <{recipient}>: Recipient address rejected\n\n"
        f"--{boundary}\n"
        f"Content-Description: Undelivered Message Headers\n"
    ).encode()
    return head + returned + f"\n--{boundary}--\n".encode()


def plain_bounce(original: EmailMessage) -> bytes:
    """A non-standard bounce as qmail writes it: the original quoted in a text."""
    sender = original["From"].addresses[0].addr_spec
    return (
        f"From: MAILER-DAEMON@poczta.example.pl\n"
        f"To: {sender}\n"
        f"Subject: failure notice\n"
        f"Message-ID: {make_msgid(domain='poczta.example.pl')}\n"
        f"Date: {format_datetime(original_date(original))}\n\n"
        f"Hi. This is the qmail-send program at poczta.example.pl.\n"
        f"I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        f"This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        f"<{original['To']}>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
        f"--- Below this line is a copy of the message.\n\n"
    ).encode() + original.as_bytes().replace(b"\r\n", b"\n")


def reply_to(original: EmailMessage, text: str) -> bytes:
    """A person's reply to ``original`` (it names the original's Message-ID, but returns
    nothing)."""
    reply = EmailMessage()
    reply["From"] = str(original["To"])
    reply["To"] = original["From"].addresses[0].addr_spec
    reply["Subject"] = f"Re: {original['Subject']}"
    reply["In-Reply-To"] = str(original["Message-ID"])
    reply["References"] = str(original["Message-ID"])
    reply["Message-ID"] = make_msgid(domain="example.pl")
    reply.set_content(f"{text}\n\n> Message-ID: {original['Message-ID']}\n")
    return reply.as_bytes()


def original_date(original: EmailMessage):
    return original["Date"].datetime
