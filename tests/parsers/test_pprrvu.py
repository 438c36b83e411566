"""PPRRVU parser against the real CMS files (RVU22A..RVU25A, RVU25D, RVU26C) and synthetic ones."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from rvuedge.fees.parsers import FeeRow, parse_pprrvu, parse_pprrvu_txt
from rvuedge.fees.parsers.pprrvu import GLOB_DAYS, PPRRVU_COLUMNS

from . import synth

# folder, file, data rows, layout, CF, RELEASED date
RELEASES = [
    ("rvu22a", "PPRRVU22_JAN.csv", 17600, "31", "34.6062", dt.date(2021, 12, 15)),
    ("rvu23a", "PPRRVU23_JAN.csv", 18010, "31", "33.8872", dt.date(2023, 1, 30)),
    ("rvu24a", "PPRRVU24_JAN.csv", 18499, "31", "32.7442", dt.date(2023, 12, 14)),
    ("rvu25a", "PPRRVU25_JAN.csv", 18865, "31", "32.3465", dt.date(2024, 12, 23)),
    ("rvu25d", "PPRRVU2025_Oct.csv", 19090, "31", "32.3465", dt.date(2025, 9, 11)),
    ("rvu26c", "PPRRVU2026_Jul_nonQPP.csv", 19356, "32", "33.4009", dt.date(2026, 6, 30)),
]
IDS = [r[0] for r in RELEASES]


def one(rows: list[FeeRow], code: str, mod: str = "") -> FeeRow:
    hits = [r for r in rows if r.hcpcs == code and r.modifier == mod]
    assert len(hits) == 1, (code, mod, len(hits))
    return hits[0]


@pytest.mark.parametrize(("folder", "fname", "count", "layout", "cf", "released"), RELEASES, ids=IDS)
def test_release_shape(parse_cms, folder, fname, count, layout, cf, released):
    f = parse_cms(f"{folder}/{fname}", "pprrvu")
    assert f.file == fname
    assert len(f.rows) == count
    assert f.layout == layout
    assert f.conv_factor == Decimal(cf)
    assert all(r.conv_factor == Decimal(cf) for r in f.rows)
    assert f.released == released
    year = released.year + (1 if released.month == 12 else 0)
    assert f.title.startswith(f"{year} National Physician Fee Schedule Relative Value File")
    # one row per HCPCS + modifier; first data row is line 11 (10 preamble/header lines)
    assert len({(r.hcpcs, r.modifier) for r in f.rows}) == count
    assert f.rows[0].line == 11
    assert f.rows[-1].line == 10 + count


@pytest.mark.parametrize(("folder", "fname"), [r[:2] for r in RELEASES], ids=IDS)
def test_totals_prove_the_column_mapping(parse_cms, folder, fname):
    """NON-FACILITY TOTAL = work + non-fac PE + MP and FACILITY TOTAL = work + fac PE + MP on every row."""
    f = parse_cms(f"{folder}/{fname}", "pprrvu")
    for r in f.rows:
        assert r.nonfac_total == r.work_rvu + r.nonfac_pe_rvu + r.mp_rvu, r
        assert r.fac_total == r.work_rvu + r.fac_pe_rvu + r.mp_rvu, r
        assert r.glob_days in GLOB_DAYS
        assert r.calc_flag == "0"
        assert r.dx_img_family in ("88", "99")
        assert r.modifier in ("", "26", "TC", "53")
        assert r.not_used_for_medicare in ("", "+")
        assert bool(r.endo_base) == (r.mult_proc == "3"), r  # endoscopy family <=> ENDO BASE given
        if r.pric_ind:
            assert f.layout == "32"


@pytest.mark.parametrize(("folder", "fname"), [r[:2] for r in RELEASES], ids=IDS)
def test_0331t_and_99213_in_every_release(parse_cms, folder, fname):
    rows = parse_cms(f"{folder}/{fname}", "pprrvu").rows
    t = one(rows, "0331T")
    assert t.status == "C"
    assert t.glob_days == "YYY"
    assert t.work_rvu == t.nonfac_pe_rvu == t.fac_pe_rvu == t.mp_rvu == Decimal("0.00")
    e = one(rows, "99213")
    assert e.status == "A"
    assert e.work_rvu == Decimal("1.30")
    assert e.glob_days == "XXX"
    assert not e.nonfac_na and not e.fac_na


# 99213 per release: work, non-fac PE, fac PE, MP, non-fac total, fac total (PROVENANCE.md)
E_M_99213 = {
    "rvu22a": ("1.30", "1.26", "0.55", "0.10", "2.66", "1.95"),
    "rvu23a": ("1.30", "1.28", "0.55", "0.10", "2.68", "1.95"),
    "rvu24a": ("1.30", "1.33", "0.56", "0.10", "2.73", "1.96"),
    "rvu25a": ("1.30", "1.35", "0.57", "0.10", "2.75", "1.97"),
    "rvu25d": ("1.30", "1.35", "0.57", "0.10", "2.75", "1.97"),
    "rvu26c": ("1.30", "1.46", "0.33", "0.09", "2.85", "1.72"),
}


@pytest.mark.parametrize(("folder", "fname"), [r[:2] for r in RELEASES], ids=IDS)
def test_99213_values(parse_cms, folder, fname):
    r = one(parse_cms(f"{folder}/{fname}", "pprrvu").rows, "99213")
    got = (r.work_rvu, r.nonfac_pe_rvu, r.fac_pe_rvu, r.mp_rvu, r.nonfac_total, r.fac_total)
    assert got == tuple(Decimal(v) for v in E_M_99213[folder])


def test_27447_rvu25a(parse_cms):
    r = one(parse_cms("rvu25a/PPRRVU25_JAN.csv", "pprrvu").rows, "27447")
    assert r.status == "A"
    assert r.work_rvu == Decimal("19.60")
    assert r.fac_pe_rvu == Decimal("15.30")
    assert r.mp_rvu == Decimal("3.98")
    assert r.glob_days == "090"
    assert r.nonfac_na is True  # "NA": not done outside a facility
    assert r.fac_na is False
    assert (r.pre_op, r.intra_op, r.post_op) == (Decimal("0.10"), Decimal("0.69"), Decimal("0.21"))
    assert (r.mult_proc, r.bilat_surg, r.asst_surg, r.co_surg, r.team_surg) == ("2", "1", "2", "1", "0")
    assert r.pric_ind == ""
    assert r.conv_factor == Decimal("32.3465")


def test_2026_layout_maps_pric_ind_and_the_columns_after_it(parse_cms):
    f = parse_cms("rvu26c/PPRRVU2026_Jul_nonQPP.csv", "pprrvu")
    assert f.layout == "32"
    rows = f.rows
    assert {r.pric_ind for r in rows} == {"9"}
    assert {r.calc_flag for r in rows} == {"0"}
    assert {r.dx_img_family for r in rows} == {"88", "99"}
    assert {r.phys_supervision for r in rows} <= {
        "01",
        "02",
        "03",
        "04",
        "05",
        "06",
        "09",
        "21",
        "22",
        "66",
        "6A",
        "77",
        "7A",
    }
    endo = {r.endo_base for r in rows}
    assert "" in endo and all(e == "" or len(e) == 5 for e in endo)
    e = one(rows, "99213")
    assert (e.team_surg, e.pric_ind, e.endo_base, e.conv_factor) == ("0", "9", "", Decimal("33.4009"))
    assert (e.phys_supervision, e.calc_flag, e.dx_img_family) == ("09", "0", "99")
    assert (e.opps_nonfac_pe, e.opps_fac_pe, e.opps_mp) == (Decimal("0.00"),) * 3
    # imaging TC rows carry the OPPS amounts in the last three columns
    tc = [r for r in rows if r.modifier == "TC" and r.opps_nonfac_pe > 0]
    assert tc and all(r.dx_img_family in ("88", "99") and r.opps_mp >= 0 for r in tc)
    # RVU26C has a placeholder code GXXX1 (a real quirk of the file): five letters/digits, kept
    assert one(rows, "GXXX1").status == "X"


def test_same_code_set_shape_25a_vs_25d(parse_cms):
    a = parse_cms("rvu25a/PPRRVU25_JAN.csv", "pprrvu")
    d = parse_cms("rvu25d/PPRRVU2025_Oct.csv", "pprrvu")
    ka = {(r.hcpcs, r.modifier) for r in a.rows}
    kd = {(r.hcpcs, r.modifier) for r in d.rows}
    assert len(kd - ka) == 226 and len(ka - kd) == 1  # PROVENANCE: +226 codes, -1


def test_txt_and_csv_of_the_same_release_parse_to_identical_rows(cms_dir: Path):
    txt_path = cms_dir / "rvu25d" / "PPRRVU2025_Oct.txt"
    if not txt_path.is_file():
        pytest.skip("no PPRRVU2025_Oct.txt")
    t = parse_pprrvu_txt(txt_path.read_bytes(), txt_path.name)
    c = parse_pprrvu((cms_dir / "rvu25d" / "PPRRVU2025_Oct.csv").read_bytes(), "PPRRVU2025_Oct.csv")
    assert len(t.rows) == len(c.rows) == 19090
    assert t.layout == "31" and t.conv_factor == c.conv_factor
    assert t.title == "" and t.released is None
    for a, b in zip(t.rows, c.rows, strict=True):
        assert dataclasses.replace(a, line=0) == dataclasses.replace(b, line=0)
    assert t.rows[0].line == 8  # 7 HDR lines


def test_synthetic_2026_fixture(data_dir: Path):
    f = parse_pprrvu((data_dir / "synthetic_pprrvu_2026.csv").read_bytes(), "synthetic_pprrvu_2026.csv")
    assert (f.layout, f.released, f.conv_factor, len(f.rows)) == (
        "32",
        dt.date(2026, 6, 30),
        Decimal("33.4009"),
        12,
    )
    assert f.title == "2026 National Physician Fee Schedule Relative Value File Synthetic Release"
    knee = one(f.rows, "27447")
    assert knee.work_rvu == Decimal("19.11") and knee.nonfac_na and not knee.fac_na
    assert knee.nonfac_total == Decimal("37.11")
    tc = one(f.rows, "71046", "TC")
    assert (tc.pric_ind, tc.endo_base, tc.phys_supervision, tc.dx_img_family) == ("9", "", "01", "88")
    assert (tc.opps_nonfac_pe, tc.opps_fac_pe, tc.opps_mp) == (
        Decimal("0.66"),
        Decimal("0.66"),
        Decimal("0.01"),
    )
    assert one(f.rows, "G0105", "53").endo_base == "45378"
    assert one(f.rows, "99499").not_used_for_medicare == "+"


def test_synthetic_2025_fixture_with_ctrl_z_trailer(data_dir: Path):
    raw = (data_dir / "synthetic_pprrvu_2025.csv").read_bytes()
    assert b"\x1a" in raw
    f = parse_pprrvu(raw, "synthetic_pprrvu_2025.csv")
    assert (f.layout, len(f.rows), f.conv_factor) == ("31", 12, Decimal("32.3465"))
    assert all(r.pric_ind == "" for r in f.rows)
    f26 = parse_pprrvu((data_dir / "synthetic_pprrvu_2026.csv").read_bytes(), "x")
    # same rows apart from PRIC IND and CF: the 31/32 layouts map to the same fields
    for a, b in zip(f.rows, f26.rows, strict=True):
        assert dataclasses.replace(a, pric_ind="9", conv_factor=b.conv_factor) == b


def test_columns_are_mapped_by_header_text_not_position():
    base = parse_pprrvu(synth.pprrvu_csv(), "a.csv")
    lines = synth.pprrvu_csv().decode().split("\r\n")

    # keep HCPCS first (the header row is found by it) and reverse the order of all other columns
    # on every line: preamble, stacked header and data alike (the synthetic cells have no commas)
    def shuffle(ln: str) -> str:
        cells = ln.split(",")
        return ",".join([cells[0], *reversed(cells[1:])])

    rev = "\r\n".join(shuffle(ln) if ln else ln for ln in lines)
    f = parse_pprrvu(rev.encode(), "b.csv")
    assert f.layout == "32"
    assert [dataclasses.replace(r, line=0) for r in f.rows] == [
        dataclasses.replace(r, line=0) for r in base.rows
    ]


def test_bom_blank_rows_trailing_cells_and_cp1252():
    raw = synth.pprrvu_csv().decode()
    lines = raw.split("\r\n")
    lines.insert(12, "," * 31)  # blank spacer row inside the data
    lines[13] = lines[13] + ",,"  # extra empty trailing cells
    lines[14] = lines[14].replace("Synthetic", "Synth\xe9tic")  # a Windows-1252 byte
    data = b"\xef\xbb\xbf" + "\r\n".join(lines).encode("cp1252")
    f = parse_pprrvu(data, "bom.csv")
    assert len(f.rows) == 12
    assert any("\xe9" in r.description for r in f.rows)
    assert f.title.startswith("2026 National")


def test_fast_constructor_builds_ordinary_frozen_rows(parse_cms):
    rows = parse_cms("rvu25a/PPRRVU25_JAN.csv", "pprrvu").rows[:200]
    for r in rows:
        plain = FeeRow(*(getattr(r, f.name) for f in dataclasses.fields(FeeRow)))
        assert type(r) is FeeRow
        assert r == plain and hash(r) == hash(plain) and repr(r) == repr(plain)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rows[0].work_rvu = Decimal("9")  # type: ignore[misc]


def test_column_table_matches_the_row_dataclass():
    assert [f for f, _c, _a in PPRRVU_COLUMNS] == [f.name for f in dataclasses.fields(FeeRow)][:-1]

