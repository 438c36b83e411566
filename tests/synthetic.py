"""Tiny synthetic CMS-shaped files for tests (made-up descriptors; never AMA text), and the unit-test fee set.

No Django here: pure tests import the fee set's lookup directly; tests/conftest.py loads its files.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from decimal import Decimal

from rvuedge.pricing import DictLookup, Gpci, RvuRow
from tests.pricing.fixture_rows import CF, TABLE, parse_table

PREAMBLE_31 = [
    ",,2025 National Physician Fee Schedule Relative Value File January Release" + "," * 28,
    ",,Synthetic test file written for RVU Edge" + "," * 28,
    ",,No real descriptors" + "," * 28,
    ",, " + "," * 28,
    ",,RELEASED 12/23/2024" + "," * 28,
    ",, , ,,,,,,,,,,,,,,,,,,,,,,,,,NON-FACILITY,FACILITY,",
    ",,,,NOT USED,,,,,,,,,,,,,,,,,,,,,PHYSICIAN,,DIAGNOSTIC,PE USED,PE USED,MP USED",
    ",,,,FOR,,,NON-FAC,,FACILITY ,,,,,,,,,,,,,,,,SUPERVISION OF,,IMAGING,FOR OPPS,FOR OPPS,FOR OPPS",
    ",,,STATUS,MEDICARE ,WORK,NON-FAC,NA,FACILITY,NA,MP,NON-FACILITY,FACILITY,PCTC,GLOB,PRE,INTRA,POST,MULT,"
    "BILAT,ASST,CO-,TEAM,ENDO,CONV,DIAGNOSTIC,CALCULATION,FAMILY,PAYMENT,PAYMENT,PAYMENT",
    "HCPCS,MOD,DESCRIPTION,CODE,PAYMENT,RVU,PE RVU,INDICATOR,PE RVU,INDICATOR,RVU,TOTAL,TOTAL,IND,DAYS,OP,OP,"
    "OP,PROC,SURG,SURG,SURG,SURG,BASE,FACTOR,PROCEDURES,FLAG,INDICATOR,AMOUNT,AMOUNT,AMOUNT",
]

ROWS_31 = [
    "99213,,Synthetic visit level three,A,,1.30,1.35,,0.57,,0.10,2.75,1.97,0,XXX,0.00,0.00,0.00,0,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00",
    "27447,,Synthetic knee replacement,A,,19.60,15.30,NA,15.30,,3.98,38.88,38.88,0,090,0.10,0.70,0.20,2,1,2,1,0,,32.3465,09,0,99,0.00,0.00,0.00",
    "71046,,Synthetic chest image,A,,0.22,0.74,,0.74,,0.02,0.98,0.98,1,XXX,0.00,0.00,0.00,0,0,9,9,9,,32.3465,02,0,99,0.70,0.70,0.01",
    "71046,26,Synthetic chest image,A,,0.22,0.08,,0.08,,0.01,0.31,0.31,1,XXX,0.00,0.00,0.00,0,0,9,9,9,,32.3465,09,0,99,0.08,0.08,0.01",
    "71046,TC,Synthetic chest image,A,,0.00,0.66,,0.66,,0.01,0.67,0.67,1,XXX,0.00,0.00,0.00,0,0,9,9,9,,32.3465,02,0,99,0.62,0.62,0.00",
    "0331T,,Synthetic heart imaging,C,,0.00,0.00,,0.00,,0.00,0.00,0.00,9,YYY,0.00,0.00,0.00,9,9,9,9,9,,32.3465,09,0,99,0.00,0.00,0.00",
]

GPCI = [
    "ADDENDUM E. FINAL CY 2025 GEOGRAPHIC PRACTICE COST INDICES (GPCIs) BY STATE AND MEDICARE LOCALITY,,,,,,",
    ",,,,,,",
    "Medicare Administrative Contractor (MAC),State,Locality Number,Locality Name,2025 PW GPCI (with 1.0 Floor),2025 PE GPCI,2025 MP GPCI",
    "10112,AL,00,ALABAMA,1,0.869,0.575",
    "02102,AK,01,ALASKA*,1.5,1.081,0.592",
    ",,,,,,",
    "* Synthetic footnote,,,,,,",
]


def pprrvu_csv(rows: list[str] | None = None) -> bytes:
    lines = PREAMBLE_31 + (ROWS_31 if rows is None else rows)
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def gpci_csv() -> bytes:
    return ("\r\n".join(GPCI) + "\r\n").encode("ascii")


def release_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


# --------------------------------------------------------------------------- the unit-test fee set
#
# One small, made-up fee set for unit tests, defined once and usable two ways:
#   * fee_set_lookup(): a pure DictLookup (no Django) for engine and rule tests, with fee_set_gpci() and FEE_SET_CF;
#   * fee_set_zip(): the same rows as CMS files (PPRRVU + GPCI), loaded into the test database through the real
#     importer (rvuedge.fees.importer.load_release) for test modules marked ``synthetic_fees`` (tests/conftest.py).
# The rows are a selection of the rule tests' table (tests/pricing/fixture_rows.py, pfs-rules table 6.2's
# illustrative values) plus two synthetic E/M rows that table leaves out on purpose (its 99215 is the "unknown
# code" of a rule test). Descriptors are made up ("Synthetic ..."); none is AMA text. ROWS_31 above is another
# thing: six rows mirroring real RVU25A figures for the loader's error and update tests.
#
# What the unit tests use (work RVU; non-facility PE / facility PE / MP):
#   99212 0.75  99213 1.30  99214 1.92  99215 2.65      E/M visits (status A, XXX)
#   27447 19.11 (PE 10.40/10.40, MP 3.80)                090 global; BILAT 1, ASST 2, CO 1, TEAM 0; non-facility NA
#   20610 0.77 (PE 0.88/0.37, MP 0.08)                   000 global; BILAT 1, ASST 1
#   11042 1.01 + add-on 11045 0.50 (ZZZ)                 000 base and its add-on
#   71046 global 0.22 / -26 0.22 / -TC 0.00              PC/TC 1 imaging (26 and TC rows)
#   45378 3.18 (base; -53 1.55) + 45380 3.47 (member)    endoscopy family 45378 (MULT PROC 3)
#   99024 B, 99397 N, 99243 I, 0100T C                   bundled, non-covered, not valid for Medicare, carrier-priced

#: The name the importer gives the fee set (from its title: "2025 ... January Release"), so the 2025 dates the
#: log tests use are credited with it. It is never loaded beside the real RVU25A (see tests/conftest.py).
FEE_SET_RELEASE = "RVU25A"
FEE_SET_CF = CF  # 33.4009: the conversion factor of every fee-set row (the PPRRVU CONV FACTOR column)
FEE_SET_CODES = ("99213", "99214", "27447", "20610", "11042", "11045", "71046", "45378", "45380",
                 "99024", "99397", "99243", "0100T")
# Same columns as fixture_rows.TABLE: code mod status work pe_nonfac pe_fac mp pctc glob shares mult bilat asst co team
FEE_SET_EXTRA = """
99212 -  A 0.75 0.80 0.30 0.06 0 XXX - 0 9 9 9 9
99215 -  A 2.65 1.95 1.05 0.19 0 XXX - 0 9 9 9 9
"""
FEE_SET_DESCRIPTIONS = {  # no commas: the CSV writer does not quote
    "99212": "Synthetic office visit level 2", "99213": "Synthetic office visit level 3",
    "99214": "Synthetic office visit level 4", "99215": "Synthetic office visit level 5",
    "27447": "Synthetic knee joint replacement", "20610": "Synthetic large joint injection",
    "11042": "Synthetic wound debridement first area", "11045": "Synthetic wound debridement each added area",
    "71046": "Synthetic chest image two views", "45378": "Synthetic colon scope diagnostic",
    "45380": "Synthetic colon scope with biopsy", "99024": "Synthetic visit inside a global period",
    "99397": "Synthetic preventive visit", "99243": "Synthetic office consultation",
    "0100T": "Synthetic carrier-priced service",
}
#: (MAC, state, locality number, name, work GPCI with the 1.0 floor, PE GPCI, MP GPCI). 01112-05 has the rule
#: tests' LOC_A indices.
FEE_SET_LOCALITIES = [
    ("01112", "CA", "05", "SYNTHETIC CITY", "1.020", "1.080", "0.950"),
    ("10112", "AL", "00", "SYNTHETIC RURAL", "1.000", "0.870", "0.580"),
    ("13202", "NY", "01", "SYNTHETIC METRO", "1.050", "1.150", "1.300"),
]


def fee_set_rows() -> list[RvuRow]:
    """Every row of the fee set as the engine sees it (description, CF and release as the database gives them)."""
    picked = [r for r in parse_table(TABLE) if r.code in FEE_SET_CODES] + parse_table(FEE_SET_EXTRA)
    return [replace(r, description=FEE_SET_DESCRIPTIONS[r.code], conv_factor=FEE_SET_CF, release=FEE_SET_RELEASE)
            for r in picked]


def fee_set_lookup() -> DictLookup:
    """The fee set as a pure lookup (no Django, no database)."""
    return DictLookup(fee_set_rows(), release=FEE_SET_RELEASE)


def fee_set_gpci(key: str) -> Gpci:
    """A fee-set locality's GPCIs ("01112-05"), as the database's locality resolver builds them."""
    for mac, state, number, name, work, pe, mp in FEE_SET_LOCALITIES:
        if f"{mac}-{number}" == key:
            return Gpci(Decimal(work), Decimal(pe), Decimal(mp), locality=f"{name} ({key})", state=state)
    raise KeyError(key)


def _cells(r: RvuRow) -> list[str]:
    """One PPRRVU data row in the 31-column layout of PREAMBLE_31."""
    def f(d: Decimal) -> str:
        return f"{d:.2f}"

    return [r.code, r.mod, r.description, r.status, "+" if r.not_used_for_medicare else "", f(r.work_rvu),
            f(r.pe_nonfac), "NA" if r.nonfac_na else "", f(r.pe_fac), "NA" if r.fac_na else "", f(r.mp_rvu),
            f(r.work_rvu + r.pe_nonfac + r.mp_rvu), f(r.work_rvu + r.pe_fac + r.mp_rvu), r.pctc, r.glob_days,
            f(r.pre_op), f(r.intra_op), f(r.post_op), r.mult_proc, r.bilat, r.asst, r.co_surg, r.team, r.endo_base,
            str(r.conv_factor), "09", "0", r.dx_img_family, f(r.opps_nonfac_pe), f(r.opps_fac_pe), f(r.opps_mp)]


def fee_set_pprrvu_csv() -> bytes:
    return pprrvu_csv([",".join(_cells(r)) for r in fee_set_rows()])


def fee_set_gpci_csv() -> bytes:
    rows = [",".join(loc) for loc in FEE_SET_LOCALITIES]
    return ("\r\n".join([*GPCI[:3], *rows, *GPCI[-2:]]) + "\r\n").encode("ascii")


def fee_set_zip() -> bytes:
    """The fee set as a release zip: what ``load_release`` reads (named RVU25A from the PPRRVU title)."""
    return release_zip({"PPRRVU25_JAN.csv": fee_set_pprrvu_csv(), "GPCI2025.csv": fee_set_gpci_csv()})
