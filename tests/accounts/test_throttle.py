"""Rate limits: the admin log-in like the site's, password reset, a per-address ceiling, and the client address
behind trusted reverse proxies (X-Forwarded-For)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client, RequestFactory

from rvuedge.accounts import throttle
from tests.personas import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
THROTTLED = "Too many failed log-in attempts"


def _login(client, username, password, path="/accounts/login/", **extra):
    return client.post(path, {"username": username, "password": password}, **extra)


# --------------------------------------------------------------------------- admin


def test_admin_login_is_rate_limited_like_the_site_login(client):
    User.objects.create_superuser("root", "root@example.org", PASSWORD)
    for _ in range(throttle.MAX_FAILURES):
        r = _login(client, "root", "wrong", "/admin/login/")
        assert r.status_code == 200
    assert THROTTLED in r.content.decode()
    # The right password is refused too while the pause lasts …
    r = _login(client, "root", PASSWORD, "/admin/login/?next=/admin/")
    assert r.status_code == 200 and "Log-in is paused for about 15 minutes" in r.content.decode()
    # … and the site's log-in shares the count (one limit per username + address, whichever door).
    r = _login(client, "root", PASSWORD)
    assert r.status_code == 200 and THROTTLED in r.content.decode()


def test_admin_login_still_works_and_still_refuses_non_staff(client):
    User.objects.create_superuser("root", "root@example.org", PASSWORD)
    make_user("amy")
    r = _login(client, "amy", PASSWORD, "/admin/login/?next=/admin/")
    assert r.status_code == 200 and "staff account" in r.content.decode()
    r = _login(client, "root", PASSWORD, "/admin/login/?next=/admin/")
    assert r.status_code == 302 and r["Location"] == "/admin/"


# --------------------------------------------------------------------------- one attacker, one address


def test_failures_from_one_address_do_not_lock_the_username_for_another(client):
    make_user("amy")
    for _ in range(throttle.MAX_FAILURES):
        _login(client, "amy", "wrong", REMOTE_ADDR="203.0.113.9")
    assert THROTTLED in _login(client, "amy", PASSWORD, REMOTE_ADDR="203.0.113.9").content.decode()
    r = _login(Client(), "amy", PASSWORD, REMOTE_ADDR="198.51.100.7")
    assert r.status_code == 302 and r["Location"] == "/log/"


def test_one_address_trying_many_usernames_hits_a_ceiling(client, settings):
    settings.RVUEDGE_LOGIN_MAX_FAILURES_PER_ADDRESS = 6
    make_user("amy")
    for i in range(6):  # six usernames, one failure each: no username reaches its own limit of 5
        r = _login(client, f"user{i}", "wrong", REMOTE_ADDR="203.0.113.9")
    body = r.content.decode()
    assert "Too many failed log-in attempts from your network (6 in 15 minutes)" in body
    # The address is paused for every username, even with the right password …
    r = _login(Client(), "amy", PASSWORD, REMOTE_ADDR="203.0.113.9")
    assert r.status_code == 200 and "from your network" in r.content.decode()
    # … while anyone else logs in as usual.
    assert _login(Client(), "amy", PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 302


def test_a_successful_login_does_not_clear_the_address_ceiling(client, settings):
    settings.RVUEDGE_LOGIN_MAX_FAILURES_PER_ADDRESS = 4
    make_user("amy")
    for i in range(3):
        _login(client, f"user{i}", "wrong", REMOTE_ADDR="203.0.113.9")
    assert _login(Client(), "amy", PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 302  # the attacker's own
    _login(client, "user9", "wrong", REMOTE_ADDR="203.0.113.9")
    r = _login(Client(), "amy", PASSWORD, REMOTE_ADDR="203.0.113.9")
    assert r.status_code == 200 and "from your network" in r.content.decode()


# --------------------------------------------------------------------------- behind a proxy


def test_without_trusted_proxies_x_forwarded_for_is_ignored(client, settings):
    settings.RVUEDGE_TRUSTED_PROXIES = 0
    make_user("amy")
    for i in range(throttle.MAX_FAILURES):  # a different forged address each time changes nothing
        _login(client, "amy", "wrong", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
    r = _login(client, "amy", PASSWORD, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert THROTTLED in r.content.decode()


def test_behind_one_proxy_the_throttle_keys_on_the_address_the_proxy_reports(client, settings):
    settings.RVUEDGE_TRUSTED_PROXIES = 1
    make_user("amy")
    proxy = {"REMOTE_ADDR": "127.0.0.1"}  # every request arrives from the proxy
    for i in range(throttle.MAX_FAILURES):
        # The attacker forges entries on the left; the proxy appends the address it saw.
        _login(client, "amy", "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}, 203.0.113.9", **proxy)
    r = _login(client, "amy", PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.9", **proxy)
    assert THROTTLED in r.content.decode()
    # Amy, at another address behind the same proxy, is not locked out.
    r = _login(Client(), "amy", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    assert r.status_code == 302


@pytest.mark.parametrize(("proxies", "xff", "expected"), [
    (0, "198.51.100.7", "127.0.0.1"),
    (1, "198.51.100.7", "198.51.100.7"),
    (1, "10.0.0.1, 198.51.100.7", "198.51.100.7"),
    (1, " 10.0.0.1 ,198.51.100.7 ", "198.51.100.7"),
    (2, "10.0.0.1, 198.51.100.7, 192.0.2.1", "198.51.100.7"),
    (2, "198.51.100.7", "127.0.0.1"),  # fewer entries than proxies: nothing in it is trusted
    (1, "", "127.0.0.1"),
    (1, "not-an-address", "127.0.0.1"),
    (1, "2001:db8::1", "2001:db8::1"),
    (1, "[2001:db8::1]:4711", "2001:db8::1"),
    (1, "198.51.100.7:4711", "198.51.100.7"),
])
def test_client_ip(settings, proxies, xff, expected):
    settings.RVUEDGE_TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=xff)
    assert throttle.client_ip(request) == expected


def test_trusted_proxies_must_be_a_number(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(RVUEDGE_DATA_DIR=str(tmp_path), RVUEDGE_TRUSTED_PROXIES="yes")
    proc = subprocess.run([sys.executable, "-m", "rvuedge.cli", "check"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 1
    assert "RVUEDGE_TRUSTED_PROXIES must be a whole number" in proc.stderr and "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- password reset


def _reset(client, email, addr="203.0.113.9"):
    return client.post("/accounts/password-reset/", {"email": email}, REMOTE_ADDR=addr)


def test_password_reset_is_rate_limited_per_address(client, settings):
    settings.RVUEDGE_RESET_MAX_PER_ADDRESS = 3
    for i in range(3):
        r = _reset(client, f"nobody{i}@example.org")
        assert r.status_code == 302
    r = _reset(client, "nobody9@example.org")
    assert r.status_code == 429
    assert "Too many password-reset requests from your network (3 in 60 minutes)" in r.content.decode()
    # Another address is not affected.
    assert _reset(Client(), "nobody9@example.org", addr="198.51.100.7").status_code == 302


def test_password_reset_mails_one_address_a_bounded_number_of_times(client):
    make_user("amy")
    for i in range(throttle.MAX_RESETS_PER_EMAIL + 3):  # from many addresses: the per-address limit never bites
        r = _reset(Client(), "AMY@example.org", addr=f"198.51.100.{i + 1}")
        assert r.status_code == 302 and r["Location"] == "/accounts/password-reset/sent/"  # the page reads the same
    assert len(mail.outbox) == throttle.MAX_RESETS_PER_EMAIL
    assert all(m.to == ["amy@example.org"] for m in mail.outbox)
