"""Shared fixtures: where the real CMS files are, and a test database with RVU25A loaded once."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# Chromium, sign_up and wait_until are written once, in bench/_common.py, for the browser tests and for the
# benchmarks that drive the same pages (bench/offline.py); the browser tests import them from here.
from bench._common import CHROMIUM, CHROMIUM_ARGS, sign_up, wait_until  # noqa: F401 - re-exported
from tests.personas import *  # noqa: F403 - the personas (alice, bob, their clients, anon_client) for every test

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


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load RVU25A and the 2026 HCPCS file once per test session; each test rolls back on top of it."""
    from rvuedge.fees.importer import load_hcpcs, load_release

    if not RVU25A_ZIP.exists():
        pytest.fail(f"The real CMS files are missing: expected {RVU25A_ZIP} (set RVUEDGE_CMS_DATA)")
    with django_db_blocker.unblock():
        load_release(str(RVU25A_ZIP))
        load_hcpcs(str(CMS_DIR / "hcpcs2026jan" / "HCPC2026_JAN_ANWEB_01122026.txt"))
        # Editorial code content and the search index, once per session.
        from rvuedge.codes.content import load_code_content

        load_code_content()
    yield


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
