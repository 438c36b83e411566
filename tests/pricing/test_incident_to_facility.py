"""Issue 12, item 5: an incident-to code (PC/TC 5) for a facility patient pays $0 (spec 1.5); its wRVU credit
follows the named policy option ``incident_to_facility_wrvu`` ("none" by default, or "full"), explained on the
line; and the code page says what the engine does (real RVU25A rows: 38228 with 3.00 work RVUs, 69209)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from rvuedge.fees.services import price_lines
from rvuedge.pricing import PolicyError, load_policy

pytestmark = pytest.mark.django_db
D = Decimal


def test_facility_pays_zero_and_credits_nothing_by_default():
    line = price_lines("38228", release="RVU25A", setting="facility").result.lines[0]
    assert line.payment == D("0.00") and line.wrvu_exact == 0
    assert "INCIDENT_TO_CODE_IN_FACILITY" in line.flags
    assert line.explanation[-1].amount == D("0.00")
    assert any("not payable for a facility patient" in s.text for s in line.explanation)
    assert line.wrvu_steps[-1].text == ("PC/TC 5 incident-to code for a facility patient: no wRVU credit (policy "
                                        "incident_to_facility_wrvu: none)")


def test_full_credit_policy_credits_the_work_rvu_and_still_pays_zero():
    policy = load_policy({"incident_to_facility_wrvu": "full"})
    result = price_lines("38228x2", release="RVU25A", setting="facility", policy=policy).result
    line = result.lines[0]
    assert line.payment == D("0.00")
    assert line.wrvu_exact == D("6.00") and result.total_wrvu == D("6.00")  # 3.00 work RVU x 2 units
    assert line.wrvu_steps[-1].text == ("PC/TC 5 incident-to code for a facility patient: full work RVU credited "
                                        "(policy incident_to_facility_wrvu: full)")


def test_non_facility_is_paid_and_credited_as_usual():
    for policy in (None, {"incident_to_facility_wrvu": "full"}):
        line = price_lines("38228", release="RVU25A", setting="non_facility", policy=policy).result.lines[0]
        assert line.payment > 0 and line.wrvu_exact == D("3.00")
        assert "INCIDENT_TO_CODE_IN_FACILITY" not in line.flags


def test_the_option_refuses_other_values_naming_the_field():
    with pytest.raises(PolicyError) as info:
        load_policy({"incident_to_facility_wrvu": "half"})
    assert "incident_to_facility_wrvu" in str(info.value) and "none, full" in str(info.value)
    assert load_policy({}).incident_to_facility_wrvu == "none"
    assert load_policy("cms_mirror").to_dict()["incident_to_facility_wrvu"] == "none"


def _text(path: str) -> str:
    body = Client().get(path).content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_code_page_says_what_the_engine_does():
    text = _text("/codes/69209/")
    assert "Medicare prices it at the non-facility rate" not in text
    assert "the non-facility rate applies" not in text
    assert ("Incident-to code (PC/TC 5): Medicare does not pay it for a facility patient (hospital inpatient or "
            "outpatient), so the facility payment is $0.00") in text
    assert "it is not paid for a facility patient: the facility payment is $0.00" in text


def test_a_facility_na_code_that_is_not_incident_to_keeps_its_note():
    text = _text("/codes/74263/")  # facility NA, PC/TC 1: priced at the non-facility rate in a facility
    assert "Medicare prices it at the non-facility rate" in text
    assert "Incident-to code (PC/TC 5)" not in text
