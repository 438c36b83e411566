"""Malformed inputs: every one raises ParseError naming the file, the line and the column.

All inputs are small synthetic byte strings built here (see synth.py): no CMS descriptor text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rvuedge.fees.parsers import (
    ParseError,
    detect_kind,
    parse_anes,
    parse_gpci,
    parse_locco,
    parse_oppscap,
    parse_pprrvu,
    parse_pprrvu_txt,
)
from rvuedge.fees.parsers.pprrvu import TXT_RECORD_LENGTH, TXT_SLICES

from . import synth

PPRRVU = synth.pprrvu_csv()  # lines 1-5 preamble, 6-10 stacked header, data rows on lines 11-22
GPCI = synth.gpci_csv()  # line 3 header, data rows on lines 4-7


def lines(data: bytes) -> list[str]:
    return data.decode("ascii").split("\r\n")


def join(ls: list[str]) -> bytes:
    return "\r\n".join(ls).encode("ascii")


def edit_line(data: bytes, lineno: int, fn: Callable[[str], str]) -> bytes:
    ls = lines(data)
    ls[lineno - 1] = fn(ls[lineno - 1])
    return join(ls)


def edit_cell(data: bytes, lineno: int, col: int, value: str) -> bytes:
    def fn(ln: str) -> str:
        cells = ln.split(",")
        cells[col] = value
        return ",".join(cells)

    return edit_line(data, lineno, fn)


def drop_column(data: bytes, col: int) -> bytes:
    out = []
    for ln in lines(data):
        cells = ln.split(",")
        if len(cells) > col:
            del cells[col]
        out.append(",".join(cells))
    return join(out)


def txt_record(code: str = "99213") -> str:
    """One synthetic 171-character PPRRVU TXT record (values right-aligned in their fields)."""
    values = {
        "hcpcs": code, "description": "Synthetic office visit", "status": "A", "work_rvu": "1.30",
        "nonfac_pe_rvu": "1.46", "fac_pe_rvu": "0.33", "mp_rvu": "0.09", "nonfac_total": "2.85",
        "fac_total": "1.72", "pctc": "0", "glob_days": "XXX", "pre_op": ".00", "intra_op": ".00",
        "post_op": ".00", "mult_proc": "0", "bilat_surg": "0", "asst_surg": "0", "co_surg": "0",
        "team_surg": "0", "conv_factor": "33.4009", "phys_supervision": "09", "calc_flag": "0",
        "dx_img_family": "99", "opps_nonfac_pe": "0.00", "opps_fac_pe": "0.00", "opps_mp": "0.00",
    }  # fmt: skip
    buf = [" "] * TXT_RECORD_LENGTH
    for field, sl in TXT_SLICES.items():
        v = values.get(field, "")
        width = sl.stop - sl.start
        cell = v.ljust(width) if field in ("hcpcs", "modifier", "description") else v.rjust(width)
        buf[sl] = cell
    return "".join(buf)


# (id, parser, file name, data, expected line, expected column, message fragment)
CASES: list[tuple[str, Callable[[bytes, str], Any], str, bytes, int, str, str]] = [
    ("empty file", parse_pprrvu, "PPRRVU_empty.csv", b"", 1, "HCPCS", "empty file"),
    ("whitespace-only file", parse_gpci, "GPCI_blank.csv", b"\r\n  \r\n", 1,
     "Medicare Administrative Contractor (MAC)", "empty file"),
    ("truncated file (cut mid-row)", parse_pprrvu, "PPRRVU_cut.csv",
     PPRRVU[: PPRRVU.index(b"27447,,Synthetic knee replacement,A,,19.11,14") + 46], 13,
     "NON-FAC NA INDICATOR", "truncated row: 7 cells, expected 32"),
    ("missing column", parse_pprrvu, "PPRRVU_nowork.csv", drop_column(PPRRVU, 5), 10, "WORK RVU",
     "missing required column"),
    ("non-numeric RVU", parse_pprrvu, "PPRRVU_rvu.csv", edit_cell(PPRRVU, 13, 5, "19.1x"), 13, "WORK RVU",
     "not a number: '19.1x'"),
    ("NaN conversion factor", parse_pprrvu, "PPRRVU_nan.csv", edit_cell(PPRRVU, 11, 25, "NaN"), 11,
     "CONV FACTOR", "not a number: 'NaN'"),
    ("unknown layout (extra column)", parse_pprrvu, "PPRRVU_extra.csv",
     edit_line(PPRRVU, 10, lambda ln: ln + ",FOO"), 10, "FOO", "unknown PPRRVU layout"),
    ("duplicate column", parse_pprrvu, "PPRRVU_dupcol.csv",
     edit_line(edit_line(PPRRVU, 9, lambda ln: ln + ",WORK"), 10, lambda ln: ln + ",RVU"), 10, "WORK RVU",
     "duplicate column (also column 6)"),
    ("wrong file kind: GPCI given to the PPRRVU parser", parse_pprrvu, "GPCI2026.csv", GPCI, 10, "HCPCS",
     "not a PPRRVU file: no header row starting with HCPCS"),
    ("wrong file kind: OPPSCAP given to the PPRRVU parser", parse_pprrvu, "OPPSCAP_JAN.csv",
     synth.oppscap_csv(), 1, "DESCRIPTION", "not a PPRRVU file: header lacks"),
    ("wrong file kind: PPRRVU given to the GPCI parser", parse_gpci, "PPRRVU.csv", PPRRVU, 22,
     "Locality Number", "not a GPCI file"),
    ("bad encoding (byte valid in neither UTF-8 nor cp1252)", parse_pprrvu, "PPRRVU_enc.csv",
     PPRRVU.replace(b"Synthetic office visit", b"Synthetic office \x81visit"), 19, "field 3 (character 25)",
     "byte 0x81 is not valid"),
    ("UTF-16 file", parse_pprrvu, "PPRRVU_u16.csv", PPRRVU.decode().encode("utf-16"), 1, "HCPCS",
     "UTF-16"),
    ("NUL byte", parse_oppscap, "OPPSCAP_nul.csv", synth.oppscap_csv().replace(b"101.25,", b"101.25,\x00"), 2,
     "field 7 (character 28)", "NUL character"),
    ("duplicate header row inside the data", parse_pprrvu, "PPRRVU_duphdr.csv",
     join(lines(PPRRVU)[:12] + [lines(PPRRVU)[9]] + lines(PPRRVU)[12:]), 13, "HCPCS",
     "duplicate header row"),
    ("bad status", parse_pprrvu, "PPRRVU_status.csv", edit_cell(PPRRVU, 12, 3, "Q"), 12, "STATUS CODE",
     "invalid status code 'Q'"),
    ("bad code", parse_pprrvu, "PPRRVU_code.csv", edit_cell(PPRRVU, 19, 0, "99-13"), 19, "HCPCS",
     "invalid HCPCS code '99-13'"),
    ("bad modifier", parse_pprrvu, "PPRRVU_mod.csv", edit_cell(PPRRVU, 17, 1, "T"), 17, "MOD",
     "invalid modifier 'T'"),
    ("bad NA indicator", parse_pprrvu, "PPRRVU_na.csv", edit_cell(PPRRVU, 14, 7, "XX"), 14,
     "NON-FAC NA INDICATOR", "expected 'NA' or blank"),
    ("bad global days", parse_pprrvu, "PPRRVU_glob.csv", edit_cell(PPRRVU, 14, 14, "90"), 14, "GLOB DAYS",
     "invalid global days '90'"),
    ("row with an extra non-empty cell", parse_pprrvu, "PPRRVU_long.csv",
     edit_line(PPRRVU, 15, lambda ln: ln + ",9"), 15, "column 33", "row has 33 cells, expected 32"),
    ("impossible release date", parse_pprrvu, "PPRRVU_date.csv",
     PPRRVU.replace(b"RELEASED 06/30/2026", b"RELEASED 13/45/2026"), 5, "DESCRIPTION",
     "invalid release date"),
    ("Ctrl-Z byte followed by data", parse_pprrvu, "PPRRVU_ctrlz.csv", edit_cell(PPRRVU, 16, 0, "\x1a9921"),
     16, "HCPCS", "Ctrl-Z"),
    ("GPCI: bad MAC", parse_gpci, "GPCI_mac.csv", edit_cell(GPCI, 5, 0, "AK102"), 5,
     "Medicare Administrative Contractor (MAC)", "invalid MAC number 'AK102'"),
    ("GPCI: non-numeric PE GPCI", parse_gpci, "GPCI_pe.csv", edit_cell(GPCI, 6, 6, "1.1.7"), 6, "2026 PE GPCI",
     "not a number: '1.1.7'"),
    ("GPCI: missing MP column", parse_gpci, "GPCI_nomp.csv", drop_column(GPCI, 7), 3, "MP GPCI",
     "missing required column"),
    ("GPCI: truncated row", parse_gpci, "GPCI_cut.csv", edit_line(GPCI, 7, lambda ln: ",".join(ln.split(",")[:5])),
     7, "2026 PW GPCI (with 1.0 Floor)", "truncated row"),
    ("GPCI: bad state", parse_gpci, "GPCI_state.csv", edit_cell(GPCI, 4, 1, "A1"), 4, "State",
     "invalid state abbreviation"),
    ("LOCCO: first row without a state", parse_locco, "LOCCO_state.csv",
     edit_cell(synth.locco_csv(), 5, 2, " "), 5, "State", "state is blank"),
    ("LOCCO: bad locality number", parse_locco, "LOCCO_loc.csv", edit_cell(synth.locco_csv(), 7, 1, "1B"), 7,
     "Locality Number", "invalid locality number '1B'"),
    ("ANES: non-numeric CF", parse_anes, "ANES_cf.csv", edit_cell(synth.anes_csv(), 3, 3, "27,86"[:2] + "x"), 3,
     "National Anes CF of 20.4976", "not a number"),
    ("OPPSCAP: bad price", parse_oppscap, "OPPSCAP_price.csv", edit_cell(synth.oppscap_csv(), 4, 6, "-"), 4,
     "NON-FACILTY PRICE", "not a number: '-'"),
    ("OPPSCAP: bad carrier", parse_oppscap, "OPPSCAP_mac.csv", edit_cell(synth.oppscap_csv(), 3, 3, "1A112"), 3,
     "CARRIER", "invalid carrier/MAC number '1A112'"),
    ("PPRRVU TXT: truncated record", parse_pprrvu_txt, "PPRRVU_cut.txt",
     ("HDR SYNTHETIC\r\n" + txt_record() + "\r\n" + txt_record("99214")[:95] + "\r\n").encode(), 3,
     "NON-FACILITY TOTAL", "truncated record: 95 characters, expected 171"),
    ("PPRRVU TXT: non-numeric RVU", parse_pprrvu_txt, "PPRRVU_bad.txt",
     ("HDR SYNTHETIC\r\n" + txt_record().replace("1.30", "1.3?") + "\r\n").encode(), 2, "WORK RVU",
     "not a number: '1.3?'"),
]  # fmt: skip


@pytest.mark.parametrize(("parser", "fname", "data", "line", "column", "fragment"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_malformed_input_raises_parse_error(parser, fname, data, line, column, fragment):
    with pytest.raises(ParseError) as exc:
        parser(data, fname)
    err = exc.value
    assert (err.file, err.line, err.column) == (fname, line, column)
    assert fragment in err.message
    assert str(err).startswith(f"{fname}, line {line}, column {column}: ")


def test_at_least_twelve_cases():
    assert len(CASES) >= 12


def test_good_txt_record_parses():
    """The hand-built fixed-width record used above is itself valid."""
    f = parse_pprrvu_txt(("HDR SYNTHETIC\r\n" + txt_record() + "\r\n").encode(), "PPRRVU_ok.txt")
    (row,) = f.rows
    assert (row.hcpcs, str(row.work_rvu), str(row.nonfac_total), row.glob_days, row.line) == (
        "99213", "1.30", "2.85", "XXX", 2,
    )  # fmt: skip


def test_unknown_kind():
    with pytest.raises(ParseError) as exc:
        detect_kind("notes.docx", b"PK\x03\x04 not a CMS file")
    assert exc.value.file == "notes.docx" and "unknown CMS file kind" in str(exc.value)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("PPRRVU2026_Jan_nonQPP.csv", "pprrvu"),
        ("pprrvu25_jan.CSV", "pprrvu"),
        ("PPRRVU2025_Oct.txt", "pprrvu_txt"),
        ("GPCI2026.csv", "gpci"),
        ("26LOCCO.csv", "locco"),
        ("ANES2026.csv", "anes"),
        ("OPPSCAP_Jan.csv", "oppscap"),
        ("HCPC2026_JAN_ANWEB_01122026.txt", "hcpcs"),
        ("some/dir/RVU26A/PPRRVU2026_Jan_QPP.csv", "pprrvu"),
        ("C:\\\\Downloads\\\\GPCI2026.csv", "gpci"),
    ],
)
def test_detect_kind_by_name(name, kind):
    assert detect_kind(name, b"") == kind


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (synth.pprrvu_csv(), "pprrvu"),
        (synth.gpci_csv(), "gpci"),
        (synth.locco_csv(), "locco"),
        (synth.anes_csv(), "anes"),
        (synth.oppscap_csv(), "oppscap"),
        (synth.hcpcs_txt(), "hcpcs"),
        (("HDR SYNTHETIC\r\n" + txt_record() + "\r\n").encode(), "pprrvu_txt"),
    ],
)
def test_detect_kind_by_content(data, kind):
    assert detect_kind("upload.dat", data) == kind
