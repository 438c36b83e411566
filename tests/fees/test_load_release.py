"""Loading real CMS releases: counts, spot rows, provenance, idempotency, replace."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from rvuedge.fees.importer import LoadError, load_release
from rvuedge.fees.models import (
    AnesthesiaCF,
    FeeRow,
    Gpci,
    HcpcsCode,
    HcpcsModifier,
    Locality,
    OppsCap,
    Release,
)

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_rvu25a_zip_counts_and_spot_rows():
    rel = Release.objects.get(name="RVU25A")
    assert FeeRow.objects.filter(release=rel).count() == 18865
    assert Gpci.objects.filter(release=rel).count() == 109
    assert AnesthesiaCF.objects.filter(release=rel).count() == 109
    assert OppsCap.objects.filter(release=rel).count() == 16100
    assert Locality.objects.filter(release=rel).count() == 109  # the file repeats 05302-99 once
    assert rel.conv_factor == Decimal("32.3465")
    assert rel.anes_national_cf == Decimal("20.3178")
    assert rel.released.isoformat() == "2024-12-23"
    tka = FeeRow.objects.get(release=rel, hcpcs="27447", modifier="")
    assert (tka.work_rvu, tka.fac_pe_rvu, tka.mp_rvu, tka.glob_days) == (
        Decimal("19.60"), Decimal("15.30"), Decimal("3.98"), "090")
    assert tka.nonfac_na is True and tka.fac_na is False
    assert (tka.mult_proc, tka.bilat_surg, tka.asst_surg, tka.co_surg, tka.team_surg) == ("2", "1", "2", "1", "0")
    assert FeeRow.objects.get(release=rel, hcpcs="0331T").status == "C"
    assert FeeRow.objects.get(release=rel, hcpcs="99213", modifier="").work_rvu == Decimal("1.30")
    tc = FeeRow.objects.get(release=rel, hcpcs="71046", modifier="TC")
    assert tc.opps_nonfac_pe == Decimal("2.68") and tc.pctc == "1"
    manhattan = Gpci.objects.get(release=rel, mac="13202", locality="01")
    assert (manhattan.work_gpci, manhattan.pe_gpci, manhattan.mp_gpci) == (
        Decimal("1.065"), Decimal("1.166"), Decimal("1.656"))
    alaska = Gpci.objects.get(release=rel, mac="02102", locality="01")
    assert alaska.work_gpci == Decimal("1.500") and alaska.name == "ALASKA"


def test_provenance_recorded():
    rel = Release.objects.get(name="RVU25A")
    kinds = {f["kind"]: f for f in rel.files}
    assert set(kinds) == {"pprrvu", "gpci", "locco", "anes", "oppscap"}
    assert kinds["pprrvu"]["name"] == "PPRRVU25_JAN.csv"
    assert kinds["pprrvu"]["sha256"].startswith("c0539b47cbc042fd")
    assert kinds["pprrvu"]["rows"] == 18865
    assert kinds["oppscap"]["sha256"].startswith("2be01962b938916a")
    assert rel.loaded_at is not None and rel.source.endswith("RVU25A.zip")
    data = json.loads(run("data", "list", "--json"))
    listed = {r["name"]: r for r in data["releases"]}
    assert listed["RVU25A"]["released"] == "2024-12-23"
    assert listed["RVU25A"]["counts"]["fee_rows"] == 18865
    assert listed["RVU25A"]["files"][0]["sha256"] == kinds["pprrvu"]["sha256"]
    assert data["hcpcs"][0]["counts"]["codes"] == 8623


def test_rvu26c_single_csv_with_release_name(cms_dir):
    out = run("data", "load", str(cms_dir / "rvu26c" / "PPRRVU2026_Jul_nonQPP.csv"), "--release", "RVU26C")
    assert "19,356 fee rows" in out
    rel = Release.objects.get(name="RVU26C")
    assert rel.conv_factor == Decimal("33.4009") and rel.layout == "32"
    assert FeeRow.objects.filter(release=rel).count() == 19356
    assert rel.released.isoformat() == "2026-06-30"
    assert FeeRow.objects.get(release=rel, hcpcs="0331T").status == "C"
    row = FeeRow.objects.get(release=rel, hcpcs="99213", modifier="")
    assert (row.work_rvu, row.nonfac_pe_rvu, row.fac_pe_rvu, row.pric_ind) == (
        Decimal("1.30"), Decimal("1.46"), Decimal("0.33"), "9")
    assert row.endo_base == "" and row.conv_factor == Decimal("33.4009") and row.dx_img_family == "99"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("folder", "name", "rows", "cf"),
    [
        ("rvu22a/RVU22A.zip", "RVU22A", 17600, "34.6062"),
        ("rvu23a/RVU23A.zip", "RVU23A", 18010, "33.8872"),
        ("rvu24a/RVU24A.zip", "RVU24A", 18499, "32.7442"),
        ("rvu25d", "RVU25D", 19090, "32.3465"),
    ],
)
def test_other_releases_load(cms_dir, folder, name, rows, cf):
    result = load_release(str(cms_dir / folder))
    rel = result.release
    assert rel.name == name
    assert rel.counts["fee_rows"] == rows == FeeRow.objects.filter(release=rel).count()
    assert rel.conv_factor == Decimal(cf)
    assert FeeRow.objects.get(release=rel, hcpcs="0331T").status == "C"
    assert FeeRow.objects.get(release=rel, hcpcs="99213", modifier="").work_rvu == Decimal("1.30")
    assert Gpci.objects.filter(release=rel).count() in (109, 112)


def test_hcpcs_level_ii_counts():
    assert HcpcsCode.objects.count() == 8623
    assert HcpcsModifier.objects.count() == 383
    g2211 = HcpcsCode.objects.get(code="G2211")
    assert len(g2211.long_description) > len(g2211.short_description)


def test_loading_the_same_release_twice_changes_nothing():
    before = list(FeeRow.objects.filter(release__name="RVU25A").order_by("pk").values_list("pk", "hcpcs", "modifier"))
    rel_pk = Release.objects.get(name="RVU25A").pk
    from tests.conftest import RVU25A_ZIP

    out = run("data", "load", str(RVU25A_ZIP))
    assert "already loaded" in out and "nothing changed" in out
    after = list(FeeRow.objects.filter(release__name="RVU25A").order_by("pk").values_list("pk", "hcpcs", "modifier"))
    assert before == after
    assert Release.objects.get(name="RVU25A").pk == rel_pk
    assert OppsCap.objects.filter(release__name="RVU25A").count() == 16100


def test_different_files_under_existing_name_refused_unless_replace(cms_dir):
    csv = str(cms_dir / "rvu25d" / "PPRRVU2025_Oct.csv")
    with pytest.raises(CommandError, match="already loaded from different files.*--replace"):
        run("data", "load", csv, "--release", "RVU25A")
    assert FeeRow.objects.filter(release__name="RVU25A").count() == 18865
    run("data", "load", csv, "--release", "RVU25A", "--replace")
    assert FeeRow.objects.filter(release__name="RVU25A").count() == 19090
    assert Gpci.objects.filter(release__name="RVU25A").count() == 0


def test_offline_release_name_fails_fast_with_instructions(monkeypatch, settings):
    settings.RVUEDGE_CMS_DATA = ""

    def boom(*a, **k):
        import urllib.error

        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr("urllib.request.urlopen", boom)
    with pytest.raises(CommandError) as exc:
        run("data", "load", "RVU26A")
    msg = str(exc.value)
    assert "https://www.cms.gov/files/zip/rvu26a.zip" in msg and "rvuedge data load /path/to" in msg


def test_release_name_uses_local_mirror(cms_dir, settings):
    settings.RVUEDGE_CMS_DATA = str(cms_dir)
    result = load_release("rvu24a")
    assert result.release.name == "RVU24A" and result.counts["fee_rows"] == 18499


def test_unknown_source_is_a_clear_error():
    with pytest.raises(LoadError, match="no such file or folder"):
        load_release("/nonexistent/RVU99Z.zip")
