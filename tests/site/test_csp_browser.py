"""Under the Content-Security-Policy, in the system Chromium against a real `rvuedge serve`: rapid entry, the
dashboard's Chart.js chart, the htmx typeahead, the code page's history chart and the Swagger UI all work,
and the browser reports no violation (console messages and securitypolicyviolation events)."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from tests.conftest import sign_up

pytestmark = pytest.mark.browser

#: Records every violation the page itself sees (runs before any page script; CSP does not apply to it).
WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
});
"""


@pytest.fixture
def watched(page):
    messages: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    page.add_init_script(WATCH)
    page.csp_messages = messages
    return page


def assert_no_violation(page, where: str) -> None:
    seen = page.evaluate("window.__cspViolations || []")
    console = [m for m in page.csp_messages if "Content Security Policy" in m or "Content-Security-Policy" in m]
    errors = [m for m in page.csp_messages if m.startswith("pageerror")]
    assert not seen and not console and not errors, f"{where}: {seen} {console} {errors}"


def shot(page, name: str) -> None:
    page.screenshot(path=f"/tmp/csp-{name}.png", full_page=True, scale="css")


def test_the_served_policy_is_in_force(live_url):
    with urllib.request.urlopen(live_url + "/") as r:
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    # `rvuedge serve` runs with DEBUG off: a 404 is the site's page, listing no URL patterns.
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(live_url + "/no-such-page/")
    body = err.value.read().decode()
    assert err.value.code == 404 and "Page not found" in body and "URLconf" not in body


def test_an_inline_script_would_be_refused(live_url, watched):
    """The check can fail: an inline script injected into a served page is blocked and reported."""
    watched.goto(live_url + "/")
    watched.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';
                               document.body.appendChild(s); }""")
    watched.wait_for_function("window.__cspViolations.length > 0")
    assert watched.evaluate("window.__ran") is None


def test_rapid_entry_and_dashboard_chart_under_the_policy(live_url, watched):
    page = watched
    sign_up(page, live_url, prefix="csp")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_entry'")
    page.keyboard.type("99214 20610-rt")
    page.wait_for_selector(".check-total >> text=2.71 wRVU")  # htmx live check under the policy
    page.keyboard.press("Enter")
    page.wait_for_selector(".logged >> text=2.71 wRVU")
    shot(page, "log-entry")
    assert_no_violation(page, "/log/")

    page.goto(live_url + "/log/dashboard/")
    page.wait_for_function("() => !!(window.Chart && Chart.getChart(document.getElementById('wrvu-chart')))")
    shot(page, "dashboard")
    assert_no_violation(page, "/log/dashboard/")

    page.goto(live_url + "/accounts/profile/")
    page.fill("#tokens input[name=name], input[name=name]", "laptop")
    page.click("form[action$='/accounts/tokens/'] button[type=submit]")
    page.click("input.token-out")  # data-select-on-focus (js/site.js) selects the whole token
    assert page.evaluate("""() => { const el = document.querySelector('input.token-out');
        return el.value.length > 20 && el.selectionStart === 0 && el.selectionEnd === el.value.length; }""")
    assert_no_violation(page, "/accounts/profile/")


def test_typeahead_code_page_chart_and_api_docs_under_the_policy(live_url, watched):
    page = watched
    page.goto(live_url + "/codes/?q=knee")
    box = page.locator("input[role=combobox]").first
    box.click()
    box.press_sequentially(" arthro", delay=40)
    page.wait_for_selector('[role=listbox] .ta-item[href="/codes/27447/"]')
    shot(page, "typeahead")
    assert_no_violation(page, "/codes/?q=knee")

    page.goto(live_url + "/codes/27447/")
    page.locator("#history-chart").scroll_into_view_if_needed()
    assert page.locator("#history-chart svg polyline, #history-chart svg circle").count() > 0  # SVG, no script
    with page.expect_response(lambda r: "/payment/" in r.url and r.status == 200):
        page.select_option("#locality", "13202-01")
    page.wait_for_selector('#payment .pay-table th:has-text("Manhattan")')
    shot(page, "code-27447")
    assert_no_violation(page, "/codes/27447/")

    page.goto(live_url + "/api/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30000)  # Swagger UI rendered the operations
    assert "RVU Edge API" in page.inner_text(".swagger-ui .info")
    shot(page, "api-docs")
    assert_no_violation(page, "/api/docs")
