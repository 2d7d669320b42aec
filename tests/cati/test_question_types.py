"""The new question types on the interviewer's screens: each entered from the keyboard
as typed on the phone (a dot for the time's colon, a decimal comma), don't know and
refused recorded like on any question (tests/support/question_types.yaml)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.models.fieldwork import Response
from app.models.users import Role
from tests.support import database, page_text
from tests.support.phone import take_and_dial
from tests.support.respondent import field_error, parse_form

DEFINITION = Path(__file__).resolve().parents[1] / "support" / "question_types.yaml"

# what the interviewer types on each screen (one question a screen)
TYPED = {
    "godzina_otwarcia": "7.45",
    "spotkanie": "2.3.2026 9:15",
    "ocena": "__rf__",  # refused, like on any question (F3)
    "zgoda": "OK",
    "kod": "__dk__",  # don't know (F2)
    "siedziba": ["50,2649", "19,0238", "", ""],
    "priorytety": ["3:szkolenia", "1:doradztwo", "2:promocja"],
    "trasa": "50.1 19.1\n50.2 19.2\n50.3 19.3",
    "teren": "__dk__",
}


def test_an_interviewer_enters_every_new_type_by_keyboard(
    join_team, app, client, make_fieldwork, login_as
):
    fieldwork_id = make_fieldwork(DEFINITION, units=[("G-1", "Gmina Biała", {})])
    join_team(fieldwork_id, login_as(Role.INTERVIEWER))
    case_id = take_and_dial(client, app, fieldwork_id)
    location = client.get(f"/cati/case/{case_id}/interview").location
    seen = []
    while not location.endswith("/cati/"):
        response = client.get(location)
        form = parse_form(response)
        name = form.page_id
        seen.append(name)
        html = response.get_data(as_text=True)
        # don't know and refused are offered on every question, as on the others
        assert f'id="q-{name}-dk"' in html and f'id="q-{name}-rf"' in html, name
        if name == "godzina_otwarcia":  # a wrong time says so and keeps the screen
            wrong = client.post(
                location, data={"revision": form.revision, "action": "next", name: "7:75"}
            )
            assert wrong.status_code == 200
            assert field_error(parse_form(wrong), name) == (
                "Błąd: Podaj godzinę w formacie HH:MM, na przykład 08:30."
            )
        sent = client.post(
            location, data={"revision": form.revision, "action": "next", name: TYPED[name]}
        )
        assert sent.status_code == 302, (name, page_text(sent)[:400])
        location = sent.location
    assert seen == list(TYPED)
    with database(app).session() as session:
        response = session.scalar(select(Response))
        assert response.status == "complete" and response.via_phone
        assert response.answers == {
            "godzina_otwarcia": "07:45",
            "spotkanie": "2026-03-02T09:15+01:00",
            "ocena": {"missing": "refused"},
            "zgoda": "OK",
            "kod": {"missing": "dont_know"},
            "siedziba": "50.2649 19.0238",
            "priorytety": ["doradztwo", "promocja", "szkolenia"],
            "trasa": "50.1 19.1;50.2 19.2;50.3 19.3",
            "teren": {"missing": "dont_know"},
        }
