"""Password reset by e-mail (Django's console or file backend by default, SMTP by setting)."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.personas import make_user

pytestmark = pytest.mark.django_db


def test_reset_by_email_link(client):
    make_user("amy")
    r = client.post("/accounts/password-reset/", {"email": "amy@example.org"})
    assert r.status_code == 302 and r["Location"] == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == "Reset your RVU Edge password"
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    r = client.get(link, follow=True)
    assert "Choose a new password" in r.content.decode()
    r = client.post(r.redirect_chain[-1][0], {"new_password1": "a-brand-new-phrase", "new_password2": "a-brand-new-phrase"})
    assert r["Location"] == "/accounts/reset/done/"
    assert client.login(username="amy", password="a-brand-new-phrase")
    assert "has expired" in client.get(link, follow=True).content.decode()  # a link works once


def test_unknown_addresses_get_the_same_answer_and_no_mail(client):
    r = client.post("/accounts/password-reset/", {"email": "nobody@example.org"})
    assert r["Location"] == "/accounts/password-reset/sent/" and mail.outbox == []


def test_password_change(client):
    user = make_user("amy")
    client.force_login(user)
    r = client.post("/accounts/password/", {"old_password": "correct horse battery",
                                            "new_password1": "another-long-phrase", "new_password2": "another-long-phrase"})
    assert r.status_code == 302
    assert client.get("/log/").status_code == 200  # still logged in
