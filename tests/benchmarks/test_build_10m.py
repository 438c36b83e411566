"""Acceptance: build-medicare on a synthetic 10,000,000-row file in <= 90 s and <= 4 GB peak RSS.

Slow (the file is generated once into /tmp, ~3 GB, and reused), so it runs only with RVUEDGE_BENCH_10M=1,
or under CI on the SQLite leg (the DuckDB build does not depend on the database). It drives
bench/benchmarks_build.py, which also times a bare DuckDB GROUP BY scan of the same file as a baseline.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

from tests.conftest import CMS_DIR, PROJECT

pytestmark = pytest.mark.slow

# A minute of a 2-core machine and a gigabyte of memory: opt-in. bench/benchmarks_build.py measures the time and
# peak memory against the budget (90 s, 4 GB); this test checks the result of the full-size build.
RUN = os.environ.get("RVUEDGE_BENCH_10M") == "1"


@pytest.mark.skipif(not RUN, reason="set RVUEDGE_BENCH_10M=1 (bench/benchmarks_build.py times it)")
def test_build_medicare_on_10_million_rows():
    spec = importlib.util.spec_from_file_location("benchmarks_build", PROJECT / "bench" / "benchmarks_build.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.run(10_000_000, bench.DEFAULT_FILE, CMS_DIR / "rvu25a" / "PPRRVU25_JAN.csv")
    build, baseline, summary = result["build"], result["baseline"], result["summary"]
    print(f"\nbuild {build['seconds']:.1f} s / {build['peak_rss_bytes'] / 1024**3:.2f} GB; "
          f"baseline {baseline['seconds']:.1f} s / {baseline['peak_rss_bytes'] / 1024**3:.2f} GB")
    assert summary["rows"] == 10_000_000
    assert 1_000_000 < result["file"]["clinicians"] < 1_200_000
