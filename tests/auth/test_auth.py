"""Logging in and out, throttling, CSRF, forced password change, password storage."""

from __future__ import annotations

import io
import logging
import threading

import pytest
from sqlalchemy import select

from app.models.users import Role, User
from tests.support import TEST_PASSWORD, Auth, page_text


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


# --- throttling under concurrency, per address -----------------------------------------------


def _concurrent_logins(app, attempts: list[tuple[str, str]], address: str = "") -> list:
    """POST /login for each (user name, password) at once, from ``address`` (else each from
    an address of its own); the answers."""
    barrier = threading.Barrier(len(attempts))
    answers: list = [None] * len(attempts)

    def attempt(index: int, username: str, password: str) -> None:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address or f"10.0.1.{index}"
        data = {"csrf_token": client.csrf_token(), "username": username, "password": password}
        barrier.wait()
        response = client.post("/login", data=data)
        answers[index] = (response.status_code, page_text(response))

    threads = [threading.Thread(target=attempt, args=(i, *pair)) for i, pair in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_concurrent_wrong_passwords_are_counted_exactly(app, make_user) -> None:
    """Racing attempts at one account (from many addresses): 4 passwords refused, then locked."""
    make_user("kasia")
    answers = _concurrent_logins(app, [("kasia", f"wrong-password-{i}") for i in range(12)])
    assert all(code == 200 for code, _text in answers)
    wrong = [text for _code, text in answers if "Nieprawidłowa nazwa" in text]
    throttled = [text for _code, text in answers if "Zbyt wiele nieudanych prób" in text]
    assert (len(wrong), len(throttled)) == (app.config["LOGIN_MAX_FAILURES"] - 1, 12 - 4)
    assert _stored_user(app, "kasia").locked_until is not None


def test_concurrent_failures_from_one_address_stop_at_its_limit(app, make_user) -> None:
    app.config["LOGIN_ADDRESS_MAX_FAILURES"] = 3
    make_user("kasia")
    attempts = [(f"nobody{i}", "wrong-password") for i in range(8)]
    answers = _concurrent_logins(app, attempts, address="10.0.0.7")
    wrong = [text for _code, text in answers if "Nieprawidłowa nazwa" in text]
    refused = [text for _code, text in answers if "z Twojego adresu" in text]
    assert (len(wrong), len(refused)) == (3, 5)


def test_failed_logins_from_one_address_are_limited(app, client, make_user, auth, clock) -> None:
    """Guessing across many user names from one address: refused after the limit."""
    app.config["LOGIN_ADDRESS_MAX_FAILURES"] = 3
    make_user("kasia")
    client.environ_base["REMOTE_ADDR"] = "10.0.0.7"
    for name in ("adam", "beata", "cezary"):
        assert "Nieprawidłowa nazwa" in page_text(auth.login(name, "wrong-password"))
    refused = auth.login("kasia")  # even a right password, from this address
    assert refused.status_code == 200
    assert "Zbyt wiele nieudanych logowań z Twojego adresu" in page_text(refused)
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.8"
    assert Auth(other).login("kasia").status_code == 302  # another address is not affected
    clock.advance(minutes=app.config["LOGIN_ADDRESS_WINDOW_MINUTES"])
    assert auth.login("kasia").status_code == 302  # a new window


# --- sessions end with logout, a password change, disabling, an admin's "end sessions" ------


def _session_cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str):
    """A new browser that presents a copied session cookie; what /cati/ answers it."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get("/cati/")


def test_a_copied_session_cookie_dies_with_logout(app, client, make_user, auth) -> None:
    make_user("iwona", Role.INTERVIEWER)
    assert auth.login("iwona").status_code == 302
    copied = _session_cookie(client)
    assert _replay(app, copied).status_code == 200
    auth.logout()
    answer = _replay(app, copied)
    assert answer.status_code == 302 and "/login" in answer.location


def test_a_session_cookie_shown_by_another_browser_logs_nobody_in(app, client, make_user, auth):
    # Flask-Login's "strong" session protection: a logged-in session presented with another
    # browser's fingerprint (address and User-Agent) is emptied, not honoured.
    make_user("iwona", Role.INTERVIEWER)
    assert auth.login("iwona").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", _session_cookie(client))
    answer = thief.get("/cati/", headers={"User-Agent": "Another browser/1.0"})
    assert answer.status_code == 302 and "/login" in answer.location
    assert client.get("/cati/").status_code == 200  # the owner's browser goes on


def test_a_password_change_ends_every_other_session(app, client, make_user, auth) -> None:
    make_user("iwona", Role.INTERVIEWER)
    assert auth.login("iwona").status_code == 302
    copied = _session_cookie(client)
    changed = client.post(
        "/password",
        data={"current": TEST_PASSWORD, "new": "a-new-password-1", "confirm": "a-new-password-1"},
    )
    assert changed.status_code == 302
    assert client.get("/cati/").status_code == 200  # the session that changed it goes on
    answer = _replay(app, copied)
    assert answer.status_code == 302 and "/login" in answer.location


@pytest.mark.parametrize("how", ["end_sessions", "disable", "reset_password"])
def test_an_admin_ends_a_users_sessions(app, client, make_user, auth, how) -> None:
    user = make_user("iwona", Role.INTERVIEWER)
    make_user("szef", Role.ADMIN)
    assert auth.login("iwona").status_code == 302
    assert client.get("/cati/").status_code == 200
    admin = app.test_client()
    assert Auth(admin).login("szef").status_code == 302
    if how == "end_sessions":
        done = admin.post(f"/admin/users/{user.id}/end-sessions", data={})
    elif how == "disable":
        done = admin.post(f"/admin/users/{user.id}", data={"full_name": "", "role": "interviewer"})
    else:
        done = admin.post(f"/admin/users/{user.id}/reset-password", data={})
    # the new one-time password is shown on a page; the other two go back to the user
    assert done.status_code == (200 if how == "reset_password" else 302), page_text(done)
    answer = client.get("/cati/")
    assert answer.status_code == 302 and "/login" in answer.location
    if how == "end_sessions":  # the account itself still works
        assert auth.login("iwona").status_code == 302
        assert client.get("/cati/").status_code == 200


@pytest.mark.parametrize("field", ["current", "new", "confirm"])
def test_a_file_sent_as_a_password_is_refused_as_a_wrong_password(
    client, make_user, auth, field
) -> None:
    make_user("kasia")
    auth.login("kasia")
    data: dict = {"current": TEST_PASSWORD, "new": "long-enough-1", "confirm": "long-enough-1"}
    data[field] = (io.BytesIO(b"long-enough-1"), "haslo.txt")
    response = client.post("/password", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "Your password has been changed" not in page_text(response)
    assert auth.login("kasia").status_code == 302  # the old password still works


def test_a_multipart_post_with_nameless_parts_is_refused_without_an_error(client) -> None:
    body = (
        b"--B\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n"
        b'--B\r\nContent-Disposition: form-data; filename="a.txt"\r\n\r\nxx\r\n--B--\r\n'
    )
    response = client.post("/login", data=body, content_type="multipart/form-data; boundary=B")
    assert response.status_code in (200, 400), response.status_code
