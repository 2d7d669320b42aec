"""Every workbook in tests/xlsforms against pyxform's own verdict: what ODK's converter
turns into a form, Ankieta loads, fills (web and phone) and exports one typed row per
response; what it refuses, Ankieta refuses too, naming the sheet and row.

The workbooks are written by tests/xlsforms/make_workbooks.py, in the styles forms are
written in the wild (no settings sheet, languages without codes, extra columns and sheets,
or_other, choice filters on extra columns, metadata rows, ...)."""

from __future__ import annotations

import random
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from app.domain.dates import WARSAW
from app.domain.outputs.export import ColumnKind, RowConverter, response_columns
from app.domain.questionnaire.flow import PHONE, WEB, Flow
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.model import ItemType
from app.domain.questionnaire.synthetic import generate_answers
from tests.support.xlsforms import CORPUS, DIFFERS, PENDING, corpus, pyxform_refusal

from .expression_cases import UUID4

WORKBOOKS = corpus()
TODAY = date(2026, 5, 14)
RESPONDENTS = 8  # half on the web, half by phone

_CELL_TYPES: dict[ItemType, tuple[type, ...]] = {
    ItemType.INTEGER: (int,),
    ItemType.DECIMAL: (int, float),
    ItemType.DATE: (date,),
    ItemType.TIME: (time,),
    ItemType.DATETIME: (datetime,),
    ItemType.RANGE: (int, float),
    ItemType.BARCODE: (str,),
    ItemType.GEOPOINT: (str,),
    ItemType.GEOTRACE: (str,),
    ItemType.GEOSHAPE: (str,),
    ItemType.TEXT: (str,),
    ItemType.TEXTAREA: (str,),
    ItemType.SELECT_ONE: (str,),
    ItemType.SELECT_MULTIPLE: (str,),
    ItemType.CALCULATE: (int, float, str, date, datetime),
}


def test_the_corpus_holds_forms_of_every_kind() -> None:
    names = {path.stem for path in WORKBOOKS}
    assert len(names) >= 20
    assert {name for name in names if name.startswith("broken_")} == {
        path.stem for path in WORKBOOKS if pyxform_refusal(path) is not None
    }
    assert {f"{name}.xlsx" for name in names if name.startswith("pending_")} == set(PENDING)
    assert {f"{name}.xlsx" for name in names if name.startswith("differs_")} == set(DIFFERS)


@pytest.mark.parametrize("path", WORKBOOKS, ids=lambda path: path.stem)
def test_ankieta_loads_what_pyxform_converts_and_refuses_what_it_refuses(path: Path) -> None:
    refusal = pyxform_refusal(path)
    result = load_definition(path)
    if refusal is not None:
        assert result.questionnaire is None, refusal
        located = [p for p in result.errors if p.location.sheet and p.location.row]
        assert located, (refusal, [str(p) for p in result.problems])
        return
    if path.name in DIFFERS:  # refused on purpose, at its row
        assert result.questionnaire is None
        located = [str(p.message) for p in result.errors if p.location.row]
        assert [m for m in located if m.startswith(DIFFERS[path.name])], located
        return
    if path.name in PENDING:  # pending type PENDING[name]: refused by its name, at its row
        assert result.questionnaire is None
        expected = f"The type {PENDING[path.name]} is not supported."
        assert [str(p.message) for p in result.errors if p.location.row] == [expected]
        return
    assert result.errors == [], [str(p) for p in result.errors]
    questionnaire = result.questionnaire
    assert questionnaire is not None
    flow = Flow(questionnaire)
    rng = random.Random(path.stem)
    filled = [
        generate_answers(flow, sample={}, today=TODAY, rng=rng, mode=WEB if i % 2 else PHONE)
        for i in range(RESPONDENTS)
    ]
    assert all(answers.complete for answers in filled), path.name
    columns = response_columns([flow])
    converter = RowConverter(flow, columns)
    rows = [
        converter.cells(flow.clean_answers(flow.state(a.answers, sample={}, today=TODAY)))
        for a in filled
    ]
    assert len(rows) == RESPONDENTS and all(len(row) == len(columns) for row in rows)
    missing_codes = {questionnaire.settings.dont_know_code, questionnaire.settings.refused_code}
    answered = set()
    for row in rows:
        for column, cell in zip(columns, row, strict=True):
            if cell is None:
                continue
            answered.add(column.name)
            if cell in missing_codes and type(cell) is int:  # don't know / refused (phone)
                continue
            if column.kind is ColumnKind.PART:  # a point's latitude, a choice's rank, ...
                assert isinstance(cell, _CELL_TYPES[column.value_type]), (column, cell)
            elif column.kind is not ColumnKind.VALUE:  # 0/1 ticks and a list's count
                assert type(cell) is int, (column, cell)
            elif column.value_type in _CELL_TYPES:
                assert isinstance(cell, _CELL_TYPES[column.value_type]), (column, cell)
    questions = [
        item.name
        for item in questionnaire.walk()
        if item.type.is_question and item.enclosing_repeat() is None
    ]
    assert answered & set(questions), "no question was answered"


def _flow(name: str) -> Flow:
    result = load_definition(CORPUS / f"{name}.xlsx")
    assert result.questionnaire is not None, [str(p) for p in result.problems]
    return Flow(result.questionnaire)


def test_or_other_asks_pyxforms_specify_text_on_both_kinds_of_select() -> None:
    flow = _flow("or_other")
    assert {"favourite_other", "fruits_other"} <= set(flow.variables)
    assert "car_other" in flow.variables  # the list offers "other" wherever it is used
    state = flow.state(
        {"favourite": "other", "favourite_other": "teal", "fruits": ("apple", "other"),
         "fruits_other": "kiwi", "car": "red", "first": "a"},
        sample={}, today=TODAY,
    )  # fmt: skip
    clean = flow.clean_answers(state)
    assert clean["favourite_other"] == "teal" and clean["fruits_other"] == "kiwi"
    assert flow.questionnaire.choices["list_1st_choice"].codes == ("a", "b")


def test_choice_filters_read_any_column_of_the_choices_sheet() -> None:
    flow = _flow("choice_filter_columns")
    questionnaire = flow.questionnaire

    def offered(name: str, answers: dict[str, object]) -> list[str]:
        state = flow.state(answers, sample={}, today=TODAY)
        return [c.name for c in flow.choices_for(questionnaire.item(name), state)]

    assert offered("district", {"region": "south"}) == ["s1"]
    assert offered("service", {"urban": "yes"}) == ["clinic", "school"]
    assert offered("service", {"urban": "no"}) == ["clinic", "school", "market"]
    # the yes/no list has no value in the filter's column: blank, as in the XForm
    assert offered("again", {}) == ["yes", "no"]


def test_metadata_rows_are_the_questionnaires_paradata() -> None:
    settings = _flow("metadata_rows").questionnaire.settings
    assert settings.paradata == (
        ("starttime", "start"), ("endtime", "end"), ("day", "today"), ("interviewer", "username")
    )  # fmt: skip


def _offered(flow: Flow, name: str, answers: dict[str, object]) -> list[str]:
    state = flow.state(answers, sample={}, today=TODAY)
    return [c.name for c in flow.choices_for(flow.questionnaire.item(name), state)]


def test_choices_come_from_the_csv_and_xml_files_beside_the_workbook() -> None:
    flow = _flow("select_from_file")
    q = flow.questionnaire
    assert _offered(flow, "region", {}) == ["dolnoslaskie", "slaskie", "mazowieckie"]
    assert _offered(flow, "county", {"region": "dolnoslaskie"}) == ["wroclawski", "olesnicki"]
    assert _offered(flow, "county", {"region": "mazowieckie"}) == ["warszawski_zachodni"]
    # value= and label= name the columns; a blank cell of a column is '' for the filter
    assert _offered(flow, "commune", {"county": "gliwicki"}) == ["2405011", "9999999"]
    regions = q.choice_list(q.item("region"))
    assert regions is not None and regions is q.choice_list(q.item("home"))  # one file, one list
    assert regions.get("slaskie").label.get("en") == "Silesian"
    assert regions.get("mazowieckie").label.get("en") == "Mazowieckie"  # the Polish label
    counties = q.choice_list(q.item("county"))
    assert counties is not None
    assert counties.get("warszawski_zachodni").label.get("pl") == "warszawski zachodni, część"
    services = q.choice_list(q.item("services"))
    assert services is not None and services.codes == ("doradztwo", "szkolenia", "zasilki")
    assert services.get("zasilki").label.get("pl") == "Zasiłki"
    communes = q.choice_list(q.item("commune"))
    assert communes is not None and communes.get("2405011").label.get("en") == "Knurów"


def test_a_missing_or_broken_choices_file_is_refused_at_the_row_naming_the_file() -> None:
    missing = load_definition(CORPUS / "differs_choices_file_missing.xlsx")
    assert [p.render().split(": ", 1)[1] for p in missing.errors] == [
        "item place: The file corpus_nowhere.csv is missing: put it beside the workbook, or "
        "upload it together with the workbook."
    ]
    assert (missing.errors[0].location.sheet, missing.errors[0].location.row) == ("survey", 3)
    broken = load_definition(CORPUS / "differs_choices_file_malformed.xlsx")
    assert [p.render().split(": ", 1)[1] for p in broken.errors] == [
        "item place: The choices file corpus_broken.csv, line 3: the row has 4 cells, the header 2."
    ]
    assert broken.errors[0].location.row == 3


def test_now_once_and_uuid_are_kept_with_the_answers_and_times_compare_as_times() -> None:
    flow = _flow("now_once_uuid")
    page = flow.pages(WEB)[0]
    first = datetime(2026, 5, 14, 9, 30, 5, tzinfo=WARSAW)
    fields = {
        "opens": ["08:00"], "closes": ["07:30"], "visit": ["2026-05-14"],
        "booked": ["2026-05-15T07:00"],
    }  # fmt: skip
    refused = flow.validate_page(page, fields, {}, mode=WEB, sample={}, today=TODAY, now=first)
    assert set(refused.errors) == {"closes"}  # 07:30 is not after 08:00
    fields["closes"] = ["16:00"]
    fields["visit"] = ["2026-05-15"]  # after today
    assert set(flow.validate_page(page, fields, {}, mode=WEB, sample={}, today=TODAY).errors) == {
        "visit"
    }
    fields["visit"] = ["2026-05-14"]
    result = flow.validate_page(page, fields, {}, mode=WEB, sample={}, today=TODAY, now=first)
    assert result.ok, result.errors
    answers = result.apply({})
    assert answers["first_saved"] == "2026-05-14T09:30:05" and answers["hour"] == "09"
    assert re.fullmatch(UUID4, answers["response_id"])
    assert re.fullmatch("[A-Za-z0-9]{8}", answers["short_key"])
    later = first + timedelta(hours=5)
    fields["opens"] = ["09:00"]
    again = flow.validate_page(page, fields, answers, mode=WEB, sample={}, today=TODAY, now=later)
    kept = again.apply(answers)
    assert kept["opens"] == time(9, 0)
    for name in ("first_saved", "hour", "response_id", "short_key"):
        assert kept[name] == answers[name]
    # read later (an export): the stored values, not the export's clock
    clean = flow.clean_answers(flow.state(kept, sample={}, today=date(2026, 6, 1)))
    assert (
        clean["first_saved"] == "2026-05-14T09:30:05"
        and clean["response_id"] == kept["response_id"]
    )
