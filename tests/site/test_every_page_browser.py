"""Every page, anonymous and signed in, in the system Chromium at 360 px wide: nothing is wider than the screen
(document scrollWidth <= viewport width) and axe-core finds every control labelled (no "label", "button-name" or
"select-name" violation). axe-core is vendored under tests/vendor/axe-core/ (MPL-2.0; see its README)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CMS_DIR, LIVE_ENV, PROJECT, log_in_box, save_contract, sign_up, upload_report

pytestmark = pytest.mark.browser

WIDTH = 360
AXE = (Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js").read_text()
#: The axe rules this test enforces: every form control and button has an accessible name.
RULES = ["label", "button-name", "select-name"]

ANONYMOUS = [
    "/", "/codes/?q=knee+replacement", "/codes/?q=99213", "/codes/browse/", "/codes/99213/", "/codes/27447/",
    "/codes/G0439/", "/codes/71046/", "/students/", "/residents/", "/attendings/", "/resources/",
    "/resources/how-wrvus-work/", "/resources/modifiers-guide/", "/resources/gpci-explainer/",
    "/resources/check-your-rvu-report/", "/blog/", "/support/", "/data/", "/benchmarks/", "/accounts/login/",
    "/accounts/signup/", "/accounts/password-reset/", "/no-such-page/", "{section}", "{group}", "{post}",
]
SIGNED_IN = [
    "/log/", "/log/?entry=27447", "/log/history/", "/log/dashboard/", "/log/trash/", "/log/cases/",
    "/log/import/", "/log/import/{batch}/", "/log/reconcile/", "/log/reconcile/{reconcile}/", "/log/e/{enc}/",
    "/log/e/{enc}/edit/", "/log/preview/", "/accounts/profile/", "/accounts/password/",
    "/benchmarks/", "/benchmarks/sources/{source}/", "/benchmarks/contracts/", "/benchmarks/contracts/new/",
    "/benchmarks/contracts/{contract}/", "/benchmarks/contracts/{contract}/edit/",
    "/benchmarks/contracts/compare/", "/codes/27447/",
]

REPORT = b"""Provider,DOS,CPT Code,Mod 1,Units,wRVU
Dr A,03/02/2025,99214,25,1,1.92
Dr A,03/04/2025,27447,,1,9.80
"""
IMPORT = b"Date,Procedures,Notes\n2025-05-01,99214 20610-RT,\n2025-05-02,99999,\n"


def _rvuedge(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "rvuedge.cli", *args], env=LIVE_ENV, cwd=PROJECT,
                          capture_output=True, text=True, check=True)
    return done.stdout


def _context(browser, **kw):
    # bypass_csp: the site's CSP (rightly) refuses injected scripts; axe is injected by the test, not the site
    return browser.new_context(viewport={"width": WIDTH, "height": 780}, is_mobile=True, has_touch=True,
                               bypass_csp=True, **kw)


@pytest.fixture(scope="module")
def member(live_url, browser, tmp_path_factory):
    """A signed-in member with one of everything (encounters, a contract, an import, a reconciliation, a benchmark
    source), as a Playwright storage state and the ids the pages need."""
    synth = tmp_path_factory.mktemp("synth") / "synthetic_medicare_D23.csv"
    _rvuedge("benchmarks", "synth", str(synth), "--rows", "3000", "--release-file",
             str(CMS_DIR / "rvu25a" / "PPRRVU25_JAN.csv"))
    # a long source name: the source <select> grows with its longest option (it once made /benchmarks/ 509 px wide)
    _rvuedge("benchmarks", "build-medicare", str(synth), "--release", "RVU25A", "--source",
             "Synthetic Medicare sample (test data, not real): Medicare Physician & Other Practitioners "
             "by Provider and Service, every specialty")
    context = _context(browser)
    page = context.new_page()
    page.set_default_timeout(20000)
    sign_up(page, live_url)
    for text in ("99214-25 20610-RT @2025-03-02", "27447 @2025-03-04", f"99213 @{dt.date.today().isoformat()}"):
        log_in_box(page, text)
    page.goto(live_url + "/log/history/")
    enc = re.search(r"/log/e/(\d+)/", page.content()).group(1)

    contract = save_contract(page, live_url, name="Memorial 2025", start="2025-01-01", base_salary="240000",
                             tier1_rate="55")

    page.goto(live_url + "/log/import/")
    page.locator("input[type=file]").first.set_input_files(
        files=[{"name": "old-log.csv", "mimeType": "text/csv", "buffer": IMPORT}])
    page.click("button:has-text('Upload and map columns')")
    page.wait_for_url(re.compile(r".*/log/import/\d+/$"))
    batch = re.search(r"/import/(\d+)/", page.url).group(1)

    page.goto(live_url + "/log/reconcile/")
    reconcile = upload_report(page, "march-2025.csv", REPORT)

    page.goto(live_url + "/benchmarks/")
    source = page.eval_on_selector("select[name=source] option", "o => o.value")
    state = context.storage_state()
    context.close()
    return {"state": state, "ids": {"enc": enc, "contract": contract, "batch": batch, "reconcile": reconcile,
                                    "source": source}}


def _check(page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status in (200, 404), f"{url}: HTTP {response and response.status}"
    page.wait_for_load_state("networkidle")
    # against the screen's 360 px, not window.innerWidth: a mobile browser widens its layout viewport (zooming
    # out) to fit a page that overflows, and innerWidth follows it
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(f"""() => [...document.querySelectorAll('body *')]
        .filter(el => el.getBoundingClientRect().right > {WIDTH} + 0.5 && el.getClientRects().length)
        .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                         (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '')
                         + ' ' + Math.round(el.getBoundingClientRect().right))""")
    assert width <= WIDTH, f"{url} is {width} px wide on a {WIDTH} px screen: {wide}"
    assert page.locator("h1").count() == 1, f"{url} has {page.locator('h1').count()} <h1>, not one"
    page.evaluate(AXE)
    result = page.evaluate("rules => axe.run(document, {runOnly: {type: 'rule', values: rules}})", RULES)
    problems = [f"{v['id']} ({v['help']}): {n['target']}"
                for v in result["violations"] for n in v["nodes"]]
    assert not problems, f"{url}: " + "; ".join(problems)


@pytest.fixture(scope="module")
def found(live_url) -> dict[str, str]:
    """A browse section, a browse group and a blog post, as the site links them."""
    import urllib.request

    def first(path: str, pattern: str) -> str:
        html = urllib.request.urlopen(live_url + path, timeout=30).read().decode()
        return re.search(pattern, html).group(0).strip('"')

    section = first("/codes/browse/", r'"/codes/browse/[a-z0-9-]+/"')
    return {"section": section, "group": first(section, r'"/codes/browse/[a-z0-9-]+/[a-z0-9-]+/"'),
            "post": first("/blog/", r'"/blog/[a-z0-9-]+/"')}


@pytest.mark.parametrize("path", ANONYMOUS)
def test_anonymous_page_fits_a_phone_and_labels_every_control(live_url, browser, found, path):
    context = _context(browser)
    page = context.new_page()
    page.set_default_timeout(20000)
    try:
        _check(page, live_url + path.format(**found))
    finally:
        context.close()


@pytest.mark.parametrize("path", SIGNED_IN)
def test_signed_in_page_fits_a_phone_and_labels_every_control(live_url, browser, member, path):
    context = _context(browser, storage_state=member["state"])
    page = context.new_page()
    page.set_default_timeout(20000)
    try:
        _check(page, live_url + path.format(**member["ids"]))
    finally:
        context.close()
