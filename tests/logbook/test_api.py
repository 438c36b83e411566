"""The JSON API at /api/log: token or session auth, the same entry text as the box, idempotent creates.

Runs on the synthetic fee set (tests/synthetic.py), not RVU25A. Figures are its work RVUs: 99213 1.30,
99214 1.92, 99215 2.65, 20610 0.77 (one procedure beside a visit: no reduction); 99915 is no code, one digit
from 99215.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from rvuedge.accounts.services import do_create_token
from rvuedge.logbook.models import Encounter
from tests.personas import log
from tests.synthetic import FEE_SET_RELEASE

pytestmark = [pytest.mark.django_db, pytest.mark.synthetic_fees]


@pytest.fixture
def api(alice):
    _token, plain = do_create_token(alice, "script")
    c = Client(HTTP_AUTHORIZATION=f"Bearer {plain}")

    def call(method: str, path: str, body=None, **headers):
        kwargs = {"content_type": "application/json", **headers}
        if body is not None:
            kwargs["data"] = json.dumps(body)
        return getattr(c, method)(f"/api/log{path}", **kwargs)

    return call


def test_create_from_rapid_entry_text(api, alice):
    r = api("post", "/encounters", {"entry": "99214 20610-RT @2025-03-04", "site": "Clinic A"})
    assert r.status_code == 201
    data = r.json()
    # 1.92 + 0.77 = 2.69
    assert data["date"] == "2025-03-04" and data["total_wrvu"] == "2.69" and data["release"] == FEE_SET_RELEASE
    assert [ln["code"] for ln in data["lines"]] == ["99214", "20610"]
    assert data["lines"][0]["explanation"]["wrvu_steps"][0]["text"] == "work RVU 1.92"
    assert Encounter.objects.get(user=alice).site == "Clinic A"


def test_create_from_structured_lines(api):
    r = api("post", "/encounters", {"lines": [{"code": "27447", "modifiers": ["50"]}, {"code": "11045", "units": 3}],
                                    "date": "2025-03-04", "setting": "facility", "role": "primary"})
    assert r.status_code == 201
    assert r.json()["entry"] == "27447-50 11045x3" and r.json()["role"] == "primary"


def test_an_idempotency_key_makes_a_retry_harmless(api, alice):
    first = api("post", "/encounters", {"entry": "99213", "date": "2025-03-04"}, HTTP_IDEMPOTENCY_KEY="offline-42")
    again = api("post", "/encounters", {"entry": "99213", "date": "2025-03-04"}, HTTP_IDEMPOTENCY_KEY="offline-42")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert Encounter.objects.filter(user=alice).count() == 1
    other = api("post", "/encounters", {"entry": "99213", "date": "2025-03-04"}, HTTP_IDEMPOTENCY_KEY="offline-43")
    assert other.status_code == 201


def test_validation_errors_are_422_and_name_the_field(api):
    r = api("post", "/encounters", {"entry": "99915"})
    assert r.status_code == 422
    assert r.json()["field"] == "entry" and "Did you mean 99215" in r.json()["detail"]
    assert r.json()["problems"][0]["near"] == ["99215"]
    assert api("post", "/encounters", {}).status_code == 422
    assert api("post", "/encounters", {"entry": "99213", "role": "chief"}).json()["field"] == "role"
    assert api("post", "/encounters", {"lines": [{"code": "99213", "units": 0}]}).status_code == 422


def test_list_filter_get_update_delete_restore(api, alice):
    a = log(alice, "99213", date="2025-01-01", category="Office")
    b = log(alice, "27447", date="2025-02-01", setting="facility")
    listing = api("get", "/encounters?start=2025-01-15").json()
    assert listing["count"] == 1 and listing["items"][0]["id"] == b.pk
    assert api("get", "/encounters?code=99213").json()["items"][0]["id"] == a.pk
    assert api("get", f"/encounters/{a.pk}").json()["category"] == "Office"

    r = api("patch", f"/encounters/{a.pk}", {"notes": "follow-up"})
    assert r.status_code == 200 and r.json()["notes"] == "follow-up" and r.json()["entry"] == "99213"
    r = api("patch", f"/encounters/{a.pk}", {"entry": "99215"})
    assert r.json()["total_wrvu"] == "2.65"  # 99215
    assert api("patch", f"/encounters/{a.pk}", {"notes": "SSN 123-45-6789"}).status_code == 422

    assert api("delete", f"/encounters/{a.pk}").json()["deleted"] == a.pk
    assert api("get", "/encounters").json()["count"] == 1
    assert api("get", "/encounters?deleted=true").json()["count"] == 1
    assert api("post", f"/encounters/{a.pk}/restore").status_code == 200
    assert api("get", "/encounters").json()["count"] == 2


def test_check_summary_export(api, alice):
    log(alice, "99213", date="2025-01-01")
    r = api("post", "/check", {"entry": "99213 99915", "date": "2025-01-01"})
    items = r.json()["items"]
    assert items[0]["credit"]["wrvu"] == "1.30" and items[1]["near"] == ["99215"]
    assert api("get", "/summary?period=year&start=2025-01-01&end=2025-12-31").json()["total_wrvu"] == "1.30"
    backup = json.loads(b"".join(api("get", "/export?format=json").streaming_content))  # streamed, any size
    assert backup["format"] == "rvuedge-log-backup" and len(backup["encounters"]) == 1
    csv_text = b"".join(api("get", "/export?format=csv").streaming_content).decode("utf-8-sig")
    assert csv_text.startswith("uid,date,entry")


def test_session_auth_needs_the_csrf_token(alice):
    c = Client(enforce_csrf_checks=True)
    c.force_login(alice)
    assert c.get("/api/log/encounters").status_code == 200
    r = c.post("/api/log/encounters", json.dumps({"entry": "99213"}), content_type="application/json")
    assert r.status_code in (401, 403)
    c.get("/log/")  # sets the CSRF cookie
    token = c.cookies["csrftoken"].value
    r = c.post("/api/log/encounters", json.dumps({"entry": "99213"}), content_type="application/json",
               HTTP_X_CSRFTOKEN=token)
    assert r.status_code == 201


def test_a_revoked_or_wrong_token_is_401(alice):
    from rvuedge.accounts.services import do_revoke_token

    token, plain = do_create_token(alice, "old")
    c = Client(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert c.get("/api/log/encounters").status_code == 200
    do_revoke_token(alice, token.pk)
    assert c.get("/api/log/encounters").status_code == 401
    assert Client(HTTP_AUTHORIZATION="Bearer rvu_nope").get("/api/log/encounters").status_code == 401


def test_openapi_describes_the_log(client):
    spec = client.get("/api/openapi.json").json()
    assert "/api/log/encounters" in spec["paths"] and "/api/log/summary" in spec["paths"]
    assert "post" in spec["paths"]["/api/log/encounters"]
