"""Rapid entry: one text box, Enter logs one encounter, credited by the engine with its explanation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from rvuedge.accounts.models import Profile
from rvuedge.logbook.models import Encounter, Favourite
from tests.personas import log, make_user

pytestmark = pytest.mark.django_db


def test_it_logs_an_encounter_with_its_credit(alice_client, alice):
    r = alice_client.post("/log/", {"entry": "99214 20610-rt", "date": "2025-03-04", "role": "performed",
                                    "idem": "form:1"})
    assert r.status_code == 302
    enc = Encounter.objects.get(user=alice)
    assert r["Location"] == f"/log/?logged={enc.pk}"
    assert enc.entry == "99214 20610-RT"
    assert enc.date == dt.date(2025, 3, 4)
    # RVU25A work RVUs: 99214 1.92, 20610 0.79 (an E/M is not ranked against the procedure).
    assert enc.total_wrvu == Decimal("2.71")
    assert enc.release == "RVU25A" and enc.policy_name == "cms_mirror" and enc.locality == "national"
    assert enc.setting == "non_facility"
    assert enc.total_payment == Decimal("188.58")
    lines = list(enc.lines.order_by("position"))
    assert [(ln.code, ln.modifiers, ln.units, ln.wrvu) for ln in lines] == [
        ("99214", "", 1, Decimal("1.92")), ("20610", "RT", 1, Decimal("0.79"))]
    assert lines[0].explanation["wrvu_steps"][0]["text"] == "work RVU 1.92"
    assert lines[0].explanation["payment_steps"][0]["rule"] == "FSA"
    assert enc.source["conversion_factor"] == "32.3465"
    page = alice_client.get(r["Location"]).content.decode()
    assert "Logged" in page and "2.71 wRVU" in page and "Undo" in page


def test_the_typed_date_wins(alice_client, alice):
    alice_client.post("/log/", {"entry": "99213 @2025-11-20", "date": "2025-03-04", "role": "performed"})
    assert Encounter.objects.get(user=alice).date == dt.date(2025, 11, 20)


def test_the_date_defaults_to_today(alice):
    from rvuedge.logbook.actions import EncounterInput, do_log_encounter

    enc, created = do_log_encounter(alice, EncounterInput(entry="99213"))
    assert created and enc.date == timezone.localdate()


def test_multiple_procedures_are_ranked(alice):
    enc = log(alice, "27447-50x2 20610-RT", date="2025-06-01", setting="facility")
    by_code = {ln.code: ln for ln in enc.lines.all()}
    assert by_code["20610"].wrvu_exact == Decimal("0.395")
    assert "rank" in by_code["20610"].explanation["wrvu_steps"][-1]["text"]


def test_an_unknown_code_gets_near_matches_and_nothing_is_stored(alice_client, alice):
    r = alice_client.post("/log/", {"entry": "99214 99915", "date": "2025-03-04", "role": "performed"})
    assert r.status_code == 422
    body = r.content.decode()
    assert "unknown code 99915" in body and "Did you mean" in body
    assert not Encounter.objects.exists()


def test_a_modifier_that_does_not_apply_gives_the_reason(alice_client):
    r = alice_client.post("/log/", {"entry": "99214-26", "date": "2025-03-04", "role": "performed"})
    assert r.status_code == 422
    assert "modifier 26 is not valid with PC/TC indicator 0" in r.content.decode()


def test_a_syntax_error_names_the_token(alice_client):
    r = alice_client.post("/log/", {"entry": "99214 2061", "date": "2025-03-04", "role": "performed"})
    assert r.status_code == 422
    assert "2061" in r.content.decode() and "5 characters" in r.content.decode()


def test_a_double_submit_logs_once(alice_client, alice):
    data = {"entry": "99213", "date": "2025-03-04", "role": "performed", "idem": "form:abc"}
    first = alice_client.post("/log/", data)
    second = alice_client.post("/log/", data)
    assert first["Location"] == second["Location"]
    assert Encounter.objects.filter(user=alice).count() == 1


def test_a_place_of_service_sets_the_setting(alice_client, alice):
    alice_client.post("/log/", {"entry": "99223", "date": "2025-03-04", "pos": "21", "role": "performed"})
    enc = Encounter.objects.get(user=alice)
    assert (enc.setting, enc.pos) == ("facility", "21")


def test_track_this_code_prefills_the_box(alice_client):
    body = alice_client.get("/log/?entry=27447").content.decode()
    assert 'value="27447 "' in body


def test_anonymous_users_are_sent_to_log_in_and_back(anon_client):
    r = anon_client.get("/log/?entry=27447")
    assert r.status_code == 302
    assert r["Location"].startswith("/accounts/login/?next=/log/%3Fentry%3D27447")


def test_check_shows_credit_explanation_near_matches_and_reasons(alice_client):
    r = alice_client.get("/log/check/", {"entry": "99214 99915 99213-26 2061 20610-rt 45378-50", "date": "2025-03-04"})
    body = r.content.decode()
    assert r.status_code == 200
    assert "1.92" in body and "work RVU 1.92" in body              # credit + explanation
    assert "unknown code 99915" in body and 'data-to="99215"' in body  # near match, one tap to fix
    assert "modifier 26 is not valid" in body                      # the reason a modifier does not apply
    assert "bilateral paid once" in body                           # accepted, with the engine's note
    assert "5 characters" in body                                  # syntax
    assert "20610-RT" in body and "The good lines credit" in body


def test_check_with_nothing_typed_is_empty(alice_client):
    assert alice_client.get("/log/check/", {"entry": " "}).content.decode().strip() == ""


def test_roles_are_offered_by_career_stage(client, db):
    student = make_user("stu", stage="student")
    client.force_login(student)
    body = client.get("/log/").content.decode()
    assert 'value="observed"' in body and 'value="supervised"' not in body
    assert "Case details" in body  # students and residents see the case fields at once


def test_the_role_defaults_by_career_stage(db):
    # By code kind (issue 15): an office visit is performed, surgery gets the usual surgical role (was "primary"
    # for every code a resident logged).
    resident = make_user("res", stage="resident")
    assert log(resident, "99213").role == "performed"
    assert log(resident, "27447", setting="facility").role == "primary"


def test_no_reductions_policy_credits_full_work(db):
    user = make_user("nr", credit_policy="no_reductions")
    enc = log(user, "27447 20610", setting="facility")
    assert enc.policy_name == "no_reductions"
    assert enc.total_wrvu == Decimal("20.39")  # 19.60 + 0.79, no multiple-procedure cut


def test_a_custom_policy_is_stored_with_the_encounter(db):
    spec = {"wrvu_profile": "cms_mirror", "multiple_procedure_wrvu_factor": "0.25"}
    user = make_user("cu", credit_policy="custom", custom_policy=spec)
    enc = log(user, "27447 20610", setting="facility")
    assert enc.policy == spec and enc.policy_name == "cms_mirror+custom"
    assert enc.total_wrvu == Decimal("19.80")  # 19.60 + 0.79 x 0.25 = 19.7975


def test_the_profile_locality_prices_payment(db):
    user = make_user("ny", default_locality="13202-01")
    enc = log(user, "99214")
    assert enc.locality == "13202-01"
    assert enc.total_payment > Decimal("125.18") and enc.total_wrvu == Decimal("1.92")


def test_favourites_and_recent_codes_are_one_tap_away(alice_client, alice):
    log(alice, "99213 20610-LT")
    r = alice_client.post("/log/favourites/", {"code": "27447-rt"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "★" in r.content.decode()
    assert Favourite.objects.filter(user=alice, code="27447-RT").exists()
    body = alice_client.get("/log/").content.decode()
    assert 'data-code="27447-RT"' in body and 'data-code="20610-LT"' in body and 'data-code="99213"' in body
    alice_client.post("/log/favourites/", {"code": "27447-RT"})
    assert not Favourite.objects.filter(user=alice).exists()


def test_the_release_in_force_on_the_date_credits(alice):
    from tests.logbook.test_preview import synthetic_release

    with synthetic_release("RVU26A", 2026, {"99214": "2.00"}):
        old = log(alice, "99214", date="2025-12-31")
        new = log(alice, "99214", date="2026-01-02")
        assert (old.release, old.total_wrvu) == ("RVU25A", Decimal("1.92"))
        assert (new.release, new.total_wrvu) == ("RVU26A", Decimal("2.00"))
        Profile.objects.filter(user=alice).update(default_release="RVU25A")
        alice.profile.refresh_from_db()
        fixed = log(alice, "99214", date="2026-01-02")
        assert fixed.release == "RVU25A"
