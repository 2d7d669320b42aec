"""The response workbook's Calls and Dispositions sheets, with real telephone calls.

Seven institutions of the export test survey are called by two interviewers through the CATI
services (``start_call`` / ``finish_call``), one interview is completed by phone through the
respondent services (as the phone interview screens do), and another institution starts the
web form. The workbook comes from ``ankieta export``; every call, count and rate in it is
compared with values worked out by hand below, the rates also with ``rates_for`` (what the
supervisor's screen uses) and with the supervisor's screen itself.

The calls (times UTC; Warsaw is UTC+1 in March) and what they leave::

    A-01  07:00 anna no answer; 09:25 Bartosz dials again, still on the line   -> 3.13
    B-02  07:05 Bartosz fax (1st number); 07:30 hard refusal on the 2nd number -> 2.112
    C-03  07:10 anna appointment for tomorrow                                  -> 2.21
    D-04  07:20 anna no answer; 08:00 Bartosz completes the interview by phone -> 1.1
    E-05  never called; the institution has started the web form              -> 3.11
    F-06  07:40 Bartosz no answer                                              -> 3.13
    G-07  08:40 anna institution closed down                                   -> 4.51

anna has no full name (the sheets show her user name); Bartosz has one.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import select

from app.cati.services import AppointmentRequest, finish_call, start_call
from app.domain.fieldwork.aapor import FORMULAS
from app.domain.outputs.words import POLISH
from app.fieldwork import services as fieldwork_services
from app.interview.service import Interview, save_page, start_unit_response, submit
from app.models.calling import outcomes_of, rates_for
from app.models.cati import Case
from app.models.fieldwork import Fieldwork, SampleUnit
from app.models.users import Role
from app.surveys import services as survey_services
from tests.support.calls import add_interviewer, cell, percent
from tests.support.exports import DEFINITION, english_column, sheet_rows

HOSTILE_NOTE = '=HYPERLINK("http://evil.example","x")'
APPOINTMENT_NOTE = "Oddzwonić do p. Żółkiewskiej – „najlepiej po 10:00”"
CLOSED_NOTE = "Zlikwidowana w 2025 r.; potwierdził Urząd Gminy w Zabrzu"

SAMPLE = """\
external_id;name;entity_type;subregion;gmina;phone;phone_2
A-01;Centrum Integracji Społecznej w Gliwicach;CIS;centralny;Gliwice;032 123 45 67;
B-02;Klub Integracji Społecznej w Żorach;KIS;południowy;Żory;032 234 56 78;+48 601 234 567
C-03;Spółdzielnia Socjalna „Łąka” w Rybniku;PS;zachodni;Rybnik;032 345 67 89;
D-04;Gmina Łódź;JST;centralny;Łódź;042 638 40 00;
E-05;Stowarzyszenie „Ćma” w Bytomiu;OWES;centralny;Bytom;032 456 78 90;
F-06;Fundacja Źródło w Tychach;OWES;centralny;Tychy;032 567 89 01;
G-07;Centrum Integracji Społecznej w Zabrzu;CIS;centralny;Zabrze;032 678 90 12;
"""
NAMES = {line.split(";")[0]: line.split(";")[1] for line in SAMPLE.splitlines()[1:] if line.strip()}

MONDAY = datetime(2026, 3, 16, tzinfo=UTC)  # the clock fixture's Monday (09:30 UTC)
ANNA, BARTOSZ = "anna", "Bartosz Wiśniewski"  # as the sheets name them


def _utc(hour: int, minute: int) -> datetime:
    return MONDAY.replace(hour=hour, minute=minute)


def _warsaw(hour: int, minute: int) -> datetime:
    """The naive Warsaw wall time Excel shows for a UTC moment on that Monday (CET)."""
    return datetime(2026, 3, 16, hour + 1, minute)


@dataclass(frozen=True)
class ExpectedCall:
    external_id: str
    interviewer: str
    number: str  # as stored: spaces removed, leading zero or plus kept
    started: datetime  # UTC
    minutes: int | None  # None: still under way
    outcome: str | None
    label_pl: str | None
    label_en: str | None
    aapor: str | None
    note: str  # "" when the interviewer wrote none


# every call in the order it was made (the order of the Calls sheet), worked out by hand
CALLS = [
    ExpectedCall(
        "A-01", ANNA, "0321234567", _utc(7, 0), 1, "no_answer", "Brak odpowiedzi", "No answer",
        "3.13", "",
    ),
    ExpectedCall(
        "B-02", BARTOSZ, "0322345678", _utc(7, 5), 1, "fax", "Faks / modem", "Fax or data line",
        "4.20", "",
    ),
    ExpectedCall(
        "C-03", ANNA, "0323456789", _utc(7, 10), 4, "appointment", "Umówiony termin",
        "Appointment made", "2.21", APPOINTMENT_NOTE,
    ),
    ExpectedCall(
        "D-04", ANNA, "0426384000", _utc(7, 20), 1, "no_answer", "Brak odpowiedzi", "No answer",
        "3.13", "",
    ),
    ExpectedCall(
        "B-02", BARTOSZ, "+48601234567", _utc(7, 30), 5, "hard_refusal", "Odmowa stanowcza",
        "Hard refusal", "2.112", HOSTILE_NOTE,
    ),
    ExpectedCall(
        "F-06", BARTOSZ, "0325678901", _utc(7, 40), 1, "no_answer", "Brak odpowiedzi",
        "No answer", "3.13", "",
    ),
    ExpectedCall(
        "D-04", BARTOSZ, "0426384000", _utc(8, 0), 25, "complete", "Wywiad zakończony",
        "Interview completed", "1.1", "",
    ),
    ExpectedCall(
        "G-07", ANNA, "0326789012", _utc(8, 40), 3, "institution_closed",
        "Instytucja zlikwidowana", "Institution closed down", "4.51", CLOSED_NOTE,
    ),
    ExpectedCall(
        "A-01", BARTOSZ, "0321234567", _utc(9, 25), None, None, None, None, None, "",
    ),
]  # fmt: skip

# each case's disposition (AAPOR code, outcome behind it), by the rules of
# app.domain.fieldwork.outcomes
DISPOSITIONS = {
    "A-01": ("3.13", "no_answer"),  # the call under way has no outcome yet
    "B-02": ("2.112", "hard_refusal"),  # the fax ruled out the first number only
    "C-03": ("2.21", "appointment"),
    "D-04": ("1.1", "complete"),  # by phone: not "completed online"
    "E-05": ("3.11", None),  # a web form started is not a call
    "F-06": ("3.13", "no_answer"),
    "G-07": ("4.51", "institution_closed"),
}
LABELS = {  # outcome code -> (Polish, English)
    call.outcome: (call.label_pl, call.label_en) for call in CALLS if call.outcome is not None
}
# I = D; R = B; NC = C; UH = A, E, F; NE = G. e = eligible / resolved = 3 / 4.
RATES_BY_HAND = {
    "RR1": Fraction(1, 6),  # 1 / (1 + 2 + 3)
    "RR2": Fraction(1, 6),
    "RR3": Fraction(4, 21),  # 1 / (3 + 3/4 * 3)
    "RR4": Fraction(4, 21),
    "RR5": Fraction(1, 3),
    "RR6": Fraction(1, 3),
    "COOP1": Fraction(1, 2),  # 1 / (1 + 1 + 0)
    "COOP2": Fraction(1, 2),
    "COOP3": Fraction(1, 2),
    "COOP4": Fraction(1, 2),
    "REF1": Fraction(1, 6),
    "REF2": Fraction(4, 21),
    "REF3": Fraction(1, 3),
    "CON1": Fraction(1, 3),  # 2 / (2 + 1 + 3)
    "CON2": Fraction(8, 21),  # 2 / (2 + 1 + 9/4)
    "CON3": Fraction(2, 3),
    "e": Fraction(3, 4),
}


@dataclass
class Called:
    fieldwork_id: int
    response_ids: dict[str, int]  # external id -> response id


@pytest.fixture
def called(app: Flask, clock, make_user, join_team, tmp_path: Path) -> Called:
    """The fieldwork, calls and responses of the module's table."""
    definition = tmp_path / "eksport_test.yaml"
    definition.write_text(DEFINITION % {"version": "1", "added": ""}, encoding="utf-8")
    database = app.extensions["ankieta.db"]
    with database.session() as session:
        loaded = survey_services.load_file(session, definition)
        assert loaded.ok, [str(p) for p in loaded.problems]
        fieldwork = fieldwork_services.create_fieldwork(session, "eksport_test", "Telefony 2026")
        imported = fieldwork_services.import_sample(
            session, fieldwork, SAMPLE.encode("utf-8"), "sample.csv", now=clock()
        )
        assert imported.ok, [p.render() for p in imported.problems]
        fieldwork.open(clock())
        fieldwork_id = fieldwork.id
    anna = make_user("anna", Role.INTERVIEWER).id
    bartosz = add_interviewer(app, "bartosz", BARTOSZ)
    join_team(fieldwork_id, anna, bartosz)
    ids = {ANNA: anna, BARTOSZ: bartosz}
    # recorded interviewer by interviewer, so the calls' ids are not in the order of time
    order = sorted(range(len(CALLS)), key=lambda i: (CALLS[i].interviewer != ANNA, i))
    response_ids: dict[str, int] = {}
    for index in order:
        expected = CALLS[index]
        with database.session() as session:
            fieldwork = session.get(Fieldwork, fieldwork_id)
            case = session.scalar(
                select(Case)
                .join(SampleUnit, Case.sample_unit_id == SampleUnit.id)
                .where(Case.fieldwork_id == fieldwork_id)
                .where(SampleUnit.external_id == expected.external_id)
            )
            phone = next(p for p in case.sample_unit.phones if p.number == expected.number)
            interviewer = ids[expected.interviewer]
            call = start_call(session, case, interviewer, phone, expected.started)
            if expected.minutes is None:
                continue  # still on the line
            ended = expected.started + timedelta(minutes=expected.minutes)
            if expected.outcome == "complete":
                response_ids[expected.external_id] = _interview_by_phone(
                    session, case, interviewer, expected.started, ended
                )
            outcome = next(o for o in outcomes_of(session, fieldwork) if o.code == expected.outcome)
            appointment = None
            if expected.outcome == "appointment":
                appointment = AppointmentRequest(_utc(9, 0) + timedelta(days=1), None, True)
            finish_call(
                session,
                case,
                call,
                outcome,
                interviewer_id=interviewer,
                note=expected.note,
                now=ended,
                appointment=appointment,
            )
    with database.session() as session:  # E-05 starts the web form and stops on page one
        unit = session.scalar(select(SampleUnit).where(SampleUnit.external_id == "E-05"))
        response = start_unit_response(session, unit, _utc(9, 0))
        interview = Interview.of(response, _utc(9, 0))
        save_page(
            session,
            interview,
            {"nazwa": "Ćma", "liczba": 2},
            expected_revision=response.revision,
            last_page=interview.flow.pages("web")[0].id,
            now=_utc(9, 0),
        )
        session.flush()
        response_ids["E-05"] = response.id
    with database.session() as session:  # the services left what the table says
        found = {
            unit: (code, outcome)
            for unit, code, outcome in session.execute(
                select(SampleUnit.external_id, Case.disposition_code, Case.disposition_outcome_id)
                .join(Case, Case.sample_unit_id == SampleUnit.id)
                .where(Case.fieldwork_id == fieldwork_id)
            )
        }
        codes = {o.id: o.code for o in outcomes_of(session, session.get(Fieldwork, fieldwork_id))}
        assert {unit: (code, codes.get(o)) for unit, (code, o) in found.items()} == DISPOSITIONS
    return Called(fieldwork_id, response_ids)


def _interview_by_phone(session, case: Case, interviewer: int, start, end) -> int:
    """What the phone interview screens do: answer the pages, then submit (before the call ends)."""
    unit = case.sample_unit
    response = start_unit_response(session, unit, start)
    session.flush()
    interview = Interview.of(response, start)
    revision = response.revision
    save_page(
        session,
        interview,
        {"nazwa": "Urząd Miasta Łodzi", "kod": "0042", "liczba": 4, "filtr": "2"},
        expected_revision=revision,
        last_page=interview.flow.pages("phone")[-1].id,
        now=start + timedelta(minutes=20),
        mode="phone",
        user_id=interviewer,
    )
    assert submit(session, interview, expected_revision=revision + 1, now=end, mode="phone")
    return response.id


def _export(runner, fieldwork_id: int, path: Path, *options: str) -> openpyxl.Workbook:
    result = runner.invoke(args=["export", str(fieldwork_id), "-o", str(path), *options])
    assert result.exit_code == 0, result.output
    return openpyxl.load_workbook(path)


def _split_dispositions(ws) -> tuple[list[tuple], list[tuple]]:
    """The Dispositions sheet's counts and its rates (a blank row and a header between)."""
    rows = list(ws.iter_rows(values_only=True))
    english = ws.title == "Dispositions"
    assert rows[0] == (
        ("aapor_code", "outcome_code", "outcome_label", "cases")
        if english
        else ("kod_aapor", "kod_wyniku", "wynik", "przypadki")
    )
    blank = rows.index((None, None, None, None))
    assert rows[blank + 1] == (
        ("rate", "value", "formula", None) if english else ("wskaźnik", "wartość", "wzór", None)
    )
    return rows[1:blank], [row[:3] for row in rows[blank + 2 :]]


# --- Calls ---------------------------------------------------------------------------------


def test_calls_sheet_has_every_call_in_order_with_typed_cells(app, runner, called, tmp_path):
    book = _export(runner, called.fieldwork_id, tmp_path / "calls.xlsx")
    ws = book["Połączenia"]
    header = [english_column(c.value) for c in ws[1]]
    assert [c.value for c in ws[1]] == [
        "id_zewnętrzne",
        "instytucja",
        "ankieter",
        "numer",
        "rozpoczęto",
        "zakończono",
        "kod_wyniku",
        "wynik",
        "kod_aapor",
        "notatka",
    ]
    assert header == [
        "external_id",
        "institution",
        "interviewer",
        "number",
        "started",
        "ended",
        "outcome_code",
        "outcome_label",
        "aapor_code",
        "note",
    ]
    assert ws.max_row == 1 + len(CALLS)  # one row per call, nothing else
    rows = [dict(zip(header, row, strict=True)) for row in ws.iter_rows(min_row=2)]
    assert [r["external_id"].value for r in rows] == [c.external_id for c in CALLS]
    for number, (row, expected) in enumerate(zip(rows, CALLS, strict=True), start=2):
        where = f"Calls row {number}"
        values = {name: c.value for name, c in row.items()}
        values["note"] = values["note"] or ""  # no note: an empty cell or empty text
        ended = (
            None
            if expected.minutes is None
            else _warsaw(expected.started.hour, expected.started.minute)
            + timedelta(minutes=expected.minutes)
        )
        assert values == {
            "external_id": expected.external_id,
            "institution": NAMES[expected.external_id],
            "interviewer": expected.interviewer,
            "number": expected.number,
            "started": _warsaw(expected.started.hour, expected.started.minute),
            "ended": ended,
            "outcome_code": expected.outcome,
            "outcome_label": expected.label_pl,  # the survey's language (pl) by default
            "aapor_code": expected.aapor,
            "note": expected.note,
        }, where
        for name in ("external_id", "institution", "interviewer", "number"):
            assert row[name].data_type == "s", (where, name)  # text: "032..." keeps its zero
        for name in ("started", "ended"):
            if row[name].value is not None:  # Excel dates, not text
                assert row[name].is_date and isinstance(row[name].value, datetime), (where, name)
                assert row[name].number_format == "dd.mm.yyyy hh:mm", (where, name)
        if expected.note:
            assert row["note"].data_type == "s", where
    for ws_any in book.worksheets:
        for cells in ws_any.iter_rows():
            for c in cells:
                assert c.data_type != "f", (ws_any.title, c.coordinate, c.value)
                assert c.hyperlink is None, (ws_any.title, c.coordinate)
    # the hostile note is there, as the very text the interviewer typed
    hostile = [r["note"] for r in rows if r["note"].value == HOSTILE_NOTE]
    assert len(hostile) == 1 and hostile[0].data_type == "s"


def test_calls_and_dispositions_in_english(app, runner, called, tmp_path):
    book = _export(runner, called.fieldwork_id, tmp_path / "en.xlsx", "--lang", "en")
    assert book.sheetnames == [
        "Responses",
        "Codebook",
        "Choices",
        "Calls",
        "Dispositions",
        "Contacts",
    ]
    labels = [row[7] for row in book["Calls"].iter_rows(min_row=2, values_only=True)]
    assert labels == [c.label_en for c in CALLS]
    counts, _rates = _split_dispositions(book["Dispositions"])
    in_order = sorted(set(DISPOSITIONS.values()))
    expected = [(code, LABELS[code][1] if code else None) for _aapor, code in in_order]
    assert [(code, label) for _aapor, code, label, _n in counts] == expected
    assert ("no_answer", "No answer") in expected and (
        "complete",
        "Interview completed",
    ) in expected


# --- Dispositions ----------------------------------------------------------------------------


def test_dispositions_sheet_counts_and_rates_equal_hand_computed_and_supervisor(
    app, runner, client, login_as, called, tmp_path
):
    book = _export(runner, called.fieldwork_id, tmp_path / "dispositions.xlsx")
    counts, rates = _split_dispositions(book["Wyniki końcowe"])

    by_hand = Counter(DISPOSITIONS.values())
    expected_counts = [
        (aapor, code, LABELS[code][0] if code else None, n)
        for (aapor, code), n in sorted(by_hand.items(), key=lambda item: item[0][0])
    ]
    assert counts == expected_counts
    assert counts == [
        ("1.1", "complete", "Wywiad zakończony", 1),
        ("2.112", "hard_refusal", "Odmowa stanowcza", 1),
        ("2.21", "appointment", "Umówiony termin", 1),
        ("3.11", None, None, 1),
        ("3.13", "no_answer", "Brak odpowiedzi", 2),
        ("4.51", "institution_closed", "Instytucja zlikwidowana", 1),
    ]
    assert sum(n for *_, n in counts) == len(NAMES)

    # the rates: by hand, and as the supervisor's screen computes them
    assert [name for name, _value, _formula in rates] == [*FORMULAS, "e"]
    for name, value, _formula in rates:
        assert value == pytest.approx(float(RATES_BY_HAND[name]), rel=1e-12), name
    with app.extensions["ankieta.db"].session() as session:
        supervisor_rates = rates_for(session, session.get(Fieldwork, called.fieldwork_id))
    expected_rows = supervisor_rates.as_rows()
    assert [(n, POLISH.value(f)) for n, _v, f in expected_rows] == [(n, f) for n, _v, f in rates]
    for (name, value, _f), (_n, expected, _ef) in zip(rates, expected_rows, strict=True):
        # Excel keeps 15-16 significant digits (XlsxWriter writes %.16G)
        assert value == pytest.approx(expected, rel=1e-12), name

    # ... and as the supervisor's screen shows them
    login_as(Role.SUPERVISOR)
    body = client.get(f"/supervise/{called.fieldwork_id}").get_data(as_text=True)
    shown_counts = re.findall(
        r'<tr data-code="([\d.]+)" data-outcome="([a-z_]*)">.*?<a [^>]*>(\d+)</a>', body, re.S
    )
    assert shown_counts == [(aapor, code or "", str(n)) for aapor, code, _label, n in counts]
    for group, n in {"I": 1, "P": 0, "R": 1, "NC": 1, "O": 0, "UH": 3, "UO": 0, "NE": 1}.items():
        assert cell(body, f"count-{group}") == str(n), group
    for name, value, _formula in rates[:-1]:
        assert cell(body, f"rate-{name}") == percent(value), name
    assert "e = 0,750" in re.sub(r"<[^>]+>", "", body)


# --- Responses ---------------------------------------------------------------------------------


def test_responses_sheet_names_the_interviewer_who_completed_the_phone_interview(
    app, runner, called, tmp_path
):
    path = tmp_path / "responses.xlsx"
    _export(runner, called.fieldwork_id, path)
    rows = {row["external_id"]: row for row in sheet_rows(path)}
    assert set(rows) == {"D-04", "E-05"}
    by_phone, online = rows["D-04"], rows["E-05"]
    assert by_phone["response_id"] == called.response_ids["D-04"]
    assert (by_phone["mode"], by_phone["status"]) == ("telefon", "kompletna")
    # anna called D-04 first; Bartosz completed the interview
    assert by_phone["interviewer"] == BARTOSZ
    assert by_phone["started"] == _warsaw(8, 0)
    assert by_phone["completed"] == _warsaw(8, 25)
    assert by_phone["duration_minutes"] == 25
    assert (by_phone["nazwa"], by_phone["kod"], by_phone["liczba"]) == (
        "Urząd Miasta Łodzi",
        "0042",
        4,
    )
    assert online["response_id"] == called.response_ids["E-05"]
    assert (online["mode"], online["status"]) == ("internet", "częściowa")
    assert online["interviewer"] is None  # nobody ever called E-05
