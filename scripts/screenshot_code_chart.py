"""Screenshots of a code page's server-rendered history chart, at 390 px and on a desktop, with several releases.

    RVUEDGE_DATA_DIR=DIR python scripts/screenshot_code_chart.py [CODE]

DIR holds a database with several releases loaded (e.g. `rvuedge data load` of RVU23A, RVU24A, RVU25A and
RVU26C); the script starts `rvuedge serve --dev` on it, drives /usr/bin/chromium through Playwright and writes
docs/screenshots/code-CODE-chart-{phone,desktop}.png (the whole page) and code-CODE-chart-history-*.png (the
history section alone).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "docs" / "screenshots"


def main() -> None:
    code = sys.argv[1] if len(sys.argv) > 1 else "27447"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    server = subprocess.Popen([sys.executable, "-m", "rvuedge.cli", "serve", "--dev", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/codes/{code}/"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url, timeout=30)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            for name, ctx in (("phone", {"viewport": {"width": 390, "height": 844}, "is_mobile": True}),
                              ("desktop", {"viewport": {"width": 1280, "height": 900}})):
                page = browser.new_context(**ctx).new_page()
                page.goto(url)
                page.screenshot(path=str(SHOTS / f"code-{code}-chart-{name}.png"), full_page=True, scale="css")
                page.locator("#history").screenshot(path=str(SHOTS / f"code-{code}-chart-history-{name}.png"),
                                                    scale="css")
                print(name, "scrollWidth", page.evaluate("document.documentElement.scrollWidth"))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
