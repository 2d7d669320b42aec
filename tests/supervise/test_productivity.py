"""Interviewers' productivity across fieldworks, by a range of days and a shift."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.models.users import Role
from tests.support import page_text
from tests.support.calls import (
    UNITS,
    case_id_of,
    figures,
    make_call,
)

# Wednesday 18 March 2026, 19:00 UTC = 20:00 in Warsaw: an evening call in another fieldwork
EVENING = datetime(2026, 3, 18, 19, 0, tzinfo=UTC)


@pytest.fixture
def two_fieldworks(app, make_fieldwork, join_team, fieldwork_with_calls):
    data = dict(fieldwork_with_calls)
    second = make_fieldwork(units=UNITS[:1], title="Drugie badanie")
    join_team(second, data["anna"])
    make_call(app, case_id_of(app, second, "A-01"), data["anna"], "complete", EVENING, 10)
    data["second"] = second
    return data


def _page(client, **query):
    return client.get("/supervise/productivity", query_string=query)


def _ids(body: str) -> set[str]:
    import re

    return set(re.findall(r'<tr id="interviewer-(\d+)"', body))


def test_productivity_across_fieldworks_and_in_one(app, client, two_fieldworks, supervisor):
    data = two_fieldworks
    everything = _page(client)
    assert everything.status_code == 200
    body = everything.get_data(as_text=True)
    # Anna: 3 calls (27 min) in the first, 1 complete (10 min) in the second
    assert figures(body, data["anna"]) == {
        "fieldworks": "2",
        "calls": "4",
        "contacts": "3",
        "completes": "2",
        "hours": "0:37",
        "calls-per-hour": "6,5",  # 4 / (37/60)
        "completes-per-hour": "3,2",
        "average-interview": "15:00",  # (20 + 10) / 2
    }
    first = _page(client, fieldwork=data["fieldwork"]).get_data(as_text=True)
    assert figures(first, data["anna"])["calls"] == "3"
    assert figures(first, data["anna"])["fieldworks"] == "1"
    second = _page(client, fieldwork=data["second"]).get_data(as_text=True)
    assert _ids(second) == {str(data["anna"])}


def test_productivity_by_days(app, client, two_fieldworks, supervisor):
    data = two_fieldworks
    later = _page(client, date_from="2026-03-17").get_data(as_text=True)
    assert _ids(later) == {str(data["anna"])}
    assert figures(later, data["anna"])["calls"] == "1"
    monday = _page(client, date_from="16.03.2026", date_to="16.03.2026").get_data(as_text=True)
    assert figures(monday, data["anna"])["calls"] == "3"
    assert figures(monday, data["bartek"])["calls"] == "3"
    empty = _page(client, date_from="2026-04-01")
    assert "Brak połączeń w tym okresie." in page_text(empty)


def test_productivity_by_shift_also_over_midnight(app, client, two_fieldworks, supervisor):
    data = two_fieldworks
    # Warsaw times: Anna 8:00, 8:10, 9:00 (Monday) and 20:00 (Wednesday); Bartek 8:00, 8:05, 8:20
    late_morning = _page(client, shift_from="08:30", shift_to="12:00").get_data(as_text=True)
    assert _ids(late_morning) == {str(data["anna"])}
    assert figures(late_morning, data["anna"])["calls"] == "1"
    night = _page(client, shift_from="20:00", shift_to="06:00").get_data(as_text=True)
    assert _ids(night) == {str(data["anna"])}
    assert figures(night, data["anna"])["completes"] == "1"
    early = _page(client, shift_to="08:06").get_data(as_text=True)
    assert figures(early, data["anna"])["calls"] == "1"
    assert figures(early, data["bartek"])["calls"] == "2"


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "32.13.2026"},
        {"date_from": "2026-03-18", "date_to": "2026-03-16"},
        {"fieldwork": "999"},
        {"fieldwork": "<script>"},
        {"shift_from": "25:00"},
    ],
    ids=["bad-date", "reversed", "unknown-fieldwork", "hostile", "bad-time"],
)
def test_bad_filters_are_refused_clearly(app, client, two_fieldworks, supervisor, query):
    response = _page(client, **query)
    assert response.status_code == 400
    text = page_text(response)
    assert text.startswith("Błąd:") and "Popraw następujące błędy:" in text
    assert 'id="productivity"' not in response.get_data(as_text=True)
    assert "<script>" not in response.get_data(as_text=True).split("</header>", 1)[1]


def test_the_productivity_page_is_linked_and_only_for_supervisors(
    app, client, two_fieldworks, login_as
):
    login_as(Role.INTERVIEWER)
    assert _page(client).status_code == 403
    client.post("/logout", data={})
    login_as(Role.SUPERVISOR)
    assert 'href="/supervise/productivity"' in client.get("/supervise/").get_data(as_text=True)
    fieldwork_page = client.get(f"/supervise/{two_fieldworks['fieldwork']}").get_data(as_text=True)
    assert f"/supervise/productivity?fieldwork={two_fieldworks['fieldwork']}" in fieldwork_page
