"""Security headers on every kind of response, pages that obey the Content-Security-Policy,
and personal-link tokens kept out of the logs (app/platform/headers.py).

The log tests start the real servers (``ankieta run`` and gunicorn) as subprocesses on a
free loopback port, request a real personal link and read what the servers printed.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask, Response, template_rendered

from app import create_app
from app.models.users import Role
from app.platform.headers import CONTENT_SECURITY_POLICY, TokenMaskingFilter, mask_tokens
from app.platform.security import public
from tests.support import SHIPPED, TEST_PASSWORD, unit_token
from tests.support.phone import dial, interview_to_the_end, take_next, taken_case_id
from tests.support.respondent import SCENARIOS, Respondent
from tests.test_access import EXPECTED

PROJECT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

EVERY_RESPONSE = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _assert_security_headers(response, what: str) -> None:
    for name, value in EVERY_RESPONSE.items():
        assert response.headers.get(name) == value, f"{what}: {name}={response.headers.get(name)}"
    policy = response.headers.get("Permissions-Policy", "")
    for feature in ("camera=()", "microphone=()", "geolocation=(self)"):
        assert feature in policy, f"{what}: Permissions-Policy {policy!r}"
    csp = {
        directive.split()[0]: directive.split()[1:]
        for directive in response.headers["Content-Security-Policy"].split(";")
        if directive.strip()
    }
    assert csp["frame-ancestors"] == ["'none'"], f"{what}: {csp}"
    assert csp["script-src"] == ["'self'"] and csp["object-src"] == ["'none'"], f"{what}: {csp}"
    assert "'unsafe-inline'" not in sum(csp.values(), []), f"{what}: {csp}"
    assert response.headers["Referrer-Policy"] == "no-referrer", what
    assert "Strict-Transport-Security" not in response.headers, f"{what}: HSTS over plain HTTP"


def _add_failing_route(app: Flask) -> None:
    def boom():
        raise RuntimeError("a bug in a view")

    app.add_url_rule("/boom-for-test", "boom_for_test", public(boom))


def _login(app: Flask, username: str, role: Role, make_user):
    make_user(username, role)
    client = app.test_client()
    assert client.post(
        "/login", data={"username": username, "password": TEST_PASSWORD}
    ).status_code == (302)
    return client


# --- the headers ----------------------------------------------------------------------------


def test_every_kind_of_response_carries_the_security_headers(app, make_fieldwork, make_user):
    _add_failing_route(app)
    fieldwork_id = make_fieldwork("monitoring_cis_kis")
    token = unit_token(app, fieldwork_id, "K-01")
    anonymous = app.test_client()
    analyst = _login(app, "analityk", Role.ANALYST, make_user)
    interviewer = _login(app, "ankieter", Role.INTERVIEWER, make_user)

    checks = [
        # (what, client, url, expected status, Cache-Control expected)
        ("login page", anonymous, "/login", 200, None),
        ("health check", anonymous, "/healthz", 200, None),
        ("respondent start page", anonymous, f"/r/{token}", 200, "no-store"),
        ("unknown personal link", anonymous, f"/r/{'A' * 32}", 404, "no-store"),
        ("unknown page", anonymous, "/no-such-page", 404, None),
        ("server error", anonymous, "/boom-for-test", 500, None),
        ("staff home", analyst, "/", 200, "no-store"),
        ("file download", analyst, f"/fieldwork/{fieldwork_id}/links.csv", 200, "no-store"),
        ("sample template", analyst, "/fieldwork/sample-template.xlsx", 200, "no-store"),
        ("interviewer page", interviewer, "/cati/", 200, "no-store"),
        ("refused page", interviewer, "/admin/users", 403, "no-store"),
        ("logged-in 404", interviewer, "/no-such-page", 404, "no-store"),
        ("logged-in 500", interviewer, "/boom-for-test", 500, "no-store"),
    ]
    for what, client, url, status, cache in checks:
        response = client.get(url)
        assert response.status_code == status, f"{what}: {response.status_code}"
        _assert_security_headers(response, what)
        if cache:
            assert response.headers.get("Cache-Control") == cache, what
        else:
            assert "no-store" not in response.headers.get("Cache-Control", ""), what
        response.close()

    # static files keep their validators and are revalidated, not banned from caches
    for client in (anonymous, interviewer):
        static = client.get("/static/css/app.css")
        assert static.status_code == 200
        _assert_security_headers(static, "static file")
        assert "no-store" not in static.headers.get("Cache-Control", "")
        etag = static.headers["ETag"]
        static.close()
        again = client.get("/static/css/app.css", headers={"If-None-Match": etag})
        assert again.status_code == 304
        _assert_security_headers(again, "static 304")
        again.close()


def test_respondent_pages_send_no_referrer_through_the_whole_walk(app, make_fieldwork):
    fieldwork_id = make_fieldwork("monitoring_cis_kis")
    respondent = Respondent(app.test_client(), unit_token(app, fieldwork_id, "K-01"))
    seen = []

    @app.after_request
    def record(response: Response) -> Response:
        seen.append(response)
        return response

    respondent.walk(SCENARIOS["monitoring_cis_kis"].answers)
    respondent.client.get(f"{respondent.link}/done")
    assert len(seen) > 15
    for response in seen:
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_headers_a_view_sets_itself_are_kept(app, client):
    def own_headers():
        return "cached", {"Cache-Control": "max-age=60", "X-Frame-Options": "SAMEORIGIN"}

    app.add_url_rule("/own-headers", "own_headers", public(own_headers))
    response = client.get("/own-headers")
    assert response.headers["Cache-Control"] == "max-age=60"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_hsts_only_when_the_site_is_configured_for_https(app, client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    app.config["SESSION_COOKIE_SECURE"] = True
    hsts = client.get("/login", base_url="https://localhost").headers["Strict-Transport-Security"]
    assert re.fullmatch(r"max-age=\d+", hsts) and int(hsts.split("=")[1]) >= 180 * 86400


def test_forms_work_over_https_without_a_referer_but_not_without_the_csrf_token(
    app, make_fieldwork, make_user
):
    """no-referrer means browsers post forms without a Referer (and with Origin: null):
    the CSRF check must rest on the token, which is still required."""
    fieldwork_id = make_fieldwork("monitoring_cis_kis")
    token = unit_token(app, fieldwork_id, "K-01")
    https = {"base_url": "https://localhost"}
    respondent = app.test_client()
    assert respondent.get(f"/r/{token}", **https).status_code == 200
    forged = respondent.post(f"/r/{token}/start", data={}, csrf=False, **https)
    assert forged.status_code == 400
    started = respondent.post(f"/r/{token}/start", data={}, headers={"Origin": "null"}, **https)
    assert started.status_code == 302 and "/p/" in started.location

    make_user("ankieter", Role.INTERVIEWER)
    staff = app.test_client()
    login = {"username": "ankieter", "password": TEST_PASSWORD}
    assert staff.post("/login", data=login, csrf=False, **https).status_code == 400
    assert staff.post("/login", data=login, **https).status_code == 302


# --- the pages obey the policy ----------------------------------------------------------------


class _PolicyScanner(HTMLParser):
    """Collects what the Content-Security-Policy above would block in a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._script_open = False
        self._script_inline_allowed = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> inline event handler")
            if name == "style":
                self.problems.append(f"<{tag} style={value!r}> style attribute")
            if name in ("href", "src", "action", "formaction") and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}> javascript: URL")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            self._script_open = True
            self._script_inline_allowed = names.get("type") == "application/json"
            src = names.get("src")
            if src is not None and not src.startswith("/static/"):
                self.problems.append(f"<script src={src!r}> not from this site's static files")
        if tag == "link" and names.get("rel") == "stylesheet":
            if not (names.get("href") or "").startswith("/static/"):
                self.problems.append(f"<link href={names.get('href')!r}> not a static file")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script_open = False

    def handle_data(self, data: str) -> None:
        if self._script_open and data.strip() and not self._script_inline_allowed:
            self.problems.append(f"inline <script>: {data.strip()[:80]!r}")


def policy_problems(html: str) -> list[str]:
    scanner = _PolicyScanner()
    scanner.feed(html)
    scanner.close()
    return scanner.problems


def test_the_scanner_finds_what_the_policy_blocks():
    bad = (
        '<p style="color:red">x</p><button onclick="go()">b</button><script>alert(1)</script>'
        '<a href="javascript:go()">a</a><style>p{}</style>'
        '<script src="https://cdn.example/x.js"></script>'
    )
    assert len(policy_problems(bad)) == 6
    good = (
        '<script src="/static/js/form.js" defer></script>'
        '<script type="application/json" id="d">{"a": 1}</script><p class="x">ok</p>'
    )
    assert policy_problems(good) == []


TEMPLATES = PROJECT / "app" / "templates"
STATIC_JS = PROJECT / "app" / "static" / "js"


def test_no_template_holds_inline_script_style_or_event_handler():
    """The source of every template (also ones no walk below reaches)."""
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        for pattern, what in [
            (r"\son[a-z]+\s*=", "inline event handler"),
            (r"\sstyle\s*=", "style attribute"),
            (r"<style\b", "<style> element"),
            (r"javascript:", "javascript: URL"),
        ]:
            for match in re.finditer(pattern, source, re.I):
                line = source.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(PROJECT)}:{line}: {what}")
        for match in re.finditer(r"<script\b([^>]*)>(.*?)</script>", source, re.S | re.I):
            attributes, body = match.groups()
            if body.strip() and 'type="application/json"' not in attributes:
                line = source.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(PROJECT)}:{line}: inline <script>")
    assert problems == []


def test_scripts_use_nothing_the_policy_blocks():
    problems = []
    for path in sorted(STATIC_JS.rglob("*.js")):
        source = path.read_text(encoding="utf-8")
        for pattern, what in [
            (r"\beval\s*\(", "eval"),
            (r"\bnew\s+Function\s*\(", "new Function"),
            (r"\bset(?:Timeout|Interval)\s*\(\s*['\"`]", "string timer"),
            (r"setAttribute\(\s*['\"](?:style|on[a-z]+)['\"]", "style/handler attribute"),
            (r"\.cssText\b", "cssText"),
            (r"(?:innerHTML|insertAdjacentHTML)[^;]*(?:style=|\son[a-z]+=)", "inline HTML"),
        ]:
            if re.search(pattern, source):
                problems.append(f"{path.relative_to(PROJECT)}: {what}")
    assert problems == []


def test_every_page_of_a_walk_obeys_the_policy(app, make_fieldwork, make_user):
    """Render the pages: respondent walks of every shipped survey (with an error shown), a
    phone interview, every GET route as an admin, error pages; scan each HTML answer."""
    _add_failing_route(app)
    pages: dict[str, str] = {}
    rendered: set[str] = set()

    @app.after_request
    def record(response: Response) -> Response:
        from flask import request

        if response.mimetype == "text/html" and not response.direct_passthrough:
            pages[f"{request.method} {request.path} {response.status_code}"] = response.get_data(
                as_text=True
            )
        return response

    def remember(sender, template, context, **extra):
        rendered.add(template.name)

    template_rendered.connect(remember, app)
    try:
        # the respondent: every shipped questionnaire to the end, and a page with errors
        first = None
        for survey, scenario in SCENARIOS.items():
            fieldwork_id = make_fieldwork(
                survey, units=[("X-01", scenario.unit_name, {"entity_type": scenario.entity_type})]
            )
            first = first or fieldwork_id
            respondent = Respondent(app.test_client(), unit_token(app, fieldwork_id, "X-01"))
            form = respondent.begin()
            with_errors = respondent.send(form, {name: "?" for name in form.fields})
            assert with_errors.status_code == 200
            later = respondent.send(form, {}, action="later")
            assert later.status_code == 200
            respondent.walk(scenario.answers)
            assert respondent.client.get(f"{respondent.link}/done").status_code == 200
        # the interviewer's screens: a case, a call, the whole interview, the appointments
        # (as a supervisor, who may phone any open fieldwork's cases)
        caller = _login(app, "koordynator", Role.SUPERVISOR, make_user)
        phone_fieldwork = make_fieldwork(
            "owes_polroczne", units=[("O-1", "OWES Subregionu Zachodniego", {})]
        )
        case_id = taken_case_id(take_next(caller, phone_fieldwork))
        assert caller.get(f"/cati/case/{case_id}").status_code == 200
        dial(caller, app, case_id)
        assert interview_to_the_end(caller, case_id, SCENARIOS["owes_polroczne"].answers)
        assert caller.get("/cati/appointments").status_code == 200
        # every GET route as an admin, with ids that exist
        admin = _login(app, "administrator", Role.ADMIN, make_user)
        for _endpoint, (method, url, _who) in EXPECTED.items():
            if method == "GET":
                admin.get(url.replace("/fieldwork/1", f"/fieldwork/{first}")).close()
        assert app.test_client().get("/login").status_code == 200
        assert admin.get("/no-such-page").status_code == 404
        assert admin.get("/boom-for-test").status_code == 500
        assert admin.post("/admin/users", data={}, csrf=False).status_code == 400
    finally:
        template_rendered.disconnect(remember, app)

    for name in (
        "respond/start.html",
        "respond/page.html",
        "respond/saved.html",
        "respond/done.html",
        "cati/index.html",
        "cati/case.html",
        "cati/interview.html",
        "cati/appointments.html",
        "supervise/fieldwork.html",
        "fieldwork/detail.html",
        "fieldwork/response.html",
        "surveys/detail.html",
        "admin/users.html",
        "auth/login.html",
        "errors/error.html",
    ):
        assert name in rendered, f"the walk never rendered {name}"
    assert len(pages) > 60
    problems = {key: policy_problems(html) for key, html in pages.items()}
    assert {key: found for key, found in problems.items() if found} == {}


# --- tokens out of the logs ---------------------------------------------------------------------

TOKEN = "kF3_x9-QmZ2pLr7TbVw0aYcE5uHnJd1s"  # the shape of secrets.token_urlsafe(24)


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        (f'"GET /r/{TOKEN} HTTP/1.1" 200', '"GET /r/***Jd1s HTTP/1.1" 200'),
        (f'"POST /r/{TOKEN}/p/a HTTP/1.1" 302', '"POST /r/***Jd1s/p/a HTTP/1.1" 302'),
        (f"GET /o/{TOKEN}?lang=pl", "GET /o/***Jd1s?lang=pl"),
        (f'"http://ankieta.example/r/{TOKEN}/done"', '"http://ankieta.example/r/***Jd1s/done"'),
        (f"/login?next=%2Fr%2F{TOKEN}", "/login?next=%2Fr%2F***Jd1s"),
        ("GET /r/short HTTP/1.1", "GET /r/*** HTTP/1.1"),
        ("GET /fieldwork/3/responses/7 HTTP/1.1", "GET /fieldwork/3/responses/7 HTTP/1.1"),
    ],
)
def test_mask_tokens(line, masked):
    assert mask_tokens(line) == masked


def test_the_filter_masks_message_arguments_and_tracebacks():
    try:
        raise ValueError(f"bad link /r/{TOKEN}")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "on %s", (f"/r/{TOKEN}",), sys.exc_info()
        )
    assert TokenMaskingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert TOKEN not in text and "/r/***Jd1s" in text
    assert "ValueError: bad link /r/***Jd1s" in text


def test_the_app_does_not_log_a_token_when_a_respondent_page_fails(
    app, client, make_fieldwork, monkeypatch, caplog
):
    fieldwork_id = make_fieldwork("monitoring_cis_kis")
    token = unit_token(app, fieldwork_id, "K-01")

    def broken(*_args, **_kwargs):
        raise RuntimeError(f"cannot resolve /r/{token}")

    monkeypatch.setattr("app.respond.services.resolve", broken)
    with caplog.at_level(logging.INFO):
        assert client.get(f"/r/{token}").status_code == 500
        assert client.get(f"/r/{token}/p/a").status_code == 500
    logged = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert f"/r/***{token[-4:]}" in logged  # the failure is logged, with the path masked
    assert token not in logged


# --- the real servers ---------------------------------------------------------------------------


@pytest.fixture
def served_database(tmp_path, sqlite_template) -> tuple[str, str]:
    """A SQLite file with an open fieldwork; its URL and one institution's token."""
    from app.fieldwork import services as fieldwork_services
    from app.surveys import services as survey_services

    path = tmp_path / "served.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    instance = tmp_path / "instance"
    instance.mkdir()
    application = create_app(
        {"INSTANCE_PATH": str(instance), "DATABASE_URL": url, "SECRET_KEY": "s" * 40}
    )
    with application.extensions["ankieta.db"].session() as session:
        outcome = survey_services.load_file(session, SHIPPED / "monitoring_cis_kis.yaml")
        fieldwork = fieldwork_services.create_fieldwork(session, outcome.survey.code, "Logi")
        imported = fieldwork_services.import_sample(
            session,
            fieldwork,
            "external_id;name;entity_type\nK-01;Klub w Żorach;KIS".encode(),
            "sample.csv",
            now=application.config["CLOCK"](),
        )
        assert imported.ok
        fieldwork.open(application.config["CLOCK"]())
        session.flush()
        fieldwork_id = fieldwork.id
    token = unit_token(application, fieldwork_id, "K-01")
    application.extensions["ankieta.db"].dispose()
    return url, token


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@contextmanager
def _server(command: list[str], port: int, database_url: str, log: Path) -> Iterator[None]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANKIETA_", "FLASK_"))}
    env.update(
        ANKIETA_DATABASE_URL=database_url,
        ANKIETA_SECRET_KEY=secrets.token_hex(32),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
    )
    with open(log, "wb") as output:
        process = subprocess.Popen(
            command,
            cwd=log.parent,  # not the project: no gunicorn.conf.py or instance/ picked up there
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, "no answer: " + log.read_text(errors="replace")
                try:
                    if _get(port, "/healthz") == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.1)
            yield
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _requests_with_a_token(port: int, token: str) -> None:
    assert _get(port, f"/r/{token}") == 200
    assert _get(port, f"/r/{token}/p/a") == 302  # not started yet: back to the first page
    referer = {"Referer": f"http://127.0.0.1:{port}/r/{token}/p/a"}
    assert _get(port, "/static/css/app.css", referer) == 200
    assert _get(port, f"/o/{token}") == 404


SERVERS = {
    "ankieta run": lambda port: [
        str(BIN / "ankieta"),
        "run",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ],
    "gunicorn": lambda port: [
        str(BIN / "gunicorn"),
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
        "--chdir",
        str(PROJECT),
        "app.wsgi:app",
    ],
}


@pytest.mark.parametrize("server", SERVERS)
def test_the_servers_access_log_shows_requests_but_never_a_token(server, served_database, tmp_path):
    database_url, token = served_database
    port = _free_port()
    log = tmp_path / "server.log"
    with _server(SERVERS[server](port), port, database_url, log):
        _requests_with_a_token(port, token)
        time.sleep(0.3)  # let the last access line reach the file
    output = re.sub(r"\x1b\[[0-9;]*m", "", log.read_text(encoding="utf-8", errors="replace"))
    hint = token[-4:]
    assert re.search(rf'"GET /r/\*\*\*{hint} HTTP/1\.1"\s+200', output), output
    assert re.search(rf'"GET /o/\*\*\*{hint} HTTP/1\.1"\s+404', output), output
    assert "/static/css/app.css" in output
    assert token not in output
    assert token[:12] not in output
