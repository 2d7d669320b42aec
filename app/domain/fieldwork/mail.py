"""E-mail fieldwork without a server: SMTP addresses, message templates and their placeholders.

A template is plain text with ``{placeholders}``; the HTML part is made from the same text
(escaped, paragraphs kept, links made clickable), so the two never say different things.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import unquote, urlsplit

INVITATION, REMINDER = "invitation", "reminder"
LANGUAGES = ("pl", "en")

# the placeholders a template may use, with what they stand for
PLACEHOLDERS = (
    "institution",  # the sampled institution's name
    "contact_person",  # the contact person from the sample (may be empty)
    "link",  # the personal link to the questionnaire
    "deadline",  # the fieldwork's closing date (DD.MM.YYYY), or empty
    "rops_contact",  # who to ask: the fieldwork's contact at the ROPS
    "survey",  # the fieldwork's title
    "opt_out_link",  # one click: no more messages about this survey
)
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

DEFAULTS: dict[str, dict[str, tuple[str, str]]] = {
    "pl": {
        INVITATION: (
            "Zaproszenie do badania: {survey}",
            "Szanowni Państwo,\n\n"
            "zapraszamy {institution} do udziału w badaniu „{survey}”. Wypełnienie "
            "ankiety zajmie kilkanaście minut; można je przerwać i wrócić do niego później "
            "tym samym linkiem.\n\n"
            "Link do ankiety (osobisty, prosimy go nie przekazywać):\n{link}\n\n"
            "Prosimy o wypełnienie ankiety do dnia {deadline}.\n\n"
            "W razie pytań prosimy o kontakt: {rops_contact}\n\n"
            "Z wyrazami szacunku\nRegionalny Ośrodek Polityki Społecznej\n\n"
            "Jeśli nie chcą Państwo otrzymywać wiadomości w sprawie tego badania, "
            "wystarczy kliknąć: {opt_out_link}",
        ),
        REMINDER: (
            "Przypomnienie: badanie {survey}",
            "Szanowni Państwo,\n\n"
            "przypominamy o badaniu „{survey}”. Nie otrzymaliśmy jeszcze ankiety od "
            "{institution}. Będziemy wdzięczni za jej wypełnienie do dnia {deadline}.\n\n"
            "Link do ankiety (osobisty):\n{link}\n\n"
            "W razie pytań prosimy o kontakt: {rops_contact}\n\n"
            "Z wyrazami szacunku\nRegionalny Ośrodek Polityki Społecznej\n\n"
            "Jeśli nie chcą Państwo otrzymywać wiadomości w sprawie tego badania, "
            "wystarczy kliknąć: {opt_out_link}",
        ),
    },
    "en": {
        INVITATION: (
            "Invitation to the survey: {survey}",
            "Dear Sir or Madam,\n\n"
            "we invite {institution} to take part in the survey “{survey}”. It takes about "
            "fifteen minutes; you can stop and come back later with the same link.\n\n"
            "Your personal link (please do not pass it on):\n{link}\n\n"
            "Please answer by {deadline}.\n\n"
            "Questions: {rops_contact}\n\n"
            "Yours faithfully\nRegional Social Policy Centre\n\n"
            "If you want no more messages about this survey, click: {opt_out_link}",
        ),
        REMINDER: (
            "Reminder: the survey {survey}",
            "Dear Sir or Madam,\n\n"
            "this is a reminder of the survey “{survey}”. We have not yet received the "
            "answers of {institution}. Please answer by {deadline}.\n\n"
            "Your personal link:\n{link}\n\n"
            "Questions: {rops_contact}\n\n"
            "Yours faithfully\nRegional Social Policy Centre\n\n"
            "If you want no more messages about this survey, click: {opt_out_link}",
        ),
    },
}


class MailConfigError(ValueError):
    """A mail setting that cannot work; the message is one line saying what to fix."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: str  # "ssl" (smtps), "starttls" or "none"
    username: str = ""
    password: str = ""

    def __repr__(self) -> str:  # the password never reaches a log line or a traceback
        return f"SmtpSettings({self.masked()})"

    __str__ = __repr__

    def masked(self) -> str:
        scheme = "smtps" if self.tls == "ssl" else "smtp"
        user = f"{self.username}:***@" if self.username else ""
        query = "?starttls=no" if self.tls == "none" else ""
        return f"{scheme}://{user}{self.host}:{self.port}{query}"


def parse_smtp_url(url: str) -> SmtpSettings:
    """``smtp://user:pass@host:587`` (STARTTLS), ``smtps://...:465`` (TLS), ``smtp://host:25``.

    ``smtp://`` uses STARTTLS unless ``?starttls=no`` is added (a relay on the same network
    or a test server). The error never repeats the password.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise MailConfigError(
            "ANKIETA_SMTP_URL is not an address; use smtp://user:password@host:587"
        ) from None
    if parts.scheme not in ("smtp", "smtps"):
        raise MailConfigError(
            f"ANKIETA_SMTP_URL must start with smtp:// or smtps:// (not {parts.scheme or '…'}://)"
        )
    if not parts.hostname:
        raise MailConfigError("ANKIETA_SMTP_URL has no host; use smtp://user:password@host:587")
    query = dict(part.split("=", 1) for part in parts.query.split("&") if "=" in part)
    starttls = query.get("starttls", "yes").lower()
    if starttls not in ("yes", "no", "1", "0", "true", "false"):
        raise MailConfigError("ANKIETA_SMTP_URL: starttls must be yes or no")
    if parts.scheme == "smtps":
        tls, default_port = "ssl", 465
    else:
        tls = "starttls" if starttls in ("yes", "1", "true") else "none"
        default_port = 587 if tls == "starttls" else 25
    return SmtpSettings(
        host=parts.hostname,
        port=port or default_port,
        tls=tls,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


_ADDRESS = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


def is_address(value: str) -> bool:
    """A plausible single e-mail address (what a sample column should hold)."""
    return bool(_ADDRESS.match((value or "").strip()))


def unknown_placeholders(text: str) -> list[str]:
    """The ``{names}`` in ``text`` that are not placeholders, in order of appearance."""
    seen: list[str] = []
    for name in _PLACEHOLDER.findall(text):
        if name not in PLACEHOLDERS and name not in seen:
            seen.append(name)
    return seen


def fill(text: str, values: dict[str, str]) -> str:
    """``text`` with every known placeholder replaced (unknown ones are left as written)."""
    return _PLACEHOLDER.sub(
        lambda match: (
            values.get(match.group(1), match.group(0))
            if match.group(1) in PLACEHOLDERS
            else match.group(0)
        ),
        text,
    )


_LINK = re.compile(r"https?://[^\s<>\"]+")


def to_html(text: str, language: str) -> str:
    """A small HTML document saying what ``text`` says: paragraphs, line breaks, links."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        escaped = html.escape(block)
        linked = _LINK.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        paragraphs.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    body = "\n".join(paragraphs)
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(language)}">\n<head>'
        '<meta charset="utf-8"></head>\n'
        f'<body style="font-family: sans-serif; line-height: 1.5">\n{body}\n</body>\n</html>\n'
    )


def deadline_text(closes_on: date | None) -> str:
    return closes_on.strftime("%d.%m.%Y") if closes_on else ""


def reminder_days(text: str) -> list[int]:
    """``"7, 14"`` as [7, 14] (sorted, each 1..365); ValueError with a message if malformed."""
    days: list[int] = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 365:
            raise ValueError(part)
        days.append(int(part))
    return sorted(set(days))
