"""SPSS (.sav) and Stata (.dta) exports, read back with pyreadstat.

What the files must declare is worked out here from the questionnaire itself (its items,
choice lists and don't know / refused settings), not from the exporter's own description.
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from flask import Flask

from app.domain.outputs.export import META_COLUMNS
from app.domain.questionnaire.model import Availability, ItemType
from app.exports.services import ExportOptions
from app.exports.statfiles import write_statfile
from app.models.fieldwork import Fieldwork
from app.models.surveys import questionnaire_of
from app.models.users import Role
from app.platform.i18n import translate
from tests.support.exports import VARIABLE_COLUMNS
from tests.support.files import prepare_file

NOT_ANSWERED = {"sav": (-98, -99), "dta": ("a", "b")}


def _write(app: Flask, setup_id: int, path: Path, fmt: str, **options) -> int:
    database = app.extensions["ankieta.db"]
    with app.app_context(), database.session() as session:
        fieldwork = session.get(Fieldwork, setup_id)
        return write_statfile(
            session, fieldwork, path, ExportOptions(**options), file_format=fmt, translate=translate
        )


def _read(path: Path):
    if path.suffix == ".sav":
        return pyreadstat.read_sav(path, user_missing=True)
    return pyreadstat.read_dta(path, user_missing=True)


def _rows(frame: pd.DataFrame) -> list[dict]:
    return [
        {k: (None if not isinstance(v, str) and pd.isna(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_values_labels_and_missing_values_read_back(app, exported, tmp_path, fmt):
    path = tmp_path / f"odpowiedzi.{fmt}"
    assert _write(app, exported.fieldwork_id, path, fmt) == 3
    frame, meta = _read(path)
    assert list(frame.columns) == [*META_COLUMNS, *VARIABLE_COLUMNS]
    first, second, third = _rows(frame)
    dont_know, refused = NOT_ANSWERED[fmt]

    # Polish text intact, codes with their zeros, dates as dates
    assert first["institution"] == "Klub Integracji Społecznej w Żorach"
    assert third["gmina"] == "Łódź"
    assert first["external_id"] == "007" and first["kod"] == "007"
    assert first["data"] == date(2026, 3, 1)
    assert first["started"] == datetime(2026, 3, 10, 9, 0)  # Warsaw wall time
    assert first["kwota"] == 12.5 and first["liczba"] == 5
    # single choices as labelled numbers, multiple choices as labelled 0/1 columns
    assert first["filtr"] == 1 and second["filtr"] == 2
    assert (first["obszary_01"], first["obszary_02"], first["obszary_inny"]) == (1, 0, 1)
    assert first["obszary"] == "01 inny"
    # don't know / refused: codes declared missing (SPSS) or extended missing (Stata)
    assert first["m_r2"] == dont_know
    assert second["liczba"] == refused
    assert third["obszary"] == "-98"  # a text has no missing values: its code as text
    assert third["obszary_01"] is None

    labels = meta.column_names_to_labels
    assert labels["filtr"] == "Czy działacie?"
    assert labels["obszary_02"] == "W jakich obszarach? – Zdrowie"
    assert labels["m_r1"] == "Oceny – Pierwszy"
    assert labels["institution"] == "Instytucja"
    values = meta.variable_value_labels
    assert values["filtr"] == {
        1: "Tak",
        2: "Nie",
        dont_know: "Nie wiem",
        refused: "Odmowa odpowiedzi",
    }
    assert values["m_r2"][2] == "Dobrze"
    assert values["obszary_01"] == {0: "nie zaznaczono", 1: "zaznaczono"}
    if fmt == "sav":
        assert meta.file_encoding == "UTF-8"
        assert meta.missing_ranges["liczba"] == [{"lo": -98, "hi": -98}, {"lo": -99, "hi": -99}]
        assert meta.missing_ranges["obszary"] == [
            {"lo": "-98", "hi": "-98"},
            {"lo": "-99", "hi": "-99"},
        ]
        assert "obszary_01" not in meta.missing_ranges
        assert meta.variable_measure["filtr"] == "nominal"
        assert meta.variable_measure["kwota"] == "scale"
        assert meta.original_variable_types["data"].startswith("DATE")
        assert meta.original_variable_types["liczba"] == "F8.0"
    else:
        assert path.read_bytes()[:60].startswith(b"<stata_dta><header><release>118</release>")
        assert values["data"] == {"a": "Nie wiem", "b": "Odmowa odpowiedzi"}
        assert meta.original_variable_types["data"] == "%td"


def test_english_labels_and_the_same_filters_as_the_workbook(app, exported, tmp_path):
    path = tmp_path / "en.sav"
    assert _write(app, exported.fieldwork_id, path, "sav", language="en", complete_only=True) == 2
    frame, meta = _read(path)
    assert meta.column_names_to_labels["filtr"] == "Are you active?"
    assert meta.variable_value_labels["filtr"][1] == "Yes"
    assert meta.variable_value_labels["filtr"][-98] == "Don't know"
    assert list(frame["status"]) == ["complete", "complete"]
    assert _write(app, exported.fieldwork_id, path, "dta", subregion="centralny") == 2
    assert _write(app, exported.fieldwork_id, path, "dta", date_from=date(2026, 3, 13)) == 1


def _expected_from_questionnaire(q, language: str):
    """variable -> (label, value labels without non-answers, declares non-answers)."""
    default = q.settings.default_language
    expected: dict[str, tuple[str, dict, bool]] = {}
    for item in q.scope():  # the response's own variables (a list's are in its own file)
        if not item.type.is_question:
            continue
        label = item.label.get(language, default) if item.label else ""
        missing = any(
            (own or survey) is not Availability.NO
            for own, survey in (
                (item.dont_know, q.settings.dont_know),
                (item.refused, q.settings.refused),
            )
        )
        choices = q.choices[item.list_name] if item.list_name else None
        texts = {c.name: c.label.get(language, default) for c in choices.choices} if choices else {}
        # whole-number codes stay; other lists are numbered 1, 2, ... in list order
        if all(c.lstrip("-").isdigit() for c in texts):
            numbered = {int(c): t for c, t in texts.items()}
        else:
            numbered = {n: t for n, t in enumerate(texts.values(), start=1)}
        if item.type is ItemType.MATRIX:
            for row in item.rows:
                row_label = f"{label} – {row.label.get(language, default)}"
                expected[f"{item.name}_{row.name}"] = (row_label, numbered, missing)
        elif item.type is ItemType.SELECT_ONE:
            expected[item.name] = (label, numbered, missing)
        elif item.type is ItemType.SELECT_MULTIPLE:
            expected[item.name] = (label, {}, missing)
            for code, text in texts.items():
                expected[f"{item.name}_{code}"] = (f"{label} – {text}", {0: 0, 1: 1}, False)
        else:
            expected[item.name] = (label, {}, missing)
    return expected


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_demo_fieldwork_declares_everything_its_questionnaire_implies(
    app, runner, make_fieldwork, tmp_path, fmt
):
    fieldwork_id = make_fieldwork(
        units=[(f"U-{n:02d}", f"Spółdzielnia {n}", {}) for n in range(20)]
    )
    result = runner.invoke(
        args=["demo-data", str(fieldwork_id), "--responses", "20", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    path = tmp_path / f"demo.{fmt}"
    assert _write(app, fieldwork_id, path, fmt) == 20
    # the demo questionnaire has a list (partners): a zip of one file per sheet
    with zipfile.ZipFile(path) as package:
        names = package.namelist()
        assert f"odpowiedzi.{fmt}" in names and len(names) >= 2, names
        package.extractall(tmp_path / "unzipped")
    for name in names:
        _read(tmp_path / "unzipped" / name)  # each opens
    frame, meta = _read(tmp_path / "unzipped" / f"odpowiedzi.{fmt}")
    with app.extensions["ankieta.db"].session() as session:
        q = questionnaire_of(session.get(Fieldwork, fieldwork_id).survey_version)
    expected = _expected_from_questionnaire(q, "pl")
    assert expected, "the demo questionnaire has questions"
    dont_know, refused = NOT_ANSWERED[fmt]
    checked = 0
    for name, (label, value_labels, missing) in expected.items():
        checked += 1
        if fmt == "dta" and len(label) > 80:  # Stata's limit
            assert meta.column_names_to_labels[name] == label[:79] + "…"
        else:
            assert meta.column_names_to_labels[name] == label, name
        declared = meta.variable_value_labels.get(name, {})
        if value_labels == {0: 0, 1: 1}:
            assert set(declared) == {0, 1}, name
            continue
        for value, text in value_labels.items():
            assert declared[value] == text, (name, value)
        numeric = meta.original_variable_types[name][0] not in ("A", "%") or (
            fmt == "dta" and not meta.original_variable_types[name].endswith("s")
        )
        if missing and numeric:
            assert declared[dont_know] == "Nie wiem", name
            assert declared[refused] == "Odmowa odpowiedzi", name
            if fmt == "sav":
                assert {r["lo"] for r in meta.missing_ranges[name]} == {-98, -99}, name
        if missing and fmt == "sav" and not numeric:
            assert {r["lo"] for r in meta.missing_ranges[name]} == {"-98", "-99"}, name
    assert checked == len(expected) > 10
    assert any("ą" in t or "ł" in t or "ś" in t for t in meta.column_names_to_labels.values() if t)


def test_cli_writes_sav_and_dta(app, runner, exported, tmp_path):
    out = tmp_path / "cli.sav"
    args = ["export", str(exported.fieldwork_id), "-o", str(out), "--complete-only"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert len(_read(out)[0]) == 2
    out = tmp_path / "cli.bin"
    args = ["export", str(exported.fieldwork_id), "-o", str(out), "--format", "dta"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert pyreadstat.read_dta(out)[0].shape[0] == 3


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_web_prepares_the_file_as_a_background_job(
    app,
    client,
    login_as,
    exported,
    tmp_path,
    fmt,
):
    login_as(Role.ANALYST)
    data = prepare_file(client, exported.fieldwork_id, kind=fmt, language="en")
    path = tmp_path / f"web.{fmt}"
    path.write_bytes(data)
    frame, meta = _read(path)
    assert len(frame) == 3
    assert meta.column_names_to_labels["filtr"] == "Are you active?"
    page = client.get(f"/fieldwork/{exported.fieldwork_id}/files").get_data(as_text=True)
    # the name says the options (here the language), and the format by its extension
    assert f"odpowiedzi-badanie-{exported.fieldwork_id}-en.{fmt}" in page


def test_labels_too_long_for_the_format_end_with_an_ellipsis():
    from app.domain.outputs.statfiles import SPSS_LABEL_BYTES, fit_bytes

    text = "Zażółć gęślą jaźń " * 30
    cut = fit_bytes(text, SPSS_LABEL_BYTES)
    assert cut.endswith("…") and len(cut.encode("utf-8")) <= SPSS_LABEL_BYTES
    assert text.startswith(cut[:-1])
    assert fit_bytes("krótka", SPSS_LABEL_BYTES) == "krótka"


def test_long_labels_survive_as_far_as_each_format_allows(app, make_fieldwork, tmp_path):
    long_label = " ".join(["Jak ocenia Pan/Pani współpracę z gminą w reintegracji społecznej?"] * 5)
    definition = (
        "settings:\n  id: dlugie\n  title: {pl: Długie}\n  default_language: pl\n"
        "choices:\n  ocena:\n"
        f"    - {{name: '1', label: {{pl: '{long_label}'}}}}\n"
        "    - {name: '2', label: {pl: 'Źle'}}\n"
        "survey:\n"
        f"  - {{type: select_one ocena, name: q, label: {{pl: '{long_label}'}}}}\n"
    )
    from app.fieldwork import services as fieldwork_services
    from app.surveys import services as survey_services

    source = tmp_path / "dlugie.yaml"
    source.write_text(definition, encoding="utf-8")
    with app.extensions["ankieta.db"].session() as session:
        loaded = survey_services.load_file(session, source)
        assert loaded.ok, [str(p) for p in loaded.problems]
        fieldwork_id = fieldwork_services.create_fieldwork(session, "dlugie", "Długie").id
    for fmt in ("sav", "dta"):
        path = tmp_path / f"d.{fmt}"
        assert _write(app, fieldwork_id, path, fmt) == 0
        _frame, meta = _read(path)
        label = meta.column_names_to_labels["q"]
        value = meta.variable_value_labels["q"][1]
        assert label.endswith("…") and long_label.startswith(label[:-1]), fmt
        if fmt == "sav":
            assert value.endswith("…") and long_label.startswith(value[:-1])
        else:
            assert value == long_label  # Stata holds long value labels
