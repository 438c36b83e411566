"""Import upload benchmark: a 300,000-row, 47 MB CSV (the issue's "49 MB, about 300,000 rows") through the real upload
and preview views.

    python bench/imports.py [--zip RVU25A.zip] [--rows 300000] [--no-confirm] [--append docs/benchmarks.md]

One run, each measurement in its own child process so that its peak memory is its own:

* baseline: a bare ``csv.reader`` pass over the file (read from disk, decoded as UTF-8, every row counted);
* the upload: ``POST /log/import/`` with the file as a multipart body streamed from disk through Django's WSGI
  request handling (as a server would; the file lands in a temporary upload file), then the preview
  (``POST /log/import/<id>/``, action=preview: every row checked and credited, nothing written) and, unless
  ``--no-confirm``, the confirm step (every row checked again and written).

Peak memory is the child's ``VmHWM`` from /proc/self/status, reset (``/proc/self/clear_refs``) just before the
measured step, so it is the peak while that step ran, minus the resident size just before it (Django, the
loaded release and the open database connection are not counted). SQLite in a temporary directory.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import RVU25A_ZIP, append_to_docs  # noqa: E402
from bench.logbook import CATEGORIES, ENTRIES, ROLES, SITES  # noqa: E402

NOTES = ["difficult airway", "converted to open", "CPT 27447 left knee", "long case, two attendings present",
         "bilateral", "follow-up in two weeks", "uncomplicated", "teaching case with the junior resident", ""]


def make_big_csv(path: Path, rows: int, *, seed: int = 11) -> int:
    """Write ``rows`` encounters (about 156 bytes a row: 300,000 rows make 46.7 MB); return the size."""
    rnd = random.Random(seed)
    entries = [e for e, w in ENTRIES for _ in range(w)]
    start = dt.date(2023, 1, 1)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Date of service", "Codes", "Role", "Site", "Category", "Attending", "Notes", "Comments"])
        for i in range(rows):
            day = start + dt.timedelta(days=i * 1000 // rows)
            notes = "; ".join(rnd.sample(NOTES, 3)).strip("; ")
            w.writerow([day.isoformat(), rnd.choice(entries), rnd.choice(ROLES), rnd.choice(SITES),
                        rnd.choice(CATEGORIES), rnd.choice(["Dr. Rivera", "Dr. Chen", "Dr. Okafor", ""]),
                        notes, "imported from the old case log spreadsheet"])
    return path.stat().st_size


BASELINE = r"""
import csv, io, json, re, sys, time
def hwm():
    return int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1)) * 1024
def rss():
    return int(re.search(r"VmRSS:\s+(\d+)", open("/proc/self/status").read()).group(1)) * 1024
before = rss()
open("/proc/self/clear_refs", "w").write("5")
t = time.perf_counter()
with open(sys.argv[1], "rb") as fh:
    n = sum(1 for _ in csv.reader(io.TextIOWrapper(fh, encoding="utf-8", newline="")))
print(json.dumps({"rows": n - 1, "s": round(time.perf_counter() - t, 3), "peak_mb": round((hwm() - before) / 2**20, 1)}))
"""

CHILD = r"""
import json, os, re, sys, time
os.environ["DJANGO_SETTINGS_MODULE"] = "rvuedge.settings"
import django
django.setup()
from django.conf import settings
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
settings.ALLOWED_HOSTS = ["*"]
from django.core.management import call_command
call_command("migrate", verbosity=0)
from rvuedge.fees.importer import load_release
load_release(sys.argv[1])
from django.contrib.auth.models import User
from django.test import Client
from rvuedge.logbook.models import Encounter, ImportBatch

def hwm():
    return int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1)) * 1024
def rss():
    return int(re.search(r"VmRSS:\s+(\d+)", open("/proc/self/status").read()).group(1)) * 1024

def measured(fn):
    import gc
    gc.collect()
    before = rss()
    open("/proc/self/clear_refs", "w").write("5")
    t = time.perf_counter()
    result = fn()
    return result, {"s": round(time.perf_counter() - t, 2), "peak_mb": round((hwm() - before) / 2**20, 1)}

path, confirm = sys.argv[2], sys.argv[3] == "1"
user = User.objects.create_user("bench", "bench@example.org", "x")
c = Client()
c.force_login(user)
# The multipart body, written to disk so that the request streams it (as from a socket).
boundary = "benchboundary7MA4YWxkTrZu0gW"
body = path + ".body"
with open(body, "wb") as out, open(path, "rb") as src:
    out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="caselog.csv"\r\n'
              f"Content-Type: text/csv\r\n\r\n".encode())
    while chunk := src.read(1 << 20):
        out.write(chunk)
    out.write(f"\r\n--{boundary}--\r\n".encode())

def upload():
    with open(body, "rb") as stream:
        environ = c._base_environ(REQUEST_METHOD="POST", PATH_INFO="/log/import/",
                                  CONTENT_TYPE=f"multipart/form-data; boundary={boundary}",
                                  CONTENT_LENGTH=str(os.path.getsize(body)), **{"wsgi.input": stream})
        resp = c.handler(environ)
    assert resp.status_code == 302, resp.content[:3000]
    return ImportBatch.objects.latest("id").pk

out = {}
pk, out["upload"] = measured(upload)
mapping = {"map_date": "Date of service", "map_entry": "Codes", "map_role": "Role", "map_site": "Site",
           "map_category": "Category", "map_attending": "Attending", "map_notes": "Notes"}
resp, out["preview"] = measured(lambda: c.post(f"/log/import/{pk}/", {**mapping, "action": "preview"}))
assert resp.status_code == 200, resp.status_code
report = ImportBatch.objects.get(pk=pk).report
out["report"] = {k: report.get(k) for k in ("rows", "valid", "error_count", "duplicates", "fatal")}
if confirm:
    resp, out["confirm"] = measured(lambda: c.post(f"/log/import/{pk}/", {**mapping, "action": "confirm"}))
    assert resp.status_code == 302, resp.content[:3000]
    out["created"] = Encounter.objects.filter(user=user).count()
print(json.dumps(out))
"""


def child(code: str, *args: str, env: dict | None = None) -> dict:
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-4000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--zip", type=Path, default=RVU25A_ZIP)
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--no-confirm", action="store_true", help="upload and preview only")
    ap.add_argument("--label", default="", help="a note for the docs table (e.g. 'before the change')")
    ap.add_argument("--append", type=Path, help="add the result to this file under 'Issue 11: uploads'")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rvuedge-importbench-"))
    path = tmp / "caselog.csv"
    size = make_big_csv(path, args.rows)
    print(f"{args.rows:,} rows, {size / 1e6:.1f} MB", flush=True)
    base = child(BASELINE, str(path))
    print("baseline", base, flush=True)
    env = dict(os.environ, RVUEDGE_DATA_DIR=str(tmp), DEBUG="0")
    env.pop("DATABASE_URL", None)
    res = child(CHILD, str(args.zip), str(path), "0" if args.no_confirm else "1", env=env)
    print(json.dumps(res, indent=1), flush=True)
    ratio = res["preview"]["s"] / base["s"]
    lines = [
        f"{args.rows:,}-row CSV of {size / 1e6:.1f} MB (8 columns, 7 mapped), SQLite. Peak = the most resident "
        "memory the step added to the process (VmHWM, reset before the step).",
        "",
        "| Step | Time | Ratio to baseline | Peak memory added |",
        "|---|---|---|---|",
        f"| Baseline: bare `csv.reader` pass over the file | {base['s']} s | 1× | {base['peak_mb']} MB |",
        f"| Upload (`POST /log/import/`, file streamed to a temporary file) | {res['upload']['s']} s | "
        f"{res['upload']['s'] / base['s']:.1f}× | {res['upload']['peak_mb']} MB |",
        f"| Preview: every row checked and credited, nothing written | **{res['preview']['s']} s** | "
        f"**{ratio:.1f}×** | **{res['preview']['peak_mb']} MB** |",
    ]
    if "confirm" in res:
        lines.append(f"| Confirm: every row checked again and written | {res['confirm']['s']} s | "
                     f"{res['confirm']['s'] / base['s']:.1f}× | {res['confirm']['peak_mb']} MB |")
    rep = res["report"]
    lines += ["", f"Preview report: {rep['rows']:,} rows, {rep['valid']:,} ready, {rep['error_count']} with errors"
              + (f"; {res['created']:,} encounters written by the confirm." if "created" in res else ".")]
    text = "\n".join(lines)
    print(text)
    if args.append:
        title = "Upload and preview of a 300,000-row CSV" + (f", {args.label}" if args.label else "")
        append_to_docs("## Issue 11: uploads", title, "python bench/imports.py" + (
            " --no-confirm" if args.no_confirm else ""), text, args.append)


if __name__ == "__main__":
    main()
