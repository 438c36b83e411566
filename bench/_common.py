"""Helpers shared by the benchmark scripts: where the CMS files are, a Django set up on a throw-away database with
the releases loaded, a real `rvuedge serve`, the browser steps, throw-away PostgreSQL databases, percentiles and
appending results to the docs."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"
CMS = Path(os.environ.get("RVUEDGE_CMS_DATA", ROOT.parent / "shared" / "data" / "cms"))
RVU25A_ZIP = CMS / "rvu25a" / "RVU25A.zip"
RVU26C_PPRRVU = CMS / "rvu26c" / "PPRRVU2026_Jul_nonQPP.csv"
HCPCS_2026 = CMS / "hcpcs2026jan" / "HCPC2026_JAN_ANWEB_01122026.txt"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
#: The Manhattan locality (MAC 13202, locality 01): where the pricing benchmarks price.
MANHATTAN = "13202-01"


# --------------------------------------------------------------------------- Django in this process


def setup_django(data_dir: str | None = None, database_url: str | None = None) -> str:
    """Point the settings at ``data_dir`` (default: a new temporary folder) and ``database_url`` (default: the
    SQLite file in the data folder), set Django up and migrate. Returns the data folder."""
    data_dir = data_dir or tempfile.mkdtemp(prefix="rvuedge-bench-")
    os.environ["RVUEDGE_DATA_DIR"] = data_dir
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rvuedge.settings")
    import django  # only once the environment above names the settings and the database

    django.setup()
    from django.core.management import call_command  # needs the settings of django.setup()

    call_command("migrate", verbosity=0)
    return data_dir


def prepare_codes(data_dir: str, database_url: str | None, rvu26c: bool = False) -> None:
    """A database for the code pages and search (reused when ``data_dir`` already holds one): RVU25A (and RVU26C,
    the newest release, when asked), the January 2026 HCPCS file and our content, each loaded once."""
    setup_django(data_dir, database_url)
    from rvuedge.codes.content import load_code_content  # Django is set up only now
    from rvuedge.codes.models import CodeContent
    from rvuedge.fees.importer import load_hcpcs, load_release
    from rvuedge.fees.models import HcpcsRelease, Release

    if not Release.objects.filter(name="RVU25A").exists():
        print("loading RVU25A …", flush=True)
        load_release(str(RVU25A_ZIP))
    if rvu26c and not Release.objects.filter(name="RVU26C").exists():
        print("loading RVU26C …", flush=True)
        load_release(str(RVU26C_PPRRVU), release_name="RVU26C")
    if not HcpcsRelease.objects.exists():
        print("loading HCPCS 2026 …", flush=True)
        load_hcpcs(str(HCPCS_2026))
    if not CodeContent.objects.exists():
        load_code_content()


def fee_rows(*sources: tuple[Path, str | None]) -> tuple[Any, Any, Any]:
    """A throw-away SQLite database with each (file, release name or None) of ``sources`` loaded in turn; returns
    the last release, its preloaded lookup and the Manhattan locality, as the pricing benchmarks price."""
    setup_django()
    from rvuedge.fees.importer import load_release  # Django is set up only now
    from rvuedge.fees.services import DbLookup, resolve_locality

    release = None
    for path, name in sources:
        release = load_release(str(path), release_name=name).release
    lookup = DbLookup(release).preload()
    return release, lookup, resolve_locality(release, MANHATTAN)


def procedure_modifiers(rng: Any, row: Any) -> tuple[str, ...]:
    """The modifiers a drawn procedure line carries in the pricing benchmarks' mix: 50 for one bilateral
    procedure in ten, 80 for one in twenty of those an assistant may help with."""
    if row.bilat == "1" and rng.random() < 0.1:
        return ("50",)
    if row.asst == "2" and rng.random() < 0.05:
        return ("80",)
    return ()


# --------------------------------------------------------------------------- a real server and a browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(zip_path: Path, data_dir: Path, production: bool = False, extra: tuple[str, ...] = (),
          timeout: float = 300) -> tuple[subprocess.Popen, str]:
    """A real ``rvuedge serve`` (gunicorn, SQLite) on a free port, with ``extra`` options (``--hcpcs PATH``,
    ``--threads N``); ``production`` as deployed (RVUEDGE_PRODUCTION: hashed, pre-compressed static files with
    far-future caching), only without the HTTPS redirect. Returns the process and its base URL."""
    port = free_port()
    env = {**os.environ, "RVUEDGE_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "rvuedge.settings"}
    env.pop("DATABASE_URL", None)
    if production:
        env.update({"RVUEDGE_PRODUCTION": "1", "SECURE_SSL_REDIRECT": "0", "ALLOWED_HOSTS": "127.0.0.1",
                    "SECRET_KEY": secrets.token_urlsafe(60)})
    log = open(data_dir / "serve.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "rvuedge.cli", "serve", "--data", str(zip_path), "--port",
                             str(port), "--workers", "2", *extra], env=env, stdout=log, stderr=subprocess.STDOUT,
                            cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=2)
            return proc, url
        except Exception:  # noqa: BLE001 - poll until it answers
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError((data_dir / "serve.log").read_text()) from None
            time.sleep(0.5)


def sign_up(page: Any, live_url: str, stage: str = "attending", specialty: str = "", prefix: str = "dr") -> str:
    """Sign a new member up through the page (as a newcomer does); returns the username. Lands on /log/."""
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    page.goto(live_url + "/accounts/signup/")
    page.fill("#id_username", name)
    page.fill("#id_email", f"{name}@example.org")
    page.fill("#id_password1", "a-long-pass-phrase")
    page.fill("#id_password2", "a-long-pass-phrase")
    page.select_option("#id_career_stage", stage)
    if specialty:
        page.fill("#id_specialty", specialty)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/log/$"))
    return name


def wait_until(page: Any, expression: str, timeout_ms: int = 20000) -> None:
    """Poll a JavaScript expression until it is true (page.wait_for_function would compile it with eval, which
    the site's Content-Security-Policy forbids)."""
    waited = 0
    while not page.evaluate(expression):
        if waited > timeout_ms:
            raise AssertionError(f"still false after {timeout_ms} ms: {expression}")
        page.wait_for_timeout(100)
        waited += 100


# --------------------------------------------------------------------------- PostgreSQL, figures, the docs


def pg_fresh(admin_url: str, name: str) -> str:
    """Create (or re-create) database ``name`` on the server of ``admin_url``; return its URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return admin_url.rsplit("/", 1)[0] + "/" + name


def pg_drop(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def pct(values: list[float], p: float) -> float:
    """The ``p`` percentile (0-1, linear interpolation) of ``values`` in seconds, in milliseconds."""
    values = sorted(values)
    k = (len(values) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return (values[lo] + (values[hi] - values[lo]) * (k - lo)) * 1000


def append_to_docs(heading: str, title: str, command: str, text: str, path: Path = DOCS) -> None:
    """Append ``### title (date, `command`)`` and ``text`` to docs/benchmarks.md, under ``heading`` (added if
    the file lacks it)."""
    existing = path.read_text() if path.exists() else ""
    block = f"\n### {title} ({time.strftime('%Y-%m-%d')}, `{command}`)\n\n{text}\n"
    at = existing.find(heading)
    if at < 0:
        existing = existing.rstrip("\n") + f"\n\n{heading}\n"
        at = existing.find(heading)
    end = existing.find("\n## ", at + len(heading))  # the end of that section
    end = len(existing) if end < 0 else end
    path.write_text(existing[:end].rstrip("\n") + "\n" + block + existing[end:])
    print(f"appended to {path} under {heading!r}")
