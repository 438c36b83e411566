"""Time `rvuedge benchmarks build-medicare` on a synthetic 10,000,000-row CMS file beside a bare DuckDB scan.

    python bench/benchmarks_build.py [--rows 10000000] [--file /tmp/rvuedge-medicare-10m.csv] [--check]

1. Generates the synthetic "by Provider and Service" file once (kept in /tmp, never in the repository;
   regenerated only when the rows, seed or release file change).
2. Loads RVU25A into a throw-away SQLite database (not timed).
3. Baseline: a child process that runs a bare DuckDB ``GROUP BY HCPCS_Cd`` scan of the same file with the
   same limits (3 GB, 2 threads).
4. The build: a child ``rvuedge benchmarks build-medicare FILE --release RVU25A``.

Each child's wall time and peak RSS (``os.wait4`` rusage of that child) are printed; ``--check`` exits
non-zero when the build takes more than 90 s or 4 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import CMS  # noqa: E402

DEFAULT_FILE = Path(tempfile.gettempdir()) / "rvuedge-medicare-10m.csv"
LIMIT_SECONDS = 90.0
LIMIT_BYTES = 4 * 1024**3

BASELINE = r"""
import sys
sys.path.insert(0, sys.argv[2])
from pathlib import Path
from rvuedge.benchmarks import medicare
path = Path(sys.argv[1])
con = medicare.connect("3GB", 2)
rows = con.execute(
    "SELECT count(*), sum(n) FROM (SELECT HCPCS_Cd, count(*) AS n, sum(Tot_Srvcs) AS s FROM "
    + medicare.read_csv_sql(path, medicare.read_header(path)) + " GROUP BY HCPCS_Cd)").fetchone()
print(rows)
"""


def measure_isolated(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, object]:
    """Run ``cmd`` under a tiny runner process so RUSAGE_CHILDREN holds this child alone."""
    runner = (
        "import json, resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "s = time.perf_counter() - t\n"
        "ru = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'seconds': s, 'returncode': p.returncode, 'maxrss_kb': ru.ru_maxrss,\n"
        "                  'stdout': p.stdout[-4000:], 'stderr': p.stderr[-4000:]}))\n"
    )
    done = subprocess.run([sys.executable, "-c", runner, *cmd], env=env, cwd=ROOT, capture_output=True, text=True,
                          check=True)
    result = json.loads(done.stdout)
    result["peak_rss_bytes"] = result.pop("maxrss_kb") * 1024  # Linux reports kilobytes
    return result


def ensure_file(path: Path, rows: int, release_file: Path, seed: int = 2023) -> dict[str, object]:
    meta_path = path.with_name(path.name + ".json")
    want = {"rows": rows, "seed": seed, "release_file": str(release_file),
            "release_size": release_file.stat().st_size, "generator": 1}
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if all(meta.get(k) == v for k, v in want.items()):
            return {**meta, "generated_seconds": None}
    from rvuedge.benchmarks import synth

    t = time.perf_counter()
    counts = synth.generate_file(path, rows, release_file, seed=seed,
                                 report=lambda m: print(f"  synth: {m}", file=sys.stderr))
    meta = {**want, **counts, "bytes": path.stat().st_size, "generated_seconds": round(time.perf_counter() - t, 1)}
    meta_path.write_text(json.dumps(meta))
    return meta


def prepare_db(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ, RVUEDGE_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="rvuedge.settings")
    env.pop("DATABASE_URL", None)
    for args in (["migrate", "-v", "0"], ["data", "load", str(CMS / "rvu25a" / "RVU25A.zip")]):
        subprocess.run([sys.executable, "-m", "rvuedge.cli", *args], env=env, cwd=ROOT, check=True,
                       capture_output=True, text=True)
    return env


def run(rows: int, path: Path, release_file: Path) -> dict[str, object]:
    meta = ensure_file(path, rows, release_file)
    with tempfile.TemporaryDirectory(prefix="rvuedge-bench-") as tmp:
        env = prepare_db(Path(tmp))
        baseline = measure_isolated([sys.executable, "-c", BASELINE, str(path), str(ROOT)], env)
        build = measure_isolated([sys.executable, "-m", "rvuedge.cli", "benchmarks", "build-medicare", str(path),
                                  "--release", "RVU25A", "--json"], env)
    if build["returncode"] != 0:
        raise RuntimeError("build-medicare failed:\n" + str(build["stderr"]))
    summary = json.loads(str(build["stdout"]))
    return {"file": meta, "baseline": baseline, "build": build, "summary": summary}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--file", type=Path, default=DEFAULT_FILE)
    ap.add_argument("--release-file", type=Path, default=CMS / "rvu25a" / "PPRRVU25_JAN.csv")
    ap.add_argument("--check", action="store_true", help="exit 1 above 90 s or 4 GB")
    args = ap.parse_args()
    r = run(args.rows, args.file, args.release_file)
    f, b, base, s = r["file"], r["build"], r["baseline"], r["summary"]
    gb = 1024**3
    print(f"file: {args.file} ({f['rows']:,} rows, {f.get('clinicians', 0):,} clinicians, "
          f"{f.get('bytes', args.file.stat().st_size) / gb:.2f} GB)")
    print(f"baseline (bare DuckDB GROUP BY scan): {base['seconds']:.1f} s, peak RSS {base['peak_rss_bytes'] / gb:.2f} GB")
    print(f"build-medicare:                       {b['seconds']:.1f} s, peak RSS {b['peak_rss_bytes'] / gb:.2f} GB "
          f"(ratio {b['seconds'] / base['seconds']:.2f}x baseline)")
    print(f"  in-process timings: {s['timings']}; {s['clinicians_with_wrvu']:,} clinicians with wRVUs, "
          f"{s['specialties']} specialties, {s['codes']:,} codes")
    ok = b["seconds"] <= LIMIT_SECONDS and b["peak_rss_bytes"] <= LIMIT_BYTES
    print("within limits (<= 90 s, <= 4 GB)" if ok else "OVER THE LIMITS (90 s, 4 GB)")
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
