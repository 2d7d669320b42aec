"""File questions in the domain: read from YAML and XLSForm, their answers stored and read
back, a file's type told from its content, and by phone never asked for."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pytest

from app.domain.questionnaire.answers import (
    StoredFile,
    answers_from_json,
    answers_to_json,
    find_stored_file,
    without_files,
)
from app.domain.questionnaire.fields import file_field
from app.domain.questionnaire.flow import PHONE, WEB, Flow
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.model import ItemType, UploadKind, UploadSpec
from app.domain.questionnaire.uploads import candidates, content_type, safe_name
from tests.support.xlsforms import CORPUS

DEFINITION = Path(__file__).resolve().parents[2] / "support" / "file_questions.yaml"
TODAY = date(2026, 3, 31)
PHOTO = StoredFile("a" * 32, "wejście.png", 1234, "image/png")


@pytest.fixture(scope="module")
def flow() -> Flow:
    result = load_definition(DEFINITION)
    assert result.questionnaire is not None, [str(p) for p in result.problems]
    return Flow(result.questionnaire)


def test_file_questions_are_read_from_yaml_with_their_kind_types_and_pixels(flow) -> None:
    q = flow.questionnaire
    photo, statute = q.item("zdjecie"), q.item("statut")
    assert photo.type is ItemType.FILE and statute.type is ItemType.FILE
    assert photo.upload == UploadSpec(UploadKind.IMAGE, (), 64)
    assert statute.upload == UploadSpec(UploadKind.ANY, (".pdf",), None)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("type: file photo", "Write the type as file, or file KIND"),
        ("type: file\n    accept: 'pdf'", "accept lists types such as"),
        ("type: file image\n    parameters: {max-pixels: 8}", "max-pixels must be a whole number"),
        ("type: file audio\n    parameters: {max-pixels: 800}", "max-pixels applies to images"),
        ("type: file image\n    parameters: 'quality=low'", "Unknown parameter quality"),
        ("type: file\n    default: x.pdf", "The key default does not apply to file items."),
    ],
)
def test_a_wrong_file_question_is_refused_at_its_line(written: str, message: str) -> None:
    source = f"settings: {{id: t, title: T}}\nsurvey:\n  - name: f\n    label: F\n    {written}\n"
    result = load_definition(source.encode(), "t.yaml")
    assert result.questionnaire is None
    assert any(p.message.render().startswith(message) for p in result.errors), [
        str(p) for p in result.errors
    ]


def test_every_xlsform_upload_type_is_a_file_question() -> None:
    result = load_definition(CORPUS / "types_upload.xlsx")
    assert result.questionnaire is not None, [str(p) for p in result.errors]
    q = result.questionnaire
    kinds = {item.name: item.upload for item in q.walk() if item.type is ItemType.FILE}
    assert kinds == {
        "photo": UploadSpec(UploadKind.IMAGE, (), 1024),
        "snapshot": UploadSpec(UploadKind.IMAGE),
        "recording": UploadSpec(UploadKind.AUDIO),
        "clip": UploadSpec(UploadKind.VIDEO),
        "document": UploadSpec(UploadKind.ANY, (".pdf",)),
        "ambient": UploadSpec(UploadKind.AUDIO),
    }
    warnings = [str(p.message) for p in result.problems if not p.is_error]
    assert any("background-audio is not recorded in the background" in w for w in warnings)


def test_a_file_answer_is_stored_as_an_object_and_read_back(flow) -> None:
    q = flow.questionnaire
    stored = answers_to_json(q, {"zdjecie": PHOTO})
    assert stored == {
        "zdjecie": {"file": "a" * 32, "name": "wejście.png", "size": 1234, "type": "image/png"}
    }
    assert answers_from_json(q, stored) == {"zdjecie": PHOTO}
    assert find_stored_file({"x": [stored]}, "a" * 32) == PHOTO
    # a broken or forged object does not pass as a file: it is kept aside
    for broken in ({"file": "../etc/passwd", "name": "x", "size": 1, "type": "t"},
                   {"file": "a" * 32, "name": "x", "size": -1, "type": "t"}, "x.png"):  # fmt: skip
        assert "zdjecie" not in answers_from_json(q, {"zdjecie": broken})
    erased, keys = without_files({"zdjecie": stored["zdjecie"], "r": [stored]})
    assert keys == {"a" * 32}
    assert erased["zdjecie"] == {"file": "", "name": "", "size": 1234, "type": "image/png"}


def test_the_file_a_field_holds_is_the_answer_and_expressions_see_its_name(flow) -> None:
    page = flow.pages(WEB)[0]
    result = flow.validate_page(
        page, {"zdjecie": [file_field(PHOTO)]}, {}, mode=WEB, sample={}, today=TODAY
    )
    assert result.values["zdjecie"] == PHOTO
    forged = flow.validate_page(
        page, {"zdjecie": ["wejście.png"]}, {}, mode=WEB, sample={}, today=TODAY
    )
    assert forged.errors["zdjecie"].msgid == "Choose the file to send."
    state = flow.state({"zdjecie": PHOTO}, sample={}, today=TODAY)
    state.ensure_all()
    assert state.context().values["zdjecie"] == "wejście.png"


def test_by_phone_a_file_question_is_not_asked_and_keeps_what_the_web_sent(flow) -> None:
    page = next(p for p in flow.pages(PHONE) if p.id == "zdjecie")
    # nothing sent: the photo sent on the web stays; a required photo is not missing
    kept = flow.validate_page(page, {}, {"zdjecie": PHOTO}, mode=PHONE, sample={}, today=TODAY)
    assert kept.ok and kept.values["zdjecie"] == PHOTO
    empty = flow.validate_page(page, {}, {}, mode=PHONE, sample={}, today=TODAY)
    assert empty.ok and empty.values.get("zdjecie") is None
    state = flow.state({"nazwa": "KIS"}, sample={}, today=TODAY)
    assert flow.is_complete(state, PHONE)
    assert not flow.is_complete(state, WEB)  # on the web the photo is required


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", ("image/jpeg",)),
        (b"\x89PNG\r\n\x1a\n\x00\x00", ("image/png",)),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", ("audio/wav",)),
        (b"\x00\x00\x00\x18ftypmp42", ("video/mp4", "audio/mp4")),
        (b"\x00\x00\x00\x18ftypM4A ", ("audio/mp4",)),
        (b"\x1a\x45\xdf\xa3\x9fB\x86", ("video/webm", "audio/webm")),
        (b"%PDF-1.7\n", ("application/pdf",)),
        (_zip({"word/document.xml": b"<w/>"}), (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",)),
        (_zip({"mimetype": b"application/vnd.oasis.opendocument.text"}), (
            "application/vnd.oasis.opendocument.text",)),
        ("Zażółć gęślą jaźń\n".encode(), ("text/plain",)),
        (b"MZ\x90\x00\x03\x00\x00\x00", ()),
        (b"\x7fELF\x02\x01\x01", ()),
    ],
)  # fmt: skip
def test_a_files_type_is_told_from_its_content(data: bytes, expected: tuple[str, ...]) -> None:
    assert candidates(data) == expected


def test_a_question_takes_its_kinds_types_narrowed_by_accept() -> None:
    webm = b"\x1a\x45\xdf\xa3\x9fB\x86"
    assert content_type(UploadSpec(UploadKind.AUDIO), webm) == "audio/webm"
    assert content_type(UploadSpec(UploadKind.VIDEO), webm) == "video/webm"
    assert content_type(UploadSpec(UploadKind.IMAGE), webm) is None
    pdf = b"%PDF-1.7\n"
    assert content_type(UploadSpec(UploadKind.ANY, (".pdf",)), pdf) == "application/pdf"
    assert content_type(UploadSpec(UploadKind.ANY, ("image/*",)), pdf) is None
    png = b"\x89PNG\r\n\x1a\n"
    assert content_type(UploadSpec(UploadKind.ANY, ("image/*", ".pdf")), png) == "image/png"


def test_a_sent_name_is_kept_without_its_path_or_control_characters() -> None:
    assert safe_name("C:\\Users\\jan\\zdjęcie.jpg", "image/jpeg") == "zdjęcie.jpg"
    assert safe_name("../../etc/passwd", "text/plain") == "passwd"
    assert safe_name("a\x00b\nc.png", "image/png") == "abc.png"
    assert safe_name("", "image/png") == "plik.png"
    long = safe_name("x" * 300 + ".pdf", "application/pdf")
    assert len(long) == 255 and long.endswith(".pdf")
