"""GPCI, LOCCO, ANES and OPPSCAP parsers against the real CMS files and synthetic ones."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from rvuedge.fees.parsers import ParseError, parse_anes, parse_gpci, parse_locco, parse_oppscap

from . import synth

YEARS = [
    # folder, GPCI, LOCCO, ANES, OPPSCAP, GPCI rows, LOCCO data rows in the file (one a repeat),
    # ANES rows, OPPSCAP rows, OPPSCAP codes
    ("rvu22a", "GPCI2022.csv", "22LOCCO.csv", "ANES2022.csv", "OPPSCAP_JAN.csv", 112, 113, 112, 18564, 83),
    ("rvu23a", "GPCI2023.csv", "23LOCCO.csv", "ANES2023.csv", "OPPSCAP_JAN.csv", 112, 113, 112, 18326, 83),
    ("rvu24a", "GPCI2024.csv", "24LOCCO.csv", "ANES2024.csv", "OPPSCAP_JAN.csv", 109, 110, 109, 17710, 83),
    ("rvu25a", "GPCI2025.csv", "25LOCCO.csv", "ANES2025.csv", "OPPSCAP_JAN.csv", 109, 110, 109, 16100, 77),
    ("rvu25d", "GPCI2025.csv", "25LOCCO.csv", "ANES2025.csv", "OPPSCAP_Oct.csv", 109, 110, 109, 16100, 77),
]
IDS = [y[0] for y in YEARS]


@pytest.mark.parametrize(("folder", "g", "lc", "an", "op", "ng", "nl", "na", "no", "ncodes"), YEARS, ids=IDS)
def test_counts(parse_cms, cms_dir, folder, g, lc, an, op, ng, nl, na, no, ncodes):
    gpci = parse_cms(f"{folder}/{g}", "gpci")
    locco = parse_cms(f"{folder}/{lc}", "locco")
    anes = parse_cms(f"{folder}/{an}", "anes")
    opps = parse_cms(f"{folder}/{op}", "oppscap")
    # LOCCO: one row per locality; the file's repeated Missouri 05302/99 row is dropped
    assert (len(gpci), len(locco), len(anes.rows), len(opps)) == (ng, nl - 1, na, no)
    raw_rows = [ln for ln in (cms_dir / folder / lc).read_text().splitlines() if ln[:1].isdigit()]
    assert len(raw_rows) == nl
    assert len({r.hcpcs for r in opps}) == ncodes


@pytest.mark.parametrize(("folder", "g", "lc", "an", "op"), [y[:5] for y in YEARS], ids=IDS)
def test_localities_agree_across_files(parse_cms, folder, g, lc, an, op):
    """MAC/locality keys are zero-padded the same way everywhere, whatever the file wrote."""
    gk = [(r.mac, r.locality) for r in parse_cms(f"{folder}/{g}", "gpci")]
    lk = [(r.mac, r.locality) for r in parse_cms(f"{folder}/{lc}", "locco")]
    ak = [(r.mac, r.locality) for r in parse_cms(f"{folder}/{an}", "anes").rows]
    ok = {(r.mac, r.locality) for r in parse_cms(f"{folder}/{op}", "oppscap")}
    assert len(set(gk)) == len(gk) and len(set(ak)) == len(ak) and len(set(lk)) == len(lk)
    assert set(gk) == set(lk) == set(ak)
    # OPPSCAP covers every locality, and also lists the Southern California localities that GPCI
    # files under MAC 01182 under the Northern California MAC 01112 too
    assert set(gk) <= ok
    extra = ok - set(gk)
    assert extra and all(mac == "01112" and ("01182", loc) in set(gk) for mac, loc in extra)
    for mac, loc in gk:
        assert len(mac) == 5 and mac.isdigit() and len(loc) == 2 and loc.isdigit()


def test_gpci_values_and_padding(parse_cms):
    g22 = {(r.state, r.locality): r for r in parse_cms("rvu22a/GPCI2022.csv", "gpci")}
    ak = g22[("AK", "01")]  # written "2102,AK,1,ALASKA*,1.5,..." in 2022
    assert (ak.mac, ak.name, ak.work_gpci, ak.work_gpci_no_floor) == ("02102", "ALASKA", Decimal("1.5"), None)
    assert g22[("AL", "00")].work_gpci == Decimal("1")  # written "1"
    g23 = {(r.state, r.locality): r for r in parse_cms("rvu23a/GPCI2023.csv", "gpci")}
    assert g23[("AL", "00")].work_gpci == Decimal("1.000")  # written "1.000": same value
    g25 = {(r.state, r.locality): r for r in parse_cms("rvu25a/GPCI2025.csv", "gpci")}
    wy = g25[("WY", "21")]
    assert (wy.name, wy.pe_gpci, wy.mp_gpci) == ("WYOMING", Decimal("1"), Decimal("0.739"))
    assert g25[("WA", "02")].pe_gpci == Decimal("1.22")
    assert all("*" not in r.name and r.name == r.name.strip() for r in g25.values())
    assert g25[("AK", "01")].line == 5


def test_gpci_2026_style_header_with_both_work_columns(data_dir: Path):
    rows = parse_gpci((data_dir / "synthetic_gpci_2026.csv").read_bytes(), "synthetic_gpci_2026.csv")
    assert len(rows) == 4
    al = rows[0]
    assert (al.mac, al.locality, al.work_gpci, al.work_gpci_no_floor) == (
        "10112",
        "00",
        Decimal("1.000"),
        Decimal("0.960"),
    )
    ca = rows[2]
    assert (ca.mac, ca.name) == ("01182", "SYNTHETIC LOS ANGELES")
    assert rows[3].name == "SYNTHETIC WYOMING" and rows[3].work_gpci == Decimal("1")
    # swapping the two work columns does not fool it: columns are found by their header text
    text = (data_dir / "synthetic_gpci_2026.csv").read_text()
    lines = text.split("\r\n")
    swapped = []
    for ln in lines:
        c = ln.split(",")
        if len(c) == 8:
            c[4], c[5] = c[5], c[4]
        swapped.append(",".join(c))
    rows2 = parse_gpci("\r\n".join(swapped).encode(), "swapped.csv")
    assert [(r.work_gpci, r.work_gpci_no_floor) for r in rows2] == [
        (r.work_gpci, r.work_gpci_no_floor) for r in rows
    ]


def test_gpci_single_work_column_without_floor_wording():
    data = synth.gpci_csv(both_work=False).replace(b" (with 1.0 Floor)", b"")
    rows = parse_gpci(data, "g.csv")
    assert rows[0].work_gpci == Decimal("1.000") and rows[0].work_gpci_no_floor is None


def test_locco_state_carried_forward_and_cells_cleaned(parse_cms):
    rows = parse_cms("rvu25a/25LOCCO.csv", "locco")
    ca = [r for r in rows if r.state == "CALIFORNIA"]
    assert len(ca) > 20  # only the first California row names the state in the file
    assert ca[0].mac == "01182" and ca[0].locality == "18"
    mo = [r for r in rows if r.mac == "05302"]
    assert {r.state for r in mo} == {"MISSOURI"}
    assert [r.line for r in mo if r.locality == "99"] == [96]  # the identical repeat on line 97 is dropped
    assert all(r.area == r.area.strip() and "*" not in r.area for r in rows)
    assert all(r.counties == r.counties.strip() for r in rows)
    ks = next(r for r in rows if r.state == "KANSAS")
    assert (ks.mac, ks.locality, ks.area, ks.counties) == ("05202", "00", "STATEWIDE", "ALL COUNTIES")
    rows22 = parse_cms("rvu22a/22LOCCO.csv", "locco")  # six columns, zero-padded ids
    assert rows22[0].mac == "10112" and rows22[0].locality == "00" and rows22[0].state == "ALABAMA"


def test_locco_repeated_locality():
    lines = synth.locco_csv().decode().split("\r\n")
    same = lines[:9] + ["1112,99,,REST OF STATE,ALL OTHER COUNTIES"] + lines[9:]  # identical after cleaning
    rows = parse_locco("\r\n".join(same).encode(), "L.csv")
    assert [r.line for r in rows if r.locality == "99"] == [9]
    other = lines[:9] + ["1112,99,,REST OF STATE,SOME OTHER COUNTY"] + lines[9:]
    with pytest.raises(ParseError) as exc:
        parse_locco("\r\n".join(other).encode(), "L.csv")
    assert str(exc.value) == (
        "L.csv, line 10, column Locality Number: locality 01112/99 listed again with different data (first on line 9)"
    )


def test_locco_synthetic(data_dir: Path):
    rows = parse_locco((data_dir / "synthetic_locco.csv").read_bytes(), "synthetic_locco.csv")
    assert [(r.mac, r.locality, r.state) for r in rows] == [
        ("10112", "00", "SYNTHETIC ALABAMA"),
        ("01182", "18", "SYNTHETIC CALIFORNIA"),
        ("01112", "52", "SYNTHETIC CALIFORNIA"),
        ("01112", "99", "SYNTHETIC CALIFORNIA"),
        ("03602", "21", "SYNTHETIC WYOMING"),
    ]
    assert rows[2].counties == "MARIN, SONOMA"
    assert rows[3].area == "REST OF STATE"
    assert [r.line for r in rows] == [5, 7, 8, 9, 11]


@pytest.mark.parametrize(
    ("rel", "national", "alaska"),
    [
        ("rvu22a/ANES2022.csv", None, "29.81"),
        ("rvu23a/ANES2023.csv", None, "29.14"),
        ("rvu24a/ANES2024.csv", None, "28.08"),
        ("rvu25a/ANES2025.csv", "20.3178", "27.86"),
    ],
)
def test_anes(parse_cms, rel, national, alaska):
    f = parse_cms(rel, "anes")
    assert f.national_cf == (Decimal(national) if national else None)
    ak = next(r for r in f.rows if r.locality == "01" and r.mac == "02102")
    assert ak.name == "ALASKA" and ak.conv_factor == Decimal(alaska)
    assert all(r.name == r.name.strip() and "*" not in r.name for r in f.rows)
    assert f.rows[0].line == 2


def test_anes_synthetic(data_dir: Path):
    f = parse_anes((data_dir / "synthetic_anes_2026.csv").read_bytes(), "synthetic_anes_2026.csv")
    assert f.national_cf == Decimal("20.4976")
    assert [(r.mac, r.locality, r.name, r.conv_factor) for r in f.rows] == [
        ("10112", "00", "SYNTHETIC ALABAMA", Decimal("19.31")),
        ("02102", "01", "SYNTHETIC ALASKA", Decimal("27.86")),
        ("03602", "21", "SYNTHETIC WYOMING", Decimal("19.97")),
    ]
    assert parse_anes(synth.anes_csv(national=False), "a.csv").national_cf is None


def test_oppscap_rows(parse_cms):
    rows = parse_cms("rvu25a/OPPSCAP_JAN.csv", "oppscap")
    first = rows[0]
    assert (first.hcpcs, first.modifier, first.procstat, first.mac, first.locality) == (
        "0633T",
        "TC",
        "C",
        "01112",
        "05",
    )
    assert (first.fac_price, first.nonfac_price, first.line) == (Decimal("150.69"), Decimal("150.69"), 2)
    last = rows[-1]
    assert (last.hcpcs, last.mac, last.locality, last.fac_price) == ("93990", "15202", "00", Decimal("97.07"))
    assert {r.modifier for r in rows} == {"", "TC"}
    assert {r.procstat for r in rows} == {"A", "C"}
    assert len({(r.hcpcs, r.modifier, r.mac, r.locality) for r in rows}) == len(rows)


def test_oppscap_oct_equals_jan_2025(parse_cms):
    jan = parse_cms("rvu25a/OPPSCAP_JAN.csv", "oppscap")
    oct_ = parse_cms("rvu25d/OPPSCAP_Oct.csv", "oppscap")
    assert jan == oct_  # PROVENANCE: identical apart from the trailer's Ctrl-Z byte


def test_oppscap_synthetic(data_dir: Path):
    rows = parse_oppscap((data_dir / "synthetic_oppscap.csv").read_bytes(), "synthetic_oppscap.csv")
    assert [(r.hcpcs, r.modifier, r.mac, r.locality, r.nonfac_price) for r in rows] == [
        ("70450", "TC", "01112", "05", Decimal("101.25")),
        ("70450", "", "01112", "05", Decimal("140.50")),
        ("71046", "TC", "01182", "18", Decimal("25.10")),
        ("0633T", "TC", "10112", "00", Decimal("150.69")),
    ]
