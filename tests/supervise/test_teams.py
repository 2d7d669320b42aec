"""Interviewer teams, and ids that cannot be walked.

Only interviewers on a fieldwork's team see it, get its cases and open their case pages;
the supervisor changes the team on the fieldwork's page (logged, audited) and taking
someone off gives back what they hold. Case ids, export job keys and personal-link tokens
of other people lead nowhere.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models.audit import AuditEvent
from app.models.cati import Case, SupervisorAction
from app.models.fieldwork import FieldworkInterviewer, SampleUnit
from app.models.users import Role
from tests.support import database, page_text, polish, signed_in, unit_token
from tests.support.files import prepare_file
from tests.support.respondent import SCENARIOS, Respondent, form_value, stored

UNITS = [
    ("A-01", "Centrum Integracji Społecznej w Gliwicach", {"entity_type": "CIS"}),
    ("B-02", "Klub Integracji Społecznej w Żorach", {"entity_type": "KIS"}),
    ("C-03", "Klub Integracji Społecznej w Rybniku", {"entity_type": "KIS"}),
]


def team_ids(app, fieldwork_id: int) -> set[int]:
    with database(app).session() as session:
        return set(
            session.scalars(
                select(FieldworkInterviewer.user_id).where(
                    FieldworkInterviewer.fieldwork_id == fieldwork_id
                )
            )
        )


def case_ids(app, fieldwork_id: int) -> list[int]:
    with database(app).session() as session:
        return list(
            session.scalars(
                select(Case.id).where(Case.fieldwork_id == fieldwork_id).order_by(Case.id)
            )
        )


def case_row(app, case_id: int) -> tuple:
    with database(app).session() as session:
        case = session.get(Case, case_id)
        return case.claimed_by_id, case.assigned_interviewer_id


def team_actions(app, fieldwork_id: int) -> list[SupervisorAction]:
    with database(app).session() as session:
        return list(
            session.scalars(
                select(SupervisorAction)
                .where(
                    SupervisorAction.fieldwork_id == fieldwork_id,
                    SupervisorAction.action == "team",
                )
                .order_by(SupervisorAction.id)
            )
        )


def audit_events(app, action: str) -> list[AuditEvent]:
    with database(app).session() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def take_next(client, fieldwork_id: int):
    return client.post(f"/cati/{fieldwork_id}/next", data={})


def case_of(response) -> int:
    assert response.status_code == 302, response.status_code
    return int(re.search(r"/cati/case/(\d+)", response.location).group(1))


@pytest.fixture
def setting(app, make_fieldwork, make_user):
    """An open fieldwork of three institutions, interviewers ania and basia, a supervisor."""
    fieldwork_id = make_fieldwork(units=UNITS, title="Monitoring zespołów")
    ania = make_user("ania", Role.INTERVIEWER)
    basia = make_user("basia", Role.INTERVIEWER)
    boss = make_user("szefowa", Role.SUPERVISOR)
    return {
        "fieldwork": fieldwork_id,
        "ania": ania.id,
        "basia": basia.id,
        "boss": boss.id,
        "ania_client": signed_in(app, "ania"),
        "boss_client": signed_in(app, "szefowa"),
    }


def post_team(s: dict, *values) -> object:
    return s["boss_client"].post(
        f"/supervise/{s['fieldwork']}/team", data={"interviewers": [str(v) for v in values]}
    )


# --- off the team, on the team ------------------------------------------------------------------


def test_an_interviewer_off_the_team_sees_nothing_and_gets_no_case(app, setting, join_team):
    s = setting
    ania = s["ania_client"]
    listing = ania.get("/cati/")
    assert listing.status_code == 200
    assert "Monitoring zespołów" not in page_text(listing)
    assert take_next(ania, s["fieldwork"]).status_code == 404
    # basia, on the team, holds a case: ania cannot open it, nor an unheld one
    join_team(s["fieldwork"], s["basia"])
    held = case_of(take_next(signed_in(app, "basia"), s["fieldwork"]))
    for case_id in case_ids(app, s["fieldwork"]):
        assert ania.get(f"/cati/case/{case_id}").status_code == 404, case_id
    refused = ania.post(f"/cati/case/{held}/outcome", data={"outcome": "hard_refusal"})
    assert refused.status_code == 404
    assert case_row(app, held) == (s["basia"], None)


def test_added_on_the_supervisor_page_the_interviewer_gets_cases(app, setting):
    s = setting
    page = s["boss_client"].get(f"/supervise/{s['fieldwork']}")
    assert f'id="team-{s["ania"]}"' in page.get_data(as_text=True)
    saved = post_team(s, s["ania"])
    assert saved.status_code == 302, page_text(saved)
    assert team_ids(app, s["fieldwork"]) == {s["ania"]}
    page = s["boss_client"].get(f"/supervise/{s['fieldwork']}").get_data(as_text=True)
    assert re.search(rf'id="team-{s["ania"]}" value="{s["ania"]}" checked', page)
    assert "Monitoring zespołów" in page_text(s["ania_client"].get("/cati/"))
    case_id = case_of(take_next(s["ania_client"], s["fieldwork"]))
    assert s["ania_client"].get(f"/cati/case/{case_id}").status_code == 200
    [action] = team_actions(app, s["fieldwork"])
    assert (action.user_id, action.detail) == (s["boss"], {"old": [], "new": [s["ania"]]})


def test_removing_an_interviewer_releases_their_cases_and_is_logged(app, setting, join_team):
    s = setting
    join_team(s["fieldwork"], s["ania"], s["basia"])
    held = case_of(take_next(s["ania_client"], s["fieldwork"]))
    bound = next(c for c in case_ids(app, s["fieldwork"]) if c != held)
    assigned = s["boss_client"].post(
        f"/supervise/{s['fieldwork']}/case/{bound}/assign", data={"interviewer": str(s["ania"])}
    )
    assert assigned.status_code == 302
    assert case_row(app, held) == (s["ania"], None)
    assert case_row(app, bound) == (None, s["ania"])

    removed = post_team(s, s["basia"])
    assert removed.status_code == 302, page_text(removed)
    assert team_ids(app, s["fieldwork"]) == {s["basia"]}
    assert case_row(app, held) == (None, None)
    assert case_row(app, bound) == (None, None)
    # she loses the case page at once and gets no new case
    assert s["ania_client"].get(f"/cati/case/{held}").status_code == 404
    assert take_next(s["ania_client"], s["fieldwork"]).status_code == 404
    assert "Monitoring zespołów" not in page_text(s["ania_client"].get("/cati/"))
    # logged on the supervisor's list (with the Polish label) and in the audit log
    [action] = team_actions(app, s["fieldwork"])
    assert action.detail == {"old": [s["ania"], s["basia"]], "new": [s["basia"]]}
    log = s["boss_client"].get(f"/supervise/{s['fieldwork']}").get_data(as_text=True)
    actions_table = re.search(r'<table id="actions">.*?</table>', log, re.S).group(0)
    assert polish(app, "Team changed") in page_text_of(actions_table)
    [event] = [e for e in audit_events(app, "supervisor.action") if e.detail["action"] == "team"]
    assert (event.actor, event.actor_id) == ("szefowa", s["boss"])
    assert (event.ip, event.fieldwork_id) == ("127.0.0.1", s["fieldwork"])
    assert event.detail["old"] == [s["ania"], s["basia"]] and event.detail["new"] == [s["basia"]]
    # basia still works
    assert take_next(signed_in(app, "basia"), s["fieldwork"]).status_code == 302


def page_text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))


def test_assigning_a_case_to_someone_off_the_team_is_refused(app, setting, join_team):
    s = setting
    join_team(s["fieldwork"], s["basia"])
    case_id = case_ids(app, s["fieldwork"])[0]
    refused = s["boss_client"].post(
        f"/supervise/{s['fieldwork']}/case/{case_id}/assign", data={"interviewer": str(s["ania"])}
    )
    assert refused.status_code == 400
    assert case_row(app, case_id) == (None, None)
    with database(app).session() as session:
        assert session.scalar(select(SupervisorAction.id)) is None
    assert audit_events(app, "supervisor.action") == []


@pytest.mark.parametrize("value", ["9999", "boss", "abc", "-1"])
def test_refused_team_posts_change_nothing(app, setting, join_team, value):
    s = setting
    join_team(s["fieldwork"], s["basia"])
    value = str(s["boss"]) if value == "boss" else value
    refused = post_team(s, s["ania"], value)
    assert refused.status_code == 400
    assert team_ids(app, s["fieldwork"]) == {s["basia"]}
    assert team_actions(app, s["fieldwork"]) == []
    assert audit_events(app, "supervisor.action") == []


def test_a_team_post_without_csrf_is_refused(app, setting):
    s = setting
    refused = s["boss_client"].post(
        f"/supervise/{s['fieldwork']}/team", data={"interviewers": [str(s["ania"])]}, csrf=False
    )
    assert refused.status_code == 400
    assert team_ids(app, s["fieldwork"]) == set()


def test_an_interviewer_cannot_change_the_team(app, setting):
    s = setting
    refused = s["ania_client"].post(
        f"/supervise/{s['fieldwork']}/team", data={"interviewers": [str(s["ania"])]}
    )
    assert refused.status_code == 403
    assert team_ids(app, s["fieldwork"]) == set()


def test_cli_adds_removes_and_lists_the_team(app, runner, setting):
    s = setting
    fieldwork = str(s["fieldwork"])
    added = runner.invoke(args=["fieldwork", "team", fieldwork, "--add", "ania", "--add", "basia"])
    assert added.exit_code == 0, added.output
    assert f"Zespół badania {fieldwork}: ania, basia" in added.output
    assert team_ids(app, s["fieldwork"]) == {s["ania"], s["basia"]}
    removed = runner.invoke(args=["fieldwork", "team", fieldwork, "--remove", "ania"])
    assert removed.exit_code == 0, removed.output
    assert team_ids(app, s["fieldwork"]) == {s["basia"]}
    listed = runner.invoke(args=["fieldwork", "team", fieldwork])
    assert listed.exit_code == 0 and f"Zespół badania {fieldwork}: basia" in listed.output
    actions = team_actions(app, s["fieldwork"])
    assert [a.detail for a in actions] == [
        {"old": [], "new": [s["ania"], s["basia"]]},
        {"old": [s["ania"], s["basia"]], "new": [s["basia"]]},
    ]
    events = audit_events(app, "supervisor.action")
    assert len(events) == 2 and all(e.actor.startswith("cli") for e in events)
    assert all(e.actor_id is None and e.ip == "" for e in events)


@pytest.mark.parametrize("args", [["--add", "nikt"], ["--remove", "nikt"], ["--add", "szefowa"]])
def test_cli_refuses_unknown_users_and_non_interviewers(app, runner, setting, args):
    s = setting
    result = runner.invoke(args=["fieldwork", "team", str(s["fieldwork"]), *args])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert team_ids(app, s["fieldwork"]) == set()
    assert team_actions(app, s["fieldwork"]) == []


def test_cli_team_of_an_unknown_fieldwork_is_an_error(runner, setting):
    result = runner.invoke(args=["fieldwork", "team", "999", "--add", "ania"])
    assert result.exit_code != 0 and "Traceback" not in result.output


# --- ids cannot be walked -----------------------------------------------------------------------


def test_case_ids_of_own_and_other_fieldworks_cannot_be_walked(
    app, make_fieldwork, setting, join_team
):
    s = setting
    other = make_fieldwork(units=UNITS, title="Inne badanie")
    join_team(s["fieldwork"], s["ania"], s["basia"])
    join_team(other, s["basia"])
    basia = signed_in(app, "basia")
    held_by_basia = {case_of(take_next(basia, s["fieldwork"])), case_of(take_next(basia, other))}
    mine = case_of(take_next(s["ania_client"], s["fieldwork"]))
    every = case_ids(app, s["fieldwork"]) + case_ids(app, other)
    assert len(every) == 6
    # an id no case has answers like someone else's: probing says nothing
    for case_id in [*every, max(every) + 1, 999_999]:
        expected = 200 if case_id == mine else 404
        assert s["ania_client"].get(f"/cati/case/{case_id}").status_code == expected, case_id
        if case_id != mine:
            posted = s["ania_client"].post(
                f"/cati/case/{case_id}/outcome", data={"outcome": "hard_refusal"}
            )
            assert posted.status_code == 404, case_id
            interview = s["ania_client"].get(f"/cati/case/{case_id}/interview")
            assert interview.status_code == 404, case_id
    for case_id in held_by_basia:
        assert case_row(app, case_id) == (s["basia"], None)


def test_an_analyst_cannot_open_another_analysts_export_job(app, make_fieldwork, make_user):
    fieldwork_id = make_fieldwork(units=UNITS)
    make_user("ola", Role.ANALYST)
    make_user("piotr", Role.ANALYST)
    ola = signed_in(app, "ola")
    prepare_file(ola, fieldwork_id)
    job_page = ola.post(f"/fieldwork/{fieldwork_id}/files", data={"kind": "responses"}).location
    key = job_page.rsplit("/", 1)[-1]
    assert ola.get(f"/files/{key}").status_code == 200
    piotr = signed_in(app, "piotr")
    for path in (f"/files/{key}", f"/files/{key}/status", f"/files/{key}/download"):
        assert piotr.get(path).status_code == 404, path
    # and piotr's own files page does not list ola's file
    assert key not in piotr.get(f"/fieldwork/{fieldwork_id}/files").get_data(as_text=True)
    assert audit_events(app, "export.downloaded")[0].actor == "ola"
    assert len(audit_events(app, "export.downloaded")) == 1


def test_a_personal_link_opens_only_its_own_institutions_response(app, make_fieldwork):
    fieldwork_id = make_fieldwork()  # K-01 (KIS) and C-02 (CIS)
    answers = SCENARIOS["monitoring_cis_kis"].answers
    kis = Respondent(app.test_client(), unit_token(app, fieldwork_id, "K-01"))
    cis = Respondent(app.test_client(), unit_token(app, fieldwork_id, "C-02"))
    kis_form = kis.begin()
    cis_form = cis.begin()
    kis_form = kis.next(kis_form, {**answers, "a1": "kis"})
    cis_form = cis.next(cis_form, {**answers, "a1": "cis"})
    kis_b = kis.open(f"{kis.link}/p/b")
    cis_b = cis.open(f"{cis.link}/p/b")
    kis.next(kis_b, {**answers, "b1_k": "3"})
    cis.next(cis_b, {**answers, "b1_k": "7"})
    assert stored(app, kis.token).answers["a1"] == "kis"
    assert stored(app, cis.token).answers["a1"] == "cis"
    assert stored(app, kis.token).answers["b1_k"] == 3
    assert stored(app, cis.token).answers["b1_k"] == 7
    # each session, and even the other's session with its link, sees only that link's answers
    assert form_value(kis.open(f"{kis.link}/p/b"), "b1_k") == "3"
    assert form_value(cis.open(f"{cis.link}/p/b"), "b1_k") == "7"
    crossed = Respondent(kis.client, cis.token)
    assert form_value(crossed.open(f"{cis.link}/p/b"), "b1_k") == "7"
    assert stored(app, kis.token).answers["b1_k"] == 3
    with database(app).session() as session:
        tokens = set(
            session.scalars(select(SampleUnit.token).where(SampleUnit.fieldwork_id == fieldwork_id))
        )
    assert tokens == {kis.token, cis.token}
    assert kis.client.get("/r/" + "B" * 32).status_code == 404
