"""The REST API: tokens, roles, problems, and each endpoint seen by a client."""

from __future__ import annotations

import io
import time

import pyreadstat
import pytest
from sqlalchemy import select

from app.models.audit import AuditEvent
from app.models.fieldwork import SampleUnit
from app.models.tokens import ApiToken, TokenScope, hash_token
from app.models.users import Role
from app.tokens.services import create_token
from tests.support import count_rows
from tests.support.files import responses_file

PROBLEM = "application/problem+json"


@pytest.fixture
def make_token(app, make_user, clock):
    """A token for a new user with ``role``: returns the ``Authorization`` headers."""

    def factory(role=Role.ANALYST, scope=TokenScope.WRITE, *, username=None, days=30):
        user = make_user(username or f"{Role(role).value}-api", role)
        with app.extensions["ankieta.db"].session() as session:
            from app.models.users import User

            issued = create_token(
                session, session.get(User, user.id), now=clock(), days=days, scope=scope
            )
            return {"Authorization": f"Bearer {issued.secret}"}

    return factory


@pytest.fixture
def fieldwork_id(app, runner, make_fieldwork):
    units = [(f"U-{n:03d}", f"Spółdzielnia {n}", {}) for n in range(12)]
    fieldwork = make_fieldwork(units=units)
    result = runner.invoke(args=["demo-data", str(fieldwork), "--responses", "10", "--seed", "2"])
    assert result.exit_code == 0, result.output
    return fieldwork


# --- tokens ---------------------------------------------------------------------------------


def test_a_token_is_stored_hashed_and_opens_the_api(app, client, make_token):
    headers = make_token(Role.ANALYST)
    secret = headers["Authorization"].removeprefix("Bearer ")
    with app.extensions["ankieta.db"].session() as session:
        token = session.scalar(select(ApiToken))
        assert token.token_hash == hash_token(secret) and secret not in token.token_hash
        assert secret.startswith(token.hint) and len(token.hint) < 20
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["role"] == "analyst"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Basic dXNlcjpwYXNz", "Bearer ank_not-a-real-token", "Bearer x" * 50],
)
def test_no_or_a_wrong_token_is_401_with_a_problem(app, client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/api/v1/surveys", headers=headers)
    assert response.status_code == 401
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == 401 and body["title"] == "Unauthorized" and body["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_and_expired_tokens_get_401(app, client, runner, make_token, clock):
    headers = make_token(Role.ANALYST, days=2)
    assert client.get("/api/v1/surveys", headers=headers).status_code == 200
    clock.advance(days=2)
    assert client.get("/api/v1/surveys", headers=headers).status_code == 401  # expired
    other = make_token(Role.ADMIN)
    assert client.get("/api/v1/surveys", headers=other).status_code == 200
    with app.extensions["ankieta.db"].session() as session:
        token_id = max(session.scalars(select(ApiToken.id)))
    result = runner.invoke(args=["api-tokens", "revoke", str(token_id)])
    assert result.exit_code == 0, result.output
    response = client.get("/api/v1/surveys", headers=other)
    assert response.status_code == 401 and response.mimetype == PROBLEM


def test_a_disabled_account_s_token_gets_401(app, client, make_token):
    headers = make_token(Role.ANALYST, username="leaver")
    with app.extensions["ankieta.db"].session() as session:
        from app.models.users import User

        session.scalar(select(User).where(User.username == "leaver")).active = False
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_an_interviewer_s_token_cannot_read_responses(app, client, make_token, fieldwork_id):
    headers = make_token(Role.INTERVIEWER)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    for url in (
        f"/api/v1/fieldworks/{fieldwork_id}/responses",
        f"/api/v1/fieldworks/{fieldwork_id}/responses/1",
        f"/api/v1/fieldworks/{fieldwork_id}",
        f"/api/v1/fieldworks/{fieldwork_id}/calls",
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == 403, url
        assert response.mimetype == PROBLEM
        assert "answers" not in response.get_data(as_text=True)


def test_a_read_only_token_cannot_change_anything(app, client, make_token, fieldwork_id):
    headers = make_token(Role.ANALYST, TokenScope.READ)
    before = count_rows(app, SampleUnit)
    response = client.post(
        f"/api/v1/fieldworks/{fieldwork_id}/sample",
        json={"rows": [{"external_id": "N-1", "name": "Nowa"}]},
        headers=headers,
    )
    assert response.status_code == 403 and response.mimetype == PROBLEM
    assert count_rows(app, SampleUnit) == before


def test_the_session_cookie_alone_never_opens_the_api(
    app, client, login_as, fieldwork_id, make_token
):
    login_as(Role.ADMIN)
    before = count_rows(app, SampleUnit)
    rows = {"rows": [{"external_id": "N-1", "name": "Nowa"}]}
    response = client.post(f"/api/v1/fieldworks/{fieldwork_id}/sample", json=rows)
    assert response.status_code == 401
    assert client.get("/api/v1/surveys").status_code == 401
    assert count_rows(app, SampleUnit) == before
    # and the API needs no CSRF token with a real one
    response = client.post(
        f"/api/v1/fieldworks/{fieldwork_id}/sample", json=rows, headers=make_token(Role.ANALYST)
    )
    assert response.status_code == 201, response.get_data(as_text=True)


def test_every_use_is_audited(app, client, make_token, fieldwork_id):
    headers = make_token(Role.SUPERVISOR)
    client.get(f"/api/v1/fieldworks/{fieldwork_id}/cases", headers=headers)
    client.get(f"/api/v1/fieldworks/{fieldwork_id}/responses", headers=headers)  # refused
    with app.extensions["ankieta.db"].session() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "api.used").order_by(AuditEvent.id)
        ).all()
        assert [(e.detail["method"], e.detail["status"]) for e in events] == [
            ("GET", 200),
            ("GET", 403),
        ]
        assert events[0].actor == "supervisor-api" and events[0].fieldwork_id == fieldwork_id
        assert session.scalar(select(ApiToken.last_used_at)) is not None


def test_cli_creates_lists_and_revokes_tokens(app, runner, client, make_user):
    make_user("bi", Role.ANALYST)
    result = runner.invoke(args=["api-tokens", "create", "bi", "--days", "7", "--read-only"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    assert secret.startswith("ank_")
    # created on 16.03.2026 at 10:30 in Warsaw (the test clock): valid for 7 days
    assert "dla bi (read), ważny do 23.03.2026 10:30 (czasu warszawskiego):" in result.stdout
    assert "Jest pokazywany tylko teraz; zachowaj go w tajemnicy." in result.stderr
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).get_json()
    assert me["scope"] == "read" and me["username"] == "bi"
    listed = runner.invoke(args=["api-tokens", "list"])
    assert "bi\tread\tvalid" in listed.output and secret not in listed.output
    nobody = runner.invoke(args=["api-tokens", "create", "nobody"])
    assert nobody.exit_code == 1 and "Błąd: Nie ma użytkownika 'nobody'." in nobody.output
    assert runner.invoke(args=["api-tokens", "create", "bi", "--days", "0"]).exit_code == 1
    unknown = runner.invoke(args=["api-tokens", "revoke", "99"])
    assert unknown.exit_code == 1 and "Błąd: Nie ma tokenu 99." in unknown.output
    token_id = listed.output.split("\t", 1)[0]
    revoked = runner.invoke(args=["api-tokens", "revoke", token_id])
    assert revoked.exit_code == 0 and f"Token {token_id} unieważniony." in revoked.output


def test_a_user_makes_and_revokes_their_own_token_on_the_website(app, client, login_as):
    login_as(Role.INTERVIEWER)
    page = client.post(
        "/account/api-tokens/", data={"name": "skrypt", "days": "30", "read_only": "y"}
    )
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    secret = html.split('<code class="token">')[1].split("<")[0]
    assert client.get("/account/api-tokens/").get_data(as_text=True).count(secret) == 0
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with app.extensions["ankieta.db"].session() as session:
        token_id = session.scalar(select(ApiToken.id))
    assert client.post(f"/account/api-tokens/{token_id}/revoke", data={}).status_code == 302
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    bad = client.post("/account/api-tokens/", data={"name": "x", "days": "1000"})
    assert bad.status_code == 400


def test_nobody_revokes_another_user_s_token(app, client, login_as, make_token):
    make_token(Role.ANALYST)
    login_as(Role.ANALYST)
    with app.extensions["ankieta.db"].session() as session:
        token_id = session.scalar(select(ApiToken.id))
    assert client.post(f"/account/api-tokens/{token_id}/revoke", data={}).status_code == 404


# --- endpoints ------------------------------------------------------------------------------


def test_surveys_and_fieldworks_with_progress(app, client, make_token, fieldwork_id):
    headers = make_token()
    surveys = client.get("/api/v1/surveys", headers=headers).get_json()
    assert surveys[0]["code"] == "monitoring_cis_kis" and surveys[0]["versions"][0]["number"] == 1
    one = client.get(f"/api/v1/surveys/{surveys[0]['id']}", headers=headers).get_json()
    assert one == surveys[0]
    fieldwork = client.get(f"/api/v1/fieldworks/{fieldwork_id}", headers=headers).get_json()
    assert fieldwork["progress"]["sample_size"] == 12
    assert fieldwork["progress"]["started"] == 10
    listed = client.get("/api/v1/fieldworks", headers=headers).get_json()
    assert [f["id"] for f in listed] == [fieldwork_id]
    missing = client.get("/api/v1/fieldworks/999", headers=headers)
    assert missing.status_code == 404 and missing.mimetype == PROBLEM


def test_responses_are_paged_filtered_and_as_the_export_reads_them(
    app, client, make_token, fieldwork_id
):
    headers = make_token()
    url = f"/api/v1/fieldworks/{fieldwork_id}/responses"
    seen, after = [], 0
    while after is not None:
        page = client.get(url, query_string={"limit": 3, "after": after}, headers=headers)
        assert page.status_code == 200
        body = page.get_json()
        assert len(body["items"]) <= 3
        seen.extend(item["id"] for item in body["items"])
        after = body["next_after"]
    assert seen == sorted(seen) and len(seen) == 10
    complete = client.get(url, query_string={"status": "complete"}, headers=headers).get_json()
    partial = client.get(url, query_string={"status": "partial"}, headers=headers).get_json()
    assert len(complete["items"]) + len(partial["items"]) == 10
    assert {r["status"] for r in complete["items"]} <= {"complete"}
    assert {r["status"] for r in partial["items"]} <= {"partial"}
    first = complete["items"][0]
    assert first["institution"].startswith("Spółdzielnia") and first["answers"]
    one = client.get(f"{url}/{first['id']}", headers=headers).get_json()
    assert one == first
    labelled = client.get(
        f"{url}/{first['id']}", query_string={"labels": "true", "language": "en"}, headers=headers
    ).get_json()
    assert labelled["answers"] != first["answers"]
    none = client.get(url, query_string={"subregion": "nowhere"}, headers=headers).get_json()
    assert none == {"items": [], "next_after": None}
    bad = client.get(url, query_string={"limit": 0, "status": "x"}, headers=headers)
    assert bad.status_code == 422 and bad.mimetype == PROBLEM
    assert {e["field"] for e in bad.get_json()["errors"]} == {"limit", "status"}
    assert client.get(f"{url}/999999", headers=headers).status_code == 404


def test_sample_import_is_all_or_nothing_with_rows_and_columns(
    app, client, make_token, fieldwork_id
):
    headers = make_token()
    url = f"/api/v1/fieldworks/{fieldwork_id}/sample"
    before = count_rows(app, SampleUnit)
    rows = [
        {"external_id": "N-1", "name": "Nowa spółdzielnia", "email": "biuro@example.pl"},
        {"external_id": "N-2", "name": "Druga", "email": "nie-adres"},
        {"external_id": "U-001", "name": "Powtórka"},
    ]
    response = client.post(url, json={"rows": rows}, headers=headers)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    errors = response.get_json()["errors"]
    assert any(e["row"] == 2 and e["column"] == "email" for e in errors), errors
    assert all(e["message"] for e in errors)
    assert count_rows(app, SampleUnit) == before
    # the same file through the upload endpoint: rows as the file's (1: the header)
    csv = "external_id;name;email\nN-1;Nowa;biuro@example.pl\nN-2;Druga;nie-adres\n"
    response = client.post(
        f"{url}/file",
        data={"file": (io.BytesIO(csv.encode()), "proba.csv")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert any(e["row"] == 3 and e["column"] == "email" for e in response.get_json()["errors"])
    ok = client.post(url, json={"rows": rows[:1]}, headers=headers)
    assert ok.status_code == 201 and ok.get_json() == {"imported": 1}
    assert count_rows(app, SampleUnit) == before + 1
    invalid = client.post(url, json={"rows": "x"}, headers=headers)
    assert invalid.status_code == 422 and invalid.get_json()["errors"][0]["field"] == "rows"


def test_cases_and_calls(app, client, make_token, fieldwork_id):
    headers = make_token(Role.SUPERVISOR)
    cases = client.get(f"/api/v1/fieldworks/{fieldwork_id}/cases", headers=headers).get_json()
    assert len(cases["items"]) == 12 and cases["next_after"] is None
    assert {"disposition_code", "attempts", "external_id"} <= set(cases["items"][0])
    calls = client.get(f"/api/v1/fieldworks/{fieldwork_id}/calls", headers=headers)
    assert calls.status_code == 200 and "items" in calls.get_json()


@pytest.mark.parametrize("fmt", ["sav", "xlsx"])
def test_export_jobs_start_poll_download(app, client, make_token, fieldwork_id, tmp_path, fmt):
    headers = make_token()
    started = client.post(
        f"/api/v1/fieldworks/{fieldwork_id}/exports",
        json={"format": fmt, "complete_only": False},
        headers=headers,
    )
    assert started.status_code == 202, started.get_data(as_text=True)
    job = started.get_json()
    assert job["format"] == fmt
    deadline = time.monotonic() + 60
    while (status := client.get(job["status_url"], headers=headers).get_json())["state"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    assert status["state"] == "done", status
    download = client.get(status["download_url"], headers=headers)
    assert download.status_code == 200
    if fmt == "sav":
        path = tmp_path / "x.sav"
        path.write_bytes(responses_file(download.get_data(), "sav"))  # zipped: lists
        assert len(pyreadstat.read_sav(path)[0]) == 10
    else:
        assert download.mimetype.endswith("spreadsheetml.sheet")
    other = make_token(Role.ADMIN)
    assert client.get(job["status_url"], headers=other).status_code == 404  # the owner's only


def test_description_and_docs_page(app, client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    paths = spec.get_json()["paths"]
    assert "/api/v1/fieldworks/{fieldwork_id}/responses" in paths
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    html = docs.get_data(as_text=True)
    assert "/api/v1/fieldworks/{fieldwork_id}/sample" in html and "<script" not in html


def test_unknown_api_address_is_a_problem(app, client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.mimetype == PROBLEM


def test_a_failed_write_is_a_500_problem_undone_and_still_audited(
    app, client, make_token, fieldwork_id, monkeypatch
):
    from app.fieldwork import api as fieldwork_api

    def broken(session, fieldwork, *_args, **_kwargs):
        session.add(SampleUnit(fieldwork_id=fieldwork.id, external_id="half", name="x"))
        session.flush()
        raise RuntimeError("boom")

    monkeypatch.setattr(fieldwork_api.services, "import_sample", broken)
    headers = make_token()
    before = count_rows(app, SampleUnit)
    response = client.post(
        f"/api/v1/fieldworks/{fieldwork_id}/sample",
        json={"rows": [{"external_id": "N-1", "name": "Nowa"}]},
        headers=headers,
    )
    assert response.status_code == 500 and response.mimetype == PROBLEM
    assert "boom" not in response.get_data(as_text=True)
    assert count_rows(app, SampleUnit) == before
    with app.extensions["ankieta.db"].session() as session:
        statuses = session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "api.used")
        ).all()
        assert [d["status"] for d in statuses] == [500]
