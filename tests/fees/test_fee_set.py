"""The unit-test fee set (tests/synthetic.py) both ways: loaded through the real importer into the test database,
and as a pure DictLookup; the two give the same rows and the same prices. The module runs on the synthetic
release alone (``synthetic_fees``), so it also checks that nothing else is loaded beside it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from rvuedge.fees.models import FeeRow, Gpci, HcpcsRelease, Release
from rvuedge.fees.services import DbLookup, get_release, price_lines, resolve_locality
from rvuedge.pricing import Encounter, parse_entry, price_encounter
from tests.synthetic import (
    FEE_SET_CF,
    FEE_SET_CODES,
    FEE_SET_LOCALITIES,
    FEE_SET_RELEASE,
    fee_set_gpci,
    fee_set_lookup,
    fee_set_rows,
)

pytestmark = [pytest.mark.django_db, pytest.mark.synthetic_fees]

LOOKUP = fee_set_lookup()
DOS = dt.date(2025, 3, 4)


# --------------------------------------------------------------------------- pure (no database)


def test_the_fee_set_covers_the_kinds_unit_tests_need():
    rows = {r.key: r for r in fee_set_rows()}
    assert {r.status for r in rows.values()} == {"A", "B", "N", "I", "C"}
    knee = rows["27447"]
    assert (knee.glob_days, knee.bilat, knee.asst, knee.co_surg, knee.nonfac_na) == ("090", "1", "2", "1", True)
    assert rows["20610"].glob_days == "000" and rows["11045"].glob_days == "ZZZ"
    assert {"71046", "71046-26", "71046-TC"} <= rows.keys() and rows["71046-TC"].work_rvu == 0
    assert rows["45380"].endo_base == "45378" and rows["45380"].mult_proc == "3"
    assert all(r.description.startswith("Synthetic ") for r in rows.values())  # made up, never AMA text
    assert len(rows) == 18 and len(FEE_SET_LOCALITIES) == 3 and FEE_SET_CF == Decimal("33.4009")


def test_a_visit_priced_by_hand_from_the_rows():
    # 99213 non-facility in SYNTHETIC CITY (GPCIs 1.020 / 1.080 / 0.950):
    # (1.30 x 1.020 + 1.20 x 1.080 + 0.10 x 0.950) x 33.4009 = 2.717 x 33.4009 = 90.7502... -> $90.75; wRVU 1.30.
    enc = Encounter(lines=parse_entry("99213").lines, setting="non_facility", gpci=fee_set_gpci("01112-05"),
                    conversion_factor=FEE_SET_CF, date_of_service=DOS)
    result = price_encounter(enc, LOOKUP)
    assert result.total_payment == Decimal("90.75") and result.total_wrvu == Decimal("1.30")


# --------------------------------------------------------------------------- loaded through the importer


def test_the_importer_loaded_the_fee_set_and_nothing_else():
    release = Release.objects.get()
    assert release.name == FEE_SET_RELEASE and release.year == 2025 and release.conv_factor == FEE_SET_CF
    assert release.counts == {"fee_rows": 18, "codes": 15, "gpci": 3, "localities": 0, "anesthesia_cf": 0,
                              "opps_cap": 0}
    assert {f["kind"] for f in release.files} == {"pprrvu", "gpci"}
    assert set(FeeRow.objects.values_list("hcpcs", flat=True)) == {*FEE_SET_CODES, "99212", "99215"}
    assert Gpci.objects.count() == 3 and not HcpcsRelease.objects.exists()


def test_every_row_read_back_is_the_pure_lookups_row():
    db = DbLookup(get_release(FEE_SET_RELEASE))
    for code in {r.code for r in fee_set_rows()}:
        assert db.rows_for(code) == LOOKUP.rows_for(code), code


@pytest.mark.parametrize(("entry", "setting", "locality"), [
    ("99213", "non_facility", "01112-05"),
    ("27447-50 20610-LT", "facility", "13202-01"),
    ("11042 11045x2 45378 45380", "non_facility", "10112-00"),
    ("71046-26 71046-TC 99214-25 99024", "non_facility", "01112-05"),
])
def test_the_database_prices_as_the_pure_lookup_does(entry, setting, locality):
    priced = price_lines(entry, release=FEE_SET_RELEASE, locality=locality, setting=setting, date_of_service=DOS)
    assert priced.locality.gpci == fee_set_gpci(locality) == resolve_locality(priced.release, locality).gpci
    enc = Encounter(lines=parse_entry(entry).lines, setting=setting, gpci=fee_set_gpci(locality),
                    conversion_factor=FEE_SET_CF, conversion_factor_qp=FEE_SET_CF, date_of_service=DOS,
                    locality=locality)
    pure = price_encounter(enc, LOOKUP)
    assert priced.result.to_dict(explain=True)["lines"] == pure.to_dict(explain=True)["lines"]
    assert (priced.result.total_payment, priced.result.total_wrvu) == (pure.total_payment, pure.total_wrvu)
    if entry == "99213":
        assert priced.result.total_payment == Decimal("90.75")  # worked out above
