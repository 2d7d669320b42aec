"""Behind a reverse proxy: the audit log records the client's address, not the proxy's."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import create_app
from app.models.audit import AuditEvent
from tests.support import TEST_PASSWORD, CSRFClient


@pytest.mark.parametrize("proxies, expected", [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_login_event_has_the_clients_address(app, make_user, proxies, expected):
    make_user("anna")
    behind = create_app({**app.config, "PROXY_COUNT": proxies})
    behind.test_client_class = CSRFClient
    client = behind.test_client()
    headers = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}  # the first one is forged
    response = client.post(
        "/login", data={"username": "anna", "password": TEST_PASSWORD}, headers=headers
    )
    assert response.status_code == 302
    with app.extensions["ankieta.db"].session() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login"))
    assert event.ip == expected
    behind.extensions["ankieta.db"].dispose()
