"""parse_report and the XLSX row reader, pinned on every fixture report and on odd and bad input: the lines, the
columns used, the rows skipped and every error message (issue 13: the long functions were split into named steps
with no change of behaviour; these pins say so). No database needed."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from rvuedge.logbook.reports import ReportError, parse_report
from rvuedge.logbook.tables import TableError, read_table
from tests.logbook import bombs

REPORTS = Path(__file__).parent / "reports"

# file -> (lines, rows skipped, sha256 of the columns, skipped count and lines) as first pinned
FIXTURES = {
    "all_reasons.csv": (12, 0, "98e15b61258d277d"),
    "athena_rvu.csv": (6, 1, "5b214413f5f396f0"),
    "epic_clarity_tdl.csv": (10, 2, "27f3fe5499cb791c"),
    "epic_pb_warehouse.csv": (9, 0, "93b4697f7fca569c"),
    "nextgen.csv": (7, 0, "703508187078ae5a"),
}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_each_fixture_report_reads_as_pinned(name):
    headers, rows = read_table("csv", (REPORTS / name).read_bytes())
    t = parse_report(headers, rows, name)
    blob = json.dumps([t.columns, t.skipped, [ln.to_list() for ln in t.lines]], sort_keys=True)
    assert (len(t.lines), t.skipped, hashlib.sha256(blob.encode()).hexdigest()[:16]) == FIXTURES[name]


def test_every_extra_column_a_title_block_packed_cells_and_voids():
    rows = [
        ["Report of services"], [""],
        ["DOS", "CPT", "Mod 1", "Mod 2", "Units", "wRVU", "Post date", "Tx ID", "Voided Transaction ID",
         "Performing Provider", "Billing Provider"],
        ["2025-01-02", "99214-25", "59", "", "2", "3.5", "2025-01-05", "T1", "", "Dr. A. Smith", "Smith A"],
        ["2025-01-02", "99214", "", "", "-2", "-3.5", "2025-01-06", "T2", "T1", "Dr. A. Smith", "Dr. B. Jones"],
        ["2025-01-03", "19301, 38525-51, 38900", "", "", "", "22.1", "", "T3", "", "", ""],
        ["2025-01-03", "19301; 38900", "", "", "-1", "", "", "T4", "T3", "", ""],
        ["1/4/2025", "100", "", "", "", "", "", "", "", "", ""],
        ["Total", "", "", "", "", "", "", "", "", "", ""],
    ]
    t = parse_report(rows[0], iter(rows[1:]), "good.csv")
    assert t.columns == {
        "date": "DOS", "code": "CPT", "units": "Units", "wrvu": "wRVU", "post_date": "Post date", "txn": "Tx ID",
        "void_of": "Voided Transaction ID", "performing": "Performing Provider", "billing": "Billing Provider",
        "modifiers": "Mod 1, Mod 2"}
    assert t.skipped == 1
    assert [ln.to_list() for ln in t.lines] == [
        [4, "2025-01-02", "99214", ["25", "59"], 2, "3.5", "2025-01-05", "T1", "Smith A", "", "", None],
        [5, "2025-01-02", "99214", [], -2, "-3.5", "2025-01-06", "T2", "Dr. B. Jones", "", "T1", None],
        [6, "2025-01-03", "19301", [], 1, None, None, "T3", "", "19301, 38525-51, 38900", "", "22.1"],
        [6, "2025-01-03", "38525", ["51"], 1, None, None, "T3", "", "19301, 38525-51, 38900", "", "22.1"],
        [6, "2025-01-03", "38900", [], 1, None, None, "T3", "", "19301, 38525-51, 38900", "", "22.1"],
        [7, "2025-01-03", "19301", [], -1, None, None, "T4", "", "19301; 38900", "T3", "0"],
        [7, "2025-01-03", "38900", [], -1, None, None, "T4", "", "19301; 38900", "T3", "0"],
        [8, "2025-01-04", "00100", [], 1, "0"],
    ]


BAD_HEADER = ["Date of service", "CPT", "Mod", "Modifier 2", "Units", "wRVU", "Post date", "Month of transaction"]
BAD_ROWS = [  # (date, code, mod, modifier 2, units, wrvu, post date, post month)
    ("2025-01-02", "9921", "", "", "", "", "", ""),
    ("", "99213", "", "", "", "", "", ""),
    ("31/31/2025", "99213", "", "", "", "", "", ""),
    ("2025-01-02", "99213", "", "", "", "", "2025-13-01", ""),
    ("2025-01-02", "99213", "", "", "", "", "", "2025-13"),
    ("2025-01-02", "99213-2", "", "", "", "", "", ""),
    ("2025-01-02", "99213", "25X", "", "", "", "", ""),
    ("2025-01-02", "99213", "", "5", "", "", "", ""),
    ("2025-01-02", "99213", "", "", "1.5", "", "", ""),
    ("2025-01-02", "99213", "", "", "0", "", "", ""),
    ("2025-01-02", "99213", "", "", "10000", "", "", ""),
    ("2025-01-02", "99213", "", "", "NaN", "", "", ""),
    ("2025-01-02", "99213", "", "", "", "abc", "", ""),
    ("2025-01-02", "99213", "", "", "", "10000", "", ""),
    ("2025-01-02", "99213, 99214X", "", "", "", "", "", ""),
    ("2025-01-02", "19301, 38525-51, 38900", "", "", "", "", "", "bad"),
    ("2025-01-02", "99213", "", "", "", "", "", ""),
]
BAD_ERRORS = [
    "bad.csv, line 2, column CPT: '9921' is not a CPT/HCPCS code",
    "bad.csv, line 3, column Date of service: no date of service",
    "bad.csv, line 4, column Date of service: '31/31/2025' is not a date (use YYYY-MM-DD or MM/DD/YYYY)",
    "bad.csv, line 5, column Post date: '2025-13-01' is not a date (use YYYY-MM-DD or MM/DD/YYYY)",
    "bad.csv, line 6, column Month of transaction: '2025-13' is not a month (use YYYY-MM)",
    "bad.csv, line 7, column CPT: '2' is not a modifier",
    "bad.csv, line 8, column Mod: '25X' is not a modifier",
    "bad.csv, line 9, column Modifier 2: '5' is not a modifier",
    "bad.csv, line 10, column Units: '1.5' is not a whole number of units",
    "bad.csv, line 11, column Units: '0' is not a whole number of units",
    "bad.csv, line 12, column Units: '10000' is not a whole number of units",
    "bad.csv, line 13, column Units: 'NaN' is not a whole number of units",
    "bad.csv, line 14, column wRVU: 'abc' is not a wRVU number",
    "bad.csv, line 15, column wRVU: '10000' is not a wRVU number",
    "bad.csv, line 16, column CPT: '99214X' is not a modifier",
    "bad.csv, line 17, column Month of transaction: 'bad' is not a month (use YYYY-MM)",
]


def test_every_row_error_names_file_line_and_column():
    with pytest.raises(ReportError) as info:
        parse_report(BAD_HEADER, iter([list(r) for r in BAD_ROWS]), "bad.csv")
    assert str(info.value) == ("bad.csv: 16 rows cannot be read; nothing was kept. "
                               "bad.csv, line 2, column CPT: '9921' is not a CPT/HCPCS code")
    assert info.value.errors == BAD_ERRORS
    with pytest.raises(ReportError) as info:
        parse_report(BAD_HEADER, iter([list(r) for r in BAD_ROWS]), "bad.csv", max_errors=3)
    assert str(info.value) == ("bad.csv: 3 rows cannot be read (showing the first 3); nothing was kept. "
                               "bad.csv, line 2, column CPT: '9921' is not a CPT/HCPCS code")
    assert info.value.errors == BAD_ERRORS[:3]


@pytest.mark.parametrize("headers, rows, message", [
    (["Title"], [["x"], ["DOS", "CPT", "MRN"]],
     "r.csv: column C ('MRN') looks like a patient identifier. RVU Edge never stores patient data: delete that "
     "column (and any other patient details) from the file and upload it again. Date of service, code, modifiers, "
     "units and wRVU are all it needs."),
    (["Title"], [["DOS", "Units"]],
     "r.csv: the first row must name the columns; found no date of service column (DOS, Service Date, Date) and no "
     "code column (CPT, HCPCS, Procedure Code, Code) (columns: 'Title')"),
    (["DOS", "CPT"], [["", ""], ["total", ""]], "r.csv: no rows with a code below the header row"),
    (["DOS", "CPT"], [["2025-01-01", "99213"]] * 3,
     "r.csv: more than 2 rows with a code; upload one clinician's report, or split the file by date"),
])
def test_whole_report_errors(headers, rows, message):
    with pytest.raises(ReportError) as info:
        parse_report(headers, iter(rows), "r.csv", max_rows=2)
    assert str(info.value) == message


def _read(data: bytes):
    headers, rows = read_table("xlsx", data)
    return [headers] + list(rows)


def test_a_workbook_s_typed_cells_and_blank_rows():
    wb = Workbook()
    ws = wb.active
    ws.title = "Encounters"
    ws.append(["Date of service", "CPT", "Units", "wRVU", "Flag", "Note"])
    ws.append([dt.date(2025, 3, 4), 99214, 1, 1.92, True, "one"])
    ws.append([dt.datetime(2025, 3, 5, 13, 30), "99213", 2.0, 1.3e-2, False, None])
    ws.append([])
    ws.append([None, None, None, None, None, "gap before"])
    ws.cell(row=8, column=2, value="99215")
    ws.cell(row=8, column=1, value=dt.datetime(2025, 3, 6))
    ws.cell(row=9, column=3, value=dt.time(10, 30))
    ws.cell(row=9, column=4, value=dt.timedelta(hours=2))
    buf = io.BytesIO()
    wb.save(buf)
    assert _read(buf.getvalue()) == [
        ["Date of service", "CPT", "Units", "wRVU", "Flag", "Note"],
        ["2025-03-04", "99214", "1", "1.92", "True", "one"],
        ["2025-03-05T13:30:00", "99213", "2", "0.013", "False"],
        [], ["", "", "", "", "", "gap before"], [], [], ["2025-03-06", "99215"], ["", "", "10:30:00", "2:00:00"],
    ]


def test_odd_cells_rich_text_phonetics_and_rows_out_of_order(tmp_path):
    rows = [
        b'<row r="2"><c r="A2" t="inlineStr"><is><r><t>2025-</t></r><r><t>03-04</t></r><rPh><t>x</t></rPh></is></c>'
        b'<c t="s"><v>2</v></c><c r="D2" t="str"><v>f</v></c><c t="e"><v>#N/A</v></c><c r="G2" t="b"><v>1</v></c>'
        b'<c r="H2" t="d"><v>2025-03-04T00:00:00</v></c><c r="I2"><v>1E3</v></c><c r="J2"><v>7</v></c></row>',
        b'<row r="5"><c r="B5"><v>3.5</v></c></row>',
        b'<row><c><v>42</v></c></row>',
        b'<row r="3"><c r="A3" t="inlineStr"><is><t>back</t></is></c></row>',
    ]
    strings = [b'<si><r><t>99</t></r><r><t>214</t></r><rPh sb="0" eb="1"><t>k</t></rPh></si>']
    assert _read(bombs.xlsx(tmp_path / "odd.xlsx", rows, strings).read_bytes()) == [
        ["Date of service", "CPT"],
        ["2025-03-04", "99214", "", "f", "#N/A", "", "True", "2025-03-04", "1000.0", "7"],
        [], [], ["", "3.5"], ["42"], ["back"],
    ]


@pytest.mark.parametrize("rows, strings, message", [
    ([b'<row r="2"><c r="IW2"><v>1</v></c></row>'], [],
     "Row 2 has a value in column IW, beyond the first 256 columns; delete the columns you do not need."),
    ([b'<row r="2"><c r="B2" t="s"><v>99</v></c></row>'], [],
     "Row 2, column B: the cell's value '99' cannot be read (a damaged workbook?)"),
    ([b'<row r="2"><c r="B2"><v>abc</v></c></row>'], [],
     "Row 2, column B: the cell's value 'abc' cannot be read (a damaged workbook?)"),
    ([b'<row r="2"><c r="C2" t="inlineStr"><is><t>' + b"x" * 140_000 + b"</t></is></c></row>"], [],
     "Row 2, column C: the cell holds more than 131,072 characters; is this the right file?"),
    ([b'<row r="2"><c r="C2"><v>1</v></c></row><row r="3"><c r="A3">'], [],
     "Not a readable .xlsx workbook (near row 3 of its sheet: mismatched tag: line 1, column 261)"),
    ([b'<row r="2"><c r="C2"><v>1</v></c></row>'], [b"<si><t>oops"],
     "Not a readable .xlsx workbook (its shared strings: mismatched tag: line 1, column 172)"),
])
def test_bad_cells_name_the_row_and_column(tmp_path, rows, strings, message):
    data = bombs.xlsx(tmp_path / "bad.xlsx", rows, strings).read_bytes()
    with pytest.raises(TableError) as info:
        _read(data)
    assert str(info.value) == message
