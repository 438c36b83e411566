"""Logbook benchmark: a user holding 100,000 encounters, on SQLite and PostgreSQL.

    python bench/logbook.py [--zip RVU25A.zip] [--pg postgres://postgres@127.0.0.1:5432/postgres]
                            [--rows 100000] [--requests 200] [--append docs/benchmarks.md]

For each database (a fresh SQLite file; a fresh PostgreSQL database when --pg is given) a child process
migrates, loads RVU25A and then measures, in one run:

* the 100,000-row CSV import (validate every row, then commit), with the row-level report of the bad rows;
* logging one encounter through the real view (``POST /log/``, Django test client, so the figure is server
  time without network), beside a bare ``INSERT`` of the same encounter and lines in one transaction;
* the dashboard (``GET /log/dashboard/``, current year by month and all years by year), beside the bare
  aggregate SQL it is built on (``SUM(total_wrvu) ... GROUP BY date`` over the same range);
* the contracts page of a contract that credits unlike the log: the next view and the view right after logging
  a case, beside the whole contract year re-credited (what every view cost before re-credited days were kept).

Budgets: log p95 <= 50 ms, dashboard p95 <= 300 ms, import <= 20 s.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import RVU25A_ZIP, pg_drop, pg_fresh  # noqa: E402

# Common codes (entries as a clinician would type them); weights skew toward visits like a real log.
ENTRIES = [
    ("99213", 12), ("99214", 14), ("99215", 4), ("99212", 3), ("99204", 2), ("99203", 2), ("99232", 6),
    ("99233", 3), ("99223", 2), ("99238", 1), ("20610-RT", 3), ("99214 20610-LT", 3), ("27447-RT", 2),
    ("27447-50", 1), ("45378", 2), ("45380", 2), ("45378 45380", 1), ("11042", 1), ("36556", 1), ("93010", 2),
    ("71046-26", 2), ("17000 17003x3", 1), ("11102 11103x2", 1), ("64483-RT", 1), ("99291", 1),
    ("99292x2 99291", 1), ("27130-LT", 1), ("49505-RT", 1), ("47562", 1), ("44970-80", 1),
]
ROLES = ["performed", "performed", "performed", "primary", "first_assist", "assisted", "supervised"]
SITES = ["Main OR", "Clinic A", "Clinic B", "ASC", "ED", ""]
CATEGORIES = ["Office visit", "Inpatient", "Injection", "Arthroplasty", "Endoscopy", "Skin", ""]
BAD = [  # (column, value, what the report must say)
    ("entry", "99999", "unknown code"),
    ("date", "2025-13-45", "not a date"),
    ("notes", "MRN 12345678", "patient identifier"),
    ("entry", "27447-ZZZ", "modifier"),
    ("role", "janitor", "unknown role"),
]


def make_import_csv(rows: int, *, seed: int = 42, bad_every: int = 1000, end: dt.date | None = None,
                    years: int = 3) -> tuple[bytes, dict[int, str]]:
    """A CSV of ``rows`` encounters ending at ``end``; every ``bad_every``-th row is bad.

    Returns (file bytes, {file line number: expected error fragment}).
    """
    rnd = random.Random(seed)
    end = end or dt.date.today()
    start = end - dt.timedelta(days=365 * years)
    span = (end - start).days
    entries = [e for e, w in ENTRIES for _ in range(w)]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["Date of service", "Codes", "Role", "Site", "Category", "Notes"])
    bad: dict[int, str] = {}
    for i in range(rows):
        day = start + dt.timedelta(days=span * i // rows)
        row = [day.isoformat(), rnd.choice(entries), rnd.choice(ROLES), rnd.choice(SITES), rnd.choice(CATEGORIES),
               rnd.choice(["", "", "", "difficult airway", "converted to open", "CPT 27447 left knee"])]
        if bad_every and i % bad_every == bad_every - 1:
            col, value, why = BAD[(i // bad_every) % len(BAD)]
            row[{"date": 0, "entry": 1, "role": 2, "notes": 5}[col]] = value
            bad[i + 2] = why
        w.writerow(row)
    return buf.getvalue().encode(), bad


CHILD = r"""
import json, os, sys, time, statistics, datetime as dt
os.environ["DJANGO_SETTINGS_MODULE"] = "rvuedge.settings"
import django
django.setup()
from django.conf import settings
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
settings.ALLOWED_HOSTS = ["*"]
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
call_command("migrate", verbosity=0)
from rvuedge.fees.importer import load_release
load_release(sys.argv[1])
from django.contrib.auth.models import User
from rvuedge.accounts.services import get_profile_for_user
from rvuedge.logbook import imports
sys.path.insert(0, os.getcwd())
from bench.logbook import make_import_csv

rows, nreq = int(sys.argv[2]), int(sys.argv[3])
out = {"vendor": connection.vendor}
user = User.objects.create_user("bench", "bench@example.org", "x")
profile = get_profile_for_user(user)
profile.annual_goal = 8000
profile.save()
data, bad = make_import_csv(rows, end=timezone.localdate())
mapping = {"date": "Date of service", "entry": "Codes", "role": "Role", "site": "Site", "category": "Category", "notes": "Notes"}
t = time.perf_counter()
report = imports.validate_import(user, profile, "csv", data, mapping)
t_validate = time.perf_counter() - t
t = time.perf_counter()
report = imports.commit_import(user, profile, "csv", data, mapping)
t_commit = time.perf_counter() - t
reported = {e["row"] for e in report.errors}
out["import"] = {"rows": report.rows, "created": report.created, "bad_rows": report.error_count,
                 "bad_rows_expected": len(bad), "report_matches": reported == set(bad),
                 "validate_s": round(t_validate, 2), "commit_s": round(t_commit, 2),
                 "total_s": round(t_validate + t_commit, 2)}
from rvuedge.logbook.models import Encounter
out["encounters"] = Encounter.objects.filter(user=user).count()
if connection.vendor == "postgresql":
    # What autovacuum does within a minute of a bulk load: visibility map set, so index-only scans apply.
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE logbook_encounter")
        cur.execute("VACUUM ANALYZE logbook_encounterline")

def p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] * 1000

c = Client()
c.force_login(user)
for _ in range(10):
    c.post("/log/", {"entry": "99214 20610-RT", "role": "performed"})
times = []
for i in range(nreq):
    t = time.perf_counter()
    r = c.post("/log/", {"entry": "99214 20610-RT", "role": "performed", "idem": f"bench:{i}"})
    times.append(time.perf_counter() - t)
    assert r.status_code == 302, r.status_code
out["log"] = {"n": nreq, "p50_ms": round(p(times, .5), 2), "p95_ms": round(p(times, .95), 2)}

enc_table, line_table = "logbook_encounter", "logbook_encounterline"
now = timezone.now()
bare = []
enc_cols = ("user_id, uid, date, entry, setting, pos, site, role, attending, category, notes, total_wrvu, "
            "total_wrvu_exact, total_payment, release, policy_name, policy, locality, source, flags, idempotency_key, "
            "created_at, updated_at")
line_cols = ("encounter_id, user_id, date, position, code, modifiers, units, description, wrvu, wrvu_exact, payment, "
             "explanation")
import uuid
ph = "%s"
for i in range(nreq):
    t = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        u = uuid.uuid4().hex if connection.vendor == "sqlite" else str(uuid.uuid4())
        cur.execute(f"INSERT INTO {enc_table} ({enc_cols}) VALUES ({', '.join([ph] * 23)})",
                    [user.pk, u, dt.date.today(), "99214 20610-RT", "non_facility", "", "", "performed", "", "", "",
                     "2.71", "2.71", "188.58", "RVU25A", "cms_mirror", '{"wrvu_profile": "cms_mirror"}', "national",
                     "{}", "[]", f"bare:{i}", now, now])
        cur.execute(f"SELECT id FROM {enc_table} WHERE user_id = %s AND idempotency_key = %s", [user.pk, f"bare:{i}"])
        eid = cur.fetchone()[0]
        for pos, (code, w) in enumerate((("99214", "1.92"), ("20610", "0.79"))):
            cur.execute(f"INSERT INTO {line_table} ({line_cols}) VALUES ({', '.join([ph] * 12)})",
                        [eid, user.pk, dt.date.today(), pos, code, "", 1, "", w, w, "1.00", '{"wrvu_steps": []}'])
    bare.append(time.perf_counter() - t)
out["bare_insert"] = {"n": nreq, "p50_ms": round(p(bare, .5), 2), "p95_ms": round(p(bare, .95), 2)}

today = timezone.localdate()
def dash(url, n=40):
    for _ in range(3):
        c.get(url)
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        r = c.get(url)
        ts.append(time.perf_counter() - t)
        assert r.status_code == 200
    return {"p50_ms": round(p(ts, .5), 2), "p95_ms": round(p(ts, .95), 2)}

def bare_sql(start, end, n=40):
    sql = (f"SELECT date, SUM(total_wrvu), SUM(total_payment), COUNT(*) FROM {enc_table} "
           "WHERE user_id = %s AND deleted_at IS NULL AND date >= %s AND date <= %s GROUP BY date ORDER BY date")
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(sql, [user.pk, start, end])
            cur.fetchall()
        ts.append(time.perf_counter() - t)
    return {"p50_ms": round(p(ts, .5), 2), "p95_ms": round(p(ts, .95), 2)}

out["dashboard_month"] = dash("/log/dashboard/")
out["bare_sql_month"] = bare_sql(dt.date(today.year, 1, 1), dt.date(today.year, 12, 31))
out["dashboard_year"] = dash("/log/dashboard/?period=year")
out["bare_sql_year"] = bare_sql(dt.date(today.year - 3, 1, 1), dt.date(today.year, 12, 31))
out["history"] = dash("/log/history/", n=20)
out["entry_page"] = dash("/log/", n=20)

# A contract that credits differently from the log (CMS mirror; the log credits with no reductions): the
# contracts page re-credits the contract year. Cold = nothing kept (what every view cost before the kept days);
# warm = the next view; after a case = the view right after logging one encounter (its day is re-credited).
from django.core.cache import caches
from rvuedge.benchmarks.models import Contract
profile.credit_policy = "no_reductions"
profile.save()
Contract.objects.create(user=user, name="Mirror", start=dt.date(today.year, 1, 1),
                        terms={"tiers": [{"rate": "50"}], "credit_policy": "cms_mirror"})
def contract_views(n=5):
    cold, warm, after = [], [], []
    for i in range(n):
        caches["recredit"].clear()
        t = time.perf_counter(); r = c.get("/benchmarks/contracts/"); cold.append(time.perf_counter() - t)
        assert r.status_code == 200
        t = time.perf_counter(); c.get("/benchmarks/contracts/"); warm.append(time.perf_counter() - t)
        c.post("/log/", {"entry": "99214 20610-RT", "role": "performed", "idem": f"contract:{i}"})
        t = time.perf_counter(); c.get("/benchmarks/contracts/"); after.append(time.perf_counter() - t)
    ms = lambda ts: {"p50_ms": round(p(ts, .5), 2), "max_ms": round(max(ts) * 1000, 2)}
    return {"encounters_this_year": Encounter.objects.filter(user=user, date__year=today.year).count(),
            "cold": ms(cold), "warm": ms(warm), "after_a_case": ms(after)}
out["contract_page"] = contract_views()
print(json.dumps(out))
"""


def run_child(zip_path: Path, database_url: str | None, rows: int, nreq: int) -> dict:
    env = dict(os.environ)
    env["RVUEDGE_DATA_DIR"] = tempfile.mkdtemp(prefix="rvuedge-logbench-")
    env.pop("DATABASE_URL", None)
    env["DEBUG"] = "0"  # as deployed: no per-query debug logging
    if database_url:
        env["DATABASE_URL"] = database_url
    proc = subprocess.run([sys.executable, "-c", CHILD, str(zip_path), str(rows), str(nreq)], env=env,
                          capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-4000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ok(value: float, budget: float) -> str:
    return "ok" if value <= budget else "**over budget**"


def markdown(results: list[dict], rows: int, nreq: int) -> str:
    import platform

    lines = [
        "", f"## Logbook (issue 5) — run of {dt.date.today().isoformat()}", "",
        f"`python bench/logbook.py` on {platform.machine()} / Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, DEBUG off; the machine was shared with other engineers' jobs (load average "
        f"{os.getloadavg()[0]:.1f} at the end), so treat the figures as upper bounds. One user holding {rows:,} imported encounters (plus the ones logged during the run). "
        f"Server time = Django test client in-process (full middleware stack, no network); p50/p95 over {nreq} "
        "requests (dashboard: 40). Import = the confirm step (it re-checks every row, then writes); the preview "
        "step before it checks every row without writing. On PostgreSQL the run does `VACUUM ANALYZE` after the "
        "import, as autovacuum would shortly after a bulk load.",
        "",
        "| Measure | " + " | ".join(r["vendor"] for r in results) + " | Budget |",
        "|---|" + "---|" * len(results) + "---|",
    ]

    def row(label: str, fn, budget: str = "") -> None:
        lines.append(f"| {label} | " + " | ".join(fn(r) for r in results) + f" | {budget} |")

    row(f"Import {rows:,}-row CSV, confirm step: check every row + write (s)",
        lambda r: f"**{r['import']['commit_s']}** ({ok(r['import']['commit_s'], 20)})", "≤ 20 s")
    row("… the preview step before it: check every row, write nothing (s)", lambda r: f"{r['import']['validate_s']}")
    row("Import: bad rows reported / expected", lambda r: f"{r['import']['bad_rows']} / {r['import']['bad_rows_expected']}"
        f" ({'exact match' if r['import']['report_matches'] else 'MISMATCH'})")
    row("Log one encounter, POST /log/ p50 / p95 (ms)",
        lambda r: f"{r['log']['p50_ms']} / **{r['log']['p95_ms']}** ({ok(r['log']['p95_ms'], 50)})", "p95 ≤ 50 ms")
    row("… beside bare INSERT (encounter + 2 lines) p50 / p95 (ms)",
        lambda r: f"{r['bare_insert']['p50_ms']} / {r['bare_insert']['p95_ms']}")
    row("Dashboard, this year by month p50 / p95 (ms)",
        lambda r: f"{r['dashboard_month']['p50_ms']} / **{r['dashboard_month']['p95_ms']}** "
                  f"({ok(r['dashboard_month']['p95_ms'], 300)})", "p95 ≤ 300 ms")
    row("… beside bare aggregate SQL p50 / p95 (ms)",
        lambda r: f"{r['bare_sql_month']['p50_ms']} / {r['bare_sql_month']['p95_ms']}")
    row("Dashboard, all years by year p50 / p95 (ms)",
        lambda r: f"{r['dashboard_year']['p50_ms']} / **{r['dashboard_year']['p95_ms']}** "
                  f"({ok(r['dashboard_year']['p95_ms'], 300)})", "p95 ≤ 300 ms")
    row("… beside bare aggregate SQL p50 / p95 (ms)",
        lambda r: f"{r['bare_sql_year']['p50_ms']} / {r['bare_sql_year']['p95_ms']}")
    row("History page p50 / p95 (ms)", lambda r: f"{r['history']['p50_ms']} / {r['history']['p95_ms']}")
    row("Entry page p50 / p95 (ms)", lambda r: f"{r['entry_page']['p50_ms']} / {r['entry_page']['p95_ms']}")
    row("Contracts page, contract crediting unlike the log: next view, p50 / max (ms)",
        lambda r: f"**{r['contract_page']['warm']['p50_ms']}** / {r['contract_page']['warm']['max_ms']}")
    row("… right after logging a case (its day re-credited), p50 / max (ms)",
        lambda r: f"{r['contract_page']['after_a_case']['p50_ms']} / {r['contract_page']['after_a_case']['max_ms']}")
    row("… beside the whole year re-credited (nothing kept: every view before), p50 / max (ms)",
        lambda r: f"{r['contract_page']['cold']['p50_ms']} / {r['contract_page']['cold']['max_ms']} "
                  f"({r['contract_page']['encounters_this_year']:,} encounters this year)")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--zip", type=Path, default=RVU25A_ZIP)
    ap.add_argument("--pg", help="PostgreSQL admin URL (a fresh database is created and dropped)")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--append", type=Path, help="append a markdown section to this file (docs/benchmarks.md)")
    args = ap.parse_args()
    results = [run_child(args.zip, None, args.rows, args.requests)]
    print(json.dumps(results[-1], indent=1), flush=True)
    if args.pg:
        name = f"rvuedge_logbench_{os.getpid()}"
        try:
            results.append(run_child(args.zip, pg_fresh(args.pg, name), args.rows, args.requests))
            print(json.dumps(results[-1], indent=1), flush=True)
        finally:
            pg_drop(args.pg, name)
    text = markdown(results, args.rows, args.requests)
    print(text)
    if args.append:
        with open(args.append, "a", encoding="utf-8") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
