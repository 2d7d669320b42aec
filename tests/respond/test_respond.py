"""The respondent's form under pressure, and the analyst's side of it.

Two tabs at once, stale pages, hostile or broken input, closed and unknown links; the
analyst's list of institutions, the response viewer and re-opening for correction; the
open (anonymous) link; the privacy headers of respondent pages.
"""

from __future__ import annotations

import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from sqlalchemy import event, select

from app.models.base import Base
from app.models.fieldwork import Fieldwork, ResponseChange
from app.models.users import Role
from tests.support import page_text, unit_token
from tests.support.respondent import (
    REQUIRED,
    SCENARIOS,
    Respondent,
    field_error,
    fill,
    form_value,
    parse_form,
    response_count,
    stored,
)

UNKNOWN_TOKEN = "A" * 32  # well-formed, but no link has it
STALE_NOTICE = re.compile(
    r'<div class="notice" role="alert">Te odpowiedzi zostały zmienione w innym oknie '
    r"lub na innym urządzeniu po otwarciu tej strony\.[^<]*nie zostały zapisane"
)


@pytest.fixture
def cis_kis(app, make_fieldwork):
    """The CIS/KIS monitoring in the field; a Respondent for its first institution."""

    def factory(*, state: str = "open", client=None) -> Respondent:
        fieldwork_id = make_fieldwork("monitoring_cis_kis", state=state)
        token = unit_token(app, fieldwork_id, "K-01")
        return Respondent(client or app.test_client(), token, fieldwork_id)

    return factory


def _together(*calls):
    """Run the calls at the same moment in separate threads; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=10)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result(timeout=60) for f in [pool.submit(run, c) for c in calls]]


# --- two tabs, stale pages ------------------------------------------------------------------


def test_starting_the_same_link_twice_at_once_creates_one_response(app, cis_kis):
    tab1 = cis_kis()
    tab2 = Respondent(app.test_client(), tab1.token)
    for tab in (tab1, tab2):
        assert tab.client.get(tab.link).status_code == 200

    first, second = _together(
        lambda: tab1.client.post(f"{tab1.link}/start", data={}),
        lambda: tab2.client.post(f"{tab2.link}/start", data={}),
    )

    assert first.status_code == second.status_code == 302
    assert first.location == second.location and first.location.endswith("/p/a")
    assert response_count(app, tab1.fieldwork_id) == 1


def test_the_same_page_sent_from_two_tabs_at_once_saves_one_and_tells_the_other(app, cis_kis):
    tab1 = cis_kis()
    tab2 = Respondent(app.test_client(), tab1.token)
    tab1.begin()
    answers = SCENARIOS["monitoring_cis_kis"].answers
    for round_ in range(3):
        form1 = tab1.open(f"{tab1.link}/p/a")
        form2 = tab2.open(f"{tab2.link}/p/a")
        assert form1.revision == form2.revision
        sent1 = fill(form1, {**answers, "a1": "cis", "a4": str(2010 + round_)})
        sent2 = fill(form2, {**answers, "a1": "kis", "a4": str(2020 + round_)})

        results = _together(partial(tab1.send, form1, sent1), partial(tab2.send, form2, sent2))

        assert sorted(r.status_code for r in results) == [302, 409]
        winner = sent1 if results[0].status_code == 302 else sent2
        loser = results[1] if results[0].status_code == 302 else results[0]
        saved = stored(app, tab1.token)
        assert saved.revision == int(form1.revision) + 1  # saved once, not twice
        assert saved.answers["a1"] == winner["a1"]
        assert saved.answers["a4"] == int(winner["a4"])  # the whole page, not a mix
        assert STALE_NOTICE.search(loser.get_data(as_text=True))
        assert form_value(parse_form(loser), "a4") == winner["a4"]  # what is stored now
    assert response_count(app, tab1.fieldwork_id) == 1


def test_two_tabs_sending_different_pages_at_once_lose_neither(app, cis_kis):
    tab1 = cis_kis()
    tab2 = Respondent(app.test_client(), tab1.token)
    answers = SCENARIOS["monitoring_cis_kis"].answers
    tab1.begin()
    page_a = tab1.open(f"{tab1.link}/p/a")
    page_b = tab2.open(f"{tab2.link}/p/b")

    results = _together(
        lambda: tab1.send(page_a, fill(page_a, answers)),
        lambda: tab2.send(page_b, fill(page_b, answers)),
    )

    assert sorted(r.status_code for r in results) == [302, 409]
    told = results[0] if results[0].status_code == 409 else results[1]
    assert STALE_NOTICE.search(told.get_data(as_text=True))
    again = parse_form(told)  # the respondent sends the page again from the notice
    again_sent = again.path.rsplit("/", 1)[-1]
    tab = tab1 if again_sent == "a" else tab2
    assert tab.send(again, fill(again, answers)).status_code == 302
    saved = stored(app, tab1.token).answers
    assert saved["a1"] == "kis" and saved["b1_k"] == 3  # both pages are there


def test_a_stale_page_is_refused_with_409_and_the_newer_answers_kept(app, cis_kis):
    old_tab = cis_kis()
    old_tab.begin()
    stale = old_tab.open(f"{old_tab.link}/p/a")
    new_tab = Respondent(app.test_client(), old_tab.token)
    fresh = new_tab.open(f"{new_tab.link}/p/a")
    answers = SCENARIOS["monitoring_cis_kis"].answers
    assert new_tab.send(fresh, fill(fresh, {**answers, "a4": "2012"})).status_code == 302

    response = old_tab.send(stale, fill(stale, {**answers, "a1": "cis", "a4": "2005"}))

    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert STALE_NOTICE.search(text)
    shown = parse_form(response)
    assert form_value(shown, "a4") == "2012" and form_value(shown, "a1") == ["kis"]
    assert int(shown.revision) == int(stale.revision) + 1
    saved = stored(app, old_tab.token)
    assert saved.answers["a4"] == 2012 and saved.answers["a1"] == "kis"
    # Sent again from the page that said so, it is accepted.
    assert old_tab.send(shown, fill(shown, {**answers, "a4": "2005"})).status_code == 302
    assert stored(app, old_tab.token).answers["a4"] == 2005


# --- bad input ------------------------------------------------------------------------------


def _started(cis_kis, **kwargs):
    respondent = cis_kis(**kwargs)
    form = respondent.begin()
    return respondent, form


def _statements(app):
    """The SQL statements the app sends while the block runs (a list filled as they go)."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def recording():
        engine = app.extensions["ankieta.db"].engine
        sent: list[str] = []

        def record(_conn, _cursor, statement, *_args):
            sent.append(" ".join(statement.split()))

        event.listen(engine, "before_cursor_execute", record)
        try:
            yield sent
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return recording()


def test_saving_a_page_reads_the_link_once_and_writes_once(app, cis_kis):
    # The respondent's hot path: the link (with its fieldwork and version, and whether the
    # response was ever re-opened) in one SELECT, the answers in one UPDATE; no look-up of
    # re-openings of its own, and never the definition's source.
    respondent, form = _started(cis_kis)
    data = fill(form, SCENARIOS["monitoring_cis_kis"].answers)
    with _statements(app) as sent:
        assert respondent.send(form, data).status_code == 302
    queries = [s for s in sent if not s.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]
    assert len(queries) == 2, queries
    link, save = queries
    assert link.startswith("SELECT") and "response_change" in link
    assert "survey_version.source," not in link and "survey_version.source " not in link
    assert save.startswith("UPDATE response SET")
    with _statements(app) as sent:
        assert respondent.client.get(respondent.link).status_code == 200  # the start page again
    assert [s for s in sent if s.startswith("SELECT")] == [link]  # the same statement


def test_showing_and_saving_a_page_build_no_orm_objects(app, cis_kis):
    # The link is read into plain records (app.respond.services.Link) and saved by an
    # UPDATE: an ORM object built on every respondent request costs more than its query.
    respondent, form = _started(cis_kis)
    loaded = []

    def count(target, _context):
        loaded.append(type(target).__name__)

    event.listen(Base, "load", count, propagate=True)
    try:
        response = respondent.send(form, fill(form, SCENARIOS["monitoring_cis_kis"].answers))
        assert response.status_code == 302
        shown = respondent.client.get(response.location)
        assert shown.status_code == 200
    finally:
        event.remove(Base, "load", count)
    assert 'name="revision"' in shown.text  # the next page's form
    assert loaded == []


def test_a_respondents_pages_and_saves_leave_the_session_cookie_alone(app, cis_kis):
    # The session (its CSRF token) is written once, when the link is first opened; after
    # that, nobody being logged in, no page or save sends a cookie again (Flask-Login's
    # session protection has nothing to protect, so it neither rewrites the session nor
    # deletes a remember-me cookie).
    respondent, form = _started(cis_kis)
    response = respondent.send(form, fill(form, SCENARIOS["monitoring_cis_kis"].answers))
    assert response.status_code == 302
    shown = respondent.client.get(response.location)
    assert shown.status_code == 200
    for answer in (response, shown):
        assert answer.headers.getlist("Set-Cookie") == []
    assert respondent.client.get(respondent.link).headers.getlist("Set-Cookie") == []


def test_a_page_of_forged_fields_only_stores_nothing(app, cis_kis):
    respondent, form = _started(cis_kis)
    response = respondent.send(form, {"zzz_forged": "x", "b1_k": "5", "a1_other": "y"})
    assert response.status_code == 200
    assert field_error(response.get_data(as_text=True), "a1") == f"Błąd: {REQUIRED}"
    saved = stored(app, respondent.token)
    assert saved.answers == {} and saved.revision == 0


def test_forged_fields_sent_with_a_valid_page_are_dropped_and_logged(app, cis_kis, caplog):
    respondent, form = _started(cis_kis)
    data = fill(form, SCENARIOS["monitoring_cis_kis"].answers)
    caplog.set_level(logging.WARNING)
    response = respondent.send(form, {**data, "zzz_forged": "x", "b1_k": "5", "h3": "01.01.2026"})
    assert response.status_code == 302
    answers = stored(app, respondent.token).answers
    assert answers["a1"] == "kis"
    assert not {"zzz_forged", "b1_k", "h3"} & set(answers)
    assert "fields not on the page ignored: b1_k, h3, zzz_forged" in caplog.text


def test_an_answer_for_a_question_that_does_not_apply_is_not_stored(app, cis_kis):
    respondent, form = _started(cis_kis)
    data = fill(form, {**SCENARIOS["monitoring_cis_kis"].answers, "a1": "kis", "a5": "40"})
    assert respondent.send(form, data).status_code == 302  # a5 asks only a CIS
    assert "a5" not in stored(app, respondent.token).answers


def test_a_5_mb_text_is_refused_without_an_error_500_and_nothing_is_stored(app, cis_kis):
    respondent, form = _started(cis_kis)
    data = fill(form, {**SCENARIOS["monitoring_cis_kis"].answers, "a2": "inny"})
    response = respondent.send(form, {**data, "a2_other": "x" * (5 * 1024 * 1024)})
    if response.status_code == 413:  # the request refused whole (a form size limit)
        assert "Wysłany plik lub formularz jest większy" in page_text(response)
    else:  # or the value refused at its field
        assert response.status_code == 200
        assert field_error(response.get_data(as_text=True), "a2_other") == (
            "Błąd: Tekst jest za długi: dozwolona długość to 255 znaków."
        )
    saved = stored(app, respondent.token)
    assert saved.answers == {} and saved.revision == 0


def test_a_text_over_the_length_limit_is_refused_at_the_field(app, cis_kis):
    respondent, form = _started(cis_kis)
    data = fill(form, {**SCENARIOS["monitoring_cis_kis"].answers, "a2": "inny"})
    response = respondent.send(form, {**data, "a2_other": "x" * 300})
    assert response.status_code == 200
    assert (
        field_error(response.get_data(as_text=True), "a2_other")
        == "Błąd: Tekst jest za długi: dozwolona długość to 255 znaków."
    )
    saved = stored(app, respondent.token)
    assert saved.answers == {} and saved.revision == 0


def test_invalid_utf8_in_a_field_is_refused_and_nothing_is_stored(app, cis_kis):
    respondent, form = _started(cis_kis)
    token = respondent.client.csrf_token()
    fields = f"revision={form.revision}&action=next&a1=kis&a2=inny&a3=2025&a2_other="
    invalid = b"Stowarzyszenie \xff\xfe\xc3"

    # The body cannot be decoded: a bad request (not a misleading "form expired").
    response = respondent.client.post(
        form.path,
        data=f"csrf_token={token}&{fields}".encode() + invalid,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "Nieprawidłowe żądanie" in page_text(response)

    # With the token in a header the page itself is reached: it finds no answers in it.
    response = respondent.client.post(
        form.path,
        data=fields.encode() + invalid,
        content_type="application/x-www-form-urlencoded",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)
    saved = stored(app, respondent.token)
    assert saved.answers == {} and saved.revision == 0


@pytest.mark.parametrize("token", ["", "forged-token"], ids=["missing", "wrong"])
def test_a_page_without_a_valid_csrf_token_is_refused_and_nothing_stored(app, cis_kis, token):
    respondent, form = _started(cis_kis)
    data = fill(form, SCENARIOS["monitoring_cis_kis"].answers)
    data = {**data, "revision": form.revision, "action": "next"}
    if token:
        response = respondent.client.post(form.path, data={**data, "csrf_token": token})
    else:
        response = respondent.client.post(form.path, data=data, csrf=False)
    assert response.status_code == 400
    assert "Formularz wygasł" in page_text(response)
    saved = stored(app, respondent.token)
    assert saved.answers == {} and saved.revision == 0


def test_starting_without_a_csrf_token_creates_no_response(app, cis_kis):
    respondent = cis_kis()
    response = respondent.client.post(f"{respondent.link}/start", data={}, csrf=False)
    assert response.status_code == 400
    assert response_count(app, respondent.fieldwork_id) == 0


@pytest.mark.parametrize(
    "path",
    [
        f"/r/{UNKNOWN_TOKEN}",
        f"/r/{UNKNOWN_TOKEN}/p/a",
        f"/r/{UNKNOWN_TOKEN}/done",
        f"/r/{UNKNOWN_TOKEN}/resume",
        "/r/abc",  # too short to be a link
        f"/o/{UNKNOWN_TOKEN}",
    ],
)
def test_an_unknown_link_says_in_polish_that_it_does_not_work(client, path):
    response = client.get(path)
    assert response.status_code == 404
    text = page_text(response)
    assert "Ten link nie działa" in text
    assert "Skopiuj cały link z zaproszenia albo poproś nadawcę o nowy." in text


def test_posting_to_an_unknown_link_is_404_and_stores_nothing(app, cis_kis):
    respondent = cis_kis()
    assert respondent.client.post(f"/r/{UNKNOWN_TOKEN}/start", data={}).status_code == 404
    assert (
        respondent.client.post(
            f"/r/{UNKNOWN_TOKEN}/p/a", data={"revision": "0", "a1": "kis"}
        ).status_code
        == 404
    )
    assert respondent.client.post(f"/o/{UNKNOWN_TOKEN}", data={}).status_code == 404
    assert response_count(app, respondent.fieldwork_id) == 0


def test_an_unknown_page_of_a_valid_link_is_404(cis_kis):
    respondent = cis_kis()
    respondent.begin()
    assert respondent.client.get(f"{respondent.link}/p/no_such_page").status_code == 404


def test_a_closed_fieldworks_link_says_closed_and_post_stores_nothing(app, cis_kis):
    respondent = cis_kis(state="closed")
    response = respondent.client.get(respondent.link)
    assert response.status_code == 200
    text = page_text(response)
    assert "Ta ankieta jest zamknięta i nie przyjmuje już odpowiedzi." in text
    assert "Rozpocznij" not in text and f"{respondent.link}/start" not in response.text
    started = respondent.client.post(f"{respondent.link}/start", data={})
    assert started.status_code == 302 and started.location == respondent.link
    assert response_count(app, respondent.fieldwork_id) == 0


def test_answers_sent_after_the_fieldwork_closed_are_not_stored(app, cis_kis):
    respondent, form = _started(cis_kis)
    with app.extensions["ankieta.db"].session() as session:
        fieldwork = session.get(Fieldwork, respondent.fieldwork_id)
        fieldwork.close(fieldwork.opened_at)
    response = respondent.send(form, fill(form, SCENARIOS["monitoring_cis_kis"].answers))
    assert response.status_code == 302 and response.location == respondent.link
    assert "Ta ankieta jest zamknięta" in page_text(respondent.client.get(respondent.link))
    saved = stored(app, respondent.token)
    assert saved.answers == {} and saved.revision == 0


def test_a_draft_fieldworks_link_says_not_started_and_post_stores_nothing(app, cis_kis):
    respondent = cis_kis(state="draft")
    text = page_text(respondent.client.get(respondent.link))
    assert "Ta ankieta nie jest jeszcze dostępna. Wróć, gdy zostanie otwarta." in text
    assert "Rozpocznij" not in text
    started = respondent.client.post(f"{respondent.link}/start", data={})
    assert started.status_code == 302 and started.location == respondent.link
    assert response_count(app, respondent.fieldwork_id) == 0


@pytest.mark.parametrize("revision", ["abc", "", "1e3", None])
def test_a_page_with_a_broken_revision_is_refused_with_400(app, cis_kis, revision):
    respondent, form = _started(cis_kis)
    data = {**fill(form, SCENARIOS["monitoring_cis_kis"].answers), "action": "next"}
    if revision is not None:
        data["revision"] = revision
    response = respondent.client.post(form.path, data=data)
    assert response.status_code == 400
    assert "Nieprawidłowe żądanie" in page_text(response)
    saved = stored(app, respondent.token)
    assert saved.answers == {} and saved.revision == 0


# --- the analyst's view -----------------------------------------------------------------------

UNITS = [
    ("K-01", "KIS w Żorach", {"entity_type": "KIS", "subregion": "południowy"}),
    ("C-02", "CIS w Gliwicach", {"entity_type": "CIS", "subregion": "środkowy"}),
    ("C-03", "CIS w Rybniku", {"entity_type": "CIS", "subregion": "zachodni"}),
]


@pytest.fixture
def fieldwork_in_progress(app, make_fieldwork):
    """K-01 has sent its answers, C-02 has saved the first page, C-03 has not started."""
    fieldwork_id = make_fieldwork("monitoring_cis_kis", units=UNITS)
    answers = SCENARIOS["monitoring_cis_kis"].answers
    complete = Respondent(app.test_client(), unit_token(app, fieldwork_id, "K-01"))
    complete.walk(answers)
    partial = Respondent(app.test_client(), unit_token(app, fieldwork_id, "C-02"))
    partial.next(partial.begin(), {**answers, "a1": "cis"})
    return fieldwork_id, complete


def _institution_rows(response) -> list[tuple[str, str]]:
    """(identifier, status) of each row of the institutions table."""
    text = response.get_data(as_text=True)
    table = text[text.index('id="units-heading"') :]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = [
            re.sub(r"<[^>]+>|\s+", " ", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
        if cells:
            rows.append((cells[0], cells[5]))
    return rows


def test_analyst_sees_institutions_with_status_and_filters_them(
    client, login_as, fieldwork_in_progress
):
    fieldwork_id, _ = fieldwork_in_progress
    login_as(Role.ANALYST)
    page = client.get(f"/fieldwork/{fieldwork_id}")
    assert page.status_code == 200
    assert sorted(_institution_rows(page)) == [
        ("C-02", "w toku"),
        ("C-03", "nie rozpoczęto"),
        ("K-01", "ukończono"),
    ]
    progress = re.search(
        r'<td class="num">3</td><td class="num">2</td>\s*'
        r'<td class="num">1</td><td class="num">1</td>',
        page.text,
    )
    assert progress, "sample 3, started 2, partial 1, complete 1"

    def ids(query: str) -> list[str]:
        response = client.get(f"/fieldwork/{fieldwork_id}?{query}")
        assert response.status_code == 200
        return sorted(identifier for identifier, _ in _institution_rows(response))

    assert ids("subregion=%C5%9Brodkowy") == ["C-02"]
    assert ids("entity_type=CIS") == ["C-02", "C-03"]
    assert ids("status=complete") == ["K-01"]
    assert ids("status=in_progress") == ["C-02"]
    assert ids("status=not_started") == ["C-03"]
    assert ids("entity_type=CIS&status=not_started") == ["C-03"]
    assert ids("subregion=zachodni&entity_type=KIS") == []


def test_response_viewer_shows_the_answers_as_the_respondent_saw_them(
    app, client, login_as, fieldwork_in_progress
):
    fieldwork_id, complete = fieldwork_in_progress
    login_as(Role.ANALYST)
    listing = client.get(f"/fieldwork/{fieldwork_id}")
    link = re.search(rf'href="(/fieldwork/{fieldwork_id}/responses/\d+)">ukończono<', listing.text)
    response = client.get(link.group(1))
    assert response.status_code == 200
    text = page_text(response)
    assert "KIS w Żorach" in text and "ukończono" in text
    assert "A. Dane jednostki" in text and "H. Uwagi i zakończenie" in text
    assert "C. Uczestnicy według grup" in text  # relevant here: 5 participants
    html = response.get_data(as_text=True)
    assert re.search(r'id="q-a1-kis"[^>]*checked[^>]*disabled', html)
    assert re.search(r'id="q-b1_k" name="b1_k" value="3"[^>]*readonly', html)
    assert "Powód korekty" in text  # the re-open form


def test_reopened_response_accepts_changes_again_and_logs_them(
    app, client, login_as, fieldwork_in_progress
):
    fieldwork_id, respondent = fieldwork_in_progress
    analyst = login_as(Role.ANALYST)
    listing = client.get(f"/fieldwork/{fieldwork_id}")
    viewer = re.search(
        rf'href="(/fieldwork/{fieldwork_id}/responses/\d+)">ukończono<', listing.text
    ).group(1)
    assert respondent.client.get(respondent.link).location.endswith("/done")

    refused = client.post(f"{viewer}/reopen", data={"reason": "  "})
    assert refused.status_code == 400
    assert stored(app, respondent.token).status == "complete"
    reopened = client.post(f"{viewer}/reopen", data={"reason": "Błędna liczba uczestniczek"})
    assert reopened.status_code == 302
    assert "Ankieta została otwarta do korekty" in page_text(client.get(reopened.location))
    assert stored(app, respondent.token).status == "in_progress"

    assert respondent.client.get(respondent.link).status_code == 200  # no longer "done"
    form = respondent.open(f"{respondent.link}/p/b")
    assert form_value(form, "b1_k") == "3"
    answers = SCENARIOS["monitoring_cis_kis"].answers
    form = respondent.next(form, {**answers, "b1_k": "4"})
    while form is not None:
        form = respondent.next(form, answers)
    assert stored(app, respondent.token).status == "complete"

    with app.extensions["ankieta.db"].session() as session:
        changes = session.scalars(select(ResponseChange).order_by(ResponseChange.id)).all()
        log = [
            (c.action, c.variable, c.old_value, c.new_value, c.reason, c.user_id) for c in changes
        ]
    reason = "Błędna liczba uczestniczek"
    assert log[0][0] == "reopened" and log[0][4] == reason and log[0][5] == analyst.id
    assert ("changed", "b1_k", 3, 4, reason, analyst.id) in log[1:]
    assert {entry[1] for entry in log[1:]} <= {"b1_k", "b1"}  # nothing else changed


# --- the open link ----------------------------------------------------------------------------


def test_open_link_starts_a_new_anonymous_response_each_time_and_each_resumes(app, make_fieldwork):
    fieldwork_id = make_fieldwork("ocena_koordynacji", open_link=True)
    with app.extensions["ankieta.db"].session() as session:
        open_token = session.get(Fieldwork, fieldwork_id).open_link_token
    browser = app.test_client()
    start = browser.get(f"/o/{open_token}")
    assert start.status_code == 200
    text = page_text(start)
    assert "Ocena koordynacji ekonomii społecznej w województwie" in text
    assert "Ta ankieta jest anonimowa" in text and "Instytucja:" not in text

    resume_links = []
    for _ in range(2):
        began = browser.post(f"/o/{open_token}", data={})
        assert began.status_code == 302
        resume = re.fullmatch(r"/r/([A-Za-z0-9_-]+)/resume", began.location)
        assert resume, began.location
        resume_links.append(resume.group(1))
        first = browser.get(began.location)
        assert first.status_code == 302 and first.location.endswith("/p/a")
    assert resume_links[0] != resume_links[1]
    assert response_count(app, fieldwork_id) == 2

    respondent = Respondent(browser, resume_links[0])
    form = respondent.open(f"{respondent.link}/p/a")
    respondent.next(form, {"a1": "ngo"})
    assert stored(app, resume_links[0]).answers["a1"] == "ngo"
    assert stored(app, resume_links[1]).answers == {}

    elsewhere = Respondent(app.test_client(), resume_links[0])
    assert "Kontynuuj" in page_text(elsewhere.client.get(elsewhere.link))
    resumed = elsewhere.begin()
    assert resumed.page_id == "b"
    first = elsewhere.open(f"{elsewhere.link}/p/a")
    assert form_value(first, "a1") == ["ngo"]
    assert response_count(app, fieldwork_id) == 2


def test_a_closed_open_link_starts_nothing(app, make_fieldwork):
    fieldwork_id = make_fieldwork("ocena_koordynacji", open_link=True, state="closed")
    with app.extensions["ankieta.db"].session() as session:
        open_token = session.get(Fieldwork, fieldwork_id).open_link_token
    browser = app.test_client()
    assert "Ta ankieta jest zamknięta" in page_text(browser.get(f"/o/{open_token}"))
    assert browser.post(f"/o/{open_token}", data={}).status_code == 302
    assert response_count(app, fieldwork_id) == 0


# --- headers ----------------------------------------------------------------------------------


def test_respondent_pages_send_no_referrer_and_are_not_cached(app, cis_kis):
    respondent = cis_kis()
    answers = SCENARIOS["monitoring_cis_kis"].answers
    responses = [respondent.client.get(respondent.link)]
    form = respondent.begin()
    responses.append(respondent.client.get(form.path))
    responses.append(respondent.send(form, {"a1": "nie-ma-takiej"}))  # errors shown
    responses.append(respondent.send(form, fill(form, answers), action="later"))
    responses.append(respondent.client.get(f"/r/{UNKNOWN_TOKEN}"))
    stale = respondent.send(form, fill(form, answers))  # the revision has moved on
    assert stale.status_code == 409
    responses.append(stale)
    respondent.walk(answers)
    responses.append(respondent.client.get(f"{respondent.link}/done"))
    for response in responses:
        assert response.headers["Referrer-Policy"] == "no-referrer", response.request.path
        assert response.headers["Cache-Control"] == "no-store", response.request.path
