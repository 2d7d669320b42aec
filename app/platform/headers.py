"""Security headers on every response, and personal-link tokens kept out of the logs.

A respondent's personal link (``/r/<token>``, ``/o/<token>``) is the respondent's only
credential. It must not travel on as a referrer, stay in a shared computer's cache, or be
written to an access log. Staff pages are equally kept out of caches once logged in.

The headers are defaults: a view that sets one of them itself keeps its own value.
"""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, current_app, request, session
from flask.logging import default_handler

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",  # no inline script, no eval: app/static/js only
        "style-src 'self'",  # no style="" attributes, no <style>: app/static/css only
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Geolocation for our own pages only: a geopoint question offers the browser's location
# (the browser still asks the respondent); no embedded page may ask for it.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(self), payment=(), usb=()"
# One year; no includeSubDomains: other services of the operator's domain are not ours to pin.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"

PERSONAL_LINK_PREFIXES = ("/r/", "/o/")

# Every response gets these (unless the view set them).
ALWAYS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Nothing in Ankieta reads the Referer header, so no page needs to send one: the
    # strictest policy everywhere, and personal links can never leak through it.
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
}

LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")


def init_app(app: Flask) -> None:
    """Add the headers to every response of ``app`` and mask tokens in its logs.

    Call before the extensions are registered: the CSRF setting below must be in place
    before Flask-WTF sets its own default.
    """
    # Flask-WTF's "SSL strict" mode refuses an HTTPS form post without a same-origin
    # Referer. With Referrer-Policy: no-referrer browsers send none (and "Origin: null"),
    # so every post would fail behind HTTPS. The signed per-session CSRF token and the
    # SameSite=Lax session cookie still protect every form (docs/security.md, V4/V3).
    # An operator who sets WTF_CSRF_SSL_STRICT in the configuration keeps that value.
    app.config.setdefault("WTF_CSRF_SSL_STRICT", False)
    app.after_request(set_security_headers)
    install_token_filter(app.logger)


def set_security_headers(response: Response) -> Response:
    """after_request: the security headers, without overwriting what a view has set."""
    headers = response.headers
    present = {name.lower() for name in headers.keys()}  # one pass, not one per header
    for name, value in ALWAYS.items():
        if name.lower() not in present:
            headers.add(name, value)
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    if request.endpoint != "static" and "Cache-Control" not in headers:
        if is_personal_link(request.path) or _logged_in():
            headers["Cache-Control"] = "no-store"
    return response


def is_personal_link(path: str) -> bool:
    """Whether ``path`` is a respondent's page (its URL holds a personal token)."""
    return path.startswith(PERSONAL_LINK_PREFIXES)


def _logged_in() -> bool:
    # The session says so without a database query (the 500 page may be answering a
    # database outage); Flask-Login keeps the user's id there for the whole login.
    return "_user_id" in session


# --- tokens out of the logs -----------------------------------------------------------------

# /r/<token> or /o/<token>, also percent-encoded (e.g. in a ?next= parameter).
_PERSONAL_LINK = re.compile(r"(?P<prefix>(?:/|%2f)[ro](?:/|%2f))(?P<token>[A-Za-z0-9_-]+)", re.I)
KEEP = 4  # the last characters of a real token kept, so that support can tell links apart
MIN_TOKEN_TO_HINT = 16  # shorter segments are not real tokens: nothing of them is kept


def mask_tokens(text: str) -> str:
    """``text`` with every personal-link token replaced by ``***`` and its last 4 characters."""

    def replace(match: re.Match[str]) -> str:
        token = match["token"]
        hint = token[-KEEP:] if len(token) >= MIN_TOKEN_TO_HINT else ""
        return f"{match['prefix']}***{hint}"

    return _PERSONAL_LINK.sub(replace, text)


class TokenMaskingFilter(logging.Filter):
    """A logging filter that rewrites a record so that no personal-link token is in it.

    The message is formatted here (``msg % args``) and masked; a traceback is formatted and
    masked too, so handlers downstream only ever see the masked text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is the handler's business
            return True
        masked = mask_tokens(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_tokens(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_tokens(record.stack_info)
        return True


_FILTER = TokenMaskingFilter()


def install_token_filter(*extra: logging.Logger) -> None:
    """Mask tokens on the server loggers (werkzeug, gunicorn), Flask's handler and ``extra``.

    A logger's filter sees only what is logged on that logger itself, so Flask's default
    handler (which prints what the ``app.*`` loggers pass up) gets the filter as well.
    Idempotent: installing twice adds nothing.
    """
    targets: list[logging.Filterer] = [logging.getLogger(name) for name in LOGGERS]
    targets.extend(extra)
    targets.append(default_handler)
    for target in targets:
        if not any(isinstance(f, TokenMaskingFilter) for f in target.filters):
            target.addFilter(_FILTER)
