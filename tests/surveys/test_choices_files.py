"""A workbook whose choices come from files (select_one_from_file): loaded with its files
from the web page (sent together, or in a .zip) and from the command line (beside it)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from openpyxl import Workbook
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.models.surveys import Survey, SurveyVersion
from app.models.users import Role
from tests.support import ENGLISH_LOCALE, count_rows, page_text


def _workbook() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label", "choice_filter"])
    sheet.append(["select_one_from_file powiaty.csv", "powiat", "Powiat", None])
    sheet.append(["select_one_from_file gminy.xml", "gmina", "Gmina", "powiat=${powiat}"])
    settings = workbook.create_sheet("settings")
    settings.append(["form_id", "form_title"])
    settings.append(["gminy", "Gminy"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


FORM = _workbook()
POWIATY = "name,label\nwroclawski,wrocławski\nolesnicki,oleśnicki\n".encode()
GMINY = (
    "<root><item><name>katy</name><label>Kąty Wrocławskie</label><powiat>wroclawski</powiat>"
    "</item><item><name>olesnica</name><label>Oleśnica</label><powiat>olesnicki</powiat>"
    "</item></root>"
).encode()


def _upload(client, *files: tuple[bytes, str]):
    return client.post(
        "/surveys/",
        data={"definition": [(io.BytesIO(content), name) for content, name in files]},
        content_type="multipart/form-data",
    )


def _upload_in_memory(client, *files: tuple[bytes, str]):
    """A multipart post built in memory (the test client would spool big ones to a file)."""
    fields = MultiDict([("csrf_token", client.csrf_token())])
    for content, name in files:
        fields.add("definition", FileStorage(io.BytesIO(content), filename=name, name="definition"))
    boundary, body = encode_multipart(fields)
    return client.post(
        "/surveys/", data=body, content_type=f"multipart/form-data; boundary={boundary}", csrf=False
    )


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_workbook_sent_with_its_choices_files_is_stored_with_them(app, client, login_as):
    login_as(Role.ANALYST)
    response = _upload(client, (FORM, "gminy.xlsx"), (POWIATY, "powiaty.csv"), (GMINY, "gminy.xml"))
    assert response.status_code == 302, page_text(response)
    assert "Gminy" in page_text(client.get(response.location))
    source = client.get("/surveys/1/versions/1/source")
    assert source.mimetype == "application/zip"
    assert 'filename="gminy_v1.zip"' in source.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(source.data)) as archive:
        assert sorted(archive.namelist()) == ["gminy.xlsx", "gminy.xml", "powiaty.csv"]
        assert archive.read("powiaty.csv") == POWIATY
    # the same files again, or the downloaded .zip: nothing new
    again = _upload(client, (GMINY, "gminy.xml"), (FORM, "gminy.xlsx"), (POWIATY, "powiaty.csv"))
    assert "jest już zapisana jako wersja 1" in page_text(client.get(again.location))
    downloaded = _upload(client, (source.data, "gminy_v1.zip"))
    assert "jest już zapisana jako wersja 1" in page_text(client.get(downloaded.location))
    assert count_rows(app, SurveyVersion) == 1


def test_a_zip_of_a_folder_with_the_workbook_and_its_files_loads(app, client, login_as):
    login_as(Role.ANALYST)
    folder = {"gminy/gminy.xlsx": FORM, "gminy/powiaty.csv": POWIATY, "gminy/gminy.xml": GMINY}
    response = _upload(client, (_zip(folder), "gminy.zip"))
    assert response.status_code == 302, page_text(response)
    assert count_rows(app, Survey) == 1


def test_a_missing_file_or_a_bad_zip_says_why_and_stores_nothing(app, client, login_as):
    login_as(Role.ANALYST)
    alone = _upload(client, (FORM, "gminy.xlsx"), (POWIATY, "powiaty.csv"))
    assert alone.status_code == 400
    assert "gminy.xlsx:survey:3: pozycja gmina" in page_text(alone)
    assert "gminy.xml" in page_text(alone)
    escaping = _upload(client, (_zip({"gminy.xlsx": FORM, "../powiaty.csv": POWIATY}), "g.zip"))
    assert escaping.status_code == 400 and "../powiaty.csv" in page_text(escaping)
    two = _upload(client, (FORM, "a.xlsx"), (FORM, "b.xlsx"))
    assert two.status_code == 400 and "a.xlsx, b.xlsx" in page_text(two)
    big = _upload_in_memory(client, (FORM, "gminy.xlsx"), (b"x" * (5 << 20), "powiaty.csv"))
    assert big.status_code == 400 and "5 MB" in page_text(big)
    assert count_rows(app, Survey) == 0


def test_the_command_line_reads_the_files_beside_the_workbook(app, runner, tmp_path: Path):
    (tmp_path / "gminy.xlsx").write_bytes(FORM)
    (tmp_path / "powiaty.csv").write_bytes(POWIATY)
    missing = runner.invoke(
        args=["surveys", "check", str(tmp_path / "gminy.xlsx")], env=ENGLISH_LOCALE
    )
    assert missing.exit_code == 1
    assert "gminy.xlsx:survey:3: item gmina: The file gminy.xml is missing" in missing.output
    (tmp_path / "gminy.xml").write_bytes(GMINY)
    checked = runner.invoke(
        args=["surveys", "check", str(tmp_path / "gminy.xlsx")], env=ENGLISH_LOCALE
    )
    assert checked.exit_code == 0, checked.output
    loaded = runner.invoke(args=["surveys", "load", str(tmp_path)])
    assert loaded.exit_code == 0, loaded.output
    assert count_rows(app, SurveyVersion) == 1
