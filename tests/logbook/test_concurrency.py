"""On PostgreSQL, 20 clients logging 50 encounters each at the same time store exactly 1,000, and retries or
racing duplicates with the same Idempotency-Key store nothing more (the unique constraint decides).

This test runs outside pytest-django's per-test transaction (threads need their own committed connections).
It does not use ``django_db(transaction=True)`` because that flushes every table afterwards, which would wipe
the session's RVU25A for the tests that follow; instead it unblocks the database, uses RVU25A as loaded, and
deletes exactly what it created.
"""

from __future__ import annotations

import json
import os
import threading
import uuid

import pytest
from django.db import connection, connections
from django.test import Client

PG = os.environ.get("DATABASE_URL", "").startswith("postgres")
pytestmark = pytest.mark.skipif(not PG, reason="PostgreSQL only (set DATABASE_URL=postgres://…); SQLite serialises "
                                               "all writers, so there is no race to test")

CLIENTS, EACH, RETRY = 20, 50, 10


def _in_thread(fn, *args):
    """Run fn in a fresh thread with its own connection, closed afterwards (the main thread's connection may
    belong to another test's context, e.g. while the session's Playwright loop is alive)."""
    out: dict = {}

    def target():
        try:
            out["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            out["error"] = exc
        finally:
            connections.close_all()

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out.get("value")


def _run(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@pytest.mark.django_db
def test_the_database_is_postgresql():
    # Also makes pytest-django create the test database when this module runs on its own (it only creates the
    # databases that collected tests mark as needed, and the test below deliberately carries no django_db mark).
    assert connection.vendor == "postgresql"


def test_20_clients_times_50_store_exactly_1000_and_retries_add_nothing(django_db_setup, django_db_blocker):
    from rvuedge.accounts.services import do_create_token
    from rvuedge.logbook.models import Encounter
    from tests.personas import make_user

    def count(**filters) -> int:
        return _in_thread(lambda: Encounter.objects.filter(user=user, **filters).count())

    def distinct_keys() -> int:
        return _in_thread(lambda: Encounter.objects.filter(user=user).values("idempotency_key").distinct().count())

    with django_db_blocker.unblock():
        user = _in_thread(make_user, f"conc-{uuid.uuid4().hex[:8]}")
        _token, plain = _in_thread(do_create_token, user, "load test")
        statuses: list[int] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client_thread(keys: list[str], barrier: threading.Barrier) -> None:
            c = Client(HTTP_AUTHORIZATION=f"Bearer {plain}")
            try:
                barrier.wait()
                for key in keys:
                    r = c.post("/api/log/encounters", json.dumps({"entry": "99214 20610-RT", "date": "2025-03-04"}),
                               content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)
                    with lock:
                        statuses.append(r.status_code)
                        if r.status_code not in (200, 201):
                            errors.append(r.content.decode()[:300])
            finally:
                connections.close_all()

        def phase(key_sets: list[list[str]]) -> list[int]:
            statuses.clear()
            barrier = threading.Barrier(len(key_sets))
            _run([threading.Thread(target=client_thread, args=(keys, barrier)) for keys in key_sets])
            assert not errors, errors[:3]
            return list(statuses)

        try:
            keys = [[f"c{i}-{n}" for n in range(EACH)] for i in range(CLIENTS)]
            # 1. Twenty clients, fifty encounters each, all at once.
            got = phase(keys)
            assert got.count(201) == CLIENTS * EACH
            assert count() == 1000

            # 2. Every client retries (an offline replay), at once, each client replaying another client's keys
            #    too: nothing new, every answer is a replay.
            retry = [keys[i][:RETRY] + keys[(i + 1) % CLIENTS][:RETRY] for i in range(CLIENTS)]
            got = phase(retry)
            assert got.count(200) == CLIENTS * RETRY * 2
            assert count() == 1000

            # 3. Racing duplicates: pairs of clients send the same new keys at the same moment; the unique
            #    constraint lets exactly one of each pair insert.
            fresh = [[f"race{i // 2}-{n}" for n in range(RETRY)] for i in range(CLIENTS)]
            got = phase(fresh)
            assert got.count(201) == CLIENTS // 2 * RETRY and got.count(200) == CLIENTS // 2 * RETRY
            assert count() == 1000 + CLIENTS // 2 * RETRY
            assert distinct_keys() == 1000 + CLIENTS // 2 * RETRY
        finally:
            _in_thread(user.delete)
