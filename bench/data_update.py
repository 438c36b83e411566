"""`rvuedge data update`: how long "what changed" takes (RVU25A -> RVU26C, 18,865 and 19,356 rows), and a run
that finds nothing to do (what cron does most weeks).

    python bench/data_update.py [--database-url postgres://...] [--repeat 5] [--write]

In a throw-away database (a temporary SQLite file, or a fresh PostgreSQL database named ``bench_update`` on the
server of ``--database-url``) with RVU25A and RVU26C loaded, times, median of ``--repeat`` runs:

* baseline: the two releases' rows read with a bare cursor (``SELECT hcpcs, modifier, … FROM fees_feerow``),
  no conversion, nothing else — the floor of any diff over the database;
* reading them as the command does (``release_rows``: Decimals through the ORM);
* :func:`rvuedge.fees.update.diff_releases` alone;
* ``rvuedge data update --source MIRROR --json`` in-process when the newest release is loaded (nothing to do).

``--write`` appends the table to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import CMS, append_to_docs, pg_drop, pg_fresh  # noqa: E402


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="postgres://… of a server where bench_update may be created")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="append the results to docs/benchmarks.md")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    os.environ["RVUEDGE_DATA_DIR"] = tmp.name
    os.environ.pop("RVUEDGE_CMS_DATA", None)
    admin = args.database_url
    if admin:
        os.environ["DATABASE_URL"] = pg_fresh(admin, "bench_update")
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rvuedge.settings")
    import django

    django.setup()
    try:
        run(args, tmp.name)
    finally:
        from django.db import connections

        connections.close_all()
        if admin:
            pg_drop(admin, "bench_update")
        tmp.cleanup()


def run(args: argparse.Namespace, tmp: str) -> None:
    from django.core.management import call_command
    from django.db import connection

    from rvuedge.fees import update
    from rvuedge.fees.importer import load_release
    from rvuedge.fees.management.commands.data import release_rows
    from rvuedge.fees.models import Release

    call_command("migrate", verbosity=0)
    print("loading RVU25A and RVU26C …", flush=True)
    load_release(str(CMS / "rvu25a" / "RVU25A.zip"))
    load_release(str(CMS / "rvu26c"))
    old, new = Release.objects.get(name="RVU25A"), Release.objects.get(name="RVU26C")
    mirror = Path(tmp) / "mirror"
    mirror.mkdir()
    for name in ("rvu25a", "rvu26c"):
        (mirror / name).symlink_to(CMS / name, target_is_directory=True)

    def bare():
        with connection.cursor() as cur:
            for rel in (old, new):
                cur.execute("SELECT hcpcs, modifier, description, status, work_rvu, nonfac_total, fac_total "
                            "FROM fees_feerow WHERE release_id = %s", [rel.pk])
                cur.fetchall()

    def read():
        return release_rows(old), release_rows(new)

    rows_old, rows_new = read()

    def diff():
        return update.diff_releases("RVU25A", rows_old, "RVU26C", rows_new)

    def nothing_to_do():
        out = io.StringIO()
        call_command("data", "update", "--source", str(mirror), "--json", stdout=out)
        assert '"up_to_date"' in out.getvalue()

    print(diff().summary())
    results = [
        ("Baseline: both releases' rows, bare cursor, no conversion", median_time(bare, args.repeat)),
        ("Reading them as `data update` does (`release_rows`, Decimals)", median_time(read, args.repeat)),
        ("`diff_releases` (added, deleted, work and total changes, sorted)", median_time(diff, args.repeat)),
        ("`rvuedge data update --source MIRROR --json`, nothing to do", median_time(nothing_to_do, args.repeat)),
    ]
    base = results[0][1]
    db = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    lines = ["| Measure | Time | Ratio to baseline |", "|---|---|---|"]
    lines += [f"| {what} | {t * 1000:.0f} ms | {t / base:.1f}× |" for what, t in results]
    diff_total = results[1][1] + results[2][1]
    text = (f"{db}, Python {platform.python_version()}, median of {args.repeat}. RVU25A -> RVU26C: 18,865 and "
            f"19,356 rows; what changed (read + diff) takes {diff_total * 1000:.0f} ms in all.\n\n" + "\n".join(lines))
    print(text)
    if args.write:
        append_to_docs("## CMS data update (issue 12)", f"What changed, RVU25A -> RVU26C ({db})",
                       "python bench/data_update.py" + (" --database-url …" if args.database_url else ""), text)


if __name__ == "__main__":
    main()
