"""An interviewer's steps on the CATI screens, through a test client."""

from __future__ import annotations

import re

from app.models.cati import Case
from tests.support import database, page_text
from tests.support.respondent import RespondentForm, fill, parse_form


def take_next(client, fieldwork_id: int):
    """Press "next case" on a fieldwork's CATI screen."""
    return client.post(f"/cati/{fieldwork_id}/next", data={})


def taken_case_id(response) -> int:
    """The id of the case a "next case" answer leads to."""
    return int(re.search(r"/cati/case/(\d+)", response.location).group(1))


def dial(client, app, case_id: int):
    """Dial the case's first phone number."""
    with database(app).session() as session:
        phone_id = session.get(Case, case_id).sample_unit.phones[0].id
    return client.post(f"/cati/case/{case_id}/dial", data={"phone_id": str(phone_id)})


def book_appointment(client, case_id: int, *, with_whom: str = ""):
    """End the call with an appointment on 17.03.2026, 10:00-11:00, the interviewer's own."""
    return client.post(
        f"/cati/case/{case_id}/outcome",
        data={
            "outcome": "appointment",
            "appointment_date": "17.03.2026",
            "appointment_from": "10:00",
            "appointment_to": "11:00",
            "appointment_with": with_whom,
            "appointment_mine": "y",
        },
    )


def take_and_dial(client, app, fieldwork_id: int) -> int:
    """Take the next case of a fieldwork and dial it; the case's id."""
    case_id = taken_case_id(take_next(client, fieldwork_id))
    dial(client, app, case_id)
    return case_id


def interview_to_the_end(client, case_id: int, answers) -> int:
    """Answer every screen of the phone interview; the number of screens shown."""
    location = client.get(f"/cati/case/{case_id}/interview").location
    screens = 0
    while not location.endswith("/cati/"):
        screens += 1
        assert screens < 80, "the interview did not finish"
        form = parse_form(client.get(location))
        data = fill(form, answers)
        data.update(revision=form.revision, action="next")
        sent = client.post(location, data=data)
        if sent.status_code == 200:  # an answer opened more questions (a list's entries
            form = parse_form(sent)  # its count fixes): they are on the screen now; or the
            data = fill(form, answers)  # roster's list needs an entry: "yes, there is one"
            if "_another" in form.fields and "_another" not in answers:
                data["_another"] = "yes"
            data.update(revision=form.revision, action="next")
            sent = client.post(location, data=data)
        assert sent.status_code == 302, page_text(sent)[:500]
        location = sent.location
    return screens


class InterviewScreens:
    """The interviewer's client on a case's interview screens, page by page (what
    ``Respondent`` does on the web form: ``open`` a screen, ``send`` it with a button)."""

    def __init__(self, client) -> None:
        self.client = client

    def open(self, path: str) -> RespondentForm:
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.location)
        return parse_form(response)

    def send(self, form: RespondentForm, data, action: str = "next"):
        return self.client.post(
            form.path, data={"revision": form.revision, "action": action, **data}
        )
