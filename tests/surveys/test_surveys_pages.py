"""Loading a definition from the web page, and viewing a survey's versions."""

from __future__ import annotations

import io

from app.models.users import Role
from tests.support import page_text
from tests.support.small_survey import MINIMAL


def _upload(client, content: bytes, filename: str = "proba.yaml"):
    return client.post(
        "/surveys/",
        data={"definition": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def test_analyst_uploads_a_definition_and_sees_it(client, login_as) -> None:
    login_as(Role.ANALYST)
    response = _upload(client, MINIMAL.encode())
    assert response.status_code == 302
    detail = client.get(response.location)
    text = page_text(detail)
    assert "Próba" in text and "liczba" in text and "Ile?" in text
    again = client.get(_upload(client, MINIMAL.encode()).location)
    assert "Ta definicja jest już zapisana jako wersja 1" in page_text(again)
    source = client.get("/surveys/1/versions/1/source")
    assert source.data == MINIMAL.encode()
    assert 'filename="proba_v1.yaml"' in source.headers["Content-Disposition"]


def test_a_broken_definition_shows_every_problem_and_stores_nothing(client, login_as) -> None:
    login_as(Role.ANALYST)
    broken = MINIMAL.replace("type: integer", "type: integr") + "  - type: text\n    name: liczba\n"
    response = _upload(client, broken.encode())
    assert response.status_code == 400
    text = page_text(response)
    assert "niczego nie zapisano" in text
    assert "proba.yaml:5: pozycja liczba" in text  # the unknown type, on its line
    assert "proba.yaml:8" in text  # and the second problem too
    assert "Nie wczytano jeszcze żadnej ankiety" in text


def test_upload_refuses_other_file_types_and_garbage(client, login_as) -> None:
    login_as(Role.ANALYST)
    assert _upload(client, b"MZ\x90\x00", "virus.exe").status_code == 400
    garbage = _upload(client, b"PK\x03\x04 not really a workbook", "ankieta.xlsx")
    assert garbage.status_code == 400
    assert "Traceback" not in garbage.get_data(as_text=True)
    invalid_utf8 = _upload(client, b"settings:\n  id: \xff\xfe\n", "zle.yaml")
    assert invalid_utf8.status_code == 400
