"""Time loading RVU25A.zip into SQLite and PostgreSQL beside a bare csv-module parse of the same CSVs.

    python bench/load_release.py [--zip PATH] [--pg postgres://postgres@127.0.0.1:5432/postgres] [--repeat 3]

Each database load runs in a fresh database.  The baseline reads the same five CSVs out of the
zip with ``csv.reader`` and does nothing else.  Prints seconds and the ratio load / baseline.

Also prints the *floor* of any load into each database, measured in the same run: the baseline's rows
written as untyped text, one raw-driver ``executemany`` (SQLite) or ``COPY`` (PostgreSQL) per file into
tables with no index, in one transaction; no types, checks, indexes, provenance or search index.  A load
cannot be faster than that, so floor / baseline shows how much of a ratio target is left for the work.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import RVU25A_ZIP, pg_drop, pg_fresh  # noqa: E402

CHILD = r"""
import os, sys, time, django
os.environ["DJANGO_SETTINGS_MODULE"] = "rvuedge.settings"
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from rvuedge.fees.importer import load_release
t = time.perf_counter()
load_release(sys.argv[1])
print(f"{time.perf_counter() - t:.4f}")
"""


def bare_parse(zip_path: Path) -> float:
    with zipfile.ZipFile(zip_path) as zf:
        members = [n for n in zf.namelist() if n.lower().endswith(".csv")]
        t = time.perf_counter()
        rows = 0
        for name in members:
            text = zf.read(name).decode("cp1252")
            for _row in csv.reader(io.StringIO(text)):
                rows += 1
        return time.perf_counter() - t


def _rows_by_file(zip_path: Path) -> dict[str, list[list[str]]]:
    with zipfile.ZipFile(zip_path) as zf:
        members = [n for n in zf.namelist() if n.lower().endswith(".csv")]
        return {n: list(csv.reader(io.StringIO(zf.read(n).decode("cp1252")))) for n in members}


def floor_sqlite(zip_path: Path) -> float:
    """Bare parse plus untyped rows into index-free SQLite tables (raw sqlite3, one transaction)."""
    import sqlite3

    tmp = Path(tempfile.mkdtemp(prefix="rvuedge-floor-")) / "floor.db"
    t = time.perf_counter()
    files = _rows_by_file(zip_path)
    con = sqlite3.connect(tmp, isolation_level=None)
    con.execute("BEGIN")
    for i, rows in enumerate(files.values()):
        width = max(map(len, rows))
        con.execute(f"CREATE TABLE t{i} ({', '.join(f'c{j}' for j in range(width))})")
        con.executemany(f"INSERT INTO t{i} VALUES ({', '.join('?' * width)})",
                        (r + [""] * (width - len(r)) for r in rows))
    con.execute("COMMIT")
    elapsed = time.perf_counter() - t
    con.close()
    tmp.unlink()
    return elapsed


def floor_pg(zip_path: Path, database_url: str) -> float:
    """Bare parse plus untyped rows into index-free PostgreSQL tables (psycopg COPY, one transaction)."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        t = time.perf_counter()
        files = _rows_by_file(zip_path)
        with conn.cursor() as cur:
            for i, rows in enumerate(files.values()):
                width = max(map(len, rows))
                cur.execute(f"CREATE TABLE t{i} ({', '.join(f'c{j} text' for j in range(width))})")
                with cur.copy(f"COPY t{i} FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row(r + [""] * (width - len(r)))
        conn.commit()
        return time.perf_counter() - t


def typed_parse(zip_path: Path) -> float:
    """Our parsers alone (typed rows, every indicator checked): the least a load that keeps types can parse."""
    sys.path.insert(0, str(ROOT))
    from rvuedge.fees.parsers import parse_anes, parse_gpci, parse_locco, parse_oppscap, parse_pprrvu

    parsers = {"PPRRVU": parse_pprrvu, "GPCI": parse_gpci, "ANES": parse_anes, "OPPSCAP": parse_oppscap}
    with zipfile.ZipFile(zip_path) as zf:
        members = [n for n in zf.namelist() if n.lower().endswith(".csv")]
        t = time.perf_counter()
        for name in members:
            up = name.upper()
            parse = next((f for k, f in parsers.items() if up.startswith(k)), parse_locco)
            parse(zf.read(name), name)
        return time.perf_counter() - t


def load_once(zip_path: Path, database_url: str | None) -> float:
    env = dict(os.environ)
    tmp = tempfile.mkdtemp(prefix="rvuedge-bench-")
    env["RVUEDGE_DATA_DIR"] = tmp
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    out = subprocess.run([sys.executable, "-c", CHILD, str(zip_path)], env=env, capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return float(out.stdout.strip().splitlines()[-1])


def _each_in_fresh_pg(admin_url: str, prefix: str, n: int, run) -> list[float]:
    """``run(url)`` n times, each in a fresh PostgreSQL database dropped afterwards."""
    out = []
    for i in range(n):
        url = pg_fresh(admin_url, f"rvuedge_{prefix}_{os.getpid()}_{i}")
        try:
            out.append(run(url))
        finally:
            pg_drop(admin_url, url.rsplit("/", 1)[1])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--zip", type=Path, default=RVU25A_ZIP)
    ap.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    base = statistics.median(bare_parse(args.zip) for _ in range(max(args.repeat, 3)))
    print(f"baseline: csv.reader over the 5 CSVs in {args.zip.name}: {base:.3f} s")
    typed = statistics.median(typed_parse(args.zip) for _ in range(max(args.repeat, 3)))
    print(f"  our parsers alone (typed, checked rows, nothing written): {typed:.3f} s   ({typed / base:.1f}x baseline)")
    sqlite = statistics.median(load_once(args.zip, None) for _ in range(args.repeat))
    print(f"load into SQLite:      {sqlite:.3f} s   ({sqlite / base:.1f}x baseline; target <= 3 s)")
    floor = statistics.median(floor_sqlite(args.zip) for _ in range(max(args.repeat, 3)))
    print(f"  floor, untyped rows into index-free SQLite tables: {floor:.3f} s   ({floor / base:.1f}x baseline)")
    try:
        pg = statistics.median(_each_in_fresh_pg(args.pg, "bench", args.repeat, lambda url: load_once(args.zip, url)))
        print(f"load into PostgreSQL:  {pg:.3f} s   ({pg / base:.1f}x baseline)")
        floors = _each_in_fresh_pg(args.pg, "floor", max(args.repeat, 3), lambda url: floor_pg(args.zip, url))
        floor = statistics.median(floors)
        print(f"  floor, untyped rows into index-free PostgreSQL tables: {floor:.3f} s   ({floor / base:.1f}x baseline)")
    except Exception as exc:  # noqa: BLE001 - the bench still reports SQLite
        print(f"PostgreSQL skipped: {exc}")


if __name__ == "__main__":
    main()
