"""Sign up, log in and out, login rate limiting, secure session settings, Argon2 in production."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User

from rvuedge.accounts import throttle
from rvuedge.accounts.models import Profile
from tests.personas import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def test_signup_creates_the_account_and_profile_and_logs_in(client):
    r = client.post("/accounts/signup/", {
        "username": "dr_lee", "email": "Lee@Example.org", "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase",
        "career_stage": "resident", "specialty": "General Surgery"})
    assert r.status_code == 302 and r["Location"] == "/log/"
    user = User.objects.get(username="dr_lee")
    assert user.email == "lee@example.org"
    assert Profile.objects.get(user=user).career_stage == "resident"
    assert client.get("/log/").status_code == 200


def test_signup_validates(client):
    make_user("taken")
    r = client.post("/accounts/signup/", {"username": "x", "email": "taken@example.org", "password1": "short",
                                          "password2": "short", "career_stage": "attending"})
    body = r.content.decode()
    assert r.status_code == 200 and "An account with this e-mail address exists" in body and "too short" in body


def test_signup_then_next(client):
    r = client.post("/accounts/signup/?next=/log/%3Fentry%3D27447", {
        "username": "n", "email": "n@example.org", "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase",
        "career_stage": "attending", "next": "/log/?entry=27447"})
    assert r["Location"] == "/log/?entry=27447"


def test_login_and_logout(client):
    make_user("amy")
    r = client.post("/accounts/login/", {"username": "amy", "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/log/"
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/log/").status_code == 302


def test_login_is_rate_limited_per_username_and_address(client):
    make_user("amy")
    for _ in range(throttle.MAX_FAILURES):
        r = client.post("/accounts/login/", {"username": "amy", "password": "wrong"})
        assert r.status_code == 200
    assert "Too many failed log-in attempts" in r.content.decode()
    # Now even the right password is refused, with a clear message …
    r = client.post("/accounts/login/", {"username": "Amy", "password": PASSWORD})
    assert r.status_code == 200 and "Log-in is paused for about 15 minutes" in r.content.decode()
    # … but only for that username from that address.
    other = client.post("/accounts/login/", {"username": "amy", "password": PASSWORD}, REMOTE_ADDR="10.9.8.7")
    assert other.status_code == 302


def test_the_window_expires(client, monkeypatch):
    make_user("amy")
    for _ in range(throttle.MAX_FAILURES):
        client.post("/accounts/login/", {"username": "amy", "password": "wrong"})
    real = throttle.time.time
    monkeypatch.setattr(throttle.time, "time", lambda: real() + throttle.WINDOW_SECONDS + 1)
    assert client.post("/accounts/login/", {"username": "amy", "password": PASSWORD}).status_code == 302


def test_a_success_resets_the_count(client):
    make_user("amy")
    for _ in range(throttle.MAX_FAILURES - 1):
        client.post("/accounts/login/", {"username": "amy", "password": "wrong"})
    client.post("/accounts/login/", {"username": "amy", "password": PASSWORD})
    assert throttle.failures("amy", "127.0.0.1")[0] == 0


def test_production_settings_hash_with_argon2_and_secure_sessions():
    from rvuedge import settings as project

    assert project.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert project.SESSION_COOKIE_HTTPONLY is True and project.SESSION_COOKIE_SAMESITE == "Lax"
    assert project.LOGIN_URL == "/accounts/login/"
    assert "ratelimit" in project.CACHES and "FileBasedCache" in project.CACHES["ratelimit"]["BACKEND"]
    assert django_settings.X_FRAME_OPTIONS == "DENY"


def test_signup_stores_an_argon2_hash(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    client.post("/accounts/signup/", {"username": "argo", "email": "a@example.org", "password1": "a-long-pass-phrase",
                                      "password2": "a-long-pass-phrase", "career_stage": "student"})
    assert User.objects.get(username="argo").password.startswith("argon2")
