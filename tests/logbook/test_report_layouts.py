"""Employers' reports as billing systems export them (issue 16), one fixture of our own making per layout under
tests/logbook/reports/, each reconciled against a log to the right answer.

- epic_clarity_tdl.csv (Epic Clarity transaction detail): a title block, Tx ID + Voided Transaction ID, service and
  post dates (September posts), four modifier columns, a void + repost under a new id as another code (99214 ->
  99215), a void + repost of the same code, a late posting across the month end, a footer total.
- epic_pb_warehouse.csv (Epic PB warehouse): Original Service Date, CPT Modifier 1-4, Provider - Performing Units,
  Adj Work RVU (pre-adjusted: 85%, 50%, an administration code at 0), performing vs billing provider (incident-to),
  a void and repost under the same transaction id.
- athena_rvu.csv (athenahealth RVU report): a title block, one modifier column holding two ("RT,59"), no post date.
- nextgen.csv (NextGen): Month of Transaction ("2025 - 12"), several codes in one cell ("19301, 38525-51, 38900"),
  a void with no repost, a November service posted in December.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from rvuedge.logbook import actions, queries
from tests.personas import log

pytestmark = pytest.mark.django_db
REPORTS = Path(__file__).parent / "reports"


def reconcile_file(user, name: str, entries: list[tuple[str, str]]):
    for day, entry in entries:
        log(user, entry, date=day)
    report, _ = actions.do_upload_report(user, name, (REPORTS / name).read_bytes())
    return report, queries.reconciliation(user, report)


def outcome(rec) -> dict[tuple[str, str], tuple[str, str]]:
    return {(i.date.isoformat(), i.code): (i.status, i.reason) for i in rec.items}


def item(rec, day: str, code: str):
    return next(i for i in rec.items if i.date.isoformat() == day and i.code == code)


def test_epic_clarity_transaction_detail(alice):
    report, rec = reconcile_file(alice, "epic_clarity_tdl.csv", [
        ("2025-08-27", "99213"), ("2025-08-28", "99212"), ("2025-09-02", "99214-25"), ("2025-09-03", "99215"),
        ("2025-09-05", "20610-RT"), ("2025-09-10", "11042-59-XS-RT-GC"), ("2025-09-24", "99204"),
        ("2025-09-29", "99213")])
    assert report.columns["txn"] == "Transaction ID" and report.columns["void_of"] == "Voided Transaction ID"
    assert report.columns["modifiers"] == "Modifier 1, Modifier 2, Modifier 3, Modifier 4"
    assert report.skipped >= 2  # the blank and the total rows
    assert outcome(rec) == {
        ("2025-08-28", "99212"): ("missing", "before_period"),  # posted in August's report
        ("2025-08-27", "99213"): ("matched", ""),  # an August service posted in September
        ("2025-09-02", "99214"): ("matched", ""),
        ("2025-09-03", "99215"): ("matched", ""),  # 99214 voided and reposted as 99215
        ("2025-09-05", "20610"): ("matched", ""),  # voided and reposted with RT
        ("2025-09-10", "11042"): ("matched", ""),  # four modifier columns
        ("2025-09-24", "99204"): ("matched", ""),
        ("2025-09-29", "99213"): ("missing", "posted_after_period"),  # posts in October
    }
    assert rec.report_wrvu == Decimal("10.42")  # voids netted
    reposted = item(rec, "2025-09-03", "99215").report.history
    assert reposted == ["line 8 transaction 5002: charge 99214 1.92 wRVU, posted 2025-09-04",
                        "line 9 transaction 5003: void 99214 -1.92 wRVU (voids 5002), posted 2025-09-10",
                        "reposted: line 10 transaction 5004: charge 99215 2.80 wRVU, posted 2025-09-10"]
    assert len(item(rec, "2025-09-05", "20610").report.history) == 3
    assert item(rec, "2025-09-10", "11042").report.modifiers == ()  # 59, XS, RT, GC never split a service
    assert "bucketed by post date (Post Date)" in rec.date_basis
    late = item(rec, "2025-09-29", "99213").why
    assert "posted up to 2025-09-30" in late and "next period" in late


def test_epic_pb_warehouse(alice):
    report, rec = reconcile_file(alice, "epic_pb_warehouse.csv", [
        ("2025-10-06", "99214"), ("2025-10-07", "99213-25"), ("2025-10-07", "20610"), ("2025-10-08", "90471"),
        ("2025-10-09", "99204"), ("2025-10-20", "27447-RT")])
    assert report.columns["units"] == "Provider - Performing Units" and report.columns["wrvu"] == "Adj Work RVU"
    assert report.columns["date"] == "Original Service Date"
    assert outcome(rec) == {
        ("2025-10-06", "99214"): ("credit_differs", "employer_adjustment"),
        ("2025-10-07", "99213"): ("matched", ""),
        ("2025-10-07", "20610"): ("credit_differs", "employer_adjustment"),
        ("2025-10-08", "90471"): ("credit_differs", "employer_adjustment"),
        ("2025-10-08", "99213"): ("not_in_log", "another_provider"),  # the NP's visit billed under Alice
        ("2025-10-09", "99204"): ("matched", ""),  # voided and reposted: one service
        ("2025-10-20", "27447"): ("matched", ""),
    }
    assert "0.29 wRVU less (1.92 logged, 1.63 credited): it matches 85%" in item(rec, "2025-10-06", "99214").why
    assert "50% multiple-procedure reduction" in item(rec, "2025-10-07", "20610").why
    assert "administration codes" in item(rec, "2025-10-08", "90471").why
    assert "Alice Example MD" in item(rec, "2025-10-08", "99213").why
    assert len(item(rec, "2025-10-09", "99204").report.history) == 3


def test_athenahealth_rvu_report(alice):
    report, rec = reconcile_file(alice, "athena_rvu.csv", [
        ("2025-11-03", "99214-25 20610-RT"), ("2025-11-05", "96372"), ("2025-11-06", "11042 11045x3"),
        ("2025-11-07", "99214"), ("2025-11-10", "99213")])
    assert report.columns["modifiers"] == "Modifier" and "post_date" not in report.columns
    assert outcome(rec) == {
        ("2025-11-03", "99214"): ("matched", ""),
        ("2025-11-03", "20610"): ("matched", ""),  # "RT,59" in one cell
        ("2025-11-05", "96372"): ("credit_differs", "employer_adjustment"),
        ("2025-11-06", "11042"): ("matched", ""),
        ("2025-11-06", "11045"): ("units_differ", "no_rule"),
        ("2025-11-07", "99214"): ("missing", "no_rule"),  # no post date: nothing suggests a late posting
        ("2025-11-10", "99213"): ("matched", ""),
    }
    line = next(ln for ln in report.lines if ln[2] == "20610")
    assert line[3] == ["RT", "59"]
    assert rec.date_basis == "date of service (Date of Service)"


def test_nextgen_month_of_transaction_and_packed_codes(alice):
    report, rec = reconcile_file(alice, "nextgen.csv", [
        ("2025-11-28", "99213"), ("2025-12-01", "19301 38525-51 38900"), ("2025-12-03", "99212"),
        ("2025-12-05", "99214"), ("2025-12-15", "93000"), ("2025-12-30", "93000")])
    assert report.columns["post_month"] == "Month of Transaction"
    assert outcome(rec) == {
        ("2025-11-28", "99213"): ("matched", ""),  # a November service in December's transactions
        ("2025-12-01", "19301"): ("matched", ""),
        ("2025-12-01", "38525"): ("matched", ""),
        ("2025-12-01", "38900"): ("matched", ""),
        ("2025-12-03", "99212"): ("missing", "voided"),
        ("2025-12-05", "99214"): ("matched", ""),
        ("2025-12-15", "93000"): ("missing", "no_rule"),  # mid-month: a late posting is unlikely
        ("2025-12-30", "93000"): ("missing", "posted_after_period"),
    }
    packed = item(rec, "2025-12-01", "38525")
    assert packed.report.units == 1 and packed.report.wrvu is None  # one total for the cell, not split
    assert [(ln[2], ln[3], ln[4]) for ln in report.lines if ln[1] == "2025-12-01"] == [
        ("19301", [], 1), ("38525", ["51"], 1), ("38900", [], 1)]
    assert packed.report.packed == ["19301, 38525-51, 38900 = 19.06 wRVU"]
    cell = [item(rec, "2025-12-01", c) for c in ("19301", "38525", "38900")]
    logged = sum(i.log.wrvu for i in cell)
    assert logged < Decimal("19.06")  # the log takes the multiple-procedure reduction; the cell's total does not
    assert all(f"line 3 packs 19301, 38525-51, 38900 with one total of 19.06 wRVU; your log credits those codes "
               f"{logged}" in i.note for i in cell)
    assert rec.report_wrvu == Decimal("1.30") + Decimal("19.06") + Decimal("1.92")  # the void nets to nothing
    assert [d.isoformat() for d in rec.post_period] == ["2025-12-01", "2025-12-31"]
    assert "line 4" in item(rec, "2025-12-03", "99212").why and "void 99212" in item(rec, "2025-12-03", "99212").why


def test_a_void_and_repost_pair_changes_nothing_but_the_history():
    """Netting: appending a void of every charge and its identical repost leaves every status and credit as it
    was (pure reconcile, no database)."""
    import datetime as dt

    from rvuedge.logbook.reconcile import LogLine, ReportLine, reconcile

    day = dt.date(2026, 3, 2)
    log_lines = [LogLine(day, "99214", (), 1, Decimal("1.92"), 1, "99214"),
                 LogLine(day, "20610", ("RT",), 1, Decimal("0.79"), 1, "20610-RT"),
                 LogLine(day, "11042", (), 1, Decimal("1.01"), 2, "11042")]
    report = [ReportLine(2, day, "99214", (), 1, Decimal("1.92"), txn="A1"),
              ReportLine(3, day, "20610", ("RT",), 1, Decimal("0.40"), txn="A2")]
    plain = reconcile(log_lines, report)
    again = reconcile(log_lines, [*report,
                                  *(ReportLine(10 + i, r.date, r.code, r.modifiers, -r.units, -r.wrvu, txn=f"V{i}",
                                               void_of=r.txn) for i, r in enumerate(report)),
                                  *(ReportLine(20 + i, r.date, r.code, r.modifiers, r.units, r.wrvu, txn=f"R{i}")
                                    for i, r in enumerate(report))])

    def view(rec):
        return [(i.status, i.code, i.difference, i.reason) for i in rec.items]

    assert view(again) == view(plain)
    assert plain.report_wrvu == again.report_wrvu == Decimal("2.32")
    assert all(len(i.report.history) == 3 for i in again.items if i.report is not None)
    assert all(not i.report.history for i in plain.items if i.report is not None)
