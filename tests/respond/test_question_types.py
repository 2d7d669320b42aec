"""The new question types on the respondent's web form: each page's field as sent by a
browser without script, what a wrong value says, and what is stored
(tests/support/question_types.yaml, one question a page)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import unit_token
from tests.support.respondent import (
    Respondent,
    field_error,
    parse_form,
    stored,
    summary_rows,
)

DEFINITION = Path(__file__).resolve().parents[1] / "support" / "question_types.yaml"


@pytest.fixture
def respondent(app, make_fieldwork) -> Respondent:
    fieldwork_id = make_fieldwork(DEFINITION)
    return Respondent(app.test_client(), unit_token(app, fieldwork_id, "K-01"), fieldwork_id)


def _send(respondent: Respondent, form, data: dict, action: str = "next"):
    return respondent.send(form, data, action)


def _refused(respondent: Respondent, form, name: str, data: dict, error: str):
    """Send a wrong value: the same page again, with the error next to the field."""
    response = _send(respondent, form, {name: data})
    assert response.status_code == 200
    page = parse_form(response)
    assert field_error(page, name) == f"Błąd: {error}"
    return page


def _next(respondent: Respondent, form, data: dict):
    response = _send(respondent, form, data, "submit" if "submit" in form.buttons else "next")
    assert response.status_code == 302, field_error(
        response.get_data(as_text=True), next(iter(data))
    )
    return None if response.location.endswith("/done") else respondent.open(response.location)


def test_a_respondent_answers_every_new_type_and_it_is_stored_typed(app, respondent) -> None:
    form = respondent.begin()
    assert "(HH:MM)" in form.html
    form = _refused(
        respondent,
        form,
        "godzina_otwarcia",
        "25:00",
        "Podaj godzinę w formacie HH:MM, na przykład 08:30.",
    )
    form = _next(respondent, form, {"godzina_otwarcia": "8:30"})

    assert "(DD.MM.RRRR HH:MM)" in form.html
    form = _refused(
        respondent,
        form,
        "spotkanie",
        "29.03.2026 02:30",
        "Tego dnia w Polsce nie ma takiej godziny (zegary przesuwa się do przodu).",
    )
    form = _next(respondent, form, {"spotkanie": "15.01.2026 10:30"})

    assert 'type="number" class="short" min="0" max="10" step="2"' in form.html
    form = _refused(respondent, form, "ocena", "3", "Wybierz wartość od 0 do 10 co 2.")
    form = _next(respondent, form, {"ocena": "6"})

    assert 'type="checkbox" id="q-zgoda" name="zgoda" value="OK"' in form.html
    form = _next(respondent, form, {"zgoda": "OK"})
    form = _next(respondent, form, {"kod": "5901234123457"})

    # the geopoint: four fields under one name; the location button waits for script
    assert form.html.count('name="siedziba"') == 4
    assert '<p class="geo-locate" hidden>' in form.html
    form = _refused(
        respondent,
        form,
        "siedziba",
        ["50.26", "", "", ""],
        "Podaj szerokość i długość geograficzną.",
    )
    form = _next(respondent, form, {"siedziba": ["50,2649", "19,0238", "270", "15"]})

    assert form.html.count("<select") == 3
    form = _refused(
        respondent,
        form,
        "priorytety",
        ["1:szkolenia", "1:doradztwo", "3:promocja"],
        "Każdą pozycję nadaj tylko jednej odpowiedzi.",
    )
    # the page shows the ranks as sent, to be corrected
    assert 'value="1:doradztwo" selected' in form.html
    form = _next(respondent, form, {"priorytety": ["2:szkolenia", "1:doradztwo", "3:promocja"]})

    form = _next(respondent, form, {"trasa": "50.1 19.1\r\n50.2 19.2"})
    assert _next(respondent, form, {"teren": "50 19\n50.1 19\n50.1 19.1"}) is None

    summary = dict(summary_rows(respondent.client.get(f"{respondent.link}/done")))
    assert summary["Od której godziny działa punkt?"] == "08:30"
    assert summary["Kiedy odbyło się ostatnie spotkanie?"] == "15.01.2026 10:30"
    assert summary["Uszereguj zadania od najważniejszego"] == "Doradztwo, Szkolenia, Promocja"
    assert summary["Położenie siedziby"] == "50.2649 19.0238 270 15"

    answers = stored(app, respondent.token).answers
    assert answers == {
        "godzina_otwarcia": "08:30",
        "spotkanie": "2026-01-15T10:30+01:00",
        "ocena": 6,
        "zgoda": "OK",
        "kod": "5901234123457",
        "siedziba": "50.2649 19.0238 270 15",
        "priorytety": ["doradztwo", "szkolenia", "promocja"],
        "trasa": "50.1 19.1;50.2 19.2",
        "teren": "50 19;50.1 19;50.1 19.1;50 19",
    }


def test_stored_answers_come_back_in_the_fields(app, respondent) -> None:
    form = respondent.begin()
    form = _next(respondent, form, {"godzina_otwarcia": "16.45"})
    form = _next(respondent, form, {"spotkanie": "2026-07-01T09:05"})
    back = respondent.back(form)
    assert 'value="01.07.2026 09:05"' in back.html  # as Poles write it, in Warsaw time
    back = respondent.back(back)
    assert 'value="16:45"' in back.html
