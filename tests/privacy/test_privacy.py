"""Contact data: retention dates, erasure (button and command line), and who sees it.

A closed telephone fieldwork with calls, notes, appointments, an extra phone column and
responses is erased; afterwards no original contact value is anywhere in the database
(every table dumped as text and searched), the pseudonyms still line up between the sample
and the calls, and responses, dispositions, rates and the response export are unchanged.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
from flask_babel import force_locale
from flask_babel import gettext as babel_gettext
from sqlalchemy import select

from app.cati.services import AppointmentRequest
from app.exports.services import ExportOptions
from app.exports.workbook import write_xlsx
from app.fieldwork import services as fieldwork_services
from app.models.audit import AuditEvent
from app.models.base import Base
from app.models.calling import rates_for
from app.models.cati import Appointment, Call, Case
from app.models.fieldwork import ContactPhone, Fieldwork, Response, SampleUnit
from app.models.users import Role
from app.platform.i18n import translate
from app.surveys import services as survey_services
from tests.support import SHIPPED, database, page_text, signed_in
from tests.support.calls import make_call
from tests.support.respondent import SCENARIOS, Respondent

MORNING = datetime(2026, 3, 16, 7, 0, tzinfo=UTC)  # 08:00 in Warsaw
SAMPLE = "\n".join(
    [
        "external_id;name;entity_type;subregion;gmina;contact_person;email;phone;phone_2;"
        "telefon_dodatkowy;liczba_miejsc",
        "K-01;Klub Integracji Społecznej w Żorach;KIS;południowy;Żory;Jadwiga Zawiślak;"
        "jadwiga.zawislak@kis-zory.example;322345671;601987654;787111222;20",
        "C-02;Centrum Integracji Społecznej w Gliwicach;CIS;centralny;Gliwice;Bożydar Mściwój;"
        "bozydar@cis-gliwice.example;326667788;;;35",
        "C-03;Centrum Integracji Społecznej w Rybniku;CIS;zachodni;Rybnik;Hieronim Ćwikła;"
        "h.cwikla@cis-rybnik.example;324443322;;509303303;12",
    ]
)
NOTES = [
    "Prosić panią Jadwigę po 12",
    "Dyrektor oddzwoni z prywatnego 698765432",
    "Pan Ćwikła: proszę więcej nie dzwonić",
]
WITH_WHOM = "Pani Zawiślak, kierowniczka"
CASE_NOTE = "Kontakt prywatny: bozydar.prywatny@example.org"
APPOINTMENT_NOTE = "Zadzwonić na komórkę 501501501"


ALREADY = "The contact data of this fieldwork is already erased."
CLOSE_FIRST = "Close the fieldwork before erasing its contact data."
TICK = "Tick the confirmation to erase the contact data."


def said(app, msgid: str) -> str:
    """``msgid`` as the (Polish) pages show it."""
    with app.test_request_context(), force_locale("pl"):
        return babel_gettext(msgid)


def dump(app) -> str:
    """Every row of every table as text (what a copy of the database would give away)."""
    parts = []
    with database(app).session() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).all():
                parts.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(parts)


def originals(app, fieldwork_id: int) -> dict[str, list[str]]:
    """The contact values as the database holds them before erasure."""
    with database(app).session() as session:
        units = session.scalars(
            select(SampleUnit).where(SampleUnit.fieldwork_id == fieldwork_id)
        ).all()
        values = {
            "contact_person": [u.contact_person for u in units],
            "email": [u.email for u in units],
            "phone": [p.number for u in units for p in u.phones],
            "telefon_dodatkowy": [
                str(u.variables["telefon_dodatkowy"])
                for u in units
                if u.variables.get("telefon_dodatkowy")
            ],
            "call": list(session.scalars(select(Call.number))),
            "tokens": [u.token for u in units],
        }
    assert all(values.values()), values
    return values


def snapshot(app, fieldwork_id: int, tmp_path) -> dict:
    """What must not change: answers, dispositions, rates, the export's Responses sheet."""
    with database(app).session() as session:
        fieldwork = session.get(Fieldwork, fieldwork_id)
        answers = {
            r.id: (dict(r.answers), r.status)
            for r in session.scalars(select(Response).where(Response.fieldwork_id == fieldwork_id))
        }
        dispositions = {
            c.id: (c.disposition_code, c.is_final, c.attempts)
            for c in session.scalars(select(Case).where(Case.fieldwork_id == fieldwork_id))
        }
        calls = [
            (c.id, c.case_id, c.interviewer_id, c.outcome_id, c.started_at, c.ended_at)
            for c in session.scalars(select(Call).order_by(Call.id))
        ]
        rates = rates_for(session, fieldwork)
        path = tmp_path / f"export-{len(list(tmp_path.iterdir()))}.xlsx"
        written = write_xlsx(session, fieldwork, path, ExportOptions(), translate=translate)
    workbook = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True)
    sheet = [list(row) for row in workbook["Odpowiedzi"].iter_rows(values_only=True)]
    workbook.close()
    assert written >= 1 and len(sheet) > written
    return {
        "answers": answers,
        "dispositions": dispositions,
        "calls": calls,
        "rates": rates,
        "export": sheet,
    }


@pytest.fixture
def closed_fieldwork(app, clock, make_user, join_team):
    """The monitoring with three institutions, called, answered and closed by the analyst.

    Returns (fieldwork id, analyst's client, original contact values).
    """
    with database(app).session() as session:
        outcome = survey_services.load_file(session, SHIPPED / "monitoring_cis_kis.yaml")
        assert outcome.ok
        fieldwork = fieldwork_services.create_fieldwork(
            session, outcome.survey.code, "Monitoring z danymi"
        )
        imported = fieldwork_services.import_sample(
            session, fieldwork, SAMPLE.encode("utf-8"), "sample.csv", now=clock()
        )
        assert imported.ok, [p.render() for p in imported.problems]
        fieldwork.open(clock())
        fieldwork_id = fieldwork.id
    anna = make_user("anna", Role.INTERVIEWER).id
    join_team(fieldwork_id, anna)
    with database(app).session() as session:
        cases = {
            unit.external_id: case_id
            for case_id, unit in session.execute(
                select(Case.id, SampleUnit)
                .join(SampleUnit, Case.sample_unit_id == SampleUnit.id)
                .where(Case.fieldwork_id == fieldwork_id)
            ).all()
        }
        session.get(Case, cases["C-02"]).notes = CASE_NOTE
    make_call(app, cases["K-01"], anna, "no_answer", MORNING, 1, note=NOTES[0])
    make_call(
        app,
        cases["C-02"],
        anna,
        "appointment",
        MORNING + timedelta(minutes=5),
        3,
        note=NOTES[1],
        appointment=AppointmentRequest(
            starts_at=MORNING + timedelta(days=1),
            ends_at=MORNING + timedelta(days=1, minutes=30),
            for_me=True,
            with_whom=WITH_WHOM,
            note=APPOINTMENT_NOTE,
        ),
    )
    make_call(
        app, cases["C-03"], anna, "hard_refusal", MORNING + timedelta(minutes=9), 2, note=NOTES[2]
    )
    make_call(app, cases["K-01"], anna, "no_answer", MORNING + timedelta(hours=2), 1)
    with database(app).session() as session:
        token = session.scalar(select(SampleUnit.token).where(SampleUnit.external_id == "K-01"))
    Respondent(app.test_client(), token).walk(SCENARIOS["monitoring_cis_kis"].answers)
    values = originals(app, fieldwork_id)
    make_user("ola", Role.ANALYST)
    analyst = signed_in(app, "ola")
    closed = analyst.post(f"/fieldwork/{fieldwork_id}/state", data={"action": "close"})
    assert closed.status_code == 302
    return fieldwork_id, analyst, values


def contact_values(values: dict[str, list[str]]) -> list[str]:
    found = [v for key, vs in values.items() if key != "tokens" for v in vs]
    return [*found, *NOTES, WITH_WHOM, CASE_NOTE, APPOINTMENT_NOTE]


def assert_erased(app, fieldwork_id: int, values: dict[str, list[str]], before: dict, tmp_path):
    text = dump(app).lower()
    left = [v for v in contact_values(values) if v.lower() in text]
    assert left == [], f"contact data still in the database: {left}"
    # the same number is the same pseudonym in the sample and in the calls
    with database(app).session() as session:
        phones = {p.id: p.number for p in session.scalars(select(ContactPhone))}
        for call in session.scalars(select(Call)):
            assert call.number == phones[call.phone_id], call.id
            assert call.number.startswith("tel-") and call.note == ""
        units = session.scalars(select(SampleUnit)).all()
        assert all(u.contact_person.startswith("osoba-") for u in units)
        assert all(u.email.startswith("email-") for u in units)
        assert {u.variables["liczba_miejsc"] for u in units} == {20, 35, 12}
        assert session.get(Fieldwork, fieldwork_id).contacts_erased_at is not None
    for token in values["tokens"]:
        assert app.test_client().get(f"/r/{token}").status_code == 404
    assert snapshot(app, fieldwork_id, tmp_path) == before


# --- erasure -----------------------------------------------------------------------------------


def test_erasing_with_the_button_leaves_no_contact_value_and_keeps_the_results(
    app, closed_fieldwork, tmp_path
):
    fieldwork_id, analyst, values = closed_fieldwork
    before = snapshot(app, fieldwork_id, tmp_path)
    text = dump(app).lower()
    assert all(v.lower() in text for v in contact_values(values))  # the search can find them
    page = analyst.get(f"/fieldwork/{fieldwork_id}")
    assert f'action="/fieldwork/{fieldwork_id}/erase-contacts"' in page.get_data(as_text=True)
    erased = analyst.post(f"/fieldwork/{fieldwork_id}/erase-contacts", data={"confirm": "y"})
    assert erased.status_code == 302
    assert_erased(app, fieldwork_id, values, before, tmp_path)
    with database(app).session() as session:
        [event] = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "fieldwork.contacts_erased")
        ).all()
        assert (event.actor, event.ip, event.fieldwork_id) == ("ola", "127.0.0.1", fieldwork_id)
        assert event.detail == {
            "institutions": 3,
            "phones": 4,
            "calls": 4,
            "notes": 5,
            "files": 0,
            "attachments": 0,  # files sent with file questions (tests/respond/...)
        }
    # a second time: refused, nothing changes
    text = dump(app)
    again = analyst.post(f"/fieldwork/{fieldwork_id}/erase-contacts", data={"confirm": "y"})
    assert again.status_code == 302
    assert said(app, ALREADY) in page_text(analyst.get(again.location))
    assert dump(app) == text


def test_erasing_from_the_command_line_needs_yes(app, runner, closed_fieldwork, tmp_path):
    fieldwork_id, _, values = closed_fieldwork
    before = snapshot(app, fieldwork_id, tmp_path)
    text = dump(app)
    dry = runner.invoke(args=["privacy", "erase", str(fieldwork_id)])
    assert dry.exit_code != 0 and "Uruchom ponownie z --yes, aby to zrobić." in dry.output
    assert "(Monitoring z danymi, zamknięte)" in dry.output
    assert dump(app) == text
    done = runner.invoke(args=["privacy", "erase", str(fieldwork_id), "--yes"])
    assert done.exit_code == 0, done.output
    assert "instytucje: 3, numery telefonów: 4, połączenia: 4, notatki: 5" in done.output
    assert_erased(app, fieldwork_id, values, before, tmp_path)
    with database(app).session() as session:
        [event] = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "fieldwork.contacts_erased")
        ).all()
        assert event.actor.startswith("cli") and event.fieldwork_id == fieldwork_id
    text = dump(app)
    again = runner.invoke(args=["privacy", "erase", str(fieldwork_id), "--yes"])
    assert again.exit_code != 0
    assert "Dane kontaktowe tego badania zostały już usunięte." in again.output
    assert "Traceback" not in again.output
    assert dump(app) == text
    unknown = runner.invoke(args=["privacy", "erase", "999", "--yes"])
    assert unknown.exit_code != 0 and "Traceback" not in unknown.output


def test_an_open_fieldwork_is_not_erased(app, client, runner, make_fieldwork, login_as):
    fieldwork_id = make_fieldwork()
    login_as(Role.ANALYST)
    text = dump(app)
    refused = client.post(f"/fieldwork/{fieldwork_id}/erase-contacts", data={"confirm": "y"})
    assert refused.status_code == 302
    assert said(app, CLOSE_FIRST) in page_text(client.get(refused.location))
    assert dump(app) == text
    cli = runner.invoke(args=["privacy", "erase", str(fieldwork_id), "--yes"])
    assert cli.exit_code != 0 and "Przed usunięciem danych kontaktowych zamknij" in cli.output
    assert dump(app) == text


def test_the_confirmation_is_required(app, closed_fieldwork):
    fieldwork_id, analyst, _ = closed_fieldwork
    text = dump(app)
    for data in ({}, {"confirm": ""}):
        refused = analyst.post(f"/fieldwork/{fieldwork_id}/erase-contacts", data=data)
        assert refused.status_code == 302
        assert said(app, TICK) in page_text(analyst.get(refused.location))
    without_csrf = analyst.post(
        f"/fieldwork/{fieldwork_id}/erase-contacts", data={"confirm": "y"}, csrf=False
    )
    assert without_csrf.status_code == 400
    assert dump(app) == text


def test_only_analysts_and_admins_erase(app, closed_fieldwork, make_user):
    fieldwork_id, _, _ = closed_fieldwork
    clients = {}
    for role in (Role.INTERVIEWER, Role.SUPERVISOR):
        make_user(f"{role.value}9", role)
        clients[role] = signed_in(app, f"{role.value}9")
    text = dump(app)
    for role, client in clients.items():
        refused = client.post(f"/fieldwork/{fieldwork_id}/erase-contacts", data={"confirm": "y"})
        assert refused.status_code == 403, role
        refused = client.post(f"/fieldwork/{fieldwork_id}/retention", data={"until": ""})
        assert refused.status_code == 403, role
    assert dump(app) == text


# --- retention ---------------------------------------------------------------------------------


def test_closing_sets_the_retention_date_a_year_on(app, closed_fieldwork, clock):
    fieldwork_id, analyst, _ = closed_fieldwork
    with database(app).session() as session:
        until = session.get(Fieldwork, fieldwork_id).retain_contacts_until
    assert until == date(2026, 3, 16) + timedelta(days=365)
    page = page_text(analyst.get(f"/fieldwork/{fieldwork_id}"))
    assert "16.03.2027" in page


def test_retention_form_sets_and_clears_the_date_and_is_audited(app, closed_fieldwork):
    fieldwork_id, analyst, _ = closed_fieldwork
    url = f"/fieldwork/{fieldwork_id}/retention"
    assert analyst.post(url, data={"until": "2026-06-30"}).status_code == 302
    with database(app).session() as session:
        assert session.get(Fieldwork, fieldwork_id).retain_contacts_until == date(2026, 6, 30)
    assert analyst.post(url, data={"until": ""}).status_code == 302
    with database(app).session() as session:
        assert session.get(Fieldwork, fieldwork_id).retain_contacts_until is None
    refused = analyst.post(url, data={"until": "30 lutego"})
    assert refused.status_code == 302
    with database(app).session() as session:
        assert session.get(Fieldwork, fieldwork_id).retain_contacts_until is None
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "fieldwork.retention_changed")
            .order_by(AuditEvent.id)
        ).all()
        assert [(e.actor, e.ip, e.fieldwork_id, e.detail) for e in events] == [
            ("ola", "127.0.0.1", fieldwork_id, {"until": ["2027-03-16", "2026-06-30"]}),
            ("ola", "127.0.0.1", fieldwork_id, {"until": ["2026-06-30", None]}),
        ]


def test_admin_home_lists_a_fieldwork_past_its_date_until_it_is_erased(
    app, runner, closed_fieldwork, clock, make_user
):
    fieldwork_id, analyst, _ = closed_fieldwork
    make_user("admin", Role.ADMIN)
    admin = signed_in(app, "admin")
    link = f'href="/fieldwork/{fieldwork_id}#privacy"'
    assert link not in admin.get("/").get_data(as_text=True)
    assert "Żadne badanie nie przekroczyło" in runner.invoke(args=["privacy", "due"]).output
    clock.advance(days=364)  # 15.03.2027: still kept
    assert link not in admin.get("/").get_data(as_text=True)
    clock.advance(days=1)  # 16.03.2027: the day has come
    home = admin.get("/")
    assert link in home.get_data(as_text=True) and "Monitoring z danymi" in page_text(home)
    assert link not in analyst.get("/").get_data(as_text=True)  # a reminder for admins
    due = runner.invoke(args=["privacy", "due"])
    assert due.exit_code == 0
    assert f"{fieldwork_id}\tMonitoring z danymi\tkept until 2027-03-16" in due.output
    assert (
        analyst.post(f"/fieldwork/{fieldwork_id}/erase-contacts", data={"confirm": "y"}).status_code
        == 302
    )
    assert link not in admin.get("/").get_data(as_text=True)
    assert "Żadne badanie nie przekroczyło" in runner.invoke(args=["privacy", "due"]).output


def test_retention_from_the_command_line(app, runner, closed_fieldwork):
    fieldwork_id, _, _ = closed_fieldwork
    shown = runner.invoke(args=["privacy", "retention", str(fieldwork_id)])
    assert shown.exit_code == 0, shown.output
    assert f"Badanie {fieldwork_id}: dane kontaktowe przechowywane do 16.03.2027." in shown.output
    changed = runner.invoke(
        args=["privacy", "retention", str(fieldwork_id), "--until", "2026-12-31"]
    )
    assert changed.exit_code == 0 and "przechowywane do 31.12.2026." in changed.output
    for bad, message in (
        (["--until", "jutro"], "'jutro' nie jest datą; użyj RRRR-MM-DD albo DD.MM.RRRR."),
        (["--until", "2026-12-31", "--clear"], "Podaj albo --until, albo --clear."),
    ):
        refused = runner.invoke(args=["privacy", "retention", str(fieldwork_id), *bad])
        assert refused.exit_code != 0 and "Traceback" not in refused.output
        assert message in refused.output
    with database(app).session() as session:
        assert session.get(Fieldwork, fieldwork_id).retain_contacts_until == date(2026, 12, 31)
        [event] = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "fieldwork.retention_changed")
        ).all()
        assert event.actor.startswith("cli")
        assert event.detail == {"until": ["2027-03-16", "2026-12-31"]}
    polish_date = runner.invoke(
        args=["privacy", "retention", str(fieldwork_id), "--until", "30.06.2027"]
    )
    assert polish_date.exit_code == 0 and "przechowywane do 30.06.2027." in polish_date.output
    with database(app).session() as session:
        assert session.get(Fieldwork, fieldwork_id).retain_contacts_until == date(2027, 6, 30)


# --- who sees contact data ---------------------------------------------------------------------


def test_the_analysts_response_viewer_shows_no_phone_or_email(app, closed_fieldwork):
    fieldwork_id, analyst, values = closed_fieldwork
    with database(app).session() as session:
        response_id = session.scalar(select(Response.id).where(Response.status == "complete"))
    viewer = analyst.get(f"/fieldwork/{fieldwork_id}/responses/{response_id}")
    assert viewer.status_code == 200
    html = viewer.get_data(as_text=True)
    assert "Klub Integracji Społecznej w Żorach" in html
    for value in [*values["phone"], *values["telefon_dodatkowy"], *values["email"]]:
        assert value not in html, value


def test_an_interviewer_off_the_team_cannot_open_the_case_page(app, closed_fieldwork, make_user):
    fieldwork_id, _, values = closed_fieldwork
    make_user("obcy", Role.INTERVIEWER)
    stranger = signed_in(app, "obcy")
    with database(app).session() as session:
        case_ids = list(session.scalars(select(Case.id).where(Case.fieldwork_id == fieldwork_id)))
        assert session.scalar(select(Appointment.id)) is not None
    for case_id in case_ids:
        refused = stranger.get(f"/cati/case/{case_id}")
        assert refused.status_code == 404
        assert not any(v in refused.get_data(as_text=True) for v in values["phone"])


# --- every free text about a case, the audit log and the stored files ----------------------------

PLANTED = {
    "exclusion": "Pani Anna Nowak (tel 602333444) prosi o wykreślenie",
    "outcome_change": "Nagranie: p. Nowak, anna.nowak@example.pl",
    "phone_label": "komórka Anny Nowak",
    "reopen": "Korekta po rozmowie z Anną Nowak, 602333444",
}
SEARCHED = ["Nowak", "602333444", "anna.nowak@example.pl", "322345671", "Zawiślak"]


def stored_files_text(app) -> str:
    """The text of every stored results file (each workbook unzipped, every part of it)."""
    import zipfile

    from app.models.jobs import ExportChunk

    parts = []
    with database(app).session() as session:
        jobs = sorted(set(session.scalars(select(ExportChunk.job_id))))
        for job_id in jobs:
            data = b"".join(
                session.scalars(
                    select(ExportChunk.data)
                    .where(ExportChunk.job_id == job_id)
                    .order_by(ExportChunk.position)
                )
            )
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                parts.extend(archive.read(name).decode("utf-8") for name in archive.namelist())
    return "\n".join(parts)


def test_erasure_leaves_no_planted_value_in_any_column_of_any_table_or_stored_file(
    app, closed_fieldwork, make_user, clock, tmp_path
):
    from app.exports import jobs
    from app.interview.service import reopen
    from app.models.calling import outcomes_of
    from app.supervise.services import change_call_outcome, set_exclusion

    fieldwork_id, analyst, values = closed_fieldwork
    boss = make_user("szef", Role.SUPERVISOR).id
    with database(app).session() as session:
        fieldwork = session.get(Fieldwork, fieldwork_id)
        cases = {
            unit.external_id: case
            for case, unit in session.execute(
                select(Case, SampleUnit)
                .join(SampleUnit, Case.sample_unit_id == SampleUnit.id)
                .where(Case.fieldwork_id == fieldwork_id)
            ).all()
        }
        set_exclusion(session, cases["C-03"], "exclude", PLANTED["exclusion"], boss, clock())
        call = session.scalar(select(Call).where(Call.case_id == cases["K-01"].id).limit(1))
        refusal = next(o for o in outcomes_of(session, fieldwork) if o.code == "hard_refusal")
        change_call_outcome(
            session, cases["K-01"], call, refusal, PLANTED["outcome_change"], boss, clock()
        )
        cases["C-02"].sample_unit.phones[0].label = PLANTED["phone_label"]
        response = session.scalar(select(Response).where(Response.status == "complete"))
        reopen(session, response, boss, PLANTED["reopen"], clock())
        job, _new = jobs.create_job(
            session,
            fieldwork,
            boss,
            jobs.RESPONSES,
            jobs.export_options_to_json(ExportOptions()),
            clock(),
        )
        job_id = job.id
    jobs.run_job(app.extensions["ankieta.db"], job_id, clock, translate)
    before_text = dump(app) + stored_files_text(app)
    for value in [*PLANTED.values(), *SEARCHED]:
        assert value.lower() in before_text.lower(), value  # the search can find each
    assert "322345671" in stored_files_text(app)  # the Calls sheet of the stored file

    erased = analyst.post(f"/fieldwork/{fieldwork_id}/erase-contacts", data={"confirm": "y"})
    assert erased.status_code == 302

    after_text = (dump(app) + "\n" + stored_files_text(app)).lower()
    left = [
        v
        for v in [*PLANTED.values(), *SEARCHED, *contact_values(values)]
        if v.lower() in after_text
    ]
    assert left == [], f"still stored after erasure: {left}"
    with database(app).session() as session:
        [event] = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "fieldwork.contacts_erased")
        ).all()
        assert event.actor == "ola" and event.detail["files"] == 1
        # what the log keeps of the planted texts: that they were given
        flags = [
            e.detail
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.fieldwork_id == fieldwork_id)
            )
            if "with_note" in e.detail or "with_reason" in e.detail
        ]
        assert len(flags) == 3
