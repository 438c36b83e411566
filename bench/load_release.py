"""Time loading RVU25A.zip into SQLite and PostgreSQL beside a bare csv-module parse of the same CSVs.

    python bench/load_release.py [--zip PATH] [--pg postgres://postgres@127.0.0.1:5432/postgres] [--repeat 3]

Each database load runs in a fresh database.  The baseline reads the same five CSVs out of the
zip with ``csv.reader`` and does nothing else.  Prints seconds and the ratio load / baseline.
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
from bench._common import pg_drop, pg_fresh  # noqa: E402

DEFAULT_ZIP = Path(os.environ.get("RVUEDGE_CMS_DATA", ROOT.parent / "shared" / "data" / "cms")) / "rvu25a" / "RVU25A.zip"

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--zip", type=Path, default=DEFAULT_ZIP)
    ap.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    base = statistics.median(bare_parse(args.zip) for _ in range(max(args.repeat, 3)))
    print(f"baseline: csv.reader over the 5 CSVs in {args.zip.name}: {base:.3f} s")
    sqlite = statistics.median(load_once(args.zip, None) for _ in range(args.repeat))
    print(f"load into SQLite:      {sqlite:.3f} s   ({sqlite / base:.1f}x baseline; target <= 3 s)")
    try:
        times = []
        for i in range(args.repeat):
            url = pg_fresh(args.pg, f"rvuedge_bench_{os.getpid()}_{i}")
            try:
                times.append(load_once(args.zip, url))
            finally:
                pg_drop(args.pg, url.rsplit("/", 1)[1])
        pg = statistics.median(times)
        print(f"load into PostgreSQL:  {pg:.3f} s   ({pg / base:.1f}x baseline)")
    except Exception as exc:  # noqa: BLE001 - the bench still reports SQLite
        print(f"PostgreSQL skipped: {exc}")


if __name__ == "__main__":
    main()
