"""Staff edits: a supervisor or analyst corrects an answer with a required reason; the old
and new values are logged; bad or stale posts change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models.audit import AuditEvent
from app.models.fieldwork import Response, ResponseChange
from app.models.users import Role
from tests.support import page_text, unit_token
from tests.support.respondent import Respondent, field_error, fill, parse_form
from tests.support.small_survey import load_small, small_fieldwork


@pytest.fixture
def answered(app, clock):
    """A fieldwork of the small survey with one complete response; (fieldwork, response) ids."""
    load_small(app)
    fieldwork_id = small_fieldwork(app, clock)
    respondent = Respondent(app.test_client(), unit_token(app, fieldwork_id, "M-01"))
    form = respondent.begin()
    assert respondent.next(form, {"q1": "3", "q2": ["1"], "q3": "bez uwag"}) is None
    with app.extensions["ankieta.db"].session() as session:
        response_id = session.scalar(
            select(Response.id).where(Response.fieldwork_id == fieldwork_id)
        )
    return fieldwork_id, response_id


def _stored(app, response_id: int) -> tuple[dict, str, int]:
    with app.extensions["ankieta.db"].session() as session:
        response = session.get(Response, response_id)
        return dict(response.answers), response.status, response.revision


def _edit_form(client, fieldwork_id: int, response_id: int):
    start = client.get(f"/fieldwork/{fieldwork_id}/responses/{response_id}/edit")
    assert start.status_code == 302
    page = client.get(start.location)
    assert page.status_code == 200
    return parse_form(page)


def _screen_with(client, form, name: str):
    """The edit screen that has the field ``name``, following the list of screens."""
    import re

    for path in re.findall(r'href="(/fieldwork/\d+/responses/\d+/edit/[^"]+)"', form.html):
        screen = parse_form(client.get(path))
        if name in screen.fields:
            return screen
    raise AssertionError(f"no screen with {name}")


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ANALYST])
def test_staff_correct_an_answer_with_a_reason_and_it_is_logged(
    app, client, login_as, answered, role
):
    fieldwork_id, response_id = answered
    user = login_as(role)
    form = _edit_form(client, fieldwork_id, response_id)
    assert form.fields["q1"].value == "3"
    data = fill(form, {"q1": "4", "reason": "Instytucja poprawiła liczbę telefonicznie"})
    saved = client.post(form.path, data={"revision": form.revision, "action": "save", **data})
    assert saved.status_code == 302
    assert "Poprawiono: q1." in page_text(client.get(saved.location))
    answers, status, _revision = _stored(app, response_id)
    assert answers["q1"] == 4 and answers["q3"] == "bez uwag"
    assert status == "complete"  # a correction does not re-open the response
    with app.extensions["ankieta.db"].session() as session:
        change = session.scalar(select(ResponseChange).where(ResponseChange.action == "edited"))
        assert (change.variable, change.old_value, change.new_value) == ("q1", 3, 4)
        assert change.user_id == user.id
        assert change.reason == "Instytucja poprawiła liczbę telefonicznie"
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "response.edited"))
        assert event.detail == {
            "variable": "q1",
            "old": 3,
            "new": 4,
            "reason": "Instytucja poprawiła liczbę telefonicznie",
        }
        assert event.actor == user.username


def test_the_supervisors_case_screen_links_to_the_correction(app, client, login_as, answered):
    fieldwork_id, response_id = answered
    login_as(Role.SUPERVISOR)
    from app.models.cati import Case

    with app.extensions["ankieta.db"].session() as session:
        case_id = session.scalar(
            select(Case.id).join(Response, Response.sample_unit_id == Case.sample_unit_id)
        )
    html = client.get(f"/supervise/{fieldwork_id}/case/{case_id}").get_data(as_text=True)
    assert f"/fieldwork/{fieldwork_id}/responses/{response_id}/edit" in html


@pytest.mark.parametrize(
    "change",
    ["no_reason", "bad_value", "stale", "unknown_page", "no_csrf", "broken_revision"],
)
def test_a_bad_or_stale_correction_is_refused_and_nothing_changes(
    app, client, login_as, answered, change
):
    fieldwork_id, response_id = answered
    login_as(Role.SUPERVISOR)
    before = _stored(app, response_id)
    form = _edit_form(client, fieldwork_id, response_id)
    data = {
        "revision": form.revision,
        "action": "save",
        **fill(form, {"q1": "4", "reason": "powód"}),
    }
    path, kwargs = form.path, {}
    if change == "no_reason":
        data["reason"] = "   "
    elif change == "bad_value":
        data["q1"] = "dużo"
    elif change == "stale":
        data["revision"] = str(int(form.revision) - 1)
    elif change == "unknown_page":
        path = form.path.rsplit("/", 1)[0] + "/nie-ma"
    elif change == "no_csrf":
        kwargs["csrf"] = False
    else:
        data["revision"] = "x"
    response = client.post(path, data=data, **kwargs)
    expected = {"no_reason": 400, "bad_value": 400, "stale": 409, "unknown_page": 404}
    assert response.status_code == expected.get(change, 400)
    if change == "no_reason":
        assert "Powód korekty" in page_text(response)
    if change == "bad_value":
        assert field_error(response.get_data(as_text=True), "q1")
    if change == "stale":
        assert "Ktoś inny zmienił tę odpowiedź" in page_text(response)
    assert _stored(app, response_id) == before
    with app.extensions["ankieta.db"].session() as session:
        assert session.scalar(select(ResponseChange.id)) is None


def test_interviewers_cannot_correct_and_other_fieldworks_responses_are_404(
    app, client, login_as, answered, clock
):
    fieldwork_id, response_id = answered
    login_as(Role.INTERVIEWER)
    assert client.get(f"/fieldwork/{fieldwork_id}/responses/{response_id}/edit").status_code == 403
    client.post("/logout", data={})
    other = small_fieldwork(app, clock)
    login_as(Role.ANALYST)
    assert client.get(f"/fieldwork/{other}/responses/{response_id}/edit").status_code == 404


Q4_WHEN_NO = """      - type: integer
        name: q4
        label: {pl: "Od kiedy nie działa?", uk: "Відколи?", en: "Since when?"}
        relevant: "${q2} = '2'"
        required: yes
"""


def test_a_correction_that_would_leave_a_complete_response_incomplete_is_refused(
    app, client, clock, login_as
):
    load_small(app, q4=Q4_WHEN_NO)
    fieldwork_id = small_fieldwork(app, clock)
    respondent = Respondent(app.test_client(), unit_token(app, fieldwork_id, "M-01"))
    form = respondent.begin()
    assert respondent.next(form, {"q1": "3", "q2": ["1"], "q3": "", "q4": None}) is None
    with app.extensions["ankieta.db"].session() as session:
        response_id = session.scalar(select(Response.id))
    before = _stored(app, response_id)
    login_as(Role.ANALYST)
    form = _screen_with(client, _edit_form(client, fieldwork_id, response_id), "q2")
    data = fill(form, {"q2": ["2"], "q4": None, "reason": "pomyłka"})
    refused = client.post(form.path, data={"revision": form.revision, "action": "save", **data})
    assert refused.status_code == 400
    text = page_text(refused)
    assert "po tej korekcie brakowałoby tych odpowiedzi lub byłyby błędne: q4" in text
    assert _stored(app, response_id) == before
    # on the interviewer's screens q4 is a screen of its own: re-opening is the way
    assert "otwierając odpowiedź ponownie do poprawy" in text
