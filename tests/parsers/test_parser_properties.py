"""Property tests: corrupted input either parses or raises ParseError, never anything else.

Random byte flips, insertions, truncation, line deletion/duplication/swaps are applied to small
synthetic files of every kind. Also a round trip: random valid PPRRVU rows written as CSV (with
shuffled column order) parse back to the same values. Set RVUEDGE_HYPOTHESIS_EXAMPLES for a
longer run (default 150 examples per test).
"""

from __future__ import annotations

import csv
import io
import os
import random
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rvuedge.fees.parsers import (
    KINDS,
    AnesFile,
    HcpcsFile,
    ParseError,
    PprrvuFile,
    detect_kind,
    parse_anes,
    parse_gpci,
    parse_hcpcs,
    parse_locco,
    parse_oppscap,
    parse_pprrvu,
    parse_pprrvu_txt,
)
from rvuedge.fees.parsers._common import STATUS_CODES
from rvuedge.fees.parsers.pprrvu import GLOB_DAYS

from . import synth
from .test_parser_errors import txt_record

SETTINGS = settings(
    max_examples=int(os.environ.get("RVUEDGE_HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    database=None,  # don't write a .hypothesis folder into the project
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

PPRRVU_32 = synth.pprrvu_csv(trailer=True)
PPRRVU_31 = synth.pprrvu_csv(layout="31", cf="32.3465", trailer=True)
GPCI = synth.gpci_csv()
GPCI_7 = synth.gpci_csv(both_work=False)
TXT = (
    "HDR SYNTHETIC\r\n" + "\r\n".join(txt_record(c) for c in ("99211", "99212", "99213")) + "\r\n"
).encode()


@st.composite
def corrupted(draw: st.DrawFn, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(
            st.sampled_from(["flip", "insert", "truncate", "delete_line", "dup_line", "swap_lines", "cell"])
        )
        if op == "flip" and data:
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            i = draw(st.integers(0, len(data)))
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
        elif op == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif op == "cell":  # a plausible-looking but wrong cell value
            text = bytes(data)
            cells = [i for i, b in enumerate(text) if b == ord(",")]
            if cells:
                i = draw(st.sampled_from(cells)) + 1
                data[i:i] = draw(
                    st.sampled_from([b"NA", b"-", b"1e9", b"NaN", b"x", b"\x1a", b'"', b"HCPCS", b"0"])
                )
        else:
            lines = bytes(data).split(b"\n")
            if not lines:
                continue
            k = draw(st.integers(0, len(lines) - 1))
            if op == "delete_line":
                del lines[k]
            elif op == "dup_line":
                lines.insert(k, lines[k])
            else:
                j = draw(st.integers(0, len(lines) - 1))
                lines[k], lines[j] = lines[j], lines[k]
            data = bytearray(b"\n".join(lines))
    return bytes(data)


def check_pprrvu(result: PprrvuFile) -> None:
    assert result.layout in ("31", "32")
    for r in result.rows:
        assert len(r.hcpcs) == 5 and r.hcpcs.isalnum()
        assert r.status in STATUS_CODES and r.glob_days in GLOB_DAYS
        assert isinstance(r.work_rvu, Decimal) and r.work_rvu.is_finite()
        assert isinstance(r.nonfac_na, bool) and isinstance(r.fac_na, bool)
        assert r.line >= 1


def parses_or_parse_error(parser, data: bytes, name: str):
    try:
        return parser(data, name)
    except ParseError as err:
        assert err.file == name
        assert str(err).startswith(name)
        return None


@SETTINGS
@given(corrupted(PPRRVU_32))
def test_corrupted_pprrvu_2026(data):
    result = parses_or_parse_error(parse_pprrvu, data, "PPRRVU2026.csv")
    if result is not None:
        check_pprrvu(result)


@SETTINGS
@given(corrupted(PPRRVU_31))
def test_corrupted_pprrvu_2025(data):
    result = parses_or_parse_error(parse_pprrvu, data, "PPRRVU25_JAN.csv")
    if result is not None:
        check_pprrvu(result)


@SETTINGS
@given(corrupted(TXT))
def test_corrupted_pprrvu_txt(data):
    result = parses_or_parse_error(parse_pprrvu_txt, data, "PPRRVU2025_Oct.txt")
    if result is not None:
        check_pprrvu(result)


@SETTINGS
@given(st.one_of(corrupted(GPCI), corrupted(GPCI_7)))
def test_corrupted_gpci(data):
    result = parses_or_parse_error(parse_gpci, data, "GPCI2026.csv")
    if result is not None:
        assert result
        assert len({(r.mac, r.locality) for r in result}) == len(result)
        for r in result:
            assert len(r.mac) == 5 and r.mac.isdigit() and len(r.locality) == 2 and r.locality.isdigit()
            assert len(r.state) == 2 and r.name == r.name.strip().strip("*").strip()
            assert r.work_gpci.is_finite() and r.pe_gpci.is_finite() and r.mp_gpci.is_finite()


@SETTINGS
@given(corrupted(synth.locco_csv()))
def test_corrupted_locco(data):
    result = parses_or_parse_error(parse_locco, data, "26LOCCO.csv")
    if result is not None:
        assert all(r.state and len(r.mac) == 5 and len(r.locality) == 2 for r in result)


@SETTINGS
@given(corrupted(synth.anes_csv()))
def test_corrupted_anes(data):
    result = parses_or_parse_error(parse_anes, data, "ANES2026.csv")
    if result is not None:
        assert isinstance(result, AnesFile) and result.rows


@SETTINGS
@given(corrupted(synth.oppscap_csv()))
def test_corrupted_oppscap(data):
    result = parses_or_parse_error(parse_oppscap, data, "OPPSCAP_Jan.csv")
    if result is not None:
        assert all(r.fac_price.is_finite() and r.nonfac_price.is_finite() for r in result)


@SETTINGS
@given(corrupted(synth.hcpcs_txt()))
def test_corrupted_hcpcs(data):
    result = parses_or_parse_error(parse_hcpcs, data, "HCPC2026_JAN.txt")
    if result is not None:
        assert isinstance(result, HcpcsFile)
        assert all(w.startswith("HCPC2026_JAN.txt, line ") for w in result.warnings)


@SETTINGS
@given(st.binary(max_size=600))
def test_random_bytes_never_crash_any_parser(data):
    for parser in (
        parse_pprrvu,
        parse_pprrvu_txt,
        parse_gpci,
        parse_locco,
        parse_anes,
        parse_oppscap,
        parse_hcpcs,
    ):
        parses_or_parse_error(parser, data, "random.bin")
    try:
        assert detect_kind("random.bin", data) in KINDS
    except ParseError as err:
        assert err.file == "random.bin"


RVU = st.decimals(min_value=0, max_value=999, places=2, allow_nan=False, allow_infinity=False)
CODE = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", min_size=5, max_size=5)
DESC = st.text(alphabet=st.characters(codec="cp1252", exclude_characters="\r\n\x00\x1a"), max_size=30)


@st.composite
def pprrvu_rows(draw: st.DrawFn) -> list[list[str]]:
    keys = draw(
        st.lists(
            st.tuples(CODE, st.sampled_from(["", "26", "TC", "53"])), min_size=1, max_size=8, unique=True
        )
    )
    rows = []
    for code, mod in keys:
        work, nf, f, mp = (draw(RVU) for _ in range(4))
        rows.append([
            code, mod, draw(DESC),
            draw(st.sampled_from(sorted(STATUS_CODES))), draw(st.sampled_from(["", "+"])),
            str(work), str(nf), draw(st.sampled_from(["", "NA"])), str(f), draw(st.sampled_from(["", "NA"])),
            str(mp), str(work + nf + mp), str(work + f + mp), draw(st.sampled_from("0123456789")),
            draw(st.sampled_from(sorted(GLOB_DAYS))), "0.00", "0.00", "0.00", "9", "9", "9", "9", "9",
            draw(st.sampled_from(["", "1", "9"])), draw(st.sampled_from(["", "45378"])), "33.4009",
            draw(st.sampled_from(["01", "09", "6A"])), "0", draw(st.sampled_from(["88", "99"])),
            str(draw(RVU)), str(draw(RVU)), str(draw(RVU)),
        ])  # fmt: skip
    return rows


@SETTINGS
@given(pprrvu_rows(), st.randoms(use_true_random=False))
def test_round_trip_with_shuffled_columns(rows, rnd: random.Random):
    header = synth.pprrvu_header("32")
    order = [0, *rnd.sample(range(1, 32), 31)]  # HCPCS stays first: the header row is found by it
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["", "", "Synthetic title"] + [""] * 29)
    w.writerow(["", "", "RELEASED 01/02/2026"] + [""] * 29)
    for line in [*header, *rows]:
        w.writerow([line[i] for i in order])
    # UTF-8 so any descriptor text round-trips (a cp1252 file whose high bytes happen to form valid
    # UTF-8 is read as UTF-8: an inherent ambiguity of "UTF-8, else cp1252" decoding)
    f = parse_pprrvu(out.getvalue().encode("utf-8"), "PPRRVU_rt.csv")
    assert f.layout == "32" and f.title == "Synthetic title" and len(f.rows) == len(rows)
    for got, want in zip(f.rows, rows, strict=True):
        assert (got.hcpcs, got.modifier, got.description, got.status) == (
            want[0],
            want[1],
            want[2].strip(),
            want[3],
        )
        assert got.work_rvu == Decimal(want[5]) and got.nonfac_pe_rvu == Decimal(want[6])
        assert got.nonfac_na == (want[7] == "NA") and got.fac_na == (want[9] == "NA")
        assert got.nonfac_total == Decimal(want[11]) and got.fac_total == Decimal(want[12])
        assert (got.pric_ind, got.endo_base, got.conv_factor) == (want[23], want[24], Decimal("33.4009"))
        assert (got.phys_supervision, got.dx_img_family) == (want[26], want[28])
        assert (got.opps_nonfac_pe, got.opps_fac_pe, got.opps_mp) == tuple(Decimal(v) for v in want[29:32])
