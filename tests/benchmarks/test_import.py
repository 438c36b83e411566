"""`rvuedge benchmarks import FILE --source NAME`: the documented CSV format, atomic, errors name line and field."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rvuedge.benchmarks.models import BenchmarkSource, BenchmarkStat

pytestmark = pytest.mark.django_db

GOOD = """\
# year: 2025
# kind: survey
# setting: academic
# fte_basis: 1.0 clinical FTE
# licence: Test figures written for RVU Edge
# citation: Synthetic test survey
specialty,metric,p25,p50,p75,p90,n
Family Medicine,wrvu,"4,000","5,000","6,000","7,200",120
Family Medicine,comp,"$250,000","$290,000","$340,000","$400,000",120
Orthopedics,wrvu,6000,8000,10000,12000,
"""


def write(tmp_path, text, name="bench.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_the_approximate_example_source_ships_labelled():
    src = BenchmarkSource.objects.get(name="Approximate wRVU medians (public RVU Edge table)")
    assert src.kind == "approximate" and "not survey data" in src.licence
    assert "RVU Edge website" in src.citation and "market.md" not in src.citation
    fm = src.stats.get(specialty_key="family practice", metric="wrvu")
    assert (fm.p25, fm.p50, fm.p75, fm.p90) == (None, 5200, None, None)
    assert src.stats.count() == 11


def test_it_imports_with_provenance(tmp_path):
    out = io.StringIO()
    call_command("benchmarks", "import", str(write(tmp_path, GOOD)), "--source", "Test survey", stdout=out)
    assert "imported 3 rows" in out.getvalue()
    src = BenchmarkSource.objects.get(name="Test survey")
    assert (src.year, src.kind, src.setting, src.fte_basis) == (2025, "survey", "academic", "1.0 clinical FTE")
    fm = src.stats.get(specialty_key="family practice", metric="wrvu")
    assert fm.specialty == "Family Practice" and fm.p25 == 4000 and fm.p90 == 7200 and fm.n == 120
    assert src.stats.get(specialty_key="family practice", metric="comp").p50 == 290000
    assert src.stats.get(specialty="Orthopedic Surgery").n is None


def test_a_reimport_replaces_and_options_override(tmp_path):
    path = write(tmp_path, GOOD)
    call_command("benchmarks", "import", str(path), "--source", "S", stdout=io.StringIO())
    out = io.StringIO()
    call_command("benchmarks", "import", str(path), "--source", "S", "--setting", "private", "--year", "2026",
                 stdout=out)
    assert "replaced 3 rows" in out.getvalue()
    src = BenchmarkSource.objects.get(name="S")
    assert (src.setting, src.year, src.stats.count()) == ("private", 2026, 3)


@pytest.mark.parametrize(("text", "message"), [
    (GOOD.replace('"5,000"', "lots"), r"bench.csv line 8, field p50: 'lots' is not a number"),
    (GOOD.replace('"6,000"', "3000"), r"bench.csv line 8, field p75: 3000 is below p50 5000"),
    (GOOD.replace(",wrvu,6000", ",rvus,6000"), r"bench.csv line 10, field metric: 'rvus'"),
    (GOOD + "Family Medicine,wrvu,1,2,3,4,\n", r"bench.csv line 11, field specialty: 'Family Medicine' wrvu repeats line 8"),
    (GOOD + ",wrvu,1,2,3,4,\n", r"bench.csv line 11, field specialty: empty"),
    (GOOD + "Urology,wrvu,,,,,\n", r"bench.csv line 11, field p50: no percentile given"),
    (GOOD.replace("# kind: survey\n", ""), r"bench.csv, field kind: required"),
    (GOOD.replace("# year: 2025", "# year: soon"), r"bench.csv, field year: 'soon' is not a year"),
    (GOOD.replace(",n\n", ",n,extra\n"), r"bench.csv line 7, field extra: unknown column"),
])
def test_errors_name_file_line_and_field_and_store_nothing(tmp_path, text, message):
    call_command("benchmarks", "import", str(write(tmp_path, GOOD)), "--source", "Keep", stdout=io.StringIO())
    before = list(BenchmarkStat.objects.filter(source__name="Keep").values_list("p50", flat=True))
    with pytest.raises(CommandError, match=message):
        call_command("benchmarks", "import", str(write(tmp_path, text)), "--source", "Keep", stdout=io.StringIO())
    assert list(BenchmarkStat.objects.filter(source__name="Keep").values_list("p50", flat=True)) == before


def test_list(tmp_path):
    out = io.StringIO()
    call_command("benchmarks", "list", stdout=out)
    assert "Approximate wRVU medians" in out.getvalue()
