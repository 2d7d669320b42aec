"""What broke or confused when every role was walked in a browser (issue #15, "Defects").

Each test names the defect it keeps fixed (D2, D3, ...); the ones that need JavaScript or
layout are in tests/browser.
"""

from __future__ import annotations

import io
import re
from datetime import UTC
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.models.cati import Call, Case
from app.models.fieldwork import Response
from app.models.users import Role
from tests.support import database, page_text, unit_token
from tests.support.phone import take_and_dial
from tests.support.respondent import SCENARIOS, Respondent, fill, parse_form

SHIPPED_BROKEN = """settings:
  id: proba
  title: Próba
survey:
  - type: integr
    name: liczba
    label: Liczba
"""


def _answer_screens(client, case_id: int, answers, screens: int) -> str:
    """Answer ``screens`` interview screens; the address of the screen shown next."""
    location = client.get(f"/cati/case/{case_id}/interview").location
    for _ in range(screens):
        form = parse_form(client.get(location))
        data = fill(form, answers)
        data.update(revision=form.revision, action="next")
        sent = client.post(location, data=data)
        assert sent.status_code == 302, page_text(sent)[:500]
        location = sent.location
    return location


# --- D2: outcomes that contradict the answers ------------------------------------------------


def test_d2_a_broken_off_interview_cannot_be_coded_complete_and_break_off_is_offered(
    join_team, app, client, make_fieldwork, login_as
):
    fieldwork_id = make_fieldwork("owes_polroczne", units=[("O-1", "OWES Rybnik", {})])
    join_team(fieldwork_id, login_as(Role.INTERVIEWER))
    case_id = take_and_dial(client, app, fieldwork_id)
    location = _answer_screens(client, case_id, SCENARIOS["owes_polroczne"].answers, 2)
    screen = parse_form(client.get(location))
    broke_off = client.post(screen.path, data={"revision": screen.revision, "action": "breakoff"})
    assert broke_off.location.endswith(f"/cati/case/{case_id}")

    case_screen = client.get(f"/cati/case/{case_id}").get_data(as_text=True)
    assert re.search(r'<option[^>]*selected[^>]*value="break_off"', case_screen) or re.search(
        r'<option[^>]*value="break_off"[^>]*selected', case_screen
    ), "after a break-off the outcome list starts at the break-off"

    refused = client.post(f"/cati/case/{case_id}/outcome", data={"outcome": "complete"})
    assert refused.status_code == 400
    assert "nie został dokończony" in page_text(refused)
    with database(app).session() as session:
        case = session.get(Case, case_id)
        assert not case.is_final and case.disposition_code != "1.1"
        assert session.scalar(select(Call).where(Call.case_id == case_id)).outcome_id is None


def test_d2_the_outcome_list_starts_empty_when_no_interview_was_begun(
    join_team, app, client, make_fieldwork, login_as
):
    fieldwork_id = make_fieldwork("owes_polroczne", units=[("O-1", "OWES Rybnik", {})])
    join_team(fieldwork_id, login_as(Role.INTERVIEWER))
    case_id = take_and_dial(client, app, fieldwork_id)
    case_screen = client.get(f"/cati/case/{case_id}").get_data(as_text=True)
    assert (
        "selected" not in re.search(r'<select[^>]*id="outcome".*?</select>', case_screen, re.S)[0]
    )


def test_d2_a_submitted_response_cannot_be_coded_as_a_non_contact(
    app, client, make_fieldwork, login_as
):
    fieldwork_id = make_fieldwork("owes_polroczne", units=[("O-1", "OWES Rybnik", {})])
    online = Respondent(app.test_client(), unit_token(app, fieldwork_id, "O-1"), fieldwork_id)
    online.walk(SCENARIOS["owes_polroczne"].answers)
    with database(app).session() as session:
        assert session.scalar(select(Response)).is_complete
        case_id = session.scalar(select(Case.id).where(Case.fieldwork_id == fieldwork_id))
    login_as(Role.SUPERVISOR)  # a supervisor may open any case
    for outcome in ("no_answer", "call_back_later"):
        refused = client.post(f"/cati/case/{case_id}/outcome", data={"outcome": outcome})
        assert refused.status_code == 400, outcome
        assert "nie może być zapisana jako brak kontaktu" in page_text(refused)
    with database(app).session() as session:
        case = session.get(Case, case_id)
        assert case.disposition_code == "1.1"


# --- D3: the response viewer shows don't know and refused -----------------------------------


def test_d3_the_response_viewer_shows_dont_know_and_refused_answers(
    join_team, app, client, make_fieldwork, login_as, make_user, auth
):
    fieldwork_id = make_fieldwork("jst_gmina", units=[("G-1", "Gmina Biała", {})])
    join_team(fieldwork_id, make_user("ankieter", Role.INTERVIEWER))
    auth.login("ankieter")
    case_id = take_and_dial(client, app, fieldwork_id)
    location = client.get(f"/cati/case/{case_id}/interview").location
    for answer in ("__dk__", "__rf__"):  # a1: don't know, b1: refused
        form = parse_form(client.get(location))
        (name,) = [n for n in form.fields if not n.endswith("_other")]
        sent = client.post(
            location, data={name: answer, "revision": form.revision, "action": "next"}
        )
        assert sent.status_code == 302, page_text(sent)[:300]
        location = sent.location
    with database(app).session() as session:
        response_id = session.scalar(select(Response.id))
    auth.logout()
    login_as(Role.ANALYST)
    viewer = client.get(f"/fieldwork/{fieldwork_id}/responses/{response_id}")
    assert viewer.status_code == 200
    html = viewer.get_data(as_text=True)
    for name, kind in (("a1", "dk"), ("b1", "rf")):
        box = re.search(rf'<input[^>]*id="q-{name}-{kind}"[^>]*>', html)
        assert box is not None, f"{name}: the viewer hides the {kind} answer"
        assert " checked" in box[0] and " disabled" in box[0]
    assert "Nie wiem" in page_text(viewer) and "Odmowa" in page_text(viewer)


# --- D10: appointment checks ----------------------------------------------------------------


def _book(client, case_id: int, day: str, start: str, end: str = ""):
    return client.post(
        f"/cati/case/{case_id}/outcome",
        data={
            "outcome": "appointment",
            "appointment_date": day,
            "appointment_from": start,
            "appointment_to": end,
        },
    )


def test_d10_appointment_errors_say_what_is_wrong_and_late_hours_are_warned(
    join_team, app, client, make_fieldwork, login_as
):
    fieldwork_id = make_fieldwork("jst_gmina", units=[("G-1", "Gmina Biała", {})])
    join_team(fieldwork_id, login_as(Role.INTERVIEWER))
    case_id = take_and_dial(client, app, fieldwork_id)
    generic = "Podaj datę i godzinę umówionej rozmowy"

    backwards = _book(client, case_id, "17.03.2026", "10:00", "09:00")
    assert backwards.status_code == 400
    text = page_text(backwards)
    assert "Rozmowa musi się kończyć później, niż się zaczyna (10:00–09:00)" in text
    assert generic not in text
    assert 'id="appointment_to-error"' in backwards.get_data(as_text=True)

    no_such_day = _book(client, case_id, "32.12.2026", "10:00")
    assert no_such_day.status_code == 400
    text = page_text(no_such_day)
    assert "Nie ma takiej daty lub godziny: 32.12.2026" in text and generic not in text

    no_start = _book(client, case_id, "17.03.2026", "")
    assert no_start.status_code == 400
    assert "Podaj godzinę rozpoczęcia umówionej rozmowy" in page_text(no_start)

    late = _book(client, case_id, "17.03.2026", "22:00", "22:30")  # a Tuesday evening
    assert late.status_code == 302, page_text(late)
    index = page_text(client.get(late.location))
    assert "17.03.2026 22:00 wypada poza godzinami dzwonienia" in index

    with database(app).session() as session:
        assert session.scalar(select(Call).where(Call.case_id == case_id)).outcome_id is not None


def test_d10_an_appointment_within_calling_hours_gets_no_warning(
    join_team, app, client, make_fieldwork, login_as
):
    fieldwork_id = make_fieldwork("jst_gmina", units=[("G-1", "Gmina Biała", {})])
    join_team(fieldwork_id, login_as(Role.INTERVIEWER))
    case_id = take_and_dial(client, app, fieldwork_id)
    booked = _book(client, case_id, "17.03.2026", "10:00", "11:00")
    assert booked.status_code == 302
    assert "poza godzinami dzwonienia" not in page_text(client.get(booked.location))


# --- D9: no internal names in what people read -----------------------------------------------


def test_d9_the_audit_log_names_fieldworks_people_states_and_actions(
    app, client, make_fieldwork, make_user, auth
):
    fieldwork_id = make_fieldwork(state="draft", title="Monitoring CIS 2026")
    interviewer = make_user("ankieterka", Role.INTERVIEWER)
    with database(app).session() as session:
        from app.models.users import User

        session.get(User, interviewer.id).full_name = "Anna Nowak"
    make_user("szef", Role.SUPERVISOR)
    make_user("analityk", Role.ANALYST)
    make_user("admin", Role.ADMIN)
    auth.login("analityk")
    assert (
        client.post(f"/fieldwork/{fieldwork_id}/state", data={"action": "open"}).status_code == 302
    )
    auth.logout()
    auth.login("szef")
    assert (
        client.post(
            f"/supervise/{fieldwork_id}/team", data={"interviewers": [str(interviewer.id)]}
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/supervise/{fieldwork_id}/calling-hours", data={"calling_hours": "pn-pt 8-20"}
        ).status_code
        == 302
    )
    auth.logout()
    auth.login("admin")
    text = page_text(client.get("/admin/audit"))
    for shown in (
        "konto szef",
        "badanie „Monitoring CIS 2026”",
        "stan: szkic → otwarte",
        "co: Zmieniono godziny dzwonienia",
        "co: Zmieniono zespół",
        "nowa wartość: Anna Nowak",
    ):
        assert shown in text, shown
    for leaked in ("user szef", f"fieldwork {fieldwork_id}", "draft", "calling_hours", "new: ["):
        assert leaked not in text, leaked


def _upload_sample(client, fieldwork_id: int, text: str):
    return client.post(
        f"/fieldwork/{fieldwork_id}/sample",
        data={"sample": (io.BytesIO(text.encode("utf-8")), "proba.csv")},
        content_type="multipart/form-data",
    )


def test_d9_sample_import_errors_name_the_files_own_columns(app, client, make_fieldwork, login_as):
    fieldwork_id = make_fieldwork(units=[("K-01", "Klub w Żorach", {})], state="draft")
    login_as(Role.ANALYST)
    empty_name = _upload_sample(client, fieldwork_id, "id;nazwa;telefon\nA-1;;32 111 11 01\n")
    assert empty_name.status_code == 400
    text = page_text(empty_name)
    assert "wiersz 2, kolumna nazwa: wartość jest wymagana" in text
    assert "wartość name" not in text
    clash = _upload_sample(client, fieldwork_id, "id;nazwa\nK-01;Klub raz jeszcze\n")
    assert clash.status_code == 400
    text = page_text(clash)
    assert "wiersz 2, kolumna id: identyfikator zewnętrzny K-01 jest już w próbie" in text
    assert "kolumna external_id" not in text


def test_d9_the_case_screen_groups_phone_numbers_and_names_sample_variables(
    join_team, app, client, make_fieldwork, login_as
):
    fieldwork_id = make_fieldwork(
        units=[("K-01", "Klub w Żorach", {"phone": "0321111101"})], state="draft"
    )
    with database(app).session() as session:
        from app.models.fieldwork import SampleUnit

        unit = session.scalar(select(SampleUnit))
        unit.variables = {"liczba_miejsc": 40}
        unit.phones[0].number = "0321111101"
        from app.models.fieldwork import ContactPhone

        unit.phones.append(ContactPhone(position=2, number="+48501234567"))
        from app.models.fieldwork import Fieldwork

        session.get(Fieldwork, fieldwork_id).open(app.config["CLOCK"]())
    join_team(fieldwork_id, login_as(Role.INTERVIEWER))
    case_id = take_and_dial(client, app, fieldwork_id)
    text = page_text(client.get(f"/cati/case/{case_id}"))
    assert "Liczba miejsc 40" in text and "liczba_miejsc" not in text
    assert "32 111 11 01" in text and "0321111101" not in text
    assert "+48 501 234 567" in text


# --- D8: "save and finish later" says what it could not keep ---------------------------------


def test_d8_save_later_says_which_typed_answers_were_not_saved(app, make_fieldwork):
    from tests.support.respondent import Respondent

    fieldwork_id = make_fieldwork(units=[("K-01", "Klub w Żorach", {"entity_type": "KIS"})])
    respondent = Respondent(app.test_client(), unit_token(app, fieldwork_id, "K-01"), fieldwork_id)
    form = respondent.begin()
    data = fill(form, {"a1": "kis", "a2": "ngo", "a3": "2025", "a4": "1990"})
    saved = respondent.send(form, data, action="later")
    assert saved.status_code == 200
    text = page_text(saved)
    assert "Twoje odpowiedzi zostały zapisane" in text
    assert (
        "Rok utworzenia jednostki: „1990” — Rok utworzenia musi przypadać między 2003"
        " a rokiem, którego dotyczą dane." in text
    )
    assert f'href="/r/{respondent.token}/p/a"' in saved.get_data(as_text=True)
    with database(app).session() as session:
        answers = session.scalar(select(Response)).answers
        assert answers["a1"] == "kis" and "a4" not in answers


def test_d8_save_later_with_valid_answers_lists_nothing(app, make_fieldwork):
    from tests.support.respondent import Respondent

    fieldwork_id = make_fieldwork(units=[("K-01", "Klub w Żorach", {"entity_type": "KIS"})])
    respondent = Respondent(app.test_client(), unit_token(app, fieldwork_id, "K-01"), fieldwork_id)
    form = respondent.begin()
    saved = respondent.send(form, fill(form, {"a1": "kis", "a4": None}), action="later")
    assert saved.status_code == 200
    assert 'id="not-saved"' not in saved.get_data(as_text=True)


# --- D13: smaller things -----------------------------------------------------------------------


def test_d13_the_command_line_checker_speaks_polish_unless_told_or_the_locale_is_english(
    runner, tmp_path
):
    broken = tmp_path / "zla.yaml"
    broken.write_text(SHIPPED_BROKEN, encoding="utf-8")
    for env, polish in (
        ({"LC_ALL": "", "LC_MESSAGES": "", "LANG": ""}, True),
        ({"LC_ALL": "", "LC_MESSAGES": "", "LANG": "pl_PL.UTF-8"}, True),
        ({"LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"}, True),
        ({"LC_ALL": "", "LC_MESSAGES": "", "LANG": "en_GB.UTF-8"}, False),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "pl_PL.UTF-8"}, False),
    ):
        result = runner.invoke(args=["surveys", "check", str(broken)], env=env)
        assert result.exit_code == 1
        assert ("pozycja liczba" in result.output) is polish, (env, result.output)
    forced = runner.invoke(
        args=["surveys", "check", "--lang", "pl", str(broken)], env={"LANG": "en_GB.UTF-8"}
    )
    assert "pozycja liczba" in forced.output


def test_d13_surveys_list_prints_warsaw_time(app, runner, make_fieldwork):
    from app.models.surveys import SurveyVersion

    make_fieldwork()
    with database(app).session() as session:
        loaded_at = session.scalar(select(SurveyVersion.loaded_at))
    warsaw = loaded_at.astimezone(ZoneInfo("Europe/Warsaw")).strftime("%d.%m.%Y %H:%M")
    utc = loaded_at.astimezone(UTC).strftime("%d.%m.%Y %H:%M")
    assert warsaw != utc
    listed = runner.invoke(args=["surveys", "list"])
    assert f"latest: {warsaw} (Warsaw time)" in listed.output, listed.output


def test_d13_the_demo_lets_a_newcomer_try_phone_interviews_at_any_hour(
    app, runner, client, auth, clock
):
    from datetime import datetime

    assert runner.invoke(args=["init"]).exit_code == 0
    shown = runner.invoke(args=["demo"])
    assert shown.exit_code == 0, shown.output
    assert "Wywiady telefoniczne: zaloguj się jako ankieter;" in shown.output
    waiting = int(re.search(r"; instytucje czekające na telefon: (\d+);", shown.output)[1])
    assert waiting >= 10
    with database(app).session() as session:
        from app.models.fieldwork import Fieldwork

        fieldwork_id = session.scalar(select(Fieldwork.id))
    # a Sunday evening, 23:30 in Warsaw: far outside office hours
    clock.now = datetime(2026, 3, 22, 23, 30, tzinfo=ZoneInfo("Europe/Warsaw")).astimezone(UTC)
    auth.login("ankieter", "ankieta-demo")
    taken = client.post(f"/cati/{fieldwork_id}/next", data={})
    assert taken.status_code == 302 and "/cati/case/" in taken.location, page_text(taken)
    case_id = int(re.search(r"/cati/case/(\d+)", taken.location)[1])
    screen = client.get(f"/cati/case/{case_id}")
    assert "Zadzwoń" in page_text(screen)


# --- D7: the results files form ---------------------------------------------------------------


def test_d7_the_files_form_names_breakdowns_groups_report_options_and_compares_only_earlier(
    app, client, make_fieldwork, login_as
):
    older = make_fieldwork(title="Monitoring 2025")
    newer = make_fieldwork(title="Monitoring 2026")
    login_as(Role.ANALYST)
    html = client.get(f"/fieldwork/{older}/files").get_data(as_text=True)
    by = re.search(r'<select[^>]*id="by".*?</select>', html, re.S)[0]
    assert ">Podregion<" in by and ">Typ instytucji<" in by
    assert ">subregion<" not in by and ">entity_type<" not in by
    report = re.search(r'<fieldset id="report-options">.*?</fieldset>', html, re.S)[0]
    assert "Tylko dla raportu z monitoringu" in report
    assert 'id="by"' in report and 'id="compare"' in report and 'id="include_partial"' in report
    assert 'id="labels"' not in report
    compare = re.search(r'<select[^>]*id="compare".*?</select>', html, re.S)[0]
    assert "Monitoring 2026" not in compare  # a newer fieldwork is no earlier one
    html = client.get(f"/fieldwork/{newer}/files").get_data(as_text=True)
    compare = re.search(r'<select[^>]*id="compare".*?</select>', html, re.S)[0]
    assert "Monitoring 2025" in compare


def test_d7_a_file_being_prepared_shows_a_percentage_and_names_say_the_options(
    app, client, make_fieldwork, login_as, clock
):
    from app.exports import jobs
    from app.models.fieldwork import Fieldwork

    fieldwork_id = make_fieldwork()
    analyst = login_as(Role.ANALYST)
    with database(app).session() as session:
        fieldwork = session.get(Fieldwork, fieldwork_id)
        options = jobs.ReportOptions(by="subregion", include_partial=True).to_json()
        job, _new = jobs.create_job(session, fieldwork, analyst.id, jobs.REPORT, options, clock())
        job.state, job.total, job.done = "running", 200, 50
        key, name = job.key, job.file_name
    assert name == f"raport-badanie-{fieldwork_id}-wg-podregion-z-czesciowymi.xlsx"
    text = page_text(client.get(f"/files/{key}"))
    assert "Gotowe 25%: zapisano 50 z 200 odpowiedzi" in text
