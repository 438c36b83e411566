"""The synthetic Medicare file and build-medicare's figures, pinned byte for byte on a small sample (issue 13: the
long functions were split into named steps with no change of output; these pins say so)."""

from __future__ import annotations

import hashlib
import io
import json

import pytest

from rvuedge.benchmarks import medicare, synth
from rvuedge.fees.parsers import parse_pprrvu

SAMPLE_SHA256 = "3f2ce1baf50a02c9788d7868e0d36b88b9c8868e0bf637e330d7132f22b8f183"
BUILD_SHA256 = "35b29da900c216c92481ff9377f2cbbefbb72ae2a865b931a1119e18e5defe53"


@pytest.fixture(scope="module")
def release(cms_dir):
    return cms_dir / "rvu25a" / "PPRRVU25_JAN.csv"


def test_the_synthetic_sample_is_unchanged(release):
    text = synth.sample_text(3000, release, seed=11)
    assert len(text) == 890_398
    assert hashlib.sha256(text.encode()).hexdigest() == SAMPLE_SHA256


def test_a_synthetic_file_stops_at_the_rows_asked_for(release):
    out = io.StringIO()
    counts = synth.generate(out, 45_000, release, seed=3, report=lambda _m: None)
    assert counts["rows"] == 45_000
    assert out.getvalue().count("\n") == 45_001


def test_build_medicare_figures_are_unchanged(release, tmp_path):
    path = tmp_path / "mup.csv"
    path.write_text(synth.sample_text(3000, release, seed=11))
    work = {r.hcpcs: r.work_rvu for r in parse_pprrvu(release.read_bytes(), release.name).rows if not r.modifier}
    said: list[str] = []
    r = medicare.build(path, work, min_clinicians=5, top_n=3, report=said.append)
    assert (r.rows, r.clinicians, r.clinicians_with_wrvu, len(r.specialties), len(r.codes)) == (3000, 334, 312, 15, 560)
    assert str(r.unmatched_services) == "41972.800"
    assert said[0] == "reading mup.csv with DuckDB (2 threads, memory limit 3GB)"
    assert said[1].startswith("3,000 rows, 334 clinicians (312 with wRVUs), 15 specialties, 560 codes in ")
    assert str(r.specialties[0]) == (
        "SpecialtyStats(specialty='Anesthesiology', clinicians=10, percentiles={25: Decimal('50.53'), "
        "50: Decimal('310.92'), 75: Decimal('563.60'), 90: Decimal('652.78')})")
    blob = json.dumps([
        "F", r.rows, r.clinicians, r.clinicians_with_wrvu,
        [[s.specialty, s.clinicians, {k: str(v) for k, v in s.percentiles.items()}] for s in r.specialties],
        r.skipped_specialties,
        [[c.hcpcs, str(c.services), c.clinicians, str(c.work_rvu), [[a, str(b), str(d)] for a, b, d in c.top]]
         for c in r.codes],
        str(r.unmatched_services), sorted(r.timings)], default=str)
    assert r.file == str(path)
    assert hashlib.sha256(blob.encode()).hexdigest() == BUILD_SHA256
