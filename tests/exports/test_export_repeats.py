"""Repeats in every export: a sheet per repeat in the workbook, a zip of CSV, SPSS or Stata
files, entries as lists of objects in the JSON API, and report tables over entries.

The questionnaire is tests/support/repeats.yaml: an open list of partners (with a nested
list of jobs) and a list whose count is fixed by an answer; the fixture ``repeats``
(tests/exports/conftest.py) stores three responses as the interview would.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pyreadstat
import pytest
from sqlalchemy import select

from app.exports import services as export_services
from app.exports.workbook import write_xlsx
from app.models.fieldwork import Fieldwork, Response
from app.models.users import Role
from app.surveys import services as survey_services
from tests.support.exports import REPEAT_KEYS, REPEATS_DEFINITION, Setup, sheet_rows
from tests.support.files import wait_for_file

PARTNER_COLUMNS = [
    *REPEAT_KEYS,
    "nazwa",
    "typ_partnera",
    "miejsca",
    "formy",
    "formy_01",
    "formy_02",
    "od",
    "etaty",
]


def _export(app, setup: Setup, path: Path, fmt: str = "xlsx", **options) -> int:
    database = app.extensions["ankieta.db"]
    with app.app_context(), database.session() as session:
        fieldwork = session.get(Fieldwork, setup.fieldwork_id)
        opts = export_services.ExportOptions(**options)
        if fmt == "csv":
            return export_services.write_csv(session, fieldwork, path, opts)
        if fmt in ("sav", "dta"):
            from app.exports.statfiles import write_statfile

            return write_statfile(session, fieldwork, path, opts, file_format=fmt)
        return write_xlsx(session, fieldwork, path, opts)


# --- the workbook ---------------------------------------------------------------------------


def test_each_repeat_has_a_sheet_whose_rows_link_to_their_response_and_parent(
    app, repeats, tmp_path
):
    path = tmp_path / "out.xlsx"
    assert _export(app, repeats, path) == 3
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:4] == ["Odpowiedzi", "Partner", "Etat", "Stałe działanie"]
    partner_header = [c.value for c in book["Partner"][1]]
    assert partner_header[:4] == ["id_odpowiedzi", "klucz_nadrzędny", "nr_wpisu", "klucz_wpisu"]
    first, second, third = repeats.response_ids

    responses = {row["response_id"]: row for row in sheet_rows(path)}
    # the number of entries of each repeat; a fixed count is the count, whatever is stored
    assert [(responses[r]["partnerzy"], responses[r]["stale"]) for r in repeats.response_ids] == [
        (2, 2),
        (1, 0),
        (0, 1),  # the partners stored as something else than a list are dropped
    ]
    assert responses[first]["suma"] == 3  # the company's jobs only: the NGO's are irrelevant

    partners = sheet_rows(path, "Partner")
    assert list(partners[0]) == PARTNER_COLUMNS
    assert [
        (p["response_id"], p["parent_key"], p["instance"], p["instance_key"]) for p in partners
    ] == [
        (first, first, 1, f"{first}/1"),
        (first, first, 2, f"{first}/2"),
        (second, second, 1, f"{second}/1"),
    ]
    ngo, company, gmina = partners
    assert ngo["nazwa"] == "Fundacja Szansa" and ngo["typ_partnera"] == "ngo"
    assert ngo["miejsca"] is None  # stored, but irrelevant for an NGO: left out
    assert (ngo["formy"], ngo["formy_01"], ngo["formy_02"]) == ("01 02", 1, 1)
    assert ngo["od"] == datetime(2025, 9, 1) and ngo["etaty"] == 2
    assert company["miejsca"] == 3 and isinstance(company["miejsca"], int)
    assert (company["formy"], company["formy_01"]) == (-98, None)  # don't know: its code
    assert company["etaty"] == 0 and gmina["typ_partnera"] == "jst"

    jobs = sheet_rows(path, "Etat")
    assert [
        (j["response_id"], j["parent_key"], j["instance"], j["instance_key"]) for j in jobs
    ] == [
        (first, f"{first}/1", 1, f"{first}/1/1"),
        (first, f"{first}/1", 2, f"{first}/1/2"),
    ]
    assert [(j["stanowisko"], j["wymiar"]) for j in jobs] == [("Trener", 0.5), ("Doradca", 1)]
    # every entry's parent key is a key on the parent's sheet
    partner_keys = {p["instance_key"] for p in partners}
    assert {j["parent_key"] for j in jobs} <= partner_keys

    standing = sheet_rows(path, "Stałe działanie")
    # two for the first response (the third stored one is past the count), one empty entry
    # for the third (count 1, nothing stored), none for the second (count 0)
    assert [(s["instance_key"], s["opis"]) for s in standing] == [
        (f"{first}/1", "Klub pracy"),
        (f"{first}/2", None),
        (f"{third}/1", None),
    ]
    sheet = book["Partner"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:L4"


def test_labels_mode_and_language_apply_to_repeat_sheets(app, repeats, tmp_path):
    path = tmp_path / "out.xlsx"
    _export(app, repeats, path, labels=True, language="en")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:4] == ["Responses", "Partner", "Job", "Standing activity"]
    ngo, company, gmina = sheet_rows(path, "Partner")
    assert ngo["typ_partnera"] == "NGO" and ngo["formy"] == "Training; Internships"
    assert company["formy"] == "Don't know" and gmina["typ_partnera"] == "Local government"
    assert ngo["formy_01"] == 1  # the tick columns stay 0/1


def test_codebook_and_choices_say_which_sheet_holds_a_variable(app, repeats, tmp_path):
    path = tmp_path / "out.xlsx"
    _export(app, repeats, path)
    codebook = {row["variable"]: row for row in sheet_rows(path, "Codebook")}
    assert [codebook[n]["sheet"] for n in ("liczba", "partnerzy", "suma", "stale")] == [
        "Odpowiedzi"
    ] * 4
    assert codebook["partnerzy"]["type"] == (
        "repeat (liczba wpisów; wpisy są wierszami arkusza Partner)"
    )
    assert codebook["nazwa"]["sheet"] == "Partner" and codebook["nazwa"]["label_en"] == "Name"
    assert codebook["miejsca"]["relevance"] == "${typ_partnera} = 'firma'"
    assert (codebook["stanowisko"]["sheet"], codebook["stanowisko"]["group"]) == (
        "Etat",
        "partnerzy/etaty",
    )
    assert codebook["etaty"]["sheet"] == "Partner"
    assert codebook["opis"]["sheet"] == "Stałe działanie"
    sheets = {(c["list"], c["code"]): c["sheets"] for c in sheet_rows(path, "Choices")}
    assert sheets[("typ", "ngo")] == "Partner" and sheets[("formy", "02")] == "Partner"


def test_a_sheet_name_is_fit_for_excel_and_unique():
    from app.domain.outputs.export import sheet_title

    taken = {"responses"}
    assert sheet_title("Responses", taken) == "Responses (2)"
    assert sheet_title("Partner: [typ]/rodzaj?*", taken) == "Partner   typ  rodzaj"
    long = "Przedsiębiorstwo społeczne wspierane przez OWES"
    first, second = sheet_title(long, taken), sheet_title(long, taken)
    assert len(first) == len(second) == 31 and first != second and second.endswith(" (2)")
    assert sheet_title("'''", taken) == "Lista"
    assert sheet_title("history", taken) == "history (2)"  # Excel reserves History


# --- CSV, SPSS and Stata ----------------------------------------------------------------------


def test_csv_of_a_questionnaire_with_repeats_is_a_zip_of_one_csv_per_sheet(app, repeats, tmp_path):
    xlsx, archive = tmp_path / "out.xlsx", tmp_path / "out.zip"
    _export(app, repeats, xlsx)
    assert _export(app, repeats, archive, "csv") == 3
    with zipfile.ZipFile(archive) as zipped:
        assert zipped.namelist() == [
            "odpowiedzi.csv",
            "odpowiedzi-partnerzy.csv",
            "odpowiedzi-etaty.csv",
            "odpowiedzi-stale.csv",
        ]
        files = {
            name: list(
                csv.reader(io.StringIO(zipped.read(name).decode("utf-8-sig")), delimiter=";")
            )
            for name in zipped.namelist()
        }
    book = openpyxl.load_workbook(xlsx)
    for name, sheet in (
        ("odpowiedzi.csv", "Odpowiedzi"),
        ("odpowiedzi-partnerzy.csv", "Partner"),
        ("odpowiedzi-etaty.csv", "Etat"),
        ("odpowiedzi-stale.csv", "Stałe działanie"),
    ):
        header, *lines = files[name]
        assert header == [c.value for c in book[sheet][1]]
        assert len(lines) == book[sheet].max_row - 1
    header, ngo, company, _ = files["odpowiedzi-partnerzy.csv"]
    ngo_row = dict(zip(header, ngo, strict=True))
    assert ngo_row["klucz_wpisu"] == f"{repeats.response_ids[0]}/1"
    assert (ngo_row["od"], ngo_row["formy"]) == ("2025-09-01", "01 02")
    assert dict(zip(header, company, strict=True))["formy"] == "-98"


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_statistics_files_of_a_questionnaire_with_repeats_are_one_per_sheet(
    app, repeats, tmp_path, fmt
):
    archive = tmp_path / f"out.{fmt}"
    assert _export(app, repeats, archive, fmt) == 3
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        assert names == [
            f"odpowiedzi{suffix}.{fmt}" for suffix in ("", "-partnerzy", "-etaty", "-stale")
        ]
        zipped.extractall(tmp_path / "files")
    read = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    first, second, _ = repeats.response_ids

    main, _meta = read(str(tmp_path / "files" / names[0]))
    assert list(main["partnerzy"]) == [2, 1, 0] and list(main["stale"]) == [2, 0, 1]

    partners, meta = read(str(tmp_path / "files" / names[1]), user_missing=True)
    assert list(partners.columns) == PARTNER_COLUMNS
    assert list(partners["response_id"]) == [first, first, second]
    assert list(partners["parent_key"]) == [first, first, second]  # a number at the top
    assert list(partners["instance_key"]) == [f"{first}/1", f"{first}/2", f"{second}/1"]
    assert list(partners["nazwa"]) == ["Fundacja Szansa", "Piekarnia Kłos", "Gmina Rybnik"]
    # the codes of a text list are numbered 1, 2, … with value labels saying which is which
    type_labels = meta.variable_value_labels["typ_partnera"]
    assert [type_labels[v] for v in partners["typ_partnera"]] == [
        "Organizacja pozarządowa",
        "Firma",
        "Samorząd",
    ]
    assert meta.column_names_to_labels["nazwa"] == "Nazwa"

    jobs, _meta = read(str(tmp_path / "files" / names[2]))
    assert list(jobs["parent_key"]) == [f"{first}/1", f"{first}/1"]  # text when nested
    assert list(jobs["wymiar"]) == [0.5, 1.0]


# --- downloads and the API ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "inside"), [("csv", "odpowiedzi-etaty.csv"), ("sav", "odpowiedzi-etaty.sav")]
)
def test_csv_and_spss_files_of_a_questionnaire_with_repeats_download_as_a_zip(
    app, client, login_as, repeats, kind, inside
):
    login_as(Role.ANALYST)
    asked = client.post(f"/fieldwork/{repeats.fieldwork_id}/files", data={"kind": kind})
    assert asked.status_code == 302
    status = wait_for_file(client, asked.headers["Location"])
    assert status["state"] == "done", status
    with client.get(status["download"]) as download:
        assert download.status_code == 200 and download.mimetype == "application/zip"
        disposition = download.headers["Content-Disposition"]
        assert f'filename="odpowiedzi-badanie-{repeats.fieldwork_id}.zip"' in disposition
        with zipfile.ZipFile(io.BytesIO(download.data)) as zipped:
            assert inside in zipped.namelist()
    # the workbook stays a workbook
    asked = client.post(f"/fieldwork/{repeats.fieldwork_id}/files", data={"kind": "responses"})
    status = wait_for_file(client, asked.headers["Location"])
    with client.get(status["download"]) as download:
        assert download.headers["Content-Disposition"].endswith('.xlsx"')


def test_the_api_gives_a_repeat_s_entries_as_lists_of_objects(
    app, client, make_user, repeats, clock
):
    from app.models.tokens import TokenScope
    from app.models.users import User
    from app.tokens.services import create_token

    user = make_user("analyst-api", Role.ANALYST)
    with app.extensions["ankieta.db"].session() as session:
        issued = create_token(
            session, session.get(User, user.id), now=clock(), days=30, scope=TokenScope.READ
        )
    headers = {"Authorization": f"Bearer {issued.secret}"}
    url = f"/api/v1/fieldworks/{repeats.fieldwork_id}/responses"
    first, second, third = client.get(url, headers=headers).get_json()["items"]
    partners = first["answers"]["partnerzy"]
    assert [p["nazwa"] for p in partners] == ["Fundacja Szansa", "Piekarnia Kłos"]
    assert partners[0]["od"] == "2025-09-01" and partners[0]["miejsca"] is None
    assert partners[0]["etaty"] == [
        {"stanowisko": "Trener", "wymiar": 0.5},
        {"stanowisko": "Doradca", "wymiar": 1},
    ]
    assert partners[1]["etaty"] == [] and partners[1]["formy"] == -98
    assert first["answers"]["stale"] == [{"opis": "Klub pracy"}, {"opis": None}]
    assert second["answers"]["stale"] == [] and third["answers"]["partnerzy"] == []
    labelled = client.get(
        f"{url}/{first['id']}", query_string={"labels": "true", "language": "en"}, headers=headers
    ).get_json()
    assert labelled["answers"]["partnerzy"][0]["typ_partnera"] == "NGO"


# --- demo data, then the export -------------------------------------------------------------------


def _stored_entries(value, repeat_names) -> dict[str, int]:
    """Entries per repeat in a response's stored answers, nested ones included."""
    counts: dict[str, int] = {}
    for name, entries in value.items():
        if name in repeat_names and isinstance(entries, list):
            counts[name] = counts.get(name, 0) + len(entries)
            for entry in entries:
                for inner, count in _stored_entries(entry, repeat_names).items():
                    counts[inner] = counts.get(inner, 0) + count
    return counts


def test_demo_data_exports_as_many_repeat_rows_as_entries_stored(app, runner, clock, tmp_path):
    database = app.extensions["ankieta.db"]
    with database.session() as session:
        loaded = survey_services.load_file(session, REPEATS_DEFINITION)
        assert loaded.ok
        from app.fieldwork import services as fieldwork_services

        fieldwork = fieldwork_services.create_fieldwork(session, "eksport_powtorzen", "Demo")
        fieldwork.open(clock())
        fieldwork_id = fieldwork.id
    made = runner.invoke(args=["demo-data", str(fieldwork_id), "--responses", "20", "--seed", "3"])
    assert made.exit_code == 0, made.output
    out = tmp_path / "demo.xlsx"
    exported = runner.invoke(args=["export", str(fieldwork_id), "-o", str(out)])
    assert exported.exit_code == 0, exported.output

    stored: dict[str, int] = {}
    with database.session() as session:
        for answers in session.scalars(
            select(Response.answers).where(Response.fieldwork_id == fieldwork_id)
        ):
            for name, count in _stored_entries(answers, {"partnerzy", "etaty", "stale"}).items():
                stored[name] = stored.get(name, 0) + count
    rows = {
        name: len(sheet_rows(out, sheet))
        for name, sheet in (
            ("partnerzy", "Partner"),
            ("etaty", "Etat"),
            ("stale", "Stałe działanie"),
        )
    }
    assert rows == {name: stored.get(name, 0) for name in rows}
    assert sum(rows.values()) > 0, "the demo data holds no entries of any list"

    archive = tmp_path / "demo.zip"
    exported = runner.invoke(args=["export", str(fieldwork_id), "-o", str(archive)])
    assert exported.exit_code == 0, exported.output
    assert "archiwum zip z jednym plikiem na arkusz" in exported.output
    with zipfile.ZipFile(archive) as zipped:
        for name, count in rows.items():
            text = zipped.read(f"odpowiedzi-{name}.csv").decode("utf-8-sig")
            assert len(list(csv.reader(io.StringIO(text)))) - 1 == count


# --- the monitoring report --------------------------------------------------------------------


def test_the_report_counts_and_sums_over_a_repeat_s_entries_by_subregion(
    app, runner, repeats, tmp_path
):
    out = tmp_path / "raport.xlsx"
    made = runner.invoke(
        args=["report", str(repeats.fieldwork_id), "--by", "subregion", "-o", str(out)]
    )
    assert made.exit_code == 0, made.output
    book = openpyxl.load_workbook(out)

    closed = [[c.value for c in row] for row in book["pytania zamknięte"].iter_rows()]
    top = next(
        i for i, r in enumerate(closed) if r[0] == "typ_partnera – Typ [pozycje listy: partnerzy]"
    )
    assert closed[top + 1][2:8:2] == ["razem", "centralny", "rybnicki"]
    counts = {r[0]: r[2:8:2] for r in closed[top + 3 : top + 6]}  # n: total, centralny, rybnicki
    # complete responses only: the first's two partners (centralny), the second's one
    assert counts == {"ngo": [1, 1, 0], "jst": [1, 0, 1], "firma": [1, 1, 0]}
    base = next(r for r in closed[top:] if r[1] == "podstawa (pozycje list)")
    assert base[2:8:2] == [3, 2, 1]

    numeric = [[c.value for c in row] for row in book["pytania liczbowe"].iter_rows()]
    top = next(
        i
        for i, r in enumerate(numeric)
        if r[0] == "miejsca – Miejsca pracy [pozycje listy: partnerzy]"
    )
    names = numeric[top + 1]
    by_group = {r[0]: dict(zip(names[1:], r[1:], strict=False)) for r in numeric[top + 2 : top + 5]}
    # jobs summed over entries: the company's 3; the NGO's stored 4 are irrelevant
    assert (by_group["razem"]["n"], by_group["razem"]["suma"]) == (1, 3)
    assert by_group["centralny"]["suma"] == 3 and by_group["rybnicki"]["n"] == 0
    top = next(i for i, r in enumerate(numeric) if r[0] == "partnerzy – Partner [liczba pozycji]")
    counted = {r[0]: dict(zip(names[1:], r[1:], strict=False)) for r in numeric[top + 2 : top + 5]}
    assert [counted[g]["suma"] for g in ("razem", "centralny", "rybnicki")] == [3, 2, 1]
    contents = [c.value for c in book["spis treści"]["A"]]
    assert "wymiar" in contents and "typ_partnera" in contents


def test_statistics_files_label_the_keys_in_polish(app, repeats, tmp_path):
    from app.platform.i18n import translate

    archive = tmp_path / "out.sav"
    database = app.extensions["ankieta.db"]
    with app.app_context(), database.session() as session:
        from app.exports.statfiles import write_statfile

        fieldwork = session.get(Fieldwork, repeats.fieldwork_id)
        write_statfile(session, fieldwork, archive, translate=translate)
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(tmp_path / "files")
    _frame, meta = pyreadstat.read_sav(str(tmp_path / "files" / "odpowiedzi-etaty.sav"))
    labels = meta.column_names_to_labels
    assert labels["instance"] == "Numer pozycji na liście"
    assert labels["instance_key"] == "Klucz pozycji"
    _frame, meta = pyreadstat.read_sav(str(tmp_path / "files" / "odpowiedzi.sav"))
    assert meta.column_names_to_labels["partnerzy"] == "Partner – liczba pozycji"


def test_a_sheet_past_excel_s_last_row_stops_the_export_with_a_clear_message(
    app, runner, client, login_as, repeats, tmp_path, monkeypatch
):
    from app.exports import workbook

    # as if Excel held a header and two rows: the partners' sheet needs three
    monkeypatch.setattr(workbook, "XLSX_MAX_ROWS", 3)
    out = tmp_path / "out.xlsx"
    result = runner.invoke(args=["export", str(repeats.fieldwork_id), "-o", str(out)])
    assert result.exit_code == 1
    assert "więcej wierszy, niż mieści Excel" in result.output and "Traceback" not in result.output
    login_as(Role.ANALYST)
    asked = client.post(f"/fieldwork/{repeats.fieldwork_id}/files", data={"kind": "responses"})
    status = wait_for_file(client, asked.headers["Location"])
    assert status["state"] == "failed"
    assert "więcej wierszy, niż mieści Excel" in status["error"]
    # the CSV has no such limit
    asked = client.post(f"/fieldwork/{repeats.fieldwork_id}/files", data={"kind": "csv"})
    assert wait_for_file(client, asked.headers["Location"])["state"] == "done"
