"""The one home of the tests' helpers: fixtures live in conftest.py files, everything a test
imports lives here.

This module holds what almost every web test needs (paths, the test password, the injected
clock, the CSRF-aware client, logging in, the database of an app, Polish messages, the
visible text of a page). Larger helpers have a module each:

- ``tests.support.respondent``: the respondent's web form parsed and filled, the shipped
  questionnaires' scenarios, what a personal link stored.
- ``tests.support.phone``: an interviewer's steps on the CATI screens.
- ``tests.support.calls``: calls and interviewers made directly in the database, and the
  supervisor's pages read back.
- ``tests.support.exports``: the every-type survey of the export tests, its columns.
- ``tests.support.files``: results files asked for, waited on, downloaded; LibreOffice.
- ``tests.support.small_survey``: a small three-language definition and its fieldwork.
- ``tests.support.mailserver``: a real SMTP server on loopback, the mail tests' contacts.
- ``tests.support.imapserver``: a real IMAP server (Dovecot) on loopback, and the returned
  mails (delivery reports, plain bounces) a bounce mailbox receives.

Browser helpers stay beside the browser tests (``tests/browser/forms.py``, ``walks.py``,
``screens.py``).
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import NoReturn

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from flask_babel import gettext as babel_gettext
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

PROJECT = Path(__file__).resolve().parents[2]
SHIPPED = PROJECT / "surveys"


def shipped_questionnaires(directory: Path = SHIPPED) -> list[Path]:
    """The questionnaire files in ``directory`` (surveys/), the monitoring plan left out."""
    from app.domain.check_files import is_plan_file

    return sorted(path for path in directory.glob("*.yaml") if not is_plan_file(path))


TEST_PASSWORD = "correct-horse-battery"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# The command line speaks the locale's language: the ``runner`` fixture pins CI's locale
# (C.UTF-8: Polish) whatever the developer's shell says; ``ENGLISH_LOCALE`` asks for English.
CI_LOCALE: dict[str, str | None] = {"LC_ALL": None, "LC_MESSAGES": None, "LANG": "C.UTF-8"}
ENGLISH_LOCALE = {"LANG": "en_US.UTF-8"}


def unavailable(reason: str) -> NoReturn:
    """Skip a test whose tool or server is missing; under CI=true, fail it instead."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: everything the tests need must be there)", pytrace=False)
    pytest.skip(reason)


class FakeClock:
    """An injectable clock: starts at a fixed moment and moves only when told."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class CSRFClient(FlaskClient):
    """A test client whose form posts carry a valid CSRF token unless ``csrf=False``."""

    def open(self, *args, csrf: bool = True, **kwargs):  # type: ignore[override]
        method = (kwargs.get("method") or "GET").upper()
        if csrf and method == "POST" and isinstance(kwargs.get("data"), dict):
            kwargs["data"] = {"csrf_token": self.csrf_token(), **kwargs["data"]}
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        """A signed token for the raw token kept in this client's session (made if missing)."""
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        secret = self.application.config["SECRET_KEY"]
        return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)


class Auth:
    """Logs a test client in and out through the real login form."""

    def __init__(self, client: CSRFClient) -> None:
        self.client = client

    def login(self, username: str, password: str = TEST_PASSWORD):
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self.client.post("/logout", data={})


def signed_in(app: Flask, username: str) -> CSRFClient:
    """A new client of ``app``, logged in as ``username`` (whose password is TEST_PASSWORD)."""
    client = app.test_client()
    response = Auth(client).login(username)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def database(app: Flask):
    """The app's database (``app.platform.db.Database``): ``database(app).session()``."""
    return app.extensions["ankieta.db"]


def count_rows(app: Flask, model) -> int:
    """How many rows ``model``'s table holds."""
    with database(app).session() as session:
        return session.scalar(select(func.count()).select_from(model))


def unit_token(app: Flask, fieldwork_id: int, external_id: str) -> str:
    """The personal-link token of one sampled institution."""
    from app.models.fieldwork import SampleUnit

    with database(app).session() as session:
        return session.scalar(
            select(SampleUnit.token).where(
                SampleUnit.fieldwork_id == fieldwork_id, SampleUnit.external_id == external_id
            )
        )


def polish(app: Flask, msgid: str) -> str:
    """``msgid`` as a Polish user reads it."""
    with app.test_request_context(), force_locale("pl"):
        return babel_gettext(msgid)


def page_text(response) -> str:
    """The visible text of an HTML response, tags removed and white space folded."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
