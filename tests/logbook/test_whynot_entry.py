"""Warnings while logging (issue 16): the rapid-entry check partial, the API ``check`` endpoint and saving.

The rules read the user's own log: 27447 logged on 1 March 2025 makes a 99213 typed for 20 March a visit inside
its 90-day global period (ending 30 May 2025). Warnings never block: the encounter still logs.
"""

from __future__ import annotations

import json

import pytest

from rvuedge.accounts.services import do_create_token
from rvuedge.logbook.models import Encounter
from tests.personas import log

pytestmark = pytest.mark.django_db


def test_api_check_warns_with_rule_source_and_fix(alice, client):
    log(alice, "27447", date="2025-03-01")
    _token, plain = do_create_token(alice, "script")
    r = client.post("/api/log/check", json.dumps({"entry": "99213", "date": "2025-03-20"}),
                    content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert r.status_code == 200
    data = r.json()
    assert data["ok"] is True  # a warning, not an error
    [f] = data["findings"]
    assert f["rule"] == "em_in_global" and f["modifiers"] == ["24"]
    assert "27447" in f["message"] and "ends 30 May 2025" in f["message"]
    assert f["source"].startswith("RVU25A 27447: GLOB DAYS 090")
    assert data["items"][0]["findings"] == [f]
    r = client.post("/api/log/check", json.dumps({"entry": "99213-24", "date": "2025-03-20"}),
                    content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert r.json()["findings"] == []


def test_api_check_same_encounter_rules(alice, client):
    _token, plain = do_create_token(alice, "script")
    r = client.post("/api/log/check", json.dumps({"entry": "43239 43235 11045", "date": "2025-03-20"}),
                    content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {plain}")
    rules = {(f["line"], f["rule"]) for f in r.json()["findings"]}
    # 11045 is an add-on; 43239 is not its primary but the files do not list primaries, so any code that day counts
    assert rules == {("43235", "endo_base_with_family")}
    r = client.post("/api/log/check", json.dumps({"entry": "11045", "date": "2025-03-20"}),
                    content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert [f["rule"] for f in r.json()["findings"]] == ["addon_without_primary"]


def test_html_check_shows_the_warning_and_logging_still_works(alice, alice_client):
    log(alice, "27447", date="2025-03-01")
    r = alice_client.get("/log/check/", {"entry": "99213", "date": "2025-03-20"})
    html = r.content.decode()
    assert r.status_code == 200
    assert 'class="whynot"' in html and "E/M visit inside your own global period" in html
    assert "needs -24" in html and "Source:" in html and "RVU25A 27447: GLOB DAYS 090" in html
    before = Encounter.objects.filter(user=alice).count()
    log(alice, "99213", date="2025-03-20")  # warned, never blocked
    assert Encounter.objects.filter(user=alice).count() == before + 1


def test_another_users_log_gives_no_warning(alice, bob, bob_client):
    log(alice, "27447", date="2025-03-01")
    html = bob_client.get("/log/check/", {"entry": "99213", "date": "2025-03-20"}).content.decode()
    assert 'class="whynot"' not in html


def test_import_preview_lists_warnings_by_row(alice, alice_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from rvuedge.logbook import imports
    from rvuedge.logbook.models import ImportBatch

    log(alice, "27447", date="2025-03-01")  # already in the log: context for the file's rows
    data = (b"dos,cpt,mod\n2025-03-20,99213,\n2025-03-20,99214,24\n2025-06-01,11045,\n2025-06-02,11042,\n"
            b"2025-06-02,11045,\n")
    report = imports.validate_import(alice, alice.profile, "csv", data, {"date": "dos", "code": "cpt",
                                                                         "modifiers": "mod"})
    assert report.valid == 5 and report.error_count == 0  # warnings never make a row an error
    assert [(w["row"], w["rule"]) for w in report.warnings] == [(2, "em_in_global"), (4, "addon_without_primary")]
    assert report.warning_count == 2
    # the page shows them
    alice_client.post("/log/import/", {"file": SimpleUploadedFile("rows.csv", data, content_type="text/csv")})
    batch = ImportBatch.objects.filter(user=alice).latest("created_at")
    r = alice_client.post(f"/log/import/{batch.pk}/", {"map_date": "dos", "map_code": "cpt", "map_modifiers": "mod",
                                                       "action": "preview"})
    html = r.content.decode()
    assert "Might not be credited: 2 warnings" in html and "Add-on code without a primary procedure" in html
    # confirming imports every row anyway
    alice_client.post(f"/log/import/{batch.pk}/", {"map_date": "dos", "map_code": "cpt", "map_modifiers": "mod",
                                                   "action": "confirm"})
    assert Encounter.objects.filter(user=alice).count() == 6
