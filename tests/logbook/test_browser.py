"""The log in the system Chromium against a real `rvuedge serve`: sign up, log from the keyboard, see the credit on
the dashboard, edit, delete, undo; at desktop and phone widths (screenshots in docs/screenshots/)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import screenshot, sign_up

pytestmark = pytest.mark.browser


def _flow(page, live_url: str, prefix: str) -> None:
    # The box has focus on arrival (autofocus): type straight away, no tap or click first.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_entry'")
    page.keyboard.type("99214 20610-rt")
    page.wait_for_selector(".check-list li.ok >> text=20610-RT")
    page.wait_for_selector(".check-total >> text=2.71 wRVU")
    screenshot(page, f"{prefix}-log-typing")
    page.keyboard.press("Enter")
    page.wait_for_selector(".logged >> text=2.71 wRVU")
    screenshot(page, f"{prefix}-log-logged")

    page.goto(live_url + "/log/dashboard/")
    assert "2.71" in page.inner_text("#ytd")
    page.wait_for_function("document.querySelector('#wrvu-chart').getBoundingClientRect().height > 100")
    screenshot(page, f"{prefix}-dashboard")

    page.goto(live_url + "/log/history/")
    page.click("text=Edit")
    page.fill("#id_entry", "99215 20610-RT")
    page.wait_for_selector(".check-total >> text=3.59 wRVU")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/log/history/.*"))
    assert "99215 20610-RT" in page.inner_text("table.history") and "3.59" in page.inner_text("table.history")
    screenshot(page, f"{prefix}-history")

    page.click("table.history button:has-text('Delete')")
    page.wait_for_selector(".logged.undo")
    assert page.locator("table.history").count() == 0  # the only encounter is gone …
    screenshot(page, f"{prefix}-deleted-undo")
    page.click(".logged.undo button:has-text('Undo')")
    page.wait_for_selector("table.history >> text=99215 20610-RT")  # … and back


def test_desktop_sign_up_log_dashboard_edit_delete_undo(live_url, page):
    sign_up(page, live_url)
    _flow(page, live_url, "log-desktop")


def test_phone_sign_up_log_dashboard_edit_delete_undo(live_url, phone_page):
    sign_up(phone_page, live_url, stage="resident")
    _flow(phone_page, live_url, "log-phone")
    phone_page.goto(live_url + "/log/?entry=27447")
    phone_page.wait_for_selector(".check-list li.ok >> text=27447")
    screenshot(phone_page, "log-phone-track-this-code")


def test_near_matches_fix_a_typo_in_one_tap(live_url, page):
    sign_up(page, live_url)
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_entry'")
    page.keyboard.type("99915 20610-RT")
    page.wait_for_selector(".near-btn[data-to='99215']")
    screenshot(page, "log-desktop-near-match")
    page.click(".near-btn[data-to='99215']")
    assert page.input_value("#id_entry").startswith("99215 20610-RT")
    page.wait_for_selector(".check-total >> text=Enter logs")
