"""The audit log: every kind of action leaves exactly its event; the viewer; append-only.

Actions are done through the real pages (the test client, address 127.0.0.1) and commands
(the CLI runner, actor ``cli:<os user>``); refused actions leave no event (except a failed
login, which is one). The viewer is for admins, filters, pages; the table refuses UPDATE
and DELETE on both databases; no contact data ever reaches an event.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from app.models.audit import AuditEvent
from app.models.cati import Case
from app.models.fieldwork import Response, ResponseChange, SampleUnit
from app.models.users import Role, User
from app.platform import audit as audit_module
from tests.support import SHIPPED, TEST_PASSWORD, database, page_text, polish, signed_in, unit_token
from tests.support.files import prepare_file
from tests.support.respondent import SCENARIOS, Respondent, fill

IP = "127.0.0.1"


def events(app, action: str | None = None) -> list[AuditEvent]:
    with database(app).session() as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        found = list(session.scalars(query))
        session.expunge_all()
        return found


def count(app) -> int:
    with database(app).session() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent))


def row(event: AuditEvent) -> tuple:
    return (event.action, event.actor, event.ip, event.target, event.fieldwork_id)


# --- accounts ----------------------------------------------------------------------------------


def test_logins_logout_and_password_change_are_logged(app, client, make_user):
    ola = make_user("ola", Role.ANALYST)
    wrong = client.post("/login", data={"username": "Ola ", "password": "zle-haslo-123"})
    assert wrong.status_code == 200
    [failed] = events(app)
    assert row(failed) == ("auth.login_failed", "", IP, "user ola", None)
    assert failed.actor_id is None and "reason" in failed.detail
    assert TEST_PASSWORD not in str(failed.detail) and "zle-haslo" not in str(failed.detail)
    assert client.post("/login", data={"username": "ola", "password": TEST_PASSWORD}).status_code
    changed = client.post(
        "/password",
        data={
            "current": TEST_PASSWORD,
            "new": "nowe-dlugie-haslo-42",
            "confirm": "nowe-dlugie-haslo-42",
        },
    )
    assert changed.status_code == 302
    assert client.post("/logout", data={}).status_code == 302
    logged = [row(e) for e in events(app)]
    assert logged == [
        ("auth.login_failed", "", IP, "user ola", None),
        ("auth.login", "ola", IP, "user ola", None),
        ("auth.password_changed", "ola", IP, "user ola", None),
        ("auth.logout", "ola", IP, "user ola", None),
    ]
    assert all(e.actor_id == ola.id for e in events(app)[1:])


def test_a_refused_password_change_leaves_no_event(app, client, make_user):
    make_user("ola", Role.ANALYST)
    signed = client.post("/login", data={"username": "ola", "password": TEST_PASSWORD})
    assert signed.status_code == 302
    before = count(app)
    refused = client.post(
        "/password", data={"current": "zle", "new": "nowe-dlugie-haslo-42", "confirm": "inne"}
    )
    assert refused.status_code == 200  # the form again, with its error
    assert count(app) == before


def test_user_administration_is_logged_and_a_refused_edit_is_not(app, client, login_as):
    admin = login_as(Role.ADMIN)
    created = client.post(
        "/admin/users", data={"username": "nowy", "role": "analyst", "full_name": "Jan Nowy"}
    )
    assert created.status_code == 200
    with database(app).session() as session:
        new_id = session.scalar(select(User.id).where(User.username == "nowy"))
    edited = client.post(
        f"/admin/users/{new_id}",
        data={"full_name": "Jan Nowy-Kowal", "role": "supervisor", "active": "y"},
    )
    assert edited.status_code == 302
    unchanged = client.post(
        f"/admin/users/{new_id}",
        data={"full_name": "Jan Nowy-Kowal", "role": "supervisor", "active": "y"},
    )
    assert unchanged.status_code == 302  # nothing changed: no event
    reset = client.post(f"/admin/users/{new_id}/reset-password", data={})
    assert reset.status_code == 200
    before = count(app)
    refused = client.post(
        f"/admin/users/{admin.id}", data={"full_name": "", "role": "analyst", "active": "y"}
    )
    assert refused.status_code == 400
    assert (
        client.post(f"/admin/users/{new_id}/reset-password", data={}, csrf=False).status_code == 400
    )
    assert count(app) == before
    logged = [(row(e), e.detail, e.actor_id) for e in events(app) if e.action.startswith("user.")]
    assert logged == [
        (("user.created", "admin1", IP, "user nowy", None), {"role": "analyst"}, admin.id),
        (
            ("user.changed", "admin1", IP, "user nowy", None),
            {"full_name": ["Jan Nowy", "Jan Nowy-Kowal"], "role": ["analyst", "supervisor"]},
            admin.id,
        ),
        (("user.password_reset", "admin1", IP, "user nowy", None), {}, admin.id),
    ]


# --- surveys, fieldworks, samples, links, downloads --------------------------------------------


SAMPLE_CSV = (
    "external_id;name;entity_type;subregion;gmina;contact_person;email;phone;telefon_2\n"
    "K-01;Klub Integracji Społecznej w Żorach;KIS;południowy;Żory;Wiesława Pstrokońska;"
    "wieslawa.p@kis.example;321112233;600700800\n"
    "C-02;Centrum Integracji Społecznej w Gliwicach;CIS;centralny;Gliwice;Zdzisław Grzmot;"
    "zgrzmot@cis.example;324445566;\n"
)
CONTACTS = [
    "Wiesława Pstrokońska",
    "wieslawa.p@kis.example",
    "321112233",
    "600700800",
    "Zdzisław Grzmot",
    "zgrzmot@cis.example",
    "324445566",
]


def web_fieldwork(app, client) -> int:
    """Load the monitoring, create a fieldwork, import SAMPLE_CSV, open it: all through pages."""
    definition = (SHIPPED / "monitoring_cis_kis.yaml").read_bytes()
    loaded = client.post(
        "/surveys/",
        data={"definition": (io.BytesIO(definition), "monitoring.yaml")},
        content_type="multipart/form-data",
    )
    assert loaded.status_code == 302, page_text(loaded)
    created = client.post(
        "/fieldwork/", data={"survey": "monitoring_cis_kis", "title": "Audyt 2026"}
    )
    assert created.status_code == 302, page_text(created)
    fieldwork_id = int(re.search(r"/fieldwork/(\d+)", created.location).group(1))
    imported = client.post(
        f"/fieldwork/{fieldwork_id}/sample",
        data={"sample": (io.BytesIO(SAMPLE_CSV.encode()), "proba.csv")},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 302, page_text(imported)
    assert (
        client.post(f"/fieldwork/{fieldwork_id}/state", data={"action": "open"}).status_code == 302
    )
    return fieldwork_id


def test_survey_fieldwork_sample_links_and_downloads_are_logged(app, client, login_as):
    analyst = login_as(Role.ANALYST)
    fieldwork_id = web_fieldwork(app, client)
    assert client.get(f"/fieldwork/{fieldwork_id}/links.csv").status_code == 200
    prepare_file(client, fieldwork_id, kind="csv", complete_only="y")
    prepare_file(client, fieldwork_id, labels="y")
    assert (
        client.post(f"/fieldwork/{fieldwork_id}/state", data={"action": "close"}).status_code == 302
    )
    target = f"fieldwork {fieldwork_id}"
    logged = [(row(e), e.actor_id) for e in events(app) if e.action != "auth.login"]
    assert logged == [
        (("survey.loaded", "analyst1", IP, "survey monitoring_cis_kis", None), analyst.id),
        (("fieldwork.created", "analyst1", IP, target, fieldwork_id), analyst.id),
        (("sample.imported", "analyst1", IP, target, fieldwork_id), analyst.id),
        (("fieldwork.state_changed", "analyst1", IP, target, fieldwork_id), analyst.id),
        (("invitations.exported", "analyst1", IP, target, fieldwork_id), analyst.id),
        (("export.downloaded", "analyst1", IP, target, fieldwork_id), analyst.id),
        (("export.downloaded", "analyst1", IP, target, fieldwork_id), analyst.id),
        (("fieldwork.state_changed", "analyst1", IP, target, fieldwork_id), analyst.id),
    ]
    details = [e.detail for e in events(app) if e.action != "auth.login"]
    assert details[0] == {"file": "monitoring.yaml", "version": 1}
    assert details[1] == {"title": "Audyt 2026", "survey": "monitoring_cis_kis"}
    assert details[2] == {"file": "proba.csv", "institutions": 2}
    assert details[3] == {"state": ["draft", "open"]}
    assert details[5]["format"] == "csv" and details[5]["complete_only"] is True
    assert details[6]["format"] == "xlsx" and details[6]["labels"] is True
    assert details[7] == {"state": ["open", "closed"]}
    # refused: an unknown state action, a broken sample, the same definition again
    before = count(app)
    client.post(f"/fieldwork/{fieldwork_id}/state", data={"action": "explode"})
    client.post(
        f"/fieldwork/{fieldwork_id}/sample",
        data={"sample": (io.BytesIO(b"bez;sensu\n"), "zla.csv")},
        content_type="multipart/form-data",
    )
    assert count(app) == before


def test_command_line_actions_are_logged_as_cli(app, runner, make_fieldwork, tmp_path):
    loaded = runner.invoke(args=["surveys", "load", str(SHIPPED / "jst_gmina.yaml")])
    assert loaded.exit_code == 0, loaded.output
    created = runner.invoke(args=["fieldwork", "create", "jst_gmina", "--title", "Z konsoli"])
    assert created.exit_code == 0, created.output
    new_id = int(created.output.strip())
    fieldwork_id = make_fieldwork()
    closed = runner.invoke(args=["fieldwork", "close", str(fieldwork_id)])
    assert closed.exit_code == 0, closed.output
    out = tmp_path / "odp.xlsx"
    exported = runner.invoke(args=["export", str(fieldwork_id), "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    reported = runner.invoke(args=["report", str(fieldwork_id), "-o", str(tmp_path / "r.xlsx")])
    assert reported.exit_code == 0, reported.output
    sample = tmp_path / "proba.csv"
    sample.write_text("external_id;nazwa;typ\nC-01;CIS w Rybniku;CIS\n", encoding="utf-8")
    imported = runner.invoke(args=["sample", "import", str(new_id), str(sample)])
    assert imported.exit_code == 0, imported.output
    links = tmp_path / "linki.csv"
    exported_links = runner.invoke(args=["invitations", "export", str(new_id), "-o", str(links)])
    assert exported_links.exit_code == 0, exported_links.output
    user = runner.invoke(args=["users", "create", "nowa", "--role", "admin"])
    assert user.exit_code == 0, user.output
    logged = events(app)
    assert [(e.action, e.fieldwork_id) for e in logged] == [
        ("survey.loaded", None),
        ("fieldwork.created", new_id),
        ("fieldwork.state_changed", fieldwork_id),
        ("export.downloaded", fieldwork_id),
        ("report.downloaded", fieldwork_id),
        ("sample.imported", new_id),
        ("invitations.exported", new_id),
        ("user.created", None),
    ]
    assert logged[-1].target == "user nowa" and logged[-1].detail == {"role": "admin"}
    for event in logged:
        assert event.actor.startswith("cli") and event.actor_id is None and event.ip == ""
    assert logged[0].detail["survey"] == "jst_gmina"
    assert logged[2].detail == {"state": ["open", "closed"]}
    assert logged[3].detail["file"] == str(out)
    # a refused command leaves nothing
    before = count(app)
    assert runner.invoke(args=["fieldwork", "close", str(fieldwork_id)]).exit_code != 0
    assert runner.invoke(args=["fieldwork", "close", "999"]).exit_code != 0
    assert runner.invoke(args=["users", "create", "nowa", "--role", "admin"]).exit_code != 0
    assert runner.invoke(args=["users", "create", "inna", "--role", "szef"]).exit_code != 0
    assert count(app) == before


# --- responses and supervisors -----------------------------------------------------------------


def test_reopening_and_each_corrected_answer_are_logged_the_reason_kept_apart(
    app, client, login_as, make_fieldwork
):
    fieldwork_id = make_fieldwork()
    token = unit_token(app, fieldwork_id, "K-01")
    respondent = Respondent(app.test_client(), token)
    answers = SCENARIOS["monitoring_cis_kis"].answers
    respondent.walk(answers)
    analyst = login_as(Role.ANALYST)
    with database(app).session() as session:
        response_id = session.scalar(select(Response.id))
    viewer = f"/fieldwork/{fieldwork_id}/responses/{response_id}"
    before = count(app)
    assert client.post(f"{viewer}/reopen", data={"reason": "   "}).status_code == 400
    assert count(app) == before
    reason = "Błędna liczba uczestników"
    assert client.post(f"{viewer}/reopen", data={"reason": reason}).status_code == 302
    form = respondent.open(f"{respondent.link}/p/b")
    form = respondent.next(form, {**answers, "b1_k": "4"})
    while form is not None:
        form = respondent.next(form, answers)
    [reopened] = events(app, "response.reopened")
    target = f"response {response_id}"
    assert row(reopened) == ("response.reopened", "analyst1", IP, target, fieldwork_id)
    # the reason (free text that may name a person) is kept with the correction, where an
    # erasure can clear it; the append-only log says only that one was given
    assert reopened.actor_id == analyst.id and reopened.detail == {"with_reason": True}
    with database(app).session() as session:
        reasons = session.scalars(
            select(ResponseChange.reason).where(ResponseChange.response_id == response_id)
        ).all()
    assert reasons and set(reasons) == {reason}
    changed = events(app, "response.changed")
    assert changed, "no corrected answer logged"
    b1_k = next(e for e in changed if e.detail["variable"] == "b1_k")
    assert row(b1_k) == ("response.changed", "respondent", "", target, fieldwork_id)
    assert b1_k.actor_id is None
    assert b1_k.detail == {"variable": "b1_k", "old": 3, "new": 4}
    assert {e.detail["variable"] for e in changed} <= {"b1_k", "b1"}


def test_a_correction_saved_but_never_sent_again_is_logged(app, client, login_as, make_fieldwork):
    fieldwork_id = make_fieldwork()
    token = unit_token(app, fieldwork_id, "K-01")
    respondent = Respondent(app.test_client(), token)
    answers = SCENARIOS["monitoring_cis_kis"].answers
    respondent.walk(answers)
    login_as(Role.ANALYST)
    with database(app).session() as session:
        response_id = session.scalar(select(Response.id))
    reason = "Sprawdzenie danych o uczestnikach"
    reopen = f"/fieldwork/{fieldwork_id}/responses/{response_id}/reopen"
    assert client.post(reopen, data={"reason": reason}).status_code == 302
    form = respondent.open(f"{respondent.link}/p/b")
    unchanged = respondent.send(form, fill(form, answers), action="later")
    assert unchanged.status_code == 200
    assert events(app, "response.changed") == []  # saving the same answers changes nothing
    form = respondent.open(f"{respondent.link}/p/b")
    saved = respondent.send(form, fill(form, {**answers, "b1_k": "5"}), action="later")
    assert saved.status_code == 200  # "saved, finish later": the response is not sent again
    with database(app).session() as session:
        assert not session.get(Response, response_id).is_complete
    [changed] = [e for e in events(app, "response.changed") if e.detail["variable"] == "b1_k"]
    assert changed.detail == {"variable": "b1_k", "old": 3, "new": 5}
    assert row(changed) == (
        "response.changed",
        "respondent",
        "",
        f"response {response_id}",
        fieldwork_id,
    )


def test_supervisor_actions_are_logged_and_refused_ones_are_not(
    app, client, login_as, make_fieldwork
):
    fieldwork_id = make_fieldwork()
    boss = login_as(Role.SUPERVISOR)
    with database(app).session() as session:
        case_id = session.scalar(select(Case.id).order_by(Case.id))
    url = f"/supervise/{fieldwork_id}/case/{case_id}/priority"
    before = count(app)
    for bad in ("abc", "", "99999999999"):
        assert client.post(url, data={"priority": bad}).status_code == 400
    assert client.post(url, data={"priority": "5"}, csrf=False).status_code == 400
    assert count(app) == before
    assert client.post(url, data={"priority": "5"}).status_code == 302
    [event] = events(app, "supervisor.action")
    assert row(event) == ("supervisor.action", "supervisor1", IP, f"case {case_id}", fieldwork_id)
    assert event.actor_id == boss.id
    assert event.detail == {"action": "priority", "old": 0, "new": 5}


# --- the viewer --------------------------------------------------------------------------------


def test_the_viewer_is_for_admins_only(app, client, make_user):
    for role in (Role.ANALYST, Role.SUPERVISOR, Role.INTERVIEWER):
        make_user(f"{role.value}7", role)
        assert signed_in(app, f"{role.value}7").get("/admin/audit").status_code == 403
    anonymous = client.get("/admin/audit")
    assert anonymous.status_code == 302 and anonymous.location.startswith("/login")


def test_the_viewer_shows_newest_first_with_polish_labels(app, client, make_user, login_as):
    make_user("ola", Role.ANALYST)
    client.post("/login", data={"username": "ola", "password": "zle-haslo-123"})
    login_as(Role.ADMIN)
    page = client.get("/admin/audit")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    shown = re.findall(r'data-action="([a-z_.]+)">([^<]*)<', body)
    assert [code for code, _ in shown] == ["auth.login", "auth.login_failed"]
    assert [label for _, label in shown] == [
        polish(app, "Logged in"),
        polish(app, "Failed login"),
    ]
    ids = [int(i) for i in re.findall(r'<tr id="event-(\d+)"', body)]
    assert ids == sorted(ids, reverse=True)
    assert IP in page_text(page) and "konto ola" in page_text(page)


def test_the_viewer_filters_by_action_user_fieldwork_and_warsaw_days(app, client, login_as, clock):
    database = app.extensions["ankieta.db"]
    start = clock()  # Monday 16.03.2026 09:30 UTC = 10:30 Warsaw
    with database.session() as session:
        audit_module.record(session, "export.downloaded", start, actor_name="ola", fieldwork_id=1)
        audit_module.record(session, "export.downloaded", start, actor_name="olek", fieldwork_id=2)
        audit_module.record(session, "auth.login", start, actor_name="piotr")
        # 23:30 UTC on Tuesday 17.03 = 00:30 Wednesday 18.03 in Warsaw
        late = start + timedelta(days=1, hours=14)
        audit_module.record(session, "auth.logout", late, actor_name="piotr")
    login_as(Role.ADMIN)

    def shown(query: str) -> list[tuple[str, str]]:
        response = client.get(f"/admin/audit?{query}")
        assert response.status_code == 200, query
        body = response.get_data(as_text=True)
        rows = re.findall(r'<tr id="event-\d+">\s*<td>[^<]*</td>\s*<td>([^<]*)</td>', body)
        actions = re.findall(r'data-action="([a-z_.]+)"', body)
        return list(zip(actions, rows, strict=True))

    assert shown("action=export.downloaded") == [
        ("export.downloaded", "olek"),
        ("export.downloaded", "ola"),
    ]
    assert shown("actor=OLA") == [("export.downloaded", "ola")]
    assert shown("actor=ol") == [("export.downloaded", "olek"), ("export.downloaded", "ola")]
    assert shown("actor=la") == []  # a prefix, not any part
    assert shown("actor=%25") == []  # a wildcard is a literal
    assert shown("fieldwork=2") == [("export.downloaded", "olek")]
    assert shown("since=2026-03-18") == [("auth.logout", "piotr")]
    assert shown("until=2026-03-17&action=auth.logout") == []
    assert shown("since=2026-03-17&until=2026-03-17") == []
    assert shown("since=2026-03-16&until=2026-03-16&actor=piotr") == [("auth.login", "piotr")]
    assert shown("until=2026-03-01") == []  # until before since is accepted: nothing matches


@pytest.mark.parametrize(
    "query", ["fieldwork=abc", "since=16.13.2026", "until=jutro", "action=no.such", "fieldwork=1.5"]
)
def test_a_bad_filter_is_400_not_500(app, client, login_as, query):
    login_as(Role.ADMIN)
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 400
    assert 'id="error-summary"' in response.get_data(as_text=True)


def test_the_viewer_pages_through_older_events(app, client, login_as, clock):
    with app.extensions["ankieta.db"].session() as session:
        for n in range(230):
            audit_module.record(
                session, "export.downloaded", clock(), actor_name=f"u{n:03d}", target=f"t{n}"
            )
    login_as(Role.ADMIN)  # one more event: 231
    seen: list[int] = []
    url = "/admin/audit?action=export.downloaded"
    followed: list[str] = []
    while url:
        body = client.get(url).get_data(as_text=True)
        ids = [int(i) for i in re.findall(r'<tr id="event-(\d+)"', body)]
        assert ids == sorted(ids, reverse=True)
        seen += ids
        older = re.search(r'<a href="([^"]+)">' + re.escape(polish(app, "Older entries")), body)
        url = older.group(1).replace("&amp;", "&") if older else None
        if url:
            followed.append(url)
    assert len(followed) == 2  # three pages: two links to older ones, the filter kept in both
    assert all("action=export.downloaded" in link for link in followed), followed
    assert len(seen) == 230 == len(set(seen))
    # a "before" that is not a number is ignored: the newest page, as without it
    first_page = client.get("/admin/audit").get_data(as_text=True)
    unreadable = client.get("/admin/audit?before=abc")
    assert unreadable.status_code == 200
    newest = re.findall(r'<tr id="event-(\d+)"', first_page)
    assert re.findall(r'<tr id="event-(\d+)"', unreadable.get_data(as_text=True)) == newest


# --- append-only -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_event SET actor = 'nobody'", "DELETE FROM audit_event", "TRUNCATE audit_event"],
)
def test_the_table_refuses_update_delete_and_truncate(app, make_user, statement):
    if statement.startswith("TRUNCATE") and app.config["DATABASE_URL"].startswith("sqlite"):
        statement = "DELETE FROM audit_event WHERE 1"  # SQLite's TRUNCATE optimisation
    with app.extensions["ankieta.db"].session() as session:
        audit_module.record(session, "auth.login", app.config["CLOCK"](), actor_name="ola")
    engine = app.extensions["ankieta.db"].engine
    with pytest.raises(Exception) as refused:  # noqa: PT011 - the driver's own error class
        with engine.begin() as connection:
            connection.execute(text(statement))
    assert "audit_event is append-only" in str(getattr(refused.value, "orig", refused.value))
    [event] = events(app)
    assert event.actor == "ola"


# --- no contact data in the log ------------------------------------------------------------------


def test_no_contact_data_reaches_the_log_after_a_full_walk(
    app, client, login_as, make_user, join_team, runner, tmp_path
):
    login_as(Role.ADMIN)
    fieldwork_id = web_fieldwork(app, client)
    client.get(f"/fieldwork/{fieldwork_id}/links.csv")
    prepare_file(client, fieldwork_id, kind="csv")
    prepare_file(client, fieldwork_id)
    prepare_file(client, fieldwork_id, kind="report")
    # an interviewer on the team calls; the supervisor acts on the case
    make_user("anna", Role.INTERVIEWER)
    interviewer = signed_in(app, "anna")
    assert (
        client.post(
            f"/supervise/{fieldwork_id}/team", data={"interviewers": [str(_id(app, "anna"))]}
        ).status_code
        == 302
    )
    taken = interviewer.post(f"/cati/{fieldwork_id}/next", data={})
    case_id = int(re.search(r"/cati/case/(\d+)", taken.location).group(1))
    with database(app).session() as session:
        phone_id = session.get(Case, case_id).sample_unit.phones[0].id
    dialled = interviewer.post(f"/cati/case/{case_id}/dial", data={"phone_id": str(phone_id)})
    assert dialled.status_code == 302
    ended = interviewer.post(
        f"/cati/case/{case_id}/outcome",
        data={"outcome": "hard_refusal", "note": "Pani Pstrokońska nie chce"},
    )
    assert ended.status_code == 302, page_text(ended)
    client.post(f"/supervise/{fieldwork_id}/case/{case_id}/priority", data={"priority": "3"})
    # the other institution answers online; the admin re-opens it and it is corrected
    with database(app).session() as session:
        token = session.scalar(select(SampleUnit.token).where(SampleUnit.external_id == "K-01"))
    respondent = Respondent(app.test_client(), token)
    answers = SCENARIOS["monitoring_cis_kis"].answers
    respondent.walk(answers)
    with database(app).session() as session:
        response_id = session.scalar(select(Response.id))
    reopened = client.post(
        f"/fieldwork/{fieldwork_id}/responses/{response_id}/reopen", data={"reason": "Korekta"}
    )
    assert reopened.status_code == 302
    form = respondent.open(f"{respondent.link}/p/b")
    form = respondent.next(form, {**answers, "b1_k": "4"})
    while form is not None:
        form = respondent.next(form, answers)
    client.post(f"/fieldwork/{fieldwork_id}/state", data={"action": "close"})
    client.post(f"/fieldwork/{fieldwork_id}/retention", data={"until": "2026-12-31"})
    client.post(f"/fieldwork/{fieldwork_id}/erase-contacts", data={"confirm": "y"})
    exported = runner.invoke(args=["export", str(fieldwork_id), "-o", str(tmp_path / "x.csv")])
    assert exported.exit_code == 0, exported.output
    actions = {e.action for e in events(app)}
    assert {
        "survey.loaded",
        "fieldwork.created",
        "sample.imported",
        "invitations.exported",
        "export.downloaded",
        "report.downloaded",
        "supervisor.action",
        "response.reopened",
        "response.changed",
        "fieldwork.retention_changed",
        "fieldwork.contacts_erased",
    } <= actions
    logged = "\n".join(f"{e.actor} {e.target} {e.detail!r}".lower() for e in events(app))
    leaked = [value for value in CONTACTS if value.lower() in logged]
    assert leaked == [], leaked
    assert "pstrokońska" not in logged  # not even inside a note


def _id(app, username: str) -> int:
    with database(app).session() as session:
        return session.scalar(select(User.id).where(User.username == username))
