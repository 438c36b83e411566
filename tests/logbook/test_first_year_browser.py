"""The first year in the system Chromium: a resident in their first week and an attending who joined on
1 September with prior wRVUs, dashboard and Cases page at phone and desktop widths (docs/screenshots/first-year-*);
and the entry box clearing a stale error as soon as the text changes."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import save_contract, screenshot, sign_up

pytestmark = pytest.mark.browser


def _profile(page, live_url: str, **fields: str) -> None:
    page.goto(live_url + "/accounts/profile/")
    for name, value in fields.items():
        if name == "minimums_set":
            page.select_option(f"#id_{name}", value)
        else:
            page.fill(f"#id_{name}", value)
    with page.expect_navigation():
        page.click("text=Save profile")


def _log(page, live_url: str, entry: str, day: dt.date, role: str = "") -> None:
    page.goto(live_url + "/log/")
    page.fill("#id_entry", f"{entry} @{day.isoformat()}")
    if role:
        page.select_option("#id_role", role)
    with page.expect_navigation():
        page.press("#id_entry", "Enter")


def _monday_of_this_week() -> dt.date:
    today = dt.date.today()
    return today - dt.timedelta(days=today.weekday())


def _resident_first_week(page, live_url: str, prefix: str) -> None:
    sign_up(page, live_url, "resident", "General Surgery", prefix="fy")
    start = _monday_of_this_week()
    page.goto(live_url + "/log/cases/")
    page.wait_for_selector("[data-testid=cases-start]")
    assert "Pick your programme's minimums set" in page.inner_text("body")
    screenshot(page, f"{prefix}-cases-newcomer")
    _profile(page, live_url, start_date=start.isoformat(), minimums_set="Example Surgery (not real minimums)")
    days = [start + dt.timedelta(days=i) for i in range(min(3, (dt.date.today() - start).days + 1))]
    for i, day in enumerate(days):
        _log(page, live_url, ["47562", "49505-RT", "99223"][i % 3], day)
    page.goto(live_url + "/log/dashboard/")
    proj = page.inner_text("[data-testid=projection]")
    assert "No projection yet" in proj and "10 working days" in proj
    assert "Attending wRVU percentiles are not a yardstick for residents" in page.inner_text("body")
    assert page.locator("#bm-chart").count() == 0
    screenshot(page, f"{prefix}-dashboard")
    page.goto(live_url + "/log/cases/")
    page.wait_for_selector("text=Progress toward minimums")
    assert page.locator("[data-testid=cases-start]").count() == 0
    screenshot(page, f"{prefix}-cases")


def _attending_joined_september(page, live_url: str, prefix: str) -> None:
    sign_up(page, live_url, "attending", "Orthopedic Surgery", prefix="fy")
    year = dt.date.today().year
    start = dt.date(year, 9, 1)
    _profile(page, live_url, start_date=start.isoformat(), prior_ytd_wrvu="2100")
    today = dt.date.today()
    day = start + dt.timedelta(days=1)
    n = 0
    while day <= today and n < 10:  # a case day every other week since joining
        _log(page, live_url, "27447-RT 99223" if n % 2 == 0 else "27130 99214", day)
        day += dt.timedelta(days=10)
        n += 1
    _log(page, live_url, "27447-LT", min(today, start + dt.timedelta(days=3)), role="first_assist")
    save_contract(page, live_url, name="Joined in September", start=start.isoformat(), base_salary="240000",
                  threshold="300", tier1_rate="55")
    page.goto(live_url + "/log/dashboard/")
    body = page.inner_text("body")
    proj = page.inner_text("[data-testid=projection]")
    if n >= 3 and (today - start).days >= 14:
        assert "at your pace since Sep 1" in proj and "since your start date" in proj and "2,100.00 wRVU before it" in proj
    assert "includes 2,100.00 before your start date" in body
    screenshot(page, f"{prefix}-dashboard")
    page.goto(live_url + "/log/cases/")
    assert "Case minimums are for residents" in page.inner_text("body")
    screenshot(page, f"{prefix}-cases")


def test_resident_first_week_desktop(live_url, page):
    _resident_first_week(page, live_url, "first-year-resident-desktop")


def test_resident_first_week_phone(live_url, phone_page):
    _resident_first_week(phone_page, live_url, "first-year-resident-phone")


def test_attending_joined_september_desktop(live_url, page):
    _attending_joined_september(page, live_url, "first-year-attending-desktop")


def test_attending_joined_september_phone(live_url, phone_page):
    _attending_joined_september(phone_page, live_url, "first-year-attending-phone")


def test_the_entry_box_clears_a_stale_error_as_soon_as_the_text_changes(live_url, page):
    sign_up(page, live_url, "attending", "", prefix="fy")
    page.fill("#id_entry", "99999")
    with page.expect_navigation():
        page.press("#id_entry", "Enter")
    assert page.locator("#entry-form > ul.errorlist").count() == 1  # the server refused it
    page.press("#id_entry", "End")
    page.press("#id_entry", "Backspace")
    assert page.input_value("#id_entry") == "9999"
    assert page.locator("#entry-form > ul.errorlist").count() == 0  # gone at the first keystroke
