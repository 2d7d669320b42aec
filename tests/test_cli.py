"""The `ankieta` command line, through Flask's CLI runner on each database backend."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.models.surveys import MonitoringPlan, Survey, SurveyVersion
from app.models.users import User
from tests.support import ENGLISH_LOCALE, SHIPPED, count_rows, shipped_questionnaires
from tests.support.small_survey import MINIMAL


def test_users_create_prints_a_one_time_password(app, runner) -> None:
    result = runner.invoke(args=["users", "create", "Kowalska", "--role", "supervisor"])
    assert result.exit_code == 0, result.output
    assert "Utworzono konto kowalska (supervisor)." in result.output
    assert "Hasło (pokazywane raz, do zmiany przy pierwszym logowaniu): " in result.output
    with app.extensions["ankieta.db"].session() as session:
        user = session.scalar(select(User).where(User.username == "kowalska"))
        assert user.must_change_password and user.role == "supervisor"


def test_commands_speak_english_when_the_locale_asks(app, runner) -> None:
    result = runner.invoke(
        args=["users", "create", "Nowak", "--role", "analyst"], env=ENGLISH_LOCALE
    )
    assert result.exit_code == 0, result.output
    assert "Created nowak (analyst)." in result.output
    assert "Password (shown once, to be changed at first login): " in result.output
    missing = runner.invoke(args=["fieldwork", "close", "999"], env=ENGLISH_LOCALE)
    assert missing.exit_code == 1
    assert missing.output.strip() == "Error: There is no fieldwork 999."


def test_the_root_lang_option_overrides_the_locale_for_every_command(app, runner) -> None:
    from app.cli import main

    english = runner.invoke(main, ["--lang", "en", "fieldwork", "close", "999"])
    assert english.exit_code == 1
    assert english.output.strip() == "Error: There is no fieldwork 999."
    polish = runner.invoke(main, ["--lang", "pl", "fieldwork", "close", "999"], env=ENGLISH_LOCALE)
    assert polish.exit_code == 1
    assert polish.output.strip() == "Błąd: Nie ma badania 999."
    listed = runner.invoke(main, ["--lang", "en", "surveys", "list"])
    assert listed.exit_code == 0 and listed.output == "No surveys loaded.\n"


def test_users_create_with_an_unknown_role_is_one_line_and_changes_nothing(app, runner) -> None:
    result = runner.invoke(args=["users", "create", "x", "--role", "superuser"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Błąd: Nieznana rola superuser; wybierz jedną z: "
        "admin, analyst, supervisor, interviewer, coordinator."
    ]
    assert count_rows(app, User) == 0


def test_users_create_refuses_a_duplicate(runner) -> None:
    runner.invoke(args=["users", "create", "ala", "--role", "analyst"])
    result = runner.invoke(args=["users", "create", "ALA", "--role", "admin"])
    assert result.exit_code == 1
    assert "Użytkownik ala już istnieje." in result.output


def test_users_change_sets_role_and_scope_and_is_audited(app, runner) -> None:
    runner.invoke(args=["users", "create", "ola", "--role", "supervisor"])
    refused = runner.invoke(args=["users", "change", "ola", "--role", "coordinator"])
    assert refused.exit_code == 1
    assert "Koordynator OWES potrzebuje co najmniej jednego podregionu." in refused.output
    done = runner.invoke(
        args=[
            "users",
            "change",
            "ola",
            "--role",
            "coordinator",
            "--subregions",
            "zachodni, północny",
        ]
    )
    assert done.exit_code == 0, done.output
    listed = runner.invoke(args=["users", "list"]).output.splitlines()
    assert "ola\tcoordinator\tactive\t\tpółnocny,zachodni\t" in listed
    admin = runner.invoke(args=["users", "create", "szef", "--role", "admin", "--subregions", "x"])
    assert admin.exit_code == 1 and count_rows(app, User) == 1
    with app.extensions["ankieta.db"].session() as session:
        from app.models.audit import AuditEvent

        changed = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "user.changed")
        ).one()
    assert changed.detail["subregions"] == [[], ["północny", "zachodni"]]
    assert changed.detail["role"] == ["supervisor", "coordinator"]


def test_demo_accounts_are_created_once_and_work(app, runner, client, auth) -> None:
    first = runner.invoke(args=["demo"])
    second = runner.invoke(args=["demo"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert count_rows(app, User) == 8
    owes = ("owes_polnocny", "owes_srodkowy", "owes_zachodni", "owes_poludniowy")
    for username in ("admin", "analityk", "koordynator", "ankieter", *owes):
        assert username in first.output
        assert auth.login(username, "ankieta-demo").status_code == 302
        assert client.get("/").status_code == 200
        auth.logout()
    assert "coordinator (zachodni)" in first.output


def test_surveys_load_stores_versions_by_content(app, runner, tmp_path: Path) -> None:
    path = tmp_path / "proba.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    first = runner.invoke(args=["surveys", "load", str(path)])
    assert first.exit_code == 0, first.output
    assert "wczytano proba, wersja 1" in first.output
    again = runner.invoke(args=["surveys", "load", str(path)])
    assert "bez zmian (proba, wersja 1)" in again.output
    path.write_text(MINIMAL.replace("Ile?", "Ile osób?"), encoding="utf-8")
    changed = runner.invoke(args=["surveys", "load", str(path)])
    assert "wczytano proba, wersja 2" in changed.output
    assert count_rows(app, Survey) == 1 and count_rows(app, SurveyVersion) == 2
    listing = runner.invoke(args=["surveys", "list"])
    assert "proba\tPróba\tversions: 2\titems: 1" in listing.output


def test_surveys_load_refuses_a_broken_definition_and_stores_nothing(app, runner, tmp_path):
    path = tmp_path / "zla.yaml"
    path.write_text(MINIMAL.replace("type: integer", "type: integr"), encoding="utf-8")
    result = runner.invoke(args=["surveys", "load", str(path)])
    assert result.exit_code == 1
    assert "zla.yaml: odrzucono, nic nie zapisano:" in result.output
    assert "pozycja liczba: Nieznany typ integr" in result.output
    assert count_rows(app, Survey) == 0


def test_init_migrates_and_loads_every_shipped_survey(app, runner) -> None:
    shipped = shipped_questionnaires(Path(app.config["SURVEYS_DIR"]))
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert count_rows(app, Survey) == len(shipped) >= 4
    again = runner.invoke(args=["init"])
    assert again.exit_code == 0
    assert again.output.count("bez zmian") == len(shipped) + 1  # and the monitoring plan
    assert "plan_monitoringu.yaml: bez zmian (plan plan_es_slaskie)" in again.output
    assert count_rows(app, SurveyVersion) == len(shipped)
    assert count_rows(app, MonitoringPlan) == 1


def test_demo_sets_up_an_open_fieldwork_once_after_init(app, runner, client) -> None:
    from app.demo.services import DEMO_PHONE_CASES
    from app.models.fieldwork import Fieldwork, SampleUnit

    assert runner.invoke(args=["init"]).exit_code == 0
    first = runner.invoke(args=["demo"])
    second = runner.invoke(args=["demo"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    assert count_rows(app, Fieldwork) == 1
    assert count_rows(app, SampleUnit) == 10 + DEMO_PHONE_CASES
    link = next(line.split()[0] for line in first.output.splitlines() if "/r/" in line)
    path = link[link.index("/r/") :]
    start = client.get(path)
    assert start.status_code == 200
    assert "Centrum Integracji Społecznej w Rybniku" in start.get_data(as_text=True)


def _load_shipped(runner, name: str = "owes_polroczne") -> None:
    assert runner.invoke(args=["surveys", "load", str(SHIPPED / f"{name}.yaml")]).exit_code == 0


def test_fieldwork_create_open_close_and_list(app, runner) -> None:
    _load_shipped(runner)
    created = runner.invoke(
        args=[
            "fieldwork",
            "create",
            "owes_polroczne",
            "--title",
            "OWES I półrocze 2026",
            "--closes",
            "31.07.2026",
        ]
    )
    assert created.exit_code == 0, created.output
    fieldwork_id = created.output.strip()
    assert fieldwork_id.isdigit()
    listing = runner.invoke(args=["fieldwork", "list"])
    assert "OWES I półrocze 2026" in listing.output and "draft" in listing.output
    assert "closes: 31.07.2026" in listing.output
    opened = runner.invoke(args=["fieldwork", "open", fieldwork_id]).output
    assert f"Badanie {fieldwork_id} jest otwarte." in opened
    again = runner.invoke(args=["fieldwork", "open", fieldwork_id])
    assert again.exit_code == 1 and "Błąd: Badanie jest już otwarte." in again.output
    closed = runner.invoke(args=["fieldwork", "close", fieldwork_id]).output
    assert f"Badanie {fieldwork_id} jest zamknięte." in closed
    missing = runner.invoke(args=["fieldwork", "close", "999"])
    assert missing.exit_code == 1 and "Nie ma badania 999." in missing.output
    unknown_survey = runner.invoke(args=["fieldwork", "create", "nope", "--title", "x"])
    assert unknown_survey.exit_code == 1 and "Nie ma ankiety nope." in unknown_survey.output
    bad_date = runner.invoke(
        args=["fieldwork", "create", "owes_polroczne", "--title", "x", "--closes", "jutro"]
    )
    assert bad_date.exit_code == 2
    assert "'jutro' nie jest datą; użyj RRRR-MM-DD albo DD.MM.RRRR." in bad_date.output


def test_sample_import_all_or_nothing_and_links_export(app, runner, tmp_path: Path) -> None:
    from app.models.fieldwork import SampleUnit

    _load_shipped(runner)
    fieldwork_id = runner.invoke(
        args=["fieldwork", "create", "owes_polroczne", "--title", "OWES"]
    ).output.strip()
    bad = tmp_path / "zla.csv"
    bad.write_text("id;nazwa;e-mail\nA1;OWES Rybnik;biuro@owes.pl\nA2;;nie-adres\n", "utf-8")
    refused = runner.invoke(args=["sample", "import", fieldwork_id, str(bad)])
    assert refused.exit_code == 1
    assert "zla.csv: odrzucono, nic nie zaimportowano:" in refused.output
    assert "wiersz 3" in refused.output
    assert count_rows(app, SampleUnit) == 0
    good = tmp_path / "dobra.csv"
    good.write_text(
        "id;nazwa;telefon\nA1;OWES Rybnik;032 123 45 67\nA2;OWES Żywiec;+48 33 111 22 33\n", "utf-8"
    )
    imported = runner.invoke(args=["sample", "import", fieldwork_id, str(good)])
    assert imported.exit_code == 0, imported.output
    assert f"Instytucje zaimportowane do badania {fieldwork_id}: 2." in imported.output
    out = tmp_path / "linki.csv"
    exported = runner.invoke(
        args=[
            "invitations",
            "export",
            fieldwork_id,
            "-o",
            str(out),
            "--base-url",
            "https://ankieta.example.pl",
        ]
    )
    assert exported.exit_code == 0, exported.output
    text = out.read_bytes().decode("utf-8")
    assert text.startswith("\ufeffexternal_id;name;")
    rows = text.strip().splitlines()[1:]
    assert len(rows) == 2 and "OWES Żywiec" in text
    assert all(";https://ankieta.example.pl/r/" in row for row in rows)


def test_surveys_check_passes_every_shipped_definition_and_fails_a_broken_one(
    runner, tmp_path: Path
) -> None:
    shipped = [str(p) for p in SHIPPED.glob("*.yaml")]
    assert len(shipped_questionnaires()) == 9 and len(shipped) == 10  # and the plan
    result = runner.invoke(args=["surveys", "check", *shipped])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    broken = tmp_path / "zla.yaml"
    broken.write_text(MINIMAL.replace("type: integer", "type: integr"), encoding="utf-8")
    failed = runner.invoke(args=["surveys", "check", "--lang", "en", str(broken)])
    assert failed.exit_code == 1
    assert f"{broken}:5: item liczba: Unknown type integr" in failed.output
    polish = runner.invoke(args=["surveys", "check", "--lang", "pl", str(broken)])
    assert polish.exit_code == 1 and "pozycja liczba" in polish.output


# --- the real `ankieta` entry point, in a process of its own ---------------------------------

ROOT = Path(__file__).resolve().parents[1]
_RUN_MAIN = """
import sys
from app.cli import main
sys.argv = ["ankieta", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    code = exit.code
else:
    code = 0
web = sorted(
    m for m in sys.modules if m.startswith(("app.models", "app.respond", "sqlalchemy.orm"))
)
print("WEB-MODULES:", ",".join(web))
sys.exit(code)
"""


def _ankieta(*args: str, env: dict[str, str] | None = None):
    import os
    import subprocess
    import sys

    environment = {k: v for k, v in os.environ.items() if not k.startswith("ANKIETA_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", _RUN_MAIN, *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_and_surveys_check_answer_without_building_the_web_app() -> None:
    helped = _ankieta("--help")
    assert helped.returncode == 0, helped.stderr
    for command in ("surveys", "fieldwork", "export", "report", "privacy", "backup", "init"):
        assert f"  {command} " in helped.stdout
    checked = _ankieta("surveys", "check", str(ROOT / "surveys" / "monitoring_cis_kis.yaml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for result in (helped, checked):
        # no models, no respondent pages, not even the ORM: only what the command needs
        assert result.stdout.rstrip().endswith("WEB-MODULES:"), result.stdout[-300:]


def test_the_entry_point_still_builds_the_app_for_commands_that_need_it(tmp_path) -> None:
    env = {"ANKIETA_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    upgraded = _ankieta("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    definition = tmp_path / "proba.yaml"
    definition.write_text(MINIMAL, encoding="utf-8")
    assert _ankieta("surveys", "load", str(definition), env=env).returncode == 0
    listed = _ankieta("surveys", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "proba" in listed.stdout
    assert "app.models" in listed.stdout  # the app was built for it
