"""The route x role matrix: every route answers each role (and anonymous) as intended.

Each route of the application must appear in EXPECTED (web pages, opened with the login
session) or API_EXPECTED (the REST API, opened with a personal token of the role); a new
route without a row here (or without a declared access rule) makes these tests fail.
"""

from __future__ import annotations

import pytest
from flask import Flask

from app.models.users import Role
from app.platform.security import NO_INSTITUTIONS, SCOPED, WHOLE_REGION, access_rule

ANON = "anonymous"
EVERYONE = {ANON, *Role}
STAFF = set(Role)
ADMIN_ONLY = {Role.ADMIN}
ANALYSTS = {Role.ADMIN, Role.ANALYST}
CALLERS = {Role.ADMIN, Role.SUPERVISOR, Role.INTERVIEWER}
SUPERVISORS = {Role.ADMIN, Role.SUPERVISOR}
STAFF_EDITORS = {Role.ADMIN, Role.ANALYST, Role.SUPERVISOR}  # correcting answers
# an OWES coordinator follows progress, reads responses and supervises the phone work
FOLLOWERS = ANALYSTS | {Role.COORDINATOR}
PHONE_FOLLOWERS = SUPERVISORS | {Role.COORDINATOR}

# endpoint -> (method, url, who may open it)
EXPECTED: dict[str, tuple[str, str, set]] = {
    "static": ("GET", "/static/css/app.css", EVERYONE),
    "main.healthz": ("GET", "/healthz", EVERYONE),
    "main.set_language": ("POST", "/language", EVERYONE),
    "main.index": ("GET", "/", STAFF),
    "auth.login": ("GET", "/login", EVERYONE),
    "auth.logout": ("POST", "/logout", STAFF),
    "auth.change_password": ("GET", "/password", STAFF),
    "admin.users": ("GET", "/admin/users", ADMIN_ONLY),
    "admin.create_user": ("POST", "/admin/users", ADMIN_ONLY),
    "admin.edit_user": ("GET", "/admin/users/1", ADMIN_ONLY),
    "admin.reset_password": ("POST", "/admin/users/1/reset-password", ADMIN_ONLY),
    "admin.end_sessions": ("POST", "/admin/users/1/end-sessions", ADMIN_ONLY),
    "admin.audit_log": ("GET", "/admin/audit", ADMIN_ONLY),
    "surveys.index": ("GET", "/surveys/", ANALYSTS),
    "surveys.upload": ("POST", "/surveys/", ANALYSTS),
    "surveys.detail": ("GET", "/surveys/1", ANALYSTS),
    "surveys.source": ("GET", "/surveys/1/versions/1/source", ANALYSTS),
    "fieldwork.index": ("GET", "/fieldwork/", FOLLOWERS),
    "fieldwork.create": ("POST", "/fieldwork/", ANALYSTS),
    "fieldwork.detail": ("GET", "/fieldwork/1", FOLLOWERS),
    "fieldwork.change_state": ("POST", "/fieldwork/1/state", ANALYSTS),
    "fieldwork.import_sample": ("POST", "/fieldwork/1/sample", ANALYSTS),
    "fieldwork.sample_template": ("GET", "/fieldwork/sample-template.xlsx", ANALYSTS),
    "fieldwork.links": ("GET", "/fieldwork/1/links.csv", ANALYSTS),
    "fieldwork.sample_import_status": ("GET", "/fieldwork/1/sample-imports/x", ANALYSTS),
    "fieldwork.response": ("GET", "/fieldwork/1/responses/1", FOLLOWERS),
    "fieldwork.response_file": ("GET", "/fieldwork/1/responses/1/files/x", FOLLOWERS),
    "fieldwork.reopen_response": ("POST", "/fieldwork/1/responses/1/reopen", ANALYSTS),
    "privacy.retention": ("POST", "/fieldwork/1/retention", ANALYSTS),
    "privacy.erase_contacts": ("POST", "/fieldwork/1/erase-contacts", ANALYSTS),
    "fieldwork.test_link": ("POST", "/fieldwork/1/test-link", ANALYSTS),
    "fieldwork.upgrade_check": ("GET", "/fieldwork/1/upgrade?to=2", ANALYSTS),
    "fieldwork.upgrade": ("POST", "/fieldwork/1/upgrade", ANALYSTS),
    "fieldwork.edit_response": ("GET", "/fieldwork/1/responses/1/edit/a", STAFF_EDITORS),
    "fieldwork.save_edit": ("POST", "/fieldwork/1/responses/1/edit/a", STAFF_EDITORS),
    "preview.show": ("GET", "/surveys/1/versions/1/preview/web", ANALYSTS),
    "preview.send": ("POST", "/surveys/1/versions/1/preview/web", ANALYSTS),
    "monitoring.index": ("GET", "/monitoring/", FOLLOWERS),
    "monitoring.fieldwork": ("GET", "/monitoring/1", FOLLOWERS),
    "exports.files": ("GET", "/fieldwork/1/files", FOLLOWERS),
    "exports.request_file": ("POST", "/fieldwork/1/files", FOLLOWERS),
    "exports.job": ("GET", "/files/x", FOLLOWERS),
    "exports.job_status": ("GET", "/files/x/status", FOLLOWERS),
    "exports.download": ("GET", "/files/x/download", FOLLOWERS),
    "mailing.page": ("GET", "/fieldwork/1/mail", ANALYSTS),
    "mailing.save": ("POST", "/fieldwork/1/mail", ANALYSTS),
    "mailing.send": ("POST", "/fieldwork/1/mail/send", ANALYSTS),
    # the opt-out link in a message: the signed token in the URL is the credential
    "mailing.opt_out_page": ("GET", "/mail/opt-out/unknown-token", EVERYONE),
    "mailing.opt_out": ("POST", "/mail/opt-out/unknown-token", EVERYONE),
    "cati.index": ("GET", "/cati/", CALLERS),
    "cati.next_case": ("POST", "/cati/1/next", CALLERS),
    "cati.case": ("GET", "/cati/case/1", CALLERS),
    "cati.dial": ("POST", "/cati/case/1/dial", CALLERS),
    "cati.record_outcome": ("POST", "/cati/case/1/outcome", CALLERS),
    "cati.add_phone": ("POST", "/cati/case/1/phones", CALLERS),
    "cati.save_notes": ("POST", "/cati/case/1/notes", CALLERS),
    "cati.appointments": ("GET", "/cati/appointments", CALLERS),
    "cati.interview": ("GET", "/cati/case/1/interview", CALLERS),
    "cati.interview_page": ("GET", "/cati/case/1/interview/a", CALLERS),
    "cati.interview_submit": ("POST", "/cati/case/1/interview/a", CALLERS),
    # the respondent's pages: the unguessable token in the URL is the credential
    "respond.start": ("GET", "/r/unknown-token-0000000000", EVERYONE),
    "respond.begin": ("POST", "/r/unknown-token-0000000000/start", EVERYONE),
    "respond.begin_resume": ("GET", "/r/unknown-token-0000000000/resume", EVERYONE),
    "respond.page": ("GET", "/r/unknown-token-0000000000/p/a", EVERYONE),
    "respond.submit_page": ("POST", "/r/unknown-token-0000000000/p/a", EVERYONE),
    "respond.done": ("GET", "/r/unknown-token-0000000000/done", EVERYONE),
    "respond.open_start": ("GET", "/o/unknown-token-0000000000", EVERYONE),
    "respond.open_begin": ("POST", "/o/unknown-token-0000000000", EVERYONE),
    "respond.test_start": ("GET", "/t/unknown-token-0000000000", EVERYONE),
    "respond.test_begin": ("POST", "/t/unknown-token-0000000000", EVERYONE),
    "supervise.index": ("GET", "/supervise/", PHONE_FOLLOWERS),
    "supervise.productivity": ("GET", "/supervise/productivity", PHONE_FOLLOWERS),
    "supervise.fieldwork": ("GET", "/supervise/1", PHONE_FOLLOWERS),
    "supervise.team": ("POST", "/supervise/1/team", SUPERVISORS),
    "supervise.calling_hours": ("POST", "/supervise/1/calling-hours", SUPERVISORS),
    "supervise.attempt_limit": ("POST", "/supervise/1/attempt-limit", SUPERVISORS),
    "supervise.claim_timeout": ("POST", "/supervise/1/claim-timeout", SUPERVISORS),
    "supervise.aapor_e": ("POST", "/supervise/1/e", SUPERVISORS),
    "supervise.case": ("GET", "/supervise/1/case/1", PHONE_FOLLOWERS),
    "supervise.case_priority": ("POST", "/supervise/1/case/1/priority", PHONE_FOLLOWERS),
    "supervise.case_assign": ("POST", "/supervise/1/case/1/assign", PHONE_FOLLOWERS),
    "supervise.case_release": ("POST", "/supervise/1/case/1/release", PHONE_FOLLOWERS),
    "supervise.case_exclusion": ("POST", "/supervise/1/case/1/exclusion", PHONE_FOLLOWERS),
    "supervise.call_outcome": ("POST", "/supervise/1/case/1/call-outcome", PHONE_FOLLOWERS),
    "tokens.index": ("GET", "/account/api-tokens/", STAFF),
    "tokens.create": ("POST", "/account/api-tokens/", STAFF),
    "tokens.revoke": ("POST", "/account/api-tokens/1/revoke", STAFF),
}

# the REST API: anonymous is a request without a token (401), a role is its token's user
API_EXPECTED: dict[str, tuple[str, str, set]] = {
    "api.openapi_json": ("GET", "/api/v1/openapi.json", EVERYONE),
    "api.docs": ("GET", "/api/v1/docs", EVERYONE),
    "api.me": ("GET", "/api/v1/me", STAFF),
    "api.surveys": ("GET", "/api/v1/surveys", ANALYSTS),
    "api.survey": ("GET", "/api/v1/surveys/1", ANALYSTS),
    "api.fieldworks": ("GET", "/api/v1/fieldworks", FOLLOWERS),
    "api.fieldwork": ("GET", "/api/v1/fieldworks/1", FOLLOWERS),
    "api.import_sample_rows": ("POST", "/api/v1/fieldworks/1/sample", ANALYSTS),
    "api.import_sample_file": ("POST", "/api/v1/fieldworks/1/sample/file", ANALYSTS),
    "api.responses": ("GET", "/api/v1/fieldworks/1/responses", FOLLOWERS),
    "api.response": ("GET", "/api/v1/fieldworks/1/responses/1", FOLLOWERS),
    "api.cases": ("GET", "/api/v1/fieldworks/1/cases", ANALYSTS | PHONE_FOLLOWERS),
    "api.calls": ("GET", "/api/v1/fieldworks/1/calls", ANALYSTS | PHONE_FOLLOWERS),
    "api.start_export": ("POST", "/api/v1/fieldworks/1/exports", FOLLOWERS),
    "api.export_job": ("GET", "/api/v1/exports/x", FOLLOWERS),
    "api.export_file": ("GET", "/api/v1/exports/x/file", FOLLOWERS),
}

# The scope dimension: what each route does for an account limited to some subregions
# (app.models.scope). SCOPED: it shows only that account's institutions and refuses
# another subregion's object (404, audited); NO_INSTITUTIONS: it shows no institution's
# data; WHOLE_REGION: it works on the whole region and refuses a scoped account (403).
# Every other route here works on the whole region.
_SCOPED = {
    "fieldwork.index",
    "fieldwork.detail",
    "fieldwork.response",
    "fieldwork.edit_response",
    "fieldwork.save_edit",
    "fieldwork.response_file",
    "monitoring.index",
    "monitoring.fieldwork",
    "supervise.index",
    "supervise.productivity",
    "supervise.fieldwork",
    "supervise.case",
    "supervise.case_priority",
    "supervise.case_assign",
    "supervise.case_release",
    "supervise.case_exclusion",
    "supervise.call_outcome",
    "exports.files",
    "exports.request_file",
    "exports.job",
    "exports.job_status",
    "exports.download",
    "api.fieldworks",
    "api.fieldwork",
    "api.responses",
    "api.response",
    "api.cases",
    "api.calls",
    "api.start_export",
    "api.export_job",
    "api.export_file",
} | {endpoint for endpoint in EXPECTED if endpoint.startswith("cati.")}
_NO_INSTITUTIONS = {
    "static",
    "main.healthz",
    "main.set_language",
    "main.index",
    "auth.login",
    "auth.logout",
    "auth.change_password",
    "surveys.index",
    "surveys.upload",
    "surveys.detail",
    "surveys.source",
    "fieldwork.sample_template",
    "preview.show",
    "preview.send",
    "mailing.opt_out_page",
    "mailing.opt_out",
    "tokens.index",
    "tokens.create",
    "tokens.revoke",
    "api.openapi_json",
    "api.docs",
    "api.me",
    "api.surveys",
    "api.survey",
} | {endpoint for endpoint in EXPECTED if endpoint.startswith("respond.")}
SCOPE_EXPECTED = {
    endpoint: SCOPED
    if endpoint in _SCOPED
    else NO_INSTITUTIONS
    if endpoint in _NO_INSTITUTIONS
    else WHOLE_REGION
    for endpoint in {**EXPECTED, **API_EXPECTED}
}


def test_every_route_is_in_the_matrix_and_declares_a_rule(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(EXPECTED) | set(API_EXPECTED), "update EXPECTED for new routes"
    undeclared = [e for e in endpoints if access_rule(app, e) is None]
    assert undeclared == []


def test_every_route_declares_its_scope_rule_as_the_matrix_says(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    declared = {e: access_rule(app, e).scope for e in endpoints}  # type: ignore[union-attr]
    assert [e for e, scope in declared.items() if scope is None] == [], "declare scope="
    assert declared == SCOPE_EXPECTED


@pytest.mark.parametrize("role", [Role.ANALYST, Role.SUPERVISOR, Role.COORDINATOR])
def test_a_scoped_account_is_refused_every_whole_region_route(
    app: Flask, client, make_user, auth, role: Role
) -> None:
    make_user("target", Role.INTERVIEWER)
    make_user("me", role, subregions=["zachodni"])
    assert auth.login("me").status_code == 302
    for endpoint, (method, url, allowed) in EXPECTED.items():
        response = client.open(url, method=method, data={} if method == "POST" else None)
        code = response.status_code
        response.close()
        if role not in allowed or SCOPE_EXPECTED[endpoint] is WHOLE_REGION:
            assert code == 403, f"scoped {role} at {endpoint}: {code}"
        else:
            assert code not in (401, 403), f"scoped {role} refused at {endpoint}: {code}"
        if endpoint == "auth.logout":
            assert auth.login("me").status_code == 302


@pytest.mark.parametrize("role", [Role.ANALYST, Role.SUPERVISOR, Role.COORDINATOR])
def test_a_scoped_token_is_refused_every_whole_region_api_route(
    app, client, make_user, clock, role: Role
) -> None:
    from app.models.tokens import TokenScope
    from app.tokens.services import create_token

    make_user("target", Role.INTERVIEWER)
    me = make_user("me", role, subregions=["zachodni"])
    with app.extensions["ankieta.db"].session() as session:
        issued = create_token(session, session.merge(me), now=clock(), scope=TokenScope.WRITE)
    headers = {"Authorization": f"Bearer {issued.secret}"}
    for endpoint, allowed, response in _api_routes_answered(client, headers):
        code = response.status_code
        if role not in allowed or SCOPE_EXPECTED[endpoint] is WHOLE_REGION:
            assert code == 403, f"scoped {role} at {endpoint}: {code}"
            assert response.mimetype == "application/problem+json"
        else:
            assert code not in (401, 403), f"scoped {role} refused at {endpoint}: {code}"


def _api_routes_answered(client, headers: dict[str, str]):
    """Every API route of the matrix asked once with ``headers``: (endpoint, the roles
    allowed, the closed response)."""
    for endpoint, (method, url, allowed) in API_EXPECTED.items():
        response = client.open(
            url, method=method, headers=headers, json={} if method == "POST" else None
        )
        response.close()
        yield endpoint, allowed, response


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_every_route_answers_only_its_declared_methods(
    app: Flask, client, make_user, auth, method: str
) -> None:
    declared = {m for rule in app.url_map.iter_rules() for m in rule.methods or ()}
    assert method not in declared
    make_user("target", Role.INTERVIEWER)
    make_user("me", Role.ADMIN)
    assert auth.login("me").status_code == 302
    for endpoint, (_method, url, _allowed) in {**EXPECTED, **API_EXPECTED}.items():
        response = client.open(url, method=method)
        assert response.status_code == 405, f"{method} {url} ({endpoint}): {response.status_code}"
        response.close()


def test_a_view_without_a_rule_is_refused(app: Flask, client) -> None:
    app.add_url_rule("/undeclared", "undeclared", lambda: "secret")
    response = client.get("/undeclared")
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)


@pytest.mark.parametrize("who", [ANON, *Role], ids=lambda w: str(w))
def test_route_role_matrix(app: Flask, client, make_user, auth, who) -> None:
    # something for the id-bearing URLs to point at
    target = make_user("target", Role.INTERVIEWER)
    assert target.id == 1
    if who != ANON:
        make_user("me", who)
        assert auth.login("me").status_code == 302
    for endpoint, (method, url, allowed) in EXPECTED.items():
        response = client.open(url, method=method, data={} if method == "POST" else None)
        code = response.status_code
        response.close()
        if who in allowed:
            assert code not in (401, 403), f"{who} refused at {endpoint}: {code}"
            if endpoint != "auth.logout":  # logging out ends at the login page by design
                assert not (code == 302 and "/login" in response.location), f"{who} to login"
        elif who == ANON:
            assert code == 302 and "/login" in response.location, f"anonymous at {endpoint}: {code}"
        else:
            assert code == 403, f"{who} at {endpoint}: {code}"
        if endpoint == "auth.logout" and who in allowed:
            assert auth.login("me").status_code == 302  # log back in for the next rows


@pytest.mark.parametrize("who", [ANON, *Role], ids=lambda w: str(w))
def test_api_route_role_matrix(app, client, make_user, clock, who) -> None:
    from app.models.tokens import TokenScope
    from app.tokens.services import create_token

    target = make_user("target", Role.INTERVIEWER)
    assert target.id == 1
    headers = {}
    if who != ANON:
        me = make_user("me", who)
        with app.extensions["ankieta.db"].session() as session:
            issued = create_token(session, session.merge(me), now=clock(), scope=TokenScope.WRITE)
            headers = {"Authorization": f"Bearer {issued.secret}"}
    for endpoint, allowed, response in _api_routes_answered(client, headers):
        code = response.status_code
        if who in allowed:
            assert code not in (401, 403), f"{who} refused at {endpoint}: {code}"
        elif who == ANON:
            assert code == 401, f"anonymous at {endpoint}: {code}"
            assert response.mimetype == "application/problem+json"
        else:
            assert code == 403, f"{who} at {endpoint}: {code}"
            assert response.mimetype == "application/problem+json"


def test_an_api_route_without_a_rule_is_refused(app, client) -> None:
    from app.platform.api import bp as api_bp

    app.add_url_rule("/api/v1/undeclared", "api.undeclared", lambda: "secret")
    assert api_bp.name == "api"
    response = client.get("/api/v1/undeclared")
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)
