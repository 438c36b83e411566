"""Shared fixtures: where the real CMS files are, and the fee data every database test runs on.

Which fee data to use for what:

* **Pure unit tests** (engine, rules, pace, parsing) use no database: the fee set of ``tests/synthetic.py``
  (``fee_set_lookup()``, ``fee_set_gpci()``, ``FEE_SET_CF``) or the rule tests' table
  (``tests/pricing/fixture_rows.py``) as a ``DictLookup``.
* **Database tests that need only a handful of codes** (log sums, paging, pace, actions, API shape,
  permissions) mark their module ``pytestmark = [pytest.mark.django_db, pytest.mark.synthetic_fees]``: they run on
  that same fee set, loaded through the real importer (``load_release``) as release RVU25A, and nothing else (no
  HCPCS file, no editorial content). Expected figures are worked out from the fee set's rows in the test.
* **Everything else** (the default) runs on the real files: RVU25A, the January 2026 HCPCS file and the
  editorial code content. Tests of real CMS values (vectors, sweeps, every code, imports, real layouts, code
  pages) stay here.

The data set is chosen per module (``_fee_data``) and committed outside the tests' transactions, so each test
rolls back on top of it. Synthetic modules run first, so a full run loads each data set once (the fee set, then
RVU25A in its place); a synthetic module run on its own never loads RVU25A, which saves about three seconds of
setup. Should the order interleave anyway, each switch drops one data set and loads the other: slower, still
right. A module mixing the two is refused at collection.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# Chromium, sign_up and wait_until are written once, in bench/_common.py, for the browser tests and for the
# benchmarks that drive the same pages (bench/offline.py); the browser tests import them from here.
from bench._common import CHROMIUM, CHROMIUM_ARGS, sign_up, wait_until  # noqa: F401 - re-exported
from tests.personas import *  # noqa: F403 - the personas (alice, bob, their clients, anon_client) for every test
from tests.synthetic import FEE_SET_RELEASE, fee_set_zip

# No wall-clock deadline on property tests: timings are measured by bench/, never asserted in tests (a loaded CI
# machine made 200 ms deadlines fail on correct code). Examples per test stay Hypothesis's default.
hypothesis_settings.register_profile("rvuedge", deadline=None)
hypothesis_settings.load_profile("rvuedge")

PROJECT = Path(__file__).resolve().parents[1]


def _cms_dir() -> Path:
    return Path(os.environ.get("RVUEDGE_CMS_DATA") or PROJECT.parent / "shared" / "data" / "cms")


CMS_DIR = _cms_dir()
RVU25A_ZIP = CMS_DIR / "rvu25a" / "RVU25A.zip"


@pytest.fixture(scope="session")
def cms_dir() -> Path:
    if not RVU25A_ZIP.exists():
        pytest.fail(f"The real CMS files are missing: expected {RVU25A_ZIP} (set RVUEDGE_CMS_DATA)")
    return CMS_DIR


# --------------------------------------------------------------------------- fee data in the test database

SYNTHETIC = "synthetic_fees"  # the marker of modules that run on the synthetic fee set
_MODULE_DATA: dict[str, str] = {}  # module node id -> "synthetic" or "real", for modules with database tests
_LOADED: dict[str, str | None] = {"data": None}  # what the test database holds now


def _data_set(item: pytest.Item) -> str | None:
    """The fee data a test needs: None when it uses no database."""
    if item.get_closest_marker("django_db") is None and "django_db_setup" not in item.fixturenames:
        return None
    return "synthetic" if item.get_closest_marker(SYNTHETIC) else "real"


@pytest.hookimpl(trylast=True)  # after -m/-k deselection: only the tests that will run count
def pytest_collection_modifyitems(config, items):
    """Record each module's data set (refusing a module that mixes them) and run synthetic modules first."""
    _MODULE_DATA.clear()
    mixed = set()
    for item in items:
        data = _data_set(item)
        if data is None:
            continue
        module = item.getparent(pytest.Module).nodeid
        if _MODULE_DATA.setdefault(module, data) != data:
            mixed.add(module)
    if mixed:
        raise pytest.UsageError(f"mark the whole module {SYNTHETIC} or none of it: " + ", ".join(sorted(mixed)))
    items.sort(key=lambda item: item.get_closest_marker(SYNTHETIC) is None)  # stable: order kept otherwise


@pytest.fixture(scope="module", autouse=True)
def _fee_data(request):
    """Before a module's first database test: make the test database hold the module's data set."""
    data = _MODULE_DATA.get(request.node.nodeid)
    if data is not None and _LOADED["data"] != data:
        request.getfixturevalue("django_db_setup")
        with request.getfixturevalue("django_db_blocker").unblock():
            _load(data)
    yield


def _load(data: str) -> None:
    # Imported here: Django is set up by pytest-django only after this conftest is imported.
    from rvuedge.codes import search
    from rvuedge.codes.content import load_code_content
    from rvuedge.codes.models import CodeContent
    from rvuedge.fees.importer import load_hcpcs, load_release
    from rvuedge.fees.models import HcpcsRelease, Release
    from rvuedge.fees.services import clear_caches

    if data == "real" and not RVU25A_ZIP.exists():
        pytest.fail(f"The real CMS files are missing: expected {RVU25A_ZIP} (set RVUEDGE_CMS_DATA)")
    _LOADED["data"] = None
    # A new test database holds nothing; a switch drops the other data set first (the loads rebuild the index).
    Release.objects.all().delete()
    HcpcsRelease.objects.all().delete()
    CodeContent.objects.all().delete()
    if data == "real":
        load_release(str(RVU25A_ZIP))
        load_hcpcs(str(CMS_DIR / "hcpcs2026jan" / "HCPC2026_JAN_ANWEB_01122026.txt"))
        load_code_content()  # the editorial code pages and the search index
    else:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "fee-set.zip"
            path.write_bytes(fee_set_zip())
            result = load_release(str(path))
        assert result.release.name == FEE_SET_RELEASE, result.release.name
    clear_caches()
    search.forget_version()
    _LOADED["data"] = data


@pytest.fixture
def rvu26c(db, cms_dir):
    """RVU26C loaded from its PPRRVU file alone (no GPCI, OPPSCAP or ANES file of its own), for one test: every
    cache of what is loaded (price lookups, the code pages' data version and caches) is dropped before and after,
    so the release is seen now and is not seen once the test's transaction is rolled back."""
    from rvuedge.codes import search
    from rvuedge.fees.importer import load_release
    from rvuedge.fees.services import clear_caches

    def forget() -> None:
        clear_caches()
        search.forget_version()  # every code-reference cache is keyed by the data version

    load_release(str(cms_dir / "rvu26c" / "PPRRVU2026_Jul_nonQPP.csv"), release_name="RVU26C")
    forget()
    yield
    forget()


# --------------------------------------------------------------------------- browser tests
# Key pages are driven in the system Chromium through Playwright, against a real `rvuedge serve`
# process with its own database (a temporary SQLite file, or a fresh PostgreSQL database when
# DATABASE_URL is set), so the pytest database and its per-test rollback stay untouched.

SCREENSHOTS = PROJECT / "docs" / "screenshots"
LIVE_ENV: dict[str, str] = {}  # the environment of the `live_url` server (RVUEDGE_DATA_DIR, DATABASE_URL)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_url(tmp_path_factory, cms_dir):
    """Base URL of a real `rvuedge serve` (gunicorn) with RVU25A loaded."""
    import subprocess
    import sys
    import time
    import urllib.request

    env = dict(os.environ)
    data_dir = tmp_path_factory.mktemp("live")
    env["RVUEDGE_DATA_DIR"] = str(data_dir)
    env["DJANGO_SETTINGS_MODULE"] = "rvuedge.settings"
    pg_admin = pg_name = None
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        import psycopg

        pg_admin = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
        pg_name = f"rvuedge_live_{os.getpid()}"
        with psycopg.connect(pg_admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {pg_name}")
            conn.execute(f"CREATE DATABASE {pg_name}")
        env["DATABASE_URL"] = pg_admin.rsplit("/", 1)[0] + "/" + pg_name
    else:
        env.pop("DATABASE_URL", None)
    LIVE_ENV.update(env)  # lets a browser test run `rvuedge` commands against the served database
    port = _free_port()
    log = open(data_dir / "serve.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "rvuedge.cli", "serve", "--data", str(RVU25A_ZIP), "--port", str(port),
         "--workers", "2"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=2)
            break
        except Exception:  # noqa: BLE001 - keep polling until the server answers
            if proc.poll() is not None or time.time() > deadline:
                log.flush()
                raise RuntimeError("rvuedge serve did not start:\n" + (data_dir / "serve.log").read_text()) from None
            time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    if pg_admin and pg_name:
        import psycopg

        with psycopg.connect(pg_admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("RVUEDGE_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under docs/screenshots/ (kept for review)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # One image pixel per CSS pixel: a phone's 2x or 3x density would make long pages several MB, and the
    # repository keeps no file over 1 MiB.
    page.screenshot(path=str(path), full_page=True, scale="css")
    size = path.stat().st_size
    assert size < 1024 * 1024, f"{path.name} is {size:,} bytes; the repository keeps no file over 1 MiB"
    return path


# --------------------------------------------------------------------------- browser helpers, shared by the browser tests
# (with sign_up and wait_until, imported at the top from bench/_common.py)


def log_in_box(page, text: str) -> None:
    """Type an entry in the rapid-entry box, wait for its live check, press Enter and wait for the receipt."""
    page.fill("#id_entry", text)
    page.wait_for_selector(".check-total")
    page.keyboard.press("Enter")
    page.wait_for_selector(".logged")


def save_contract(page, live_url: str, **fields: str) -> str:
    """Fill the new-contract form (``name="Memorial 2025", tier1_rate="55"``: each field by its id without
    ``id_``), save it and wait for the contract's page; returns the contract's id."""
    page.goto(live_url + "/benchmarks/contracts/new/")
    for name, value in fields.items():
        page.fill(f"#id_{name}", value)
    page.click("text=Save contract")
    page.wait_for_url(re.compile(r".*/benchmarks/contracts/\d+/$"))
    return re.search(r"/contracts/(\d+)/", page.url).group(1)


def upload_report(page, name: str, body: bytes, label: str = "", refused: bool = False) -> str:
    """On the reconcile page, upload an employer's report (CSV ``body`` as file ``name``) with its label. Waits for
    the reconciliation and returns its id; with ``refused``, waits for the form's error and returns its text."""
    page.set_input_files("input[name=file]", files=[{"name": name, "mimeType": "text/csv", "buffer": body}])
    if label:
        page.fill("input[name=label]", label)
    page.click("button:has-text('Upload and reconcile')")
    if refused:
        return page.wait_for_selector(".form-error").inner_text()
    page.wait_for_url(re.compile(r".*/log/reconcile/\d+/$"))
    return re.search(r"/reconcile/(\d+)/", page.url).group(1)
