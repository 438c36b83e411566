"""Every API request body refuses unknown keys, naming the key and the accepted ones: a typo ("modifers") must never
be dropped in silence and change a price (issue 12). Nothing is stored."""

from __future__ import annotations

import json

import pytest

from rvuedge.api import api
from rvuedge.benchmarks.models import Contract
from rvuedge.logbook.models import Encounter
from tests.personas import log

pytestmark = pytest.mark.django_db

CONTRACT = {"base_salary": "100000"}


@pytest.mark.parametrize(("method", "path", "body", "key", "accepted"), [
    ("post", "/api/log/encounters", {"lines": [{"code": "27447", "modifers": ["50"]}], "date": "2025-03-04"},
     "modifers", "code, minutes, modifiers, units"),
    ("post", "/api/log/encounters", {"entry": "27447", "dates_of_service": "2025-03-04"}, "dates_of_service",
     "attending, category, date, entry"),
    ("post", "/api/log/encounters", {"entry": "27447", "rendering_provider_type": "NP"}, "rendering_provider_type",
     "entry"),
    ("patch", "/api/log/encounters/{id}", {"note": "typo for notes"}, "note", "notes"),
    ("post", "/api/log/check", {"entry": "27447", "policy_name": "no_reductions"}, "policy_name", "entry"),
    ("post", "/api/benchmarks/pay", {"contract": CONTRACT, "wrvus": "5000", "fte": "0.5"}, "fte", "contract, wrvus"),
    ("post", "/api/benchmarks/contracts", {"name": "x", "start": "2026-01-01", "terms": CONTRACT, "offer": True},
     "offer", "is_offer"),
])
def test_unknown_body_key_is_a_422_naming_it(alice_client, alice, method, path, body, key, accepted):
    enc = log(alice, "99213", date="2025-03-04")
    before = (Encounter.objects.count(), Contract.objects.count(), enc.notes)
    r = getattr(alice_client, method)(path.format(id=enc.pk), json.dumps(body), content_type="application/json")
    assert r.status_code == 422, r.content
    detail = r.json()["detail"]
    assert f"unknown key {key!r}" in detail and accepted in detail
    enc.refresh_from_db()
    assert (Encounter.objects.count(), Contract.objects.count(), enc.notes) == before


def test_openapi_declares_closed_request_bodies():
    schemas = api.get_openapi_schema()["components"]["schemas"]
    for name in ("LineIn", "EncounterIn", "EncounterPatch", "CheckIn", "PayIn", "ContractIn"):
        assert schemas[name]["additionalProperties"] is False, name
