"""Configuration layers, the health check, error pages and the database boundary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from app import create_app
from app.models.users import Role
from app.platform.config import ConfigError, load_config
from tests.support import page_text

PROJECT = Path(__file__).resolve().parents[2]
ANKIETA = Path(sys.executable).with_name("ankieta")


def test_config_layers_instance_file_then_environment_then_test(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text(
        "LOGIN_MAX_FAILURES = 7\nLOGIN_LOCK_MINUTES = 30\nSECRET_KEY = 'k' * 40\n"
    )
    monkeypatch.setenv("ANKIETA_LOGIN_LOCK_MINUTES", "45")
    monkeypatch.setenv("ANKIETA_SESSION_COOKIE_SECURE", "yes")
    config = load_config(tmp_path, {"LOGIN_MAX_FAILURES": 9})
    assert config["LOGIN_MAX_FAILURES"] == 9
    assert config["LOGIN_LOCK_MINUTES"] == 45
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SECRET_KEY"] == "k" * 40
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'ankieta.db'}"


def test_a_secret_is_generated_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.delenv("ANKIETA_SECRET_KEY", raising=False)
    first = load_config(tmp_path)["SECRET_KEY"]
    second = load_config(tmp_path)["SECRET_KEY"]
    assert first == second and len(first) >= 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first != load_config(tmp_path / "other")["SECRET_KEY"]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ({"ANKIETA_DATABASE_URL": "not a url"}, "database URL 'not a url' is not valid"),
        ({"ANKIETA_DATABASE_URL": "mysql://x@y/z"}, "database 'mysql' is not supported"),
        (
            {"ANKIETA_LOGIN_MAX_FAILURES": "five"},
            "ANKIETA_LOGIN_MAX_FAILURES='five' is not a whole",
        ),
        ({"ANKIETA_SESSION_COOKIE_SECURE": "perhaps"}, "is not a yes/no value"),
    ],
)
def test_bad_configuration_is_one_clear_error(tmp_path, monkeypatch, setup, expected):
    for key, value in setup.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=expected):
        load_config(tmp_path)


def test_malformed_instance_config_names_the_file_and_line(tmp_path):
    (tmp_path / "config.py").write_text("SECRET_KEY = 'x'\nDATABASE_URL = (\n")
    with pytest.raises(ConfigError, match=r"config\.py:\d+: syntax error"):
        load_config(tmp_path)


def _run_cli(args, tmp_path, **env):
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ANKIETA_") and k not in ("LC_ALL", "LC_MESSAGES")
    }
    environment["LANG"] = "C.UTF-8"  # CI's locale: the command line speaks Polish
    environment.update(env)
    environment["ANKIETA_SECRET_KEY"] = "s" * 64
    return subprocess.run(
        [str(ANKIETA), *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"ANKIETA_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"},
            "Błąd: Brak połączenia z bazą danych: ",
        ),
        (
            {"ANKIETA_DATABASE_URL": "::::"},
            "ankieta: błąd konfiguracji: adres bazy danych '::::' jest niepoprawny",
        ),
        (
            {"ANKIETA_DATABASE_URL": "::::", "LANG": "en_US.UTF-8"},
            "ankieta: configuration error: database URL '::::' is not valid",
        ),
    ],
)
def test_cli_stops_with_one_line_on_bad_configuration(tmp_path, env, expected):
    result = _run_cli(["users", "list"], tmp_path, **env)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_wsgi_entry_point_refuses_an_unmigrated_database(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANKIETA_")}
    env["ANKIETA_DATABASE_URL"] = f"sqlite:///{tmp_path / 'empty.db'}"
    env["ANKIETA_SECRET_KEY"] = "s" * 64
    result = subprocess.run(
        [sys.executable, "-c", "import app.wsgi"],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 4
    assert result.stderr.strip().splitlines() == [
        f"ankieta: configuration error: the database sqlite:///{tmp_path / 'empty.db'} has no "
        "schema yet; run `ankieta db upgrade`"
    ]


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "t" * 40,
            "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_unknown_page_is_a_polish_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Nie znaleziono strony" in page_text(response)


def test_forbidden_page_is_a_polish_403(client, login_as):
    login_as(Role.INTERVIEWER)
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "Brak dostępu" in page_text(response)


def test_unexpected_error_is_a_polish_500_and_rolls_back(app, client, login_as):
    def broken():
        from app.platform.extensions import db_session

        db_session().execute(text("UPDATE user_account SET full_name = 'half-written'"))
        raise RuntimeError("boom")

    broken.access = app.view_functions["admin.users"].access
    app.add_url_rule("/broken", "broken", broken)
    login_as(Role.ADMIN)
    response = client.get("/broken")
    assert response.status_code == 500
    assert "Coś poszło nie tak" in page_text(response)
    assert "Traceback" not in response.get_data(as_text=True)
    with app.extensions["ankieta.db"].session() as session:
        names = session.execute(text("SELECT full_name FROM user_account")).scalars().all()
    assert "half-written" not in names


def test_language_switch_to_english_and_back(client):
    client.post("/language", data={"lang": "en", "next": "/login"})
    english = client.get("/login")
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert "Log in" in page_text(english)
    client.post("/language", data={"lang": "xx"})
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)
    client.post("/language", data={"lang": "pl"})
    assert "Zaloguj się" in page_text(client.get("/login"))


def test_base_layout_has_landmarks_and_a_skip_link(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'class="skip-link" href="#main"' in html
    assert '<main id="main"' in html and "<header" in html and "<footer" in html
    assert "<script" not in html  # works without JavaScript; nothing from a CDN
    assert "http://" not in html.replace("http://localhost", "")


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "b": [1.5, "zażółć", null, true], "c": {"missing": "dont_know"}}',
        "123456789012345678901234567890",  # past 64 bits: orjson refuses, json reads
        "[NaN, Infinity]",  # what json.dumps writes for such floats
        '"\\ud800"',  # a lone surrogate escape
        '{"a": 1, "a": 2}',
    ],
)
def test_stored_json_reads_as_the_standard_library_reads_it(text, tmp_path):
    import json
    import math

    from app.platform.db import json_loads, make_engine

    got, expected = json_loads(text), json.loads(text)
    if isinstance(expected, list) and any(isinstance(v, float) for v in expected):
        assert [math.isinf(v) or math.isnan(v) for v in got] == [True, True]
    else:
        assert got == expected and type(got) is type(expected)
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert engine.dialect._json_deserializer is json_loads  # the engine reads with it
    engine.dispose()


@pytest.mark.parametrize(
    "text",
    ["-9223372036854775809", "18446744073709551616", '{"konto": 12345678901234567890123456}'],
)
def test_stored_json_keeps_integers_past_64_bits(text):
    import json

    from app.platform.db import json_loads

    for given in (text, text.encode()):
        assert json_loads(given) == json.loads(text)
        assert type(json_loads(given)) is type(json.loads(text))


def test_stored_json_refuses_a_number_as_the_standard_library_does():
    """SQLAlchemy's SQLite JSON type reads a number from a JSON path (``answers['x']``) by
    catching the TypeError that the deserializer raises for it."""
    import json

    from app.platform.db import json_loads

    for value in (3, 2.5):
        with pytest.raises(TypeError):
            json.loads(value)
        with pytest.raises(TypeError):
            json_loads(value)
