"""Values CMS never publishes are refused: file, line and field named, nothing written, non-zero exit.

Negative RVUs (work, PE, MP, totals, the OPPS RVUs), pre/intra/post-operative shares outside 0..1,
a conversion factor, GPCI or anesthesia conversion factor of zero or less, a negative OPPS cap
amount. Every real release must still parse: a rule that refuses a real CMS file is wrong.
"""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rvuedge.fees import parsers
from rvuedge.fees.importer import LoadError, kind_of, load_release
from rvuedge.fees.models import FeeRow, Gpci, OppsCap, Release
from rvuedge.fees.parsers import ParseError, parse_pprrvu
from tests.parsers import synth
from tests.synthetic import GPCI, PREAMBLE_31, ROWS_31, gpci_csv, pprrvu_csv, release_zip

pytestmark = pytest.mark.django_db

FIRST_DATA_LINE = len(PREAMBLE_31) + 1  # line 11
# 31-column layout: index -> the column name the parser reports
RVU_COLUMNS = {5: "WORK RVU", 6: "NON-FAC PE RVU", 8: "FACILITY PE RVU", 10: "MP RVU", 11: "NON-FACILITY TOTAL",
               12: "FACILITY TOTAL", 15: "PRE OP", 16: "INTRA OP", 17: "POST OP",
               28: "NON-FACILITY PE USED FOR OPPS PAYMENT AMOUNT", 29: "FACILITY PE USED FOR OPPS PAYMENT AMOUNT",
               30: "MP USED FOR OPPS PAYMENT AMOUNT"}


def snapshot():
    return (list(Release.objects.order_by("pk").values_list("pk", "name", "fingerprint")),
            FeeRow.objects.count(), Gpci.objects.count(), OppsCap.objects.count())


def with_cells(edits: dict[tuple[int, int], str]) -> bytes:
    """The synthetic PPRRVU with cell (row, column) set to each value."""
    rows = [r.split(",") for r in ROWS_31]
    for (ri, ci), value in edits.items():
        rows[ri][ci] = value
    return pprrvu_csv([",".join(r) for r in rows])


negatives = st.decimals(min_value=Decimal("-9999.99"), max_value=Decimal("-0.01"), places=2,
                        allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.tuples(st.integers(0, len(ROWS_31) - 1), st.sampled_from(sorted(RVU_COLUMNS))),
                       negatives, min_size=1, max_size=6))
def test_any_negative_rvu_is_refused_at_its_line_and_column(edits):
    data = with_cells({k: str(v) for k, v in edits.items()})
    with pytest.raises(ParseError) as exc:
        parse_pprrvu(data, "PPRRVU25_APR.csv")
    row, col = min(edits)  # the first bad cell in file order
    assert exc.value.line == FIRST_DATA_LINE + row
    assert exc.value.column == RVU_COLUMNS[col]
    assert str(edits[(row, col)]) in exc.value.message


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.integers(0, len(ROWS_31) - 1), col=st.sampled_from(sorted(RVU_COLUMNS)), value=negatives)
def test_a_negative_rvu_loads_nothing(tmp_path, row, col, value):
    before = snapshot()
    path = tmp_path / "RVU25B.zip"
    path.write_bytes(release_zip({"PPRRVU25_APR.csv": with_cells({(row, col): str(value)}),
                                  "GPCI2025.csv": gpci_csv()}))
    with pytest.raises(LoadError) as exc:
        load_release(str(path))
    assert str(exc.value).startswith(
        f"PPRRVU25_APR.csv, line {FIRST_DATA_LINE + row}, column {RVU_COLUMNS[col]}: negative")
    assert snapshot() == before


def test_negative_zero_and_zero_rvus_are_fine():
    data = with_cells({(0, 5): "-0.00", (1, 6): "0", (2, 15): "1.00"})
    assert len(parse_pprrvu(data, "PPRRVU25_APR.csv").rows) == len(ROWS_31)


def test_fixed_width_pprrvu_gets_the_same_rule(cms_dir):
    lines = (cms_dir / "rvu25d" / "PPRRVU2025_Oct.txt").read_bytes().split(b"\n")
    i = next(n for n, ln in enumerate(lines) if ln.startswith(b"99213  "))
    assert lines[i][59:66] == b"  1.30 "
    lines[i] = lines[i][:59] + b" -1.30 " + lines[i][66:]
    with pytest.raises(ParseError, match=rf"PPRRVU2025_Oct\.txt, line {i + 1}, column WORK RVU: negative value -1\.30"):
        parsers.parse_pprrvu_txt(b"\n".join(lines), "PPRRVU2025_Oct.txt")


def gpci_with(cell: int, value: str) -> bytes:
    cells = GPCI[3].split(",")
    cells[cell] = value
    return ("\r\n".join([*GPCI[:3], ",".join(cells), *GPCI[4:]]) + "\r\n").encode()


def edit_line(data: bytes, lineno: int, old: str, new: str) -> bytes:
    lines = data.split(b"\r\n")
    assert old.encode() in lines[lineno - 1]
    lines[lineno - 1] = lines[lineno - 1].replace(old.encode(), new.encode(), 1)
    return b"\r\n".join(lines)


CASES = {
    "conversion factor 0": (
        "PPRRVU25_APR.csv", with_cells({(1, 24): "0.0000"}),
        r"PPRRVU25_APR\.csv, line 12, column CONV FACTOR: conversion factor 0\.0000 is not above zero"),
    "negative conversion factor": (
        "PPRRVU25_APR.csv", with_cells({(0, 24): "-32.3465"}),
        r"PPRRVU25_APR\.csv, line 11, column CONV FACTOR: conversion factor -32\.3465 is not above zero"),
    "pre-op share above 1": (
        "PPRRVU25_APR.csv", with_cells({(1, 15): "1.10"}),
        r"PPRRVU25_APR\.csv, line 12, column PRE OP: share 1\.10 is above 1"),
    "GPCI work 0": (
        "GPCI2025.csv", gpci_with(4, "0"),
        r"GPCI2025\.csv, line 4, column 2025 PW GPCI \(with 1\.0 Floor\): GPCI 0 is not above zero"),
    "GPCI PE negative": (
        "GPCI2025.csv", gpci_with(5, "-0.869"),
        r"GPCI2025\.csv, line 4, column 2025 PE GPCI: GPCI -0\.869 is not above zero"),
    "GPCI MP 0.000": (
        "GPCI2025.csv", gpci_with(6, "0.000"),
        r"GPCI2025\.csv, line 4, column 2025 MP GPCI: GPCI 0\.000 is not above zero"),
    "anesthesia CF 0": (
        "ANES2025.csv", edit_line(synth.anes_csv(), 3, "27.86", "0.00"),
        r"ANES2025\.csv, line 3, column National Anes CF of 20\.4976: conversion factor 0\.00 is not above zero"),
    "anesthesia CF negative": (
        "ANES2025.csv", edit_line(synth.anes_csv(), 2, "19.31", "-19.31"),
        r"ANES2025\.csv, line 2, column National Anes CF of 20\.4976: conversion factor -19\.31 is not above"),
    "national anesthesia CF 0": (
        "ANES2025.csv", edit_line(synth.anes_csv(), 1, "20.4976", "0.0000"),
        r"ANES2025\.csv, line 1, column National Anes CF of 0\.0000: national conversion factor 0\.0000 is not "
        r"above zero"),
    "OPPS cap facility amount negative": (
        "OPPSCAP_APR.csv", edit_line(synth.oppscap_csv(), 3, "140.50,", "-140.50,"),
        r"OPPSCAP_APR\.csv, line 3, column FACILITY PRICE: negative amount -140\.50"),
    "OPPS cap non-facility amount negative": (
        "OPPSCAP_APR.csv", edit_line(synth.oppscap_csv(), 5, "150.69,150.69", "150.69,-0.01"),
        r"OPPSCAP_APR\.csv, line 5, column NON-FACILTY PRICE: negative amount -0\.01"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_values_cms_never_publishes_are_refused_by_the_cli(tmp_path, case):
    name, data, pattern = CASES[case]
    members = {"PPRRVU25_APR.csv": pprrvu_csv(), name: data}
    path = tmp_path / "RVU25B.zip"
    path.write_bytes(release_zip(members))
    before = snapshot()
    with pytest.raises(CommandError, match=pattern) as exc:
        call_command("data", "load", str(path), stdout=StringIO(), stderr=StringIO())
    assert "\n" not in str(exc.value)
    assert snapshot() == before


def real_files() -> list[Path]:
    from tests.conftest import CMS_DIR

    return sorted(p for p in CMS_DIR.glob("*/*") if p.suffix.lower() in (".csv", ".txt") and kind_of(p.name)
                  and kind_of(p.name) != "hcpcs")


@pytest.mark.parametrize("path", real_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_real_cms_file_passes_the_value_rules(path):
    parsers.parse_file(path.read_bytes(), path.name)  # raises ParseError if a rule refuses a real value
