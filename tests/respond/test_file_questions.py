"""File questions (tests/support/file_questions.yaml): a respondent sends a photo and a
document with the page; the server checks them by content and size, keeps them under
random names outside the web root and shows the respondent their names only; over-cap and
refused files change nothing; staff download them within their scope; the export has the
names and the attachments zip the files; erasing the contact data deletes them; by phone
no file is asked for."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from app.models.audit import AuditEvent
from app.models.fieldwork import Response
from app.models.users import Role
from tests.support import database, unit_token
from tests.support.exports import sheet_rows
from tests.support.files import prepare_file
from tests.support.phone import interview_to_the_end, take_and_dial
from tests.support.respondent import Respondent, field_error, parse_form, stored

DEFINITION = Path(__file__).resolve().parents[1] / "support" / "file_questions.yaml"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)  # a Windows .exe


def _png(width: int = 200, height: int = 100, colour: tuple[int, int, int] = (200, 30, 30)):
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def fieldwork_id(make_fieldwork) -> int:
    return make_fieldwork(DEFINITION)


@pytest.fixture
def respondent(app, fieldwork_id) -> Respondent:
    return Respondent(app.test_client(), unit_token(app, fieldwork_id, "K-01"), fieldwork_id)


def _upload(data: bytes, name: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


def _kept(app, key: str) -> Path:
    return Path(app.instance_path) / "uploads" / key[:2] / key


def _send_photo(respondent: Respondent, data: bytes, name: str = "wejście.png", **more):
    form = respondent.begin()
    return respondent.send(form, {"nazwa": "KIS Żory", "zdjecie": _upload(data, name), **more})


def test_a_photo_sent_with_the_page_is_kept_outside_the_web_root_and_shown_by_name(
    app, respondent
) -> None:
    form = respondent.begin()
    assert 'enctype="multipart/form-data"' in form.html
    assert 'type="file" id="q-zdjecie" name="zdjecie" accept="image/*"' in form.html
    assert 'accept=".pdf"' in form.html
    assert "Przyjmowane pliki: .pdf." in form.html and "Najwyżej 10,0 MB." in form.html
    sent = respondent.send(
        form, {"nazwa": "KIS Żory", "zdjecie": _upload(_png(), "wejście.png")}, "later"
    )
    assert sent.status_code == 200, sent.get_data(as_text=True)[:2000]
    photo = stored(app, respondent.token).answers["zdjecie"]
    assert set(photo) == {"file", "name", "size", "type"}
    assert photo["name"] == "wejście.png" and photo["type"] == "image/png"
    kept = _kept(app, photo["file"])
    assert kept.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and photo["size"] == kept.stat().st_size
    with Image.open(kept) as image:
        assert image.size == (64, 32)  # max-pixels 64: scaled down, proportions kept
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    assert len(photo["file"]) == 32 and "wej" not in str(kept)  # a random name, not the sent one

    again = respondent.open(f"{respondent.link}/p/nazwa").html
    assert "Przesłany plik:" in again and "wejście.png" in again and "Usuń przesłany plik" in again
    assert photo["file"] not in again  # the page never names (nor serves) the kept file
    assert "/files/" not in again


def test_a_file_over_the_cap_changes_nothing_and_says_why(app, respondent) -> None:
    assert _send_photo(respondent, _png(), action="later").status_code == 200
    before = stored(app, respondent.token)
    app.config["UPLOAD_MAX_BYTES"] = 300
    form = respondent.open(f"{respondent.link}/p/nazwa")
    big = _png(300, 300, (1, 2, 3)) + bytes(2000)
    sent = respondent.send(form, {"nazwa": "Inna nazwa", "zdjecie": _upload(big, "duze.png")})
    assert sent.status_code == 200
    page = parse_form(sent)
    error = field_error(page, "zdjecie")
    assert error is not None and error.startswith("Błąd: Plik jest za duży (")
    assert "prześlij plik o rozmiarze najwyżej 1 KB" in error
    after = stored(app, respondent.token)
    assert after.answers == before.answers and after.revision == before.revision
    assert "wejście.png" in page.html  # the file sent before is still the answer
    assert len(list((Path(app.instance_path) / "uploads").rglob("*"))) == 2  # folder + file


def test_a_file_of_a_type_the_question_does_not_take_changes_nothing(app, respondent) -> None:
    form = respondent.begin()
    sent = respondent.send(
        form, {"nazwa": "KIS", "zdjecie": _upload(PROGRAM, "zdjecie.jpg")}, "later"
    )
    assert sent.status_code == 200
    assert (
        stored(app, respondent.token) is None
        or "zdjecie" not in stored(app, respondent.token).answers
    )
    assert _send_photo(respondent, _png(), action="later").status_code == 200
    before = stored(app, respondent.token)
    form = respondent.open(f"{respondent.link}/p/nazwa")
    refused = respondent.send(
        form, {"zdjecie": _upload(PROGRAM, "zdjecie.jpg"), "statut": _upload(_png(), "s.pdf")}
    )
    assert refused.status_code == 200
    page = parse_form(refused)
    assert field_error(page, "zdjecie") == (
        "Błąd: Ten rodzaj pliku nie jest tu przyjmowany. Prześlij plik jednego z tych typów: "
        ".jpg, .jpeg, .png, .gif, .webp, .heic, .heif."
    )
    # a PNG called .pdf is still a PNG: the document question takes PDF only
    assert field_error(page, "statut") == (
        "Błąd: Ten rodzaj pliku nie jest tu przyjmowany. Prześlij plik jednego z tych typów: .pdf."
    )
    assert stored(app, respondent.token).answers == before.answers
    # a real PDF, whatever it is called, is taken
    accepted = respondent.send(
        respondent.open(f"{respondent.link}/p/nazwa"),
        {"statut": _upload(PDF, "statut"), "nazwa": "KIS"},
        "later",
    )
    assert accepted.status_code == 200
    document = stored(app, respondent.token).answers["statut"]
    assert document["type"] == "application/pdf" and document["name"] == "statut"


def test_sending_another_file_replaces_the_first_and_removing_it_clears_the_answer(
    app, respondent
) -> None:
    assert _send_photo(respondent, _png(), action="later").status_code == 200
    first = stored(app, respondent.token).answers["zdjecie"]["file"]
    form = respondent.open(f"{respondent.link}/p/nazwa")
    second = respondent.send(form, {"zdjecie": _upload(_png(50, 50), "nowe.png")}, "later")
    assert second.status_code == 200
    photo = stored(app, respondent.token).answers["zdjecie"]
    assert photo["name"] == "nowe.png" and photo["file"] != first
    assert not _kept(app, first).exists() and _kept(app, photo["file"]).exists()
    # a page sent without a new file keeps the one sent (save and finish later, then on)
    form = respondent.open(f"{respondent.link}/p/nazwa")
    assert respondent.send(form, {"nazwa": "KIS"}, "later").status_code == 200
    assert stored(app, respondent.token).answers["zdjecie"] == photo
    # the document (not required) is removed with its box; the photo is required: a
    # removal is refused as an empty required answer is, and nothing changes
    form = respondent.open(f"{respondent.link}/p/nazwa")
    sent = respondent.send(form, {"nazwa": "KIS", "statut": _upload(PDF, "statut.pdf")}, "later")
    assert sent.status_code == 200
    document = stored(app, respondent.token).answers["statut"]
    form = respondent.open(f"{respondent.link}/p/nazwa")
    assert 'id="q-statut-remove" name="statut" value="__remove__"' in form.html
    removal = {"nazwa": "KIS", "statut": "__remove__", "zdjecie": "__remove__"}
    refused = respondent.send(form, removal)
    assert field_error(parse_form(refused), "zdjecie") == "Błąd: To pytanie wymaga odpowiedzi."
    form = respondent.open(f"{respondent.link}/p/nazwa")
    assert (
        respondent.send(form, {"nazwa": "KIS", "statut": "__remove__"}, "later").status_code == 200
    )
    answers = stored(app, respondent.token).answers
    assert "statut" not in answers and answers["zdjecie"] == photo
    assert not _kept(app, document["file"]).exists() and _kept(app, photo["file"]).exists()


def test_a_file_sent_on_a_page_with_other_errors_is_not_kept(app, respondent) -> None:
    app.config["UPLOAD_MAX_BYTES"] = 100_000
    form = respondent.begin()
    sent = respondent.send(
        form, {"zdjecie": _upload(_png(), "a.png"), "statut": _upload(PROGRAM, "s.pdf")}
    )
    assert sent.status_code == 200
    page = parse_form(sent)
    assert field_error(page, "zdjecie") == (
        "Błąd: Pliku a.png nie zachowano, bo na stronie są inne błędy. Wybierz go ponownie."
    )
    assert list((Path(app.instance_path) / "uploads").rglob("*.*")) == []
    assert not any(p.is_file() for p in (Path(app.instance_path) / "uploads").rglob("*"))


def _response_id(app, fieldwork_id: int) -> int:
    with database(app).session() as session:
        return session.scalar(select(Response.id).where(Response.fieldwork_id == fieldwork_id))


def test_staff_download_a_file_within_their_scope_and_nobody_else(
    app, client, respondent, fieldwork_id, make_user, auth
) -> None:
    assert _send_photo(respondent, _png(), action="later").status_code == 200
    photo = stored(app, respondent.token).answers["zdjecie"]
    response_id = _response_id(app, fieldwork_id)
    url = f"/fieldwork/{fieldwork_id}/responses/{response_id}/files/{photo['file']}"
    assert client.get(url).status_code in (302, 401, 403)  # not logged in: no file
    assert respondent.client.get(url).status_code in (302, 401, 403)

    make_user("analityk", Role.ANALYST)
    auth.login("analityk")
    viewer = client.get(f"/fieldwork/{fieldwork_id}/responses/{response_id}")
    assert f'href="{url}"' in viewer.get_data(as_text=True)
    download = client.get(url)
    assert download.status_code == 200
    assert download.data == _kept(app, photo["file"]).read_bytes()
    assert download.mimetype == "image/png"
    disposition = download.headers["Content-Disposition"]
    assert (
        disposition.startswith("attachment") and "filename*=UTF-8''wej%C5%9Bcie.png" in disposition
    )
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    other_key = "0" * 32  # a key this response does not name
    assert client.get(url.replace(photo["file"], other_key)).status_code == 404
    with database(app).session() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "response.file_downloaded")
        ).all()
        assert [e.target for e in events] == [f"response {response_id}"]
    client.post("/logout", data={})

    # a coordinator of another subregion: no such file (404), and the attempt is audited
    make_user("koordynator", Role.COORDINATOR, subregions=["zachodni"])
    auth.login("koordynator")
    assert client.get(url).status_code == 404
    with database(app).session() as session:
        denied = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "scope.denied")
        ).all()
        assert denied and denied[-1].fieldwork_id == fieldwork_id


def test_the_export_names_the_file_and_the_attachments_zip_holds_it(
    app, runner, respondent, fieldwork_id, tmp_path
) -> None:
    form = respondent.begin()
    sent = respondent.send(
        form,
        {
            "nazwa": "KIS",
            "zdjecie": _upload(_png(), "wejście.png"),
            "statut": _upload(PDF, "s.pdf"),
        },
        "submit",
    )
    assert sent.status_code == 302 and sent.location.endswith("/done")
    response_id = _response_id(app, fieldwork_id)
    workbook = tmp_path / "odpowiedzi.xlsx"
    assert runner.invoke(args=["export", str(fieldwork_id), "-o", str(workbook)]).exit_code == 0
    rows = {row["external_id"]: row for row in sheet_rows(workbook)}
    assert rows["K-01"]["zdjecie"] == "wejście.png" and rows["K-01"]["statut"] == "s.pdf"
    assert list(rows) == ["K-01"]

    archive_path = tmp_path / "pliki.zip"
    done = runner.invoke(
        args=["export", str(fieldwork_id), "-o", str(archive_path), "--format", "attachments"]
    )
    assert done.exit_code == 0, done.output
    photo = stored(app, respondent.token).answers["zdjecie"]
    with zipfile.ZipFile(archive_path) as archive:
        names = set(archive.namelist())
        assert names == {
            f"{response_id}/zdjecie/wejście.png",
            f"{response_id}/statut/s.pdf",
            "zalaczniki.csv",
        }
        assert (
            archive.read(f"{response_id}/zdjecie/wejście.png")
            == _kept(app, photo["file"]).read_bytes()
        )
        assert archive.read(f"{response_id}/statut/s.pdf") == PDF
        manifest = archive.read("zalaczniki.csv").decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(manifest), delimiter=";"))
    assert lines[0] == [
        "id_odpowiedzi",
        "id_zewnetrzne",
        "zmienna",
        "nazwa",
        "rozmiar",
        "typ",
        "plik",
    ]
    assert [str(response_id), "K-01", "zdjecie", "wejście.png", str(photo["size"]), "image/png",
            f"{response_id}/zdjecie/wejście.png"] in lines  # fmt: skip


def test_the_attachments_zip_is_a_results_file_built_by_the_worker(
    app, client, respondent, fieldwork_id, login_as
) -> None:
    assert _send_photo(respondent, _png(), action="later").status_code == 200
    photo = stored(app, respondent.token).answers["zdjecie"]
    login_as(Role.ANALYST)
    files_page = client.get(f"/fieldwork/{fieldwork_id}/files").get_data(as_text=True)
    assert (
        'value="attachments"' in files_page and "Pliki przesłane w pytaniach o plik" in files_page
    )
    body = prepare_file(client, fieldwork_id, kind="attachments")
    response_id = _response_id(app, fieldwork_id)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert (
            archive.read(f"{response_id}/zdjecie/wejście.png")
            == _kept(app, photo["file"]).read_bytes()
        )


def test_erasing_the_contact_data_deletes_the_files_sent(
    app, runner, respondent, fieldwork_id, clock
) -> None:
    assert _send_photo(respondent, _png(), action="later").status_code == 200
    photo = stored(app, respondent.token).answers["zdjecie"]
    assert _kept(app, photo["file"]).exists()
    from app.models.fieldwork import Fieldwork

    with database(app).session() as session:
        session.get(Fieldwork, fieldwork_id).close(clock())
    done = runner.invoke(args=["privacy", "erase", str(fieldwork_id), "--yes"])
    assert done.exit_code == 0, done.output
    assert "pliki przesłane z odpowiedziami: 1" in done.output
    assert not _kept(app, photo["file"]).exists()
    response_id = _response_id(app, fieldwork_id)
    with database(app).session() as session:
        response = session.get(Response, response_id)
        assert response.answers["zdjecie"] == {
            "file": "", "name": "", "size": photo["size"], "type": "image/png"
        }  # fmt: skip


def test_by_phone_a_file_question_is_a_note_and_the_interview_completes_without_it(
    app, client, fieldwork_id, login_as, join_team
) -> None:
    interviewer = login_as(Role.INTERVIEWER)
    join_team(fieldwork_id, interviewer)
    case_id = take_and_dial(client, app, fieldwork_id)
    screen = client.get(client.get(f"/cati/case/{case_id}/interview").location)
    assert screen.status_code == 200
    assert interview_to_the_end(client, case_id, {}) >= 2
    with database(app).session() as session:
        response = session.scalars(
            select(Response).where(Response.fieldwork_id == fieldwork_id)
        ).one()
        assert response.status == "complete"  # the required photo is not asked for by phone
        assert "zdjecie" not in response.answers and response.answers["nazwa"]


def test_the_phone_screen_says_files_are_not_collected(
    app, client, fieldwork_id, login_as, join_team
) -> None:
    interviewer = login_as(Role.INTERVIEWER)
    join_team(fieldwork_id, interviewer)
    case_id = take_and_dial(client, app, fieldwork_id)
    location = client.get(f"/cati/case/{case_id}/interview").location
    form = parse_form(client.get(location))
    sent = client.post(location, data={"nazwa": "KIS", "revision": form.revision, "action": "next"})
    assert sent.status_code == 302
    text = client.get(sent.location).get_data(as_text=True)
    assert "Przez telefon nie można zebrać pliku" in text
    assert 'type="file"' not in text


def test_the_preview_takes_a_file_by_its_name_and_keeps_none(
    app, client, fieldwork_id, login_as
) -> None:
    import re

    from app.models.surveys import Survey

    login_as(Role.ANALYST)
    with database(app).session() as session:
        survey_id = session.scalar(select(Survey.id).where(Survey.code == "pliki"))
    url = f"/surveys/{survey_id}/versions/1/preview/web"
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'type="file" id="q-zdjecie"' in html
    data = {
        "revision": "0",
        "page": re.search(r'name="page" value="([^"]+)"', html)[1],
        "preview": re.search(r'name="preview" value="([^"]+)"', html)[1],
        "action": "next",
        "nazwa": "KIS",
        "zdjecie": _upload(_png(), "podgląd.png"),
    }
    done = client.post(url, data=data)
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert "podgląd.png" in text  # the summary of the preview names it
    uploads = Path(app.instance_path) / "uploads"
    assert not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*"))


LIST_DEFINITION = """
settings: {id: pliki_lista, title: "Partnerzy"}
survey:
  - type: repeat
    name: partnerzy
    label: Partner
    children:
      - {type: text, name: nazwa_partnera, label: "Nazwa partnera"}
      - {type: file, name: umowa, label: "Umowa z partnerem", accept: ".pdf"}
"""


def test_a_file_inside_a_lists_entry_is_kept_for_that_entry_and_zipped_under_it(
    app, make_fieldwork, runner, tmp_path
) -> None:
    definition = tmp_path / "pliki_lista.yaml"
    definition.write_text(LIST_DEFINITION, encoding="utf-8")
    fieldwork_id = make_fieldwork(definition)
    person = Respondent(app.test_client(), unit_token(app, fieldwork_id, "K-01"), fieldwork_id)
    form = person.begin()
    added = person.send(form, {"partnerzy": "0"}, "add:partnerzy")
    assert added.status_code == 302
    form = person.open(added.location.split("#")[0])
    assert 'type="file" id="q-partnerzy.1.umowa" name="partnerzy.1.umowa"' in form.html
    sent = person.send(
        form,
        {
            "partnerzy": "1",
            "partnerzy.1": "1",
            "partnerzy.1.nazwa_partnera": "Fundacja",
            "partnerzy.1.umowa": _upload(PDF, "umowa.pdf"),
        },
        "later",
    )
    assert sent.status_code == 200
    [entry] = stored(app, person.token).answers["partnerzy"]
    assert entry["umowa"]["name"] == "umowa.pdf" and _kept(app, entry["umowa"]["file"]).exists()
    # forged: a stored file's answer typed into another entry's field is not taken
    forged = '{"file": "' + entry["umowa"]["file"] + '", "name": "x", "size": 1, "type": "t"}'
    form = person.open(sent.request.path)
    person.send(
        form,
        {"partnerzy": "2", "partnerzy.1": "1", "partnerzy.2": "1",
         "partnerzy.1.nazwa_partnera": "Fundacja", "partnerzy.2.umowa": f"file:{forged}"},
        "later",
    )  # fmt: skip
    entries = stored(app, person.token).answers["partnerzy"]
    assert all("umowa" not in each for each in entries[1:])
    archive_path = tmp_path / "pliki.zip"
    done = runner.invoke(
        args=["export", str(fieldwork_id), "-o", str(archive_path), "--format", "attachments"]
    )
    assert done.exit_code == 0, done.output
    response_id = _response_id(app, fieldwork_id)
    with zipfile.ZipFile(archive_path) as archive:
        assert archive.read(f"{response_id}/partnerzy.1.umowa/umowa.pdf") == PDF
