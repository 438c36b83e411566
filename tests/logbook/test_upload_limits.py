"""Uploads that cannot hurt the server (issue 11): every kind of unreadable or hostile file answers with a clear
message naming the row (and column) and stores nothing; good files in other encodings are read; an upload is
read once; a batch is imported once, even when confirmed twice at the same moment; old uploads are purged."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import threading
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.utils import timezone

from rvuedge.logbook import imports, tables
from rvuedge.logbook.models import EmployerReport, Encounter, ImportBatch
from tests.logbook import bombs
from tests.personas import make_user

pytestmark = pytest.mark.django_db
PG = os.environ.get("DATABASE_URL", "").startswith("postgres")
HEADER = b"Date of service,CPT,Notes\n"  # read by both the import and the employer report


def _post_import(client, name: str, content: bytes):
    return client.post("/log/import/", {"file": SimpleUploadedFile(name, content)})


def _post_report(client, name: str, content: bytes):
    return client.post("/log/reconcile/", {"file": SimpleUploadedFile(name, content)})


def _shown(resp) -> str:
    import html

    return html.unescape(resp.content.decode())


def _x(tmp_path, writer, *args) -> bytes:
    return writer(tmp_path / f"{writer.__name__}.xlsx", *args).read_bytes()


# (id, file name, file bytes or a builder taking tmp_path, what the page must say)
REFUSED = [
    ("cell-over-131072", "log.csv", HEADER + b'2025-03-04,99214,"' + b"x" * 140_000 + b'"\n',
     "Row 2: a cell is longer than 131,072 characters"),
    ("row-over-1M-chars", "log.csv", HEADER + b"," * 1_100_000 + b"\n",
     "Row 2 is longer than 1,048,576 characters"),
    ("quote-left-open", "log.csv", HEADER + b'2025-03-04,99214,"open\n' + b"more text\n" * 120_000,
     "Row 2: a cell is longer than 131,072 characters (a quote left open?)"),
    ("nul-byte", "log.csv", HEADER + b"2025-03-04,99214,ok\n2025-03-05,99213,bad\x00note\n",
     "Row 3, column C (Notes): the cell contains a NUL character"),
    ("nul-byte-in-utf16", "log.csv", codecs.BOM_UTF16_LE + "Date of service,CPT\n2025-03-04,99\x00214\n".encode("utf-16-le"),
     "Row 2, column B (CPT): the cell contains a NUL character"),
    ("utf16-without-bom", "log.csv", "Date of service,CPT\n2025-03-04,99214\n".encode("utf-16-le"),
     "looks like UTF-16 text without a byte-order mark"),
    ("not-utf8-nor-cp1252", "log.csv", HEADER + b"2025-03-04,99214,ok\n2025-03-05,99213,\x81\x8d\n",
     "Line 3 is neither UTF-8 nor Windows-1252 text (byte 0x81)"),
    ("mixed-encodings", "log.csv", HEADER + "2025-03-04,99214,café\n".encode() + b"2025-03-05,99213,caf\xe9\n",
     "Line 3 is not UTF-8 text (byte 0xE9), although other lines are"),
    ("too-many-columns", "log.csv", b",".join(b"c%d" % i for i in range(300)) + b"\n",
     "Row 1 has values in more than 256 columns"),
    ("old-xls", "log.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old-style Excel file (.xls)"),
    ("not-a-workbook", "log.xlsx", b"not a workbook", "Not a readable .xlsx workbook"),
    ("shared-string-40MB", "log.xlsx", lambda p: _x(p, bombs.shared_string_bomb, 40),
     "its part xl/sharedStrings.xml would take 40 MB once decompressed (at most 32 MB)"),
    ("ratio-over-100", "log.xlsx", lambda p: _x(p, bombs.compressible_sheet, 20),
     "its part xl/worksheets/sheet1.xml is compressed"),
    ("lying-zip-header", "log.xlsx", lambda p: _x(p, bombs.lying_header, 20),
     "Not a readable .xlsx workbook (its sheet: Bad CRC-32"),
    ("text-amplifier", "log.xlsx", lambda p: _x(p, bombs.shared_string_amplifier),
     "The table's text passes 64 MB"),
    ("row-gap", "log.xlsx", lambda p: _x(p, bombs.row_gap), "more than 500,000 rows (blank rows count too)"),
    ("column-beyond-256", "log.xlsx",
     lambda p: bombs.xlsx(p / "w.xlsx", [b'<row r="2"><c r="ZZ2" t="inlineStr"><is><t>x</t></is></c></row>']).read_bytes(),
     "Row 2 has a value in column ZZ, beyond the first 256 columns"),
    ("xlsx-cell-over-131072", "log.xlsx",
     lambda p: bombs.xlsx(p / "w.xlsx", [b'<row r="2"><c r="B2" t="inlineStr"><is><t>' + b"9" * 140_000
                                        + b"</t></is></c></row>"]).read_bytes(),
     "Row 2, column B (CPT): the cell holds more than 131,072 characters"),
    ("xlsx-dtd", "log.xlsx", lambda p: bombs.xlsx(
        p / "w.xlsx", head=b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet xmlns="'
        + bombs.NS.encode() + b'"><sheetData>').read_bytes(), "it declares a DTD or entities"),
    ("xlsx-parts", "log.xlsx", lambda p: bombs.xlsx(p / "w.xlsx", extra_parts=2_100).read_bytes(),
     "it has more than 2,000 parts"),
    ("xlsx-6MB-attribute", "log.xlsx", lambda p: bombs.xlsx(
        p / "w.xlsx", [b'<row r="2"><c r="A2" t="' + os.urandom(3 << 20).hex().encode() + b'"/></row>']).read_bytes(),
     "one XML tag or attribute is larger than 4 MB"),
]


@pytest.mark.parametrize(("name", "content", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_a_bad_import_file_is_refused_with_row_and_column_and_nothing_is_stored(alice_client, tmp_path, name,
                                                                                content, message):
    content = content(tmp_path) if callable(content) else content
    r = _post_import(alice_client, name, content)
    assert r.status_code == 200 and message in _shown(r), _shown(r)[-3000:]
    assert not ImportBatch.objects.exists()


# A report is read row by row and stops at its 50th bad row: the amplified text is refused as 50 bad codes.
REPORT_MESSAGE = {"text-amplifier": "50 rows cannot be read (showing the first 50); nothing was kept."}


@pytest.mark.parametrize(("case", "name", "content", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_bad_employer_report_is_refused_the_same_way(alice_client, tmp_path, case, name, content, message):
    content = content(tmp_path) if callable(content) else content
    r = _post_report(alice_client, name, content)
    shown = _shown(r)
    assert r.status_code == 200 and f"{name}: " in shown and REPORT_MESSAGE.get(case, message) in shown, shown[-3000:]
    assert not EmployerReport.objects.exists()
    assert len(r.content) < 200_000  # no cell is quoted whole into the page


def test_too_big_a_file_is_refused_before_it_is_read(alice_client, monkeypatch):
    monkeypatch.setattr(tables, "MAX_UPLOAD_BYTES", 2**20)
    body = HEADER + b"2025-03-04,99214,\n" * 70_000
    for post in (_post_import, _post_report):
        r = post(alice_client, "log.csv", body)
        assert r.status_code == 200 and "The file is 1.2 MB; uploads are limited to 1 MB" in _shown(r)
    assert not ImportBatch.objects.exists() and not EmployerReport.objects.exists()


def test_the_row_limit_counts_blank_rows(alice_client, monkeypatch):
    monkeypatch.setattr(tables, "MAX_ROWS", 10)
    r = _post_import(alice_client, "log.csv", HEADER + b"2025-03-04,99214,\n" * 5 + b"\n" * 5)
    assert "more than 10 rows (blank rows count too)" in _shown(r)
    r = _post_import(alice_client, "log.csv", HEADER + b"2025-03-04,99214,\n" * 9)
    assert r.status_code == 302 and ImportBatch.objects.get().headers == ["Date of service", "CPT", "Notes"]


@pytest.mark.parametrize(("encoding", "prefix"), [
    ("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
    ("utf-32-le", codecs.BOM_UTF32_LE), ("cp1252", b""),
])
def test_encodings_are_detected_and_kept_as_utf8(alice, alice_client, encoding, prefix):
    text = "Date of service,CPT,Notes\r\n2025-03-04,99214,café – “Zoë”\r\n"
    r = _post_import(alice_client, "log.csv", prefix + text.encode(encoding))
    assert r.status_code == 302, _shown(r)[-2000:]
    batch = ImportBatch.objects.get()
    assert batch.kind == "csv" and bytes(batch.data).decode("utf-8").splitlines()[1] == "2025-03-04,99214,café – “Zoë”"
    if encoding == "utf-8":  # already UTF-8: kept byte for byte once every row has passed
        assert bytes(batch.data) == prefix + text.encode()
    r = alice_client.post(f"/log/import/{batch.pk}/", {"map_date": "Date of service", "map_entry": "CPT",
                                                       "map_notes": "Notes", "action": "confirm"})
    assert r.status_code == 302
    assert Encounter.objects.get(user=alice).notes == "café – “Zoë”"


def test_a_workbook_is_read_once_at_upload(alice, alice_client, tmp_path, monkeypatch):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Date of service", "Codes", "Units"])
    ws.append([dt.datetime(2025, 7, 1), "99213 20610-LT", None])
    ws.append([])  # a blank row keeps its number
    ws.append([dt.date(2025, 7, 2), 99214, None])
    buf = io.BytesIO()
    wb.save(buf)
    r = _post_import(alice_client, "log.xlsx", buf.getvalue())
    assert r.status_code == 302
    batch = ImportBatch.objects.get()
    assert batch.kind == "csv" and batch.filename == "log.xlsx"
    assert list(csv.reader(io.StringIO(bytes(batch.data).decode()))) == [
        ["Date of service", "Codes", "Units"], ["2025-07-01", "99213 20610-LT"], [], ["2025-07-02", "99214"]]

    def no_workbook(*_args, **_kwargs):
        raise AssertionError("the workbook was opened again")

    monkeypatch.setattr(tables, "_open_workbook", no_workbook)
    mapping = {"map_date": "Date of service", "map_entry": "Codes"}
    r = alice_client.post(f"/log/import/{batch.pk}/", {**mapping, "action": "preview"})
    assert (r.context["report"]["rows"], r.context["report"]["valid"]) == (2, 2)
    r = alice_client.post(f"/log/import/{batch.pk}/", {**mapping, "action": "confirm"})
    assert r.status_code == 302 and Encounter.objects.filter(user=alice).count() == 2


def test_an_old_batch_with_a_nul_byte_fails_at_preview_naming_row_and_column(alice, alice_client):
    # Stored before uploads were read at upload time: the preview refuses it (it never reaches the confirm).
    batch = ImportBatch.objects.create(user=alice, filename="old.csv", kind="csv",
                                       data=HEADER + b"2025-03-04,99214,fine\n2025-03-05,99213,bad\x00\n",
                                       headers=["Date of service", "CPT", "Notes"])
    mapping = {"map_date": "Date of service", "map_entry": "CPT", "map_notes": "Notes"}
    r = alice_client.post(f"/log/import/{batch.pk}/", {**mapping, "action": "preview"})
    assert "Row 3, column C (Notes): the cell contains a NUL character" in _shown(r)
    assert "Import 1 encounter" not in _shown(r)  # no confirm button
    r = alice_client.post(f"/log/import/{batch.pk}/", {**mapping, "action": "confirm"})
    assert "Row 3, column C (Notes): the cell contains a NUL character" in _shown(r)
    assert not Encounter.objects.filter(user=alice).exists()


def test_errors_csv_escapes_header_names_and_messages(alice_client):
    evil = "=cmd|' /C calc'!A0"
    body = f'"{evil}",Codes\n2025-13-45,99214\n2025-03-04,=99999\n'.encode()
    r = _post_import(alice_client, "log.csv", body)
    batch = ImportBatch.objects.get()
    alice_client.post(f"/log/import/{batch.pk}/", {"map_date": evil, "map_entry": "Codes", "action": "preview"})
    rows = list(csv.reader(io.StringIO(alice_client.get(f"/log/import/{batch.pk}/errors.csv").content.decode())))
    assert rows[0] == ["row", "column", "message"]
    assert rows[1][:2] == ["2", "'" + evil]
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row
    assert r.status_code == 302


CONFIRM = {"map_date": "Date of service", "map_entry": "CPT", "action": "confirm"}


def test_confirming_twice_imports_once(alice, alice_client):
    _post_import(alice_client, "log.csv", HEADER + b"2025-03-04,99214,\n2025-03-05,99213,\n")
    batch = ImportBatch.objects.get()
    r = alice_client.post(f"/log/import/{batch.pk}/", CONFIRM)
    assert r.status_code == 302 and Encounter.objects.filter(user=alice).count() == 2
    r = alice_client.post(f"/log/import/{batch.pk}/", CONFIRM)  # the back button, a double click
    assert r.status_code == 200 and "Done: 2 encounters imported" in _shown(r)
    assert Encounter.objects.filter(user=alice).count() == 2


def test_a_confirm_that_read_the_batch_before_another_finished_imports_nothing(alice, alice_client, monkeypatch):
    from rvuedge.logbook import queries

    _post_import(alice_client, "log.csv", HEADER + b"2025-03-04,99214,\n2025-03-05,99213,\n")
    batch = ImportBatch.objects.get()
    stale = ImportBatch.objects.get(pk=batch.pk)  # read while the batch was still open
    alice_client.post(f"/log/import/{batch.pk}/", CONFIRM)
    monkeypatch.setattr(queries, "get_import_for_user", lambda user, pk: stale)
    r = alice_client.post(f"/log/import/{batch.pk}/", CONFIRM, follow=True)
    assert "log.csv was already imported; nothing was imported again" in _shown(r)
    assert Encounter.objects.filter(user=alice).count() == 2
    # A preview that had read the batch before the confirm saves nothing over it either.
    alice_client.post(f"/log/import/{batch.pk}/", {**CONFIRM, "action": "preview"})
    fresh = ImportBatch.objects.get(pk=batch.pk)
    assert fresh.status == "done" and fresh.report["created"] == 2 and bytes(fresh.data) == b""


def test_the_bulk_writer_reports_a_racing_duplicate_as_an_integrity_error(alice, alice_client):
    # The raw COPY (PostgreSQL) or executemany: a duplicate key is Django's IntegrityError, which the confirm
    # turns into a message; nothing is written.
    from django.db import IntegrityError, transaction

    data = HEADER + b"2025-03-04,99214,\n"
    mapping = {"date": "Date of service", "entry": "CPT"}
    imports.commit_import(alice, alice.profile, "csv", data, mapping)
    real = imports._existing
    imports._existing = lambda user, keys, uids: (set(), set())  # as if the other request had not committed yet
    try:
        with pytest.raises(IntegrityError), transaction.atomic():
            imports.commit_import(alice, alice.profile, "csv", data, mapping)
        _post_import(alice_client, "log.csv", data)
        batch = ImportBatch.objects.get()
        r = alice_client.post(f"/log/import/{batch.pk}/", CONFIRM)
    finally:
        imports._existing = real
    assert "Some of these rows were logged meanwhile and nothing was imported" in _shown(r)
    assert Encounter.objects.filter(user=alice).count() == 1
    assert ImportBatch.objects.get(pk=batch.pk).status != "done"


def test_a_big_import_is_written_in_chunks_in_one_transaction(alice, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 7)
    rows = b"".join(b"2025-03-%02d,99214,note %d\n" % (1 + i % 28, i) for i in range(50))
    bad = HEADER + rows + b"2025-03-04,99214,\x00\n"
    mapping = {"date": "Date of service", "entry": "CPT", "notes": "Notes"}
    with pytest.raises(imports.ImportFileError, match="Row 52, column C"):
        imports.commit_import(alice, alice.profile, "csv", bad, mapping)
    assert not Encounter.objects.filter(user=alice).exists()  # the chunks written before the bad row are undone
    report = imports.commit_import(alice, alice.profile, "csv", HEADER + rows + rows, mapping)
    assert (report.rows, report.created, report.duplicates) == (100, 100, 0)  # identical rows are all kept
    report = imports.commit_import(alice, alice.profile, "csv", HEADER + rows + rows, mapping)
    assert (report.created, report.duplicates) == (0, 100)


def test_an_encounter_id_twice_in_one_file_is_imported_once(alice):
    uid = uuid.uuid4()
    data = f"Date of service,Codes,uid\n2025-03-04,99214,{uid}\n2025-03-04,99214,{uid}\n".encode()
    mapping = {"date": "Date of service", "entry": "Codes", "uid": "uid"}
    assert (imports.validate_import(alice, alice.profile, "csv", data, mapping).valid,
            imports.commit_import(alice, alice.profile, "csv", data, mapping).created) == (1, 1)


def test_purge_command_drops_old_uploads_and_the_trash(alice, bob):
    now = timezone.now()
    old = ImportBatch.objects.create(user=alice, filename="a.csv", kind="csv", data=b"x" * 100,
                                     created_at=now - dt.timedelta(hours=25))
    recent = ImportBatch.objects.create(user=bob, filename="b.csv", kind="csv", data=b"y" * 100,
                                        created_at=now - dt.timedelta(hours=2))
    out = io.StringIO()
    call_command("logbook", "purge", stdout=out)
    assert "1 uploaded import files older than 24 hours" in out.getvalue()
    assert list(ImportBatch.objects.values_list("pk", flat=True)) == [recent.pk]
    call_command("logbook", "purge", "--upload-hours", "1", stdout=out)
    assert not ImportBatch.objects.exists()
    assert old.pk != recent.pk
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="at least 1"):
        call_command("logbook", "purge", "--upload-hours", "0")


# --------------------------------------------------------------------------- two confirms at the same moment

@pytest.mark.skipif(not PG, reason="PostgreSQL only: SQLite serialises writers (its sequential case is above)")
@pytest.mark.django_db(transaction=False)
def test_two_confirms_at_once_import_once(django_db_blocker):
    """Two POSTs confirming the same batch at the same moment, each in its own thread and connection: one
    imports, the other is told it was already imported; nothing is doubled."""
    from tests.logbook.test_concurrency import _in_thread

    rows = b"".join(b"2025-03-%02d,99214,n%d\n" % (1 + i % 28, i) for i in range(3000))
    with django_db_blocker.unblock():
        user = _in_thread(make_user, f"dbl-{uuid.uuid4().hex[:8]}")
        try:
            batch = _in_thread(lambda: ImportBatch.objects.create(
                user=user, filename="log.csv", kind="csv", data=HEADER + rows,
                headers=["Date of service", "CPT", "Notes"]))
            barrier = threading.Barrier(2)
            answers: list[str] = []

            def confirm() -> None:
                c = Client()
                c.force_login(user)
                try:
                    barrier.wait()
                    r = c.post(f"/log/import/{batch.pk}/", CONFIRM, follow=True)
                    answers.append(_shown(r))
                finally:
                    connections.close_all()

            threads = [threading.Thread(target=confirm) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sum("Imported 3000 encounters" in a for a in answers) == 1, [a[-800:] for a in answers]
            # The other was told so: it either waited on the first one's claim ("already imported") or, if it
            # read the batch only after the first committed, was shown the finished import.
            assert sum("was already imported; nothing was imported again" in a or "Done: 3000 encounters imported" in a
                       for a in answers) == 2
            assert _in_thread(lambda: Encounter.objects.filter(user=user).count()) == 3000
        finally:
            _in_thread(user.delete)


def test_huge_cells_are_row_errors_quoted_short(alice):
    """Cells under the cell limit but far over what a field holds are refused per row, before any parsing, and
    the message quotes only their start (an error report never carries a whole 100,000-character cell)."""
    big = "9" * 120_000
    data = (f"Date of service,CPT,Role,Notes\n2025-03-04,{big},,\n{big},99214,,\n2025-03-04,99214,{big},\n"
            f"2025-03-04,99214,,{big}\n2025-03-04,99214,,{'9' * 900}\n").encode()
    mapping = {"date": "Date of service", "entry": "CPT", "role": "Role", "notes": "Notes"}
    report = imports.validate_import(alice, alice.profile, "csv", data, mapping)
    assert report.error_count == 5 and report.valid == 0
    messages = [e["message"] for e in report.errors]
    assert "the codes hold 120,000 characters; one encounter's codes are limited to 500" in messages[0]
    assert "(120,000 characters) is not a date" in messages[1]
    assert "unknown role '99999" in messages[2] and "(120,000 characters)" in messages[2]
    assert "Notes is limited to 1000 characters" in messages[3]
    assert "long number" in messages[4]  # the patient-identifier check reads 900 digits in one pass
    assert all(len(m) < 1_200 for m in messages), [len(m) for m in messages]  # at most a 1,000-character field


def test_the_admin_never_reads_uploaded_files(alice, client):
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    batch = ImportBatch.objects.create(user=alice, filename="a.csv", kind="csv", data=b"x" * 1000)
    client.force_login(User.objects.create_superuser("root", "root@example.org", "x"))
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/admin/logbook/importbatch/").status_code == 200
        assert client.get(f"/admin/logbook/importbatch/{batch.pk}/change/").status_code == 200
    column = f"{connection.ops.quote_name('logbook_importbatch')}.{connection.ops.quote_name('data')}"
    assert not [q["sql"] for q in ctx.captured_queries if column in q["sql"]]
