"""Subregional partners: an OWES coordinator of ``zachodni`` sees exactly the ``zachodni``
institutions on every page and in every count, and each attempt to open another
subregion's object by id is a 404 recorded in the audit log."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.models.audit import AuditEvent
from app.models.cati import Case
from app.models.fieldwork import Fieldwork, Response, ResponseStatus, SampleUnit
from app.models.users import Role
from tests.support import database, page_text, signed_in
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
