"""Reconciling the log against an employer's report: upload, the page, its JSON twin and the CSV of differences.

Real database, real RVU25A credit (the log's wRVUs come from the engine), files built like employers' exports.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from openpyxl import Workbook

from rvuedge.logbook.actions import do_upload_report
from rvuedge.logbook.models import EmployerReport, EncounterLine
from rvuedge.logbook.queries import reconciliation
from rvuedge.logbook.reconcile import ReportError
from tests.personas import log

pytestmark = pytest.mark.django_db

REPORT = b"""Provider,DOS,CPT Code,Mod 1,Mod 2,Units,wRVU
Dr A,03/02/2025,99214,25,,1,1.92
Dr A,03/02/2025,20610,RT,,1,0.79
Dr A,03/03/2025,99213,,,1,1.30
Dr A,03/04/2025,27447,,,1,9.80
Dr A,03/05/2025,99204,,,1,2.60
,,,,,,Total 16.41
"""


@pytest.fixture
def alices_month(alice):
    """Alice's log for the first week of March 2025 (RVU25A, her profile's defaults)."""
    log(alice, "99214-25 20610-RT", date="2025-03-02")  # in the report, neutral 25 and RT ignored
    log(alice, "99214", date="2025-03-03")  # the report has 99213: a downcode
    log(alice, "27447", date="2025-03-04", setting="facility")  # the report credits half
    log(alice, "11042", date="2025-03-04", setting="facility")  # not in the report at all
    log(alice, "99213", date="2025-02-27")  # before the report's dates: ignored
    return alice


def _credit(user, code, date):
    return EncounterLine.objects.get(user=user, code=code, date=date).wrvu


def test_the_log_against_a_report_names_every_difference(alices_month):
    alice = alices_month
    report, created = do_upload_report(alice, "march.csv", REPORT, label="March 2025 billing")
    assert created and report.line_count == 5 and report.skipped == 1 and report.has_wrvu
    assert (str(report.start), str(report.end)) == ("2025-03-02", "2025-03-05")
    assert report.columns == {"date": "DOS", "code": "CPT Code", "units": "Units", "wrvu": "wRVU",
                              "modifiers": "Mod 1, Mod 2"}
    rec = reconciliation(alice, report)
    by = {(i.status, i.code) for i in rec.items}
    assert by == {("matched", "99214"), ("matched", "20610"), ("code_differs", "99214"),
                  ("credit_differs", "27447"), ("missing", "11042"), ("not_in_log", "99204")}
    w27447 = _credit(alice, "27447", "2025-03-04")
    w11042 = _credit(alice, "11042", "2025-03-04")
    w99214 = _credit(alice, "99214", "2025-03-03")
    assert w27447 == Decimal("19.60")
    item = next(i for i in rec.items if i.status == "credit_differs")
    assert item.difference == Decimal("9.80") - w27447
    down = next(i for i in rec.items if i.status == "code_differs")
    assert down.report_code == "99213" and down.difference == Decimal("1.30") - w99214
    # Not credited = the missing service + both shortfalls.
    assert rec.missing_wrvu == w11042 + (w27447 - Decimal("9.80")) + (w99214 - Decimal("1.30"))
    assert rec.report_wrvu == Decimal("16.41")
    logged = sum(ln.wrvu for ln in EncounterLine.objects.filter(user=alice, date__gte="2025-03-02"))
    assert rec.log_wrvu == logged
    missing = next(i for i in rec.items if i.status == "missing")
    assert missing.log.payment == EncounterLine.objects.get(user=alice, code="11042").payment
    assert rec.missing_payment == missing.log.payment > 0


def test_the_page_the_api_and_the_csv_say_the_same(alices_month, alice_client):
    alice = alices_month
    r = alice_client.post("/log/reconcile/", {"file": _upload("march.csv", REPORT), "label": "March"})
    report = EmployerReport.objects.get(user=alice)
    assert r.status_code == 302 and r["Location"] == f"/log/reconcile/{report.pk}/"
    rec = reconciliation(alice, report)

    page = alice_client.get(f"/log/reconcile/{report.pk}/").content.decode()
    assert "Missing from the report" in page and "Different code" in page and "Not in your log" in page
    assert f"{rec.missing_wrvu}" in page and "11042" in page and "99204" in page
    assert "Matched" not in page.split("<table")[1]  # the default tab shows the differences only
    everything = alice_client.get(f"/log/reconcile/{report.pk}/?status=all").content.decode()
    assert "Matched" in everything.split("<table")[1]

    api = alice_client.get(f"/api/log/reconciliations/{report.pk}").json()
    assert api["report"]["label"] == "March" and api["missing_wrvu"] == str(rec.missing_wrvu)
    assert api["items"] == json.loads(json.dumps(rec.to_dict()["items"]))
    assert api["counts"]["missing"] == 1 and api["counts"]["matched"] == 2

    resp = alice_client.get(f"/log/reconcile/{report.pk}/differences.csv")
    assert resp["Content-Disposition"] == 'attachment; filename="reconciliation-2025-03-02-2025-03-05.csv"'
    rows = list(csv.DictReader(io.StringIO(resp.content.decode())))
    assert len(rows) == len(rec.items)
    gap = next(row for row in rows if row["status"] == "Different credit")
    assert gap["logged"] == "27447" and gap["reported wRVU"] == "9.80" and gap["difference wRVU"] == "-9.80"
    assert gap["report lines"] == "5"


def test_the_pdf_for_the_billing_office_lists_every_difference(alices_month, alice_client):
    import zlib

    report, _ = do_upload_report(alices_month, "march.csv", REPORT, label="March 2025 billing")
    r = alice_client.get(f"/log/reconcile/{report.pk}/differences.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF") and r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"] == 'attachment; filename="reconciliation-2025-03-02-2025-03-05.pdf"'
    # fpdf2 deflates page content: read the text operators back out of the streams.
    text = b"".join(zlib.decompress(m) for m in _streams(r.content)).decode("latin-1")
    rec = reconciliation(alices_month, report)
    for expected in ("RVU report reconciliation", "March 2025 billing", f"Not credited: {rec.missing_wrvu}",
                     "Missing from the report", "11042", "Different code", "99213", "Different credit", "-9.80",
                     "Not in your log", "99204", "contains no patient"):
        assert expected in text, expected
    assert alice_client.get(f"/log/reconcile/{report.pk}/").content.decode().count("differences.pdf") == 1


def _streams(pdf: bytes):
    import re

    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            import zlib

            zlib.decompress(m.group(1))
        except zlib.error:
            continue
        yield m.group(1)


def test_the_log_changes_the_reconciliation_not_the_report(alices_month):
    alice = alices_month
    report, _ = do_upload_report(alice, "march.csv", REPORT)
    assert reconciliation(alice, report).counts["not_in_log"] == 1
    log(alice, "99204", date="2025-03-05")  # the clinician logs what the report showed
    rec = reconciliation(alice, report)
    assert rec.counts["not_in_log"] == 0 and rec.counts["matched"] == 3


def test_uploading_the_same_file_twice_keeps_one_report(alice, alice_client):
    first, created = do_upload_report(alice, "march.csv", REPORT)
    again, created_again = do_upload_report(alice, "renamed.csv", REPORT)
    assert created and not created_again and again.pk == first.pk
    r = alice_client.post("/log/reconcile/", {"file": _upload("march.csv", REPORT)}, follow=True)
    assert "was uploaded before" in r.content.decode()
    assert EmployerReport.objects.filter(user=alice).count() == 1


def test_an_excel_report_reads_like_a_csv(alice):
    wb = Workbook()
    ws = wb.active
    ws.append(["Service Date", "Procedure Code", "Modifier", "Qty", "Work RVU"])
    import datetime as dt

    ws.append([dt.datetime(2025, 3, 4), "27447", None, 1, 9.8])
    ws.append([dt.datetime(2025, 3, 4), "11045", None, 3, 2.37])
    buf = io.BytesIO()
    wb.save(buf)
    report, _ = do_upload_report(alice, "march.xlsx", buf.getvalue())
    assert report.line_count == 2 and report.has_wrvu
    assert report.lines[1] == [3, "2025-03-04", "11045", [], 3, "2.37"]


@pytest.mark.parametrize("body,message", [
    (b"DOS,CPT,MRN\n2025-03-02,99214,00123456\n", "column C ('MRN') looks like a patient identifier"),
    (b"DOS,CPT,Patient Name\n2025-03-02,99214,Jane Doe\n", "column C ('Patient Name') looks like a patient identifier"),
    (b"DOS,CPT,wRVU\n2025-03-02,99214,1.92\n2025-03-31,9921,1.3\n", "bad.csv, line 3, column CPT: '9921' is not a"),
    (b"DOS,CPT,wRVU\n2025-13-02,99214,1.92\n", "bad.csv, line 2, column DOS: '2025-13-02' is not a date"),
    (b"DOS,CPT,Units\n2025-03-02,99214,1.5\n", "bad.csv, line 2, column Units: '1.5' is not a whole number"),
    (b"DOS,CPT,wRVU\n2025-03-02,99214,lots\n", "bad.csv, line 2, column wRVU: 'lots' is not a wRVU number"),
    (b"Date,Provider\n2025-03-02,Dr A\n", "found no code column"),
    (b"DOS,CPT\n", "no rows with a code"),
    (b"", "The file is empty"),
])
def test_a_bad_report_is_refused_whole_with_file_line_and_column(alice, alice_client, body, message):
    with pytest.raises(ReportError) as err:
        do_upload_report(alice, "bad.csv", body)
    assert message in str(err.value)
    r = alice_client.post("/log/reconcile/", {"file": _upload("bad.csv", body)})
    shown = message if body else "The submitted file is empty"  # the upload form refuses an empty file itself
    assert r.status_code == 200 and shown.replace("'", "&#x27;") in r.content.decode()
    assert not EmployerReport.objects.exists()


def test_a_label_that_looks_like_a_patient_identifier_is_refused(alice, alice_client):
    r = alice_client.post("/log/reconcile/", {"file": _upload("march.csv", REPORT), "label": "MRN 00123456"})
    assert r.status_code == 200 and "patient identifier" in r.content.decode()
    assert not EmployerReport.objects.exists()


def test_deleting_a_report(alice, alice_client):
    report, _ = do_upload_report(alice, "march.csv", REPORT)
    r = alice_client.post(f"/log/reconcile/{report.pk}/delete/")
    assert r.status_code == 302 and not EmployerReport.objects.exists()


def _upload(name: str, body: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, body, content_type="text/csv")


def test_observed_cases_are_not_expected_in_the_report(alice):
    log(alice, "99214", date="2025-03-02")
    log(alice, "27447", date="2025-03-02", setting="facility", role="observed")
    report, _ = do_upload_report(alice, "one.csv", b"DOS,CPT,wRVU\n2025-03-02,99214,1.92\n")
    rec = reconciliation(alice, report)
    assert [(i.status, i.code) for i in rec.items] == [("matched", "99214")]
