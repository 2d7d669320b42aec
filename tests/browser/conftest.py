"""Browser tests: the real app served on loopback, driven by Debian's Chromium (Playwright).

One server per test run: ``create_app`` on a temporary SQLite database migrated with
``app.platform.migrate.upgrade``, served by werkzeug in a background thread on 127.0.0.1 (a
free port).
Each shipped questionnaire gets one open fieldwork with a sample of institutions; a test
takes fresh personal links from it with the ``new_link`` fixture.

Chromium is Debian's (/usr/bin/chromium, never downloaded) and axe-core comes from npm
(``npm ci --prefix tests/browser``). Without them the tests are skipped locally; with
CI=true they fail.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from app import create_app
from app.models.users import Role
from app.platform import migrate
from tests.browser.screens import LISTEN_FOR_VIOLATIONS, SURVEY, CatiFieldwork, Watch
from tests.support import SHIPPED, TEST_PASSWORD, FakeClock, shipped_questionnaires, unavailable

CHROMIUM = Path(os.environ.get("ANKIETA_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
UNITS_PER_SURVEY = 24
SHIPPED_SURVEYS = [path.stem for path in shipped_questionnaires()]


# --- the server ----------------------------------------------------------------------------


@dataclass
class LiveServer:
    """The app served on loopback, with unused personal links of each shipped survey."""

    url: str
    app: Flask
    unused: dict[str, list[str]] = field(default_factory=dict)

    def take_link(self, survey: str) -> str:
        """The address of a personal link nobody has opened yet."""
        tokens = self.unused[survey]
        assert tokens, f"no unused link of {survey} left: raise UNITS_PER_SURVEY"
        return f"{self.url}/r/{tokens.pop()}"


def _create_fieldworks(app: Flask, clock: FakeClock) -> dict[str, list[str]]:
    """One open fieldwork per shipped survey, each with a sample; their unused tokens."""
    from sqlalchemy import select

    from app.fieldwork import services as fieldwork_services
    from app.models.fieldwork import SampleUnit
    from app.surveys import services as survey_services

    tokens: dict[str, list[str]] = {}
    with app.extensions["ankieta.db"].session() as session:
        for survey in SHIPPED_SURVEYS:
            outcome = survey_services.load_file(session, SHIPPED / f"{survey}.yaml")
            assert outcome.ok, [str(p) for p in outcome.problems]
            fieldwork = fieldwork_services.create_fieldwork(
                session, outcome.survey.code, f"Monitoring 2026 ({survey})"
            )
            lines = ["external_id;name;entity_type;subregion;gmina;phone"]
            for n in range(UNITS_PER_SURVEY):
                lines.append(
                    f"U-{n:02d};Centrum Integracji Społecznej nr {n} w Żorach;CIS;"
                    f"południowy;Żory;032 123 45 {n:02d}"
                )
            imported = fieldwork_services.import_sample(
                session, fieldwork, "\n".join(lines).encode("utf-8"), "sample.csv", now=clock()
            )
            assert imported.ok, [p.render() for p in imported.problems]
            fieldwork.open(clock())
            session.flush()
            tokens[survey] = list(
                session.scalars(
                    select(SampleUnit.token)
                    .where(SampleUnit.fieldwork_id == fieldwork.id)
                    .order_by(SampleUnit.external_id.desc())
                )
            )
    return tokens


class QuietRequestHandler(WSGIRequestHandler):
    """No access log line per request: pytest would show hundreds of them on a failure."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real app on 127.0.0.1 (a free port) in a background thread, on a scratch SQLite."""
    root = tmp_path_factory.mktemp("browser-server")
    instance = root / "instance"
    instance.mkdir()
    database_url = f"sqlite:///{root / 'ankieta.db'}"
    migrate.upgrade(database_url)
    clock = FakeClock(datetime(2026, 3, 16, 9, 30, tzinfo=UTC))  # a Monday morning
    app = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": database_url,
            "SECRET_KEY": "browser-test-secret-" + "x" * 32,
            "CLOCK": clock,
            "QUEUE_URL": "memory",
        }
    )
    unused = _create_fieldworks(app, clock)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="browser-test-server")
    thread.daemon = True
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, unused)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["ankieta.db"].dispose()


@pytest.fixture
def new_link(live_server: LiveServer) -> Callable[[str], str]:
    """A fresh personal link (full address) of a shipped survey, by file stem."""
    return live_server.take_link


_fresh = itertools.count(1)


@pytest.fixture
def fresh_link(live_server: LiveServer, live_clock) -> Callable[..., tuple[str, str]]:
    """A factory: load ``definition`` (a file, or ``(text, file name)``), open a fieldwork
    of it with one institution and give that institution's personal link (full address)
    and token — a fresh respondent for each call."""
    from sqlalchemy import select

    from app.domain.questionnaire.attachments import AttachedFiles
    from app.fieldwork import services as fieldwork_services
    from app.models.fieldwork import SampleUnit
    from app.surveys import services as survey_services

    def make(definition: Path | tuple[str, str], survey_id: str, title: str) -> tuple[str, str]:
        serial = next(_fresh)
        rows = [
            "external_id;name;entity_type;subregion;gmina;phone",
            f"F{serial};{title} nr {serial};JST;południowy;Żory;032 111 22 33",
        ]
        with live_server.app.extensions["ankieta.db"].session() as session:
            if isinstance(definition, Path):
                loaded = survey_services.load_file(session, definition)
            else:
                text, name = definition
                loaded = survey_services.load_bytes(
                    session, text.encode(), name, AttachedFiles.none()
                )
            assert loaded.ok, [str(p) for p in loaded.problems]
            fieldwork = fieldwork_services.create_fieldwork(session, survey_id, f"{title} {serial}")
            imported = fieldwork_services.import_sample(
                session, fieldwork, "\n".join(rows).encode(), "sample.csv", now=live_clock()
            )
            assert imported.ok, [p.render() for p in imported.problems]
            fieldwork.open(live_clock())
            session.flush()
            token = session.scalar(
                select(SampleUnit.token).where(SampleUnit.fieldwork_id == fieldwork.id)
            )
        return f"{live_server.url}/r/{token}", token

    return make


@pytest.fixture
def live_clock(live_server: LiveServer) -> Iterator[FakeClock]:
    """The live server's clock (the app reads it per request): a test may ``advance()`` it.

    Put back where it was when the test ends, so the tests after it see the same morning.
    """
    clock = live_server.app.config["CLOCK"]
    assert isinstance(clock, FakeClock)
    start = clock.now
    try:
        yield clock
    finally:
        clock.now = start


# --- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, launched once for the run."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install chromium (make browser-deps)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed: pip install -e '.[test]'")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def context(browser):
    """A fresh browser profile (no cookies): one device of one respondent."""
    ctx = browser.new_context(locale="pl-PL", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


# --- axe-core ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        unavailable(f"{AXE} is missing: npm ci --prefix tests/browser (make browser-deps)")
    return AXE.read_text(encoding="utf-8")


def _describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"][:10]:
            lines.append(f"    at {json.dumps(node['target'])}: {node['failureSummary']!r}")
    return "\n".join(lines)


@pytest.fixture
def assert_accessible(axe_source: str) -> Callable[..., None]:
    """Run axe-core on the page as it is now: no WCAG 2.0/2.1 A or AA violation allowed."""

    def check(page, what: str) -> None:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(axe_source)
        violations = page.evaluate(
            """async (tags) => {
                const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
                return result.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                    nodes: v.nodes.map(n => ({target: n.target, failureSummary: n.failureSummary})),
                }));
            }""",
            WCAG_TAGS,
        )
        assert not violations, f"axe-core on {what} ({page.url}):\n{_describe(violations)}"

    return check


# --- telephone interviews ----------------------------------------------------------------

_phone_serial = itertools.count(1)


@pytest.fixture
def phone_case(live_server: LiveServer, live_clock):
    """A new interviewer and a fieldwork of ``survey`` with one institution to phone."""
    from app.fieldwork import services as fieldwork_services
    from app.models.fieldwork import FieldworkInterviewer
    from app.models.users import Role
    from app.platform.accounts import create_user

    def factory(survey: str) -> tuple[int, str]:
        serial = next(_phone_serial)
        username = f"walker{serial}"
        rows = [
            "external_id;name;entity_type;subregion;gmina;phone",
            f"W{serial};Jednostka nr {serial};CIS;południowy;Żory;032 111 22 33",
        ]
        with live_server.app.extensions["ankieta.db"].session() as session:
            interviewer, _ = create_user(
                session,
                username,
                Role.INTERVIEWER,
                password=TEST_PASSWORD,
                must_change_password=False,
            )
            fieldwork = fieldwork_services.create_fieldwork(
                session, survey, f"Przejście {survey} {serial}"
            )
            session.flush()
            session.add(FieldworkInterviewer(fieldwork_id=fieldwork.id, user_id=interviewer.id))
            imported = fieldwork_services.import_sample(
                session, fieldwork, "\n".join(rows).encode(), "sample.csv", now=live_clock()
            )
            assert imported.ok, [p.render() for p in imported.problems]
            fieldwork.open(live_clock())
            session.flush()
            return fieldwork.id, username

    return factory


# --- fixtures of the staff screens --------------------------------------------------------

_serial = itertools.count(1)


@pytest.fixture
def make_cati_fieldwork(
    live_server: LiveServer, live_clock: FakeClock
) -> Callable[[str], CatiFieldwork]:
    """An open fieldwork of a shipped survey with two institutions, and a new interviewer."""
    from app.fieldwork import services as fieldwork_services
    from app.models.fieldwork import FieldworkInterviewer
    from app.platform.accounts import create_user

    def factory(survey: str = SURVEY) -> CatiFieldwork:
        serial = next(_serial)
        kind = "Gmina" if survey == "jst_gmina" else "OWES"
        first = f"{kind} Rybnik nr {serial}"
        second = f"{kind} Cieszyn nr {serial}"
        username = f"ankieter{serial}"
        rows = [
            "external_id;name;entity_type;subregion;gmina;phone;phone_2",
            f"T{serial}-1;{first};{kind};zachodni;Rybnik;032 111 22 33;032 111 22 34",
            f"T{serial}-2;{second};{kind};południowy;Cieszyn;033 444 55 66;",
        ]
        with live_server.app.extensions["ankieta.db"].session() as session:
            interviewer, _password = create_user(
                session,
                username,
                Role.INTERVIEWER,
                full_name="Anna Ankieterska",
                password=TEST_PASSWORD,
                must_change_password=False,
            )
            fieldwork = fieldwork_services.create_fieldwork(
                session, survey, f"Telefony 2026 ({survey}, {serial})"
            )
            session.flush()
            session.add(FieldworkInterviewer(fieldwork_id=fieldwork.id, user_id=interviewer.id))
            imported = fieldwork_services.import_sample(
                session,
                fieldwork,
                "\n".join(rows).encode("utf-8"),
                "sample.csv",
                now=live_clock(),
            )
            assert imported.ok, [p.render() for p in imported.problems]
            fieldwork.open(live_clock())
            session.flush()
            fieldwork_id = fieldwork.id
        return CatiFieldwork(fieldwork_id, username, first, second)

    return factory


@pytest.fixture
def watch(context) -> Iterator[Watch]:
    seen = Watch()
    context.expose_function("__cspViolation", lambda text: seen.violations.append(text))
    context.add_init_script(LISTEN_FOR_VIOLATIONS)

    def on_console(message) -> None:
        if message.type not in ("error", "warning"):
            return
        url = message.location.get("url", "")
        if message.text.startswith("Failed to load resource") and "/static/" not in url:
            # a page answered with its status on purpose (a 400 with the errors shown) or
            # the browser's own /favicon.ico probe; only the page's own scripts and styles
            # must load
            return
        seen.console.append(f"{message.type}: {message.text} ({url})")

    context.on("console", on_console)
    context.on("weberror", lambda error: seen.errors.append(str(error.error)))
    yield seen
