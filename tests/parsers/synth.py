"""Builders for small synthetic CMS files used by the parser tests.

Everything here is made up: descriptors are invented ("Synthetic ..."), values are arbitrary but
internally consistent (totals = work + PE + MP). Only the column titles follow the CMS layouts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

_HEADER_CELLS_2026: list[dict[int, str]] = [
    {29: "NON-FACILITY", 30: "FACILITY"},
    {4: "NOT USED", 26: "PHYSICIAN", 28: "DIAGNOSTIC", 29: "PE USED", 30: "PE USED", 31: "MP USED"},
    {4: "FOR", 7: "NON-FAC", 9: "FACILITY", 26: "SUPERVISION OF", 28: "IMAGING", 29: "FOR OPPS",
     30: "FOR OPPS", 31: "FOR OPPS"},
    {3: "STATUS", 4: "MEDICARE", 5: "WORK", 6: "NON-FAC", 7: "NA", 8: "FACILITY", 9: "NA", 10: "MP",
     11: "NON-FACILITY", 12: "FACILITY", 13: "PCTC", 14: "GLOB", 15: "PRE", 16: "INTRA", 17: "POST",
     18: "MULT", 19: "BILAT", 20: "ASST", 21: "CO-", 22: "TEAM", 23: "PRIC", 24: "ENDO", 25: "CONV",
     26: "DIAGNOSTIC", 27: "CALCULATION", 28: "FAMILY", 29: "PAYMENT", 30: "PAYMENT", 31: "PAYMENT"},
    {0: "HCPCS", 1: "MOD", 2: "DESCRIPTION", 3: "CODE", 4: "PAYMENT", 5: "RVU", 6: "PE RVU",
     7: "INDICATOR", 8: "PE RVU", 9: "INDICATOR", 10: "RVU", 11: "TOTAL", 12: "TOTAL", 13: "IND",
     14: "DAYS", 15: "OP", 16: "OP", 17: "OP", 18: "PROC", 19: "SURG", 20: "SURG", 21: "SURG",
     22: "SURG", 23: "IND", 24: "BASE", 25: "FACTOR", 26: "PROCEDURES", 27: "FLAG", 28: "INDICATOR",
     29: "AMOUNT", 30: "AMOUNT", 31: "AMOUNT"},
]  # fmt: skip
# The stacked header of the real PPRRVU CSV (lines 6-10), 2026 layout with PRIC IND: CMS column
# titles only.
PPRRVU_HEADER_2026: list[list[str]] = [[cells.get(i, "") for i in range(32)] for cells in _HEADER_CELLS_2026]
PRIC_COL = 23  # 0-based index of PRIC IND in the 2026 layout

# (code, mod, desc, status, not_used, work, nf_pe, nf_na, f_pe, f_na, mp, pctc, glob, pre, intra, post,
#  mult, bilat, asst, co, team, pric, endo, sup, dx_family, opps_nf, opps_f, opps_mp)
PPRRVU_ROWS: list[tuple[str, ...]] = [
    ("0331T", "", "Synthetic heart imaging test", "C", "", "0.00", "0.00", "", "0.00", "", "0.00",
     "9", "YYY", "0.00", "0.00", "0.00", "9", "9", "9", "9", "9", "9", "", "09", "99", "0.00", "0.00", "0.00"),
    ("00100", "", "Synthetic anesthesia service", "J", "", "0.00", "0.00", "", "0.00", "", "0.00",
     "9", "XXX", "0.00", "0.00", "0.00", "9", "9", "9", "9", "9", "9", "", "09", "99", "0.00", "0.00", "0.00"),
    ("27447", "", "Synthetic knee replacement", "A", "", "19.11", "14.10", "NA", "14.10", "", "3.90",
     "0", "090", "0.10", "0.69", "0.21", "2", "1", "2", "1", "0", "9", "", "09", "99", "0.00", "0.00", "0.00"),
    ("45378", "", "Synthetic colon endoscopy", "A", "", "3.26", "6.01", "", "1.55", "", "0.40",
     "0", "000", "0.00", "0.00", "0.00", "3", "0", "1", "0", "0", "9", "45378", "09", "99", "0.00", "0.00",
     "0.00"),
    ("45378", "53", "Synthetic colon endoscopy stopped", "A", "", "1.63", "3.00", "", "0.78", "", "0.20",
     "0", "000", "0.00", "0.00", "0.00", "3", "0", "1", "0", "0", "9", "45378", "09", "99", "0.00", "0.00",
     "0.00"),
    ("71046", "", "Synthetic chest x-ray 2 views", "A", "", "0.22", "0.71", "", "0.71", "NA", "0.02",
     "1", "XXX", "0.00", "0.00", "0.00", "4", "0", "9", "9", "9", "9", "", "01", "88", "0.66", "0.66", "0.01"),
    ("71046", "26", "Synthetic chest x-ray 2 views", "A", "", "0.22", "0.09", "", "0.09", "", "0.01",
     "1", "XXX", "0.00", "0.00", "0.00", "4", "0", "9", "9", "9", "9", "", "01", "88", "0.00", "0.00", "0.00"),
    ("71046", "TC", "Synthetic chest x-ray 2 views", "A", "", "0.00", "0.62", "", "0.62", "NA", "0.01",
     "1", "XXX", "0.00", "0.00", "0.00", "4", "0", "9", "9", "9", "9", "", "01", "88", "0.66", "0.66", "0.01"),
    ("99213", "", "Synthetic office visit level 3", "A", "", "1.30", "1.46", "", "0.33", "", "0.09",
     "0", "XXX", "0.00", "0.00", "0.00", "0", "0", "0", "0", "0", "9", "", "09", "99", "0.00", "0.00", "0.00"),
    ("99499", "", "Synthetic unlisted visit", "C", "+", "0.00", "0.00", "", "0.00", "", "0.00",
     "9", "XXX", "0.00", "0.00", "0.00", "9", "9", "9", "9", "9", "9", "", "09", "99", "0.00", "0.00", "0.00"),
    ("D0120", "", "Synthetic dental evaluation", "R", "", "0.00", "0.00", "", "0.00", "", "0.00",
     "9", "XXX", "0.00", "0.00", "0.00", "9", "9", "9", "9", "9", "9", "", "09", "99", "0.00", "0.00", "0.00"),
    ("G0105", "53", "Synthetic screening stopped", "A", "", "1.80", "3.10", "", "0.90", "", "0.25",
     "0", "000", "0.00", "0.00", "0.00", "3", "0", "1", "0", "0", "9", "45378", "09", "99", "0.00", "0.00",
     "0.00"),
]  # fmt: skip


def _total(work: str, pe: str, mp: str) -> str:
    cents = sum(round(float(x) * 100) for x in (work, pe, mp))
    return f"{cents // 100}.{cents % 100:02d}"


def pprrvu_cells(row: Sequence[str], cf: str = "33.4009", layout: str = "32") -> list[str]:
    """One data row as CSV cells in CMS column order (31 or 32 columns)."""
    (code, mod, desc, status, nu, work, nf_pe, nf_na, f_pe, f_na, mp, pctc, glob, pre, intra, post,
     mult, bilat, asst, co, team, pric, endo, sup, dxf, o_nf, o_f, o_mp) = row  # fmt: skip
    cells = [code, mod, desc, status, nu, work, nf_pe, nf_na, f_pe, f_na, mp,
             _total(work, nf_pe, mp), _total(work, f_pe, mp), pctc, glob, pre, intra, post,
             mult, bilat, asst, co, team, pric, endo, cf, sup, "0", dxf, o_nf, o_f, o_mp]  # fmt: skip
    if layout == "31":
        del cells[PRIC_COL]
    return cells


def pprrvu_header(layout: str = "32") -> list[list[str]]:
    rows = [list(r) for r in PPRRVU_HEADER_2026]
    if layout == "31":
        for r in rows:
            del r[PRIC_COL]
    return rows


def pprrvu_csv(
    rows: Sequence[Sequence[str]] = PPRRVU_ROWS,
    *,
    layout: str = "32",
    cf: str = "33.4009",
    released: str = "06/30/2026",
    title: str = "2026 National Physician Fee Schedule Relative Value File Synthetic Release",
    trailer: bool = False,
) -> bytes:
    """A small PPRRVU CSV with the real 10-line preamble/stacked-header shape."""
    width = 32 if layout == "32" else 31
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")

    def pre(text: str) -> list[str]:
        return ["", "", text] + [""] * (width - 3)

    w.writerow(pre(title))
    w.writerow(pre("Synthetic test data: not a CMS file. Descriptors are invented."))
    w.writerow(pre("No AMA or ADA content."))
    w.writerow(pre(""))
    w.writerow(pre(f"RELEASED {released}"))
    for hr in pprrvu_header(layout):
        w.writerow(hr)
    for r in rows:
        w.writerow(pprrvu_cells(r, cf, layout))
    if trailer:
        w.writerow(["\x1a"] + [""] * (width - 1))
    return out.getvalue().encode("ascii")


GPCI_ROWS: list[tuple[str, ...]] = [
    # mac, state, locality, name, work (no floor), work (with floor), pe, mp
    ("10112", "AL", "00", "SYNTHETIC ALABAMA", "0.960", "1.000", "0.870", "0.580"),
    ("02102", "AK", "01", "SYNTHETIC ALASKA*", "1.500", "1.500", "1.080", "0.590"),
    ("1182", "CA", "18", "SYNTHETIC LOS ANGELES", "1.050", "1.050", "1.170", "0.700"),
    ("3602", "WY", "21", "SYNTHETIC WYOMING**", "0.980", "1", "1", "0.740"),
]


def gpci_csv(
    rows: Sequence[Sequence[str]] = GPCI_ROWS, *, both_work: bool = True, year: str = "2026"
) -> bytes:
    """A small GPCI file; ``both_work`` adds the 2026-style "without 1.0 Floor" work column."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([f"ADDENDUM E. SYNTHETIC CY {year} GEOGRAPHIC PRACTICE COST INDICES (GPCIs)", "", "", "", "", "", ""]
               + ([""] if both_work else []))  # fmt: skip
    w.writerow([""] * (8 if both_work else 7))
    head = ["Medicare Administrative Contractor (MAC)", "State", "Locality Number", "Locality Name"]
    if both_work:
        head += [f"{year} PW GPCI (without 1.0 Floor)", f"{year} PW GPCI (with 1.0 Floor)"]
    else:
        head += [f"{year} PW GPCI (with 1.0 Floor)"]
    head += [f"{year} PE GPCI", f"{year} MP GPCI"]
    w.writerow(head)
    for mac, st, loc, name, wnf, wf, pe, mp in rows:
        w.writerow([mac, st, loc, name, *((wnf, wf) if both_work else (wf,)), pe, mp])
    w.writerow([""] * len(head))
    w.writerow(["*Synthetic footnote about Alaska."] + [""] * (len(head) - 1))
    w.writerow(["**Synthetic footnote about frontier states."] + [""] * (len(head) - 1))
    return out.getvalue().encode("ascii")


def locco_csv() -> bytes:
    """A small LOCCO file: spacer rows, trailing spaces, state carried forward, a footnote."""
    lines = [
        "COUNTIES INCLUDED IN SYNTHETIC 2026 LOCALITIES.,,,,",
        ",,,,",
        "Medicare Adminstrative Contractor,Locality Number,State ,Fee Schedule Area ,Counties",
        ",,,,",
        "10112,0,SYNTHETIC ALABAMA ,STATEWIDE ,ALL COUNTIES ",
        ",,,,",
        "1182,18,SYNTHETIC CALIFORNIA,LOS ANGELES (SYNTHETIC),LOS ANGELES ",
        '1112,52,,SAN FRANCISCO (SYNTHETIC),"MARIN, SONOMA"',
        "1112,99,,REST OF STATE* ,ALL OTHER COUNTIES ",
        " , , , , ",
        "3602,21,SYNTHETIC WYOMING ,STATEWIDE ,ALL COUNTIES ",
        ",,,,",
        "*  Synthetic footnote.,,,,",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def anes_csv(national: bool = True) -> bytes:
    cf_title = "National Anes CF of 20.4976" if national else "2026 Anesthesia Conversion Factor"
    lines = [
        f"Contractor,Locality,Locality Name,{cf_title}",
        "10112 ,00 ,SYNTHETIC ALABAMA,19.31 ",
        "2102 ,1 ,SYNTHETIC ALASKA*,27.86 ",
        "03602 ,21 ,SYNTHETIC WYOMING**,19.97 ",
        "\x1a,,,",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def oppscap_csv() -> bytes:
    lines = [
        "HCPCS,MOD,PROCSTAT,CARRIER,LOCALITY,FACILITY PRICE,NON-FACILTY PRICE",
        "70450,TC,A,01112,05,101.25,101.25",
        "70450,,A,01112,05,140.50,140.50",
        "71046,TC,A,1182,18,25.10,25.10",
        "0633T,TC,C,10112,0,150.69,150.69",
        "\x1a,,,,,,",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def hcpcs_record(
    code: str,
    rec_id: str,
    long_desc: str,
    short_desc: str = "",
    *,
    seq: str = "00100",
    pricing: str = "00",
    mult: str = "9",
    coverage: str = "C",
    asc: str = "",
    betos: str = "Y1",
    tos: str = "1",
    anes: str = "  0",
    added: str = "20260101",
    action_eff: str = "20260101",
    terminated: str = "",
    action: str = "A",
) -> str:
    """One 320-character HCPCS record. ``code`` is 5 characters (modifiers: 3 blanks + 2)."""
    if rec_id in "48":
        rec = f"{code:<5}{seq:<5}{rec_id}{long_desc:<80}"
        return rec.ljust(320)
    rec = (
        f"{code:<5}{seq:<5}{rec_id}{long_desc:<80}{short_desc:<28}{pricing:<8}{mult:<1}"
        + " " * 101  # 129-229: manual refs, statute, lab cert, cross refs
        + f"{coverage:<1}{asc:<2}"
        + " " * 24  # 233-256: ASC date, MOG, processing note
        + f"{betos:<3} {tos:<5}{anes:>3}{added:<8}{action_eff:<8}{terminated:<8}{action:<1}"
    )
    assert len(rec) == 293, len(rec)
    return rec.ljust(320)


def hcpcs_txt() -> bytes:
    recs = [
        hcpcs_record("   ZZ", "7", "Synthetic modifier for testing", "Synthetic mod", seq="00100"),
        hcpcs_record("   ZZ", "8", "continued on a second line", seq="00200"),
        hcpcs_record(
            "A9990",
            "3",
            "Synthetic supply item, first part of a long description that",
            "Synthetic supply",
            betos="D1A",
            tos="P",
        ),  # fmt: skip
        hcpcs_record("A9990", "4", "goes on for another line", seq="00200"),
        hcpcs_record("A9990", "4", "and one more.", seq="00300"),
        hcpcs_record(
            "G9990",
            "3",
            "Synthetic service code",
            "Synthetic service",
            pricing="1100",
            terminated="20261231",
            action="D",
        ),  # fmt: skip
    ]
    return ("\r\n".join(recs) + "\r\n" + " " * 296 + "\r\n").encode("ascii")
