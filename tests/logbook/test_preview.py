"""What if: re-credit a date range under another release or credit policy, storing nothing."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from rvuedge.fees.models import FeeRow, Release
from rvuedge.fees.services import clear_caches
from rvuedge.logbook.models import Encounter
from rvuedge.logbook.queries import what_if
from tests.personas import log

pytestmark = pytest.mark.django_db


@contextlib.contextmanager
def synthetic_release(name: str, year: int, work: dict[str, str]):
    """A tiny release: RVU25A's rows for the given codes with made-up work RVUs (no GPCI file)."""
    base = Release.objects.get(name="RVU25A")
    rel = Release.objects.create(name=name, year=year, layout="32", conv_factor=Decimal("33.4009"),
                                 source="synthetic test release", fingerprint=uuid.uuid4().hex,
                                 loaded_at=timezone.now())
    rows = []
    for row in FeeRow.objects.filter(release=base, hcpcs__in=list(work), modifier=""):
        row.pk = None
        row.release = rel
        row.work_rvu = Decimal(work[row.hcpcs])
        rows.append(row)
    FeeRow.objects.bulk_create(rows)
    try:
        yield rel
    finally:
        clear_caches()


def test_another_policy_changes_the_total_and_stores_nothing(alice, alice_client):
    log(alice, "27447 20610", date="2025-02-01", setting="facility")
    log(alice, "99214", date="2025-02-02")
    before = list(Encounter.objects.values_list("total_wrvu", flat=True))
    result = what_if(alice, alice.profile, dt.date(2025, 1, 1), dt.date(2025, 12, 31), policy="no_reductions")
    assert result["encounters"] == 2
    assert result["current_total"] == Decimal("21.92")   # 20.00 + 1.92
    assert result["what_if_total"] == Decimal("22.31")   # 20.39 + 1.92
    assert result["difference"] == Decimal("0.39")
    assert result["codes"][0]["code"] == "20610"
    assert list(Encounter.objects.values_list("total_wrvu", flat=True)) == before
    page = alice_client.get("/log/preview/", {"run": 1, "start": "2025-01-01", "end": "2025-12-31",
                                              "policy": "no_reductions"}).content.decode()
    assert "22.31" in page and "0.39" in page


def test_another_release(alice, alice_client):
    log(alice, "99214", date="2025-02-02")
    with synthetic_release("RVU26A", 2026, {"99214": "2.10"}):
        r = alice_client.get("/log/preview/", {"run": 1, "start": "2025-01-01", "end": "2025-12-31",
                                               "release": "RVU26A"})
        body = r.content.decode()
        assert "2.10" in body and "RVU26A" in body
        api = alice_client.get("/api/log/preview", {"start": "2025-01-01", "end": "2025-12-31", "release": "RVU26A"})
        assert api.json()["what_if_total"] == "2.10" and api.json()["releases_used"] == {"RVU26A": 1}


def test_a_frozen_release_policy_needs_the_release_loaded(alice_client, alice):
    log(alice, "99214", date="2025-02-02")
    r = alice_client.get("/log/preview/", {"run": 1, "start": "2025-01-01", "end": "2025-12-31", "policy": "custom",
                                           "policy_json": '{"rvu_release": {"mode": "frozen", "release": "RVU22A"}}'})
    body = r.content.decode()
    assert "could not be priced" in body and "RVU22A" in body


def test_a_bad_custom_policy_is_explained(alice_client):
    r = alice_client.get("/log/preview/", {"run": 1, "policy": "custom", "policy_json": '{"bilateral": 3}'})
    assert "bilateral" in r.content.decode() and "true or false" in r.content.decode()
