"""Isolation: every page and endpoint redirects (pages) or 401s (API) anonymous users, answers 404 for another
user's objects, and never shows or changes another user's data.

Runs on the synthetic fee set (tests/synthetic.py), not RVU25A: it needs only two codes that price (27447,
99213) and checks who sees what, never a figure."""

from __future__ import annotations

import json

import pytest

from rvuedge.accounts.services import do_create_token
from rvuedge.logbook.actions import do_trash_encounters, do_upload_report
from rvuedge.logbook.models import Encounter, ImportBatch
from tests.personas import log

pytestmark = [pytest.mark.django_db, pytest.mark.synthetic_fees]

MARK = "SecretSiteOfAlice"


@pytest.fixture
def alices(alice):
    live = log(alice, "27447-RT", date="2025-02-10", site=MARK, setting="facility")
    gone = log(alice, "99213", date="2025-02-11", site=MARK)
    do_trash_encounters(alice, [gone.pk])
    batch = ImportBatch.objects.create(user=alice, filename="a.csv", kind="csv", data=b"Date,Codes\n2025-01-01,99213\n",
                                       headers=["Date", "Codes"], mapping={"date": "Date", "entry": "Codes"})
    token, _ = do_create_token(alice, "alice's phone")
    report, _ = do_upload_report(alice, "alice-employer.csv", b"DOS,CPT,wRVU\n2025-02-10,27447,9.80\n", label=MARK)
    return {"enc": live.pk, "gone": gone.pk, "batch": batch.pk, "token": token.pk, "report": report.pk}


OBJECT_PAGES = [
    ("get", "/log/e/{enc}/"),
    ("get", "/log/e/{gone}/"),
    ("get", "/log/e/{enc}/edit/"),
    ("post", "/log/e/{enc}/edit/"),
    ("post", "/log/e/{enc}/delete/"),
    ("get", "/log/import/{batch}/"),
    ("post", "/log/import/{batch}/"),
    ("get", "/log/import/{batch}/errors.csv"),
    ("post", "/accounts/tokens/{token}/revoke/"),
    ("get", "/log/reconcile/{report}/"),
    ("get", "/log/reconcile/{report}/differences.csv"),
    ("get", "/log/reconcile/{report}/differences.pdf"),
    ("post", "/log/reconcile/{report}/delete/"),
]
PAGES = OBJECT_PAGES + [
    ("get", "/log/"), ("post", "/log/"), ("get", "/log/check/?entry=99213"), ("post", "/log/favourites/"),
    ("get", "/log/history/"), ("post", "/log/bulk/"), ("post", "/log/restore/"), ("get", "/log/trash/"),
    ("get", "/log/dashboard/"), ("get", "/log/preview/?run=1"), ("get", "/log/export/?format=csv"),
    ("get", "/log/export/?format=xlsx"), ("get", "/log/export/?format=json"), ("get", "/log/export/?format=pdf"),
    ("get", "/log/export/?format=portal"), ("get", "/log/import/"), ("post", "/log/import/"),
    ("post", "/log/backup/restore/"), ("get", "/log/cases/"), ("get", "/accounts/profile/"),
    ("post", "/accounts/profile/"), ("post", "/accounts/tokens/"), ("get", "/accounts/password/"),
    ("get", "/log/reconcile/"), ("post", "/log/reconcile/"),
]
OBJECT_API = [
    ("get", "/api/log/encounters/{enc}"),
    ("get", "/api/log/encounters/{gone}"),
    ("patch", "/api/log/encounters/{enc}"),
    ("delete", "/api/log/encounters/{enc}"),
    ("post", "/api/log/encounters/{gone}/restore"),
    ("get", "/api/log/reconciliations/{report}"),
]
API = OBJECT_API + [
    ("get", "/api/log/encounters"), ("post", "/api/log/encounters"), ("post", "/api/log/check"),
    ("get", "/api/log/summary"), ("get", "/api/log/preview?start=2025-01-01&end=2025-12-31"),
    ("get", "/api/log/cases"), ("get", "/api/log/export?format=json"), ("get", "/api/log/export?format=csv"),
    ("get", "/api/log/reconciliations"),
]


def _call(client, method, url, ids, body=None):
    url = url.format(**ids)
    if method in ("get", "delete"):
        return getattr(client, method)(url)
    if url.startswith("/api/"):
        return getattr(client, method)(url, json.dumps(body or {"entry": "99213"}), content_type="application/json")
    return getattr(client, method)(url, body or {})


@pytest.mark.parametrize("method,url", PAGES)
def test_pages_send_anonymous_users_to_log_in(anon_client, alices, method, url):
    r = _call(anon_client, method, url, alices)
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/?next="), (url, r.status_code)


@pytest.mark.parametrize("method,url", API)
def test_the_api_answers_401_to_anonymous_users(anon_client, alices, method, url):
    assert _call(anon_client, method, url, alices).status_code == 401


@pytest.mark.parametrize("method,url", OBJECT_PAGES)
def test_pages_answer_404_for_another_users_objects(bob_client, alices, method, url):
    assert _call(bob_client, method, url, alices).status_code == 404


@pytest.mark.parametrize("method,url", OBJECT_API)
def test_the_api_answers_404_for_another_users_objects(bob, alices, method, url):
    from django.test import Client

    _t, plain = do_create_token(bob, "bob")
    r = _call(Client(HTTP_AUTHORIZATION=f"Bearer {plain}"), method, url, alices, body={"notes": "x"})
    assert r.status_code == 404


def _text(r) -> str:
    if getattr(r, "streaming", False):
        return b"".join(r.streaming_content).decode("utf-8", "replace")
    return r.content.decode("utf-8", "replace")


@pytest.mark.parametrize("url", ["/log/", "/log/history/", "/log/history/?code=27447", "/log/trash/", "/log/dashboard/",
                                 "/log/dashboard/?period=year", "/log/cases/", "/log/export/?format=csv",
                                 "/log/export/?format=json", "/log/export/?format=portal", "/log/export/?format=lines",
                                 "/log/preview/?run=1&start=2025-01-01&end=2025-12-31", "/accounts/profile/",
                                 "/api/log/encounters", "/api/log/encounters?deleted=true",
                                 "/api/log/summary?period=year", "/api/log/export?format=json", "/api/log/cases",
                                 "/log/reconcile/", "/api/log/reconciliations"])
def test_lists_and_aggregates_show_only_your_own_data(bob_client, alices, url):
    r = bob_client.get(url)
    assert r.status_code == 200
    text = _text(r)
    assert MARK not in text and "27447-RT" not in text and "alice" not in text.lower()


def test_bulk_restore_and_favourites_never_touch_another_users_data(bob_client, alices):
    bob_client.post("/log/bulk/", {"ids": [alices["enc"]], "action": "delete"})
    bob_client.post("/log/bulk/", {"ids": [alices["enc"]], "action": "set", "field": "site", "value": "bob was here"})
    bob_client.post("/log/restore/", {"ids": [alices["gone"]]})
    live = Encounter.objects.get(pk=alices["enc"])
    assert live.deleted_at is None and live.site == MARK
    assert Encounter.objects.get(pk=alices["gone"]).deleted_at is not None


def test_the_owner_does_see_it(alice_client, alices):
    # The control for the test above: the same pages do show alice her own data.
    assert MARK in _text(alice_client.get("/log/history/"))
    assert "27447-RT" in _text(alice_client.get("/log/export/?format=csv"))
    assert MARK in _text(alice_client.get("/log/reconcile/"))
