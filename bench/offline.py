"""Issue 17 benchmark: the offline log in the system Chromium against a real `rvuedge serve` (RVU25A).

    python bench/offline.py [--zip RVU25A.zip] [--runs 5] [--sync 100] [--append docs/benchmarks.md]

Measures, each beside a baseline taken in the same run:

* the compact code table over the wire (``/log/offline/table.json``): raw JSON, gzip (what is sent), brotli
  (when the ``brotli`` module is installed); baseline: the same rows as plain JSON objects with the PPRRVU
  column names and descriptions (what a naive export would send);
* time to the first entry offline on a cold start: a new window on /log/ with the network off (served by the
  service worker), type a code, Enter, until it is queued on the device; baseline: the same online (the
  page from the server, Enter posts, until the "Logged" banner);
* sync of N queued encounters (default 100) when the connection returns, until the server has credited them
  all; baseline: the same N encounters sent by the page one after another with fetch (no queue).
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import CHROMIUM, CHROMIUM_ARGS, RVU25A_ZIP, append_to_docs, serve, sign_up, wait_until  # noqa: E402

ENTRIES = ["99213", "99214 20610-RT", "27447-RT", "11042 11045x2", "99215", "45378", "93010", "71046-26"]


def ready(page) -> None:
    wait_until(page, "navigator.serviceWorker.controller !== null", timeout_ms=300000)
    for _ in range(200):
        if page.evaluate("async () => !!(await caches.match('/log/')) && "
                         "!!(await caches.match('/log/offline/table.json'))"):
            return
        page.wait_for_timeout(100)
    raise RuntimeError("the worker did not keep the page and the table")


def table_bytes(page, url: str) -> dict:
    gz = page.request.get(url + "/log/offline/table.json", headers={"Accept-Encoding": "gzip"})
    raw = gz.body()  # Playwright hands back the decoded body
    wire = int(gz.headers.get("content-length") or len(gzip.compress(raw, 9)))
    out = {"raw": len(raw), "gzip_wire": wire, "codes": len(json.loads(raw)["codes"])}
    try:
        import brotli  # type: ignore[import-not-found]

        out["brotli"] = len(brotli.compress(raw, quality=11))
    except ImportError:
        out["brotli"] = _node_brotli(raw)
    return out


def _node_brotli(raw: bytes) -> int | None:
    """Brotli size (quality 11) through Node's zlib when the Python module is missing; None without Node."""
    import shutil

    node = shutil.which("node")
    if node is None:
        return None
    script = ("const z=require('zlib');const c=[];process.stdin.on('data',d=>c.push(d));process.stdin.on('end',()=>"
              "{const b=z.brotliCompressSync(Buffer.concat(c),{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}});"
              "console.log(b.length)});")
    done = subprocess.run([node, "-e", script], input=raw, capture_output=True, check=True, timeout=120)
    return int(done.stdout)


def naive_table_bytes(zip_path: Path) -> dict:
    """Baseline: the same release's rows as JSON objects named like the PPRRVU columns, with descriptions."""
    import csv
    import io
    import zipfile

    with zipfile.ZipFile(zip_path) as zf:
        name = next(n for n in zf.namelist() if n.upper().startswith("PPRRVU") and n.lower().endswith(".csv"))
        text = zf.read(name).decode("latin-1")
    rows = []
    for rec in csv.reader(io.StringIO(text)):
        if len(rec) < 23 or not rec[0] or not rec[0][:1].isalnum() or rec[0].upper() == "HCPCS" or len(rec[0]) != 5:
            continue
        rows.append({"hcpcs": rec[0], "modifier": rec[1], "description": rec[2], "status_code": rec[3],
                     "work_rvu": rec[5], "glob_days": rec[14], "bilat_surg": rec[19], "asst_surg": rec[20],
                     "co_surg": rec[21], "team_surg": rec[22]})
    raw = json.dumps(rows).encode()
    return {"raw": len(raw), "gzip": len(gzip.compress(raw, 9)), "rows": len(rows)}


def cold_start_offline(browser, url: str, runs: int) -> tuple[list[float], list[float]]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(30000)
    sign_up(page, url, prefix="b")
    ready(page)
    page.close()
    offline, online = [], []
    for i in range(runs):
        context.set_offline(True)
        p = context.new_page()
        t0 = time.perf_counter()
        p.goto(url + "/log/")
        p.fill("#id_entry", "99214")
        p.wait_for_selector(".offline-total")
        p.keyboard.press("Enter")
        p.wait_for_selector(".offline-queued")
        offline.append((time.perf_counter() - t0) * 1000)
        p.close()
        context.set_offline(False)
        p = context.new_page()
        t0 = time.perf_counter()
        p.goto(url + "/log/")
        p.fill("#id_entry", f"9921{i % 5 + 1}")
        p.wait_for_selector(".check-total")
        p.keyboard.press("Enter")
        p.wait_for_selector(".logged")
        online.append((time.perf_counter() - t0) * 1000)
        p.close()
    context.close()
    return offline, online


QUEUE_JS = """([user, n, entries]) => new Promise((resolve, reject) => {
  const req = indexedDB.open('rvuedge-offline', 1);
  req.onsuccess = () => {
    const t = req.result.transaction('queue', 'readwrite');
    const s = t.objectStore('queue');
    for (let i = 0; i < n; i++) {
      s.put({key: 'offline:' + crypto.randomUUID(), user: user, seq: i, provisional: '0.00', state: 'waiting',
             reason: '', created: new Date().toISOString(),
             body: {entry: entries[i % entries.length], date: '2025-06-02', setting: null, pos: null, role: null,
                    site: '', attending: '', category: '', notes: ''}});
    }
    t.oncomplete = () => resolve(n); t.onerror = () => reject(t.error);
  };
  req.onerror = () => reject(req.error);
})"""

DIRECT_JS = """async ([n, entries]) => {
  const csrf = /csrftoken=([^;]+)/.exec(document.cookie)[1];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = await fetch('/api/log/encounters', {method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf, 'Idempotency-Key': 'direct:' + crypto.randomUUID()},
      body: JSON.stringify({entry: entries[i % entries.length], date: '2025-06-02'})});
    if (r.status !== 201) throw new Error('HTTP ' + r.status);
  }
  return performance.now() - t0;
}"""


def sync(browser, url: str, n: int) -> tuple[float, float, int]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(300000)
    sign_up(page, url, prefix="b")
    ready(page)
    user = page.get_attribute("#offline-queue", "data-user")
    context.set_offline(True)
    page.reload()
    page.evaluate(QUEUE_JS, [user, n, ENTRIES])
    page.reload()
    page.wait_for_selector(f".queue-count >> text={n} waiting")
    context.set_offline(False)
    t0 = time.perf_counter()
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_until(page, f"document.querySelectorAll('.queue-item.synced').length === {n}", timeout_ms=300000)
    queued_ms = (time.perf_counter() - t0) * 1000
    count = page.request.get(url + "/api/log/encounters?limit=1").json()["count"]
    direct_ms = page.evaluate(DIRECT_JS, [n, ENTRIES])
    context.close()
    return queued_ms, direct_ms, count


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--zip", default=str(RVU25A_ZIP))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sync", type=int, default=100)
    ap.add_argument("--append", default="")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as d:
        proc, url = serve(Path(args.zip), Path(d))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                ctx = browser.new_context()
                page = ctx.new_page()
                sign_up(page, url, prefix="b")
                tb = table_bytes(page, url)
                ctx.close()
                off, on = cold_start_offline(browser, url, args.runs)
                queued_ms, direct_ms, count = sync(browser, url, args.sync)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    naive = naive_table_bytes(Path(args.zip))
    br = f"{tb['brotli']:,} B, quality 11" if tb["brotli"] else "n/a (neither the brotli module nor Node)"
    lines = [
        "| What | Figure | Baseline (same run) |",
        "|---|---|---|",
        f"| Code table RVU25A ({tb['codes']:,} code/modifier rows), over the wire (gzip) | {tb['gzip_wire']:,} B "
        f"(raw JSON {tb['raw']:,} B; brotli {br}) | naive JSON rows with descriptions: {naive['gzip']:,} B gzip, "
        f"{naive['raw']:,} B raw |",
        f"| Time to first entry offline, cold start (new window on /log/, type, Enter, queued); median of "
        f"{len(off)} | {statistics.median(off):.0f} ms (min {min(off):.0f}, max {max(off):.0f}) | online, "
        f"page from the server and Enter posts: {statistics.median(on):.0f} ms (min {min(on):.0f}, max "
        f"{max(on):.0f}) |",
        f"| Sync of {args.sync} queued encounters (online event to all credited; server count {count}) | "
        f"{queued_ms:.0f} ms ({queued_ms / args.sync:.1f} ms each) | {args.sync} direct fetch POSTs from the page: "
        f"{direct_ms:.0f} ms ({direct_ms / args.sync:.1f} ms each) |",
    ]
    text = "\n".join(lines) + (
        "\n\nSystem Chromium (headless, Playwright `context.set_offline`), `rvuedge serve` (gunicorn, 2 workers, "
        "SQLite) on the same 2-core machine; timings include Playwright's round trips.")
    print(text)
    if args.append:
        append_to_docs("## Issue 17: offline", "Offline log", "python bench/offline.py", text, Path(args.append))


if __name__ == "__main__":
    main()
