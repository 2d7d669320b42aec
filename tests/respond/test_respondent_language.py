"""The respondent's language: the questionnaire's own languages are offered on the
respondent's page, and each response records the language it was given in."""

from __future__ import annotations

from sqlalchemy import select

from app.models.fieldwork import Response
from tests.support import page_text, unit_token
from tests.support.respondent import Respondent
from tests.support.small_survey import load_small, small_fieldwork


def _language_of(app, fieldwork_id: int) -> str:
    with app.extensions["ankieta.db"].session() as session:
        return session.scalar(
            select(Response.language).where(Response.fieldwork_id == fieldwork_id)
        )


def test_the_questionnaires_own_language_is_offered_and_recorded(app, clock):
    load_small(app)
    fieldwork_id = small_fieldwork(app, clock)
    respondent = Respondent(app.test_client(), unit_token(app, fieldwork_id, "M-01"))
    start = respondent.client.get(respondent.link).get_data(as_text=True)
    # a button for each other language: the application's and then the questionnaire's own
    assert '<button type="submit" name="lang" value="uk" lang="uk">Українська</button>' in start
    assert 'name="lang" value="pl"' not in start  # the language shown has no button

    changed = respondent.client.post("/language", data={"lang": "uk", "next": respondent.link})
    assert changed.status_code == 302
    form = respondent.begin()
    text = page_text(respondent.client.get(form.path))
    assert "Кількість працівників" in text and "Мала анкета" in text
    assert "Zapisz i dokończ później" in text  # the application itself stays in Polish
    assert 'name="lang" value="uk"' not in form.html  # now the language shown
    assert '<button type="submit" name="lang" value="pl" lang="pl">Polski</button>' in form.html
    respondent.next(form, {"q1": "3", "q2": ["1"]})
    assert _language_of(app, fieldwork_id) == "uk"


def test_a_language_the_questionnaire_lacks_falls_back_and_records_the_default(app, clock):
    from tests.support.respondent import fill

    load_small(app)
    fieldwork_id = small_fieldwork(app, clock)
    respondent = Respondent(app.test_client(), unit_token(app, fieldwork_id, "M-01"))
    for hostile in ("de", "<script>", "x" * 500):
        assert respondent.client.post("/language", data={"lang": hostile}).status_code == 302
    form = respondent.begin()
    assert "Liczba pracowników" in page_text(respondent.client.get(form.path))
    respondent.next(form, fill(form, {"q1": "3", "q2": ["1"]}))
    assert _language_of(app, fieldwork_id) == "pl"


def test_english_chosen_in_the_app_is_recorded_as_english(app, clock):
    load_small(app)
    fieldwork_id = small_fieldwork(app, clock)
    respondent = Respondent(app.test_client(), unit_token(app, fieldwork_id, "M-01"))
    respondent.client.post("/language", data={"lang": "en"})
    form = respondent.begin()
    assert "Employees" in page_text(respondent.client.get(form.path))
    respondent.next(form, {"q1": "3", "q2": ["1"]})
    assert _language_of(app, fieldwork_id) == "en"


def test_a_phone_interview_records_the_language_the_interviewer_read_it_in(
    app, client, clock, login_as, join_team
):
    from tests.support.phone import dial, interview_to_the_end, take_next, taken_case_id

    load_small(app)
    fieldwork_id = small_fieldwork(app, clock)
    join_team(fieldwork_id, login_as("interviewer"))
    client.post("/language", data={"lang": "en"})
    case_id = taken_case_id(take_next(client, fieldwork_id))
    dial(client, app, case_id)
    interview_to_the_end(client, case_id, {"q1": "3", "q2": ["1"]})
    assert _language_of(app, fieldwork_id) == "en"
