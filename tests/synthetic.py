"""Tiny synthetic CMS-shaped files for tests (made-up descriptors; never AMA text)."""

from __future__ import annotations

import io
import zipfile

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
