"""Reconciling in the system Chromium against a real `rvuedge serve`: log a week, upload the employer's report,
read the differences, download them (screenshots in docs/screenshots/)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import log_in_box, save_contract, screenshot, sign_up, upload_report

pytestmark = pytest.mark.browser

REPORT = b"""Provider,DOS,CPT Code,Mod 1,Units,wRVU
Dr A,03/02/2025,99214,25,1,1.92
Dr A,03/02/2025,20610,RT,1,0.79
Dr A,03/03/2025,99213,,1,1.30
Dr A,03/04/2025,27447,,1,9.80
Dr A,03/05/2025,99204,,1,2.60
"""


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_upload_a_report_and_see_what_was_missed(request, live_url, device):
    page = request.getfixturevalue("page" if device == "desktop" else "phone_page")
    sign_up(page, live_url)
    for text in ("99214-25 20610-RT @2025-03-02", "99214 @2025-03-03", "27447 @2025-03-04", "11042 @2025-03-04"):
        log_in_box(page, text)
    save_contract(page, live_url, name="Memorial 2025", start="2025-01-01", base_salary="240000",
                  tier1_rate="55")  # $55 a wRVU from the first one
    page.goto(live_url + "/log/")
    page.click("nav.log-nav >> text=Reconcile")
    page.wait_for_url(re.compile(r".*/log/reconcile/$"))
    upload_report(page, "march-2025.csv", REPORT, "March 2025 billing report")
    table = page.inner_text("table.recon")
    for expected in ("Missing from the report", "11042", "Different code", "99213", "Different credit", "9.80",
                     "Not in your log", "99204"):
        assert expected in table
    assert "Matched" not in table  # differences first; matched services are one tab away
    # 9.80 + 0.62 + 1.01 wRVU not credited, at $55 a wRVU (2025 is over: no projection)
    assert "11.43" in page.inner_text(".stat-row") and "$628.65" in page.inner_text(".stat-row")
    screenshot(page, f"reconcile-{device}")
    page.click("nav.tabs >> text=All")
    page.wait_for_selector("table.recon >> text=Matched")
    with page.expect_download() as dl:
        page.click("text=Download differences (CSV)")
    assert dl.value.suggested_filename == "reconciliation-2025-03-02-2025-03-05.csv"

    # A file with a patient-identifier column is refused, with the reason; the list keeps the first report.
    page.click("nav.log-nav >> text=Reconcile")
    error = upload_report(page, "with-mrn.csv", b"DOS,MRN,CPT\n03/02/2025,00123456,99214\n", refused=True)
    assert "column B ('MRN') looks like a patient identifier" in error
    assert "March 2025 billing report" in page.inner_text("table.data")
    screenshot(page, f"reconcile-upload-{device}")
