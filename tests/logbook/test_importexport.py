"""Export (CSV, XLSX, JSON, PDF, portal), JSON backup/restore without loss, and the two-step CSV/XLSX import."""

from __future__ import annotations

import csv
import io
import json
import os
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rvuedge.logbook import backup, exports, imports
from rvuedge.logbook.actions import do_toggle_favourite, do_trash_encounters
from rvuedge.logbook.models import Encounter, ImportBatch
from tests.personas import log, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged(alice):
    a = log(alice, "99214 20610-RT", date="2025-03-04", site="Clinic A", notes="=formula-looking note")
    b = log(alice, "27447-50", date="2025-03-05", setting="facility", role="primary", attending="Dr. Rivera",
            category="Arthroplasty", idempotency_key="phone:1")
    c = log(alice, "99213", date="2025-03-06")
    do_trash_encounters(alice, [c.pk])
    do_toggle_favourite(alice, "20610-RT")
    return a, b, c


def _csv(resp) -> list[dict[str, str]]:
    text = b"".join(resp.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_export_has_every_field_the_credit_and_the_explanation(alice_client, logged):
    rows = _csv(alice_client.get("/log/export/?format=csv"))
    assert [r["entry"] for r in rows] == ["99214 20610-RT", "27447-50"]  # the trash is not exported
    first = rows[0]
    assert first["total_wrvu"] == "2.71" and first["release"] == "RVU25A" and first["policy"] == "cms_mirror"
    assert first["credit"] == "99214 1.92; 20610-RT 0.79"
    assert "20610-RT: work RVU 0.79" in first["explanation"]
    assert first["notes"] == "'=formula-looking note"  # spreadsheet formula injection defused
    assert rows[1]["attending"] == "Dr. Rivera" and rows[1]["role"] == "primary"


def test_csv_by_line_and_filters(alice_client, logged):
    rows = _csv(alice_client.get("/log/export/?format=lines&start=2025-03-05"))
    assert [(r["code"], r["modifiers"], r["wrvu"]) for r in rows] == [("27447", "50", "29.40")]
    assert "bilateral" in rows[0]["wrvu_explanation"]


def test_xlsx_export(alice_client, logged):
    from openpyxl import load_workbook

    r = alice_client.get("/log/export/?format=xlsx")
    wb = load_workbook(io.BytesIO(b"".join(r.streaming_content)))  # a FileResponse (built in a temporary file)
    assert wb.sheetnames == ["Encounters", "Lines"]
    assert wb["Encounters"].max_row == 3 and wb["Lines"].max_row == 4


def test_pdf_summary(alice_client, logged):
    r = alice_client.get("/log/export/?format=pdf&start=2025-01-01&end=2025-12-31")
    assert r.status_code == 200 and r.content.startswith(b"%PDF") and r["Content-Type"] == "application/pdf"


def test_portal_export(alice_client, logged):
    rows = _csv(alice_client.get("/log/export/?format=portal"))
    assert [(r["CPT Code"], r["Resident Role"], r["Case Date"]) for r in rows] == [
        # The portal's vocabulary per code: the office visit was performed, not operated (was "Surgeon").
        ("99214", "Performed", "03/04/2025"), ("20610", "Surgeon", "03/04/2025"), ("27447", "Surgeon", "03/05/2025")]
    assert rows[2]["Attending"] == "Dr. Rivera" and rows[2]["Case Category"] == "Arthroplasty"


def _backup(client) -> dict:
    data = json.loads(b"".join(client.get("/log/export/?format=json").streaming_content))
    data.pop("exported_at")
    return data


def test_backup_restore_into_a_new_account_then_backup_again_is_equal(alice_client, logged, client):
    first = _backup(alice_client)
    assert len(first["encounters"]) == 3 and first["encounters"][2]["deleted_at"]  # trash included
    newbie = make_user("newbie")
    client.force_login(newbie)
    upload = SimpleUploadedFile("backup.json", json.dumps(first).encode(), "application/json")
    r = client.post("/log/backup/restore/", {"file": upload})
    assert r.status_code == 302
    assert _backup(client) == first
    # Restoring the same file again adds nothing.
    client.post("/log/backup/restore/", {"file": SimpleUploadedFile("b.json", json.dumps(first).encode())})
    assert Encounter.objects.filter(user=newbie).count() == 3


def test_restore_is_all_or_nothing(alice, logged):
    data = backup.backup(alice, alice.profile)
    data["encounters"][1]["notes"] = "call 555-123-4567"
    other = make_user("other")
    with pytest.raises(backup.RestoreError, match=r"encounters\[1\]\.notes.*phone"):
        backup.restore(other, other.profile, data)
    assert not Encounter.objects.filter(user=other).exists()
    with pytest.raises(backup.RestoreError, match="not an RVU Edge log backup"):
        backup.restore(other, other.profile, {"encounters": []})


IMPORT_CSV = (
    "Date,Procedures,Role,Site,Notes\n"
    "2025-05-01,99214 20610-RT,Primary surgeon,Clinic A,\n"
    "05/02/2025,27447-50,surgeon,Main OR,converted to open\n"
    "2025-05-03,99999,performed,,\n"
    "2025-13-40,99213,performed,,\n"
    "2025-05-04,99213,janitor,,\n"
    "2025-05-05,99213,performed,,MRN 12345678\n"
    "2025-05-06,99213,performed,,\n"
    "2025-05-06,99213,performed,,\n"
)


def _upload(client, content: bytes, name: str = "log.csv") -> ImportBatch:
    r = client.post("/log/import/", {"file": SimpleUploadedFile(name, content)})
    assert r.status_code == 302, r.content.decode()[:2000]
    return ImportBatch.objects.latest("id")


def test_import_maps_previews_reports_and_writes_only_when_confirmed(alice_client, alice):
    batch = _upload(alice_client, IMPORT_CSV.encode())
    assert batch.mapping == {"date": "Date", "entry": "Procedures", "role": "Role", "site": "Site", "notes": "Notes"}
    mapping = {f"map_{k}": v for k, v in batch.mapping.items()}
    r = alice_client.post(f"/log/import/{batch.pk}/", {**mapping, "action": "preview"})
    report = r.context["report"]
    assert (report["rows"], report["valid"], report["error_count"], report["duplicates"]) == (8, 4, 4, 0)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(4, "Procedures"), (5, "Date"), (6, "Role"),
                                                                   (7, "Notes")]
    assert "unknown code 99999" in report["errors"][0]["message"]
    assert "patient identifier" in report["errors"][3]["message"]
    assert not Encounter.objects.filter(user=alice).exists()  # nothing written before confirmation
    errors = alice_client.get(f"/log/import/{batch.pk}/errors.csv").content.decode()
    assert "row,column,message" in errors and "unknown code 99999" in errors

    r = alice_client.post(f"/log/import/{batch.pk}/", {**mapping, "action": "confirm"})
    assert r.status_code == 302
    encs = list(Encounter.objects.filter(user=alice).order_by("date", "id"))
    assert [(str(e.date), e.entry, e.role) for e in encs] == [
        ("2025-05-01", "99214 20610-RT", "primary"), ("2025-05-02", "27447-50", "primary"),
        ("2025-05-06", "99213", "performed"), ("2025-05-06", "99213", "performed")]  # identical rows both kept
    assert encs[0].total_wrvu == Decimal("2.71") and encs[0].lines.count() == 2
    assert ImportBatch.objects.get(pk=batch.pk).data == b""

    # The same file again: every good row is recognised as a duplicate.
    again = _upload(alice_client, IMPORT_CSV.encode())
    r = alice_client.post(f"/log/import/{again.pk}/", {**mapping, "action": "confirm"})
    assert ImportBatch.objects.get(pk=again.pk).report["duplicates"] == 4
    assert Encounter.objects.filter(user=alice).count() == 4


def test_one_code_per_row_mapping(alice):
    data = b"dos,cpt,mod,qty\n2025-06-01,11045,,3\n2025-06-01,20610,RT,\n"
    mapping = {"date": "dos", "code": "cpt", "modifiers": "mod", "units": "qty"}
    report = imports.commit_import(alice, alice.profile, "csv", data, mapping)
    assert report.created == 2 and report.error_count == 0
    assert sorted(Encounter.objects.values_list("entry", flat=True)) == ["11045x3", "20610-RT"]


def test_export_then_import_recognises_the_same_encounters(alice_client, alice, logged):
    text = b"".join(alice_client.get("/log/export/?format=csv").streaming_content)
    mapping = imports.guess_mapping(list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))[0])
    assert mapping["uid"] == "uid" and mapping["entry"] == "entry"
    report = imports.validate_import(alice, alice.profile, "csv", text, mapping)
    assert report.duplicates == 2 and report.valid == 0
    other = make_user("carol")
    report = imports.commit_import(other, other.profile, "csv", text, mapping)
    assert report.created == 2
    notes = Encounter.objects.filter(user=other).order_by("date").values_list("notes", flat=True)
    assert list(notes)[0] == "=formula-looking note"  # the apostrophe added on export is taken off again


def test_xlsx_import(alice):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Date", "Codes", "Category"])
    import datetime as dt

    ws.append([dt.datetime(2025, 7, 1), "99213 20610-LT", "Clinic"])
    buf = io.BytesIO()
    wb.save(buf)
    mapping = imports.guess_mapping(["Date", "Codes", "Category"])
    report = imports.commit_import(alice, alice.profile, "xlsx", buf.getvalue(), mapping)
    assert report.created == 1
    enc = Encounter.objects.get(user=alice)
    assert str(enc.date) == "2025-07-01" and enc.category == "Clinic"


def test_unreadable_files_are_refused(alice_client):
    r = alice_client.post("/log/import/", {"file": SimpleUploadedFile("x.xlsx", b"not a workbook")})
    assert r.status_code == 200 and "Not a readable .xlsx workbook" in r.content.decode()
    batch = _upload(alice_client, b"a,b\n1,2\n")
    r = alice_client.post(f"/log/import/{batch.pk}/", {"map_date": "a", "action": "preview"})
    assert "Map at least the date of service and the codes" in r.content.decode()


# The 100,000-row import runs under .ci/run (CI=true) on both databases, or with RVUEDGE_BENCH_LOGBOOK=1;
# bench/logbook.py times it.
FULL = os.environ.get("RVUEDGE_BENCH_LOGBOOK") == "1" or os.environ.get("CI") == "true"


def _big_import(user, rows: int) -> None:
    from bench.logbook import make_import_csv

    data, bad = make_import_csv(rows, bad_every=1000)
    mapping = {"date": "Date of service", "entry": "Codes", "role": "Role", "site": "Site", "category": "Category",
               "notes": "Notes"}
    report = imports.commit_import(user, user.profile, "csv", data, mapping)
    assert report.rows == rows and report.created == rows - len(bad) and report.error_count == len(bad)
    assert {e["row"] for e in report.errors} == set(bad)
    for e in report.errors:
        assert bad[e["row"]] in e["message"], e
    assert Encounter.objects.filter(user=user).count() == rows - len(bad)


def test_a_10000_row_import_reports_every_bad_row(alice):
    _big_import(alice, 10_000)
    # Exported and imported again, every row is recognised by its encounter id (the big-file duplicate path).
    text = "".join(exports.csv_stream(Encounter.objects.filter(user=alice))).encode()
    mapping = imports.guess_mapping(next(csv.reader(io.StringIO(text.decode("utf-8-sig")))))
    report = imports.validate_import(alice, alice.profile, "csv", text, mapping)
    assert (report.valid, report.duplicates) == (0, 9_990)


@pytest.mark.slow
@pytest.mark.skipif(not FULL, reason="set RVUEDGE_BENCH_LOGBOOK=1 (bench/logbook.py times it on both databases)")
def test_a_100000_row_import_reports_every_bad_row(alice):
    _big_import(alice, 100_000)
