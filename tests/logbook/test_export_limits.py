"""Exports of any log the app accepts (issue 11): streamed a page at a time and complete, never a truncated file
that looks whole; free text that a spreadsheet would run or cannot hold made safe in every CSV and XLSX cell.

bench/exports.py measures a 300,000-encounter log on both databases (docs/benchmarks.md); these tests check the
same code paths on logs small enough for the unit suite.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from rvuedge.logbook import backup, exports, imports
from rvuedge.logbook.actions import do_trash_encounters
from rvuedge.logbook.models import Encounter, EncounterLine
from rvuedge.logbook.tables import _formula_like, _uncell, safe_cell
from rvuedge.text import cell_text
from tests.personas import log, make_user

pytestmark = pytest.mark.django_db

FORMATS = ["csv", "lines", "portal", "xlsx", "json", "pdf"]


def _body(resp) -> bytes:
    return b"".join(resp.streaming_content) if resp.streaming else resp.content


def _csv_rows(resp) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_body(resp).decode("utf-8-sig"))))


def _xlsx_rows(resp) -> dict[str, list[tuple]]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(_body(resp)), read_only=True)
    out = {}
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        width = max((len(r) for r in rows), default=0)  # empty trailing cells are not written: pad them back
        out[ws.title] = [tuple(r) + (None,) * (width - len(r)) for r in rows]
    return out


# --------------------------------------------------------------------------- formula escaping

@pytest.mark.parametrize(("text", "escaped"), [
    ("-2+3+cmd|'/C calc'!A0", True),  # the "-digit" loophole of the old rule
    ("=HYPERLINK(\"http://x\")", True), ("+1+1", True), ("@SUM(A1)", True), ("-A1", True),
    ("\t=1+1", True), ("\r=1+1", True), ("\tplain", True), (" =1+1", True), ("\u00a0\u2003@x", True),
    ("\n-cmd", True), ("'=already", True), ("''+x", True),
    ("-2.50", False), ("29.40", False), ("7", False), ("-7", False), ("2025-03-04", False), ("99214 20610-RT", False),
    ("difficult airway", False), ("", False), ("'quoted'", False), ("a=b", False), ("-", True), ("- 5", True),
])
def test_every_formula_start_is_escaped_but_plain_numbers(text, escaped):
    out = safe_cell(text)
    assert out == ("'" + text if escaped else text)
    assert _uncell(out) == text


@given(st.text())
def test_escaping_gives_every_text_back_and_never_leaves_a_formula(text):
    out = safe_cell(text)
    assert _uncell(out) == text
    assert out == text or out == "'" + text
    # What is left unescaped never starts like a formula (apostrophes and whitespace looked through).
    if out == text:
        assert not _formula_like(text)
    # The export's fast path makes exactly the same cells.
    assert exports._text(text) == safe_cell(cell_text(text))


@given(st.from_regex(r"\A-?[0-9]{1,12}(\.[0-9]{1,6})?\Z"))
def test_plain_numbers_are_never_escaped(number):
    assert safe_cell(number) == number


def test_formula_text_round_trips_through_csv_export_and_import(alice_client, alice):
    texts = ["-2+3+cmd|' /C calc'!A0", "=1+1", "@SUM(1)", "'=x", "-2.50"]  # (stored text is trimmed)
    for i, text in enumerate(texts):
        log(alice, "99213", date=f"2025-04-0{i + 1}", notes=text, site=text[:80])
    resp = alice_client.get("/log/export/?format=csv")
    rows = _csv_rows(resp)
    assert [r["notes"] for r in rows] == ["'-2+3+cmd|' /C calc'!A0", "'=1+1", "'@SUM(1)", "''=x", "-2.50"]
    body = _body(alice_client.get("/log/export/?format=csv"))
    mapping = imports.guess_mapping(next(csv.reader(io.StringIO(body.decode("utf-8-sig")))))
    carol = make_user("carol")
    report = imports.commit_import(carol, carol.profile, "csv", body, mapping)
    assert report.created == len(texts) and report.error_count == 0
    back = Encounter.objects.filter(user=carol).order_by("date")
    assert [e.notes for e in back] == texts and [e.site for e in back] == texts


def test_xlsx_cells_are_escaped_too(alice_client, alice):
    log(alice, "99213", date="2025-04-01", notes="-2+3+cmd|' /C calc'!A0", attending="=HYPERLINK(\"x\")")
    sheets = _xlsx_rows(alice_client.get("/log/export/?format=xlsx"))
    head, row = sheets["Encounters"][0], sheets["Encounters"][1]
    cell = dict(zip(head, row, strict=True))
    assert cell["notes"] == "'-2+3+cmd|' /C calc'!A0" and cell["attending"] == "'=HYPERLINK(\"x\")"
    assert cell["total_wrvu"] == "1.30"


# --------------------------------------------------------------------------- the XLSX sheets

def _openpyxl_sheet_data(rows: list[list]) -> str:
    """The <sheetData> openpyxl's write-only mode writes for ``rows`` ("" cells given as None, as the export
    leaves them out)."""
    import zipfile

    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("S")
    for row in rows:
        ws.append([None if v == "" else v for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    xml = zipfile.ZipFile(buf).read("xl/worksheets/sheet1.xml").decode()
    return xml[xml.index("<sheetData>") + len("<sheetData>"):xml.index("</sheetData>")]


_cell_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\ufffe\uffff"), max_size=12)
_cells = st.one_of(st.none(), st.integers(0, 10**6), _cell_text.map(exports._text).filter(
    lambda v: not v.startswith("=") and v not in ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")))


@given(st.lists(st.lists(_cells, max_size=21), max_size=4))
def test_the_sheet_rows_are_the_xml_openpyxl_writes(rows):
    assert exports.sheet_rows_xml(rows, 1) == _openpyxl_sheet_data(rows)


def test_sheet_cells_hold_at_most_what_excel_holds():
    xml = exports.sheet_rows_xml([["q" * 40_000, " a ", "  ", "a&b<c>"]], 7)
    assert xml.count("q") == 32767 and '<t xml:space="preserve"> a </t>' in xml and "a&amp;b&lt;c&gt;" in xml
    assert 'r="A7"' in xml and 'r="C7"' in xml


# --------------------------------------------------------------------------- control characters (legacy data)

def test_control_characters_stored_before_the_fix_never_break_an_export(alice_client, alice):
    enc = log(alice, "99214 20610-RT", date="2025-03-04", notes="fine")
    # Saved directly (bypassing every check), as data stored by an older version or an admin would be.
    Encounter.objects.filter(pk=enc.pk).update(notes="bell\x07 and \x1b[31mescape", site="Main\x0bOR",
                                               attending="Dr.\x1f Rivera", category="Hernia\x01")
    EncounterLine.objects.filter(encounter=enc, position=0).update(description="visit\x08", explanation={})
    for fmt in FORMATS:
        resp = alice_client.get(f"/log/export/?format={fmt}&start=2025-01-01&end=2025-12-31")
        assert resp.status_code == 200, fmt
        assert _body(resp), fmt
    rows = _csv_rows(alice_client.get("/log/export/?format=csv"))
    assert rows[0]["notes"] == "bell and [31mescape" and rows[0]["site"] == "MainOR"
    assert rows[0]["attending"] == "Dr. Rivera" and rows[0]["category"] == "Hernia"
    lines = _csv_rows(alice_client.get("/log/export/?format=lines"))
    assert lines[0]["description"] == "visit" and lines[0]["wrvu_explanation"] == ""
    sheets = _xlsx_rows(alice_client.get("/log/export/?format=xlsx"))
    row = dict(zip(sheets["Encounters"][0], sheets["Encounters"][1], strict=True))
    assert row["notes"] == "bell and [31mescape" and row["category"] == "Hernia"
    data = json.loads(_body(alice_client.get("/log/export/?format=json")))
    assert data["encounters"][0]["notes"] == "bell\x07 and \x1b[31mescape"  # the backup keeps the data as stored
    # ... and restoring that backup cleans it.
    newbie = make_user("newbie")
    backup.restore(newbie, newbie.profile, data)
    assert Encounter.objects.get(user=newbie).notes == "bell and [31mescape"


def test_explanations_of_any_shape_export(alice_client, alice):
    enc = log(alice, "99214 20610-RT", date="2025-03-04")
    EncounterLine.objects.filter(encounter=enc, position=0).update(explanation="x")
    EncounterLine.objects.filter(encounter=enc, position=1).update(
        explanation={"wrvu_steps": ["plain", {"no_text": 1}, 5], "payment_steps": {"a": 1}})
    Encounter.objects.filter(pk=enc.pk).update(source=float("nan"), policy={"a": float("inf")})
    with connection.cursor() as cur:  # text that is not JSON at all, written past the field
        cur.execute(f"UPDATE {Encounter._meta.db_table} SET flags = %s WHERE id = %s", ["not json", enc.pk])
    for fmt in FORMATS:
        assert _body(alice_client.get(f"/log/export/?format={fmt}")), fmt
    lines = _csv_rows(alice_client.get("/log/export/?format=lines"))
    assert lines[0]["wrvu_explanation"] == "" and lines[1]["wrvu_explanation"] == "plain >  > 5"
    data = json.loads(_body(alice_client.get("/log/export/?format=json")))  # strict JSON: NaN written as null
    enc_data = data["encounters"][0]
    assert enc_data["source"] is None and enc_data["policy"] == {"a": None} and enc_data["flags"] is None


# --------------------------------------------------------------------------- pages: complete and in order

@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(exports, "PAGE", 2)


def test_every_encounter_is_exported_once_across_page_boundaries(alice_client, alice, small_pages):
    # Seven encounters on one day and a few around it: page boundaries fall inside the day.
    made = [log(alice, "99213", date="2025-05-02", notes=f"n{i}") for i in range(7)]
    made += [log(alice, "99214", date="2025-05-01"), log(alice, "20610-RT", date="2025-05-03")]
    gone = [log(alice, "99212", date=f"2025-05-0{d}", notes=f"t{d}") for d in (1, 2, 2, 3, 4)]
    do_trash_encounters(alice, [e.pk for e in gone])
    chunks = list(exports.csv_stream(Encounter.objects.filter(user=alice, deleted_at__isnull=True)))
    assert len(chunks) == 1 + 5  # the header, then one chunk per page of two
    rows = _csv_rows(alice_client.get("/log/export/?format=csv"))
    expected = sorted(made, key=lambda e: (e.date, e.pk))
    assert [r["uid"] for r in rows] == [str(e.uid) for e in expected]
    data = json.loads(_body(alice_client.get("/log/export/?format=json")))
    uids = [e["uid"] for e in data["encounters"]]
    assert uids[:9] == [str(e.uid) for e in expected] and sorted(uids[9:]) == sorted(str(e.uid) for e in gone)
    assert len(set(uids)) == 14
    sheets = _xlsx_rows(alice_client.get("/log/export/?format=xlsx"))
    assert len(sheets["Encounters"]) == 1 + 9 and len(sheets["Lines"]) == 1 + 9


def test_backup_restore_backup_keeps_order_across_pages(alice_client, alice, client, small_pages):
    for i in range(5):
        log(alice, "99213 20610-RT", date="2025-06-01", notes=f"n{i}")
    trashed = [log(alice, "99214", date=f"2025-06-0{d}") for d in (3, 2, 1)]
    do_trash_encounters(alice, [trashed[1].pk])
    do_trash_encounters(alice, [trashed[0].pk, trashed[2].pk])
    first = json.loads(_body(alice_client.get("/log/export/?format=json")))
    first.pop("exported_at")
    newbie = make_user("newbie")
    client.force_login(newbie)
    upload = SimpleUploadedFile("backup.json", json.dumps(first).encode(), "application/json")
    assert client.post("/log/backup/restore/", {"file": upload}).status_code == 302
    again = json.loads(_body(client.get("/log/export/?format=json")))
    again.pop("exported_at")
    assert again == first


# --------------------------------------------------------------------------- an error part-way is never hidden

class Boom(RuntimeError):
    pass


def _fail_after(monkeypatch, name: str, calls: int) -> None:
    real = getattr(exports, name)
    seen = {"n": 0}

    def failing(*args, **kwargs):
        seen["n"] += 1
        if seen["n"] > calls:
            raise Boom("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(exports, name, failing)


@pytest.mark.parametrize("fmt", ["csv", "lines", "portal"])
def test_an_error_mid_csv_stream_reaches_the_server_and_the_log(alice_client, alice, small_pages, monkeypatch, caplog,
                                                                fmt):
    for i in range(6):
        log(alice, "99213 20610-RT", date=f"2025-07-0{i + 1}", site="Main OR")
    _fail_after(monkeypatch, "_text", 40)  # part-way through the second or third page
    resp = alice_client.get(f"/log/export/?format={fmt}")
    assert resp.status_code == 200  # the headers went out before the error...
    received = []
    with caplog.at_level(logging.ERROR, logger="rvuedge.logbook.exports"), pytest.raises(Boom):
        for chunk in resp.streaming_content:  # ...and the error comes out of the body, for the server to cut it
            received.append(chunk)
    assert received and len(_csv_rows_of(b"".join(received))) < (6 if fmt == "csv" else 12)
    assert "stopped part-way" in caplog.text


def _csv_rows_of(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_a_json_backup_cut_short_never_parses(alice_client, alice, small_pages, monkeypatch):
    from rvuedge.logbook import backup as backup_module

    for i in range(6):
        log(alice, "99213", date=f"2025-07-0{i + 1}")
    real = backup_module.encounter_json
    seen = {"n": 0}

    def failing(*args):
        seen["n"] += 1
        if seen["n"] > 3:
            raise Boom("disk on fire")
        return real(*args)

    monkeypatch.setattr(backup_module, "encounter_json", failing)
    resp = alice_client.get("/log/export/?format=json")
    received = []
    with pytest.raises(Boom):
        for chunk in resp.streaming_content:
            received.append(chunk)
    text = b"".join(received).decode()
    assert '"encounters": [' in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_an_xlsx_error_sends_no_half_workbook_and_leaves_no_file(alice_client, alice, monkeypatch, tmp_path):
    import tempfile

    for i in range(3):
        log(alice, "99213", date=f"2025-07-0{i + 1}")
    _fail_after(monkeypatch, "_text", 12)  # after the first rows of both sheets went to their temporary files
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(Boom):  # raised by the view itself: an error page (500), no partial file
        alice_client.get("/log/export/?format=xlsx")
    assert list(tmp_path.iterdir()) == []


def test_the_api_streams_every_format(alice):
    from rvuedge.accounts.services import do_create_token

    log(alice, "99213 20610-RT", date="2025-07-01", notes="=1+1")
    _t, token = do_create_token(alice, "t")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    rows = _csv_rows(api.get("/api/log/export?format=csv"))
    assert len(rows) == 1 and rows[0]["notes"] == "'=1+1"
    assert len(_csv_rows(api.get("/api/log/export?format=lines"))) == 2
    assert len(_csv_rows(api.get("/api/log/export?format=portal"))) == 2
    assert len(_xlsx_rows(api.get("/api/log/export?format=xlsx"))["Lines"]) == 3
    data = json.loads(_body(api.get("/api/log/export?format=json")))
    assert data["format"] == "rvuedge-log-backup" and len(data["encounters"]) == 1


# --------------------------------------------------------------------------- bigger logs

def _bulk_log(user, rows: int) -> int:
    from bench.exports import seed

    return seed(user, rows, batch=5000)


def _check_complete(client, user, *, xlsx: bool = True) -> None:
    live = Encounter.objects.filter(user=user, deleted_at__isnull=True)
    n_live, n_all = live.count(), Encounter.objects.filter(user=user).count()
    n_lines = EncounterLine.objects.filter(encounter__in=live).count()
    assert len(_csv_rows(client.get("/log/export/?format=csv"))) == n_live
    assert len(_csv_rows(client.get("/log/export/?format=lines"))) == n_lines
    assert len(_csv_rows(client.get("/log/export/?format=portal"))) == n_lines
    data = json.loads(_body(client.get("/log/export/?format=json")))
    assert len(data["encounters"]) == n_all and len({e["uid"] for e in data["encounters"]}) == n_all
    if xlsx:
        sheets = _xlsx_rows(client.get("/log/export/?format=xlsx"))
        assert (len(sheets["Encounters"]), len(sheets["Lines"])) == (n_live + 1, n_lines + 1)
    assert client.get("/log/export/?format=pdf&start=2020-01-01&end=2030-12-31").status_code == 200


def test_a_log_of_several_pages_exports_whole_in_every_format(alice_client, alice):
    _bulk_log(alice, 2 * exports.PAGE + 123)
    _check_complete(alice_client, alice)


FULL = os.environ.get("RVUEDGE_BENCH_LOGBOOK") == "1" or os.environ.get("CI") == "true"


@pytest.mark.slow
@pytest.mark.skipif(not FULL, reason="set RVUEDGE_BENCH_LOGBOOK=1 (bench/exports.py measures 300,000 encounters)")
def test_a_60000_encounter_log_exports_whole_in_every_format(alice_client, alice):
    _bulk_log(alice, 60_000)
    _check_complete(alice_client, alice)


# --------------------------------------------------------------------------- the PDF stays a summary

def test_the_pdf_summary_adds_up_the_categories_past_the_first_ones(alice):
    rows = [{"label": f"c{i}", "encounters": 1, "wrvu": exports.Decimal("1.50"), "percent": 1} for i in range(40)]
    top = exports._top_rows(rows, 25)
    assert len(top) == 25 and top[:24] == rows[:24]
    assert top[24]["label"] == "(16 more categories)" and top[24]["encounters"] == 16
    assert top[24]["wrvu"] == exports.Decimal("24.00")
    assert exports._top_rows(rows[:25], 25) == rows[:25]
