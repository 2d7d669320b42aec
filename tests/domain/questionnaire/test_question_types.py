"""The question types beyond text, numbers, dates and choices: how each is read from YAML
and XLSForm, what a form field must hold, how values are stored, and that the checker
names a bad range's line."""

from __future__ import annotations

import io
import random
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.domain.check_files import run_check
from app.domain.dates import WARSAW
from app.domain.questionnaire.answers import DONT_KNOW, answers_from_json, answers_to_json
from app.domain.questionnaire.flow import PHONE, WEB, Flow, PageResult
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.model import ItemType
from app.domain.questionnaire.synthetic import generate_answers

DEFINITION = Path(__file__).resolve().parents[2] / "support" / "question_types.yaml"
TODAY = date(2026, 3, 31)


@pytest.fixture(scope="module")
def flow() -> Flow:
    result = load_definition(DEFINITION)
    assert result.questionnaire is not None, [str(p) for p in result.problems]
    return Flow(result.questionnaire)


def submit(flow: Flow, name: str, *values: str, mode: str = WEB) -> PageResult:
    """Send ``values`` for question ``name`` on its own page."""
    page = next(p for p in flow.pages(mode) if any(i.name == name for i in p.questions))
    return flow.validate_page(page, {name: list(values)}, {}, mode=mode, sample={}, today=TODAY)


def value(flow: Flow, name: str, *values: str, mode: str = WEB) -> Any:
    result = submit(flow, name, *values, mode=mode)
    assert result.ok, result.errors
    return result.values[name]


def error(flow: Flow, name: str, *values: str) -> str:
    result = submit(flow, name, *values)
    assert not result.ok
    return result.errors[name].msgid


def test_the_types_are_read_from_yaml(flow: Flow) -> None:
    q = flow.questionnaire
    types = {item.name: item.type for item in q.walk()}
    assert types["godzina_otwarcia"] is ItemType.TIME
    assert types["spotkanie"] is ItemType.DATETIME
    assert types["zgoda"] is ItemType.ACKNOWLEDGE
    assert types["wersja_badania"] is ItemType.CALCULATE  # hidden: a value never shown
    assert q.item("ocena").range is not None
    assert (q.item("ocena").range.start, q.item("ocena").range.step) == (0, 2)
    assert q.item("priorytety").list_name == "zadania"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("08:30", time(8, 30)),
        ("8:05", time(8, 5)),
        ("16.45", time(16, 45)),
        ("23:59:30", time(23, 59)),
        ("830", time(8, 30)),  # digits only: the fastest on a keyboard
        ("1745", time(17, 45)),
    ],
)
def test_a_time_is_hours_and_minutes(flow: Flow, typed: str, expected: time) -> None:
    assert value(flow, "godzina_otwarcia", typed) == expected


@pytest.mark.parametrize("typed", ["24:00", "8:60", "osiem", "30", "08:30 rano", "12345"])
def test_a_time_that_is_none_is_refused(flow: Flow, typed: str) -> None:
    assert error(flow, "godzina_otwarcia", typed) == "Enter a time as HH:MM, for example 08:30."


def test_a_datetime_is_warsaw_time_as_poles_write_it(flow: Flow) -> None:
    winter = value(flow, "spotkanie", "15.01.2026 10:30")
    assert winter == datetime(2026, 1, 15, 10, 30, tzinfo=WARSAW)
    assert winter.utcoffset().total_seconds() == 3600
    summer = value(flow, "spotkanie", "2026-07-01T10:30")  # what a datetime-local input sends
    assert summer.utcoffset().total_seconds() == 7200
    # a moment with its offset is the same moment, shown in Warsaw
    assert value(flow, "spotkanie", "2026-07-01T08:30Z") == summer


def test_a_datetime_the_clocks_skip_is_refused_and_a_repeated_one_is_the_first(
    flow: Flow,
) -> None:
    assert error(flow, "spotkanie", "29.03.2026 02:30") == (
        "There is no such time in Poland that day (the clocks go forward)."
    )
    repeated = value(flow, "spotkanie", "25.10.2026 02:30")
    assert repeated.utcoffset().total_seconds() == 7200  # still summer time: the first 2:30


@pytest.mark.parametrize("typed", ["15.01.2026", "32.01.2026 10:00", "15.01.2026 25:00", "x"])
def test_a_datetime_needs_a_day_and_a_time(flow: Flow, typed: str) -> None:
    assert error(flow, "spotkanie", typed) == "Enter a date and time as DD.MM.YYYY HH:MM."


def test_a_range_takes_values_on_its_steps_between_its_bounds(flow: Flow) -> None:
    assert value(flow, "ocena", "4") == 4 and isinstance(value(flow, "ocena", "4"), int)
    assert value(flow, "ocena", "0") == 0
    assert value(flow, "ocena", "10") == 10
    for wrong in ("3", "12", "-2"):
        assert error(flow, "ocena", wrong) == (
            "Choose a value from %(start)s to %(end)s in steps of %(step)s."
        )
    assert error(flow, "ocena", "dużo") == "Enter a number."


def test_a_decimal_range_keeps_decimals() -> None:
    text = """\
settings: {id: t, title: T}
survey:
  - {type: range, name: r, label: R, parameters: "start=0.5 end=2 step=0.5"}
"""
    loaded = load_definition(text.encode(), "r.yaml")
    assert loaded.questionnaire is not None, [str(p) for p in loaded.problems]
    flow = Flow(loaded.questionnaire)
    assert value(flow, "r", "1,5") == Decimal("1.5")
    assert not submit(flow, "r", "1.25").ok


def test_an_acknowledge_is_ok_or_nothing(flow: Flow) -> None:
    assert value(flow, "zgoda", "OK") == "OK"
    assert error(flow, "zgoda", "tak") == "Tick the box to confirm, or leave it empty."
    assert error(flow, "zgoda") == "This question requires an answer."  # an empty box


def test_don_t_know_is_recorded_on_any_new_type_by_phone(flow: Flow) -> None:
    for name in ("godzina_otwarcia", "spotkanie", "ocena", "zgoda", "siedziba", "priorytety"):
        assert value(flow, name, "__dk__", mode=PHONE) is DONT_KNOW


def test_a_geopoint_from_its_four_fields_or_one_text(flow: Flow) -> None:
    assert value(flow, "siedziba", "50,2649", "19,0238", "", "") == "50.2649 19.0238"
    assert value(flow, "siedziba", "50.2649", "19.0238", "270", "12.5") == (
        "50.2649 19.0238 270 12.5"
    )
    assert value(flow, "siedziba", "50.2649 19.0238 270 12.5") == "50.2649 19.0238 270 12.5"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (["50.1", "", "", ""], "Enter both the latitude and the longitude."),
        (["", "19.2", "", ""], "Enter both the latitude and the longitude."),
        (["91", "19.2", "", ""], "The latitude must be a number from -90 to 90."),
        (["50", "181", "", ""], "The longitude must be a number from -180 to 180."),
        (["50", "19", "wysoko", ""], "The altitude must be a number of metres."),
        (["50", "19", "", "-3"], "The accuracy must be a number of metres, 0 or more."),
        (
            ["50", "19", "", "", "__dk__"],
            "Don't know or refused cannot be combined with another answer.",
        ),
    ],
)
def test_a_geopoint_out_of_range_is_refused(flow: Flow, fields: list[str], message: str) -> None:
    result = submit(flow, "siedziba", *fields, mode=PHONE)
    assert result.errors["siedziba"].msgid == message


def test_a_line_needs_two_points_and_a_shape_closes(flow: Flow) -> None:
    assert value(flow, "trasa", "50.1 19.1\n50.2 19.2") == "50.1 19.1;50.2 19.2"
    assert error(flow, "trasa", "50.1 19.1") == "A line needs at least 2 points, one a line."
    # the closing point may be left out: the shape is closed for the respondent
    assert value(flow, "teren", "50 19\n50.1 19\n50.1 19.1") == "50 19;50.1 19;50.1 19.1;50 19"
    assert value(flow, "teren", "50 19;50.1 19;50.1 19.1;50 19") == "50 19;50.1 19;50.1 19.1;50 19"
    assert error(flow, "teren", "50 19\n50.1 19\n50 19") == (
        "A shape needs at least 3 different points, one a line."
    )
    assert error(flow, "teren", "50 19\n95 19\n50.1 19.1") == "Point %(number)d: %(problem)s"


def test_a_rank_gives_every_choice_a_different_rank(flow: Flow) -> None:
    assert value(flow, "priorytety", "2:szkolenia", "1:doradztwo", "3:promocja") == (
        "doradztwo",
        "szkolenia",
        "promocja",
    )
    assert error(flow, "priorytety", "1:szkolenia", "1:doradztwo", "3:promocja") == (
        "Give each rank to one answer only."
    )
    assert error(flow, "priorytety", "1:szkolenia", "2:doradztwo") == "Give every answer a rank."
    assert error(flow, "priorytety", "1:szkolenia", "2:inne", "3:promocja") == (
        "Choose one of the listed answers."
    )


def test_values_of_every_type_survive_storage(flow: Flow) -> None:
    for seed in range(6):
        generated = generate_answers(
            flow, sample={}, today=TODAY, rng=random.Random(seed), mode=PHONE
        )
        assert generated.complete
        stored = answers_to_json(flow.questionnaire, generated.answers)
        assert answers_from_json(flow.questionnaire, stored, flow.variables) == generated.answers
        state = flow.state(generated.answers, sample={}, today=TODAY)
        assert flow.problems(state) == {}
        assert flow.clean_answers(state)["wersja_badania"] == "2026-A"


def test_stored_values_keep_their_zone_and_refuse_what_does_not_fit(flow: Flow) -> None:
    q = flow.questionnaire
    moment = datetime(2026, 7, 1, 10, 30, tzinfo=WARSAW)
    stored = answers_to_json(q, {"spotkanie": moment, "godzina_otwarcia": time(8, 5)})
    assert stored == {"spotkanie": "2026-07-01T10:30+02:00", "godzina_otwarcia": "08:05"}
    read = answers_from_json(
        q,
        {
            "spotkanie": "2026-07-01T08:30+00:00",
            "ocena": 3,  # off the range's steps
            "siedziba": "gdzieś",
            "priorytety": ["szkolenia", "inne"],  # a code the list does not have
        },
    )
    assert read["spotkanie"] == moment and read["spotkanie"].tzinfo is WARSAW
    assert set(read["@aside"]) == {"ocena", "siedziba", "priorytety"}


def _check(directory: Path, survey: str) -> list[str]:
    text = "settings:\n  id: t\n  title: T\nsurvey:\n" + survey
    (directory / "q.yaml").write_text(text, encoding="utf-8")
    out = io.StringIO()
    assert run_check(["q.yaml"], out) == 1
    return out.getvalue().splitlines()


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ("{start: 0, end: 10, step: 0}", "The step of a range must be more than 0."),
        ("{start: 10, end: 0}", "The start of a range (10) is more than its end (0)."),
        (
            "{start: 0, end: 10, step: 3}",
            "The end of a range (10) must be a whole number of steps (3) from its start (0).",
        ),
        ("{start: 0, stop: 5}", "Unknown parameter stop: a range takes start, end and step."),
        ("{start: zero}", "The parameter start must be a number, not zero."),
        ('"start=0 end"', "Write parameters as start=0 end=10 step=1, not end."),
    ],
)
def test_the_checker_names_the_line_of_a_bad_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parameters: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    survey = f"  - type: range\n    name: r\n    label: R\n    parameters: {parameters}\n"
    assert _check(tmp_path, survey) == [f"q.yaml:8: item r: {message}"]


def test_the_checker_refuses_parameters_on_other_types_and_a_hidden_without_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    survey = (
        "  - {type: integer, name: n, label: N, parameters: {start: 1}}\n"
        "  - {type: hidden, name: h}\n"
        "  - {type: trigerr, name: t, label: T}\n"
    )
    assert _check(tmp_path, survey) == [
        "q.yaml:5: item n: The key parameters does not apply to integer items.",
        "q.yaml:6: item h: A hidden item needs a default or a calculation.",
        "q.yaml:7: item t: Unknown type trigerr (did you mean trigger?).",
    ]


def _workbook(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label", "parameters", "default"])
    for row in rows:
        sheet.append(row)
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label"])
    choices.append(["zadania", "a", "A"])
    choices.append(["zadania", "b", "B"])
    settings = book.create_sheet("settings")
    settings.append(["form_id", "form_title"])
    settings.append(["typy", "Typy"])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def test_xlsform_names_map_to_the_same_types() -> None:
    rows = [
        ["time", "t", "T"],
        ["dateTime", "dt", "DT"],
        ["range", "r", "R", "start=1 end=5 step=1"],
        ["acknowledge", "a", "A"],
        ["trigger", "tr", "TR"],
        ["barcode", "b", "B"],
        ["hidden", "h", None, None, "x"],
        ["geopoint", "g", "G"],
        ["geotrace", "gt", "GT"],
        ["geoshape", "gs", "GS"],
        ["rank zadania", "rk", "RK"],
    ]
    loaded = load_definition(_workbook(rows), "typy.xlsx")
    assert loaded.questionnaire is not None, [str(p) for p in loaded.problems]
    assert loaded.problems == []
    types = {item.name: item.type.value for item in loaded.questionnaire.walk()}
    assert types == {
        "t": "time",
        "dt": "datetime",
        "r": "range",
        "a": "acknowledge",
        "tr": "acknowledge",
        "b": "barcode",
        "h": "calculate",
        "g": "geopoint",
        "gt": "geotrace",
        "gs": "geoshape",
        "rk": "rank",
    }
    spec = loaded.questionnaire.item("r").range
    assert spec is not None and (spec.start, spec.end, spec.step) == (1, 5, 1)


def test_an_xlsform_range_reversed_is_refused_at_its_row() -> None:
    loaded = load_definition(_workbook([["range", "r", "R", "start=5 end=0"]]), "t.xlsx")
    assert [str(p) for p in loaded.problems if p.is_error] == [
        "t.xlsx:survey:2: item r: The start of a range (5) is more than its end (0)."
    ]


def test_a_geopoint_left_empty_with_don_t_know_ticked_is_don_t_know(flow: Flow) -> None:
    assert value(flow, "siedziba", "", "", "", "", "__dk__", mode=PHONE) is DONT_KNOW
    assert submit(flow, "siedziba", "", "", "", "").values.get("siedziba") is None


def test_expressions_see_a_time_as_hh_mm_and_a_moment_as_its_day() -> None:
    text = """\
settings: {id: t, title: T, paging: item}
survey:
  - type: time
    name: od
    label: Od
    constraint: "regex(., '^(0[7-9]|1[0-9]):')"
  - type: datetime
    name: kiedy
    label: Kiedy
    constraint: ". <= today()"
  - type: hidden
    name: rano
    calculation: "if(${od} = '08:15', 'kwadrans po ósmej', 'inna')"
"""
    loaded = load_definition(text.encode(), "t.yaml")
    assert loaded.questionnaire is not None, [str(p) for p in loaded.problems]
    flow = Flow(loaded.questionnaire)
    assert submit(flow, "od", "6:45").errors["od"].msgid == "This answer is not allowed."
    assert submit(flow, "kiedy", "01.04.2026 10:00").errors["kiedy"].msgid == (
        "This answer is not allowed."
    )
    answers = {"od": value(flow, "od", "8.15"), "kiedy": value(flow, "kiedy", "31.03.2026 23:00")}
    state = flow.state(answers, sample={}, today=TODAY)
    assert flow.clean_answers(state)["rano"] == "kwadrans po ósmej"
