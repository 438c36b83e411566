"""What the wRVUs an employer's report did not credit are worth under the clinician's contract."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from rvuedge.benchmarks import services
from rvuedge.logbook.actions import do_upload_report
from rvuedge.logbook.queries import reconciliation
from tests.personas import log

pytestmark = pytest.mark.django_db

REPORT = b"DOS,CPT,wRVU\n2025-03-02,99214,1.92\n2025-03-04,27447,9.80\n"


@pytest.fixture
def alices_march(alice):
    log(alice, "99214", date="2025-03-02")
    log(alice, "27447", date="2025-03-04", setting="facility")  # the report credits 9.80 of 19.60
    log(alice, "11042", date="2025-03-04", setting="facility")  # missing from the report
    log(alice, "99213", date="2025-06-10")  # later in the year: counts toward the year, not missed
    return alice


def _contract(user, **terms):
    return services.do_save_contract(user, name="Memorial 2025", start=dt.date(2025, 1, 1), end=None,
                                     terms={"tiers": [{"rate": "50"}], **terms})


def test_a_flat_rate_values_every_missed_wrvu_at_that_rate(alices_march):
    alice = alices_march
    _contract(alice)
    rec = reconciliation(alice, do_upload_report(alice, "march.csv", REPORT)[0])
    missed = rec.missing_wrvu
    assert missed == Decimal("19.60") - Decimal("9.80") + Decimal("1.01")
    v = services.value_of_missed(alice, rec.missed_by_date(), today=dt.date(2026, 12, 5))
    assert v is not None and not v["projected"] and v["wrvu"] == missed and v["outside"] == 0
    assert v["amount"] == missed * 50
    assert (v["year_start"], v["year_end"]) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def test_below_the_threshold_missed_wrvus_are_worth_nothing_this_year(alices_march):
    alice = alices_march
    _contract(alice, threshold="4500")
    rec = reconciliation(alice, do_upload_report(alice, "march.csv", REPORT)[0])
    v = services.value_of_missed(alice, rec.missed_by_date(), today=dt.date(2026, 12, 5))
    assert v["amount"] == 0 and v["wrvu"] == rec.missing_wrvu


def test_a_running_year_values_the_missed_wrvus_once_where_the_year_is_heading(alices_march):
    alice = alices_march
    _contract(alice, tiers=[{"up_to": "50", "rate": "50"}, {"rate": "80"}])
    rec = reconciliation(alice, do_upload_report(alice, "march.csv", REPORT)[0])
    # On 2025-03-31 the year to date (1.92 + 19.60 + 1.01 = 22.53 wRVU logged since 2 March) projects past the
    # 50-wRVU tier, into tier 2: the 10.81 missed wRVUs are worth tier 2's rate once (not scaled up as a pace).
    v = services.value_of_missed(alice, rec.missed_by_date(), today=dt.date(2025, 3, 31))
    assert v["projected"] and v["amount"] == rec.missing_wrvu * 80
    # Valued at the end of the year instead (only 22.53 + 1.30 = 23.83 wRVU in all of 2025): tier 1.
    done = services.value_of_missed(alice, rec.missed_by_date(), today=dt.date(2026, 1, 15))
    assert not done["projected"] and done["amount"] == rec.missing_wrvu * 50


def test_without_a_contract_there_is_no_value_and_no_card(alices_march, alice_client):
    alice = alices_march
    report, _ = do_upload_report(alice, "march.csv", REPORT)
    assert services.value_of_missed(alice, reconciliation(alice, report).missed_by_date()) is None
    assert "At your contract" not in alice_client.get(f"/log/reconcile/{report.pk}/").content.decode()
    _contract(alice)
    page = alice_client.get(f"/log/reconcile/{report.pk}/").content.decode()
    assert "At your contract" in page and "Memorial 2025" in page
    assert f"${reconciliation(alice, report).missing_wrvu * 50:,}" in page
    api = alice_client.get(f"/api/log/reconciliations/{report.pk}").json()["contract_value"]
    assert api["contract"] == "Memorial 2025" and api["amount"] == str(reconciliation(alice, report).missing_wrvu * 50)
