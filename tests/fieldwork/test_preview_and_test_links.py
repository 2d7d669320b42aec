"""Preview of a definition version (web and phone) and a fieldwork's test link.

The preview shows the real form with its checks and skips and stores nothing; answers
given through a test link are marked as tests, are not counted in progress or reports,
and are exported only when asked for.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from app.models.fieldwork import Fieldwork, Response
from app.models.surveys import Survey
from tests.support import page_text
from tests.support.files import prepare_file, responses_file
from tests.support.respondent import SCENARIOS, Respondent, field_error, fill, parse_form

MONITORING = SCENARIOS["monitoring_cis_kis"]


def _rows(app, model) -> int:
    with app.extensions["ankieta.db"].session() as session:
        return session.scalar(select(func.count()).select_from(model))


def _survey_id(app, code: str = "monitoring_cis_kis") -> int:
    with app.extensions["ankieta.db"].session() as session:
        return session.scalar(select(Survey.id).where(Survey.code == code))


def _preview_state(response) -> str:
    return re.search(r'name="preview" value="([^"]+)"', response.get_data(as_text=True))[1]


def _send(client, response, data, action="next"):
    form = parse_form(response)
    return client.post(
        response.request.path,
        data={
            "revision": "0",
            "page": re.search(r'name="page" value="([^"]+)"', form.html)[1],
            "preview": _preview_state(response),
            "action": action,
            **data,
        },
    )


@pytest.mark.parametrize("survey", sorted(SCENARIOS))
@pytest.mark.parametrize("mode", ["web", "phone"])
def test_an_analyst_walks_a_version_in_preview_with_its_skips_and_nothing_is_stored(
    app, client, login_as, make_fieldwork, mode, survey
):
    scenario = SCENARIOS[survey]
    make_fieldwork(survey, state="draft")
    login_as("analyst")
    responses_before = _rows(app, Response)
    url = f"/surveys/{_survey_id(app, survey)}/versions/1/preview/{mode}"
    page = client.get(url)
    assert page.status_code == 200
    assert "Podgląd wersji 1, nic nie jest zapisywane." in page_text(page)
    html = page.get_data(as_text=True)
    assert ('class="questionnaire phone-mode"' in html) == (mode == "phone")
    if mode == "phone" and survey == "monitoring_cis_kis":  # the interviewer's options
        assert 'value="__dk__"' in html
    seen = []
    for _ in range(80):
        form = parse_form(page)
        seen.append(re.search(r'name="page" value="([^"]+)"', form.html)[1])
        action = "submit" if "submit" in form.buttons else "next"
        page = _send(client, page, fill(form, scenario.answers), action)
        assert page.status_code == 200, (seen, page_text(page)[:500])
        if "Koniec ankiety" in page_text(page):
            break
    else:
        pytest.fail(f"the preview never ended: {seen}")
    if mode == "web":
        assert seen == scenario.pages  # the same pages (skips) as a respondent gets
    text = page_text(page)
    question, answer = scenario.summary[0]
    assert question in text and answer in text
    assert _rows(app, Response) == responses_before


def test_the_preview_checks_a_page_as_the_form_does(app, client, login_as, make_fieldwork):
    make_fieldwork("monitoring_cis_kis", state="draft")
    login_as("analyst")
    page = client.get(f"/surveys/{_survey_id(app)}/versions/1/preview/web")
    form = parse_form(page)
    again = _send(client, page, {**fill(form, MONITORING.answers), "a4": "1700"})
    assert again.status_code == 400
    assert field_error(again.get_data(as_text=True), "a4")


@pytest.mark.parametrize(
    "change", ["forged", "other_mode", "unknown_page"], ids=["forged", "mode", "page"]
)
def test_a_forged_or_stale_preview_page_is_refused_clearly(
    app, client, login_as, make_fieldwork, change
):
    make_fieldwork("monitoring_cis_kis", state="draft")
    login_as("analyst")
    base = f"/surveys/{_survey_id(app)}/versions/1/preview"
    page = client.get(f"{base}/web")
    data = {"revision": "0", "page": "a", "preview": _preview_state(page), "action": "next"}
    url = f"{base}/web"
    if change == "forged":
        data["preview"] = data["preview"][:-3] + "AAA"
    elif change == "other_mode":
        url = f"{base}/phone"
    else:
        data["page"] = "no-such-page"
    refused = client.post(url, data=data)
    assert refused.status_code == 400
    assert "Ta strona podglądu jest nieaktualna" in page_text(refused)


def test_preview_of_an_unknown_version_or_mode_is_404_and_needs_an_analyst(
    app, client, login_as, make_fieldwork
):
    make_fieldwork("monitoring_cis_kis", state="draft")
    survey_id = _survey_id(app)
    assert client.get(f"/surveys/{survey_id}/versions/1/preview/web").status_code == 302
    login_as("interviewer")
    assert client.get(f"/surveys/{survey_id}/versions/1/preview/web").status_code == 403


def test_preview_links_are_on_the_survey_page(app, client, login_as, make_fieldwork):
    make_fieldwork("monitoring_cis_kis", state="draft")
    login_as("analyst")
    survey_id = _survey_id(app)
    html = client.get(f"/surveys/{survey_id}").get_data(as_text=True)
    assert f"/surveys/{survey_id}/versions/1/preview/web" in html
    assert f"/surveys/{survey_id}/versions/1/preview/phone" in html
    assert client.get(f"/surveys/{survey_id}/versions/9/preview/web").status_code == 404
    assert client.get(f"/surveys/{survey_id}/versions/1/preview/fax").status_code == 404


# --- test links -----------------------------------------------------------------------------


def _test_token(app, fieldwork_id: int) -> str:
    with app.extensions["ankieta.db"].session() as session:
        return session.get(Fieldwork, fieldwork_id).test_link_token


def _answer_through_test_link(app, fieldwork_id: int) -> str:
    client = app.test_client()
    link = f"/t/{_test_token(app, fieldwork_id)}"
    assert "Link testowy" in page_text(client.get(link))
    started = client.post(link, data={})
    assert started.status_code == 302
    resume = client.get(started.location)
    assert resume.status_code == 302
    token = resume.location.split("/")[2]
    respondent = Respondent(client, token)
    form = respondent.open(resume.location)
    assert "Test: te odpowiedzi nie są liczone." in page_text(client.get(form.path))
    while form is not None:
        form = respondent.next(form, MONITORING.answers)
    return token


def test_a_draft_fieldworks_test_link_takes_answers_marked_as_tests_and_not_counted(
    app, client, login_as, make_fieldwork
):
    fieldwork_id = make_fieldwork("monitoring_cis_kis", state="draft")
    _answer_through_test_link(app, fieldwork_id)
    with app.extensions["ankieta.db"].session() as session:
        response = session.scalar(select(Response).where(Response.fieldwork_id == fieldwork_id))
        assert response.is_test and response.is_complete
        assert response.sample_unit_id is None

    login_as("analyst")
    detail = page_text(client.get(f"/fieldwork/{fieldwork_id}"))
    assert "1 odpowiedź testowa" in detail
    progress = re.search(r"Próba Rozpoczęte Częściowe Ukończone (\d+) (\d+) (\d+) (\d+)", detail)
    assert progress.groups() == ("2", "0", "0", "0")


def test_test_responses_are_exported_only_when_asked(app, client, login_as, make_fieldwork):
    fieldwork_id = make_fieldwork("monitoring_cis_kis", state="draft")
    _answer_through_test_link(app, fieldwork_id)
    login_as("analyst")
    plain_csv = responses_file(prepare_file(client, fieldwork_id, kind="csv"), "csv")
    plain = list(csv.reader(io.StringIO(plain_csv.decode("utf-8-sig"))))
    assert len(plain) == 1  # the header only
    asked = responses_file(prepare_file(client, fieldwork_id, kind="csv", include_tests="y"), "csv")
    rows = list(csv.reader(io.StringIO(asked.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 2 and rows[1][rows[0].index("test")] == "1"


def test_test_answers_are_left_out_of_the_report(app, make_fieldwork):
    from app.exports.report import compute

    fieldwork_id = make_fieldwork("monitoring_cis_kis", state="draft")
    _answer_through_test_link(app, fieldwork_id)
    with app.extensions["ankieta.db"].session() as session:
        report = compute(session, session.get(Fieldwork, fieldwork_id), include_partial=True)
        assert report.report.responses == 0


def test_a_closed_fieldworks_test_link_takes_nothing_and_a_forged_one_is_404(app, make_fieldwork):
    fieldwork_id = make_fieldwork("monitoring_cis_kis", state="closed")
    client = app.test_client()
    link = f"/t/{_test_token(app, fieldwork_id)}"
    assert "nie przyjmuje już odpowiedzi" in page_text(client.get(link))
    assert client.post(link, data={}).status_code == 302
    assert _rows(app, Response) == 0
    assert client.get("/t/" + "A" * 32).status_code == 404
    assert client.post("/t/" + "A" * 32, data={}).status_code == 404
    assert _rows(app, Response) == 0


def test_a_test_response_resumes_from_its_link_while_the_fieldwork_is_a_draft(app, make_fieldwork):
    fieldwork_id = make_fieldwork("monitoring_cis_kis", state="draft")
    client = app.test_client()
    started = client.post(f"/t/{_test_token(app, fieldwork_id)}", data={})
    resume = client.get(started.location)
    token = resume.location.split("/")[2]
    respondent = Respondent(app.test_client(), token)  # later, another device
    start = page_text(respondent.client.get(respondent.link))
    assert "nie jest jeszcze dostępna" not in start and "Kontynuuj" in start
    form = respondent.begin()
    assert respondent.send(form, fill(form, MONITORING.answers), "later").status_code == 200
    with app.extensions["ankieta.db"].session() as session:
        response = session.scalar(select(Response).where(Response.open_token == token))
        assert response.is_test and response.answers["a1"] == "kis"
