"""Search -> typeahead -> code page -> locality -> payment -> history chart, in the system Chromium."""

from __future__ import annotations

import re

import pytest

from tests.conftest import SCREENSHOTS, screenshot

pytestmark = pytest.mark.browser


def _amount(page, setting: str) -> str:
    return page.inner_text(f'#payment td[data-row="27447"][data-setting="{setting}"] .amt')


def _pick_locality(page, value: str) -> None:
    """Choose a locality and wait for htmx to swap the payment box in place. Waiting for the response (not
    only for text that may already be on the page) keeps the next choice off a box about to be replaced."""
    with page.expect_response(lambda r: "/payment/" in r.url and r.status == 200):
        page.select_option("#locality", value)
    page.wait_for_function("() => !document.querySelector('#payment .htmx-request, #payment.htmx-swapping')")


def _change_locality_and_check(page) -> None:
    before = _amount(page, "facility")
    assert re.fullmatch(r"\$[0-9,]+\.[0-9]{2}", before)
    _pick_locality(page, "13202-01")
    page.wait_for_selector('#payment .pay-table th:has-text("Manhattan")')
    after = _amount(page, "facility")
    assert after != before and re.fullmatch(r"\$[0-9,]+\.[0-9]{2}", after)
    assert "Manhattan" in page.inner_text("#kf-pay")  # the header's key figure follows
    assert "Manhattan" in page.inner_text("#data-source")  # and so does the data source line
    chart = page.locator("#history-chart")
    chart.scroll_into_view_if_needed()
    assert chart.is_visible()
    box = page.locator("#history-chart svg").bounding_box()  # server-rendered SVG: drawn with no script
    assert box["height"] > 100 and box["width"] > 200
    assert page.evaluate("() => !window.Chart")  # no chart library on a code page


def _history_shot(page, name: str) -> None:
    """The history section alone (the server-rendered SVG chart above its table), kept for review."""
    section = page.locator("#history")
    section.scroll_into_view_if_needed()
    section.screenshot(path=str(SCREENSHOTS / f"{name}.png"), scale="css")


def test_search_pick_price_and_history_on_desktop(live_url, page):
    page.goto(live_url + "/")
    box = page.locator("#hq")
    box.click()
    box.press_sequentially("knee arthro", delay=40)
    page.wait_for_selector('#hq-list .ta-item[href="/codes/27447/"]')
    screenshot(page, "codes-typeahead-desktop")
    options = page.locator("#hq-list [role=option]")
    index = [options.nth(i).get_attribute("href") for i in range(options.count())].index("/codes/27447/")
    for _ in range(index + 1):
        box.press("ArrowDown")  # keyboard navigation: the active option follows the arrows
    assert page.locator("#hq-list [aria-selected=true]").get_attribute("href") == "/codes/27447/"
    box.press("Enter")
    page.wait_for_url(re.compile(r".*/codes/27447/$"))
    assert "Total knee" in page.inner_text("h1")
    assert "RVU25A" in page.inner_text(".code-source")
    _change_locality_and_check(page)
    page.goto(live_url + "/codes/27447/")  # the locality is remembered (cookie)
    assert "Manhattan" in page.inner_text("#payment .pay-table th")
    screenshot(page, "code-27447-desktop")
    _history_shot(page, "code-27447-history-desktop")
    page.goto(live_url + "/codes/0331T/")
    assert "Contractor priced" in page.inner_text("#payment")
    screenshot(page, "code-0331T-desktop")


def test_search_pick_price_and_history_on_a_phone(live_url, phone_page):
    page = phone_page
    page.goto(live_url + "/codes/")
    box = page.locator("#q")
    box.tap()
    box.press_sequentially("tka", delay=40)
    option = page.locator('#q-list .ta-item[href="/codes/27447/"]')
    option.wait_for()
    screenshot(page, "codes-typeahead-phone")
    option.tap()
    page.wait_for_url(re.compile(r".*/codes/27447/$"))
    _pick_locality(page, "national")
    page.wait_for_selector('#payment .pay-table th:has-text("National")')
    _change_locality_and_check(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    screenshot(page, "code-27447-phone")
    _history_shot(page, "code-27447-history-phone")
