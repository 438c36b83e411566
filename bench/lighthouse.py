"""Issue 17: Lighthouse on the log's entry page (signed in), run with the system Chromium.

    python bench/lighthouse.py [--lighthouse DIR] [--runs 3] [--dev-server] [--append docs/benchmarks.md]

Lighthouse is an npm package: without ``--lighthouse`` (a folder holding ``node_modules/lighthouse``) it is
installed into a temporary folder with ``npm install lighthouse@12`` (nothing is added to the repository).
A real ``rvuedge serve`` (RVU25A; as deployed, RVUEDGE_PRODUCTION=1 without the HTTPS redirect, unless
``--dev-server``) is started, a user signs up through the form, and Lighthouse audits
``/log/`` with that session cookie (mobile emulation, Lighthouse's default) ``--runs`` times; the median score
of each category is reported, with the audits that cost points. Baseline in the same run: the public home page
``/`` (no session).
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
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import append_to_docs  # noqa: E402
from bench.offline import DEFAULT_ZIP, serve  # noqa: E402

CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]


class _LocalPolicy(http.cookiejar.DefaultCookiePolicy):
    """Send the production server's Secure cookies back over http://127.0.0.1 (the bench has no TLS)."""

    def return_ok_secure(self, cookie, request):
        return True


def session_cookie(url: str) -> str:
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


def run_lighthouse(cli: Path, target: str, port: int, out: Path) -> dict:
    cmd = ["node", str(cli), target, "--output=json", f"--output-path={out}", "--quiet", f"--port={port}",
           "--only-categories=" + ",".join(CATEGORIES)]
    subprocess.run(cmd, check=True, env={**os.environ, "CHROME_PATH": "/usr/bin/chromium"}, timeout=600)
    return json.loads(out.read_text())


def chromium_with_session(profile: Path, url: str, cookie: str | None) -> tuple[subprocess.Popen, int]:
    """The system Chromium with a debugging port for Lighthouse, the session cookie in its cookie jar (an
    ``--extra-headers`` cookie would reach the page but not the service worker's own requests)."""
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["/usr/bin/chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage", "--no-first-run", f"--remote-debugging-port={port}",
                             f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    if cookie:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
            browser.contexts[0].add_cookies([{"name": k, "value": v, "url": url}
                                             for k, v in (c.split("=", 1) for c in cookie.split("; "))])
    return proc, port


def summary(reports: list[dict]) -> tuple[dict[str, int], list[str]]:
    scores = {c: int(statistics.median(round(r["categories"][c]["score"] * 100) for r in reports))
              for c in CATEGORIES}
    losing = []
    last = reports[-1]
    for c in CATEGORIES:
        for ref in last["categories"][c]["auditRefs"]:
            a = last["audits"][ref["id"]]
            if ref["weight"] and a.get("score") is not None and a["score"] < 0.9:
                shown = a.get("displayValue") or ""
                losing.append(f"{c}: {a['title']} ({a['score']:.2f}{', ' + shown if shown else ''})")
    return scores, losing


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lighthouse", default="")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--zip", default=str(DEFAULT_ZIP))
    ap.add_argument("--append", default="")
    ap.add_argument("--dev-server", action="store_true",
                    help="audit a non-production server (static files neither hashed nor pre-compressed)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        lh_dir = Path(args.lighthouse) if args.lighthouse else tmp / "lh"
        cli = lh_dir / "node_modules" / "lighthouse" / "cli" / "index.js"
        if not cli.exists():
            lh_dir.mkdir(parents=True, exist_ok=True)
            subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "lighthouse@12"], cwd=lh_dir,
                           check=True, timeout=900)
        version = json.loads((lh_dir / "node_modules" / "lighthouse" / "package.json").read_text())["version"]
        data = tmp / "data"
        data.mkdir()
        proc, url = serve(Path(args.zip), data, production=not args.dev_server)
        try:
            cookie = session_cookie(url)
            reports: dict[str, list[dict]] = {"entry": [], "home": []}
            for kind, target, jar in (("entry", url + "/log/", cookie), ("home", url + "/", None)):
                for i in range(args.runs):
                    for attempt in range(3):  # Lighthouse now and then fails to record a trace (NO_NAVSTART)
                        chrome, port = chromium_with_session(tmp / f"profile-{kind}{i}-{attempt}", url, jar)
                        try:
                            reports[kind].append(run_lighthouse(cli, target, port, tmp / f"{kind}{i}.json"))
                            break
                        except subprocess.CalledProcessError:
                            if attempt == 2:
                                raise
                        finally:
                            chrome.terminate()
                            chrome.wait(timeout=20)
            entry, home = reports["entry"], reports["home"]
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    final = entry[-1]["finalDisplayedUrl"]
    assert final.endswith("/log/"), f"Lighthouse did not audit the signed-in entry page (ended at {final})"
    e_scores, e_losing = summary(entry)
    h_scores, _ = summary(home)
    lines = ["| Page | " + " | ".join(CATEGORIES) + " |", "|---|" + "---|" * len(CATEGORIES),
             "| /log/ (entry page, signed in) | " + " | ".join(str(e_scores[c]) for c in CATEGORIES) + " |",
             "| / (home, baseline) | " + " | ".join(str(h_scores[c]) for c in CATEGORIES) + " |"]
    text = "\n".join(lines) + (
        f"\n\nLighthouse {version}, system Chromium (`CHROME_PATH=/usr/bin/chromium`, headless, a fresh profile per run with "
        "the session cookie in its jar), mobile emulation with "
        f"simulated throttling; median of {args.runs} runs per page against `rvuedge serve` (gunicorn, SQLite, "
        + ("DEBUG off, not RVUEDGE_PRODUCTION: static files by WhiteNoise from the finders, not pre-compressed)."
           if args.dev_server else "RVUEDGE_PRODUCTION=1 as deployed, without the HTTPS redirect: hashed, "
           "pre-compressed static files)."))
    if e_losing:
        text += "\n\nAudits below 0.9 on the entry page (last run):\n\n" + "\n".join(f"- {x}" for x in e_losing)
    print(text)
    if args.append:
        append_to_docs("## Issue 17: offline", "Lighthouse", "python bench/lighthouse.py", text, Path(args.append))


if __name__ == "__main__":
    main()
