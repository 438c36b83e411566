"""Issue 14: the log's entry box offers the code search. Type words, pick a code with the keyboard or a tap;
at desktop and phone widths (screenshots in docs/screenshots/)."""

from __future__ import annotations

import pytest

from tests.conftest import screenshot, sign_up

pytestmark = pytest.mark.browser


def test_words_in_the_entry_box_offer_codes_to_pick_with_the_keyboard(page, live_url):
    sign_up(page, live_url)
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_entry'")
    page.keyboard.type("99214 knee injection")
    page.wait_for_selector("#entry-suggest [role=option] >> text=20610")
    box = page.locator("#id_entry")
    assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "true"
    assert page.locator("#entry-suggest").get_attribute("role") == "listbox"
    assert "codes match" in page.inner_text("#entry-suggest-status")
    screenshot(page, "desktop-log-entry-search")
    first = page.inner_text("#entry-suggest [role=option] >> nth=0 >> .es-code")
    page.keyboard.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == "entry-opt-0"
    assert page.get_attribute("#entry-opt-0", "aria-selected") == "true"
    page.keyboard.press("Enter")  # picks the code; does not submit the form
    assert box.input_value() == f"99214 {first} "
    assert page.locator("#entry-suggest").is_hidden() and box.get_attribute("aria-expanded") == "false"
    page.wait_for_selector(f".check-list li.ok >> text={first}")
    page.keyboard.press("Enter")  # now the box holds codes only: Enter logs them
    page.wait_for_selector(".logged")
    assert first in page.inner_text(".logged")


def test_escape_closes_and_codes_alone_ask_nothing(page, live_url):
    sign_up(page, live_url)
    box = page.locator("#id_entry")
    box.type("lumbar puncture")
    page.wait_for_selector("#entry-suggest [role=option] >> text=62270")
    page.keyboard.press("Escape")
    assert page.locator("#entry-suggest").is_hidden()
    box.fill("")
    box.type("99213 20610-RT")
    page.wait_for_selector(".check-list li.ok >> text=20610-RT")
    assert page.locator("#entry-suggest").is_hidden()


def test_a_tap_picks_a_code_on_a_phone(phone_page, live_url):
    page = phone_page
    sign_up(page, live_url)
    page.locator("#id_entry").type("c-section")
    page.wait_for_selector("#entry-suggest [role=option] >> text=59510")
    screenshot(page, "phone-log-entry-search")
    option = page.locator("#entry-suggest [role=option]", has_text="59510")
    assert option.bounding_box()["height"] >= 44  # a comfortable tap target
    option.tap()
    assert page.locator("#id_entry").input_value() == "59510 "
    page.wait_for_selector(".check-list li.ok >> text=59510")


def test_search_results_for_everyday_words(page, phone_page, live_url):
    page.goto(live_url + "/codes/?q=knee+injection")
    assert "20610" in page.inner_text("main")
    screenshot(page, "desktop-search-everyday-words")
    phone_page.goto(live_url + "/codes/?q=EKG")
    assert "93000" in phone_page.inner_text("main")
    screenshot(phone_page, "phone-search-everyday-words")
