"""Lighthouse on the public pages and on the log's entry page signed in (issues 17 and 18), in the system Chromium.

    python bench/lighthouse.py [--runs 3] [--data-dir DIR] [--lighthouse DIR] [--dev-server] [--append [PATH]]

Pages: the home page, search results and three code pages (anonymous), and ``/log/`` signed in (a member signs
up through the form; the session cookie goes into the jar of a fresh Chromium profile, since an
``--extra-headers`` cookie would reach the page but not the service worker's own requests).

A real ``rvuedge serve`` (gunicorn, 2 workers x 2 threads, SQLite) is started with RVU25A and the January 2026
HCPCS file, as deployed (RVUEDGE_PRODUCTION=1: hashed, pre-compressed static files, gzip of public HTML) but
without the HTTPS redirect, unless ``--dev-server``. ``--data-dir`` reuses an RVUEDGE_DATA_DIR with them loaded
(bench/page_weight.py and bench/search.py prepare one); default: a new one, loaded by ``rvuedge serve``.

Every page is fetched once (its caches built), then audited ``--runs`` times, mobile emulation with simulated
throttling (Lighthouse's defaults). The table shows the median score of each category and the LCP, TBT and CLS
of the median run (by performance score); below it, every weighted audit under 1 in that run. Scores move with
the machine's load: the load average before and after the audits is printed beside them.

Lighthouse is an npm package: without ``--lighthouse`` (a folder holding ``node_modules/lighthouse``) it is
installed into a temporary folder with ``npm install lighthouse@VERSION`` (nothing is added to the repository).
``--append`` adds the figures to docs/benchmarks.md (or PATH) under "Issue 18: code page weight and Lighthouse".
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import CHROMIUM, DOCS, HCPCS_2026, RVU25A_ZIP, append_to_docs, free_port, serve  # noqa: E402

#: The newest Lighthouse 12 when this was written (it runs on Node >= 18.16).
VERSION = "12.8.2"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
PUBLIC = ["/", "/codes/?q=knee+arthroplasty", "/codes/27447/", "/codes/99214/", "/codes/71046/"]
ENTRY = "/log/"
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]


class _LocalPolicy(http.cookiejar.DefaultCookiePolicy):
    """Send the production server's Secure cookies back over http://127.0.0.1 (the bench has no TLS)."""

    def return_ok_secure(self, cookie, request):
        return True


def session_cookie(url: str) -> str:
    """Sign a new member up through the form; the ``Cookie`` header of the session."""
    jar = http.cookiejar.CookieJar(policy=_LocalPolicy())
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(url + "/accounts/signup/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    name = f"lh{uuid.uuid4().hex[:8]}"
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": name, "email": f"{name}@example.org",
                                   "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase",
                                   "career_stage": "attending"}).encode()
    req = urllib.request.Request(url + "/accounts/signup/", data=data, headers={"Referer": url + "/accounts/signup/"})
    opener.open(req).read()
    cookies = {c.name: c.value for c in jar}
    assert "sessionid" in cookies, "sign-up failed"
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def lighthouse_cli(folder: str, tmp: Path, version: str) -> tuple[Path, str]:
    """Lighthouse's command-line entry point (installed into ``tmp`` unless ``folder`` holds one) and its version."""
    lh_dir = Path(folder) if folder else tmp / "lh"
    cli = lh_dir / "node_modules" / "lighthouse" / "cli" / "index.js"
    if not cli.exists():
        lh_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", f"lighthouse@{version}"], cwd=lh_dir,
                       check=True, timeout=900)
    return cli, json.loads((lh_dir / "node_modules" / "lighthouse" / "package.json").read_text())["version"]


def chromium(profile: Path, url: str, cookie: str | None) -> tuple[subprocess.Popen, int]:
    """The system Chromium with a debugging port for Lighthouse and, when given, the session cookie in its jar."""
    port = free_port()
    proc = subprocess.Popen([CHROMIUM, *CHROMIUM_FLAGS, f"--remote-debugging-port={port}",
                             f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    if cookie:
        from playwright.sync_api import sync_playwright  # only the signed-in page needs Playwright

        with sync_playwright() as p:
            browser = p.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
            browser.contexts[0].add_cookies([{"name": k, "value": v, "url": url}
                                             for k, v in (c.split("=", 1) for c in cookie.split("; "))])
    return proc, port


def audit(cli: Path, target: str, url: str, cookie: str | None, tmp: Path, name: str) -> dict:
    """One Lighthouse report of ``target`` in a fresh profile; a run that fails (now and then a loaded machine
    loses the trace: NO_NAVSTART) is run again, three times at most."""
    out = tmp / f"{name}.json"
    attempts = 3
    for attempt in range(attempts):
        proc, port = chromium(tmp / f"profile-{name}-{attempt}", url, cookie)
        try:
            subprocess.run(["node", str(cli), target, "--output=json", f"--output-path={out}", "--quiet",
                            f"--port={port}", "--only-categories=" + ",".join(CATEGORIES)],
                           check=True, env={**os.environ, "CHROME_PATH": CHROMIUM}, timeout=600)
            break
        except subprocess.CalledProcessError:
            if attempt == attempts - 1:
                raise
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return json.loads(out.read_text())


def score(report: dict, category: str) -> int:
    return round(report["categories"][category]["score"] * 100)


def row(page: str, reports: list[dict]) -> tuple[str, list[str]]:
    """The table row of a page (median scores; LCP, TBT and CLS of the median run) and its weighted audits
    below 1 in that run."""
    scores = {c: int(statistics.median(score(r, c) for r in reports)) for c in CATEGORIES}
    middle = sorted(reports, key=lambda r: score(r, "performance"))[len(reports) // 2]
    a = middle["audits"]
    cells = [str(scores[c]) for c in CATEGORIES] + [
        a[k]["displayValue"] for k in ("largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift")]
    losing = []
    for c in CATEGORIES:
        for ref in middle["categories"][c]["auditRefs"]:
            au = a[ref["id"]]
            if ref.get("weight") and au.get("score") is not None and au["score"] < 1:
                shown = au.get("displayValue") or ""
                losing.append(f"{page}: {c}: {au['title']} ({au['score']:.2f}{', ' + shown if shown else ''})")
    return f"| {page} | " + " | ".join(cells) + " |", losing


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="audits per page; the median counts")
    ap.add_argument("--data-dir", default="", help="reuse this RVUEDGE_DATA_DIR (default: a new temporary one)")
    ap.add_argument("--lighthouse", default="", help="a folder holding node_modules/lighthouse")
    ap.add_argument("--lighthouse-version", default=VERSION, help="what npm installs without --lighthouse")
    ap.add_argument("--zip", default=str(RVU25A_ZIP))
    ap.add_argument("--hcpcs", default=str(HCPCS_2026))
    ap.add_argument("--dev-server", action="store_true",
                    help="audit a non-production server (static files neither hashed nor pre-compressed)")
    ap.add_argument("--append", "--write", nargs="?", const=str(DOCS), default="",
                    help="append the figures to docs/benchmarks.md (or this file)")
    args = ap.parse_args()
    pages = [(p, False) for p in PUBLIC] + [(ENTRY, True)]
    reports: dict[str, list[dict]] = {p: [] for p, _signed_in in pages}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        cli, version = lighthouse_cli(args.lighthouse, tmp, args.lighthouse_version)
        data = Path(args.data_dir) if args.data_dir else tmp / "data"
        data.mkdir(parents=True, exist_ok=True)
        proc, url = serve(Path(args.zip), data, production=not args.dev_server,
                          extra=("--hcpcs", args.hcpcs, "--threads", "2"), timeout=600)
        try:
            cookie = session_cookie(url)
            for page, signed_in in pages:  # build each page once
                urllib.request.urlopen(urllib.request.Request(
                    url + page, headers={"Cookie": cookie} if signed_in else {}), timeout=120).read()
            load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
            for n, (page, signed_in) in enumerate(pages):
                for i in range(args.runs):
                    reports[page].append(audit(cli, url + page, url, cookie if signed_in else None, tmp, f"{n}-{i}"))
            load_after = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    for r in reports[ENTRY]:
        final = r["finalDisplayedUrl"]
        assert final.endswith(ENTRY), f"Lighthouse did not audit the signed-in entry page (ended at {final})"
    lines = ["| Page | Performance | Accessibility | Best practices | SEO | LCP | TBT | CLS |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    losing: list[str] = []
    for page, signed_in in pages:
        line, lost = row(f"`{page}`" + (" (entry page, signed in)" if signed_in else ""), reports[page])
        lines.append(line)
        losing += lost
    server = ("DEBUG off, not RVUEDGE_PRODUCTION: static files by WhiteNoise from the finders, not pre-compressed"
              if args.dev_server else "RVUEDGE_PRODUCTION=1 as deployed, without the HTTPS redirect: hashed, "
              "pre-compressed static files")
    runs = (f"median of {args.runs} runs per page (LCP, TBT and CLS of the median run)" if args.runs > 1
            else "one run per page")
    median_run = "median run" if args.runs > 1 else "the run"
    text = "\n".join(lines) + (
        f"\n\nLighthouse {version}, mobile emulation with simulated throttling (the defaults), system Chromium "
        "(`CHROME_PATH=/usr/bin/chromium`, headless, a fresh profile per run; the signed-in page with the session "
        f"cookie in its jar); {runs}, against "
        f"`rvuedge serve` (gunicorn 2 workers x 2 threads, SQLite, RVU25A + HCPCS 2026, {server}); load average "
        f"before {load_before}, after {load_after} ({os.cpu_count()} cores shared).")
    if losing:
        text += f"\n\nWeighted audits below 1 ({median_run}):\n\n" + "\n".join(f"- {x}" for x in losing)
    print(text)
    if args.append:
        append_to_docs("## Issue 18: code page weight and Lighthouse", "Lighthouse, mobile, public pages and the "
                       "signed-in entry page", "python bench/lighthouse.py", text, Path(args.append))


if __name__ == "__main__":
    main()
