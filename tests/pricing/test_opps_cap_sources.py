"""Issue 12, items 2-3: the OPPS imaging cap in every release and on both sides (real RVU25A and RVU26C files).

A release loaded with an OPPSCAP file is capped by that file's facility and non-facility prices; a release loaded
without one (RVU26C, from its PPRRVU file alone) by the cap computed from the PPRRVU OPPS columns:
round_half_up((work RVU x work GPCI + OPPS PE RVU x PE GPCI + OPPS MP RVU x MP GPCI) x CF, 2). Each line says
which source capped it.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest

from rvuedge.fees.models import FeeRow, OppsCap
from rvuedge.fees.services import (
    DbLookup,
    get_release,
    localities,
    price_lines,
    resolve_locality,
)
from rvuedge.pricing import Encounter, EncounterLine, price_encounter

pytestmark = pytest.mark.django_db
CENT = Decimal("0.01")
SIDES = ("facility", "non_facility")


def _encounter(release, loc, code: str, mod: str, setting: str) -> Encounter:
    return Encounter(
        lines=(EncounterLine(code, (mod,) if mod else ()),), setting=setting, gpci=loc.gpci,
        conversion_factor=release.conv_factor, conversion_factor_qp=release.conv_factor, qp=False,
        date_of_service=dt.date(release.year, 1, 1), locality=loc.key,
    )


def _column_cap(row: FeeRow, gpci, cf: Decimal, fac: bool) -> Decimal:
    work_gpci = max(gpci.work, Decimal("1.000"))  # the 1.0 floor in force (2025-2026)
    pe = row.opps_fac_pe if fac else row.opps_nonfac_pe
    return ((row.work_rvu * work_gpci + pe * gpci.pe + row.opps_mp * gpci.mp) * cf).quantize(CENT, ROUND_HALF_UP)


def _gpci_localities(release) -> dict[str, object]:
    return {item["key"]: resolve_locality(release, item["key"]) for item in localities(release)}


def _status_a_caps(release, known: dict[str, object]) -> list[tuple]:
    """The status-A OPPSCAP rows of the localities the GPCI file prices (RVU25A's OPPSCAP file also lists a few
    localities its GPCI file no longer has, e.g. 01112-17: no line can be priced there)."""
    caps = list(OppsCap.objects.filter(release=release, procstat="A").values_list(
        "hcpcs", "modifier", "mac", "locality", "fac_price", "nonfac_price"))
    kept = [c for c in caps if f"{c[2]}-{c[3]}" in known]
    assert len(kept) > 0.9 * len(caps)
    return kept


def test_every_status_a_oppscap_row_equals_the_column_cap_on_both_sides():
    """RVU25A: for every status-A row of the OPPSCAP file, the engine forced onto the column path pays the file's
    price on both sides, in every locality; so does the file path."""
    release = get_release("RVU25A")
    known = _gpci_localities(release)
    caps = _status_a_caps(release, known)
    assert len(caps) > 6000
    columns = DbLookup(release, opps_source="columns")
    from_file = DbLookup(release)
    checked = 0
    mismatches = []
    for code, mod, mac, number, fac_price, nonfac_price in caps:
        key = f"{mac}-{number}"
        loc = known[key]
        for setting, expected in (("facility", fac_price), ("non_facility", nonfac_price)):
            for lookup, flag in ((columns, "OPPS_CAP_FROM_PPRRVU_COLUMNS"), (from_file, "OPPS_CAP_FROM_OPPSCAP_FILE")):
                line = price_encounter(_encounter(release, loc, code, mod, setting), lookup).lines[0]
                if line.payment != expected or flag not in line.flags:
                    mismatches.append((code, mod, key, setting, flag, line.payment, expected))
                checked += 1
    assert not mismatches, mismatches[:10]
    assert checked == 4 * len(caps)


def test_oppscap_and_column_caps_agree_for_every_row():
    """RVU25A: the cap computed from the PPRRVU columns equals the OPPSCAP price for every status-A row, both
    sides (arithmetic, independent of the engine)."""
    release = get_release("RVU25A")
    rows = {(r.hcpcs, r.modifier): r for r in FeeRow.objects.filter(release=release)}
    known = _gpci_localities(release)
    bad = []
    n = 0
    for code, mod, mac, number, fac_price, nonfac_price in _status_a_caps(release, known):
        key = f"{mac}-{number}"
        row = rows[(code, mod)]
        for fac, price in ((True, fac_price), (False, nonfac_price)):
            n += 1
            if _column_cap(row, known[key].gpci, release.conv_factor, fac) != price:
                bad.append((code, mod, key, fac, price))
    assert n > 12000 and not bad, bad[:10]


@pytest.mark.parametrize("key", ["13202-01", "01112-65", "05302-99"])
def test_where_the_file_lists_no_cap_the_column_cap_never_binds(key):
    """RVU25A: rows carrying OPPS columns that the OPPSCAP file does not list for a locality are not capped by
    the column path either (the file lists exactly where the cap binds)."""
    release = get_release("RVU25A")
    loc = resolve_locality(release, key)
    mac, number = key.split("-")
    listed = set(OppsCap.objects.filter(release=release, mac=mac, locality=number).values_list("hcpcs", "modifier"))
    columns = DbLookup(release, opps_source="columns")
    rows = FeeRow.objects.filter(release=release, status="A").exclude(opps_mp=0, opps_nonfac_pe=0, opps_fac_pe=0)
    unlisted = [(r.hcpcs, r.modifier) for r in rows if (r.hcpcs, r.modifier) not in listed]
    assert len(unlisted) > 100
    for code, mod in unlisted:
        for setting in SIDES:
            line = price_encounter(_encounter(release, loc, code, mod, setting), columns).lines[0]
            assert "OPPS_CAP_APPLIED" not in line.flags, (code, mod, setting)


def test_74263_manhattan_facility_rvu25a_is_cms_capped_price():
    priced = price_lines("74263", release="RVU25A", locality="13202-01", setting="facility")
    line = priced.result.lines[0]
    assert line.payment == Decimal("402.13")  # CMS OPPSCAP facility price; was $810.15
    # 74263 has a facility NA indicator: priced with the non-facility PE, and capped by that side's price
    assert {"OPPS_CAP_APPLIED", "OPPS_CAP_FROM_OPPSCAP_FILE", "FAC_NA_PRICED_AT_NONFACILITY"} <= set(line.flags)
    step = next(s for s in line.explanation if s.rule == "OPPS_CAP")
    assert step.text == ("OPPS cap: pay the lower of the FSA 810.15 and the OPPS amount 402.13 (non-facility price "
                         "of the release's OPPSCAP file)")
    assert line.explanation[-1].amount == Decimal("402.13")


def test_national_pricing_has_no_cap():
    line = price_lines("74263", release="RVU25A", locality="national", setting="non_facility").result.lines[0]
    assert "OPPS_CAP_APPLIED" not in line.flags


def test_rvu26c_without_oppscap_computes_the_cap(rvu26c):
    release = get_release("RVU26C")
    assert not OppsCap.objects.filter(release=release).exists()
    cf = release.conv_factor
    for text, key, setting, about in (("93893", "13202-01", "non_facility", Decimal("191")),
                                     ("74263", "01112-65", "non_facility", Decimal("494.97"))):
        priced = price_lines(text, release=release, locality=key, setting=setting)
        line = priced.result.lines[0]
        row = FeeRow.objects.get(release=release, hcpcs=text, modifier="")
        expected = _column_cap(row, priced.locality.gpci, cf, setting == "facility")
        assert line.payment == expected, (text, key)
        assert line.fee_schedule_amount > expected  # the cap binds: was $424.31 / $1,170.20
        assert abs(expected - about) < 1, expected
        assert {"OPPS_CAP_APPLIED", "OPPS_CAP_FROM_PPRRVU_COLUMNS"} <= set(line.flags)
        step = next(s for s in line.explanation if s.rule == "OPPS_CAP")
        assert "no OPPSCAP file loaded: computed from the PPRRVU columns" in step.text
        assert line.explanation[-1].amount == expected


def test_rvu26c_capped_lines_equal_the_column_formula_in_every_locality(rvu26c):
    """For a release loaded without OPPSCAP, a capped imaging line equals CMS's formula on the PPRRVU OPPS
    columns in every locality, on both sides (and is never above the FSA)."""
    release = get_release("RVU26C")
    lookup = DbLookup(release)
    rows = [FeeRow.objects.get(release=release, hcpcs=c, modifier=m)
            for c, m in (("74263", ""), ("93893", ""), ("70553", "TC"), ("74177", ""))]
    capped = 0
    for item in localities(release):
        loc = resolve_locality(release, item["key"])
        for row in rows:
            for setting in SIDES:
                line = price_encounter(_encounter(release, loc, row.hcpcs, row.modifier, setting), lookup).lines[0]
                cap = _column_cap(row, loc.gpci, release.conv_factor, setting == "facility")
                assert line.payment == min(cap, line.fee_schedule_amount), (row.hcpcs, item["key"], setting)
                if "OPPS_CAP_APPLIED" in line.flags:
                    capped += 1
                    assert "OPPS_CAP_FROM_PPRRVU_COLUMNS" in line.flags
    assert capped > 100


def _page(path: str, **params: str) -> str:
    import html
    import re

    from django.test import Client

    body = Client().get(path, params).content.decode()
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def test_code_page_names_the_cap_source(rvu26c):
    rvu25a = _page("/codes/74263/", release="RVU25A", locality="13202-01")
    assert "$402.13" in rvu25a
    assert "capped at the OPPS amount CMS lists in this release's OPPSCAP file" in rvu25a
    rvu26c_page = _page("/codes/74263/", release="RVU26C", locality="01112-65")
    assert "$494.97" in rvu26c_page
    assert "computed from the release's PPRRVU OPPS columns (it was loaded without an OPPSCAP file)" in rvu26c_page
    assert "Imaging cap" not in _page("/codes/74263/", release="RVU26C")  # national: never capped
