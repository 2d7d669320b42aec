"""File questions in a real browser: a photo chosen in the file input is sent with the page
and kept (the page then names it); a program called .jpg is refused next to the field and
changes nothing; every page passes axe-core (tests/support/file_questions.yaml)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from tests.browser.conftest import LiveServer
from tests.browser.forms import start

DEFINITION = Path(__file__).resolve().parents[1] / "support" / "file_questions.yaml"
PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (20, 120, 200)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def files_link(fresh_link) -> tuple[str, str]:
    """A fresh personal link of a fieldwork of the file-questions questionnaire, and its token."""
    return fresh_link(DEFINITION, "pliki", "Pliki")


def _stored_photo(live_server: LiveServer, token: str):
    from app.models.fieldwork import Response, SampleUnit

    with live_server.app.extensions["ankieta.db"].session() as session:
        answers = session.scalar(
            select(Response.answers)
            .join(SampleUnit, SampleUnit.id == Response.sample_unit_id)
            .where(SampleUnit.token == token)
        )
    return (answers or {}).get("zdjecie")


def test_a_respondent_sends_a_photo_and_sees_it_saved(
    page, live_server, files_link, assert_accessible
) -> None:
    link, token = files_link
    start(page, link)
    assert_accessible(page, "a page with file questions")
    field = page.get_by_label("Zdjęcie wejścia do budynku")
    assert field.get_attribute("type") == "file" and field.get_attribute("accept") == "image/*"
    page.fill("#q-nazwa", "Klub Plikowy")
    field.set_input_files(
        files=[{"name": "wejście.jpg", "mimeType": "image/jpeg", "buffer": _photo()}]
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Zapisz i dokończ później").click()
    photo = _stored_photo(live_server, token)
    assert photo["name"] == "wejście.jpg" and photo["type"] == "image/jpeg"
    # back to the page: the file sent is named there, and another may replace it
    page.goto(f"{link}/p/nazwa")
    sent = page.locator("#s-zdjecie")
    assert "wejście.jpg" in sent.inner_text()
    assert "s-zdjecie" in (page.get_attribute("#q-zdjecie", "aria-describedby") or "")
    assert_accessible(page, "a file question with a file sent")

    # a program called .jpg: refused next to the field, the photo stays the answer
    page.set_input_files(
        "#q-zdjecie",
        files=[{"name": "zdjecie.jpg", "mimeType": "image/jpeg", "buffer": PROGRAM}],
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Wyślij odpowiedzi").click()
    assert "Ten rodzaj pliku nie jest tu przyjmowany" in page.inner_text("#e-zdjecie")
    assert page.get_attribute("#q-zdjecie", "aria-invalid") == "true"
    assert "wejście.jpg" in page.inner_text("#s-zdjecie")
    assert_accessible(page, "a file question with its error")
    assert _stored_photo(live_server, token) == photo

    # sent as it is now, the page completes with the photo kept
    with page.expect_navigation():
        page.get_by_role("button", name="Wyślij odpowiedzi").click()
    assert page.url.endswith("/done")
    assert _stored_photo(live_server, token) == photo
