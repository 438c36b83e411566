"""Getting data out of the log: the serialised encounter (shared with the JSON backup and the API), CSV/XLSX
and case-log portal exports (every field, the credit and its explanation), and the PDF summaries.

Exports work for a log of any size the app accepts: they read it a page of encounters at a time
(:func:`pages`), so memory stays flat; the CSV files are streamed page by page, the workbook is built in a
temporary file before it is sent. Every text cell of a CSV or XLSX file goes through :func:`_text`: characters
a workbook cannot hold are dropped and a cell a spreadsheet would run as a formula is escaped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import re
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from rvuedge.fees.models import Release
from rvuedge.fees.services import effective_date
from rvuedge.text import cell_text

from . import queries
from .credit import line_text
from .models import ROLE_LABELS, Encounter
from .models import EncounterLine as LineModel
from .reconcile import PROBLEMS, STATUSES
from .roles import portal_label
from .tables import safe_cell

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- serialisation

def _s(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


ENCOUNTER_FIELDS = ["uid", "date", "entry", "setting", "pos", "site", "role", "attending", "category", "notes",
                    "total_wrvu", "total_wrvu_exact", "total_payment", "release", "policy_name", "policy", "locality",
                    "source", "flags", "idempotency_key", "created_at", "updated_at", "deleted_at"]
LINE_FIELDS = ["position", "code", "modifiers", "units", "minutes", "description", "wrvu", "wrvu_exact", "payment",
               "explanation"]


def line_to_dict(line: LineModel) -> dict[str, Any]:
    return {f: _s(getattr(line, f)) for f in LINE_FIELDS}


def encounter_to_dict(enc: Encounter, lines: Iterable[LineModel] | None = None, *, with_id: bool = False) -> dict[str, Any]:
    out = {f: _s(getattr(enc, f)) for f in ENCOUNTER_FIELDS}
    if with_id:
        out = {"id": enc.pk, **out, "role_label": enc.role_label}
    out["lines"] = [line_to_dict(ln) for ln in (lines if lines is not None else enc.lines.all())]
    return out


# --------------------------------------------------------------------------- rows for exports and backups
#
# Exports read plain values (no model instances) a page at a time: a page of encounters by keyset (the next
# page starts after the last (date, id) seen, an index range scan), then their lines. JSON columns come as their
# stored text: the backup copies it as it is, and the CSV/XLSX explanation columns are read from it once per
# distinct text (lines credited alike share one). Memory stays at one page whatever the size of the log.

PAGE = 1800  # encounters per page; their lines are read 900 ids at a time (SQLite's parameter limit)
LIVE_ORDER = ("date", "id")
TRASH_ORDER = ("deleted_at", "id")  # the trash index (user, deleted_at) serves this order
ENC_VALUES = ("id", "uid", "date", "entry", "setting", "pos", "site", "role", "attending", "category", "notes",
              "total_wrvu", "total_wrvu_exact", "total_payment", "release", "policy_name", "locality",
              "idempotency_key", "created_at", "updated_at", "deleted_at")
ENC_JSON = ("policy", "source", "flags")
LINE_VALUES = ("encounter_id", "position", "code", "modifiers", "units", "minutes", "description", "wrvu",
               "wrvu_exact", "payment")


def _json_text(*names: str) -> dict[str, Cast]:
    """Annotations reading JSON columns as their stored text (``<name>_json``), without parsing it."""
    return {f"{n}_json": Cast(n, TextField()) for n in names}


def pages(qs, *, order: tuple[str, str] = LIVE_ORDER, json_fields: tuple[str, ...] = (),
          page: int | None = None) -> Iterator[list[tuple[dict[str, Any], list[dict[str, Any]]]]]:
    """The encounters of ``qs`` with their lines, as value dicts, a page (default :data:`PAGE`) at a time in
    ``order``. Each page is read afresh (keyset pagination: no cursor or transaction held open across a slow
    download); ``order`` must end in a unique column.
    """
    page = page or PAGE
    a, b = order
    qs = qs.order_by(a, b).values(*ENC_VALUES, **_json_text(*json_fields))
    rows = list(qs[:page])
    while rows:
        ids = [r["id"] for r in rows]
        lines: dict[int, list[dict[str, Any]]] = {}
        for i in range(0, len(ids), 900):
            for ln in (LineModel.objects.filter(encounter_id__in=ids[i:i + 900]).order_by("encounter_id", "position")
                       .values(*LINE_VALUES, **_json_text("explanation"))):
                lines.setdefault(ln["encounter_id"], []).append(ln)
        yield [(r, lines.get(r["id"], [])) for r in rows]
        if len(rows) < page:
            return
        last = rows[-1]
        # a >= last keeps the query an index range scan; the OR only trims the boundary value.
        rows = list(qs.filter(**{f"{a}__gte": last[a]})
                    .filter(Q(**{f"{a}__gt": last[a]}) | Q(**{a: last[a], f"{b}__gt": last[b]}))[:page])


def parse_stored_json(text: str | None, default: Any) -> Any:
    """A JSON column's stored text, parsed; ``default`` when it is missing or unreadable (never raises)."""
    if text is None:
        return default
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return default


def _steps_text(explanation: Any, key: str) -> str:
    """The steps of one kind (wrvu_steps / payment_steps) of a line's explanation, joined; "" when absent or
    not in the expected shape (data stored by an older version or an admin must not break an export)."""
    steps = explanation.get(key) if isinstance(explanation, dict) else None
    if not isinstance(steps, list):
        return ""
    return " > ".join(str(s.get("text", "")) if isinstance(s, dict) else str(s) for s in steps)


class _Explanations:
    """The (wRVU steps, payment steps) texts of a line's stored explanation, memoised on the stored text."""

    LIMIT = 4096

    def __init__(self) -> None:
        self._seen: dict[str | None, tuple[str, str]] = {}
        self._starts: dict[str, Any] | None = None

    def release_note(self, release: str, date: Any) -> str:
        """Why ``release`` credited an encounter of ``date`` though it was not in force then ('' when it was)."""
        if self._starts is None:
            self._starts = {r.name: effective_date(r) for r in Release.objects.all()}
        begins = self._starts.get(release)
        if begins is None or begins <= date and begins.year == date.year:
            return ""
        if begins.year != date.year:
            return f"No {date.year} CMS release was loaded; credited with {release} ({begins.year} values)"
        return f"{release} was not yet in force on this date (the {date.year} release in force was not loaded)"

    def __call__(self, text: str | None) -> tuple[str, str]:
        hit = self._seen.get(text)
        if hit is None:
            if len(self._seen) >= self.LIMIT:
                self._seen.clear()
            data = parse_stored_json(text, {})
            hit = self._seen[text] = (_steps_text(data, "wrvu_steps"), _steps_text(data, "payment_steps"))
        return hit


@lru_cache(maxsize=4096)
def _line_label(code: str, modifiers: str, units: int, minutes: int | None) -> str:
    return line_text(code, [m for m in modifiers.split("-") if m], units, minutes)


# Text that may need either: a character a cell cannot hold, or a start that may read as a formula. Most cells
# match neither and are passed through as they are (the test suite checks this equals the two functions).
_RISKY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]|\\A'*(?:\\s*[-=+@]|[\t\r])")


def _text(value: Any) -> Any:
    """A free-text cell: what a spreadsheet can hold (:func:`cell_text`) and never run (:func:`safe_cell`)."""
    if value.__class__ is str and _RISKY.search(value):
        return safe_cell(cell_text(value))
    return value


def _d(value: Decimal | None) -> str:
    return "" if value is None else str(value)


EXPORT_COLUMNS = ["uid", "date", "entry", "setting", "pos", "site", "role", "attending", "category", "notes",
                  "total_wrvu", "total_wrvu_exact", "total_payment", "release", "policy", "locality", "credit",
                  "explanation", "created_at", "updated_at", "release_note"]
LINE_COLUMNS = ["uid", "date", "entry", "setting", "role", "site", "category", "position", "code", "modifiers", "units",
                "minutes", "description", "wrvu", "wrvu_exact", "payment", "wrvu_explanation", "payment_explanation",
                "release", "policy", "locality"]
# The columns whose text comes from outside the program's own formatting (typed, imported, restored, or read
# from a stored explanation): they go through _text. Ids, dates, decimals and timestamps are formatted here.


def export_row(e: dict[str, Any], lines: list[dict[str, Any]], explain: _Explanations) -> list[Any]:
    """One row per encounter (EXPORT_COLUMNS) from :func:`pages` values."""
    labels = [_line_label(ln["code"], ln["modifiers"], ln["units"], ln["minutes"]) for ln in lines]
    credit = "; ".join(f"{label} {ln['wrvu']}" for label, ln in zip(labels, lines, strict=True))
    why = " | ".join(f"{label}: {explain(ln['explanation_json'])[0]}" for label, ln in zip(labels, lines, strict=True))
    return [str(e["uid"]), e["date"].isoformat(), _text(e["entry"]), _text(e["setting"]), _text(e["pos"]),
            _text(e["site"]), _text(e["role"]), _text(e["attending"]), _text(e["category"]), _text(e["notes"]),
            str(e["total_wrvu"]), str(e["total_wrvu_exact"]), _d(e["total_payment"]), _text(e["release"]),
            _text(e["policy_name"]), _text(e["locality"]), _text(credit), _text(why), e["created_at"].isoformat(),
            e["updated_at"].isoformat(), explain.release_note(e["release"], e["date"])]


def line_rows(e: dict[str, Any], lines: list[dict[str, Any]], explain: _Explanations) -> Iterator[list[Any]]:
    """One row per line (LINE_COLUMNS) from :func:`pages` values."""
    head = [str(e["uid"]), e["date"].isoformat(), _text(e["entry"]), _text(e["setting"]), _text(e["role"]),
            _text(e["site"]), _text(e["category"])]
    tail = [_text(e["release"]), _text(e["policy_name"]), _text(e["locality"])]
    for ln in lines:
        wrvu_steps, payment_steps = explain(ln["explanation_json"])
        yield [*head, ln["position"], _text(ln["code"]), _text(ln["modifiers"]), ln["units"],
               "" if ln["minutes"] is None else ln["minutes"], _text(ln["description"]), str(ln["wrvu"]),
               str(ln["wrvu_exact"]), _d(ln["payment"]), _text(wrvu_steps), _text(payment_steps), *tail]


PORTAL_COLUMNS = ["Case Date", "Case ID", "Resident Role", "Attending", "Site", "Case Category", "CPT Code",
                  "Modifiers", "Units", "Description", "Role (RVU Edge)", "Notes"]


def portal_rows(e: dict[str, Any], lines: list[dict[str, Any]], explain: _Explanations) -> Iterator[list[Any]]:
    """Resident case-log rows: one per CPT code per case, in the order a case-log portal asks for them."""
    date, case_id = e["date"].strftime("%m/%d/%Y"), str(e["uid"])[:8]
    where = [_text(e["attending"]), _text(e["site"]), _text(e["category"])]
    tail = [_text(ROLE_LABELS.get(e["role"], e["role"])), _text(e["notes"])]
    for ln in lines:
        label = portal_label(e["role"], [ln["code"]])  # per code: a 99214 is never "Surgeon"
        yield [date, case_id, _text(label), *where, _text(ln["code"]), _text(ln["modifiers"]), ln["units"],
               _text(ln["description"]), *tail]


def _encounter_rows(e, lines, explain):
    yield export_row(e, lines, explain)


ROWS = {"csv": (EXPORT_COLUMNS, _encounter_rows), "lines": (LINE_COLUMNS, line_rows),
        "portal": (PORTAL_COLUMNS, portal_rows)}


def guarded(stream: Iterator[Any], what: str) -> Iterator[Any]:
    """``stream``, with any error in it logged before it propagates.

    A streamed response has sent its headers before the error: the server can only cut the connection (the
    chunked body is never terminated, so the client sees a failed download), and the JSON backup then lacks
    its closing brackets. Nothing here ends a broken stream as if it were complete.
    """
    try:
        yield from stream
    except GeneratorExit:
        raise
    except BaseException:
        log.exception("The %s export stopped part-way; the client gets an incomplete download", what)
        raise


def csv_stream(qs, *, lines: bool = False, kind: str | None = None) -> Iterator[str]:
    """CSV text for a StreamingHttpResponse, one page of encounters per chunk.

    ``kind`` is "csv" (one row per encounter), "lines" (one per line) or "portal" (the case-log portal's
    columns); ``lines=True`` is short for "lines". The file ends after its last row: nothing is appended, so a
    download cut short by an error is an incomplete download, never a file that claims to be whole.
    """
    columns, rows = ROWS[kind or ("lines" if lines else "csv")]
    explain = _Explanations()
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    yield "\ufeff" + buf.getvalue()
    for page in pages(qs):
        buf.seek(0)
        buf.truncate()
        for enc, lns in page:
            writer.writerows(rows(enc, lns, explain))
        yield buf.getvalue()


# --------------------------------------------------------------------------- XLSX
#
# openpyxl spends about 8 microseconds on each cell it writes, which puts a 300,000-encounter workbook (twelve
# million cells) at minutes. So openpyxl writes the workbook's frame (content types, workbook, styles, theme,
# properties, two empty sheets) and the rows go into the sheets' <sheetData> here, as the same XML openpyxl
# writes for them in write-only mode: inline strings and numbers (tests check the two byte for byte).

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_SHEETS = ("Encounters", "Lines")
_XLSX_CELL_CHARS = 32767  # the most a cell holds (Excel; openpyxl cuts text there too)
# XML text escaping; U+FFFE and U+FFFF are not XML characters at all and are dropped.
_XML_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\ufffe": None, "\uffff": None})
_COLUMNS = [chr(ord("A") + i) for i in range(26)]


def sheet_rows_xml(rows: Iterable[list[Any]], first: int) -> str:
    """``<row>`` elements for rows numbered from ``first``: text as inline strings, whole numbers as numbers,
    None and "" left out (openpyxl's write-only XML for the same values)."""
    out = []
    for r, row in enumerate(rows, first):
        out.append(f'<row r="{r}">')
        for col, v in zip(_COLUMNS, row, strict=False):
            if v is None or v == "":
                continue
            if v.__class__ is str:
                text = v[:_XLSX_CELL_CHARS]
                stripped = text.strip()
                space = ' xml:space="preserve"' if stripped and stripped != text else ""
                if not text.isascii():
                    text = text.translate(_XML_TEXT)
                elif "&" in text or "<" in text or ">" in text:
                    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                out.append(f'<c r="{col}{r}" t="inlineStr"><is><t{space}>{text}</t></is></c>')
            else:
                out.append(f'<c r="{col}{r}" t="n"><v>{v:.16g}</v></c>')
        out.append("</row>")
    return "".join(out)


@lru_cache(maxsize=1)
def _xlsx_frame() -> tuple[tuple[tuple[str, bytes], ...], dict[str, tuple[bytes, bytes]]]:
    """The parts of an empty two-sheet workbook written by openpyxl, and each sheet's XML split where its rows go."""
    # Loaded on first use: openpyxl costs ~175 ms at start-up, and only XLSX exports need it.
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for title in XLSX_SHEETS:
        wb.create_sheet(title)
    buf = io.BytesIO()
    wb.save(buf)
    parts, sheets = [], {}
    with zipfile.ZipFile(buf) as zf:
        for info in zf.infolist():
            data = zf.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                head, sep, tail = data.partition(b"<sheetData></sheetData>")
                if not sep:
                    raise RuntimeError(f"unexpected empty sheet from openpyxl: {data[:200]!r}")
                sheets[info.filename] = (head + b"<sheetData>", b"</sheetData>" + tail)
            else:
                parts.append((info.filename, data))
    if sorted(sheets) != ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"]:
        raise RuntimeError(f"unexpected sheets from openpyxl: {sorted(sheets)}")
    return tuple(parts), sheets


def export_xlsx_file(qs) -> Any:
    """A workbook with an Encounters sheet (one row per encounter) and a Lines sheet (one row per line), the
    same columns as the CSV exports, in a temporary file (rewound; deleted when closed).

    The whole file is built before any of it is sent, so an error gives an error page, never half a workbook.
    The Lines sheet is spooled to a second temporary file while the Encounters sheet is written (one pass over
    the log), then copied in; memory stays at one page of encounters.
    """
    parts, sheets = _xlsx_frame()
    (enc_head, enc_tail), (line_head, line_tail) = sheets["xl/worksheets/sheet1.xml"], sheets["xl/worksheets/sheet2.xml"]
    # Zip64 only when a sheet could pass 4 GB (about two million lines); Excel reads it, but older tools may not.
    big = LineModel.objects.filter(encounter__in=qs).count() > 1_000_000
    explain = _Explanations()
    out = tempfile.TemporaryFile(suffix=".xlsx")
    try:
        with tempfile.TemporaryFile() as lines_xml, \
                zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for name, data in parts:
                zf.writestr(name, data)
            with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=big) as enc_xml:
                enc_xml.write(enc_head + sheet_rows_xml([EXPORT_COLUMNS], 1).encode())
                lines_xml.write(line_head + sheet_rows_xml([LINE_COLUMNS], 1).encode())
                enc_n = line_n = 2
                for page in pages(qs):
                    enc_rows, line_rows_ = [], []
                    for enc, lns in page:
                        enc_rows.append(export_row(enc, lns, explain))
                        line_rows_.extend(line_rows(enc, lns, explain))
                    enc_xml.write(sheet_rows_xml(enc_rows, enc_n).encode())
                    lines_xml.write(sheet_rows_xml(line_rows_, line_n).encode())
                    enc_n += len(enc_rows)
                    line_n += len(line_rows_)
                enc_xml.write(enc_tail)
                lines_xml.write(line_tail)
            lines_xml.seek(0)
            with zf.open("xl/worksheets/sheet2.xml", "w", force_zip64=big) as dest:
                shutil.copyfileobj(lines_xml, dest, 1 << 20)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out



# --------------------------------------------------------------------------- PDF summary

def _latin(text: Any) -> str:
    # Control characters (kept by data stored before text was cleaned) are dropped; the rest maps to latin-1.
    return str(cell_text(str(text))).replace("\u2014", "-").replace("\u2013", "-").replace("\u00b7", "-").encode(
        "latin-1", "replace").decode("latin-1")


def _pdf_table(pdf: Any, title: str, head: list[str], rows: list[list[Any]], widths: list[int],
               align: str = "LRRR") -> None:
    """A titled table; ``align`` per column (L/R), the last letter repeating."""
    pdf.ln(3)
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(0, 7, _latin(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "B", 9)
    for h, w in zip(head, widths, strict=True):
        pdf.cell(w, 6, _latin(h), border="B")
    pdf.ln()
    pdf.set_font("helvetica", "", 9)
    for row in rows:
        for i, (v, w) in enumerate(zip(row, widths, strict=True)):
            pdf.cell(w, 5.5, _latin(v)[:60], align=align[min(i, len(align) - 1)])
        pdf.ln()
    if not rows:
        pdf.cell(0, 5.5, "(none)", new_x="LMARGIN", new_y="NEXT")


def _pdf_start(title: str) -> Any:
    """A Letter page with the report's title set; the body font (helvetica 10) selected."""
    # Loaded on first use: fpdf costs ~640 ms at start-up, and only PDF reports need it.
    from fpdf import FPDF

    pdf = FPDF(format="Letter")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, _latin(f"RVU Edge - {title}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 10)
    return pdf


def reconciliation_pdf(user, report, rec) -> bytes:
    """The differences between the log and an employer's report, to send to the billing office."""

    pdf = _pdf_start("RVU report reconciliation")
    pdf.multi_cell(0, 5, _latin(
        f"{user.get_username()} - report \"{report}\" ({report.filename}, {report.line_count} rows) - dates of "
        f"service {rec.start.isoformat()} to {rec.end.isoformat()} - generated {timezone.localdate().isoformat()}"),
        new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("helvetica", "B", 12)
    credited = "no wRVU column" if rec.report_wrvu is None else f"{rec.report_wrvu}"
    pdf.multi_cell(0, 6, _latin(
        f"Logged wRVUs: {rec.log_wrvu}   Credited by the report: {credited}   Not credited: {rec.missing_wrvu}"),
        new_x="LMARGIN", new_y="NEXT")
    counts = rec.counts
    pdf.set_font("helvetica", "", 10)
    pdf.multi_cell(0, 5, _latin("; ".join(f"{item.title}: {counts[item.status]}" for item in
                                          {i.status: i for i in rec.items}.values())), new_x="LMARGIN", new_y="NEXT")

    def side(item, s, code) -> str:
        if s is None:
            return "-"
        text = "-".join((code, *s.modifiers)) + (f" x{s.units}" if s.units != 1 else "")
        return text + ("" if s.wrvu is None else f"  {s.wrvu}")

    reasons = rec.by_reason()
    if reasons:
        _pdf_table(pdf, "Why: the most likely reason for each difference",
                   ["Reason", "Services", "wRVU at stake"],
                   [[r["title"], str(r["count"]), str(r["wrvu"])] for r in reasons], [120, 26, 34], align="LRR")
        pdf.set_font("helvetica", "", 8)
        pdf.multi_cell(0, 4, _latin(f"Date basis: {rec.date_basis}."), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    problems = [i for i in rec.items if i.status in PROBLEMS]
    _pdf_table(pdf, "Differences (log wRVU as credited under the clinician's contract policy)",
               ["Date", "Status", "Logged", "Report", "Difference"],
               [[i.date.isoformat(), i.title, side(i, i.log, i.code), side(i, i.report, i.report_code or i.code),
                 "" if i.difference is None else str(i.difference)] for i in problems],
               [24, 42, 44, 44, 26], align="LLLLR")
    pdf.ln(3)
    pdf.set_font("helvetica", "", 9)
    for i in problems:
        if i.note:
            line = f"{i.date.isoformat()} {i.code}: {i.note}"
            if i.report is not None and "(line " not in i.note:
                line += f" (report line {', '.join(map(str, i.report.refs))})"
            if i.reason:
                line += f". Why: {i.reason_title}." + (f" {i.why}" if i.reason != "no_rule" else "")
            if i.report is not None and i.report.history:
                line += " Report history: " + "; ".join(i.report.history) + "."
            pdf.multi_cell(0, 4.5, _latin(line), new_x="LMARGIN", new_y="NEXT")
    _pdf_footer(pdf, (
        "Services are compared per date of service, code and pricing modifiers; units and wRVUs are summed per "
        "service. The logged wRVU credit is computed by RVU Edge from the CMS Physician Fee Schedule files. CPT "
        "codes are copyright American Medical Association. This document contains no patient identifiers."))
    return bytes(pdf.output())


def _pdf_footer(pdf: Any, text: str) -> None:
    pdf.ln(4)
    pdf.set_font("helvetica", "I", 8)
    pdf.multi_cell(0, 4, _latin(text))


PDF_CATEGORIES = 25  # category rows in the summary; the rest are added up in one row


def _top_rows(rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` rows of a breakdown, and the rest summed in one "N more" row (a log may hold any
    number of categories; the summary stays a few pages)."""
    if len(rows) <= limit:
        return rows
    rest = rows[limit - 1:]
    return [*rows[:limit - 1], {
        "label": f"({len(rest):,} more categories)", "encounters": sum(r["encounters"] for r in rest),
        "wrvu": sum((r["wrvu"] for r in rest), Decimal(0)), "percent": sum(r["percent"] for r in rest)}]


def pdf_report(user, profile, start: dt.date, end: dt.date) -> bytes:
    """A one-to-few page summary for a date range: totals, months, top codes, categories and the sources."""

    data = queries.series(user, "month", start, end)
    top = queries.top_codes(user, start, end, limit=15)
    groups = queries.mix_totals(user, start, end)
    cats = _top_rows(queries.mix(user, start, end, "category", groups), PDF_CATEGORIES)
    roles = queries.mix(user, start, end, "role", groups)
    prov = queries.provenance(user, start, end, groups)

    pdf = _pdf_start("wRVU summary")
    pdf.cell(0, 6, _latin(f"{user.get_username()} - {start.isoformat()} to {end.isoformat()} - generated "
                          f"{timezone.localdate().isoformat()}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("helvetica", "B", 12)
    pdf.cell(0, 8, _latin(f"Credited wRVUs: {data['total_wrvu']}   Encounters: {data['encounters']}   "
                          f"Medicare-payment equivalent: ${data['total_payment']}"), new_x="LMARGIN", new_y="NEXT")

    def table(title: str, head: list[str], rows: list[list[Any]], widths: list[int]) -> None:
        _pdf_table(pdf, title, head, rows, widths)

    table("By month", ["Month", "Encounters", "wRVUs", "Payment equivalent"],
          [[b["label"], b["encounters"], b["wrvu"], f"${b['payment']}"] for b in data["buckets"]], [50, 35, 35, 50])
    table("Top codes by wRVU", ["Code", "Lines", "Units", "wRVUs", "Payment equivalent"],
          [[t["code"], t["lines"], t["units"], t["wrvu"], f"${t['payment']}"] for t in top], [40, 30, 30, 35, 45])
    table("By case category", ["Category", "Encounters", "wRVUs", "Share"],
          [[c["label"], c["encounters"], c["wrvu"], f"{c['percent']}%"] for c in cats], [70, 35, 35, 30])
    table("By role", ["Role", "Encounters", "wRVUs", "Share"],
          [[c["label"], c["encounters"], c["wrvu"], f"{c['percent']}%"] for c in roles], [70, 35, 35, 30])
    table("Credited with", ["CMS release", "Credit policy", "Locality", "Encounters"],
          [[p["release"], p["policy_name"], p["locality"], p["n"]] for p in prov], [40, 60, 40, 30])
    _pdf_footer(pdf, (
        "wRVU credit and payment equivalents are computed by RVU Edge from the CMS Physician Fee Schedule release "
        "named above, under the credit policy named above. CPT codes are copyright American Medical Association. "
        "This report contains no patient identifiers."))
    return bytes(pdf.output())


# --------------------------------------------------------------------------- reconciliation CSVs


def reconciliation_csv(rec) -> str:
    """One row per service of a reconciliation: status, both sides, the difference and its most likely reason
    (with the reason's totals, so a billing office can sort and filter without the summary file)."""
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["status", "date of service", "logged", "reported", "logged wRVU", "reported wRVU",
                  "difference wRVU", "report lines", "log encounters", "note", "reason", "why", "wRVU at stake",
                  "reason: services", "reason: wRVU at stake"])
    totals = {r["reason"]: r for r in rec.by_reason()}
    for item in rec.items:
        log, rep = item.log, item.report
        out.writerow([safe_cell(v) for v in (
            STATUSES[item.status][0], item.date.isoformat(),
            "" if log is None else " ".join(log.entries),
            "" if rep is None else "-".join((item.report_code or item.code, *rep.modifiers))
            + (f" x{rep.units}" if rep.units != 1 else ""),
            "" if log is None or log.wrvu is None else str(log.wrvu),
            "" if rep is None or rep.wrvu is None else str(rep.wrvu),
            "" if item.difference is None else str(item.difference),
            "" if rep is None else " ".join(map(str, rep.refs)),
            "" if log is None else " ".join(map(str, log.refs)), item.note, item.reason_title, item.why,
            str(item.at_stake) if item.reason else "",
            totals[item.reason]["count"] if item.reason else "",
            str(totals[item.reason]["wrvu"]) if item.reason else "")])
    return buf.getvalue()


def reasons_csv(rec) -> str:
    """The reconciliation's summary by reason: services and wRVU at stake per reason, and the date basis."""
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["reason", "services", "wRVU at stake", "what it means", "date basis"])
    for r in rec.by_reason():
        out.writerow([safe_cell(v) for v in (r["title"], r["count"], str(r["wrvu"]), r["means"], rec.date_basis)])
    return buf.getvalue()
