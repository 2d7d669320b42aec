"""Choices files given with a workbook (CSV, XML) and the bundles that keep them together."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from app.domain.questionnaire.attachments import (
    MAX_ATTACHMENT_BYTES,
    MAX_BUNDLE_MEMBERS,
    AttachedFiles,
    ChoicesFileError,
    read_bundle,
    read_choices,
    write_bundle,
)
from app.domain.questionnaire.loading import DEFINITION_SUFFIXES, load_definition, load_with_files


def _workbook(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label", "choice_filter", "parameters"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


FORM = _workbook(
    [
        ["integer", "a", "A", None, None],
        ["select_one_from_file gminy.csv", "gmina", "Gmina", None, None],
    ]
)
GMINY = "name,label,powiat\nk1,Kąty,wroclawski\no1,Oleśnica,olesnicki\n".encode()


def test_a_csv_gives_codes_labels_by_language_and_its_other_columns() -> None:
    found = read_choices(
        "x.csv", b"Name,Label::English,label::Polski (pl),region\na,A,Aa,n\nb,,Bb,s\n"
    )
    assert [(c.name, c.labels, c.columns, c.line) for c in found.choices] == [
        ("a", {"English": "A", "Polski (pl)": "Aa"}, {"region": "n"}, 2),
        ("b", {"Polski (pl)": "Bb"}, {"region": "s"}, 3),
    ]
    assert found.columns == ["region"]


@pytest.mark.parametrize(
    ("data", "line", "problem"),
    [
        (b"", 1, "the file has no header row"),
        (b"code,label\na,A\n", 1, "the header has no column name (it has: code, label)"),
        (b"name,label\na,A\n,B\n", 3, "the choice has no name"),
        (b"name,label\na,A,x\n", 2, "the row has 3 cells, the header 2"),
        (b'name,label\na,"A\n', 2, "the file is not valid CSV"),
        (b"name,label\na,\xff\n", 2, "the file is not UTF-8 text"),
    ],
)
def test_a_broken_csv_says_what_and_on_which_line(data: bytes, line: int, problem: str) -> None:
    with pytest.raises(ChoicesFileError) as caught:
        read_choices("x.csv", data)
    assert caught.value.line == line
    assert str(caught.value.message).startswith(problem)


def test_an_xml_secondary_instance_gives_items_and_refuses_entities() -> None:
    found = read_choices(
        "x.xml",
        b"<root><item><name>a</name><label>A</label><kind>k</kind></item>"
        b"<item><name>b</name><label>B</label></item></root>",
    )
    assert [(c.name, c.labels, c.columns) for c in found.choices] == [
        ("a", {"": "A"}, {"kind": "k"}),
        ("b", {"": "B"}, {}),
    ]
    bomb = b'<!DOCTYPE r [<!ENTITY a "aaaa">]><root><item><name>&a;</name></item></root>'
    with pytest.raises(ChoicesFileError) as caught:
        read_choices("x.xml", bomb)
    assert "DOCTYPE" in str(caught.value.message)
    with pytest.raises(ChoicesFileError) as caught:
        read_choices("x.xml", b"<root><item><name>a</name>")
    assert str(caught.value.message).startswith("the file is not valid XML")


def test_the_files_beside_a_workbook_are_read_by_plain_names_only(tmp_path: Path) -> None:
    (tmp_path / "gminy.csv").write_bytes(GMINY)
    attached = AttachedFiles.beside(tmp_path / "form.xlsx")
    assert attached.read("gminy.csv") == GMINY and set(attached.used) == {"gminy.csv"}
    for name in ("../gminy.csv", "sub/gminy.csv", ".hidden.csv", ""):
        with pytest.raises(ChoicesFileError):
            attached.read(name)
    with pytest.raises(ChoicesFileError) as caught:
        attached.read("nowhere.csv")
    assert "is missing" in str(caught.value.message)
    (tmp_path / "big.csv").write_bytes(b"x" * (MAX_ATTACHMENT_BYTES + 1))
    with pytest.raises(ChoicesFileError) as caught:
        attached.read("big.csv")
    assert "larger than" in str(caught.value.message)


def test_a_bundle_is_the_same_bytes_for_the_same_files_and_reads_back() -> None:
    first = write_bundle("form.xlsx", FORM, {"gminy.csv": GMINY})
    assert write_bundle("form.xlsx", FORM, {"gminy.csv": GMINY}) == first
    bundle = read_bundle(first, DEFINITION_SUFFIXES)
    assert (bundle.name, bundle.data, bundle.files) == ("form.xlsx", FORM, {"gminy.csv": GMINY})


def test_a_zip_of_a_folder_counts_as_a_zip_of_its_files() -> None:
    data = _zip({"ankieta/form.xlsx": FORM, "ankieta/gminy.csv": GMINY, "__MACOSX/x": b"?"})
    bundle = read_bundle(data, DEFINITION_SUFFIXES)
    assert bundle.name == "form.xlsx" and set(bundle.files) == {"gminy.csv"}


@pytest.mark.parametrize(
    ("members", "problem"),
    [
        ({"form.xlsx": FORM, "../etc/gminy.csv": GMINY}, "give its files without folders"),
        ({"form.xlsx": FORM, "a/b/gminy.csv": GMINY}, "give its files without folders"),
        ({"gminy.csv": GMINY}, "exactly one questionnaire"),
        ({"a.xlsx": FORM, "b.xlsx": FORM}, "exactly one questionnaire"),
        ({f"{n}.csv": b"" for n in range(MAX_BUNDLE_MEMBERS + 1)}, "more than"),
    ],
)
def test_a_zip_that_cannot_be_used_is_refused_with_why(
    members: dict[str, bytes], problem: str
) -> None:
    with pytest.raises(ChoicesFileError) as caught:
        read_bundle(_zip(members), DEFINITION_SUFFIXES)
    assert problem in str(caught.value.message)


def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    data = _zip({"form.xlsx": FORM, "gminy.csv": b"0" * (40 * 1024 * 1024)})
    result = load_definition(data, "form.zip")
    assert [str(p) for p in result.problems] == [
        "form.zip: The .zip file would unpack to more than 30 MB."
    ]


def test_a_workbook_sent_with_its_files_is_stored_as_a_bundle_of_those_it_reads() -> None:
    attached = AttachedFiles.given({"gminy.csv": GMINY, "notatki.txt": b"notes"})
    result, name, stored = load_with_files(FORM, "form.xlsx", attached)
    assert result.ok, [str(p) for p in result.problems]
    assert [str(p) for p in result.problems if p.location.file == "notatki.txt"] == [
        "notatki.txt: warning: The file notatki.txt is not used by the questionnaire."
    ]
    assert name == "form.zip"
    assert read_bundle(stored, DEFINITION_SUFFIXES).files == {"gminy.csv": GMINY}
    again = load_definition(stored, name)  # a stored version reads back
    assert again.questionnaire is not None
    assert again.questionnaire.choices["gminy"].codes == ("k1", "o1")


def test_a_select_from_file_without_its_file_is_refused_at_its_row() -> None:
    result = load_definition(FORM, "form.xlsx")
    assert [str(p) for p in result.errors] == [
        "form.xlsx:survey:3: item gmina: The file gminy.csv is missing: put it beside the "
        "workbook, or upload it together with the workbook."
    ]


def test_parameters_name_the_columns_and_geojson_is_refused() -> None:
    form = _workbook(
        [
            ["select_one_from_file gminy.csv", "g", "G", None, "value=powiat label=name"],
            ["select_one_from_file mapa.geojson", "m", "M", None, None],
        ]
    )
    result = load_definition(form, "form.xlsx", AttachedFiles.given({"gminy.csv": GMINY}))
    assert [str(p) for p in result.errors] == [
        "form.xlsx:survey:3: item m: Choices from mapa.geojson are not supported: give them "
        "as a .csv or .xml file."
    ]
    result = load_definition(
        _workbook([["select_one_from_file gminy.csv", "g", "G", None, "value=powiat label=name"]]),
        "form.xlsx",
        AttachedFiles.given({"gminy.csv": GMINY}),
    )
    assert result.questionnaire is not None
    gminy = result.questionnaire.choices["gminy"]
    assert gminy.codes == ("wroclawski", "olesnicki")
    assert gminy.get("olesnicki").label.get("pl") == "o1"


def test_a_duplicate_code_in_a_csv_is_reported_at_its_line() -> None:
    data = b"name,label\na,A\nb,B\na,A again\n"
    result = load_definition(FORM, "form.xlsx", AttachedFiles.given({"gminy.csv": data}))
    assert result.questionnaire is None
    assert any(str(p).startswith("gminy.csv:4: ") for p in result.errors), [
        str(p) for p in result.problems
    ]
