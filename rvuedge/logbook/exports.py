"""Getting data out of the log: the serialised encounter (shared with the JSON backup and the API), CSV/XLSX
and case-log portal exports (every field, the credit and its explanation), and the PDF summaries."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from .models import Encounter
from .models import EncounterLine as LineModel
from .tables import safe_cell

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


def _lines_by_encounter(encounters: list[Encounter]) -> dict[int, list[LineModel]]:
    out: dict[int, list[LineModel]] = {}
    ids = [e.pk for e in encounters]
    for i in range(0, len(ids), 900):
        for ln in LineModel.objects.filter(encounter_id__in=ids[i:i + 900]).order_by("encounter_id", "position"):
            out.setdefault(ln.encounter_id, []).append(ln)
    return out


def iter_with_lines(qs, chunk: int = 2000) -> Iterator[tuple[Encounter, list[LineModel]]]:
    """Encounters with their lines, by (date, id), in keyset-paged chunks (bounded memory for big exports)."""
    qs = qs.order_by("date", "id")
    page = list(qs[:chunk])
    while page:
        lines = _lines_by_encounter(page)
        for enc in page:
            yield enc, lines.get(enc.pk, [])
        last = page[-1]
        # date >= last.date keeps the query an index range scan; the OR only trims the boundary day.
        page = list(qs.filter(date__gte=last.date).filter(Q(date__gt=last.date) | Q(date=last.date, id__gt=last.pk))
                    [:chunk])


def _steps_text(steps: list[dict[str, Any]]) -> str:
    return " > ".join(s.get("text", "") for s in steps or [])


def credit_text(lines: list[LineModel]) -> str:
    return "; ".join(f"{ln.text} {ln.wrvu}" for ln in lines)


def explanation_text(lines: list[LineModel]) -> str:
    return " | ".join(f"{ln.text}: {_steps_text(ln.explanation.get('wrvu_steps', []))}" for ln in lines)




EXPORT_COLUMNS = ["uid", "date", "entry", "setting", "pos", "site", "role", "attending", "category", "notes",
                  "total_wrvu", "total_wrvu_exact", "total_payment", "release", "policy", "locality", "credit",
                  "explanation", "created_at", "updated_at"]
LINE_COLUMNS = ["uid", "date", "entry", "setting", "role", "site", "category", "position", "code", "modifiers", "units",
                "minutes", "description", "wrvu", "wrvu_exact", "payment", "wrvu_explanation", "payment_explanation",
                "release", "policy", "locality"]


def export_row(enc: Encounter, lines: list[LineModel]) -> list[Any]:
    return [str(enc.uid), enc.date.isoformat(), enc.entry, enc.setting, enc.pos, safe_cell(enc.site), enc.role,
            safe_cell(enc.attending), safe_cell(enc.category), safe_cell(enc.notes), str(enc.total_wrvu),
            str(enc.total_wrvu_exact), _s(enc.total_payment) or "", enc.release, enc.policy_name, enc.locality,
            credit_text(lines), explanation_text(lines), enc.created_at.isoformat(), enc.updated_at.isoformat()]


def line_rows(enc: Encounter, lines: list[LineModel]) -> Iterator[list[Any]]:
    for ln in lines:
        yield [str(enc.uid), enc.date.isoformat(), enc.entry, enc.setting, enc.role, safe_cell(enc.site),
               safe_cell(enc.category), ln.position, ln.code, ln.modifiers, ln.units, ln.minutes or "", ln.description,
               str(ln.wrvu), str(ln.wrvu_exact), _s(ln.payment) or "",
               _steps_text(ln.explanation.get("wrvu_steps", [])), _steps_text(ln.explanation.get("payment_steps", [])),
               enc.release, enc.policy_name, enc.locality]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(qs, *, lines: bool = False) -> Iterator[str]:
    """CSV text, row by row (for a StreamingHttpResponse). One row per encounter, or per line."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(LINE_COLUMNS if lines else EXPORT_COLUMNS)
    for enc, lns in iter_with_lines(qs):
        if lines:
            for row in line_rows(enc, lns):
                yield writer.writerow(row)
        else:
            yield writer.writerow(export_row(enc, lns))


def export_xlsx(qs) -> bytes:
    """A workbook with an Encounters sheet (one row per encounter) and a Lines sheet (one row per line)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws_enc = wb.create_sheet("Encounters")
    ws_lines = wb.create_sheet("Lines")
    ws_enc.append(EXPORT_COLUMNS)
    ws_lines.append(LINE_COLUMNS)
    for enc, lns in iter_with_lines(qs):
        ws_enc.append(export_row(enc, lns))
        for row in line_rows(enc, lns):
            ws_lines.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


PORTAL_ROLES = {"primary": "Surgeon", "performed": "Surgeon", "first_assist": "Assistant", "assisted": "Assistant",
                "supervised": "Teaching Assistant", "observed": "Observed"}
PORTAL_COLUMNS = ["Case Date", "Case ID", "Resident Role", "Attending", "Site", "Case Category", "CPT Code",
                  "Modifiers", "Units", "Description", "Role (RVU Edge)", "Notes"]


def portal_stream(qs) -> Iterator[str]:
    """Resident case-log export: one row per CPT code per case, in the order a case-log portal asks for them."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(PORTAL_COLUMNS)
    for enc, lns in iter_with_lines(qs):
        for ln in lns:
            yield writer.writerow([
                enc.date.strftime("%m/%d/%Y"), str(enc.uid)[:8], PORTAL_ROLES.get(enc.role, enc.role),
                safe_cell(enc.attending), safe_cell(enc.site), safe_cell(enc.category), ln.code, ln.modifiers, ln.units,
                ln.description, enc.role_label, safe_cell(enc.notes)])



# --------------------------------------------------------------------------- PDF summary

def _latin(text: Any) -> str:
    return str(text).replace("\u2014", "-").replace("\u2013", "-").replace("\u00b7", "-").encode(
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
    from .reconcile import PROBLEMS

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


def pdf_report(user, profile, start: dt.date, end: dt.date) -> bytes:
    """A one-to-few page summary for a date range: totals, months, top codes, categories and the sources."""
    from . import queries

    data = queries.series(user, "month", start, end)
    top = queries.top_codes(user, start, end, limit=15)
    cats = queries.mix(user, start, end, "category")
    roles = queries.mix(user, start, end, "role")
    prov = queries.provenance(user, start, end)

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

