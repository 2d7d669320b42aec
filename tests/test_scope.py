"""Subregional partners: an OWES coordinator of ``zachodni`` sees exactly the ``zachodni``
institutions on every page, in the REST API and in every count, and each attempt to open
another subregion's object by id is a 404 recorded in the audit log."""

from __future__ import annotations

import io
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.models.audit import AuditEvent
from app.models.cati import Case
from app.models.fieldwork import Fieldwork, Response, ResponseStatus, SampleUnit
from app.models.users import Role
from tests.support import ENGLISH_LOCALE, database, page_text, signed_in
from tests.support.calls import MORNING, add_interviewer, case_id_of, cell, figures, make_call
from tests.support.files import prepare_file, responses_file, wait_for_file

PLAN = """\
plan:
  id: plan_slaski
  title: {pl: Plan śląski, en: Silesian plan}
areas:
  - {code: "1", name: {pl: Integracja i reintegracja, en: Integration}}
indicators:
  - id: zatrudnieni
    area: "1"
    name: {pl: Absolwenci zatrudnieni u pracodawcy, en: Graduates employed}
    unit: {pl: osoby, en: people}
    questionnaire: monitoring_cis_kis
    measure: sum
    value: "${d1}"
    targets: {2026: 20}
"""

UNITS = [
    ("Z-1", "CIS Rybnik", {"subregion": "zachodni", "entity_type": "CIS"}),
    ("Z-2", "KIS Wodzisław", {"subregion": "zachodni", "entity_type": "KIS"}),
    ("P-1", "CIS Częstochowa", {"subregion": "północny", "entity_type": "CIS"}),
    ("P-2", "CIS Lubliniec", {"subregion": "północny", "entity_type": "CIS"}),
    ("S-1", "KIS Bielsko", {"subregion": "południowy", "entity_type": "KIS"}),
]
OTHERS = ("CIS Częstochowa", "CIS Lubliniec", "KIS Bielsko")
# external id -> answers of a complete response
ANSWERS = {
    "Z-1": {"a1": "cis", "b2": 10, "d1": 6},
    "P-1": {"a1": "cis", "b2": 5, "d1": 30},
    "S-1": {"a1": "kis", "b2": 2, "d1": 4},
}


@pytest.fixture
def region(app, make_fieldwork, make_user, join_team):
    """A fieldwork over three subregions with responses and calls, a second fieldwork with
    no ``zachodni`` institution, and the accounts: an admin and owes_zachodni."""
    fieldwork_id = make_fieldwork(units=UNITS)
    north_only = make_fieldwork(units=UNITS[2:4], title="Tylko północ")
    anna = add_interviewer(app, "anna", "Anna Nowak")
    join_team(fieldwork_id, anna)
    cases = {ext: case_id_of(app, fieldwork_id, ext) for ext, _, _ in UNITS}
    make_call(app, cases["Z-1"], anna, "complete", MORNING, 20)
    make_call(app, cases["P-1"], anna, "complete", MORNING + timedelta(hours=1), 15)
    make_call(app, cases["P-2"], anna, "hard_refusal", MORNING + timedelta(hours=2), 5, note="Nie")
    make_call(app, cases["S-1"], anna, "no_answer", MORNING + timedelta(hours=3), 1)
    responses = {}
    with database(app).session() as session:
        units = {
            u.external_id: u
            for u in session.scalars(
                select(SampleUnit).where(SampleUnit.fieldwork_id == fieldwork_id)
            )
        }
        fieldwork = session.get(Fieldwork, fieldwork_id)
        fieldwork.closes_on = date(2026, 12, 15)
        for external_id, answers in ANSWERS.items():
            response = Response(
                fieldwork_id=fieldwork_id,
                sample_unit_id=units[external_id].id,
                survey_version_id=fieldwork.survey_version_id,
                answers=answers,
                status=ResponseStatus.COMPLETE.value,
                completed_at=MORNING,
            )
            session.add(response)
            session.flush()
            responses[external_id] = response.id
    make_user("boss", Role.ADMIN)
    make_user("owes_zachodni", Role.COORDINATOR, subregions=["zachodni"])
    admin = signed_in(app, "boss")
    admin.post(
        "/surveys/",
        data={"definition": (io.BytesIO(PLAN.encode()), "plan.yaml")},
        content_type="multipart/form-data",
    )
    return {
        "fieldwork": fieldwork_id,
        "north_only": north_only,
        "cases": cases,
        "responses": responses,
        "anna": anna,
    }


def _denied(app) -> list[AuditEvent]:
    with database(app).session() as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "scope.denied")
                .order_by(AuditEvent.id)
            )
        )


def test_the_coordinator_sees_only_zachodni_on_every_page(app, region) -> None:
    client = signed_in(app, "owes_zachodni")
    fw = region["fieldwork"]
    pages = {
        "/": None,
        "/fieldwork/": None,
        f"/fieldwork/{fw}": ("CIS Rybnik", "KIS Wodzisław"),
        f"/fieldwork/{fw}/responses/{region['responses']['Z-1']}": ("CIS Rybnik",),
        "/monitoring/": ("Monitoring 2026",),
        f"/monitoring/{fw}": ("zachodni",),
        "/supervise/": ("Monitoring 2026",),
        f"/supervise/{fw}": ("CIS Rybnik", "KIS Wodzisław"),
        f"/supervise/{fw}/case/{region['cases']['Z-1']}": ("CIS Rybnik",),
        "/supervise/productivity": ("Anna Nowak",),
    }
    for url, expected in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        text = page_text(response)
        for name in expected or ():
            assert name in text, (url, name)
        for name in (*OTHERS, "północny", "południowy", "Tylko północ"):
            assert name not in text, (url, name)
    assert _denied(app) == []


def test_the_coordinators_counts_are_over_zachodni_only(app, region) -> None:
    client = signed_in(app, "owes_zachodni")
    fw = region["fieldwork"]
    # fieldwork progress: 2 institutions, 1 complete (the region has 5 and 3)
    detail = page_text(client.get(f"/fieldwork/{fw}"))
    progress = detail[detail.index("Postęp") :]
    assert progress.split()[8:12] == ["2", "1", "0", "1"], progress[:200]
    # AAPOR: Z-1 complete, Z-2 not attempted -> I=1, UH=1, RR1 50%
    body = client.get(f"/supervise/{fw}").get_data(as_text=True)
    assert cell(body, "count-I") == "1"
    assert cell(body, "count-R") == "0"
    assert cell(body, "count-total") == "2"
    assert cell(body, "rate-RR1") == "50,0%"
    # productivity: Anna made one call to zachodni (of four)
    productivity = client.get("/supervise/productivity").get_data(as_text=True)
    assert figures(productivity, region["anna"])["calls"] == "1"
    # indicator: only Z-1's 6 people are summed (the region's total is 40)
    indicators = page_text(client.get(f"/monitoring/{fw}"))
    row = indicators[indicators.index("Absolwenci zatrudnieni u pracodawcy") :]
    assert row.split()[4:6] == ["6", "osoby"], row[:120]
    # the admin, on the same pages, sees the whole region
    admin = signed_in(app, "boss")
    whole = admin.get(f"/supervise/{fw}").get_data(as_text=True)
    assert cell(whole, "count-total") == "5"
    assert (
        figures(admin.get("/supervise/productivity").get_data(as_text=True), region["anna"])[
            "calls"
        ]
        == "4"
    )


def test_another_subregions_objects_by_id_are_404_and_audited(app, region) -> None:
    client = signed_in(app, "owes_zachodni")
    fw, other_fw = region["fieldwork"], region["north_only"]
    foreign_case = region["cases"]["P-1"]
    foreign_response = region["responses"]["P-1"]
    attempts = [
        ("GET", f"/fieldwork/{fw}/responses/{foreign_response}", f"response {foreign_response}"),
        (  # a file sent with it: the same refusal, whatever the key
            "GET",
            f"/fieldwork/{fw}/responses/{foreign_response}/files/{'0' * 32}",
            f"response {foreign_response}",
        ),
        ("GET", f"/supervise/{fw}/case/{foreign_case}", f"case {foreign_case}"),
        ("GET", f"/fieldwork/{other_fw}", f"fieldwork {other_fw}"),
        ("GET", f"/monitoring/{other_fw}", f"fieldwork {other_fw}"),
        ("GET", f"/supervise/{other_fw}", f"fieldwork {other_fw}"),
        ("POST", f"/supervise/{fw}/case/{foreign_case}/priority", f"case {foreign_case}"),
        ("POST", f"/supervise/{fw}/case/{foreign_case}/release", f"case {foreign_case}"),
    ]
    for method, url, _target in attempts:
        data = {"priority": "9"} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        assert response.status_code == 404, url
        assert "CIS Częstochowa" not in page_text(response)
    events = _denied(app)
    assert [(e.actor, e.target) for e in events] == [
        ("owes_zachodni", target) for _m, _u, target in attempts
    ]
    with database(app).session() as session:
        assert session.get(Case, foreign_case).priority != 9
    # a missing object is a plain 404, not a refusal
    assert client.get(f"/fieldwork/{fw}/responses/99999").status_code == 404
    assert len(_denied(app)) == len(attempts)
    # the admin opens the same objects
    admin = signed_in(app, "boss")
    assert admin.get(f"/fieldwork/{fw}/responses/{foreign_response}").status_code == 200


def test_a_scoped_account_may_not_use_the_whole_region_actions(app, region) -> None:
    client = signed_in(app, "owes_zachodni")
    fw = region["fieldwork"]
    for url in (f"/fieldwork/{fw}/links.csv", "/cati/", f"/fieldwork/{fw}/mail"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/supervise/{fw}/team", data={}).status_code == 403
    body = client.get(f"/supervise/{fw}").get_data(as_text=True)
    assert f"/supervise/{fw}/team" not in body
    assert f"/supervise/{fw}/calling-hours" not in body
    detail = client.get(f"/fieldwork/{fw}").get_data(as_text=True)
    for hidden in ("links.csv", "/state", "/sample", "/mail"):
        assert f"/fieldwork/{fw}{hidden}" not in detail, hidden


def test_a_scope_by_entity_type_narrows_further(app, region, make_user) -> None:
    make_user("owes_kis", Role.SUPERVISOR, subregions=["zachodni"], entity_types=["KIS"])
    client = signed_in(app, "owes_kis")
    text = page_text(client.get(f"/supervise/{region['fieldwork']}"))
    assert "KIS Wodzisław" in text and "CIS Rybnik" not in text
    assert (
        client.get(f"/supervise/{region['fieldwork']}/case/{region['cases']['Z-1']}").status_code
        == 404
    )


def _sheet(workbook: bytes, name: str) -> list[list]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(workbook), read_only=True)
    return [list(row) for row in book[name].iter_rows(values_only=True)]


def test_the_coordinators_files_hold_only_zachodni(app, region) -> None:
    client = signed_in(app, "owes_zachodni")
    fw = region["fieldwork"]
    workbook = prepare_file(client, fw)
    for sheet in ("Połączenia", "Kontakty"):
        text = str(_sheet(workbook, sheet))
        assert "CIS Rybnik" in text, sheet
        for name in OTHERS:
            assert name not in text, (sheet, name)
    everything = str([_sheet(workbook, name) for name in _sheet_names(workbook)])
    assert "Z-1" in everything and "P-1" not in everything and "S-1" not in everything
    csv_text = responses_file(prepare_file(client, fw, kind="csv"), "csv").decode("utf-8-sig")
    assert "Z-1" in csv_text and "P-1" not in csv_text
    report = prepare_file(client, fw, kind="report", by="subregion")
    report_text = str([_sheet(report, name) for name in _sheet_names(report)])
    assert "zachodni" in report_text and "północny" not in report_text
    with database(app).session() as session:
        from app.models.jobs import ExportJob

        scopes = {str(job.options.get("scope")) for job in session.scalars(select(ExportJob))}
    assert scopes == {str({"subregions": ["zachodni"], "entity_types": []})}


def _sheet_names(workbook: bytes) -> list[str]:
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(workbook), read_only=True).sheetnames


def test_another_accounts_or_a_wider_file_is_refused_and_audited(app, region) -> None:
    fw = region["fieldwork"]
    admin = signed_in(app, "boss")
    response = admin.post(f"/fieldwork/{fw}/files", data={"kind": "responses"})
    admins_job = response.headers["Location"]
    assert wait_for_file(admin, admins_job)["state"] == "done"
    coordinator = signed_in(app, "owes_zachodni")
    for url in (admins_job, f"{admins_job}/status", f"{admins_job}/download"):
        assert coordinator.get(url).status_code == 404, url
    assert [e.target.split()[0] for e in _denied(app)] == ["file", "file", "file"]
    # the coordinator's own file, once its scope is widened by mistake and narrowed again,
    # is still served only while it holds nothing outside the scope
    own = coordinator.post(f"/fieldwork/{fw}/files", data={"kind": "responses"})
    own_job = own.headers["Location"]
    assert wait_for_file(coordinator, own_job)["state"] == "done"
    with database(app).session() as session:
        from app.platform.accounts import find_user

        user = find_user(session, "owes_zachodni")
        user.subregions = ["zachodni"]
        user.entity_types = ["KIS"]
    assert coordinator.get(f"{own_job}/download").status_code == 404
    assert len(_denied(app)) == 4


def test_commands_run_as_the_coordinator_see_only_zachodni(app, region, runner, tmp_path) -> None:
    fw, other_fw = region["fieldwork"], region["north_only"]
    listing = runner.invoke(args=["fieldwork", "list", "--as", "owes_zachodni"])
    assert listing.exit_code == 0, listing.output
    rows = [line.split("\t") for line in listing.output.splitlines()]
    assert [row[1] for row in rows] == ["Monitoring 2026"]
    assert rows[0][5:8] == ["sample: 2", "partial: 0", "complete: 1"]
    whole = runner.invoke(args=["fieldwork", "list"])
    assert "sample: 5" in whole.output and "Tylko północ" in whole.output
    workbook = tmp_path / "zachodni.xlsx"
    done = runner.invoke(args=["export", str(fw), "-o", str(workbook), "--as", "owes_zachodni"])
    assert done.exit_code == 0, done.output
    everything = str(
        [_sheet(workbook.read_bytes(), n) for n in _sheet_names(workbook.read_bytes())]
    )
    assert "Z-1" in everything and "P-1" not in everything and "CIS Częstochowa" not in everything
    report = tmp_path / "raport.xlsx"
    done = runner.invoke(
        args=["report", str(fw), "-o", str(report), "--by", "subregion", "--as", "owes_zachodni"]
    )
    assert done.exit_code == 0, done.output
    text = str([_sheet(report.read_bytes(), n) for n in _sheet_names(report.read_bytes())])
    assert "zachodni" in text and "północny" not in text
    # another subregion's fieldwork: refused as missing, and audited
    for command in (
        ["export", str(other_fw), "-o", str(tmp_path / "x.xlsx")],
        ["report", str(other_fw), "-o", str(tmp_path / "y.xlsx")],
    ):
        refused = runner.invoke(args=[*command, "--as", "owes_zachodni"])
        assert refused.exit_code != 0
        assert f"Nie ma badania {other_fw}" in refused.output, refused.output
    events = _denied(app)
    assert [e.target for e in events] == [f"fieldwork {other_fw}"] * 2
    assert all(e.actor.endswith("--as owes_zachodni") for e in events)
    unknown = runner.invoke(args=["fieldwork", "list", "--as", "nobody"])
    assert unknown.exit_code != 0 and "nobody" in unknown.output


def test_a_scoped_interviewer_gets_only_its_subregions_cases(app, region, make_user, join_team):
    from app.models.fieldwork import Fieldwork as FieldworkModel

    fw = region["fieldwork"]
    with database(app).session() as session:
        session.get(FieldworkModel, fw).calling_hours = "pn-nd 0:00-23:59"
    caller = make_user("dzwoni_zachod", Role.INTERVIEWER, subregions=["zachodni"])
    join_team(fw, caller)
    client = signed_in(app, "dzwoni_zachod")
    assert "Tylko północ" not in page_text(client.get("/cati/"))
    # Z-1 is complete: the only zachodni case left to call is Z-2, then nothing
    first = client.post(f"/cati/{fw}/next", data={})
    assert first.status_code == 302
    assert first.headers["Location"] == f"/cati/case/{region['cases']['Z-2']}"
    assert "KIS Wodzisław" in page_text(client.get(first.headers["Location"]))
    # a supervisor (who may open any case) limited to zachodni: another's case is refused
    make_user("nadzor_zachod", Role.SUPERVISOR, subregions=["zachodni"])
    supervisor = signed_in(app, "nadzor_zachod")
    assert supervisor.get(f"/cati/case/{region['cases']['Z-1']}").status_code == 200
    for case_id in (region["cases"]["S-1"], region["cases"]["P-2"]):
        assert supervisor.get(f"/cati/case/{case_id}").status_code == 404
    assert supervisor.post(f"/cati/{region['north_only']}/next", data={}).status_code == 404
    assert [e.target for e in _denied(app)] == [
        f"case {region['cases']['S-1']}",
        f"case {region['cases']['P-2']}",
        f"fieldwork {region['north_only']}",
    ]
    with database(app).session() as session:
        held = session.scalars(select(Case).where(Case.claimed_by_id == caller.id)).all()
    assert [c.id for c in held] == [region["cases"]["Z-2"]]


# --- the REST API: a token sees what its account sees on the website ----------------------------

PROBLEM = "application/problem+json"


def _bearer(app, clock, username: str) -> dict[str, str]:
    """The headers of a new read-write token of the account ``username``."""
    from app.models.tokens import TokenScope
    from app.platform.accounts import find_user
    from app.tokens.services import create_token

    with database(app).session() as session:
        user = find_user(session, username)
        issued = create_token(session, user, now=clock(), scope=TokenScope.WRITE)
    return {"Authorization": f"Bearer {issued.secret}"}


def _api_get(client, headers, url: str, **query):
    response = client.get(url, headers=headers, query_string=query)
    assert response.status_code == 200, (url, response.get_data(as_text=True))
    return response.get_json()


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ANALYST])
def test_a_scoped_token_sees_exactly_zachodni(app, region, client, clock, make_user, role):
    make_user("api_zachod", role, subregions=["zachodni"])
    headers = _bearer(app, clock, "api_zachod")
    fw = region["fieldwork"]
    api = f"/api/v1/fieldworks/{fw}"
    me = _api_get(client, headers, "/api/v1/me")
    assert (me["subregions"], me["entity_types"]) == (["zachodni"], [])
    # fieldworks with a zachodni institution, progress over zachodni (the region: 5, 3, 0, 3)
    listed = _api_get(client, headers, "/api/v1/fieldworks")
    assert [f["id"] for f in listed] == [fw]
    progress = {"sample_size": 2, "started": 1, "partial": 0, "complete": 1}
    assert listed[0]["progress"] == progress
    assert _api_get(client, headers, api) == listed[0]
    responses = _api_get(client, headers, f"{api}/responses")["items"]
    assert [(r["external_id"], r["institution"]) for r in responses] == [("Z-1", "CIS Rybnik")]
    one = _api_get(client, headers, f"{api}/responses/{region['responses']['Z-1']}")
    assert one == responses[0]
    # the subregion filter narrows within the scope, never beyond it
    assert _api_get(client, headers, f"{api}/responses", subregion="północny")["items"] == []
    cases = _api_get(client, headers, f"{api}/cases")["items"]
    assert sorted(c["external_id"] for c in cases) == ["Z-1", "Z-2"]
    assert {c["subregion"] for c in cases} == {"zachodni"}
    calls = _api_get(client, headers, f"{api}/calls")["items"]
    assert [(c["external_id"], c["case_id"]) for c in calls] == [("Z-1", region["cases"]["Z-1"])]
    # questionnaires name no institution: an analyst reads them whatever its scope (as on
    # the website); the sample import works on the whole region and is refused
    surveys = client.get("/api/v1/surveys", headers=headers)
    assert surveys.status_code == (200 if role is Role.ANALYST else 403)
    refused = client.post(
        f"{api}/sample", json={"rows": [{"external_id": "N-1", "name": "Nowa"}]}, headers=headers
    )
    assert refused.status_code == 403 and refused.mimetype == PROBLEM
    assert _denied(app) == []


def test_an_unscoped_token_sees_the_whole_region(app, region, client, clock) -> None:
    headers = _bearer(app, clock, "boss")
    fw = region["fieldwork"]
    api = f"/api/v1/fieldworks/{fw}"
    assert _api_get(client, headers, "/api/v1/me")["subregions"] == []
    listed = _api_get(client, headers, "/api/v1/fieldworks")
    assert [f["id"] for f in listed] == [fw, region["north_only"]]
    progress = {"sample_size": 5, "started": 3, "partial": 0, "complete": 3}
    assert listed[0]["progress"] == progress
    responses = _api_get(client, headers, f"{api}/responses")["items"]
    assert [r["external_id"] for r in responses] == ["Z-1", "P-1", "S-1"]
    assert len(_api_get(client, headers, f"{api}/cases")["items"]) == 5
    assert len(_api_get(client, headers, f"{api}/calls")["items"]) == 4
    foreign = _api_get(client, headers, f"{api}/responses/{region['responses']['P-1']}")
    assert foreign["institution"] == "CIS Częstochowa"
    assert _denied(app) == []


def test_another_subregions_objects_by_id_are_404_and_audited_in_the_api(
    app, region, client, clock
) -> None:
    from app.models.jobs import ExportJob

    headers = _bearer(app, clock, "owes_zachodni")
    fw, other_fw = region["fieldwork"], region["north_only"]
    foreign = region["responses"]["P-1"]
    attempts = [
        ("GET", f"/fieldworks/{fw}/responses/{foreign}", f"response {foreign}", fw),
        ("GET", f"/fieldworks/{other_fw}", f"fieldwork {other_fw}", other_fw),
        ("GET", f"/fieldworks/{other_fw}/responses", f"fieldwork {other_fw}", other_fw),
        ("GET", f"/fieldworks/{other_fw}/cases", f"fieldwork {other_fw}", other_fw),
        ("GET", f"/fieldworks/{other_fw}/calls", f"fieldwork {other_fw}", other_fw),
        ("POST", f"/fieldworks/{other_fw}/exports", f"fieldwork {other_fw}", other_fw),
    ]
    for method, url, _target, _fieldwork in attempts:
        response = client.open(
            f"/api/v1{url}", method=method, headers=headers, json={} if method == "POST" else None
        )
        assert response.status_code == 404 and response.mimetype == PROBLEM, url
        assert "Częstochowa" not in response.get_data(as_text=True), url
    # answered exactly as a missing object is
    missing = client.get(f"/api/v1/fieldworks/{fw}/responses/99999", headers=headers)
    refused = client.get(f"/api/v1/fieldworks/{fw}/responses/{foreign}", headers=headers)
    assert missing.status_code == 404 and missing.get_json() == refused.get_json()
    assert client.get("/api/v1/fieldworks/99999", headers=headers).get_json() == (
        client.get(f"/api/v1/fieldworks/{other_fw}", headers=headers).get_json()
    )
    events = _denied(app)
    expected = [("owes_zachodni", target, fid) for _m, _u, target, fid in attempts]
    expected += [("owes_zachodni", f"response {foreign}", fw), expected[1]]
    assert [(e.actor, e.target, e.fieldwork_id) for e in events] == expected
    with database(app).session() as session:
        assert session.scalars(select(ExportJob)).all() == []


def _api_file(client, headers, fieldwork_id: int, **body) -> dict:
    """Start a results file through the API and wait until it is ready; its status."""
    started = client.post(f"/api/v1/fieldworks/{fieldwork_id}/exports", json=body, headers=headers)
    assert started.status_code == 202, started.get_data(as_text=True)
    deadline = time.monotonic() + 60
    while (status := _api_get(client, headers, started.get_json()["status_url"]))["state"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    assert status["state"] == "done", status
    return status


def test_a_scoped_tokens_files_hold_only_zachodni_and_anothers_is_404(
    app, region, client, clock
) -> None:
    admin = _bearer(app, clock, "boss")
    coordinator = _bearer(app, clock, "owes_zachodni")
    fw = region["fieldwork"]
    own = _api_file(client, coordinator, fw, format="csv")
    download = client.get(own["download_url"], headers=coordinator)
    assert download.status_code == 200
    text = responses_file(download.get_data(), "csv").decode("utf-8-sig")
    assert "Z-1" in text and "P-1" not in text and "S-1" not in text
    admins = _api_file(client, admin, fw, format="csv")
    for url in (admins["status_url"], admins["download_url"]):
        refused = client.get(url, headers=coordinator)
        assert refused.status_code == 404 and refused.mimetype == PROBLEM, url
    key = admins["key"]
    assert [(e.target, e.fieldwork_id) for e in _denied(app)] == [(f"file {key[:12]}", fw)] * 2
    # another's file asked for by a whole-region account: missing, no attempt to record
    assert client.get(own["status_url"], headers=admin).status_code == 404
    assert len(_denied(app)) == 2
    with database(app).session() as session:
        from app.models.jobs import ExportJob

        scopes = {job.key: job.options.get("scope") for job in session.scalars(select(ExportJob))}
    assert scopes == {own["key"]: {"subregions": ["zachodni"], "entity_types": []}, key: None}


# --- commands run --as an account (every command on a fieldwork's institutions) ------------

ZACHODNI_EMAILS = {"Z-1": "cis@rybnik.example.pl", "Z-2": "kis@wodzislaw.example.pl"}
OTHER_EMAILS = {"P-2": "cis@lubliniec.example.pl", "S-1": "kis@bielsko.example.pl"}


def _with_emails(app, fieldwork_id: int) -> None:
    with database(app).session() as session:
        for unit in session.scalars(
            select(SampleUnit).where(SampleUnit.fieldwork_id == fieldwork_id)
        ):
            unit.email = {**ZACHODNI_EMAILS, **OTHER_EMAILS}.get(unit.external_id, "")


def _events(app, action: str) -> list[AuditEvent]:
    with database(app).session() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def _refused_as_missing(app, runner, commands: list[list[str]], as_user: str) -> None:
    """Each command, run --as ``as_user`` on another subregion's fieldwork, is refused as
    if the fieldwork did not exist, and each attempt is recorded as that account's."""
    before = len(_denied(app))
    for command in commands:
        refused = runner.invoke(args=[*command, "--as", as_user])
        assert refused.exit_code == 1, (command, refused.output)
        assert "Nie ma badania" in refused.output, (command, refused.output)
    events = _denied(app)[before:]
    assert len(events) == len(commands)
    assert all(e.actor.endswith(f"--as {as_user}") and e.actor_id for e in events)


def test_invitation_commands_run_as_a_zachodni_analyst_reach_only_zachodni(
    app, region, runner, make_user, tmp_path
) -> None:
    from tests.support.mailserver import MailServer, invitations

    fw, other_fw = region["fieldwork"], region["north_only"]
    _with_emails(app, fw)
    analyst = make_user("analityk_zachodni", Role.ANALYST, subregions=["zachodni"])
    # the personal links: only zachodni's institutions
    links = tmp_path / "linki.csv"
    done = runner.invoke(
        args=["invitations", "export", str(fw), "-o", str(links), "--as", "analityk_zachodni"]
    )
    assert done.exit_code == 0, done.output
    rows = [line.split(";")[0] for line in links.read_text("utf-8-sig").splitlines()[1:]]
    assert rows == ["Z-1", "Z-2"]
    exported = _events(app, "invitations.exported")
    assert [(e.actor_id, e.actor.endswith("--as analityk_zachodni")) for e in exported] == [
        (analyst.id, True)
    ]
    # the counts: Z-1 has completed, Z-2 is not invited; nothing of the other subregions
    status = runner.invoke(
        args=["invitations", "status", str(fw), "--as", "analityk_zachodni"], env=ENGLISH_LOCALE
    )
    assert status.exit_code == 0, status.output
    counts = dict(line.rsplit(None, 1) for line in status.output.splitlines()[1:])
    assert {k.strip(): int(v) for k, v in counts.items() if int(v)} == {
        "not invited": 1,
        "completed": 1,
    }
    whole = runner.invoke(args=["invitations", "status", str(fw)], env=ENGLISH_LOCALE)
    assert f"{'completed':<20} 3" in whole.output and f"{'not invited':<20} 2" in whole.output
    # a dry run names only zachodni's contact; the wave goes only to it
    dry = runner.invoke(
        args=["invitations", "send", str(fw), "--dry-run", "--as", "analityk_zachodni"]
    )
    assert dry.exit_code == 0 and "Z-2" in dry.output, dry.output
    assert "P-2" not in dry.output and "lubliniec" not in dry.output
    with MailServer() as server:
        app.config.update(
            SMTP_URL=server.url, MAIL_FROM="badania@rops.example.pl", MAIL_RATE=10_000
        )
        sent = invitations(app, runner, "send", str(fw), "--as", "analityk_zachodni")
        assert sent.exit_code == 0, sent.output
        assert [m["To"] for m in server.messages] == [ZACHODNI_EMAILS["Z-2"]]
        # the rest of the region is still waiting for the region's own wave
        assert invitations(app, runner, "send", str(fw)).exit_code == 0
        assert [m["To"] for m in server.messages[1:]] == [OTHER_EMAILS["P-2"]]
    queued = _events(app, "mail.wave_queued")
    assert [(e.actor_id, e.detail.get("scope")) for e in queued] == [
        (analyst.id, {"subregions": ["zachodni"], "entity_types": []}),
        (None, None),
    ]
    assert queued[0].actor.endswith("--as analityk_zachodni")
    reminder = runner.invoke(
        args=["invitations", "remind", str(fw), "--dry-run", "--as", "analityk_zachodni"]
    )
    assert "Z-2" in reminder.output and "P-2" not in reminder.output, reminder.output
    assert "P-2" in runner.invoke(args=["invitations", "remind", str(fw), "--dry-run"]).output
    # the waves as zachodni sees them: each counts only its messages to zachodni
    status = runner.invoke(
        args=["invitations", "status", str(fw), "--as", "analityk_zachodni"], env=ENGLISH_LOCALE
    )
    assert "invitation 1: done, recipients: 1 (sent 1)" in status.output, status.output
    assert "invitation 2" not in status.output
    # an OWES coordinator may not send e-mail on the web: not here either
    refused = runner.invoke(args=["invitations", "remind", str(fw), "--as", "owes_zachodni"])
    assert refused.exit_code == 1
    assert "Konto owes_zachodni (rola: coordinator) nie może tego zrobić." in refused.output
    _refused_as_missing(
        app,
        runner,
        [
            ["invitations", "export", str(other_fw), "-o", str(tmp_path / "x.csv")],
            ["invitations", "status", str(other_fw)],
            ["invitations", "send", str(other_fw), "--dry-run"],
            ["invitations", "remind", str(other_fw)],
        ],
        "analityk_zachodni",
    )


def _sample_file(tmp_path, name: str, rows: list[tuple[str, str, str]]):
    path = tmp_path / name
    lines = ["external_id;name;subregion;entity_type"]
    lines += [";".join(row) + ";CIS" for row in rows]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_a_zachodni_analyst_imports_only_zachodni_institutions(
    app, region, runner, make_user, tmp_path
) -> None:
    fw, other_fw = region["fieldwork"], region["north_only"]
    analyst = make_user("analityk_zachodni", Role.ANALYST, subregions=["zachodni"])
    mixed = _sample_file(
        tmp_path,
        "mieszana.csv",
        [("Z-3", "CIS Racibórz", "zachodni"), ("P-3", "CIS Kłobuck", "północny")],
    )
    refused = runner.invoke(
        args=["sample", "import", str(fw), str(mixed), "--as", "analityk_zachodni"]
    )
    assert refused.exit_code == 1
    assert (
        "wiersz 3, kolumna subregion: podregion 'północny' jest poza podregionami konta (zachodni)"
        in refused.output
    ), refused.output
    with database(app).session() as session:
        assert session.scalar(select(SampleUnit).where(SampleUnit.external_id == "Z-3")) is None
    own = _sample_file(tmp_path, "zachodni.csv", [("Z-3", "CIS Racibórz", "zachodni")])
    done = runner.invoke(args=["sample", "import", str(fw), str(own), "--as", "analityk_zachodni"])
    assert done.exit_code == 0, done.output
    imported = _events(app, "sample.imported")
    assert [(e.actor_id, e.detail["institutions"]) for e in imported] == [(analyst.id, 1)]
    # a fieldwork with no sample yet is anyone's to fill; the region imports anything
    empty = runner.invoke(args=["fieldwork", "create", "monitoring_cis_kis", "--title", "Nowe"])
    assert empty.exit_code == 0, empty.output
    new_id = empty.output.strip().splitlines()[-1]
    first = _sample_file(tmp_path, "nowa.csv", [("Z-9", "KIS Rydułtowy", "zachodni")])
    assert (
        runner.invoke(
            args=["sample", "import", new_id, str(first), "--as", "analityk_zachodni"]
        ).exit_code
        == 0
    )
    assert runner.invoke(args=["sample", "import", new_id, str(mixed)]).exit_code == 0
    # an OWES coordinator may not import a sample on the web: not here either
    refused = runner.invoke(args=["sample", "import", str(fw), str(own), "--as", "owes_zachodni"])
    assert refused.exit_code == 1 and "rola: coordinator" in refused.output
    _refused_as_missing(
        app, runner, [["sample", "import", str(other_fw), str(own)]], "analityk_zachodni"
    )


def test_the_team_command_as_a_scoped_account(app, region, runner, make_user) -> None:
    fw, other_fw = region["fieldwork"], region["north_only"]
    shown = runner.invoke(args=["fieldwork", "team", str(fw), "--as", "owes_zachodni"])
    assert shown.exit_code == 0 and "anna" in shown.output, shown.output
    # changing the team is a whole-region supervisor's, as on the web
    make_user("bartek", Role.INTERVIEWER)
    refused = runner.invoke(
        args=["fieldwork", "team", str(fw), "--add", "bartek", "--as", "owes_zachodni"]
    )
    assert refused.exit_code == 1 and "rola: coordinator" in refused.output
    make_user("nadzor_zachod", Role.SUPERVISOR, subregions=["zachodni"])
    refused = runner.invoke(
        args=["fieldwork", "team", str(fw), "--add", "bartek", "--as", "nadzor_zachod"]
    )
    assert refused.exit_code == 1 and "działa na całym regionie" in refused.output
    chief = make_user("nadzor", Role.SUPERVISOR)
    done = runner.invoke(args=["fieldwork", "team", str(fw), "--add", "bartek", "--as", "nadzor"])
    assert done.exit_code == 0 and "bartek" in done.output, done.output
    [event] = _events(app, "supervisor.action")
    assert event.actor_id == chief.id and event.actor.endswith("--as nadzor")
    _refused_as_missing(app, runner, [["fieldwork", "team", str(other_fw)]], "owes_zachodni")


def test_whole_region_commands_refuse_a_scoped_account(app, region, runner, make_user) -> None:
    fw = region["fieldwork"]
    make_user("analityk_zachodni", Role.ANALYST, subregions=["zachodni"])
    for command in (
        ["privacy", "retention", str(fw), "--until", "2027-01-31"],
        ["privacy", "erase", str(fw), "--yes"],
        ["fieldwork", "close", str(fw)],
        ["fieldwork", "open", str(fw)],
        ["fieldwork", "upgrade", str(fw), "--to", "2"],
    ):
        refused = runner.invoke(args=[*command, "--as", "analityk_zachodni"])
        assert refused.exit_code == 1, (command, refused.output)
        assert (
            "Konto analityk_zachodni widzi tylko niektóre podregiony lub typy podmiotów; "
            "to polecenie działa na całym regionie." in refused.output
        ), refused.output
    with database(app).session() as session:
        fieldwork = session.get(Fieldwork, fw)
        assert fieldwork.state == "open" and fieldwork.retain_contacts_until is None
    # the region's administrator may; it is recorded as done by that account
    boss = runner.invoke(
        args=["privacy", "retention", str(fw), "--until", "2027-01-31", "--as", "boss"]
    )
    assert boss.exit_code == 0, boss.output
    [event] = _events(app, "fieldwork.retention_changed")
    assert event.actor.endswith("--as boss") and event.actor_id is not None
    assert _denied(app) == []


def test_export_and_report_follow_the_accounts_role(app, region, runner, make_user, tmp_path):
    make_user("ankieter_zachod", Role.INTERVIEWER, subregions=["zachodni"])
    fw = region["fieldwork"]
    for command in (
        ["export", str(fw), "-o", str(tmp_path / "x.xlsx")],
        ["report", str(fw), "-o", str(tmp_path / "y.xlsx")],
        ["fieldwork", "list"],
    ):
        refused = runner.invoke(args=[*command, "--as", "ankieter_zachod"])
        assert refused.exit_code == 1 and "rola: interviewer" in refused.output, refused.output
    assert not (tmp_path / "x.xlsx").exists()


# --- corrections by a scoped account ----------------------------------------------------------


def test_a_scoped_supervisor_corrects_only_its_subregions_responses(app, region, make_user) -> None:
    from tests.support.respondent import fill, parse_form

    fw = region["fieldwork"]
    own, foreign = region["responses"]["Z-1"], region["responses"]["P-1"]
    supervisor = make_user("nadzor_zachod", Role.SUPERVISOR, subregions=["zachodni"])
    client = signed_in(app, "nadzor_zachod")
    # the case screen offers the correction; the correction screen opens and saves
    case_page = client.get(f"/supervise/{fw}/case/{region['cases']['Z-1']}")
    assert f"/fieldwork/{fw}/responses/{own}/edit" in case_page.get_data(as_text=True)
    start = client.get(f"/fieldwork/{fw}/responses/{own}/edit")
    assert start.status_code == 302
    form = _screen_with_field(client, parse_form(client.get(start.location)), "d1")
    data = fill(form, {"d1": "7", "reason": "Poprawka telefoniczna OWES"})
    saved = client.post(form.path, data={"revision": form.revision, "action": "save", **data})
    assert saved.status_code == 302, page_text(saved)
    with database(app).session() as session:
        assert session.get(Response, own).answers["d1"] == 7
        edits = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "response.edited")
        ).all()
        assert {(e.actor_id, e.target) for e in edits} == {(supervisor.id, f"response {own}")}
    # another subregion's response: a 404 like a missing one, recorded
    for method, url in (
        ("GET", f"/fieldwork/{fw}/responses/{foreign}/edit"),
        ("GET", f"/fieldwork/{fw}/responses/{foreign}/edit/{form.page_id}"),
        ("POST", f"/fieldwork/{fw}/responses/{foreign}/edit/{form.page_id}"),
    ):
        response = client.open(url, method=method, data=data if method == "POST" else None)
        assert response.status_code == 404, url
    assert [(e.actor, e.target) for e in _denied(app)] == [
        ("nadzor_zachod", f"response {foreign}")
    ] * 3
    with database(app).session() as session:
        assert session.get(Response, foreign).answers["d1"] == 30
    # an OWES coordinator reads responses but does not correct them
    coordinator = signed_in(app, "owes_zachodni")
    assert coordinator.get(f"/fieldwork/{fw}/responses/{own}/edit").status_code == 403


def _screen_with_field(client, form, name: str):
    """The correction screen that has the field ``name``, following the list of screens."""
    import re

    if name in form.fields:
        return form
    for path in re.findall(r'href="(/fieldwork/\d+/responses/\d+/edit/[^"]+)"', form.html):
        from tests.support.respondent import parse_form

        screen = parse_form(client.get(path))
        if name in screen.fields:
            return screen
    raise AssertionError(f"no screen with {name}")
