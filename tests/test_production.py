"""The documented production start works: `rvuedge serve` with RVUEDGE_PRODUCTION=1 collects the static files with
the production storage (hashed, compressed, manifest) into its data directory and serves pages and hashed static
files through gunicorn; a production start without ALLOWED_HOSTS stops with a message naming it.

The server runs in a subprocess with its own database (a temporary SQLite file, or a fresh PostgreSQL database
when DATABASE_URL is set), as an operator would start it; requests carry the X-Forwarded-Proto header a TLS proxy
adds."""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PROJECT, RVU25A_ZIP, _free_port

STATIC_SOURCE = PROJECT / "rvuedge" / "static"
HASHED = re.compile(r'/static/([\w/.-]+?)\.([0-9a-f]{12})\.(js|css|svg|png)')


def production_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE",
                        "RVUEDGE_TRUSTED_PROXIES", "CSRF_TRUSTED_ORIGINS"}}
    env.update(RVUEDGE_PRODUCTION="1", SECRET_KEY=secrets.token_urlsafe(60), ALLOWED_HOSTS="127.0.0.1",
               RVUEDGE_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="rvuedge.settings", **extra)
    return env


class Server:
    def __init__(self, port: int, data_dir: Path):
        self.port = port
        self.data_dir = data_dir

    def get(self, path: str, *, https: bool = True, headers: dict[str, str] | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path, headers={**({"X-Forwarded-Proto": "https"} if https else {}),
                                               **(headers or {})})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def production_server(tmp_path_factory, cms_dir):
    data_dir = tmp_path_factory.mktemp("production")
    pg_admin = pg_name = None
    extra = {}
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        import psycopg

        pg_admin = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
        pg_name = f"rvuedge_production_{os.getpid()}"
        with psycopg.connect(pg_admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {pg_name}")
        extra["DATABASE_URL"] = pg_admin.rsplit("/", 1)[0] + "/" + pg_name
    env = production_env(data_dir, **extra)
    port = _free_port()
    log_path = data_dir / "serve.log"
    log = open(log_path, "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "rvuedge.cli", "serve", "--data", str(RVU25A_ZIP), "--port", str(port),
         "--workers", "1", "--threads", "2"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=data_dir,
    )
    server = Server(port, data_dir)
    deadline = time.time() + 300
    while True:
        try:
            if server.get("/")[0] == 200:
                break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            log.flush()
            proc.kill()
            raise RuntimeError("rvuedge serve (production) did not start:\n" + log_path.read_text())
        time.sleep(0.3)
    yield server
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    if pg_admin and pg_name:
        import psycopg

        with psycopg.connect(pg_admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")


def test_serve_collects_the_static_files_with_the_production_storage(production_server):
    static_root = production_server.data_dir / "static"
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    for name in ["js/chart.umd.min.js", "js/htmx.min.js", "js/site.js", "css/site.css", "ninja/swagger-ui-bundle.js",
                 "admin/css/base.css"]:
        hashed = manifest[name]
        assert hashed != name and (static_root / hashed).exists(), name
        assert (static_root / (hashed + ".gz")).exists(), f"{name} has no compressed copy"
        assert (static_root / (hashed + ".br")).exists(), f"{name} has no Brotli copy"
    log = (production_server.data_dir / "serve.log").read_text()
    assert "DEBUG off" in log and "Using worker: gthread" in log


def test_production_serves_pages_with_hashed_static_files(production_server):
    status, headers, body = production_server.get("/")
    assert status == 200
    page = body.decode()
    refs = HASHED.findall(page)
    names = {f"{base}.{ext}" for base, _digest, ext in refs}
    assert {"css/site.css", "js/site.js"} <= names, refs
    for base, digest, ext in refs:
        status, headers, content = production_server.get(f"/static/{base}.{digest}.{ext}")
        assert status == 200, (base, status)
        assert "immutable" in headers.get("cache-control", "")  # hashed names are cached for good
        if ext == "js":  # scripts are served byte for byte as shipped
            assert content == (STATIC_SOURCE / f"{base}.{ext}").read_bytes(), base
    # Compressed when the client accepts it.
    digest = dict(((b, e), d) for b, d, e in refs)[("js/site", "js")]
    status, headers, _ = production_server.get(f"/static/js/site.{digest}.js", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("content-encoding") == "gzip"
    status, headers, _ = production_server.get(f"/static/js/site.{digest}.js",
                                               headers={"Accept-Encoding": "gzip, deflate, br"})
    assert status == 200 and headers.get("content-encoding") == "br"
    assert "max-age=315360000" in headers.get("cache-control", "")  # far-future (ten years)
    # The HTML of a public page is compressed too.
    status, headers, _ = production_server.get("/codes/27447/", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("content-encoding") == "gzip"


def test_production_serves_code_pages_and_the_api_docs(production_server):
    status, headers, body = production_server.get("/codes/27447/")
    assert status == 200 and b"27447" in body
    assert "script-src 'self'" in headers["content-security-policy"]
    status, headers, body = production_server.get("/api/docs")
    assert status == 200
    refs = HASHED.findall(body.decode())
    assert any(base == "ninja/swagger-ui-bundle" for base, _d, _e in refs), refs
    for base, digest, ext in refs:
        assert production_server.get(f"/static/{base}.{digest}.{ext}")[0] == 200, base
    status, _headers, body = production_server.get("/api/codes/27447")
    assert status == 200 and json.loads(body)["code"] == "27447"


def test_production_serves_the_service_worker_and_the_manifest_with_hashed_names(production_server):
    # The installable app must work as deployed: the worker precaches the hashed names the pages load.
    status, headers, body = production_server.get("/sw.js")
    assert status == 200, body[:300]
    assert headers.get("cache-control") == "no-cache"
    precache = json.loads(body.decode().split("var PRECACHE = ", 1)[1].split(";\n", 1)[0])
    hashed = [u for u in precache if u.startswith("/static/")]
    assert hashed and all(HASHED.search(u) for u in hashed), hashed
    for url in hashed:
        assert production_server.get(url)[0] == 200, url
    status, _headers, body = production_server.get("/manifest.webmanifest")
    assert status == 200
    for icon in json.loads(body)["icons"]:
        assert HASHED.search(icon["src"]) and production_server.get(icon["src"])[0] == 200, icon


def test_production_404_lists_no_url_patterns(production_server):
    status, headers, body = production_server.get("/no-such-page/")
    text = body.decode()
    assert status == 404 and "Page not found" in text
    assert "URLconf" not in text and "urlpatterns" not in text and "Traceback" not in text
    assert headers["content-security-policy"]


def test_production_redirects_plain_http_to_https(production_server):
    status, headers, _ = production_server.get("/codes/27447/", https=False)
    assert status == 301 and headers["location"].startswith("https://")
    status, headers, _ = production_server.get("/codes/27447/")
    assert "max-age=31536000" in headers["strict-transport-security"]


def test_production_without_allowed_hosts_stops_with_a_message(tmp_path):
    env = production_env(tmp_path)
    del env["ALLOWED_HOSTS"]
    proc = subprocess.run([sys.executable, "-m", "rvuedge.cli", "serve", "--no-serve"], capture_output=True,
                          text=True, env=env, timeout=120, cwd=tmp_path)
    assert proc.returncode != 0
    assert "RVUEDGE_PRODUCTION=1 needs ALLOWED_HOSTS" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "rvuedge.sqlite3").exists()  # stopped before touching anything


def test_production_refuses_dev_mode(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "rvuedge.cli", "serve", "--dev", "--no-serve"],
                          capture_output=True, text=True, env=production_env(tmp_path), timeout=120, cwd=tmp_path)
    assert proc.returncode != 0 and "--dev turns DEBUG on" in proc.stderr
