"""The test personas, shared by every test: alice owns, bob is the outsider (a second user), anon_client is
nobody; make_user() for anyone else, log() to log an encounter through the domain function. Loaded for the
whole suite by tests/conftest.py, with two autouse settings: fast password hashing, a private rate-limit cache."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # Argon2 stays first in production; tests hash with MD5 so that creating users costs nothing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def private_file_caches(settings):
    # The production rate-limit and re-credit caches are files under DATA_DIR; tests use private in-memory
    # ones, empty at the start of every test.
    settings.CACHES = {**settings.CACHES, **{alias: {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"tests-{alias}"}
        for alias in ("ratelimit", "recredit")}}
    from django.core.cache import caches

    for alias in ("ratelimit", "recredit"):
        caches[alias].clear()
    yield
    for alias in ("ratelimit", "recredit"):
        caches[alias].clear()


def make_user(username: str, *, stage: str = "attending", **profile):
    from django.contrib.auth.models import User

    from rvuedge.accounts.models import Profile

    user = User.objects.create_user(username, f"{username}@example.org", "correct horse battery")
    Profile.objects.create(user=user, career_stage=stage, **profile)
    return user


@pytest.fixture
def alice(db):
    return make_user("alice")


@pytest.fixture
def bob(db):
    return make_user("bob")


@pytest.fixture
def alice_client(alice):
    c = Client()
    c.force_login(alice)
    return c


@pytest.fixture
def bob_client(bob):
    c = Client()
    c.force_login(bob)
    return c


@pytest.fixture
def anon_client():
    return Client()


def log(user, entry: str = "99214 20610-RT", date: dt.date | str = "2025-03-04", **fields):
    """Log an encounter through the domain function (as the page and the API do)."""
    from rvuedge.logbook.actions import EncounterInput, do_log_encounter

    if isinstance(date, str):
        date = dt.date.fromisoformat(date)
    key = fields.pop("idempotency_key", None)
    enc, _ = do_log_encounter(user, EncounterInput(entry=entry, date=date, **fields), idempotency_key=key)
    return enc
