"""The home page through a real `rvuedge serve` and the system Chromium."""

from __future__ import annotations

import pytest

from tests.conftest import screenshot

pytestmark = pytest.mark.browser


def test_home_lists_the_loaded_release(live_url, page):
    page.goto(live_url + "/")
    assert "RVU25A" in page.inner_text("body")
    screenshot(page, "home-desktop")
