"""build-medicare on a 10,000-row synthetic file: percentiles equal a pure-Python reference; code volumes."""

from __future__ import annotations

import csv
import io
import json
import urllib.error
from collections import defaultdict
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rvuedge.benchmarks import medicare, synth
from rvuedge.benchmarks.models import BenchmarkSource, BenchmarkStat, CodeVolume
from rvuedge.benchmarks.queries import code_specialty_shares, code_volume
from rvuedge.fees.models import FeeRow

pytestmark = pytest.mark.django_db
ROWS = 10_000


@pytest.fixture(scope="module")
def sample(tmp_path_factory, cms_dir):
    path = tmp_path_factory.mktemp("medicare") / "MUP_PHY_R25_P05_V20_D23_Prov_Svc_synthetic.csv"
    counts = synth.generate_file(path, ROWS, cms_dir / "rvu25a" / "PPRRVU25_JAN.csv", seed=11)
    assert counts["rows"] == ROWS
    return path


def reference(path, work):
    """Per-clinician Medicare wRVUs and per-specialty percentiles, the slow obvious way."""
    per_npi: dict[str, D] = defaultdict(D)
    spec_of: dict[str, str] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            npi = row["Rndrng_NPI"]
            spec_of[npi] = row["Rndrng_Prvdr_Type"]
            per_npi[npi] += D(row["Tot_Srvcs"]) * work.get(row["HCPCS_Cd"], D(0))
    by_spec: dict[str, list[D]] = defaultdict(list)
    for npi, w in per_npi.items():
        if w > 0:
            by_spec[spec_of[npi]].append(w)
    out = {}
    for spec, values in by_spec.items():
        if len(values) < 11:
            continue
        values.sort()
        pcts = {}
        for p in (25, 50, 75, 90):
            pos = D(len(values) - 1) * p / 100
            lo = int(pos)
            hi = min(lo + 1, len(values) - 1)
            pcts[p] = (values[lo] + (values[hi] - values[lo]) * (pos - lo)).quantize(D("0.01"), "ROUND_HALF_UP")
        out[spec] = (len(values), pcts)
    return out


def test_the_synthetic_file_has_exactly_the_cms_columns_and_no_real_identities(sample):
    with open(sample, newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == medicare.CMS_COLUMNS
        rows = list(reader)
    assert len(rows) == ROWS
    assert all(r["Rndrng_NPI"].startswith("9") and len(r["Rndrng_NPI"]) == 10 for r in rows)
    assert all(r["Rndrng_Prvdr_Last_Org_Name"].startswith(("SYNTH-LAST-", "SYNTHETIC ORGANIZATION")) for r in rows)
    assert all(int(r["Tot_Benes"]) >= 11 and D(r["Tot_Srvcs"]) >= 0 for r in rows)
    assert {r["Place_Of_Srvc"] for r in rows} == {"F", "O"}
    npis = {r["Rndrng_NPI"] for r in rows}
    assert 900 < len(npis) < 1400  # about 9 rows per clinician
    assert len({r["Rndrng_Prvdr_Type"] for r in rows}) > 25


def test_build_medicare_matches_the_reference(sample):
    out = io.StringIO()
    call_command("benchmarks", "build-medicare", str(sample), "--release", "RVU25A", "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["rows"] == ROWS and summary["year"] == 2023
    source = BenchmarkSource.objects.get(pk=summary["source_id"])
    assert source.medicare_only and source.kind == "computed" and source.release == "RVU25A"
    assert source.wrvu_label == "Medicare-only wRVUs"

    work = dict(FeeRow.objects.filter(release__name="RVU25A", modifier="").values_list("hcpcs", "work_rvu"))
    expected = reference(sample, work)
    stats = {s.specialty: s for s in BenchmarkStat.objects.filter(source=source)}
    assert set(stats) == set(expected)
    for spec, (n, pcts) in expected.items():
        s = stats[spec]
        assert s.n == n, spec
        assert (s.p25, s.p50, s.p75, s.p90) == (pcts[25], pcts[50], pcts[75], pcts[90]), spec
    assert source.clinicians == sum(n for n, _ in expected.values()) + sum(
        sk["clinicians"] for sk in summary["skipped_specialties"])


def test_code_volumes_fill_the_specialty_shares(sample):
    call_command("benchmarks", "build-medicare", str(sample), "--source", "Synthetic", stdout=io.StringIO())
    with open(sample, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["HCPCS_Cd"] == "99214"]
    total = sum(D(r["Tot_Srvcs"]) for r in rows)
    by_spec: dict[str, D] = defaultdict(D)
    for r in rows:
        by_spec[r["Rndrng_Prvdr_Type"]] += D(r["Tot_Srvcs"])
    vol = CodeVolume.objects.get(source__name="Synthetic", hcpcs="99214")
    assert vol.total_services == total
    assert vol.clinicians == len({r["Rndrng_NPI"] for r in rows})
    shares = code_specialty_shares("99214", source="Synthetic")
    top = max(by_spec.items(), key=lambda kv: (kv[1], kv[0]))
    assert shares[0]["specialty"] == top[0]
    assert shares[0]["share"] == (top[1] / total).quantize(D("0.0001"), "ROUND_HALF_UP")
    assert shares[0]["percent"].endswith("%") and shares[0]["medicare_only"] is True
    assert len(shares) <= 5 and shares == sorted(shares, key=lambda s: -s["share"])
    assert code_volume("99214")["source"]["name"] == "Synthetic"
    assert code_specialty_shares("ZZZZZ") == []


def test_a_rebuild_replaces_the_source_atomically(sample):
    call_command("benchmarks", "build-medicare", str(sample), "--source", "Again", stdout=io.StringIO())
    first = BenchmarkStat.objects.filter(source__name="Again").count()
    call_command("benchmarks", "build-medicare", str(sample), "--source", "Again", stdout=io.StringIO())
    assert BenchmarkStat.objects.filter(source__name="Again").count() == first
    assert BenchmarkSource.objects.filter(name="Again").count() == 1


def test_a_file_without_the_cms_columns_is_refused(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Rndrng_NPI,HCPCS_Cd,Tot_Srvcs\n9000000001,99213,12\n")
    with pytest.raises(CommandError, match=r"bad.csv line 1, field Rndrng_Prvdr_Type: column missing"):
        call_command("benchmarks", "build-medicare", str(bad))
    assert not BenchmarkSource.objects.filter(medicare_only=True).exists()


def test_a_bad_value_names_the_file_and_line(tmp_path, sample):
    lines = sample.read_text().splitlines()
    cells = lines[5].split(",")
    cells[0] = "not-an-npi"
    lines[5] = ",".join(cells)
    bad = tmp_path / "bad_value.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(CommandError) as exc:
        call_command("benchmarks", "build-medicare", str(bad))
    assert "bad_value.csv" in str(exc.value) and "not-an-npi" in str(exc.value)


def test_synth_command(tmp_path, cms_dir):
    out = io.StringIO()
    target = tmp_path / "s.csv"
    call_command("benchmarks", "synth", str(target), "--rows", "500", "--release-file",
                 str(cms_dir / "rvu25a" / "RVU25A.zip"), stdout=out)
    assert "500 rows" in out.getvalue()
    assert target.read_text().count("\n") == 501


def test_download_offline_gives_a_clear_error(tmp_path):
    def offline(url, timeout=None):
        raise urllib.error.URLError("Temporary failure in name resolution")

    with pytest.raises(medicare.MedicareError) as exc:
        medicare.download(tmp_path / "x.csv", opener=offline)
    text = str(exc.value)
    assert "offline" in text and medicare.DATASET_TITLE in text and "build-medicare" in text


def test_download_picks_the_dataset_by_its_cms_name(tmp_path):
    catalog = {"dataset": [
        {"title": "Something else", "distribution": [{"downloadURL": "https://x/other.csv", "mediaType": "text/csv"}]},
        {"title": "Medicare Physician & Other Practitioners - by Provider and Service", "distribution": [
            {"downloadURL": "https://x/MUP_PHY_R24_P05_V10_D22_Prov_Svc.csv", "mediaType": "text/csv",
             "temporal": "2022-01-01/2022-12-31"},
            {"downloadURL": "https://x/MUP_PHY_R25_P05_V20_D23_Prov_Svc.csv", "mediaType": "text/csv",
             "temporal": "2023-01-01/2023-12-31"},
            {"accessURL": "https://x/api", "format": "API"}]}]}
    assert medicare.find_download(catalog) == ("https://x/MUP_PHY_R25_P05_V20_D23_Prov_Svc.csv", 2023)
    assert medicare.find_download(catalog, 2022)[1] == 2022

    class Resp(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    def opener(url, timeout=None):
        return Resp(json.dumps(catalog).encode() if url == medicare.CATALOG_URL else b"Rndrng_NPI\n")

    path, year = medicare.download(tmp_path / "real.csv", opener=opener)
    assert year == 2023 and path.read_text() == "Rndrng_NPI\n"
