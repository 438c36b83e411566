"""Roles fit the service: defaults by code kind, the portal's labels, and credit by role from the credit policy
(assistant at surgery 16% per modifier 80, co-surgeon 62.5% per modifier 62), explained on the line.

Runs on the synthetic fee set (tests/synthetic.py), not RVU25A: its 27447 allows an assistant (ASST SURG 2) and
a co-surgeon (CO-SURG 1) as the real row does; every credit here is a share of the primary surgeon's credit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from rvuedge.logbook import queries, roles
from rvuedge.logbook.models import EncounterLine
from tests.personas import log, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.synthetic_fees]


def test_pure_defaults_by_code_kind():
    assert roles.default_role("resident", "", ["99214"]) == "performed"
    assert roles.default_role("resident", "", ["27447"]) == "primary"
    assert roles.default_role("attending", "first_assist", ["99214", "20610"]) == "first_assist"
    assert roles.default_role("attending", "first_assist", ["99213"]) == "performed"
    assert roles.default_role("student", "", ["27447"]) == "observed"
    assert roles.is_em("99214") and not roles.is_surgical("99214") and roles.is_surgical("27447")


def test_an_office_visit_defaults_to_performed_and_surgery_to_the_usual_role(db):
    res = make_user("r1", stage="resident", surgical_role="first_assist")
    assert log(res, "99214").role == "performed"
    knee = log(res, "27447-RT", setting="facility")
    assert knee.role == "first_assist"


def test_first_assist_is_credited_as_assistant_at_surgery_and_says_so(db, client):
    att = make_user("a1")
    primary = log(att, "27447-RT", setting="facility", role="primary")
    assist = log(att, "27447-RT", setting="facility", role="first_assist")
    full = primary.total_wrvu
    assert full == Decimal("19.11")  # 27447's work RVU in the fee set
    assert assist.total_wrvu == (full * Decimal("0.16")).quantize(Decimal("0.01"))  # 16% (cms_mirror)
    assert assist.total_wrvu == Decimal("3.06")  # 19.11 x 0.16 = 3.0576
    line = EncounterLine.objects.get(encounter=assist)
    assert line.modifiers == "RT"  # stored as typed: the role is on the encounter
    assert line.explanation["role"] == "First assist: −84%: assistant at surgery, modifier 80 (credit policy ×0.16)"
    client.force_login(att)
    assert "−84%: assistant at surgery, modifier 80" in client.get(f"/log/e/{assist.pk}/").content.decode()


def test_co_surgeon_is_credited_62_5_percent(db):
    att = make_user("a2")
    primary = log(att, "27447-RT", setting="facility", role="primary")
    co = log(att, "27447-RT", setting="facility", role="co_surgeon")
    assert co.total_wrvu == (primary.total_wrvu_exact * Decimal("0.625")).quantize(Decimal("0.01"))
    assert "−37.5%: co-surgeon, modifier 62" in EncounterLine.objects.get(encounter=co).explanation["role"]


def test_the_credit_policy_decides_what_a_role_does(db):
    att = make_user("a3", credit_policy="no_reductions")
    primary = log(att, "27447-RT", setting="facility", role="primary")
    assist = log(att, "27447-RT", setting="facility", role="first_assist")
    assert assist.total_wrvu == primary.total_wrvu
    assert "no reduction" in EncounterLine.objects.get(encounter=assist).explanation["role"]


def test_roles_never_touch_office_visits_or_lines_with_their_own_modifier(db):
    att = make_user("a4")
    visit = log(att, "99214", role="first_assist")
    assert visit.total_wrvu == log(att, "99214", role="performed").total_wrvu
    typed = log(att, "27447-80", setting="facility", role="first_assist")  # the modifier was typed
    assert "role" not in EncounterLine.objects.get(encounter=typed).explanation


def test_what_if_recredits_with_the_role(db):
    att = make_user("a5")
    log(att, "27447-RT", setting="facility", role="first_assist", date="2025-03-04")
    res = queries.what_if(att, att.profile, dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert res["difference"] == 0  # the same credit when nothing changes


def test_the_live_check_credits_the_picked_role(db, client):
    att = make_user("a6")
    client.force_login(att)
    body = client.get("/log/check/", {"entry": "27447-RT", "date": "2025-03-04", "setting": "facility",
                                      "role": "first_assist"}).content.decode()
    assert "−84%: assistant at surgery, modifier 80" in body


def test_the_entry_form_offers_the_default_by_code(db, client):
    res = make_user("r2", stage="resident")
    client.force_login(res)
    page = client.get("/log/").content.decode()
    assert "By code (E/M: performed; surgery: your usual role)" in page
    assert "Co-surgeon" in page


def test_what_if_and_contracts_recredit_alike_role_included(db):
    from rvuedge.benchmarks import services

    att = make_user("a7", credit_policy="no_reductions")
    enc = log(att, "27447-RT", setting="facility", role="first_assist", date="2025-03-04")
    contract = services.do_save_contract(att, name="Mirror", start=dt.date(2025, 1, 1), end=None,
                                         terms={"rate": "50", "credit_policy": "cms_mirror"})
    daily, notes = services.daily_credit(att, dt.date(2025, 1, 1), dt.date(2025, 12, 31), contract.get_terms())
    preview = queries.what_if(att, att.profile, dt.date(2025, 1, 1), dt.date(2025, 12, 31), policy="cms_mirror")
    assert notes == [] and daily == [(dt.date(2025, 3, 4), preview["what_if_total"])]
    assert preview["what_if_total"] == (enc.total_wrvu * Decimal("0.16")).quantize(Decimal("0.01"))


def test_roles_credited_in_full_say_why_on_the_line(db):
    att = make_user("a9")
    primary = log(att, "27447-RT", setting="facility", role="primary")
    teaching = log(att, "27447-RT", setting="facility", role="supervised")
    helped = log(att, "27447-RT", setting="facility", role="assisted")
    assert teaching.total_wrvu == helped.total_wrvu == primary.total_wrvu
    assert "role" not in EncounterLine.objects.get(encounter=primary).explanation
    note = EncounterLine.objects.get(encounter=teaching).explanation["role"]
    assert note.endswith("no reduction: the teaching physician bills the service in full (modifier GC)")
    assert "log First assist to credit as assistant at surgery" in EncounterLine.objects.get(
        encounter=helped).explanation["role"]
    # an office visit in those roles is a visit: nothing to explain
    assert "role" not in EncounterLine.objects.get(encounter=log(att, "99214", role="supervised")).explanation
