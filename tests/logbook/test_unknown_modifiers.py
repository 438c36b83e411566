"""An unknown modifier (27447-ZZ) is refused on every path, never credited at 100% nor learned as a favourite."""

from __future__ import annotations

import csv
import io
import json

import pytest

from rvuedge.fees.models import HcpcsModifier
from rvuedge.logbook import imports
from rvuedge.logbook.models import Encounter, EncounterLine, Favourite
from rvuedge.pricing.modifiers import CPT_MODIFIERS, ModifierCheck
from tests.personas import log

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("entry", ["27447-ZZ", "27447-5O", "99214 20610-WW", "27447-RT-ZZ", "27447-98"])
def test_rapid_entry_refuses_an_unknown_modifier(alice_client, alice, entry):
    r = alice_client.post("/log/", {"entry": entry, "date": "2025-03-04", "idem": f"form:{entry}"})
    assert r.status_code == 422
    assert "unknown modifier" in r.content.decode()
    assert not Encounter.objects.filter(user=alice).exists()


def test_check_marks_the_token_and_suggests_neighbours(alice_client):
    body = alice_client.get("/log/check/", {"entry": "99214 27447-5O", "date": "2025-03-04"}).content.decode()
    assert "27447-5O: unknown modifier 5O" in body
    assert "27447-50" in body  # did you mean


def test_api_refuses_an_unknown_modifier(alice_client, alice):
    for payload in ({"entry": "27447-ZZ", "date": "2025-03-04"},
                    {"lines": [{"code": "27447", "modifiers": ["ZZ"]}], "date": "2025-03-04"}):
        r = alice_client.post("/api/log/encounters", json.dumps(payload), content_type="application/json")
        assert r.status_code == 422, r.content
        assert "unknown modifier ZZ" in r.content.decode()
    assert not Encounter.objects.filter(user=alice).exists()


def test_known_cpt_and_hcpcs_modifiers_still_log(alice):
    assert HcpcsModifier.objects.filter(modifier="GC").exists()  # the HCPCS file of the test session
    enc = log(alice, "27447-RT-GC 99214-25 20610-59 64721-LT-XS", date="2025-03-04")
    assert enc.lines.count() == 4


def test_an_unknown_modifier_cannot_be_starred(alice_client, alice):
    r = alice_client.post("/log/favourites/", {"code": "27447-ZZ"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 400 and "unknown modifier ZZ" in r.content.decode()
    assert not Favourite.objects.filter(user=alice).exists()


def test_lines_stored_before_the_rule_are_never_offered_as_quick_picks(alice_client, alice):
    enc = log(alice, "27447-RT", date="2025-03-04")
    EncounterLine.objects.filter(encounter=enc).update(modifiers="ZZ")  # legacy data
    Favourite.objects.create(user=alice, code="20610-ZZ")
    body = alice_client.get("/log/").content.decode()
    assert 'data-code="27447-ZZ"' not in body and 'data-code="20610-ZZ"' not in body


def test_without_an_hcpcs_file_the_shipped_level_ii_list_still_knows_every_cms_modifier():
    # (was: letters the engine does not know were refused until `rvuedge data load-hcpcs`; the CMS HCPCS
    # modifier list now ships with the code, so a real modifier such as RR is known without the file)
    check = ModifierCheck()
    assert check.problem("GC") is None and check.problem("50") is None and check.problem("26") is None
    assert check.problem("RR") is None
    assert check.problem("ZZ") == "unknown modifier ZZ: not a CPT or HCPCS Level II modifier"
    assert check.problem("98") == "unknown modifier 98: not a CPT modifier"
    assert ModifierCheck(["ZZ"]).problem("ZZ") is None
    assert {"22", "25", "26", "50", "51", "59", "80"} <= CPT_MODIFIERS


def test_log_entry_api_and_import_refuse_an_unknown_modifier(alice, alice_client):
    r = alice_client.post("/log/", {"entry": "27447-5O", "date": "2025-03-04", "idem": "form:5O"})
    assert r.status_code == 422 and "unknown modifier 5O" in r.content.decode()
    r = alice_client.post("/api/log/encounters", json.dumps({"entry": "27447-5O", "date": "2025-03-04"}),
                          content_type="application/json")
    assert r.status_code == 422 and "27447-50" in r.json()["detail"]
    r = alice_client.post("/api/log/encounters", json.dumps({"entry": "99213-26", "date": "2025-03-04"}),
                          content_type="application/json")
    assert r.status_code == 422 and "99213's indicators allow 80, 81, 82, AS, 52, 53" in r.json()["detail"]
    buf = io.StringIO()
    csv.writer(buf).writerows([["Date", "Procedures"], ["2025-05-01", "27447-5O"], ["2025-05-02", "27447-RR"]])
    mapping = imports.guess_mapping(["Date", "Procedures"])
    report = imports.validate_import(alice, alice.profile, "csv", buf.getvalue().encode(), mapping)
    assert report.valid == 1 and len(report.errors) == 1
    assert "unknown modifier 5O" in report.errors[0]["message"] and "27447-50" in report.errors[0]["message"]
    assert not Encounter.objects.filter(user=alice).exists()
    assert log(alice, "27447-RT-GC 20610-XS", date="2025-03-04").lines.count() == 2
