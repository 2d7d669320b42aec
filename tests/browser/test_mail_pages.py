"""The e-mail page of a fieldwork and the opt-out page, in Chromium, checked with axe-core."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from app.mailing import services
from app.models.fieldwork import SampleUnit
from app.models.users import Role
from app.platform.accounts import create_user
from tests.browser.screens import log_in
from tests.support import TEST_PASSWORD


def test_the_mail_page_and_the_opt_out_page_pass_axe(page, live_server, assert_accessible):
    app = live_server.app
    with app.extensions["ankieta.db"].session() as session:
        create_user(
            session,
            "analityk-poczta",
            Role.ANALYST,
            password=TEST_PASSWORD,
            must_change_password=False,
        )
        unit = session.scalar(select(SampleUnit).where(SampleUnit.fieldwork_id == 1).limit(1))
        token = services.opt_out_token(app.config["SECRET_KEY"], unit)
        name = unit.name
    log_in(page, live_server, "analityk-poczta")
    page.goto(f"{live_server.url}/fieldwork/1/mail")
    expect(page.get_by_role("heading", name="Zaproszenia i przypomnienia e-mail")).to_be_visible()
    expect(page.locator("pre.mail-preview")).to_contain_text(name)
    assert_accessible(page, "the e-mail page")
    page.goto(f"{live_server.url}/mail/opt-out/{token}")
    assert_accessible(page, "the opt-out page")
    page.get_by_role("button", name="Nie wysyłajcie więcej wiadomości").click()
    expect(page.get_by_role("status")).to_contain_text(name)
    assert_accessible(page, "the opt-out page, done")
