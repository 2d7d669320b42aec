"""The API token page and the API reference in Chromium: axe-core, and no CSP violation
(the reference is drawn by the server, with no script or style of its own)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.models.users import Role
from app.platform.accounts import create_user
from tests.browser.screens import Watch, log_in
from tests.support import TEST_PASSWORD


def test_token_page_and_api_reference(page, live_server, assert_accessible, watch: Watch):
    with live_server.app.extensions["ankieta.db"].session() as session:
        create_user(
            session,
            "analityk-api",
            Role.ANALYST,
            password=TEST_PASSWORD,
            must_change_password=False,
        )
    log_in(page, live_server, "analityk-api")
    page.goto(f"{live_server.url}/account/api-tokens/")
    assert_accessible(page, "the API tokens page")
    page.get_by_label("Do czego służy").fill("raporty BI")
    page.get_by_role("button", name="Utwórz token").click()
    token = page.locator("code.token")
    expect(token).to_have_text(re.compile(r"^ank_"))
    assert_accessible(page, "the page showing a new token")
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dokumentacja API")
    assert_accessible(page, "the API reference")
    watch.assert_clean("the API pages")
