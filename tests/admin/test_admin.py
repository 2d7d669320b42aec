"""The admin's user management pages."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models.users import Role, User
from tests.support import page_text


def _user(app, username: str) -> User | None:
    with app.extensions["ankieta.db"].session() as session:
        return session.scalar(select(User).where(User.username == username))


def test_admin_creates_a_user_who_must_change_the_shown_password(app, client, login_as, auth):
    login_as(Role.ADMIN)
    response = client.post(
        "/admin/users", data={"username": "Nowak", "full_name": "Jan Nowak", "role": "interviewer"}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = re.search(r"<code>([^<]+)</code>", response.get_data(as_text=True)).group(1)
    created = _user(app, "nowak")
    assert created.role == "interviewer" and created.must_change_password
    auth.logout()
    assert auth.login("nowak", password).location == "/password"


def test_creating_a_duplicate_or_invalid_user_changes_nothing(app, client, login_as):
    login_as(Role.ADMIN)
    client.post("/admin/users", data={"username": "nowak", "role": "analyst"})
    again = client.post("/admin/users", data={"username": "NOWAK", "role": "admin"})
    assert again.status_code == 400
    assert "już istnieje" in page_text(again)
    assert _user(app, "nowak").role == "analyst"
    bad_role = client.post("/admin/users", data={"username": "x1", "role": "superuser"})
    assert bad_role.status_code == 400 and _user(app, "x1") is None
    bad_name = client.post("/admin/users", data={"username": "zły użytkownik", "role": "analyst"})
    assert bad_name.status_code == 400


def test_admin_disables_a_user_who_then_cannot_log_in(app, client, login_as, make_user, auth):
    login_as(Role.ADMIN)
    user = make_user("nowak", Role.INTERVIEWER)
    response = client.post(
        f"/admin/users/{user.id}", data={"full_name": "Jan", "role": "interviewer"}
    )
    assert response.status_code == 302
    assert _user(app, "nowak").active is False
    auth.logout()
    assert "Konto jest wyłączone" in page_text(auth.login("nowak"))


def test_a_disabled_user_is_logged_out_at_the_next_request(app, client, make_user, auth):
    user = make_user("nowak", Role.INTERVIEWER)
    auth.login("nowak")
    with app.extensions["ankieta.db"].session() as session:
        session.get(User, user.id).active = False
    assert client.get("/").status_code == 302


def test_admin_cannot_lock_themselves_out(app, client, login_as):
    me = login_as(Role.ADMIN)
    response = client.post(
        f"/admin/users/{me.id}", data={"full_name": "", "role": "analyst", "active": "y"}
    )
    assert response.status_code == 400
    assert _user(app, me.username).role == "admin"


def test_reset_password_issues_a_new_one_time_password(app, client, login_as, make_user, auth):
    login_as(Role.ADMIN)
    user = make_user("nowak", Role.SUPERVISOR)
    response = client.post(f"/admin/users/{user.id}/reset-password", data={})
    password = re.search(r"<code>([^<]+)</code>", response.get_data(as_text=True)).group(1)
    auth.logout()
    assert auth.login("nowak", password).location == "/password"


def test_unknown_user_id_is_404(client, login_as):
    login_as(Role.ADMIN)
    assert client.get("/admin/users/999").status_code == 404


def test_admin_limits_an_account_to_subregions_and_its_sessions_end(
    app, client, login_as, make_user, auth
):
    login_as(Role.ADMIN)
    user = make_user("owes", Role.SUPERVISOR)
    generation = _user(app, "owes").session_generation
    refused = client.post(
        f"/admin/users/{user.id}",
        data={"full_name": "OWES", "role": "coordinator", "subregions": " ", "active": "y"},
    )
    assert refused.status_code == 400
    assert "Koordynator OWES potrzebuje co najmniej jednego podregionu." in page_text(refused)
    assert _user(app, "owes").role == "supervisor"
    saved = client.post(
        f"/admin/users/{user.id}",
        data={
            "full_name": "OWES",
            "role": "coordinator",
            "subregions": "zachodni, południowy,zachodni",
            "entity_types": "CIS",
            "active": "y",
        },
    )
    assert saved.status_code == 302
    changed = _user(app, "owes")
    assert changed.role == "coordinator"
    assert changed.subregions == ["południowy", "zachodni"] and changed.entity_types == ["CIS"]
    assert changed.session_generation == generation + 1  # pages built for the old scope end
    listing = page_text(client.get("/admin/users"))
    assert "Koordynator OWES (południowy, zachodni, CIS)" in listing
    form = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert 'value="południowy, zachodni"' in form
    admin_scoped = client.post(
        "/admin/users", data={"username": "szef2", "role": "admin", "subregions": "zachodni"}
    )
    assert admin_scoped.status_code == 400 and _user(app, "szef2") is None
