"""Exports and backups of a 300,000-encounter log (issue 11), on SQLite and PostgreSQL.

    python bench/exports.py [--zip RVU25A.zip] [--pg postgres://postgres@127.0.0.1:5432/postgres]
                            [--rows 300000] [--before /tmp/wt-before] [--formats csv,lines,...] [--append]

For each database (a fresh SQLite file; a fresh PostgreSQL database when --pg is given) a child process
migrates, loads RVU25A and seeds one user with ``--rows`` encounters (plus 1 % of that in the trash) through
the bulk writer the import uses (:func:`rvuedge.logbook.imports.store_bulk`), with lines credited by the real
engine. Then, for each format, a fresh child process logs in with the Django test client and downloads
``/log/export/?format=...`` the way a browser does, consuming ``streaming_content`` into a file: the figure is
the wall time of the whole download and the growth of the process's peak RSS during it (``ru_maxrss`` after
minus before). The file is then checked: CSV data rows, XLSX sheet rows and JSON encounters are counted
against the database.

``--before DIR`` runs the same measurements a second time with the code of DIR (a git worktree of the commit
before the change, e.g. ``git worktree add /tmp/wt-before f9d6ca5``) against the same seeded database.

The baseline, measured in the same run and process set-up, is a raw cursor pass over the same rows (every
encounter column joined with every line column, ordered by date), written through ``csv.writer`` into a file:
the floor of any export of this log.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import RVU25A_ZIP, append_to_docs, pg_drop, pg_fresh  # noqa: E402

FORMATS = ["raw", "csv", "lines", "portal", "xlsx", "json"]
LABELS = {"raw": "Baseline: raw cursor pass -> csv.writer", "csv": "CSV (one row per encounter)",
          "lines": "CSV (one row per line)", "portal": "Case-log portal CSV", "xlsx": "XLSX (two sheets)",
          "json": "JSON backup"}


def seed(user, rows: int, *, seed_value: int = 11, end: dt.date | None = None, years: int = 3,
         trash_every: int = 100, batch: int = 20_000) -> int:
    """Give ``user`` ``rows`` encounters (and ``rows // trash_every`` more in the trash), credited like real ones.

    Each distinct entry of bench/logbook.py's mix is credited once through :func:`actions.prepare` (the real
    engine, RVU25A); the encounters reuse those credits with their own dates, roles, labels and notes and go in
    through :func:`imports.store_bulk`, the writer of the CSV import and the restore.
    """
    import random
    import uuid

    from django.db import transaction
    from django.utils import timezone

    from bench.logbook import CATEGORIES, ENTRIES, ROLES, SITES
    from rvuedge.accounts.services import get_profile_for_user
    from rvuedge.logbook.actions import EncounterInput, prepare
    from rvuedge.logbook.credit import Crediter
    from rvuedge.logbook.imports import store_bulk

    rnd = random.Random(seed_value)
    end = end or timezone.localdate()
    start = end - dt.timedelta(days=365 * years)
    span = (end - start).days
    crediter = Crediter(get_profile_for_user(user), memo=True)
    credits = {}
    for entry, _w in ENTRIES:
        fields, lines = prepare(user, EncounterInput(entry=entry, date=end), crediter)
        credits[entry] = (fields, lines)
    weighted = [e for e, w in ENTRIES for _ in range(w)]
    notes = ["", "", "", "difficult airway", "converted to open", "CPT 27447 left knee",
             "long note: " + "bilateral findings, extended procedure time; " * 12]
    now = timezone.now()
    total = rows + (rows // trash_every if trash_every else 0)
    done = 0
    while done < total:
        items = []
        for i in range(done, min(total, done + batch)):
            fields, lines = credits[rnd.choice(weighted)]
            trashed = i >= rows
            day = start + dt.timedelta(days=span * ((i * 7919) % total) // total)
            enc = {**fields, "uid": uuid.uuid4(), "date": day, "role": rnd.choice(ROLES), "site": rnd.choice(SITES),
                   "attending": rnd.choice(["", "Dr. Rivera", "Dr. Chen", "=HYPERLINK(\"x\")"]),
                   "category": rnd.choice(CATEGORIES), "notes": rnd.choice(notes), "idempotency_key": None,
                   "created_at": now, "updated_at": now, "deleted_at": now if trashed else None}
            items.append((enc, lines))
        with transaction.atomic():
            store_bulk(user, items)
        done += len(items)
    return total


SEED_CHILD = r"""
import json, os, sys, time
os.environ["DJANGO_SETTINGS_MODULE"] = "rvuedge.settings"
import django
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
from rvuedge.fees.importer import load_release
load_release(sys.argv[1])
from django.contrib.auth.models import User
from rvuedge.accounts.services import get_profile_for_user
sys.path.insert(0, os.getcwd())
from bench.exports import seed
user = User.objects.create_user("bench", "bench@example.org", "x")
get_profile_for_user(user)
t = time.perf_counter()
n = seed(user, int(sys.argv[2]))
took = time.perf_counter() - t
if connection.vendor == "postgresql":
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE logbook_encounter")
        cur.execute("VACUUM ANALYZE logbook_encounterline")
from rvuedge.logbook.models import Encounter, EncounterLine
print(json.dumps({"vendor": connection.vendor, "seeded": n, "seed_s": round(took, 1),
                  "live": Encounter.objects.filter(user=user, deleted_at__isnull=True).count(),
                  "all": Encounter.objects.filter(user=user).count(),
                  "live_lines": EncounterLine.objects.filter(user=user, encounter__deleted_at__isnull=True).count()}))
"""

MEASURE_CHILD = r"""
import csv, json, os, resource, sys, tempfile, time
os.environ["DJANGO_SETTINGS_MODULE"] = "rvuedge.settings"
import django
django.setup()
from django.conf import settings
settings.ALLOWED_HOSTS = ["*"]
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

fmt = sys.argv[1]
# A ceiling on the address space (--mem-limit-mb): an export that would take more fails here with MemoryError
# instead of taking the machine's memory from everything else running on it.
limit = int(os.environ.get("BENCH_MEM_LIMIT_MB", "0")) * 1024 * 1024
if limit:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
user = User.objects.get(username="bench")
c = Client()
c.force_login(user)


def consume(resp, fh):
    if getattr(resp, "streaming", False):
        for chunk in resp.streaming_content:
            fh.write(chunk)
    else:
        fh.write(resp.content)
    resp.close()


def raw(fh):
    import codecs
    w = csv.writer(codecs.getwriter("utf-8")(fh))
    sql = ("SELECT e.uid, e.date, e.entry, e.setting, e.pos, e.site, e.role, e.attending, e.category, e.notes, "
           "e.total_wrvu, e.total_wrvu_exact, e.total_payment, e.release, e.policy_name, e.locality, e.created_at, "
           "e.updated_at, l.position, l.code, l.modifiers, l.units, l.minutes, l.description, l.wrvu, "
           "l.wrvu_exact, l.payment, l.explanation FROM logbook_encounter e JOIN logbook_encounterline l "
           "ON l.encounter_id = e.id WHERE e.user_id = %s AND e.deleted_at IS NULL "
           "ORDER BY e.date, e.id, l.position")
    if connection.vendor == "postgresql":
        from django.db import transaction
        with transaction.atomic():
            cur = connection.connection.cursor(name="bench_raw")
            cur.itersize = 2000
            cur.execute(sql, [user.pk])
            for row in cur:
                w.writerow(row)
            cur.close()
    else:
        with connection.cursor() as cur:
            cur.execute(sql, [user.pk])
            while rows := cur.fetchmany(2000):
                w.writerows(rows)


# Warm up: the view and its imports, on an empty range (the formats that take a range).
if fmt != "raw":
    consume(c.get("/log/export/?format=csv&start=2100-01-01"), open(os.devnull, "wb"))
    connection.close()
out_path = os.path.join(os.environ["BENCH_OUT_DIR"], f"export-{fmt}" + (".xlsx" if fmt == "xlsx" else ""))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
status = 200
try:
    with open(out_path, "wb") as fh:
        if fmt == "raw":
            raw(fh)
        else:
            resp = c.get(f"/log/export/?format={fmt}")
            status = resp.status_code
            consume(resp, fh)
    error = None
except Exception as exc:  # the "before" code fails on some formats: record how
    error = f"{type(exc).__name__}: {str(exc)[:200]}"
took = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
size = os.path.getsize(out_path)
result = {"format": fmt, "status": status, "error": error, "s": round(took, 2), "rss_growth_mb": round((peak - before) / 1024, 1),
          "rss_peak_mb": round(peak / 1024, 1), "bytes": size}
# The download's figures first (a timeout while checking the file below keeps them), then the check.
print(json.dumps(result), flush=True)
try:
  if error is None and status == 200:
    if fmt in ("csv", "lines", "portal", "raw"):
        with open(out_path, encoding="utf-8-sig", newline="") as fh:
            result["rows"] = sum(1 for _ in csv.reader(fh)) - (fmt != "raw")
    elif fmt == "xlsx":
        # Rows counted in each sheet's XML, streamed out of the zip (openpyxl reading 12 million cells back would
        # take longer than writing them; the tests read workbooks back with openpyxl).
        import re, zipfile
        from openpyxl import load_workbook
        titles = load_workbook(out_path, read_only=True).sheetnames  # sheet1.xml, sheet2.xml, in this order
        result["rows"] = {}
        with zipfile.ZipFile(out_path) as zf:
            for i, title in enumerate(titles, 1):
                n, tail = 0, b""
                with zf.open(f"xl/worksheets/sheet{i}.xml") as fh:
                    while block := fh.read(1 << 20):
                        data = tail + block
                        n += len(re.findall(rb"<row[ >]", data))
                        tail = data[-8:]
                        n -= len(re.findall(rb"<row[ >]", tail))
                result["rows"][title] = n - 1
    elif fmt == "json":
        with open(out_path, encoding="utf-8") as fh:
            data = json.load(fh)
        result["rows"] = len(data["encounters"])
except Exception as exc:  # a file that does not read back is the finding
  result["rows"] = f"unreadable: {type(exc).__name__}: {str(exc)[:120]}"
os.unlink(out_path)
print(json.dumps(result))
"""


MEM_LIMIT_MB = 8192


def _env(database_url: str | None, data_dir: str, tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["RVUEDGE_DATA_DIR"] = data_dir
    env.pop("DATABASE_URL", None)
    env["DEBUG"] = "0"  # as deployed: no per-query debug logging
    env["PYTHONPATH"] = str(tree)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def run(code: str, args: list[str], env: dict[str, str], cwd: Path, timeout: float | None = None) -> dict:
    out_dir = tempfile.mkdtemp(prefix="rvuedge-exportbench-out-")  # the downloaded file, removed whatever happens
    try:
        return _run(code, args, {**env, "BENCH_OUT_DIR": out_dir}, cwd, timeout)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


def _run(code: str, args: list[str], env: dict[str, str], cwd: Path, timeout: float | None) -> dict:
    try:
        proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, cwd=cwd,
                              timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        partial = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        if partial.strip():  # the download finished; checking the file did not
            return {**json.loads(partial.strip().splitlines()[-1]), "rows": f"not checked within {timeout:.0f} s"}
        return {"error": f"not finished after {timeout:.0f} s", "s": timeout}
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1][:300] if proc.stderr.strip() else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_database(zip_path: Path, database_url: str | None, rows: int, trees: dict[str, Path],
                   formats: list[str], timeout: float) -> dict:
    data_dir = tempfile.mkdtemp(prefix="rvuedge-exportbench-")
    try:
        seeded = run(SEED_CHILD, [str(zip_path), str(rows)], _env(database_url, data_dir, ROOT), ROOT)
        if "error" in seeded:
            raise SystemExit(f"seeding failed: {seeded['error']}")
        print(json.dumps(seeded), flush=True)
        out = {**seeded, "runs": {}}
        for version, tree in trees.items():
            for fmt in formats:
                if fmt == "raw" and version != "after":
                    continue
                res = run(MEASURE_CHILD, [fmt], _env(database_url, data_dir, tree), tree, timeout)
                res["version"] = version
                print(json.dumps(res), flush=True)
                out["runs"][f"{version}:{fmt}"] = res
        return out
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)  # the SQLite file of the seeded log (a few hundred MB)


def _cell(res: dict | None, expected: object) -> str:
    if res is None:
        return "-"
    if res.get("error"):
        return f"fails ({res['error'][:60]}) after {res.get('s', '?')} s"
    if res.get("status") != 200:
        return f"HTTP {res['status']} after {res['s']} s"
    rows = res.get("rows")
    complete = "complete" if rows == expected else f"**{rows} rows, expected {expected}**"
    return f"{res['s']} s, +{res['rss_growth_mb']} MB ({complete})"


def markdown(results: list[dict], rows: int) -> str:
    lines = [
        f"One user holding {rows:,} live encounters (+{rows // 100:,} in the trash; "
        f"{results[0]['live_lines']:,} live lines), seeded through the import's bulk writer with lines credited by "
        "the engine. Each cell: wall time of `GET /log/export/?format=...` through the Django test client (full "
        "middleware stack, no network), the whole body consumed into a file; the growth of the process's peak RSS "
        "during the download; whether the file holds every row (counted after the measurement). "
        f"{platform.machine()} / Python {platform.python_version()}, {os.cpu_count()} CPUs shared with other jobs "
        f"(load average {os.getloadavg()[0]:.1f} at the end), DEBUG off.",
        "",
        "| Format | " + " | ".join(f"{r['vendor']} before | {r['vendor']} after" for r in results) + " |",
        "|---|" + "---|---|" * len(results),
    ]
    for fmt in FORMATS:
        cells = []
        for r in results:
            expect = {"lines": r["live_lines"], "portal": r["live_lines"], "raw": r["live_lines"],
                      "xlsx": {"Encounters": r["live"], "Lines": r["live_lines"]}, "json": r["all"]}.get(fmt, r["live"])
            if fmt == "raw":
                cells += ["", _cell(r["runs"].get(f"after:{fmt}"), expect)]
            else:
                cells += [_cell(r["runs"].get(f"before:{fmt}"), expect), _cell(r["runs"].get(f"after:{fmt}"), expect)]
        lines.append(f"| {LABELS[fmt]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--zip", type=Path, default=RVU25A_ZIP)
    ap.add_argument("--pg", help="PostgreSQL admin URL (a fresh database is created and dropped)")
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--before", type=Path, help="a checkout of the code before the change (git worktree)")
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--timeout", type=float, default=900, help="seconds one download may take")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--mem-limit-mb", type=int, default=MEM_LIMIT_MB,
                    help="address-space ceiling of each download's process (0: none)")
    ap.add_argument("--append", action="store_true", help="append the table to docs/benchmarks.md")
    args = ap.parse_args()
    os.environ["BENCH_MEM_LIMIT_MB"] = str(args.mem_limit_mb)  # read by each download's process
    trees = {**({"before": args.before.resolve()} if args.before else {}), "after": ROOT}
    formats = args.formats.split(",")
    results = []
    if not args.no_sqlite:
        results.append(bench_database(args.zip, None, args.rows, trees, formats, args.timeout))
    if args.pg:
        name = f"rvuedge_exportbench_{os.getpid()}"
        try:
            results.append(bench_database(args.zip, pg_fresh(args.pg, name), args.rows, trees, formats, args.timeout))
        finally:
            pg_drop(args.pg, name)
    text = markdown(results, args.rows)
    print(text)
    if args.append:
        append_to_docs("## Issue 11: exports of a 300,000-encounter log", "Exports and backups, before and after",
                       "python bench/exports.py" + (" --pg ..." if args.pg else "")
                       + (" --before /tmp/wt-before" if args.before else ""), text)


if __name__ == "__main__":
    main()
