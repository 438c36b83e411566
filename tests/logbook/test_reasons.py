"""Reconciliation reasons (issue 16): one fixture with one difference per reason, each explained correctly, on the
page, in the JSON twin, the CSVs and the PDF (its text extracted).

tests/logbook/reports/all_reasons.csv is a March 2025 report bucketed by post date (first post 2 March, last 31
March; the longest service-to-post lag is 7 days) against this log (RVU25A, national, default policy).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from rvuedge.logbook import actions, queries
from rvuedge.logbook.reconcile import REASONS
from tests.personas import log

pytestmark = pytest.mark.django_db
REPORTS = Path(__file__).parent / "reports"

#: (date, code) -> (status, reason), one per reason
EXPECTED = {
    ("2025-02-27", "99213"): ("missing", "before_period"),
    ("2025-03-01", "20610"): ("modifier_differs", "bilateral"),
    ("2025-03-05", "43235"): ("missing", "endo_base"),
    ("2025-03-06", "11045"): ("missing", "addon_without_primary"),
    ("2025-03-07", "99397"): ("missing", "status_not_paid"),
    ("2025-03-10", "99213"): ("credit_differs", "another_provider"),
    ("2025-03-11", "99203"): ("missing", "voided"),
    ("2025-03-13", "99214"): ("missing", "no_rule"),
    ("2025-03-14", "99215"): ("code_differs", "downcoded"),
    ("2025-03-15", "99212"): ("not_in_log", "no_rule"),
    ("2025-03-17", "71046"): ("modifier_differs", "modifier"),
    ("2025-03-19", "96365"): ("credit_differs", "employer_adjustment"),
    ("2025-03-27", "99213"): ("missing", "global_period"),
    ("2025-03-28", "20610"): ("missing", "procedure_in_global"),
    ("2025-03-30", "93000"): ("missing", "posted_after_period"),
}


def _log_the_month(user) -> None:
    for day, entry in [("2025-02-26", "99212"), ("2025-02-27", "99213"), ("2025-03-01", "20610-RT 20610-LT"),
                       ("2025-03-05", "43239 43235"), ("2025-03-06", "11045"), ("2025-03-07", "99397"),
                       ("2025-03-10", "99213"), ("2025-03-11", "99203"), ("2025-03-13", "99214"),
                       ("2025-03-14", "99215"), ("2025-03-17", "71046-26"), ("2025-03-19", "96365"),
                       ("2025-03-20", "99213"), ("2025-03-25", "27447"), ("2025-03-27", "99213"),
                       ("2025-03-28", "20610"), ("2025-03-30", "93000")]:
        log(user, entry, date=day)


@pytest.fixture
def reasons_report(alice):
    _log_the_month(alice)
    report, _ = actions.do_upload_report(alice, "all_reasons.csv", (REPORTS / "all_reasons.csv").read_bytes())
    return report


def test_one_difference_per_reason_each_explained(alice, reasons_report):
    rec = queries.reconciliation(alice, reasons_report)
    got = {(i.date.isoformat(), i.code): (i.status, i.reason) for i in rec.items if i.status != "matched"}
    assert got == EXPECTED
    assert {r for _s, r in EXPECTED.values()} == set(REASONS)  # every reason is exercised
    matched = sorted((i.date.isoformat(), i.code) for i in rec.items if i.status == "matched")
    assert matched == [("2025-02-26", "99212"), ("2025-03-05", "43239"), ("2025-03-20", "99213"),
                       ("2025-03-25", "27447")]
    why = {(i.date.isoformat(), i.code): i.why for i in rec.items}
    assert "post-op day 2 of 27447" in why[("2025-03-27", "99213")]
    assert "-24" in why[("2025-03-27", "99213")] and "RVU25A 27447: GLOB DAYS 090" in why[("2025-03-27", "99213")]
    assert "58 staged" in why[("2025-03-28", "20610")]
    assert "43235 is the endoscopy base of 43239" in why[("2025-03-05", "43235")]
    assert "status N" in why[("2025-03-07", "99397")]
    assert "Dr. Sam Supervisor" in why[("2025-03-10", "99213")]
    assert "line 6 transaction T104: charge 99203" in why[("2025-03-11", "99203")]
    assert "line 7 transaction T104: void 99203" in why[("2025-03-11", "99203")]
    assert "Billed as 99214 instead of 99215" in why[("2025-03-14", "99215")]
    assert "without -26" in why[("2025-03-17", "71046")]
    assert "administration codes" in why[("2025-03-19", "96365")]
    assert "up to 7 days after" in why[("2025-03-30", "93000")] and "next period" in why[("2025-03-30", "93000")]
    assert "before the report's first post date (2025-03-02)" in why[("2025-02-27", "99213")]
    assert [d.isoformat() for d in rec.post_period] == ["2025-03-02", "2025-03-31"]
    assert "bucketed by post date (Post Date)" in rec.date_basis


def test_summary_by_reason_adds_up(alice, reasons_report):
    rec = queries.reconciliation(alice, reasons_report)
    summary = rec.by_reason()
    assert sum(r["count"] for r in summary) == len(EXPECTED)
    assert sum((r["wrvu"] for r in summary), Decimal(0)) == rec.missing_wrvu
    by = {r["reason"]: r for r in summary}
    # 27447's post-op visit: the log's 99213 credit is what the global period costs
    assert by["global_period"]["wrvu"] == Decimal("1.30")
    assert by["another_provider"]["wrvu"] == Decimal("1.30")
    assert by["employer_adjustment"]["wrvu"] == Decimal("0.21")
    assert by["downcoded"]["wrvu"] == Decimal("0.88")
    assert by["endo_base"]["wrvu"] == Decimal("0")  # the log credits the bundled base 0 too
    assert summary == sorted(summary, key=lambda r: (-r["wrvu"], -r["count"], r["reason"]))


def test_json_twin_csvs_and_pdf_show_the_reasons(alice, alice_client, reasons_report):
    pk = reasons_report.pk
    page = alice_client.get(f"/log/reconcile/{pk}/").content.decode()
    assert "Why the differences?" in page and "Posted after the report&#x27;s period" in page
    assert "No rule explains this; ask billing" in page and 'data-reason="global_period"' in page

    api = alice_client.get(f"/api/log/reconciliations/{pk}").json()
    items = {(i["date"], i["code"]): (i["status"], i["reason"]) for i in api["items"] if i["status"] != "matched"}
    assert items == EXPECTED
    assert {r["reason"] for r in api["reasons"]} == set(REASONS)
    assert api["post_period"] == ["2025-03-02", "2025-03-31"]

    rows = list(csv.DictReader(io.StringIO(alice_client.get(f"/log/reconcile/{pk}/differences.csv").content.decode())))
    by_row = {(r["date of service"], r["status"]): r for r in rows}
    assert by_row[("2025-03-27", "Missing from the report")]["reason"] == "Inside a global period without the modifier"
    assert "27447" in by_row[("2025-03-27", "Missing from the report")]["why"]
    summary = list(csv.DictReader(io.StringIO(alice_client.get(f"/log/reconcile/{pk}/reasons.csv").content.decode())))
    assert {r["reason"] for r in summary} == {t for t, _m in REASONS.values()}
    assert sum(int(r["services"]) for r in summary) == len(EXPECTED)

    text = pdf_text(alice_client.get(f"/log/reconcile/{pk}/differences.pdf").content)
    assert "Why: the most likely reason for each difference" in text
    for title, _means in REASONS.values():
        assert title in text, title
    assert "Why: Inside a global period without the modifier" in text


def pdf_text(pdf: bytes) -> str:
    """The text fpdf2 wrote (its deflated page streams' string operators), lines joined by spaces."""
    import re
    import zlib

    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            content = zlib.decompress(m.group(1))
        except zlib.error:
            continue
        for s in re.findall(rb"\(((?:[^()\\]|\\.)*)\)\s*Tj", content):
            out.append(re.sub(rb"\\(.)", rb"\1", s).decode("latin-1"))
    return " ".join(" ".join(out).split())
