"""One interview, two entry points: the same answers given on the respondent's web form and
on the interviewer's phone screens are stored the same (app.interview.submit decides both)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models.cati import Case
from app.models.fieldwork import Response, SampleUnit
from app.models.users import Role
from tests.support import page_text, unit_token
from tests.support.respondent import SCENARIOS, Respondent, fill, parse_form

SAME_NAME = "Ośrodek Wsparcia Ekonomii Społecznej"  # sample variables the answers may show


def _by_web(app, fieldwork_id: int, external_id: str, answers) -> list[str]:
    """Fill the form from the personal link to the end; the page ids seen."""
    respondent = Respondent(app.test_client(), unit_token(app, fieldwork_id, external_id))
    seen, last = respondent.walk(answers)
    assert last is None  # sent
    return seen


def _by_phone(app, client, fieldwork_id: int, answers) -> list[str]:
    """Take the next case, dial, and answer every screen to the end; the page ids seen."""
    taken = client.post(f"/cati/{fieldwork_id}/next", data={})
    case_id = int(re.search(r"/cati/case/(\d+)", taken.location).group(1))
    with app.extensions["ankieta.db"].session() as session:
        phone_id = session.get(Case, case_id).sample_unit.phones[0].id
    client.post(f"/cati/case/{case_id}/dial", data={"phone_id": str(phone_id)})
    location = client.get(f"/cati/case/{case_id}/interview").location
    seen: list[str] = []
    while not location.endswith("/cati/"):
        assert len(seen) < 80, "the interview did not finish"
        form = parse_form(client.get(location))
        seen.append(form.page_id)
        data = fill(form, answers)
        data.update(revision=form.revision, action="next")
        sent = client.post(location, data=data)
        assert sent.status_code == 302, page_text(sent)[:500]
        location = sent.location
    return seen


@pytest.mark.parametrize("survey", ["owes_polroczne", "jst_gmina"])
def test_the_same_answers_by_web_and_by_phone_are_stored_the_same(
    survey, app, client, make_fieldwork, login_as, join_team
):
    fieldwork_id = make_fieldwork(survey, units=[("W-1", SAME_NAME, {}), ("P-1", SAME_NAME, {})])
    answers = SCENARIOS[survey].answers
    web_pages = _by_web(app, fieldwork_id, "W-1", answers)  # its case leaves the queue
    join_team(fieldwork_id, login_as(Role.INTERVIEWER))
    phone_pages = _by_phone(app, client, fieldwork_id, answers)
    assert web_pages and phone_pages
    with app.extensions["ankieta.db"].session() as session:
        stored = {
            unit.external_id: response
            for unit, response in session.execute(
                select(SampleUnit, Response).join(
                    Response, Response.sample_unit_id == SampleUnit.id
                )
            )
        }
        web, phone = stored["W-1"], stored["P-1"]
        assert web.status == phone.status == "complete"
        assert web.via_web and not web.via_phone
        assert phone.via_phone and not phone.via_web
        assert web.answers == phone.answers
