"""An analyst asks for a results file and watches it being prepared, in Chromium.

The job page asks the server how far the file is (a small script, allowed by the CSP) and
shows the download link when it is ready; the pages pass axe-core.
"""

from __future__ import annotations

from playwright.sync_api import expect

from app.models.users import Role
from app.platform.accounts import create_user
from tests.browser.screens import log_in
from tests.support import TEST_PASSWORD


def test_analyst_prepares_an_export_and_downloads_it(page, live_server, assert_accessible):
    with live_server.app.extensions["ankieta.db"].session() as session:
        create_user(
            session,
            "analityk-eksport",
            Role.ANALYST,
            password=TEST_PASSWORD,
            must_change_password=False,
        )
    log_in(page, live_server, "analityk-eksport")
    page.goto(f"{live_server.url}/fieldwork/1/files")
    assert_accessible(page, "the results files page")
    page.get_by_label("Raport monitoringowy: tabele", exact=False).check()
    page.get_by_role("button", name="Przygotuj plik").click()
    page.wait_for_url("**/files/*")
    status = page.locator("#job-state")
    download = page.locator("#job-download a")
    # the script follows the job to its end without a reload; no Refresh link is needed
    expect(download).to_be_visible(timeout=30_000)
    expect(status).to_have_text("Plik jest gotowy.")
    expect(page.locator("#job-refresh")).to_be_hidden()
    assert_accessible(page, "the job page, file ready")
    with page.expect_download() as info:
        download.click()
    assert info.value.suggested_filename == "raport-badanie-1.xlsx"
    # the list of recent files offers it too
    page.goto(f"{live_server.url}/fieldwork/1/files")
    expect(page.get_by_role("link", name="Pobierz")).to_have_count(1)
