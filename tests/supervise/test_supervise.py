"""The supervisor's screens for telephone fieldwork: live figures, settings, case actions, log.

A small data set (six institutions, two interviewers, calls made through the CATI services)
is shown on the fieldwork's screen; every figure is compared with a hand-computed one, and
the rates also with ``app.domain.fieldwork.aapor.rates`` on the same counts. Every action changes
what it should and logs a SupervisorAction; refused input answers 400 and changes nothing.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from flask_babel import force_locale
from flask_babel import gettext as babel_gettext
from sqlalchemy import func, select

from app.cati.queue import claim_next
from app.cati.services import AppointmentRequest, start_call
from app.domain.fieldwork import aapor
from app.domain.fieldwork.calling_hours import CallingHours, CallingHoursError
from app.models.calling import outcomes_of
from app.models.cati import Call, Case, SupervisorAction
from app.models.fieldwork import Fieldwork
from app.models.users import Role, User
from tests.support import database, page_text
from tests.support.calls import (
    MORNING,
    UNITS,
    add_interviewer,
    case_id_of,
    cell,
    figures,
    make_call,
    percent,
    row_html,
)

# --- helpers ----------------------------------------------------------------------------------


def actions(app, fieldwork_id: int) -> list[SupervisorAction]:
    with database(app).session() as session:
        return list(
            session.scalars(
                select(SupervisorAction)
                .where(SupervisorAction.fieldwork_id == fieldwork_id)
                .order_by(SupervisorAction.id)
            )
        )


def fieldwork_settings(app, fieldwork_id: int) -> tuple:
    with database(app).session() as session:
        fw = session.get(Fieldwork, fieldwork_id)
        return fw.calling_hours, fw.attempt_limit, fw.claim_timeout_minutes, fw.aapor_e


def case_state(app, case_id: int) -> dict:
    with database(app).session() as session:
        case = session.get(Case, case_id)
        return {
            "priority": case.priority,
            "queue_rank": case.queue_rank,
            "assigned": case.assigned_interviewer_id,
            "claimed_by": case.claimed_by_id,
            "excluded": case.excluded,
            "is_final": case.is_final,
            "code": case.disposition_code,
            "outcome": case.disposition_outcome.code if case.disposition_outcome else None,
            "attempts": case.attempts,
            "next_callable_at": case.next_callable_at,
        }


# --- the screens ------------------------------------------------------------------------------


def test_supervisor_finds_telephone_fieldwork_in_the_menu_and_the_list(
    app, client, make_fieldwork, supervisor
):
    fieldwork_id = make_fieldwork(units=UNITS, title="Monitoring KIS 2026")
    home = client.get("/")
    assert 'href="/supervise/"' in home.get_data(as_text=True)
    listing = client.get("/supervise/")
    assert listing.status_code == 200
    row = row_html(listing.get_data(as_text=True), f"fieldwork-{fieldwork_id}")
    assert "Monitoring KIS 2026" in row
    assert f'href="/supervise/{fieldwork_id}"' in row
    assert re.findall(r'class="num">(\d+)<', row) == ["6", "0", "0"]  # cases, final, excluded


def test_dispositions_and_appointments_match_the_calls(
    app, client, fieldwork_with_calls, supervisor
):
    data = fieldwork_with_calls
    body = client.get(f"/supervise/{data['fieldwork']}").get_data(as_text=True)
    rows = re.findall(
        r'<tr data-code="([\d.]+)" data-outcome="([a-z_]*)">.*?<a [^>]*>(\d+)</a>', body, re.S
    )
    assert rows == [
        ("1.1", "complete", "1"),
        ("2.112", "hard_refusal", "1"),
        ("2.21", "appointment", "1"),
        ("3.11", "", "1"),
        ("3.13", "no_answer", "1"),
        ("4.51", "institution_closed", "1"),
    ]
    assert cell(body, "dispositions-total") == "6"
    text = page_text(client.get(f"/supervise/{data['fieldwork']}"))
    assert "Wywiad zakończony" in text and "Instytucja zlikwidowana" in text  # Polish labels
    # the appointment: Warsaw time, institution, with whom, bound to nobody
    match = re.search(r'<table id="appointments">.*?</table>', body, re.S)
    assert match
    table = page_text_of(match.group(0))
    assert "17.03.2026 10:00–10:30" in table
    assert "Klub Integracji Społecznej w Tychach" in table
    assert "Pani Kowalska, kierownik" in table
    with app.test_request_context(), force_locale("pl"):
        assert babel_gettext("anyone") in table


def page_text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))).strip()


def test_appointments_beyond_seven_days_are_not_listed(app, client, make_fieldwork, supervisor):
    fieldwork_id = make_fieldwork(units=UNITS[:2])
    anna = add_interviewer(app, "anna", "Anna Nowak")
    far = datetime(2026, 3, 24, 9, 0, tzinfo=UTC)  # eight days after the clock's Monday
    make_call(
        app,
        case_id_of(app, fieldwork_id, "A-01"),
        anna,
        "appointment",
        MORNING,
        3,
        appointment=AppointmentRequest(starts_at=far, ends_at=None, for_me=True),
    )
    body = client.get(f"/supervise/{fieldwork_id}").get_data(as_text=True)
    assert 'id="appointments"' not in body


def test_rates_and_counts_equal_hand_computed_and_the_domain(
    app, client, fieldwork_with_calls, supervisor
):
    body = client.get(f"/supervise/{fieldwork_with_calls['fieldwork']}").get_data(as_text=True)
    expected_counts = {"I": 1, "P": 0, "R": 1, "NC": 1, "O": 0, "UH": 2, "UO": 0, "NE": 1}
    for name, n in expected_counts.items():
        assert cell(body, f"count-{name}") == str(n), name
    assert cell(body, "count-total") == "6"
    # e estimated from the resolved cases: eligible 3 (I, R, NC) of 4 resolved (+ NE)
    assert "0,750" in page_text_of(re.search(r'<p id="e-value">.*?</p>', body, re.S).group(0))
    # by hand: I=1, eligible I+P+R+NC+O = 3, unknown 2, e = 3/4
    by_hand = {
        "RR1": "20,0%",  # 1/5
        "RR2": "20,0%",
        "RR3": "22,2%",  # 1/(3 + 0.75*2) = 1/4.5
        "RR5": "33,3%",  # 1/3
        "COOP1": "50,0%",  # 1/(1 + 1)
        "COOP3": "50,0%",
        "REF1": "20,0%",  # 1/5
        "REF2": "22,2%",
        "REF3": "33,3%",
        "CON1": "40,0%",  # 2/(2 + 1 + 2)
        "CON2": "44,4%",  # 2/(3 + 1.5)
        "CON3": "66,7%",  # 2/3
    }
    for name, shown in by_hand.items():
        assert cell(body, f"rate-{name}") == shown, name
    domain = aapor.rates(aapor.DispositionCounts(**expected_counts))
    for name in aapor.FORMULAS:
        assert cell(body, f"rate-{name}") == percent(getattr(domain, name)), name


def test_rates_with_zero_denominators_show_a_dash(app, client, make_fieldwork, supervisor):
    fieldwork_id = make_fieldwork(units=UNITS[:3])  # nobody called yet: three 3.11 cases
    body = client.get(f"/supervise/{fieldwork_id}").get_data(as_text=True)
    assert cell(body, "count-UH") == "3"
    for name in ("RR1", "RR2", "REF1", "CON1"):  # denominator UH+UO = 3
        assert cell(body, f"rate-{name}") == "0,0%", name
    for name in ("RR3", "RR4", "RR5", "RR6", "COOP1", "COOP2", "COOP3", "COOP4"):
        assert cell(body, f"rate-{name}") == "—", name
    for name in ("REF2", "REF3", "CON2", "CON3"):
        assert cell(body, f"rate-{name}") == "—", name
    e_text = page_text_of(re.search(r'<p id="e-value">.*?</p>', body, re.S).group(0))
    assert e_text.startswith("e = —")


def test_interviewer_figures_match_hand_computed(app, client, fieldwork_with_calls, supervisor):
    data = fieldwork_with_calls
    body = client.get(f"/supervise/{data['fieldwork']}").get_data(as_text=True)
    assert "Anna Nowak" in row_html(body, f"interviewer-{data['anna']}")
    # Anna: 3 calls, 2 contacts (complete, refusal), 1 complete, 2+20+5 = 27 minutes
    assert figures(body, data["anna"]) == {
        "calls": "3",
        "contacts": "2",
        "completes": "1",
        "hours": "0:27",
        "calls-per-hour": "6,7",  # 3 / 0.45 h
        "completes-per-hour": "2,2",  # 1 / 0.45 h
        "average-interview": "20:00",
    }
    # Bartek: 3 calls, 1 contact (the appointment), no complete, 1+2+5 = 8 minutes
    assert figures(body, data["bartek"]) == {
        "calls": "3",
        "contacts": "1",
        "completes": "0",
        "hours": "0:08",
        "calls-per-hour": "22,5",  # 3 / (8/60) h
        "completes-per-hour": "0,0",
        "average-interview": "—",
    }


def test_a_call_still_open_does_not_count(app, client, fieldwork_with_calls, supervisor):
    data = fieldwork_with_calls
    with database(app).session() as session:
        case = session.get(Case, data["cases"]["F"])
        start_call(session, case, data["anna"], case.sample_unit.phones[0], MORNING)
    body = client.get(f"/supervise/{data['fieldwork']}").get_data(as_text=True)
    assert figures(body, data["anna"])["calls"] == "3"


# --- the fieldwork's settings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "form", "column", "stored", "action"),
    [
        ("calling-hours", {"calling_hours": "pn-pt 8-15; so 9:00-12:00"}, 0,
         "pn-pt 8:00-15:00; so 9:00-12:00", "calling_hours"),
        ("attempt-limit", {"attempt_limit": "7"}, 1, 7, "attempt_limit"),
        ("claim-timeout", {"claim_timeout": "45"}, 2, 45, "claim_timeout"),
        ("e", {"e": "0,8"}, 3, 0.8, "aapor_e"),
        ("e", {"e": "0.25"}, 3, 0.25, "aapor_e"),
    ],
)  # fmt: skip
def test_settings_are_saved_and_logged(
    app, client, make_fieldwork, supervisor, url, form, column, stored, action
):
    fieldwork_id = make_fieldwork(units=UNITS[:2])
    before = fieldwork_settings(app, fieldwork_id)
    response = client.post(f"/supervise/{fieldwork_id}/{url}", data=form)
    assert response.status_code == 302
    assert response.location.endswith(f"/supervise/{fieldwork_id}")
    after = fieldwork_settings(app, fieldwork_id)
    assert after[column] == stored
    assert [a for i, a in enumerate(after) if i != column] == [
        b for i, b in enumerate(before) if i != column
    ]
    [logged] = actions(app, fieldwork_id)
    assert (logged.action, logged.user_id) == (action, supervisor.id)
    assert logged.detail == {"old": before[column], "new": stored}
    page = client.get(f"/supervise/{fieldwork_id}")
    assert 'class="flash flash-success"' in page.get_data(as_text=True)


def test_empty_e_goes_back_to_the_estimate(app, client, fieldwork_with_calls, supervisor):
    fieldwork_id = fieldwork_with_calls["fieldwork"]
    assert client.post(f"/supervise/{fieldwork_id}/e", data={"e": "0,5"}).status_code == 302
    body = client.get(f"/supervise/{fieldwork_id}").get_data(as_text=True)
    assert "0,500" in page_text_of(re.search(r'<p id="e-value">.*?</p>', body, re.S).group(0))
    assert cell(body, "rate-RR3") == "25,0%"  # 1/(3 + 0.5*2)
    domain = aapor.rates(aapor.DispositionCounts(I=1, R=1, NC=1, UH=2, NE=1), 0.5)
    assert cell(body, "rate-CON2") == percent(domain.CON2)

    assert client.post(f"/supervise/{fieldwork_id}/e", data={"e": "  "}).status_code == 302
    assert fieldwork_settings(app, fieldwork_id)[3] is None
    body = client.get(f"/supervise/{fieldwork_id}").get_data(as_text=True)
    assert cell(body, "rate-RR3") == "22,2%"  # estimated e = 3/4 again
    assert [a.detail for a in actions(app, fieldwork_id)] == [
        {"old": None, "new": 0.5},
        {"old": 0.5, "new": None},
    ]


@pytest.mark.parametrize(
    ("url", "form"),
    [
        ("calling-hours", {"calling_hours": ""}),
        ("calling-hours", {"calling_hours": "xx 8:00-16:00"}),
        ("calling-hours", {"calling_hours": "pn-pt 25:00-26:00"}),
        ("calling-hours", {"calling_hours": "pt-pn 8:00-16:00"}),
        ("calling-hours", {"calling_hours": "pn-pt 16:00-8:00"}),
        ("calling-hours", {"calling_hours": " ; "}),
        ("attempt-limit", {"attempt_limit": "0"}),
        ("attempt-limit", {"attempt_limit": "51"}),
        ("attempt-limit", {"attempt_limit": "dziesięć"}),
        ("attempt-limit", {"attempt_limit": ""}),
        ("attempt-limit", {"attempt_limit": "2.5"}),
        ("claim-timeout", {"claim_timeout": "4"}),
        ("claim-timeout", {"claim_timeout": "481"}),
        ("claim-timeout", {}),
        ("e", {"e": "1,5"}),
        ("e", {"e": "-0.1"}),
        ("e", {"e": "abc"}),
        ("e", {"e": "nan"}),
        ("e", {"e": "0,5,1"}),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(
    app, client, make_fieldwork, supervisor, url, form
):
    fieldwork_id = make_fieldwork(units=UNITS[:2])
    before = fieldwork_settings(app, fieldwork_id)
    response = client.post(f"/supervise/{fieldwork_id}/{url}", data=form)
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)  # the field says what is wrong
    assert fieldwork_settings(app, fieldwork_id) == before
    assert actions(app, fieldwork_id) == []


@pytest.mark.parametrize("text", ["xx 8:00-16:00", "pn-pt 25:00-26:00", "pt-pn 8-16"])
def test_unreadable_calling_hours_show_the_parsers_message(
    app, client, make_fieldwork, supervisor, text
):
    fieldwork_id = make_fieldwork(units=UNITS[:1])
    with pytest.raises(CallingHoursError) as error:
        CallingHours.parse(text)
    with app.test_request_context(), force_locale("pl"):
        expected = error.value.message.render(babel_gettext)
    response = client.post(f"/supervise/{fieldwork_id}/calling-hours", data={"calling_hours": text})
    assert response.status_code == 400
    assert expected in page_text(response)


def test_settings_without_csrf_token_are_refused(app, client, make_fieldwork, supervisor):
    fieldwork_id = make_fieldwork(units=UNITS[:1])
    before = fieldwork_settings(app, fieldwork_id)
    response = client.post(
        f"/supervise/{fieldwork_id}/attempt-limit", data={"attempt_limit": "5"}, csrf=False
    )
    assert response.status_code == 400
    assert fieldwork_settings(app, fieldwork_id) == before
    assert actions(app, fieldwork_id) == []


def test_lowering_the_attempt_limit_ends_cases_and_raising_it_reopens_them(
    app, client, fieldwork_with_calls, supervisor, clock
):
    data = fieldwork_with_calls
    fieldwork_id, case_c = data["fieldwork"], data["cases"]["C"]  # one no-answer call
    assert case_state(app, case_c)["is_final"] is False
    assert (
        client.post(
            f"/supervise/{fieldwork_id}/attempt-limit", data={"attempt_limit": "1"}
        ).status_code
        == 302
    )  # noqa: E501
    state = case_state(app, case_c)
    assert (state["is_final"], state["outcome"], state["code"]) == (True, "max_attempts", "3.13")
    assert case_state(app, data["cases"]["F"])["is_final"] is False  # never called
    assert (
        client.post(
            f"/supervise/{fieldwork_id}/attempt-limit", data={"attempt_limit": "5"}
        ).status_code
        == 302
    )  # noqa: E501
    state = case_state(app, case_c)
    assert (state["is_final"], state["outcome"], state["code"]) == (False, "no_answer", "3.13")
    assert state["next_callable_at"] == clock()
    assert case_state(app, data["cases"]["A"])["is_final"] is True  # the complete stays so
    assert [a.detail for a in actions(app, fieldwork_id)] == [
        {"old": 10, "new": 1},
        {"old": 1, "new": 5},
    ]


# --- a case -----------------------------------------------------------------------------------


def test_case_page_shows_the_case_and_its_calls(app, client, fieldwork_with_calls, supervisor):
    data = fieldwork_with_calls
    response = client.get(f"/supervise/{data['fieldwork']}/case/{data['cases']['A']}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    text = page_text(response)
    assert "Centrum Integracji Społecznej w Gliwicach" in text
    assert "A-01" in text and "0321234567" in text
    assert cell(body, "case-disposition").startswith("1.1")
    assert "Wywiad zakończony" in cell(body, "case-disposition")
    assert cell(body, "case-attempts") == "2 / 10"
    assert re.findall(r'<tr id="call-(\d+)" data-outcome="([a-z_]+)"', body) == [
        (str(data["calls"]["A1"]), "no_answer"),
        (str(data["calls"]["A2"]), "complete"),
    ]
    call_row = page_text_of(row_html(body, f"call-{data['calls']['A2']}"))
    assert "16.03.2026 09:00" in call_row and "16.03.2026 09:20" in call_row  # Warsaw time
    assert "Anna Nowak" in call_row


def test_case_of_another_fieldwork_is_not_found(
    app, client, make_fieldwork, fieldwork_with_calls, supervisor
):
    other = make_fieldwork(units=[("Z-99", "Spółdzielnia Socjalna Razem", {})], title="Inne")
    case_id = fieldwork_with_calls["cases"]["A"]
    assert client.get(f"/supervise/{other}/case/{case_id}").status_code == 404
    response = client.post(f"/supervise/{other}/case/{case_id}/priority", data={"priority": "3"})
    assert response.status_code == 404
    assert case_state(app, case_id)["priority"] == 0
    assert client.get("/supervise/999").status_code == 404


def test_priority_is_set_and_logged(app, client, fieldwork_with_calls, supervisor):
    data = fieldwork_with_calls
    case_id = data["cases"]["F"]
    url = f"/supervise/{data['fieldwork']}/case/{case_id}/priority"
    assert client.post(url, data={"priority": "-10"}).status_code == 302
    assert client.post(url, data={"priority": "10"}).status_code == 302
    state = case_state(app, case_id)
    assert (state["priority"], state["queue_rank"]) == (10, -10)
    logged = actions(app, data["fieldwork"])
    assert [(a.action, a.case_id, a.detail) for a in logged] == [
        ("priority", case_id, {"old": 0, "new": -10}),
        ("priority", case_id, {"old": -10, "new": 10}),
    ]


@pytest.mark.parametrize("value", ["11", "-11", "wysoki", "", "1.5"])
def test_bad_priority_is_refused(app, client, fieldwork_with_calls, supervisor, value):
    data = fieldwork_with_calls
    case_id = data["cases"]["F"]
    response = client.post(
        f"/supervise/{data['fieldwork']}/case/{case_id}/priority", data={"priority": value}
    )
    assert response.status_code == 400
    assert case_state(app, case_id)["priority"] == 0
    assert actions(app, data["fieldwork"]) == []


def test_case_is_assigned_to_an_interviewer_and_back_to_anyone(
    app, client, fieldwork_with_calls, supervisor
):
    data = fieldwork_with_calls
    case_id = data["cases"]["F"]
    url = f"/supervise/{data['fieldwork']}/case/{case_id}/assign"
    page = client.get(f"/supervise/{data['fieldwork']}/case/{case_id}").get_data(as_text=True)
    options = re.findall(r'<option[^>]*value="(\d*)"', page.split('id="interviewer"')[1])
    assert options[:3] == ["", str(data["anna"]), str(data["bartek"])]
    assert client.post(url, data={"interviewer": str(data["bartek"])}).status_code == 302
    assert case_state(app, case_id)["assigned"] == data["bartek"]
    body = client.get(f"/supervise/{data['fieldwork']}/case/{case_id}").get_data(as_text=True)
    assert cell(body, "case-assigned") == "Bartosz Wiśniewski"
    assert client.post(url, data={"interviewer": ""}).status_code == 302
    assert case_state(app, case_id)["assigned"] is None
    assert [(a.action, a.detail) for a in actions(app, data["fieldwork"])] == [
        ("assign", {"old": None, "new": data["bartek"]}),
        ("assign", {"old": data["bartek"], "new": None}),
    ]
    # the log names the interviewer
    log = client.get(f"/supervise/{data['fieldwork']}").get_data(as_text=True)
    assert "Bartosz Wiśniewski" in page_text_of(
        re.search(r'<table id="actions">.*?</table>', log, re.S).group(0)
    )  # noqa: E501


def test_assigning_to_a_non_interviewer_or_inactive_account_is_refused(
    app, client, fieldwork_with_calls, supervisor
):
    data = fieldwork_with_calls
    case_id = data["cases"]["F"]
    retired = add_interviewer(app, "celina", "Celina Retired", active=False)
    url = f"/supervise/{data['fieldwork']}/case/{case_id}/assign"
    for value in (str(retired), str(supervisor.id), "9999", "anna"):
        assert client.post(url, data={"interviewer": value}).status_code == 400, value
    assert case_state(app, case_id)["assigned"] is None
    assert actions(app, data["fieldwork"]) == []


def test_a_stuck_claim_is_released(app, client, fieldwork_with_calls, supervisor, clock):
    data = fieldwork_with_calls
    with database(app).session() as session:
        fieldwork = session.get(Fieldwork, data["fieldwork"])
        claimed = claim_next(session, fieldwork, data["anna"], clock())
        case_id = claimed.case.id
    assert case_state(app, case_id)["claimed_by"] == data["anna"]
    body = client.get(f"/supervise/{data['fieldwork']}").get_data(as_text=True)
    assert f'data-case="{case_id}"' in re.search(
        r'<table id="claimed">.*?</table>', body, re.S
    ).group(0)  # noqa: E501
    url = f"/supervise/{data['fieldwork']}/case/{case_id}/release"
    assert client.post(url, data={}).status_code == 302
    assert case_state(app, case_id)["claimed_by"] is None
    [logged] = actions(app, data["fieldwork"])
    assert (logged.action, logged.case_id, logged.detail) == (
        "release",
        case_id,
        {"old": data["anna"]},
    )  # noqa: E501
    # nothing left to release: refused, nothing logged
    assert client.post(url, data={}).status_code == 400
    assert len(actions(app, data["fieldwork"])) == 1


def test_excluded_case_leaves_the_rates_and_comes_back(
    app, client, fieldwork_with_calls, supervisor
):
    data = fieldwork_with_calls
    fieldwork_id, case_id = data["fieldwork"], data["cases"]["B"]  # the hard refusal
    url = f"/supervise/{fieldwork_id}/case/{case_id}/exclusion"
    response = client.post(url, data={"action": "exclude", "reason": "Duplikat w operacie"})
    assert response.status_code == 302
    assert case_state(app, case_id)["excluded"] is True
    body = client.get(f"/supervise/{fieldwork_id}").get_data(as_text=True)
    assert cell(body, "count-R") == "0"
    assert cell(body, "count-total") == "5"
    assert cell(body, "dispositions-total") == "5"
    assert re.search(r'id="excluded-count">1<', body)
    domain = aapor.rates(aapor.DispositionCounts(I=1, NC=1, UH=2, NE=1))
    assert cell(body, "rate-RR5") == percent(domain.RR5) == "50,0%"  # 1/2
    # excluding again is refused
    assert client.post(url, data={"action": "exclude"}).status_code == 400
    assert client.post(url, data={"action": "include"}).status_code == 302
    assert case_state(app, case_id)["excluded"] is False
    body = client.get(f"/supervise/{fieldwork_id}").get_data(as_text=True)
    assert cell(body, "count-R") == "1"
    logged = actions(app, fieldwork_id)
    assert [(a.action, a.case_id, a.note) for a in logged] == [
        ("exclude", case_id, "Duplikat w operacie"),
        ("include", case_id, ""),
    ]
    assert "Duplikat w operacie" in page_text_of(
        re.search(r'<table id="actions">.*?</table>', body, re.S).group(0)
    )


def test_excluding_a_held_case_releases_it(app, client, fieldwork_with_calls, supervisor, clock):
    data = fieldwork_with_calls
    with database(app).session() as session:
        fieldwork = session.get(Fieldwork, data["fieldwork"])
        case_id = claim_next(session, fieldwork, data["anna"], clock()).case.id
    url = f"/supervise/{data['fieldwork']}/case/{case_id}/exclusion"
    assert client.post(url, data={"action": "exclude"}).status_code == 302
    state = case_state(app, case_id)
    assert (state["excluded"], state["claimed_by"]) == (True, None)
    with database(app).session() as session:
        fieldwork = session.get(Fieldwork, data["fieldwork"])
        again = claim_next(session, fieldwork, data["anna"], clock())
        # F (never called) was held and is now excluded: the queue goes on to C, due again
        assert (case_id, again.case.id) == (data["cases"]["F"], data["cases"]["C"])


@pytest.mark.parametrize("action", ["", "delete", "EXCLUDE"])
def test_unknown_exclusion_action_is_refused(app, client, fieldwork_with_calls, supervisor, action):
    data = fieldwork_with_calls
    case_id = data["cases"]["F"]
    url = f"/supervise/{data['fieldwork']}/case/{case_id}/exclusion"
    assert client.post(url, data={"action": action}).status_code == 400
    assert case_state(app, case_id)["excluded"] is False
    assert actions(app, data["fieldwork"]) == []


def outcome_id(app, fieldwork_id: int, code: str) -> int:
    with database(app).session() as session:
        fieldwork = session.get(Fieldwork, fieldwork_id)
        return next(o.id for o in outcomes_of(session, fieldwork) if o.code == code)


def test_changing_a_calls_outcome_moves_the_disposition_and_the_rates(
    app, client, fieldwork_with_calls, supervisor
):
    data = fieldwork_with_calls
    fieldwork_id, case_id, call_id = data["fieldwork"], data["cases"]["C"], data["calls"]["C1"]
    refusal = outcome_id(app, fieldwork_id, "hard_refusal")
    response = client.post(
        f"/supervise/{fieldwork_id}/case/{case_id}/call-outcome",
        data={"call": str(call_id), "outcome": str(refusal), "note": "Nagranie: odmowa."},
    )
    assert response.status_code == 302
    state = case_state(app, case_id)
    assert (state["code"], state["outcome"], state["is_final"]) == ("2.112", "hard_refusal", True)
    with database(app).session() as session:
        assert session.get(Call, call_id).outcome_id == refusal
    [logged] = actions(app, fieldwork_id)
    assert (logged.action, logged.case_id, logged.call_id, logged.note) == (
        "call_outcome",
        case_id,
        call_id,
        "Nagranie: odmowa.",
    )
    assert logged.detail["new"] == refusal
    body = client.get(f"/supervise/{fieldwork_id}").get_data(as_text=True)
    assert (cell(body, "count-R"), cell(body, "count-UH")) == ("2", "1")
    domain = aapor.rates(aapor.DispositionCounts(I=1, R=2, NC=1, UH=1, NE=1))
    for name in aapor.FORMULAS:
        assert cell(body, f"rate-{name}") == percent(getattr(domain, name)), name


def test_changing_a_complete_back_reopens_the_case(
    app, client, fieldwork_with_calls, supervisor, clock
):
    data = fieldwork_with_calls
    fieldwork_id, case_id = data["fieldwork"], data["cases"]["A"]
    response = client.post(
        f"/supervise/{fieldwork_id}/case/{case_id}/call-outcome",
        data={
            "call": str(data["calls"]["A2"]),
            "outcome": str(outcome_id(app, fieldwork_id, "no_answer")),
            "note": "Wywiad nie odbył się, pomyłka ankietera.",
        },
    )
    assert response.status_code == 302
    state = case_state(app, case_id)
    assert (state["is_final"], state["code"]) == (False, "3.13")
    assert state["next_callable_at"] == clock()  # back in the queue
    body = client.get(f"/supervise/{fieldwork_id}").get_data(as_text=True)
    assert figures(body, data["anna"])["completes"] == "0"


@pytest.mark.parametrize(
    "change",
    [
        {"note": ""},
        {"note": "   "},
        {"call": "C1-of-another-case"},
        {"call": "999999"},
        {"outcome": "999999"},
        {"outcome": "not-a-number"},
    ],
)
def test_bad_outcome_changes_are_refused(app, client, fieldwork_with_calls, supervisor, change):
    data = fieldwork_with_calls
    fieldwork_id, case_id = data["fieldwork"], data["cases"]["A"]
    form = {
        "call": str(data["calls"]["A1"]),
        "outcome": str(outcome_id(app, fieldwork_id, "hard_refusal")),
        "note": "Powód",
    }
    form.update(change)
    if form["call"] == "C1-of-another-case":
        form["call"] = str(data["calls"]["C1"])
    before = case_state(app, case_id)
    response = client.post(f"/supervise/{fieldwork_id}/case/{case_id}/call-outcome", data=form)
    assert response.status_code == 400
    assert case_state(app, case_id) == before
    with database(app).session() as session:
        outcomes = {c.id: c.outcome.code for c in session.scalars(select(Call))}
    assert outcomes[data["calls"]["A1"]] == "no_answer"
    assert outcomes[data["calls"]["C1"]] == "no_answer"
    assert actions(app, fieldwork_id) == []


def test_outcome_of_another_fieldwork_is_refused(
    app, client, make_fieldwork, fieldwork_with_calls, supervisor
):
    data = fieldwork_with_calls
    other = make_fieldwork(units=[("Z-99", "Spółdzielnia Socjalna Razem", {})], title="Inne")
    foreign = outcome_id(app, other, "hard_refusal")
    response = client.post(
        f"/supervise/{data['fieldwork']}/case/{data['cases']['A']}/call-outcome",
        data={"call": str(data["calls"]["A1"]), "outcome": str(foreign), "note": "x"},
    )
    assert response.status_code == 400
    assert actions(app, data["fieldwork"]) == []


def test_action_log_says_who_when_what_and_why(
    app, client, fieldwork_with_calls, supervisor, clock
):
    data = fieldwork_with_calls
    fieldwork_id = data["fieldwork"]
    with database(app).session() as session:
        session.get(User, supervisor.id).full_name = "Zofia Superwizor"
    client.post(f"/supervise/{fieldwork_id}/attempt-limit", data={"attempt_limit": "8"})
    clock.advance(minutes=5)
    client.post(
        f"/supervise/{fieldwork_id}/case/{data['cases']['F']}/exclusion",
        data={"action": "exclude", "reason": "Poza populacją"},
    )
    body = client.get(f"/supervise/{fieldwork_id}").get_data(as_text=True)
    rows = re.findall(r'<tr data-action="([a-z_]+)">(.*?)</tr>', body, re.S)
    assert [action for action, _ in rows] == ["exclude", "attempt_limit"]  # newest first
    newest, oldest = (page_text_of(row) for _, row in rows)
    assert "16.03.2026 10:35" in newest and "Zofia Superwizor" in newest
    assert "Poza populacją" in newest
    assert "16.03.2026 10:30" in oldest and "10 → 8" in oldest
    # the case page lists the case's own actions only
    case_page = client.get(f"/supervise/{fieldwork_id}/case/{data['cases']['F']}")
    assert re.findall(r'<tr data-action="([a-z_]+)">', case_page.get_data(as_text=True)) == [
        "exclude"
    ]


def test_interviewer_gets_403_on_every_supervisor_route(
    app, client, fieldwork_with_calls, login_as
):
    data = fieldwork_with_calls
    fieldwork_id, case_id = data["fieldwork"], data["cases"]["C"]
    login_as(Role.INTERVIEWER)
    base = f"/supervise/{fieldwork_id}"
    case = f"{base}/case/{case_id}"
    posts = {
        f"{base}/calling-hours": {"calling_hours": "pn 8-9"},
        f"{base}/attempt-limit": {"attempt_limit": "2"},
        f"{base}/claim-timeout": {"claim_timeout": "10"},
        f"{base}/e": {"e": "0,1"},
        f"{case}/priority": {"priority": "5"},
        f"{case}/assign": {"interviewer": str(data["anna"])},
        f"{case}/release": {},
        f"{case}/exclusion": {"action": "exclude"},
        f"{case}/call-outcome": {
            "call": str(data["calls"]["C1"]),
            "outcome": str(outcome_id(app, fieldwork_id, "complete")),
            "note": "x",
        },
    }
    for url in ("/supervise/", base, case):
        assert client.get(url).status_code == 403, url
    before = (fieldwork_settings(app, fieldwork_id), case_state(app, case_id))
    for url, form in posts.items():
        assert client.post(url, data=form).status_code == 403, url
    assert (fieldwork_settings(app, fieldwork_id), case_state(app, case_id)) == before
    assert actions(app, fieldwork_id) == []
    with database(app).session() as session:
        assert session.scalar(select(func.count()).select_from(SupervisorAction)) == 0


def test_case_list_filters_by_code_and_by_name(app, client, fieldwork_with_calls, supervisor):
    data = fieldwork_with_calls
    base = f"/supervise/{data['fieldwork']}"

    def listed(query: str) -> list[str]:
        body = client.get(base + query).get_data(as_text=True)
        table = re.search(r'<table id="cases">.*?</table>', body, re.S).group(0)
        return re.findall(r'<tr data-case="(\d+)">', table)

    assert len(listed("")) == 6
    assert listed("?code=3.13") == [str(data["cases"]["C"])]
    assert listed("?q=tychach") == [str(data["cases"]["E"])]
    assert listed("?q=d-04") == [str(data["cases"]["D"])]
