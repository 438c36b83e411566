"""Security headers and page hygiene: the Content-Security-Policy, no inline script anywhere, private pages are
never cached, /api/docs from our own static files, the API never answers with a traceback, no URL patterns on
a 404, and `rvuedge serve` runs with DEBUG off unless asked."""

from __future__ import annotations

import os
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

from rvuedge.accounts.services import do_create_token
from rvuedge.middleware import PRIVATE_CACHE_CONTROL
from tests.personas import log

pytestmark = pytest.mark.django_db

#: <script type=…> values that are data, not code (the browser never runs them; CSP does not apply).
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


class PageScan(HTMLParser):
    """Collects what a Content-Security-Policy without 'unsafe-inline' scripts would block, and every URL."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.inline_scripts: list[str] = []
        self.handlers: list[str] = []
        self.urls: list[str] = []
        self.script_srcs: list[str] = []
        self._in_inline = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name.startswith("on") or name.startswith("hx-on"):
                self.handlers.append(f"<{tag} {name}={value!r}>")
            if name in {"href", "src", "action", "formaction"} and value:
                self.urls.append(value)
                if value.strip().lower().startswith("javascript:"):
                    self.handlers.append(f"<{tag} {name}={value!r}>")
        if tag == "script":
            if attrs.get("src"):
                self.script_srcs.append(attrs["src"])
            elif (attrs.get("type") or "").strip().lower() not in DATA_SCRIPT_TYPES:
                self._in_inline = True
                self.inline_scripts.append("")

    def handle_data(self, data):
        if self._in_inline:
            self.inline_scripts[-1] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline = False


def scan(response) -> PageScan:
    parser = PageScan()
    parser.feed(response.content.decode())
    return parser


# --------------------------------------------------------------------------- Content-Security-Policy


def test_the_policy_allows_scripts_from_our_own_files_only():
    policy = directives(settings.CONTENT_SECURITY_POLICY)
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["default-src"] and "'unsafe-eval'" not in str(policy)


@pytest.mark.parametrize("path", ["/", "/codes/27447/", "/codes/?q=knee", "/api/docs", "/api/codes/27447",
                                  "/accounts/login/", "/no-such-page/"])
def test_csp_header_on_public_pages(client, path):
    r = client.get(path)
    assert r.status_code in {200, 404}, path
    assert r["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", ["/log/", "/log/dashboard/", "/accounts/profile/", "/benchmarks/contracts/"])
def test_csp_header_on_signed_in_pages(alice_client, path):
    r = alice_client.get(path)
    assert r.status_code == 200
    assert r["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY


PUBLIC_PAGES = ["/", "/codes/27447/", "/codes/27447/?locality=13202-01", "/codes/99214/", "/codes/?q=knee",
                "/codes/browse/", "/students/", "/residents/", "/attendings/", "/resources/", "/blog/",
                "/support/", "/benchmarks/", "/accounts/login/", "/accounts/signup/", "/accounts/password-reset/",
                "/api/docs", "/admin/login/", "/no-such-page/", "/codes/00000/"]
PRIVATE_PAGES = ["/log/", "/log/history/", "/log/dashboard/", "/log/trash/", "/log/preview/", "/log/import/",
                 "/log/cases/", "/log/reconcile/", "/accounts/profile/", "/accounts/password/",
                 "/benchmarks/contracts/", "/benchmarks/contracts/new/", "/benchmarks/", "/codes/27447/"]


def _assert_no_inline_script(r, path):
    assert r.status_code in {200, 404}, (path, r.status_code)
    found = scan(r)
    assert not [s for s in found.inline_scripts], f"{path}: inline <script> {found.inline_scripts[:1]}"
    assert not found.handlers, f"{path}: inline handlers {found.handlers}"
    return found


def test_no_inline_script_on_public_pages(client):
    for path in PUBLIC_PAGES:
        found = _assert_no_inline_script(client.get(path), path)
        for src in found.script_srcs:  # every script is one of our own static files
            assert src.startswith(settings.STATIC_URL), (path, src)


def test_no_inline_script_on_signed_in_pages(alice, alice_client):
    import datetime as dt

    from rvuedge.benchmarks.services import do_save_contract
    from rvuedge.logbook.actions import do_upload_report

    enc = log(alice, "27447 99214-25", date="2025-03-04")
    log(alice, "20610-RT", date="2025-03-05")
    contract = do_save_contract(alice, name="Memorial 2025", start=dt.date(2025, 1, 1), end=None,
                                terms={"tiers": [{"rate": "50"}]})
    report = do_upload_report(alice, "march.csv", b"DOS,CPT,wRVU\n2025-03-04,27447,9.80\n")[0]
    pages = [*PRIVATE_PAGES, f"/benchmarks/contracts/{contract.pk}/", f"/benchmarks/contracts/{contract.pk}/edit/",
             f"/log/e/{enc.pk}/", f"/log/e/{enc.pk}/edit/", f"/log/reconcile/{report.pk}/",
             "/benchmarks/contracts/compare/"]
    for path in pages:
        _assert_no_inline_script(alice_client.get(path), path)
    # The dashboard's chart data is a JSON data block, read by log.js: still no code inline.
    body = alice_client.get("/log/dashboard/").content.decode()
    assert 'id="chart-data"' in body and "chart.umd.min" in body


def test_no_inline_script_in_the_admin(db):
    from django.contrib.auth.models import User

    User.objects.create_superuser("root", "root@example.org", "correct horse battery")
    c = Client()
    c.force_login(User.objects.get(username="root"))
    for path in ["/admin/", "/admin/auth/user/", "/admin/auth/user/add/", "/admin/fees/release/"]:
        _assert_no_inline_script(c.get(path), path)


def test_confirm_and_select_behaviour_is_declared_in_data_attributes(alice, alice_client):
    """The former onsubmit/onclick handlers are data attributes read by js/site.js, loaded on every page."""
    body = alice_client.get("/accounts/profile/").content.decode()
    assert "js/site.js" in body
    alice_client.post("/accounts/tokens/", {"name": "laptop"})
    body = alice_client.get("/accounts/profile/").content.decode()
    assert "data-select-on-focus" in body
    site_js = open(finders.find("js/site.js"), encoding="utf-8").read()
    assert "data-confirm" in site_js and "data-select-on-focus" in site_js


# --------------------------------------------------------------------------- /api/docs


def test_api_docs_come_from_our_own_static_files(client):
    r = client.get("/api/docs")
    assert r.status_code == 200
    found = scan(r)
    assert found.script_srcs, "Swagger UI's scripts are missing"
    for url in found.urls + found.script_srcs:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"/api/docs loads {url} from another host"
        if url.startswith(settings.STATIC_URL):
            name = url[len(settings.STATIC_URL):]
            assert finders.find(name), f"/api/docs references {url}, which is not a static file"
    assert any("swagger-ui-bundle" in s for s in found.script_srcs)
    assert "cdn.jsdelivr.net" not in r.content.decode()


# --------------------------------------------------------------------------- Cache-Control


@pytest.mark.parametrize("path", ["/log/", "/log/history/", "/log/dashboard/", "/log/export/", "/accounts/profile/",
                                  "/benchmarks/contracts/", "/api/log/encounters", "/api/log/summary",
                                  "/codes/27447/"])
def test_private_pages_are_never_cached(alice_client, path):
    r = alice_client.get(path)
    assert r.status_code == 200, (path, r.status_code)
    assert r["Cache-Control"] == PRIVATE_CACHE_CONTROL


def test_api_token_requests_are_never_cached(alice, client):
    _token, plain = do_create_token(alice, "script")
    r = client.get("/api/log/encounters", headers={"authorization": f"Bearer {plain}"})
    assert r.status_code == 200
    assert r["Cache-Control"] == PRIVATE_CACHE_CONTROL


def test_private_paths_are_never_cached_even_when_signed_out(client):
    r = client.get("/log/")
    assert r.status_code == 302 and r["Cache-Control"] == PRIVATE_CACHE_CONTROL


def test_public_pages_stay_cacheable_for_visitors(client):
    r = client.get("/codes/27447/")
    assert r.status_code == 200
    assert "no-store" not in r.get("Cache-Control", "")
    assert "Cookie" not in r.get("Vary", "")  # the middleware did not read an anonymous visitor's session


# --------------------------------------------------------------------------- errors


def test_a_404_lists_no_url_patterns(client):
    r = client.get("/no-such-page/")
    body = r.content.decode()
    assert r.status_code == 404
    assert "Page not found" in body
    assert "URLconf" not in body and "urlpatterns" not in body and "api/" not in body


def test_api_unexpected_error_is_json_without_details(client, settings, monkeypatch, caplog):
    import rvuedge.codes.api as codes_api

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals /srv/rvuedge/settings.py")

    monkeypatch.setattr(codes_api, "run_search", boom)
    for debug in (False, True):  # never a traceback, whatever DEBUG says
        settings.DEBUG = debug
        with caplog.at_level("ERROR", logger="rvuedge.api"):
            r = client.get("/api/codes/search", {"q": "knee"})
        assert r.status_code == 500
        assert r["Content-Type"].startswith("application/json")
        assert r.json() == {"detail": "Internal server error", "field": None, "problems": []}
        assert "Traceback" not in r.content.decode() and "secret internals" not in r.content.decode()
    # … and the server log has it, with the traceback.
    assert any("Unexpected error in GET /api/codes/search" in rec.getMessage() and rec.exc_info
               for rec in caplog.records)


def test_api_known_errors_keep_their_status(client):
    assert client.get("/api/codes/search", {"limit": "many"}).status_code == 422
    assert client.get("/api/log/encounters").status_code == 401


# --------------------------------------------------------------------------- rvuedge serve


class Exec(Exception):
    pass


def _serve(monkeypatch, *args: str) -> tuple[list[str], str]:
    captured = {}

    def fake_execv(path, argv):
        captured["argv"] = argv
        captured["debug"] = os.environ.get("DEBUG")
        raise Exec

    monkeypatch.setattr(os, "execv", fake_execv)
    with pytest.raises(Exec):
        call_command("serve", *args, stdout=open(os.devnull, "w"))  # noqa: SIM115
    return captured["argv"], captured["debug"]


def test_serve_runs_with_debug_off_unless_asked(monkeypatch):
    monkeypatch.delenv("DEBUG", raising=False)
    argv, debug = _serve(monkeypatch)
    assert debug == "0"
    monkeypatch.delenv("DEBUG", raising=False)
    argv, debug = _serve(monkeypatch, "--dev")
    assert debug == "1"
    monkeypatch.setenv("DEBUG", "1")
    argv, debug = _serve(monkeypatch)
    assert debug == "1"


def test_serve_uses_threaded_workers_and_the_given_timeout(monkeypatch):
    monkeypatch.delenv("DEBUG", raising=False)
    argv, _debug = _serve(monkeypatch, "--workers", "3", "--threads", "8", "--timeout", "600")

    def opt(name):
        return argv[argv.index(name) + 1]

    assert opt("--worker-class") == "gthread"
    assert (opt("--workers"), opt("--threads"), opt("--timeout"), opt("--graceful-timeout")) == ("3", "8", "600",
                                                                                                 "600")
    assert "--no-control-socket" in argv


def test_serve_refuses_nonsense_sizes(monkeypatch):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--threads must be at least 1"):
        call_command("serve", "--threads", "0", stdout=open(os.devnull, "w"))  # noqa: SIM115
