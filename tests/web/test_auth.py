"""Logging in and out, throttling, CSRF, forced password change, password storage."""

from __future__ import annotations

import logging

from sqlalchemy import select

from app.models.users import Role, User
from tests.conftest import TEST_PASSWORD
from tests.helpers import page_text


def _stored_user(app, username: str) -> User:
    with app.extensions["ankieta.db"].session() as session:
        return session.scalar(select(User).where(User.username == username))


def test_login_page_is_polish_by_default(client) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="pl">' in html
    assert "Zaloguj się" in page_text(response)


def test_login_then_home_then_logout(client, make_user, auth) -> None:
    make_user("kasia", Role.ANALYST)
    response = auth.login("kasia")
    assert response.status_code == 302 and response.location == "/"
    assert "kasia" in page_text(client.get("/"))
    assert auth.logout().status_code == 302
    assert client.get("/").status_code == 302


def test_login_is_case_insensitive_for_the_user_name(make_user, auth) -> None:
    make_user("kasia")
    assert auth.login("  KASIA ").status_code == 302


def test_wrong_password_is_refused_with_a_message(client, make_user, auth) -> None:
    make_user("kasia")
    response = auth.login("kasia", "wrong-password")
    assert response.status_code == 200
    assert "Nieprawidłowa nazwa użytkownika lub hasło" in page_text(response)
    assert client.get("/").status_code == 302


def test_unknown_user_gets_the_same_message_as_a_wrong_password(make_user, auth) -> None:
    make_user("kasia")
    wrong_password = page_text(auth.login("kasia", "wrong-password"))
    unknown_user = page_text(auth.login("nobody", "wrong-password"))
    assert "Nieprawidłowa nazwa użytkownika lub hasło" in unknown_user
    assert wrong_password.count("Nieprawidłowa") == unknown_user.count("Nieprawidłowa")


def test_five_wrong_passwords_throttle_that_login(app, client, make_user, auth, clock) -> None:
    make_user("kasia")
    for _ in range(4):
        assert "Nieprawidłowa" in page_text(auth.login("kasia", "wrong-password"))
    response = auth.login("kasia", "wrong-password")
    assert "Zbyt wiele nieudanych prób" in page_text(response)
    # even the right password is refused while throttled
    response = auth.login("kasia", TEST_PASSWORD)
    assert response.status_code == 200
    assert "Zbyt wiele nieudanych prób" in page_text(response)
    assert client.get("/").status_code == 302
    clock.advance(minutes=16)
    assert auth.login("kasia", TEST_PASSWORD).status_code == 302


def test_a_successful_login_resets_the_failure_count(app, make_user, auth) -> None:
    make_user("kasia")
    for _ in range(4):
        auth.login("kasia", "wrong-password")
    assert auth.login("kasia").status_code == 302
    assert _stored_user(app, "kasia").failed_logins == 0


def test_post_without_csrf_token_is_refused(client, make_user) -> None:
    make_user("kasia")
    response = client.post(
        "/login", data={"username": "kasia", "password": TEST_PASSWORD}, csrf=False
    )
    assert response.status_code == 400
    assert "Formularz wygasł" in page_text(response)
    assert client.get("/").status_code == 302


def test_post_with_a_forged_csrf_token_is_refused(client, make_user) -> None:
    make_user("kasia")
    response = client.post(
        "/login",
        data={"username": "kasia", "password": TEST_PASSWORD, "csrf_token": "forged"},
        csrf=False,
    )
    assert response.status_code == 400


def test_logout_needs_csrf_token(client, make_user, auth) -> None:
    make_user("kasia")
    auth.login("kasia")
    assert client.post("/logout", data={}, csrf=False).status_code == 400
    assert client.get("/").status_code == 200


def test_passwords_are_never_stored_or_logged_in_clear(app, make_user, auth, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    make_user("kasia")
    auth.login("kasia", "wrong-password-123")
    auth.login("kasia")
    stored = _stored_user(app, "kasia").password_hash
    assert stored.startswith("$argon2id$")
    assert TEST_PASSWORD not in stored
    assert "wrong-password-123" not in caplog.text
    assert TEST_PASSWORD not in caplog.text
    assert "kasia" in caplog.text  # the events are logged, just not the secrets


def test_disabled_user_cannot_log_in(client, make_user, auth) -> None:
    make_user("kasia", active=False)
    response = auth.login("kasia")
    assert response.status_code == 200
    assert "Konto jest wyłączone" in page_text(response)


def test_generated_password_must_be_changed_at_first_login(client, make_user, auth) -> None:
    make_user("kasia", must_change_password=True)
    response = auth.login("kasia")
    assert response.location == "/password"
    assert client.get("/").location == "/password"  # nothing else until it is changed
    response = client.post(
        "/password",
        data={"current": TEST_PASSWORD, "new": "a-brand-new-pass", "confirm": "a-brand-new-pass"},
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    auth.logout()
    assert auth.login("kasia", "a-brand-new-pass").status_code == 302


def test_password_change_rejects_weak_and_mismatched_passwords(client, make_user, auth) -> None:
    make_user("kasia")
    auth.login("kasia")
    short = client.post(
        "/password", data={"current": TEST_PASSWORD, "new": "short", "confirm": "short"}
    )
    assert "co najmniej 10 znaków" in page_text(short)
    mismatch = client.post(
        "/password", data={"current": TEST_PASSWORD, "new": "long-enough-1", "confirm": "other-2"}
    )
    assert "Hasła się różnią" in page_text(mismatch)
    wrong = client.post(
        "/password", data={"current": "not-it", "new": "long-enough-1", "confirm": "long-enough-1"}
    )
    assert "Obecne hasło jest nieprawidłowe" in page_text(wrong)


def test_login_redirects_only_to_local_paths(make_user, client) -> None:
    make_user("kasia")
    for target, expected in [
        ("/admin/users", "/admin/users"),
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/%0D%0A//evil.example", "/"),  # a newline would split the Location header: not 500
        ("/fieldwork/%0ASet-Cookie:x=1", "/"),
        ("/%09/evil.example", "/"),
    ]:
        response = client.post(
            f"/login?next={target}", data={"username": "kasia", "password": TEST_PASSWORD}
        )
        assert response.location == expected
        client.post("/logout", data={})


def test_session_cookie_is_httponly_and_samesite(client, make_user, auth) -> None:
    make_user("kasia")
    response = auth.login("kasia")
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1
    assert "HttpOnly" in cookies[0]
    assert "SameSite=Lax" in cookies[0]
