"""History: filters, edit (re-credit only when the credit inputs change), delete with undo, trash, bulk.

Runs on the synthetic fee set (tests/synthetic.py), not RVU25A. Figures are its work RVUs: 99213 1.30,
27447 19.11, 20610 0.77 + 99214 1.92 (one procedure beside a visit: no reduction), 99215 2.65; 99999 is no code.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta as td
from decimal import Decimal

import pytest
from django.utils import timezone

from rvuedge.logbook.actions import do_purge_trash
from rvuedge.logbook.models import Encounter, EncounterLine
from tests.personas import log
from tests.synthetic import FEE_SET_RELEASE

pytestmark = [pytest.mark.django_db, pytest.mark.synthetic_fees]


@pytest.fixture
def three(alice):
    return [
        log(alice, "99213", date="2025-01-10", site="Clinic A", role="performed", category="Office"),
        log(alice, "27447-RT", date="2025-02-10", site="Main OR", role="primary", category="Arthroplasty",
            setting="facility"),
        log(alice, "20610-LT 99214", date="2025-03-10", site="Clinic B", role="assisted", category="Injection"),
    ]


def _entries(client, **params) -> list[str]:
    r = client.get("/log/history/", params)
    assert r.status_code == 200
    return [e.entry for e in r.context["encounters"]]


def test_it_lists_newest_first_with_totals(alice_client, three):
    r = alice_client.get("/log/history/")
    assert [e.entry for e in r.context["encounters"]] == ["20610-LT 99214", "27447-RT", "99213"]
    assert r.context["total_n"] == 3 and r.context["total_wrvu"] == Decimal("23.10")  # 1.30 + 19.11 + 2.69


@pytest.mark.parametrize("params,expected", [
    ({"start": "2025-02-01"}, ["20610-LT 99214", "27447-RT"]),
    ({"end": "2025-02-10"}, ["27447-RT", "99213"]),
    ({"code": "20610"}, ["20610-LT 99214"]),
    ({"site": "clinic"}, ["20610-LT 99214", "99213"]),
    ({"role": "primary"}, ["27447-RT"]),
    ({"category": "arthro"}, ["27447-RT"]),
])
def test_filters(alice_client, three, params, expected):
    assert _entries(alice_client, **params) == expected


def test_edit_labels_keeps_the_credit(alice_client, alice, three):
    enc = three[0]
    Encounter.objects.filter(pk=enc.pk).update(policy_name="frozen-at-log-time")
    r = alice_client.post(f"/log/e/{enc.pk}/edit/", {"entry": "99213", "date": "2025-01-10", "role": "performed",
                                                     "site": "Clinic C", "notes": "follow-up"})
    assert r.status_code == 302
    enc.refresh_from_db()
    assert enc.site == "Clinic C" and enc.notes == "follow-up"
    assert enc.policy_name == "frozen-at-log-time"  # not re-credited


def test_edit_codes_recredits(alice_client, three):
    enc = three[0]
    r = alice_client.post(f"/log/e/{enc.pk}/edit/", {"entry": "99215", "date": "2025-01-11", "role": "performed"})
    assert r.status_code == 302
    enc.refresh_from_db()
    assert enc.entry == "99215" and enc.date == dt.date(2025, 1, 11) and enc.total_wrvu == Decimal("2.65")
    assert list(EncounterLine.objects.filter(encounter=enc).values_list("code", "date")) == [
        ("99215", dt.date(2025, 1, 11))]


def test_edit_refuses_bad_input_and_changes_nothing(alice_client, three):
    enc = three[0]
    r = alice_client.post(f"/log/e/{enc.pk}/edit/", {"entry": "99999", "date": "2025-01-10", "role": "performed"})
    assert r.status_code == 422 and "unknown code" in r.content.decode()
    enc.refresh_from_db()
    assert enc.entry == "99213"


def test_detail_shows_the_explanation(alice_client, three):
    body = alice_client.get(f"/log/e/{three[2].pk}/").content.decode()
    assert "work RVU 0.77" in body and FEE_SET_RELEASE in body and "cms_mirror" in body  # 20610's line


def test_delete_then_undo(alice_client, alice, three):
    enc = three[1]
    r = alice_client.post(f"/log/e/{enc.pk}/delete/", {"next": "/log/history/"})
    assert r.status_code == 302 and r["Location"] == f"/log/history/?deleted={enc.pk}"
    page = alice_client.get(r["Location"])
    assert "Undo" in page.content.decode() and enc.entry not in [e.entry for e in page.context["encounters"]]
    assert enc.entry in alice_client.get("/log/trash/").content.decode()
    alice_client.post("/log/restore/", {"ids": str(enc.pk)})
    assert Encounter.objects.get(pk=enc.pk).deleted_at is None
    assert "27447-RT" in _entries(alice_client)


def test_the_trash_keeps_30_days(alice, three):
    now = timezone.now()
    Encounter.objects.filter(pk=three[0].pk).update(deleted_at=now - td(days=31))
    Encounter.objects.filter(pk=three[1].pk).update(deleted_at=now - td(days=29))
    assert do_purge_trash(alice) == 1
    assert set(Encounter.objects.values_list("pk", flat=True)) == {three[1].pk, three[2].pk}


def test_the_purge_command(alice, three):
    from django.core.management import call_command

    Encounter.objects.filter(pk=three[0].pk).update(deleted_at=timezone.now() - td(days=40))
    call_command("logbook", "purge-trash")
    assert not Encounter.objects.filter(pk=three[0].pk).exists()


def test_bulk_delete_and_undo(alice_client, three):
    ids = [three[0].pk, three[2].pk]
    r = alice_client.post("/log/bulk/", {"ids": ids, "action": "delete", "next": "/log/history/"})
    assert r["Location"] == f"/log/history/?deleted={ids[0]},{ids[1]}"
    assert _entries(alice_client) == ["27447-RT"]
    alice_client.post("/log/restore/", {"ids": ids})
    assert len(_entries(alice_client)) == 3


def test_bulk_set_category(alice_client, three):
    alice_client.post("/log/bulk/", {"ids": [three[0].pk, three[1].pk], "action": "set", "field": "category",
                                     "value": "Clinic day"})
    assert _entries(alice_client, category="clinic day") == ["27447-RT", "99213"]


def test_bulk_set_refuses_phi(alice_client, three):
    alice_client.post("/log/bulk/", {"ids": [three[0].pk], "action": "set", "field": "site", "value": "MRN 1234567"})
    assert Encounter.objects.get(pk=three[0].pk).site == "Clinic A"


def test_pagination(alice_client, alice):
    for i in range(55):
        log(alice, "99212", date=dt.date(2025, 1, 1) + td(days=i))
    r = alice_client.get("/log/history/")
    assert len(r.context["encounters"]) == 50 and r.context["page"].has_next()
    assert len(alice_client.get("/log/history/?page=2").context["encounters"]) == 5
