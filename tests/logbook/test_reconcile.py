"""The pure reconciliation module: reading an employer's RVU report and comparing it with the clinician's log.

No database and no Django: :mod:`rvuedge.logbook.reconcile` works on plain rows of strings and on
``LogLine``/``ReportLine`` values. Every amount is an exact ``Decimal``; properties run over random logs of one
month built from a small pool of real codes, pricing modifiers (26, 50, 80) and payment-neutral ones
(25, 59, RT, GC).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rvuedge.logbook.reconcile import (
    STATUSES,
    LogLine,
    Reconciliation,
    ReportError,
    ReportLine,
    detect_columns,
    parse_report,
    reconcile,
)

D = Decimal
DAY = dt.date(2026, 3, 2)
ZERO = D("0")

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    database=None,  # no .hypothesis folder in the project
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def log_line(code: str, mods: tuple[str, ...] = (), units: int = 1, wrvu: str = "0", *, date: dt.date = DAY,
             encounter: int = 1, entry: str = "", payment: str | None = None) -> LogLine:
    return LogLine(date, code, mods, units, D(wrvu), encounter, entry or code,
                   None if payment is None else D(payment))


def report_line(code: str, mods: tuple[str, ...] = (), units: int = 1, wrvu: str | None = "0", *,
                date: dt.date = DAY, line: int = 2) -> ReportLine:
    return ReportLine(line, date, code, mods, units, None if wrvu is None else D(wrvu))


def only(rec: Reconciliation):
    assert len(rec.items) == 1, [i.to_dict() for i in rec.items]
    return rec.items[0]


def errors_of(headers, rows, filename="emp.csv", **kw) -> list[str]:
    with pytest.raises(ReportError) as exc:
        parse_report(headers, rows, filename, **kw)
    return exc.value.errors


# =========================================================================== parse_report: reading


def test_a_realistic_report_is_read_row_by_row():
    headers = ["Provider", "DOS", "CPT Code", "Mod", "Modifier 2", "Qty", "wRVU", "Location", "Payer"]
    rows = [
        ["Dr A", "2026-03-02", "99214-25", "", "", "1", "1.92", "Clinic", "Medicare"],  # line 2
        ["Dr A", "03/03/2026", "27447 50", "RT", "", "1", "29.40", "Main OR", "BCBS"],  # line 3
        ["", "", "", "", "", "", "", "", ""],  # line 4: blank row
        ["Dr A", "3/4/2026", "11045", "59, XS", "", "2.0", "1,234.56", "Clinic", ""],  # line 5
        ["", "", "", "", "", "", "Total 1265.88", "", ""],  # line 6: subtotal row, empty code cell
        ["Dr A", "2026-03-05 00:00:00", "99213-25-GC", "59", "26", "2", "2.60", "", ""],  # line 7
        ["Dr A", "2026-03-06", "g0438"],  # line 8: short row, lower-case HCPCS
    ]
    table = parse_report(headers, rows, "emp.csv")
    assert table.filename == "emp.csv"
    assert table.skipped == 2
    assert table.columns == {"date": "DOS", "code": "CPT Code", "modifiers": "Mod, Modifier 2", "units": "Qty",
                             "wrvu": "wRVU"}
    assert table.has_wrvu
    assert table.lines == [
        ReportLine(2, dt.date(2026, 3, 2), "99214", ("25",), 1, D("1.92")),
        ReportLine(3, dt.date(2026, 3, 3), "27447", ("50", "RT"), 1, D("29.40")),
        ReportLine(5, dt.date(2026, 3, 4), "11045", ("59", "XS"), 2, D("1234.56")),
        ReportLine(7, dt.date(2026, 3, 5), "99213", ("25", "GC", "59", "26"), 2, D("2.60")),
        ReportLine(8, dt.date(2026, 3, 6), "G0438", (), 1, D("0")),
    ]
    assert (table.start, table.end) == (dt.date(2026, 3, 2), dt.date(2026, 3, 6))


@pytest.mark.parametrize(("headers", "row", "columns", "expected"), [
    (["DOS", "CPT Code", "Mod", "Qty", "wRVU"], ["2026-03-02", "99214", "25", "1", "1.92"],
     {"date": "DOS", "code": "CPT Code", "modifiers": "Mod", "units": "Qty", "wrvu": "wRVU"},
     ("99214", ("25",), 1, D("1.92"))),
    (["Service Date", "Procedure Code", "Modifier 1", "Modifier 2", "Modifier 3", "Modifier 4", "Units",
      "Work RVU"],
     ["03/02/2026", "27447", "50", "", "RT", "", "1", "29.40"],
     {"date": "Service Date", "code": "Procedure Code", "units": "Units", "wrvu": "Work RVU",
      "modifiers": "Modifier 1, Modifier 2, Modifier 3, Modifier 4"},
     ("27447", ("50", "RT"), 1, D("29.40"))),
    (["Date of Service", "CPT", "Mod 1", "Mod 2", "Quantity", "Total wRVUs"],
     ["2026-03-02", "20610", "RT", "59", "1", "0.79"],
     {"date": "Date of Service", "code": "CPT", "units": "Quantity", "wrvu": "Total wRVUs",
      "modifiers": "Mod 1, Mod 2"},
     ("20610", ("RT", "59"), 1, D("0.79"))),
    (["date_of_service ", " HCPCS", "Modifiers", "Service Units", "Work_RVUs"],
     ["2026-03-02", "93000", "26 59", "1", "0.17"],
     {"date": "date_of_service", "code": "HCPCS", "modifiers": "Modifiers", "units": "Service Units",
      "wrvu": "Work_RVUs"},
     ("93000", ("26", "59"), 1, D("0.17"))),
    (["DOS", "CPT"], ["2026-03-02", "99213-25"], {"date": "DOS", "code": "CPT"}, ("99213", ("25",), 1, None)),
])
def test_header_names_seen_in_real_exports(headers, row, columns, expected):
    table = parse_report(headers, [row], "emp.csv")
    assert table.columns == columns
    (line,) = table.lines
    assert (line.code, line.modifiers, line.units, line.wrvu) == expected
    assert line.date == DAY and line.line == 2
    assert table.has_wrvu is (expected[3] is not None)


@pytest.mark.parametrize(("code_cell", "mod_cell", "code", "mods"), [
    ("99214-25", "", "99214", ("25",)),
    ("27447 50", "", "27447", ("50",)),
    ("99214", "25,59", "99214", ("25", "59")),
    ("99214", "25 59", "99214", ("25", "59")),
    ("99214", "25-59", "99214", ("25", "59")),
    ("99214", " 25 , GC ", "99214", ("25", "GC")),
    ("99214-25", "25", "99214", ("25",)),  # repeated modifier kept once
    ("27447-50", "rt", "27447", ("50", "RT")),
    (" 0075t ", "", "0075T", ()),
])
def test_modifiers_from_the_code_cell_and_the_modifier_cell(code_cell, mod_cell, code, mods):
    (line,) = parse_report(["DOS", "CPT", "Modifier"], [["2026-03-02", code_cell, mod_cell]]).lines
    assert (line.code, line.modifiers) == (code, mods)


@pytest.mark.parametrize(("raw", "units"), [("2", 2), ("2.0", 2), (" 3 ", 3), ("", 1), ("1", 1)])
def test_whole_units_are_accepted(raw, units):
    (line,) = parse_report(["DOS", "CPT", "Units"], [["2026-03-02", "11045", raw]]).lines
    assert line.units == units


@pytest.mark.parametrize("raw", ["1.5", "0", "abc", "-1.5", "0.0", "NaN", "-10000"])
def test_other_units_are_refused(raw):
    assert errors_of(["DOS", "CPT", "Units"], [["2026-03-02", "11045", raw]]) == [
        f"emp.csv, line 2, column Units: {raw!r} is not a whole number of units"]


def test_negative_units_are_a_void_row():
    # Issue 16: billing systems void a charge with a second row of negative units (netted per service).
    (line,) = parse_report(["DOS", "CPT", "Units"], [["2026-03-02", "11045", "-1"]]).lines
    assert line.units == -1


@pytest.mark.parametrize("raw", ["Infinity", "inf"])
def test_infinite_units_are_a_report_error_not_a_crash(raw):
    # BUG: Decimal("Infinity") passes the whole-number check and int() raises OverflowError, which escapes
    # parse_report (the upload view only turns ReportError into a message).
    assert errors_of(["DOS", "CPT", "Units"], [["2026-03-02", "11045", raw]]) == [
        f"emp.csv, line 2, column Units: {raw!r} is not a whole number of units"]


@pytest.mark.parametrize(("raw", "wrvu"), [
    ("1.92", D("1.92")), ("1,234.56", D("1234.56")), ("", D("0")), (" 9.80 ", D("9.80")), ("-1.92", D("-1.92")),
])
def test_wrvu_cells(raw, wrvu):
    (line,) = parse_report(["DOS", "CPT", "wRVU"], [["2026-03-02", "99214", raw]]).lines
    assert line.wrvu == wrvu and str(line.wrvu) == str(wrvu)


@pytest.mark.parametrize("raw", ["2026-03-02", "03/02/2026", "3/2/2026", "2026-03-02 00:00:00",
                                 "2026-03-02T08:30:00", "03/02/26"])
def test_dates(raw):
    (line,) = parse_report(["Service Date", "CPT"], [[raw, "99213"]]).lines
    assert line.date == DAY


def test_report_lines_round_trip_through_lists():
    line = ReportLine(7, DAY, "27447", ("50", "RT"), 2, D("29.40"))
    assert ReportLine.from_list(json.loads(json.dumps(line.to_list()))) == line
    bare = ReportLine(3, DAY, "99213", (), 1, None)
    assert ReportLine.from_list(bare.to_list()) == bare


# =========================================================================== parse_report: errors


def test_a_bad_code_names_file_line_and_column():
    with pytest.raises(ReportError) as exc:
        parse_report(["DOS", "CPT", "Units"], [["2026-03-02", "99213", "1"], ["2026-03-02", "ABC", "1"]],
                     "emp.csv")
    assert exc.value.errors == ["emp.csv, line 3, column CPT: 'ABC' is not a CPT/HCPCS code"]
    assert str(exc.value) == ("emp.csv: 1 row cannot be read; nothing was kept. "
                              "emp.csv, line 3, column CPT: 'ABC' is not a CPT/HCPCS code")


def test_every_bad_row_is_listed():
    headers = ["Service Date", "CPT Code", "Mod", "Qty", "Work RVU"]
    rows = [
        ["2026-03-02", "99213", "", "1", "1.30"],  # 2: good
        ["2026-03-02", "9921", "", "1", "1.30"],  # 3: a code too short
        ["", "", "", "", ""],  # 4: blank, skipped
        ["2026-02-30", "99213", "", "1", "1.30"],  # 5: no such day
        ["", "99213", "", "1", "1.30"],  # 6: no date
        ["2026-03-02", "11045", "", "1.5", "0.50"],  # 7: half a unit
        ["2026-03-02", "99213", "", "1", "abc"],  # 8: wRVU not a number
        ["2026-03-02", "99213", "XYZ", "1", "1.30"],  # 9: not a modifier
        ["2026-03-02", "99213", "", "1", "12,000"],  # 10: wRVU out of range
    ]
    with pytest.raises(ReportError) as exc:
        parse_report(headers, rows, "emp.csv")
    assert exc.value.errors == [
        "emp.csv, line 3, column CPT Code: '9921' is not a CPT/HCPCS code",
        "emp.csv, line 5, column Service Date: '2026-02-30' is not a date (use YYYY-MM-DD or MM/DD/YYYY)",
        "emp.csv, line 6, column Service Date: no date of service",
        "emp.csv, line 7, column Qty: '1.5' is not a whole number of units",
        "emp.csv, line 8, column Work RVU: 'abc' is not a wRVU number",
        "emp.csv, line 9, column Mod: 'XYZ' is not a modifier",
        "emp.csv, line 10, column Work RVU: '12000' is not a wRVU number",
    ]
    assert str(exc.value).startswith("emp.csv: 7 rows cannot be read; nothing was kept. emp.csv, line 3,")


def test_a_bad_modifier_in_an_extra_modifier_column_names_that_column():
    # BUG: with only "Modifier 1".."Modifier 4" columns (no plain "Modifier"), a bad modifier is reported under
    # the code column ("column CPT") instead of the column that holds it.
    errors = errors_of(["DOS", "CPT", "Modifier 1", "Modifier 2"], [["2026-03-02", "99213", "25", "XYZ"]])
    assert len(errors) == 1
    assert errors[0].startswith("emp.csv, line 2, column Modifier")
    assert "'XYZ' is not a modifier" in errors[0]


def test_no_more_than_max_errors_are_listed():
    # BUG: the max_errors check only runs after a good row, so consecutive bad rows are never capped, while
    # the message still says "(showing the first 5)".
    rows = [["2026-03-02", "BAD"]] * 8
    with pytest.raises(ReportError) as exc:
        parse_report(["DOS", "CPT"], rows, "emp.csv", max_errors=5)
    assert "(showing the first 5)" in str(exc.value)
    assert len(exc.value.errors) <= 5


@pytest.mark.parametrize(("headers", "wanted"), [
    (["CPT", "Units"], ["found no date of service column (DOS, Service Date, Date)", "(columns: 'CPT', 'Units')"]),
    (["DOS", "Units", "wRVU"], ["found no code column (CPT, HCPCS, Procedure Code, Code)",
                                "(columns: 'DOS', 'Units', 'wRVU')"]),
    (["Units", ""], ["date of service column", "and no code column", "(columns: 'Units')"]),
    (["", ""], ["(columns: none)"]),
])
def test_a_missing_date_or_code_column(headers, wanted):
    with pytest.raises(ReportError) as exc:
        parse_report(headers, [["2026-03-02", "99213"]], "emp.csv")
    text = str(exc.value)
    assert text.startswith("emp.csv: the first row must name the columns; ")
    for part in wanted:
        assert part in text


@pytest.mark.parametrize("rows", [[], [["", ""]], [["", ""], ["Total", ""]]])
def test_a_report_with_no_service_rows(rows):
    with pytest.raises(ReportError, match=r"^emp\.csv: no rows with a code below the header row$"):
        parse_report(["DOS", "CPT"], rows, "emp.csv")


# =========================================================================== patient identifiers


@pytest.mark.parametrize(("header", "letter"), [
    ("MRN", "C"), ("Patient Name", "C"), ("DOB", "C"), ("Account Number", "C"), ("Pt Name", "C"),
    ("Date of Birth", "C"), ("patient_id", "C"),
])
def test_patient_identifier_columns_are_refused(header, letter):
    with pytest.raises(ReportError) as exc:
        detect_columns(["DOS", "CPT", header, "wRVU"], "emp.csv")
    text = str(exc.value)
    assert text.startswith(f"emp.csv: column {letter} ({header!r}) looks like a patient identifier")
    assert "never stores patient data" in text
    with pytest.raises(ReportError, match="never stores patient data"):  # parse_report refuses before reading
        parse_report(["DOS", "CPT", header], [["2026-03-02", "99213", "x"]], "emp.csv")


def test_the_column_letter_goes_past_z():
    headers = ["DOS", "CPT"] + [f"Extra {i}" for i in range(24)] + ["MRN"]  # MRN is the 27th column
    with pytest.raises(ReportError, match=r"column AA \('MRN'\)"):
        detect_columns(headers)


@pytest.mark.parametrize("header", ["Account #", "Acct Number", "Medical Record #", "Pt Last Name", "FIN #"])
def test_common_variants_of_patient_identifier_headers_are_refused(header):
    # BUG: "Acct #", "Account Number", "Medical Record", "FIN" and "Pt Name" are refused, but these common
    # spellings of the same identifiers pass detect_columns.
    with pytest.raises(ReportError, match="never stores patient data"):
        detect_columns(["DOS", "CPT", header])


def test_provider_location_and_payer_columns_are_fine():
    assert detect_columns(["Provider", "Location", "Payer", "DOS", "CPT", "Rendering Provider Name"]) == (
        {"date": 3, "code": 4}, [])


# =========================================================================== reconcile: one example per status


def test_matched_with_payment_neutral_modifiers_on_either_side():
    log = [log_line("99214", ("25",), wrvu="1.92"), log_line("20610", ("RT",), wrvu="0.79"),
           log_line("11045", ("59",), wrvu="0.50"), log_line("99213", ("GC",), wrvu="1.30")]
    report = [report_line("99214", (), wrvu="1.92", line=2), report_line("20610", ("LT", "59"), wrvu="0.79", line=3),
              report_line("11045", ("XS",), wrvu="0.50", line=4), report_line("99213", ("25",), wrvu="1.30", line=5)]
    rec = reconcile(log, report)
    assert [(i.status, i.code, i.difference, i.note) for i in rec.items] == [
        ("matched", "11045", D("0.00"), ""), ("matched", "20610", D("0.00"), ""),
        ("matched", "99213", D("0.00"), ""), ("matched", "99214", D("0.00"), "")]
    assert rec.missing_wrvu == ZERO and rec.log_wrvu == rec.report_wrvu == D("4.51")


def test_credit_differs():
    rec = reconcile([log_line("27447", wrvu="19.60")], [report_line("27447", wrvu="9.80")])
    item = only(rec)
    assert item.status == "credit_differs" and item.title == "Different credit"
    assert item.difference == D("-9.80")
    assert item.note == "the report credits 9.80 wRVU, your log 19.60 (9.80 less)"
    assert rec.missing_wrvu == D("9.80")
    assert (rec.log_wrvu, rec.report_wrvu) == (D("19.60"), D("9.80"))


def test_credit_differs_in_the_clinicians_favour_is_not_missing():
    rec = reconcile([log_line("99213", wrvu="1.30")], [report_line("99213", wrvu="1.92")])
    item = only(rec)
    assert (item.status, item.difference) == ("credit_differs", D("0.62"))
    assert item.note == "the report credits 1.92 wRVU, your log 1.30 (0.62 more)"
    assert rec.missing_wrvu == ZERO


def test_credit_within_the_tolerance_is_matched():
    rec = reconcile([log_line("99213", wrvu="1.30")], [report_line("99213", wrvu="1.295")])
    assert only(rec).status == "matched"
    rec = reconcile([log_line("99213", wrvu="1.30")], [report_line("99213", wrvu="1.25")], tolerance=D("0.10"))
    assert only(rec).status == "matched"


def test_units_differ():
    rec = reconcile([log_line("11045", units=3, wrvu="1.50")], [report_line("11045", units=2, wrvu="1.00")])
    item = only(rec)
    assert item.status == "units_differ"
    assert (item.log.units, item.report.units) == (3, 2)
    assert item.difference == D("-0.50")
    assert item.note == "you logged 11045 x3 that day, the report has 2; the report credits 1.00 wRVU, your log 1.50 (0.50 less)"
    assert rec.missing_wrvu == D("0.50")


def test_units_differ_with_the_same_credit_has_no_credit_note():
    item = only(reconcile([log_line("11045", units=1, wrvu="0.50")], [report_line("11045", units=2, wrvu="0.50")]))
    assert (item.status, item.note, item.difference) == ("units_differ", "you logged 11045 that day, the report has 2",
                                                         D("0.00"))


def test_modifier_differs():
    rec = reconcile([log_line("27447", ("50", "RT"), wrvu="29.40")], [report_line("27447", ("RT",), wrvu="19.60")])
    item = only(rec)
    assert item.status == "modifier_differs"
    assert (item.code, item.report_code) == ("27447", "27447")
    assert (item.log.modifiers, item.report.modifiers) == (("50",), ())
    assert item.difference == D("-9.80")
    assert item.note == ("you logged 27447-50, the report has 27447; "
                         "the report credits 19.60 wRVU, your log 29.40 (9.80 less)")
    assert rec.missing_wrvu == D("9.80")


def test_code_differs():
    rec = reconcile([log_line("99215", wrvu="2.80")], [report_line("99214", wrvu="1.92", line=7)])
    item = only(rec)
    assert item.status == "code_differs"
    assert (item.code, item.report_code) == ("99215", "99214")
    assert item.difference == D("-0.88")
    assert item.note == ("you logged 99215, the report has 99214 that day; "
                         "the report credits 1.92 wRVU, your log 2.80 (0.88 less)")
    assert rec.missing_wrvu == D("0.88")
    d = item.to_dict()
    assert (d["code"], d["log"]["code"], d["report"]["code"], d["report"]["refs"]) == ("99215", "99215", "99214", [7])


def test_the_module_docstring_example():
    log = [LogLine(DAY, "99215", (), 1, D("2.80"), 1, "99215")]
    report = [ReportLine(7, DAY, "99214", (), 1, D("1.92"))]
    assert [(i.status, str(i.difference)) for i in reconcile(log, report).items] == [("code_differs", "-0.88")]


def test_missing():
    log = [log_line("99213", wrvu="1.30", encounter=1),
           log_line("20610", ("RT",), wrvu="0.79", encounter=1, payment="65.12"),
           log_line("27447", ("50",), units=1, wrvu="29.40", encounter=2, entry="27447-50", payment="1400.10"),
           log_line("93000", wrvu="0.17", encounter=3)]
    rec = reconcile(log, [report_line("99213", wrvu="1.30")])
    by_code = {i.code: i for i in rec.items}
    assert rec.counts == {**dict.fromkeys(STATUSES, 0), "matched": 1, "missing": 3}
    m = by_code["20610"]
    assert (m.status, m.report, m.difference) == ("missing", None, D("-0.79"))
    assert m.note == "20610 is in your log (0.79 wRVU) and not in the report"
    assert by_code["27447"].note == "27447-50 is in your log (29.40 wRVU) and not in the report"
    assert by_code["27447"].log.entries == ["27447-50"] and by_code["27447"].log.refs == [2]
    assert by_code["93000"].log.payment is None
    assert rec.missing_wrvu == D("30.36")
    assert rec.missing_payment == D("1465.22")


def test_missing_units_are_shown_in_the_note():
    rec = reconcile([log_line("11045", units=2, wrvu="1.00"), log_line("99213", wrvu="1.30")],
                    [report_line("99213", wrvu="1.30")])
    missing = [i for i in rec.items if i.status == "missing"]
    assert [i.note for i in missing] == ["11045 x2 is in your log (1.00 wRVU) and not in the report"]


def test_not_in_log():
    rec = reconcile([log_line("99213", wrvu="1.30")],
                    [report_line("99213", wrvu="1.30", line=2), report_line("99204", wrvu="2.60", line=6),
                     report_line("93000", wrvu="0.17", line=7), report_line("93000", wrvu="0.17", line=9)])
    by_code = {i.code: i for i in rec.items}
    n = by_code["99204"]
    assert (n.status, n.log, n.difference) == ("not_in_log", None, D("2.60"))
    assert n.note == "99204 is in the report (line 6) and not in your log"
    assert by_code["93000"].note == "93000 x2 is in the report (line 7, 9) and not in your log"
    assert by_code["93000"].difference == D("0.34")
    assert rec.missing_wrvu == ZERO and rec.missing_payment == ZERO
    assert rec.report_wrvu == D("4.24") and rec.log_wrvu == D("1.30")


def test_a_three_unit_service_listed_as_three_rows_matches():
    rec = reconcile([log_line("11045", units=3, wrvu="1.50", encounter=9)],
                    [report_line("11045", wrvu="0.50", line=n) for n in (4, 5, 6)])
    item = only(rec)
    assert item.status == "matched"
    assert (item.report.units, item.report.wrvu, item.report.refs) == (3, D("1.50"), [4, 5, 6])
    assert (item.log.units, item.log.refs) == (3, [9])


def test_lines_of_several_encounters_are_summed_in_one_group():
    log = [log_line("99213", wrvu="1.30", encounter=1, entry="a"),
           log_line("99213", wrvu="1.30", encounter=2, entry="b"),
           log_line("99213", ("25",), wrvu="1.30", encounter=2, entry="b")]
    item = only(reconcile(log, [report_line("99213", units=3, wrvu="3.90")]))
    assert (item.status, item.log.units, item.log.wrvu, item.log.refs, item.log.entries) == (
        "matched", 3, D("3.90"), [1, 2], ["a", "b"])


def test_log_lines_outside_the_reports_dates_are_ignored():
    mar1, mar2, mar4, mar5 = (dt.date(2026, 3, d) for d in (1, 2, 4, 5))
    log = [log_line("99213", wrvu="1.30", date=mar1), log_line("99214", wrvu="1.92", date=mar2),
           log_line("99215", wrvu="2.80", date=mar4), log_line("27447", wrvu="19.60", date=mar5)]
    report = [report_line("99214", wrvu="1.92", date=mar2), report_line("99215", wrvu="2.80", date=mar4)]
    rec = reconcile(log, report)
    assert (rec.start, rec.end) == (mar2, mar4)
    assert [(i.status, i.code) for i in rec.items] == [("matched", "99214"), ("matched", "99215")]
    assert rec.log_wrvu == D("4.72") and rec.missing_wrvu == ZERO


def test_a_report_without_wrvu_never_differs_in_credit():
    log = [log_line("27447", wrvu="19.60"), log_line("99213", wrvu="1.30"), log_line("11045", units=2, wrvu="1.00")]
    report = [report_line("27447", wrvu=None), report_line("11045", wrvu=None)]
    rec = reconcile(log, report)
    assert rec.has_wrvu is False and rec.report_wrvu is None
    by_code = {i.code: i for i in rec.items}
    assert by_code["27447"].status == "matched" and by_code["27447"].difference is None
    assert by_code["27447"].report.wrvu is None
    assert by_code["11045"].status == "units_differ" and by_code["11045"].note == (
        "you logged 11045 x2 that day, the report has 1")
    assert by_code["99213"].status == "missing" and by_code["99213"].difference is None
    assert rec.missing_wrvu == D("1.30")  # the log's credit of what is missing still counts
    d = rec.to_dict()
    assert d["report_wrvu"] is None and d["has_wrvu"] is False
    assert [i["report"]["wrvu"] for i in d["items"] if i["report"]] == [None, None]


def test_has_wrvu_false_ignores_the_reports_numbers():
    rec = reconcile([log_line("27447", wrvu="19.60")], [report_line("27447", wrvu="9.80")], has_wrvu=False)
    assert only(rec).status == "matched" and rec.report_wrvu is None and rec.missing_wrvu == ZERO


def test_a_parsed_report_without_a_wrvu_column_reconciles_without_credit():
    table = parse_report(["DOS", "CPT", "Units"], [["2026-03-02", "27447", "1"]])
    assert table.has_wrvu is False
    rec = reconcile([log_line("27447", wrvu="19.60")], table.lines, has_wrvu=table.has_wrvu)
    assert only(rec).status == "matched" and rec.report_wrvu is None


def test_an_empty_report_cannot_be_reconciled():
    with pytest.raises(ReportError):
        reconcile([log_line("99213")], [])


def test_a_whole_month_to_dict_is_json_and_counts_add_up():
    d3, d4 = dt.date(2026, 3, 3), dt.date(2026, 3, 4)
    log = [log_line("99214", ("25",), wrvu="1.92", encounter=1, payment="128.40"),
           log_line("20610", ("RT",), wrvu="0.79", encounter=1, payment="65.12"),
           log_line("99215", wrvu="2.80", date=d3, encounter=2),
           log_line("27447", wrvu="19.60", date=d4, encounter=3, payment="1400.10"),
           log_line("11042", wrvu="1.01", date=d4, encounter=3, payment="120.00"),
           log_line("11045", units=3, wrvu="1.50", date=d4, encounter=3)]
    report = [report_line("99214", ("25",), wrvu="1.92", line=2),
              report_line("99214", wrvu="1.92", date=d3, line=3),
              report_line("27447", wrvu="9.80", date=d4, line=4),
              report_line("11045", units=2, wrvu="1.00", date=d4, line=5),
              report_line("99204", wrvu="2.60", date=d4, line=6)]
    rec = reconcile(log, report)
    d = json.loads(json.dumps(rec.to_dict()))
    assert d["counts"] == {"missing": 2, "code_differs": 1, "modifier_differs": 0, "units_differ": 1,
                           "credit_differs": 1, "not_in_log": 1, "matched": 1}
    assert sum(d["counts"].values()) == len(d["items"]) == len(rec.items)
    assert [i["status"] for i in d["items"]] == ["missing", "missing", "code_differs", "units_differ",
                                                 "credit_differs", "not_in_log", "matched"]
    assert (d["start"], d["end"], d["has_wrvu"]) == ("2026-03-02", "2026-03-04", True)
    assert d["log_wrvu"] == "27.62" and d["report_wrvu"] == "17.24"
    assert d["missing_wrvu"] == str(D("0.79") + D("1.01") + D("0.88") + D("0.50") + D("9.80")) == "12.98"
    assert d["missing_payment"] == "185.12"
    assert [i["code"] for i in d["items"]] == ["20610", "11042", "99215", "11045", "27447", "99204", "99214"]
    assert d["items"][1]["log"] == {"code": "11042", "modifiers": [], "units": 1, "wrvu": "1.01", "refs": [3],
                                    "entries": ["11042"], "payment": "120.00"}
    assert d["items"][2]["report"]["code"] == "99214" and d["items"][2]["difference"] == "-0.88"
    assert d["items"][0]["report"] is None and d["items"][5]["log"] is None


# =========================================================================== properties

MONTH = dt.date(2026, 3, 1)
CODES = ("99213", "99214", "99215", "20610", "27447", "29881", "11045", "11046", "93000", "71046")
PRICING = ("26", "50", "80")
NEUTRAL = ("25", "59", "RT", "GC")

days = st.integers(0, 30).map(lambda n: MONTH + dt.timedelta(days=n))
wrvus = st.integers(0, 3000).map(lambda cents: D(cents).scaleb(-2))
payments = st.none() | st.integers(0, 200_000).map(lambda cents: D(cents).scaleb(-2))
modifiers = st.lists(st.sampled_from(PRICING + NEUTRAL), max_size=3, unique=True).map(tuple)
codes = st.sampled_from(CODES)
neutral_mods = st.lists(st.sampled_from(NEUTRAL), max_size=2, unique=True).map(tuple)


@st.composite
def log_lines(draw, date=days, code=codes, mods=modifiers):
    encounter = draw(st.integers(1, 30))
    return LogLine(draw(date), draw(code), draw(mods), draw(st.integers(1, 3)), draw(wrvus), encounter,
                   f"entry {encounter}", draw(payments))


logs = st.lists(log_lines(), min_size=1, max_size=10)


def pricing(mods) -> tuple[str, ...]:
    return tuple(sorted(set(mods) & set(PRICING)))


def key(line) -> tuple[dt.date, str, tuple[str, ...]]:
    return line.date, line.code, pricing(line.modifiers)


def item_key(item) -> tuple[dt.date, str, tuple[str, ...]]:
    return item.date, item.code, (item.log or item.report).modifiers


def report_from(log) -> list[ReportLine]:
    return [ReportLine(n, ln.date, ln.code, ln.modifiers, ln.units, ln.wrvu) for n, ln in enumerate(log, start=2)]


def total(values) -> Decimal:
    return sum(values, ZERO)


@SETTINGS
@given(logs)
def test_a_report_built_from_the_log_matches_everything(log):
    rec = reconcile(log, report_from(log))
    assert {i.status for i in rec.items} == {"matched"}
    assert len(rec.items) == len({key(ln) for ln in log})
    assert all(i.difference == ZERO for i in rec.items)
    assert rec.missing_wrvu == ZERO and rec.missing_payment == ZERO
    assert rec.log_wrvu == rec.report_wrvu == total(ln.wrvu for ln in log)


@st.composite
def log_with_a_lonely_group(draw):
    """A log with services on the 1st and the 31st, and one group alone on a day in between."""
    gap = draw(st.integers(1, 29))
    lonely = MONTH + dt.timedelta(days=gap)
    other_days = st.integers(0, 29).map(lambda n: MONTH + dt.timedelta(days=n if n < gap else n + 1))
    base = draw(st.lists(log_lines(date=other_days), max_size=8))
    base += [draw(log_lines(date=st.just(MONTH))), draw(log_lines(date=st.just(dt.date(2026, 3, 31))))]
    code, kept = draw(st.sampled_from(CODES)), draw(st.lists(st.sampled_from(PRICING), max_size=2, unique=True))
    group = draw(st.lists(log_lines(date=st.just(lonely), code=st.just(code),
                                    mods=neutral_mods.map(lambda n: tuple(kept) + n)), min_size=1, max_size=3))
    lines = draw(st.permutations(base + group))
    return lines, group


@SETTINGS
@given(log_with_a_lonely_group())
def test_a_group_dropped_from_the_report_is_missing_with_its_whole_credit(case):
    log, group = case
    report = report_from([ln for ln in log if ln not in group])
    rec = reconcile(log, report)
    (item,) = [i for i in rec.items if i.date == group[0].date]
    assert item.status == "missing" and item.report is None
    assert (item.code, item.log.modifiers) == (group[0].code, pricing(group[0].modifiers))
    assert item.log.units == sum(ln.units for ln in group)
    assert item.log.wrvu == total(ln.wrvu for ln in group)
    assert item.difference == -item.log.wrvu
    assert all(i.status == "matched" for i in rec.items if i is not item)
    assert rec.missing_wrvu == total(ln.wrvu for ln in group)
    assert rec.missing_payment == total(ln.payment for ln in group if ln.payment is not None)
    if item.log.wrvu > 0:
        assert rec.missing_wrvu > 0


@SETTINGS
@given(logs, st.data())
def test_any_dropped_group_is_missing_or_outside_the_reports_dates(log, data):
    groups = sorted({key(ln) for ln in log})
    dropped = data.draw(st.sampled_from(groups))
    kept = [ln for ln in log if key(ln) != dropped]
    if not kept:
        return
    rec = reconcile(log, report_from(kept))
    lines = [ln for ln in log if key(ln) == dropped]
    start, end = min(ln.date for ln in kept), max(ln.date for ln in kept)
    dropped_items = [i for i in rec.items if item_key(i) == dropped]
    assert all(i.status == "matched" for i in rec.items if i not in dropped_items)
    if start <= dropped[0] <= end:  # the same date's other groups all match, so nothing can pair with it
        (item,) = dropped_items
        assert item.status == "missing"
        assert item.log.wrvu == total(ln.wrvu for ln in lines) == rec.missing_wrvu
    else:  # the report's dates do not cover that day: the log line is ignored
        assert dropped_items == [] and rec.missing_wrvu == ZERO


@SETTINGS
@given(logs, st.data())
def test_a_lower_credit_on_one_line_is_a_credit_difference_of_exactly_that(log, data):
    n = data.draw(st.integers(0, len(log) - 1))
    cut = data.draw(st.integers(1, 500).map(lambda c: D(c).scaleb(-2)))
    report = report_from(log)
    report[n] = ReportLine(report[n].line, report[n].date, report[n].code, report[n].modifiers, report[n].units,
                           report[n].wrvu - cut)
    rec = reconcile(log, report)
    (item,) = [i for i in rec.items if i.status != "matched"]
    assert item.status == "credit_differs" and item_key(item) == key(log[n])
    assert item.difference == -cut and rec.missing_wrvu == cut
    assert f"({cut} less)" in item.note


def _sibling(code: str, step: int) -> str:
    return code[:4] + str((int(code[4]) + step) % 10)


@st.composite
def log_and_report(draw):
    """A log and a report made from it with every kind of difference, plus services only in the report."""
    log = draw(logs)
    report: list[tuple] = []
    for ln in log:
        change = draw(st.sampled_from(["same", "same", "drop", "credit", "units", "code", "modifier", "split"]))
        date, code, mods, units, wrvu = ln.date, ln.code, ln.modifiers, ln.units, ln.wrvu
        if change == "drop":
            continue
        if change == "credit":
            wrvu += draw(st.integers(-500, 500).map(lambda c: D(c).scaleb(-2)))
        elif change == "units":
            units += draw(st.integers(1, 2))
        elif change == "code":
            code = _sibling(code, draw(st.integers(1, 9)))
        elif change == "modifier":
            mods = draw(modifiers)
        if change == "split" and units > 1:
            cents = int(wrvu.scaleb(2))
            parts = [cents // units] * units
            parts[0] += cents % units
            report += [(date, code, mods, 1, D(p).scaleb(-2)) for p in parts]
        else:
            report.append((date, code, mods, units, wrvu))
    extra = draw(st.lists(log_lines(), max_size=4))
    report += [(ln.date, ln.code, ln.modifiers, ln.units, ln.wrvu) for ln in extra]
    if not report:
        report.append((log[0].date, log[0].code, log[0].modifiers, log[0].units, log[0].wrvu))
    with_wrvu = draw(st.booleans())
    return log, [ReportLine(n, d, c, m, u, w if with_wrvu else None) for n, (d, c, m, u, w) in
                 enumerate(report, start=2)]


@SETTINGS
@given(log_and_report(), st.data())
def test_the_order_of_log_and_report_lines_does_not_matter(case, data):
    log, report = case
    rec = reconcile(log, report)
    shuffled = reconcile(data.draw(st.permutations(log)), data.draw(st.permutations(report)))
    assert shuffled.to_dict() == rec.to_dict()  # refs, entries and notes included
    assert sum(rec.counts.values()) == len(rec.items)


@SETTINGS
@given(log_and_report())
def test_every_group_on_each_side_is_in_exactly_one_item(case):
    log, report = case
    rec = reconcile(log, report)
    start, end = min(ln.date for ln in report), max(ln.date for ln in report)
    in_range = [ln for ln in log if start <= ln.date <= end]
    log_items = [i for i in rec.items if i.log is not None]
    report_items = [i for i in rec.items if i.report is not None]
    assert sorted((i.date, i.code, i.log.modifiers) for i in log_items) == sorted({key(ln) for ln in in_range})
    assert sum(i.log.units for i in log_items) == sum(ln.units for ln in in_range)
    assert total(i.log.wrvu for i in log_items) == total(ln.wrvu for ln in in_range) == rec.log_wrvu
    assert len(report_items) == len({key(ln) for ln in report})
    assert sum(i.report.units for i in report_items) == sum(ln.units for ln in report)
    assert sorted(r for i in report_items for r in i.report.refs) == [ln.line for ln in report]
    assert all((i.log is None) == (i.status == "not_in_log") for i in rec.items)
    assert all((i.report is None) == (i.status == "missing") for i in rec.items)
    if rec.has_wrvu:
        assert rec.report_wrvu == total(ln.wrvu for ln in report)
    else:
        assert rec.report_wrvu is None and rec.counts["credit_differs"] == 0
    for i in rec.items:  # items pair only services of one day and, across codes, one code family
        if i.log is not None and i.report is not None:
            assert i.status in {"matched", "units_differ", "credit_differs", "modifier_differs", "code_differs"}
            assert (i.report_code or i.code)[:4] == i.code[:4]
            if i.status in {"matched", "credit_differs"}:
                assert i.log.units == i.report.units
    assert rec.missing_wrvu >= ZERO


def test_a_report_bigger_than_one_clinicians_is_refused():
    rows = [["2026-03-02", "99213"]] * 4
    with pytest.raises(ReportError) as exc:
        parse_report(["DOS", "CPT"], rows, "huge.csv", max_rows=3)
    assert str(exc.value) == ("huge.csv: more than 3 rows with a code; upload one clinician's report, or split the "
                              "file by date")
    assert len(parse_report(["DOS", "CPT"], rows, "ok.csv", max_rows=4).lines) == 4


def test_a_title_block_above_the_header_row_is_skipped_and_lines_keep_the_files_numbers():
    title = ["Provider Productivity Report", "", ""]
    rows = [["Period: 03/01/2026 - 03/31/2026", "", ""], ["", "", ""], ["DOS", "CPT", "wRVU"],
            ["2026-03-02", "99214", "1.92"], ["2026-03-03", "ABCDE", "1.30"]]
    with pytest.raises(ReportError) as exc:
        parse_report(title, rows, "emp.csv")
    assert str(exc.value).endswith("emp.csv, line 6, column CPT: 'ABCDE' is not a CPT/HCPCS code")
    table = parse_report(title, rows[:4], "emp.csv")
    assert [(ln.line, ln.code) for ln in table.lines] == [(5, "99214")]
    assert table.columns == {"date": "DOS", "code": "CPT", "wrvu": "wRVU"}


def test_a_header_row_is_only_looked_for_in_the_first_rows():
    rows = [["", ""]] * 14 + [["DOS", "CPT"], ["2026-03-02", "99214"]]
    with pytest.raises(ReportError, match="found no date of service column"):
        parse_report(["Report", ""], rows, "emp.csv")
    assert len(parse_report(["Report", ""], rows[1:], "emp.csv").lines) == 1


@pytest.mark.parametrize(("cell", "code"), [("99214.0", "99214"), ("100", "00100"), ("1402", "01402"),
                                            ("99214", "99214"), ("0001F", "0001F")])
def test_codes_a_spreadsheet_turned_into_numbers_are_read_back(cell, code):
    table = parse_report(["DOS", "CPT"], [["2026-03-02", cell]], "emp.xlsx")
    assert table.lines[0].code == code


def test_a_number_that_cannot_be_a_code_is_still_refused():
    assert errors_of(["DOS", "CPT"], [["2026-03-02", "123456"]]) == [
        "emp.csv, line 2, column CPT: '123456' is not a CPT/HCPCS code"]


def test_only_anaesthesia_codes_get_their_leading_zeros_back():
    assert errors_of(["DOS", "CPT"], [["2026-03-02", "9921"]]) == [
        "emp.csv, line 2, column CPT: '9921' is not a CPT/HCPCS code"]
    assert errors_of(["DOS", "CPT"], [["2026-03-02", "99"]]) == [
        "emp.csv, line 2, column CPT: '99' is not a CPT/HCPCS code"]
