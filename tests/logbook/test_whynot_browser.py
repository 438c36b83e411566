"""Issue 16 in the system Chromium against a real `rvuedge serve`, phone (390 px) and desktop: the billing rules warn
while typing in the entry box, and reconciliation says why each difference happened (screenshots in
docs/screenshots/whynot-*.png)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SCREENSHOTS, log_in_box, screenshot, sign_up, upload_report

pytestmark = pytest.mark.browser
REPORT = (Path(__file__).parent / "reports" / "all_reasons.csv").read_bytes()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_warnings_while_typing_never_block(request, live_url, device):
    page = request.getfixturevalue("page" if device == "desktop" else "phone_page")
    sign_up(page, live_url)
    log_in_box(page, "27447 @2025-03-01")
    page.fill("#id_entry", "99213 @2025-03-20")
    warning = page.wait_for_selector(".whynot[data-rule=em_in_global]")
    text = warning.inner_text()
    assert "E/M visit inside your own global period" in text and "needs -24" in text
    assert "27447" in text and "90-day global ends 30 May 2025" in text and "RVU25A 27447: GLOB DAYS 090" in text
    screenshot(page, f"whynot-entry-{device}")
    page.keyboard.press("Enter")  # a warning, not an error: it logs
    page.wait_for_selector(".logged")
    page.fill("#id_entry", "99213-24 @2025-03-21")
    page.wait_for_selector(".check-total")
    assert page.query_selector(".whynot") is None  # the modifier answers the rule


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_reconciliation_reasons(request, live_url, device):
    page = request.getfixturevalue("page" if device == "desktop" else "phone_page")
    sign_up(page, live_url)
    for text in ("99212 @2025-02-26", "99213 @2025-02-27", "20610-RT 20610-LT @2025-03-01", "43239 43235 @2025-03-05",
                 "99213 @2025-03-10", "99203 @2025-03-11", "99215 @2025-03-14", "96365 @2025-03-19", "99213 @2025-03-20",
                 "27447 @2025-03-25", "99213 @2025-03-27", "93000 @2025-03-30"):
        log_in_box(page, text)
    page.goto(live_url + "/log/reconcile/")
    upload_report(page, "all_reasons.csv", REPORT, "March 2025 (posted)")
    summary = page.inner_text("#reasons")
    for title in ("Inside a global period without the modifier", "Endoscopy base bundled into its family",
                  "Downcoded", "Billed under another provider", "Employer's wRVU already adjusted",
                  "Posted after the report's period", "Posted before the report's period", "Voided in the report",
                  "Bilateral as RT + LT vs -50", "No rule explains this; ask billing"):
        assert title in summary, title
    table = page.inner_text("table.recon")
    assert "Why: Inside a global period without the modifier." in table and "post-op day 2 of 27447" in table
    assert "line 6 transaction T104: charge 99203" in table
    screenshot(page, f"whynot-reconcile-{device}")
    # the summary and the first reasons alone, readable at the device's width
    page.locator("#reasons").screenshot(path=str(SCREENSHOTS / f"whynot-reconcile-summary-{device}.png"), scale="css")
    page.locator("table.recon tbody tr.note-row").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / f"whynot-reconcile-rows-{device}.png"), scale="css")
