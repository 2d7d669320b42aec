"""Corrections during fieldwork: moving a fieldwork to a newer version of its definition.

Compatible changes (texts, new optional questions, new choices, removed questions) move the
fieldwork and its responses in progress; complete responses keep their version; answers to
removed questions stay stored and exported; a changed type, a removed choice or a new
required question is refused with nothing changed. On the fieldwork page and by command.
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.upgrade import compare
from app.models.audit import AuditEvent
from app.models.fieldwork import Fieldwork, Response
from app.models.surveys import SurveyVersion, flow_of
from tests.support import page_text, unit_token
from tests.support.files import prepare_file
from tests.support.respondent import Respondent, fill
from tests.support.small_survey import load_small, small_fieldwork

Q4_OPTIONAL = """      - type: select_one tak_nie
        name: q4
        label: {pl: "Czy ma statut?", uk: "Статут?", en: "Statute?"}
"""
Q4_REQUIRED = Q4_OPTIONAL + "        required: yes\n"
MORE_CHOICES = """  tak_nie_x:
    - {name: "9", label: {pl: "X", uk: "X", en: "X"}}
"""


def _flows(app) -> list[Flow]:
    with app.extensions["ankieta.db"].session() as session:
        versions = session.scalars(select(SurveyVersion).order_by(SurveyVersion.number)).all()
        return [flow_of(v) for v in versions]


def _version_of_fieldwork(app, fieldwork_id: int) -> int:
    with app.extensions["ankieta.db"].session() as session:
        return session.get(Fieldwork, fieldwork_id).survey_version.number


def _response_versions(app, fieldwork_id: int) -> dict[str, int]:
    with app.extensions["ankieta.db"].session() as session:
        rows = session.execute(
            select(Response, SurveyVersion.number)
            .join(SurveyVersion, SurveyVersion.id == Response.survey_version_id)
            .where(Response.fieldwork_id == fieldwork_id)
        ).all()
        return {r.sample_unit.external_id: n for r, n in rows}


def _answer(app, fieldwork_id: int, external_id: str, answers: dict, *, finish: bool) -> Respondent:
    respondent = Respondent(app.test_client(), unit_token(app, fieldwork_id, external_id))
    form = respondent.begin()
    action = "submit" if finish else "later"
    response = respondent.send(form, fill(form, answers), action)
    # sent: on to the thank-you page; saved for later: a page saying so, with the link
    assert response.status_code == (302 if finish else 200)
    return respondent


def test_compare_lists_compatible_changes_and_refuses_the_rest(app):
    load_small(app)
    load_small(app, a_label="O instytucji (poprawione)", q4=Q4_OPTIONAL, q3=False)
    load_small(app, q1_type="text")
    load_small(app, q4=Q4_REQUIRED)
    v1, v2, v3, v4 = _flows(app)
    ok = compare(v1, v2)
    assert ok.ok and ok.added == ["q4"] and ok.removed == ["q3"]
    assert [m.render() for m in compare(v1, v3).refused] == [
        "q1: the type changed from integer to text."
    ]
    assert [m.render() for m in compare(v1, v4).refused] == [
        "q4: a new required question (complete responses lack it)."
    ]


def test_a_removed_choice_is_refused_and_a_new_one_listed(app):
    from app.surveys import services
    from tests.support.small_survey import small_definition

    load_small(app)
    text = small_definition().decode()
    no = '    - {name: "2", label: {pl: "Nie", uk: "Ні", en: "No"}}\n'
    assert no in text
    maybe = '    - {name: "3", label: {pl: "Nie wiem", uk: "Не знаю", en: "Maybe"}}\n'
    for changed in (text.replace(no, ""), text.replace(no, no + maybe)):
        with app.extensions["ankieta.db"].session() as session:
            assert services.load_bytes(session, changed.encode(), "maly.yaml").ok
    v1, without_no, with_maybe = _flows(app)
    assert [m.render() for m in compare(v1, without_no).refused] == ["q2: answer codes removed: 2."]
    assert compare(v1, with_maybe).ok
    assert compare(v1, with_maybe).new_choices == ["q2: 3"]


def test_the_fieldwork_page_checks_and_moves_to_a_compatible_version_audited(
    app, client, clock, login_as
):
    load_small(app)
    fieldwork_id = small_fieldwork(app, clock)
    _answer(app, fieldwork_id, "M-01", {"q1": "3", "q2": ["1"], "q3": "uwaga"}, finish=True)
    _answer(app, fieldwork_id, "M-02", {"q1": "5", "q2": ["2"], "q3": ""}, finish=False)
    load_small(app, a_label="O instytucji (poprawione)", q4=Q4_OPTIONAL, q3=False)
    login_as("analyst")

    detail = client.get(f"/fieldwork/{fieldwork_id}").get_data(as_text=True)
    assert f"/fieldwork/{fieldwork_id}/upgrade?to=2" in detail
    check = page_text(client.get(f"/fieldwork/{fieldwork_id}/upgrade?to=2"))
    assert "Wersja 1 → 2." in check
    assert "Nowe pytania nieobowiązkowe: q4" in check
    assert "Usunięte pytania (ich odpowiedzi pozostają zapisane i w eksporcie): q3" in check
    assert "Odpowiedzi w trakcie przenoszone do nowej wersji: 1" in check
    assert "Ukończone odpowiedzi (zachowują wersję, na której zostały udzielone): 1" in check
    assert _version_of_fieldwork(app, fieldwork_id) == 1  # the check changes nothing

    moved = client.post(f"/fieldwork/{fieldwork_id}/upgrade", data={"from": "1", "to": "2"})
    assert moved.status_code == 302
    assert _version_of_fieldwork(app, fieldwork_id) == 2
    assert _response_versions(app, fieldwork_id) == {"M-01": 1, "M-02": 2}
    with app.extensions["ankieta.db"].session() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "fieldwork.upgraded"))
        assert event.detail["version"] == [1, 2] and event.detail["moved"] == 1

    # the link still works and shows the corrected texts; q3's answer is still exported
    respondent = Respondent(app.test_client(), unit_token(app, fieldwork_id, "M-02"))
    form = respondent.begin()
    assert "A. O instytucji (poprawione)" in page_text(respondent.client.get(form.path))
    exported = prepare_file(client, fieldwork_id, kind="csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(exported), delimiter=";"))
    header = rows[0]
    assert "q3" in header and "q4" in header
    by_id = {row[header.index("id_zewnętrzne")]: row for row in rows[1:]}
    assert by_id["M-01"][header.index("q3")] == "uwaga"


def test_an_incompatible_version_is_refused_on_the_page_and_nothing_changes(
    app, client, clock, login_as
):
    load_small(app)
    fieldwork_id = small_fieldwork(app, clock)
    load_small(app, q1_type="text")
    login_as("analyst")
    check = page_text(client.get(f"/fieldwork/{fieldwork_id}/upgrade?to=2"))
    assert "Odrzucone: q1: typ zmienił się z integer na text." in check
    assert "Nowa wersja nie jest zgodna; nic nie zmieniono." in check
    refused = client.post(f"/fieldwork/{fieldwork_id}/upgrade", data={"from": "1", "to": "2"})
    assert refused.status_code == 302
    assert "Nowa wersja nie jest zgodna" in page_text(client.get(refused.location))
    assert _version_of_fieldwork(app, fieldwork_id) == 1


@pytest.mark.parametrize(
    ("data", "status"),
    [
        # a version that is not newer, or none at all: back to the fieldwork, with why
        ({"from": "1", "to": "1"}, 302),
        ({"from": "1", "to": "7"}, 302),
        # not a version number: a bad request
        ({"from": "1", "to": "x"}, 400),
        # checked against a version the fieldwork is not on: "check again"
        ({"from": "2", "to": "2"}, 302),
    ],
    ids=["same", "unknown", "garbage", "stale"],
)
def test_a_hostile_or_stale_upgrade_post_changes_nothing(
    app, client, clock, login_as, data, status
):
    load_small(app)
    fieldwork_id = small_fieldwork(app, clock)
    load_small(app, a_label="Poprawione")
    login_as("analyst")
    response = client.post(f"/fieldwork/{fieldwork_id}/upgrade", data=data)
    assert response.status_code == status
    if status == 302:
        assert response.location.endswith(f"/fieldwork/{fieldwork_id}")
    assert _version_of_fieldwork(app, fieldwork_id) == 1
    no_csrf = client.post(
        f"/fieldwork/{fieldwork_id}/upgrade", data={"from": "1", "to": "2"}, csrf=False
    )
    assert no_csrf.status_code == 400
    assert _version_of_fieldwork(app, fieldwork_id) == 1


def test_the_upgrade_command_dry_runs_then_moves(app, runner, clock):
    load_small(app)
    fieldwork_id = small_fieldwork(app, clock)
    load_small(app, a_label="Poprawione", q4=Q4_OPTIONAL)
    dry = runner.invoke(args=["fieldwork", "upgrade", str(fieldwork_id), "--to", "2", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Nowe pytania nieobowiązkowe: q4" in dry.output
    assert "Tylko sprawdzenie: nic nie zmieniono." in dry.output
    assert _version_of_fieldwork(app, fieldwork_id) == 1
    done = runner.invoke(args=["fieldwork", "upgrade", str(fieldwork_id), "--to", "2"])
    assert done.exit_code == 0, done.output
    assert "Badanie 1 używa teraz wersji 2." in done.output
    assert _version_of_fieldwork(app, fieldwork_id) == 2
    with app.extensions["ankieta.db"].session() as session:
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "fieldwork.upgraded"))


def test_the_upgrade_command_refuses_an_incompatible_or_older_version(app, runner, clock):
    load_small(app)
    load_small(app, q4=Q4_REQUIRED)
    fieldwork_id = small_fieldwork(app, clock)  # of version 2
    older = runner.invoke(args=["fieldwork", "upgrade", str(fieldwork_id), "--to", "1"])
    assert older.exit_code == 1 and "wybierz nowszą" in older.output
    load_small(app, q4=Q4_REQUIRED, q1_type="decimal")
    refused = runner.invoke(args=["fieldwork", "upgrade", str(fieldwork_id), "--to", "3"])
    assert refused.exit_code == 1
    assert "q1: typ zmienił się z integer na decimal." in refused.output
    assert _version_of_fieldwork(app, fieldwork_id) == 2


def test_two_moves_checked_at_the_same_time_cannot_both_happen(app, clock):
    from app.fieldwork import upgrades
    from app.fieldwork.services import FieldworkError

    load_small(app)
    fieldwork_id = small_fieldwork(app, clock)
    load_small(app, a_label="Poprawione")
    load_small(app, a_label="Poprawione jeszcze raz")
    with app.extensions["ankieta.db"].session() as session:
        fieldwork = session.get(Fieldwork, fieldwork_id)
        to_2 = upgrades.plan_upgrade(session, fieldwork, 2)
        to_3 = upgrades.plan_upgrade(session, fieldwork, 3)
        upgrades.upgrade(session, to_2, clock())
        with pytest.raises(FieldworkError):
            upgrades.upgrade(session, to_3, clock())
    assert _version_of_fieldwork(app, fieldwork_id) == 2
