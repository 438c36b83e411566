"""Code-page throughput: gunicorn (2 workers) under a loopback load generator, beside a static file.

    python bench/pages.py [--data-dir DIR] [--database-url URL] [--duration 10] [--connections 8] [--write]

Prepares (or reuses) a database with RVU25A, the 2026 HCPCS file and our content, starts
``gunicorn rvuedge.wsgi --workers 2`` on a free port, and drives it with ``wrk`` (Debian's package; a small
threaded Python client when wrk is missing). Runs, in one go and against the same server:

* the static file ``/static/css/site.css`` (the baseline: what the server does with no Django view work);
* one hot code page (``/codes/27447/``);
* 500 code pages picked at random per request, after one warm-up pass (what a busy site sees);
* 2,000 code pages never requested before (each request builds its page: the uncached worst case).

Prints requests/s and latency percentiles; ``--write`` appends the table to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import append_to_docs, free_port, prepare_codes  # noqa: E402


def codes_of(data_dir: str, database_url: str | None) -> list[str]:
    prepare_codes(data_dir, database_url)  # same data set as the search benchmark
    from rvuedge.fees.models import FeeRow

    return sorted(set(FeeRow.objects.filter(release__name="RVU25A").values_list("hcpcs", flat=True)))


LUA = """
paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
math.randomseed(42)
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""
LUA_SEQ = """
paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


def run_wrk(url: str, seconds: int, conns: int, script: str | None = None) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    res = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for p in ("50", "90", "99"):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        value = float(m.group(1))
        res[f"p{p}"] = value / 1000 if m.group(2) == "us" else value * 1000 if m.group(2) == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["errors"] = float(errors.group(1)) if errors else 0.0
    return res


def run_python(base: str, paths: list[str], seconds: int, conns: int, sequential: bool = False) -> dict[str, float]:
    """Fallback load generator: keep-alive connections in threads, random (or sequential) paths."""
    import http.client

    host, port = base.split("//")[1].split(":")
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    counter = [0]

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection(host, int(port))
        mine = []
        while time.perf_counter() < stop:
            if sequential:
                with lock:
                    path = paths[counter[0] % len(paths)]
                    counter[0] += 1
            else:
                path = rng.choice(paths)
            t = time.perf_counter()
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            mine.append(time.perf_counter() - t)
            if r.status >= 400:
                errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(conns)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    latencies.sort()

    def q(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000

    return {"rps": len(latencies) / elapsed, "p50": q(.5), "p90": q(.9), "p99": q(.99), "errors": float(errors[0])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", help="reuse this RVUEDGE_DATA_DIR (default: a new temporary one)")
    ap.add_argument("--database-url")
    ap.add_argument("--duration", type=int, default=10, help="seconds per run")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--python-client", action="store_true", help="use the Python load generator even if wrk exists")
    ap.add_argument("--write", action="store_true", help="append the results to docs/benchmarks.md")
    args = ap.parse_args()
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="rvuedge-pages-bench-")
    codes = codes_of(data_dir, args.database_url)
    rng = random.Random(7)
    hot = rng.sample(codes, 500)
    cold = rng.sample([c for c in codes if c not in set(hot)], 2000)

    port = free_port()
    # DEBUG off, as in production (the development default keeps every SQL statement in memory).
    env = dict(os.environ, RVUEDGE_DATA_DIR=data_dir, DJANGO_SETTINGS_MODULE="rvuedge.settings",
               PYTHONPATH=str(ROOT), DEBUG="0")
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    else:
        env.pop("DATABASE_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "rvuedge.wsgi:application", "--workers", "2",
                               "--bind", f"127.0.0.1:{port}", "--log-level", "warning"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    use_wrk = shutil.which("wrk") is not None and not args.python_client
    tmp = Path(tempfile.mkdtemp(prefix="rvuedge-wrk-"))
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/static/css/site.css", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        for _ in range(2):  # warm-up: both workers build their per-release data and cache the hot pages
            for c in hot:
                urllib.request.urlopen(f"{base}/codes/{c}/").read()
        for _ in range(20):
            urllib.request.urlopen(base + "/codes/27447/").read()

        runs: list[tuple[str, dict[str, float]]] = []

        def measure(label: str, paths: list[str], sequential: bool = False) -> None:
            if use_wrk:
                if len(paths) == 1:
                    res = run_wrk(base + paths[0], args.duration, args.connections)
                else:
                    listing = tmp / f"{len(runs)}.txt"
                    listing.write_text("\n".join(paths) + "\n")
                    script = tmp / f"{len(runs)}.lua"
                    script.write_text((LUA_SEQ if sequential else LUA) % listing)
                    res = run_wrk(base + "/", args.duration, args.connections, str(script))
            else:
                res = run_python(base, paths, args.duration, args.connections, sequential)
            runs.append((label, res))
            print(f"{label:55} {res['rps']:8.1f} req/s  p50 {res['p50']:6.2f} ms  p90 {res['p90']:6.2f} ms  "
                  f"p99 {res['p99']:6.2f} ms  errors {int(res['errors'])}", flush=True)

        measure("static file /static/css/site.css (baseline)", ["/static/css/site.css"])
        measure("one code page /codes/27447/", ["/codes/27447/"])
        measure("500 code pages, random, warmed", [f"/codes/{c}/" for c in hot])
        measure("2,000 code pages never requested before", [f"/codes/{c}/" for c in cold], sequential=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)

    tool = "wrk 4.1 (1 thread)" if use_wrk else "Python threads"
    db = "PostgreSQL" if args.database_url else "SQLite"
    lines = [f"gunicorn 2 workers (DEBUG off), {db}, loopback, {tool}, {args.connections} connections, {args.duration} s per "
             "run; server and load generator share the 2 cores.", "",
             "| Run | Requests/s | p50 | p90 | p99 | Errors |", "|---|---|---|---|---|---|"]
    for label, r in runs:
        lines.append(f"| {label} | {r['rps']:.0f} | {r['p50']:.2f} ms | {r['p90']:.2f} ms | {r['p99']:.2f} ms | "
                     f"{int(r['errors'])} |")
    text = "\n".join(lines)
    print()
    print(text)
    if args.write:
        append_to_docs("## Code reference (issue 4)", "Code-page throughput", "python bench/pages.py", text)


if __name__ == "__main__":
    main()
