"""Sign up, log work, enter a contract: the dashboard shows projected pay and the percentile chart."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from tests.conftest import CMS_DIR, LIVE_ENV, PROJECT, screenshot

pytestmark = pytest.mark.browser


def rvuedge(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "rvuedge.cli", *args], env=LIVE_ENV, cwd=PROJECT,
                          capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture(scope="module")
def medicare_source(live_url, tmp_path_factory):
    """Medicare-only percentiles built from a small synthetic file into the served database."""
    path = tmp_path_factory.mktemp("synth") / "synthetic_medicare_D23.csv"
    rvuedge("benchmarks", "synth", str(path), "--rows", "20000", "--release-file",
            str(CMS_DIR / "rvu25a" / "PPRRVU25_JAN.csv"))
    rvuedge("benchmarks", "build-medicare", str(path), "--release", "RVU25A", "--source",
            "Synthetic Medicare sample (test data, not real)")
    return path


def test_contract_then_dashboard_shows_projected_pay_and_percentile_chart(live_url, page, medicare_source):
    today = dt.date.today()
    page.goto(live_url + "/accounts/signup/?next=/log/")
    page.fill("#id_username", "drsynth")
    page.fill("#id_email", "drsynth@example.org")
    page.fill("#id_password1", "a-long-test-passphrase-42")
    page.fill("#id_password2", "a-long-test-passphrase-42")
    page.fill("#id_specialty", "Family Medicine")
    page.click("button[type=submit]")
    page.wait_for_url(live_url + "/log/**")

    # A few weeks of work spread over the year so far (surgical pairs make a visible pace).
    for i in range(12):
        day = today - dt.timedelta(days=7 + i * max(1, (today.timetuple().tm_yday - 10) // 12))
        if day.year != today.year:
            day = today
        page.fill("#id_entry", f"27447 27130 99223 @{day.isoformat()}")
        with page.expect_navigation():  # a plain POST + redirect: wait for it before typing the next one
            page.press("#id_entry", "Enter")

    page.goto(live_url + "/benchmarks/contracts/new/")
    page.fill("#id_name", "Hospital contract")
    page.fill("#id_start", f"{today.year}-01-01")
    page.fill("#id_base_salary", "240000")
    page.fill("#id_threshold", "300")
    page.fill("#id_tier1_up_to", "1000")
    page.fill("#id_tier1_rate", "55")
    page.fill("#id_tier2_rate", "65")
    page.fill("#id_draw_amount", "20000")
    page.select_option("#id_draw_true_up", "quarter")
    screenshot(page, "benchmarks-contract-form")
    page.click("text=Save contract")
    page.wait_for_url("**/benchmarks/contracts/*/")
    assert "Projected year" in page.inner_text("body")
    page.fill("input[name=wrvus]", "7,500")
    page.press("input[name=wrvus]", "Enter")
    page.wait_for_selector("[data-testid=what-if]")
    assert "Total pay: $" in page.inner_text("body")
    screenshot(page, "benchmarks-contract")

    page.goto(live_url + "/log/dashboard/")
    panel = page.locator("[data-testid=benchmarks-panel]")
    panel.scroll_into_view_if_needed()
    projected = page.inner_text("[data-testid=projected-pay]")
    assert projected.startswith("$") and int(projected.strip("$").replace(",", "").split(".")[0]) > 240000 * 0.9
    assert "tracking" in page.inner_text("[data-testid=tracking]")
    page.wait_for_function("document.getElementById('bm-chart') && document.getElementById('bm-chart').dataset.drawn")
    assert page.locator("#bm-chart").bounding_box()["height"] > 100
    assert "Synthetic Medicare sample" in panel.inner_text()
    screenshot(page, "benchmarks-dashboard")

    page.goto(live_url + "/benchmarks/")
    page.wait_for_function("document.getElementById('bm-chart').dataset.drawn")
    assert "Medicare-only wRVUs" in page.inner_text("body")
    screenshot(page, "benchmarks-page")

    # An offer entered as contract JSON, then the side-by-side comparison of the last 12 months.
    page.goto(live_url + "/benchmarks/contracts/new/")
    page.fill("#id_name", "Offer: tiered, no reductions")
    page.fill("#id_start", f"{today.year + 1}-01-01")
    page.check("#id_is_offer")
    page.click("text=Contract JSON (advanced)")
    page.fill("#id_terms_json", '{"base_salary": "200000", "tiers": [{"up_to": "300", "rate": "60"}, '
                                '{"rate": "80"}], "credit_policy": "no_reductions"}')
    page.click("text=Save contract")
    page.wait_for_url("**/benchmarks/contracts/*/")
    page.goto(live_url + "/benchmarks/contracts/compare/")
    table = page.inner_text("[data-testid=comparison]")
    assert "Hospital contract" in table and "Offer: tiered, no reductions" in table and "Total pay" in table
    screenshot(page, "benchmarks-compare")
