"""Getting data out of the log and back in: CSV/XLSX export, JSON backup and restore, CSV/XLSX import with
column mapping, a PDF summary and a case-log portal export.

* Export rows hold every field, the credit and its explanation.
* The JSON backup is full fidelity: restoring it into another account and backing up again gives equal data.
* Imports are two-step: :func:`validate_import` checks every row (nothing is written) and reports row-level
  errors; :func:`commit_import` writes the valid rows in one transaction. Duplicates are recognised by an
  idempotency key (the encounter id from an RVU Edge export, else a hash of the row).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from rvuedge.pricing import PolicyError, load_policy

from .actions import EncounterInput, prepare
from .credit import Crediter, EntryError, line_text, parse_entry_text
from .models import ROLE_LABELS, ROLES, Encounter, Favourite
from .models import EncounterLine as LineModel
from .phi import PhiError, check_fields
from .tables import norm_header, parse_date

BACKUP_FORMAT = "rvuedge-log-backup"
BACKUP_VERSION = 1


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


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    # Spreadsheet formula injection: free text that starts like a formula is prefixed with an apostrophe.
    if isinstance(value, str) and value.startswith(_FORMULA) and not re.match(r"^-?\d", value):
        return "'" + value
    return value


def _uncell(value: str) -> str:
    if value.startswith("'") and value[1:2] in _FORMULA:
        return value[1:]
    return value


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


# --------------------------------------------------------------------------- bulk writes

ENC_COLUMNS = ["user", "uid", "date", "entry", "setting", "pos", "site", "role", "attending", "category", "notes",
               "total_wrvu", "total_wrvu_exact", "total_payment", "release", "policy_name", "policy", "locality",
               "source", "flags", "idempotency_key", "created_at", "updated_at", "deleted_at"]
LINE_COLUMNS_DB = ["encounter", "user", "date", "position", "code", "modifiers", "units", "minutes", "description",
                   "wrvu", "wrvu_exact", "payment", "explanation"]
_JSON_COLUMNS = {"policy", "source", "flags", "explanation"}


def _reserve_ids(model: type, n: int) -> list[int]:
    """n primary keys for rows inserted with explicit ids (saves reading them back after a bulk insert).

    PostgreSQL hands them out from the table's sequence, safe under concurrency. On SQLite the caller's
    transaction holds the write lock (settings: BEGIN IMMEDIATE), so the next ids cannot be taken meanwhile;
    AUTOINCREMENT's sqlite_sequence is advanced by the insert itself.
    """
    if n == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n])
            return [r[0] for r in cur.fetchall()]
        cur.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(table)}")
        top = cur.fetchone()[0] or 0
        cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cur.fetchone()
        base = max(top, row[0] if row else 0)
    return list(range(base + 1, base + n + 1))


def store_bulk(user, items: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> int:
    """Insert many encounters with their lines; the caller holds the transaction.

    ``bulk_create`` spends most of its time preparing each value of each row, which makes a 100,000-row import
    take minutes; this goes through :func:`rvuedge.fees.bulk.insert_rows` (executemany / COPY) with the values
    adapted once per kind. The unique constraints still guard against duplicates.
    """
    from rvuedge.fees.bulk import insert_rows

    sqlite = connection.vendor == "sqlite"
    ops = connection.ops
    cache: dict[int, Any] = {}

    def J(value: Any) -> str:  # noqa: N802 - one-letter adapters keep the row builders readable
        # Memoised credits share their explanation and source objects: most rows reuse one serialisation.
        key = id(value)
        text = cache.get(key)
        if text is None:
            text = cache[key] = json.dumps(value, cls=DjangoJSONEncoder)
        return text

    if sqlite:
        def T(value: dt.datetime | None) -> Any:  # noqa: N802
            if value is None:
                return None
            key = id(value)
            out = cache.get(key)
            if out is None:
                out = cache[key] = ops.adapt_datetimefield_value(value)
            return out

        def U(value: uuid.UUID) -> Any:  # noqa: N802
            return value.hex

        def D(value: dt.date) -> Any:  # noqa: N802
            return value.isoformat()

        def N(value: Decimal | None) -> Any:  # noqa: N802
            return None if value is None else str(value)
    else:
        T = U = D = N = lambda value: value  # noqa: E731 - psycopg adapts these types itself

    uid = user.pk
    ids = _reserve_ids(Encounter, len(items))
    insert_rows(Encounter, ["id", *ENC_COLUMNS], (
        (eid, uid, U(e["uid"]), D(e["date"]), e["entry"], e["setting"], e["pos"], e["site"], e["role"],
         e["attending"], e["category"], e["notes"], N(e["total_wrvu"]), N(e["total_wrvu_exact"]),
         N(e["total_payment"]), e["release"], e["policy_name"], J(e["policy"]), e["locality"], J(e["source"]),
         J(e["flags"]), e["idempotency_key"], T(e["created_at"]), T(e["updated_at"]), T(e.get("deleted_at")))
        for eid, (e, _lines) in zip(ids, items, strict=True)))

    def line_rows_iter():
        for eid, (e, lines) in zip(ids, items, strict=True):
            day = D(e["date"])
            for ln in lines:
                yield (eid, uid, day, ln["position"], ln["code"], ln["modifiers"], ln["units"], ln.get("minutes"),
                       ln["description"], N(ln["wrvu"]), N(ln["wrvu_exact"]), N(ln.get("payment")),
                       J(ln["explanation"]))

    insert_rows(LineModel, LINE_COLUMNS_DB, line_rows_iter())
    if connection.vendor == "postgresql" and len(items) >= 5000:
        # Fresh statistics, so the planner uses the covering indexes right away rather than after autovacuum.
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {ops.quote_name(Encounter._meta.db_table)}, {ops.quote_name(LineModel._meta.db_table)}")
    return len(items)


# --------------------------------------------------------------------------- JSON backup / restore

def backup(user, profile) -> dict[str, Any]:
    """Everything in the user's log, trash included, plus the profile settings and favourites."""
    # Live encounters and the trash are read separately so that each pass walks its own index.
    live = Encounter.objects.filter(user=user, deleted_at__isnull=True)
    trash = Encounter.objects.filter(user=user, deleted_at__isnull=False)
    encounters = [encounter_to_dict(enc, lns) for qs in (live, trash) for enc, lns in iter_with_lines(qs)]
    encounters.sort(key=lambda e: (e["date"], e["created_at"], e["uid"]))
    return {
        "format": BACKUP_FORMAT,
        "version": BACKUP_VERSION,
        "exported_at": timezone.now().isoformat(),
        "profile": profile.to_dict(),
        "favourites": list(Favourite.objects.filter(user=user).order_by("code").values_list("code", flat=True)),
        "encounters": encounters,
    }


class RestoreError(ValueError):
    def __init__(self, where: str, message: str):
        self.where = where
        super().__init__(f"{where}: {message}")


def _dec(value: Any, where: str, *, null: bool = False) -> Decimal | None:
    if value is None and null:
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise RestoreError(where, f"{value!r} is not a number") from None
    if not result.is_finite():
        raise RestoreError(where, f"{value!r} is not a number")
    return result


def _dt(value: Any, where: str, *, null: bool = False) -> dt.datetime | None:
    if value is None and null:
        return None
    parsed = parse_datetime(str(value)) if value is not None else None
    if parsed is None:
        raise RestoreError(where, f"{value!r} is not a date-time")
    return parsed


ROLE_KEYS = {k for k, _ in ROLES}


def restore(user, profile, data: Any) -> dict[str, int]:
    """Restore a backup into ``user``'s log, all or nothing. Encounters already present (same uid) are skipped."""
    if not isinstance(data, dict) or data.get("format") != BACKUP_FORMAT:
        raise RestoreError("file", f"not an RVU Edge log backup (expected \"format\": \"{BACKUP_FORMAT}\")")
    if data.get("version") != BACKUP_VERSION:
        raise RestoreError("version", f"backup version {data.get('version')!r} is not supported")
    entries = data.get("encounters")
    if not isinstance(entries, list):
        raise RestoreError("encounters", "expected a list")
    existing = set(Encounter.objects.filter(user=user).values_list("uid", flat=True))
    used_keys = set(Encounter.objects.filter(user=user, idempotency_key__isnull=False)
                    .values_list("idempotency_key", flat=True))
    items: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    skipped = 0
    for i, item in enumerate(entries):
        where = f"encounters[{i}]"
        if not isinstance(item, dict):
            raise RestoreError(where, "expected an object")
        try:
            uid = uuid.UUID(str(item.get("uid")))
        except ValueError:
            raise RestoreError(f"{where}.uid", "missing or not a UUID") from None
        if uid in existing:
            skipped += 1
            continue
        existing.add(uid)
        texts = {k: str(item.get(k) or "") for k in ("site", "attending", "category", "notes")}
        try:
            check_fields(texts)
        except PhiError as exc:
            raise RestoreError(f"{where}.{exc.field}", exc.message) from None
        role = item.get("role") or "performed"
        if role not in ROLE_KEYS:
            raise RestoreError(f"{where}.role", f"unknown role {role!r}")
        try:
            date = dt.date.fromisoformat(str(item.get("date")))
        except ValueError:
            raise RestoreError(f"{where}.date", f"{item.get('date')!r} is not a date (YYYY-MM-DD)") from None
        key = item.get("idempotency_key")
        if key in used_keys:
            key = None
        elif key:
            used_keys.add(key)
        enc = {
            "uid": uid, "date": date, "entry": str(item.get("entry") or "")[:500],
            "setting": item.get("setting") if item.get("setting") in ("facility", "non_facility") else "non_facility",
            "pos": str(item.get("pos") or "")[:2], "role": role,
            **{k: v[:1000 if k == "notes" else 80] for k, v in texts.items()},
            "total_wrvu": _dec(item.get("total_wrvu"), f"{where}.total_wrvu"),
            "total_wrvu_exact": _dec(item.get("total_wrvu_exact"), f"{where}.total_wrvu_exact"),
            "total_payment": _dec(item.get("total_payment"), f"{where}.total_payment", null=True),
            "release": str(item.get("release") or "")[:16], "policy_name": str(item.get("policy_name") or "")[:60],
            "policy": item.get("policy") or {}, "locality": str(item.get("locality") or "national")[:16],
            "source": item.get("source") or {}, "flags": item.get("flags") or [], "idempotency_key": key,
            "created_at": _dt(item.get("created_at"), f"{where}.created_at"),
            "updated_at": _dt(item.get("updated_at"), f"{where}.updated_at"),
            "deleted_at": _dt(item.get("deleted_at"), f"{where}.deleted_at", null=True),
        }
        lines = item.get("lines")
        if not isinstance(lines, list) or not lines:
            raise RestoreError(f"{where}.lines", "expected a non-empty list")
        rows = []
        for j, ln in enumerate(lines):
            lw = f"{where}.lines[{j}]"
            if not isinstance(ln, dict) or not re.fullmatch(r"[0-9A-Z]{5}", str(ln.get("code", ""))):
                raise RestoreError(f"{lw}.code", "a 5-character code is required")
            try:
                units = int(ln.get("units") or 1)
                minutes = None if ln.get("minutes") is None else int(ln["minutes"])
                position = int(ln.get("position", j))
            except (TypeError, ValueError):
                raise RestoreError(lw, "position, units and minutes are whole numbers") from None
            rows.append({
                "position": position, "code": ln["code"], "modifiers": str(ln.get("modifiers") or "")[:14],
                "units": units, "minutes": minutes, "description": str(ln.get("description") or "")[:100],
                "wrvu": _dec(ln.get("wrvu"), f"{lw}.wrvu"), "wrvu_exact": _dec(ln.get("wrvu_exact"), f"{lw}.wrvu_exact"),
                "payment": _dec(ln.get("payment"), f"{lw}.payment", null=True),
                "explanation": ln.get("explanation") or {},
            })
        items.append((enc, rows))
    prof = data.get("profile") or {}
    with transaction.atomic():
        if prof:
            _restore_profile(profile, prof)
        for code in data.get("favourites") or []:
            Favourite.objects.get_or_create(user=user, code=str(code)[:20])
        store_bulk(user, items)
    return {"restored": len(items), "skipped": skipped}


def _restore_profile(profile, prof: dict[str, Any]) -> None:
    for name in ("career_stage", "specialty", "default_locality", "default_setting", "default_release", "credit_policy"):
        if isinstance(prof.get(name), str):
            setattr(profile, name, prof[name][:80])
    if prof.get("custom_policy") is not None:
        try:
            load_policy(prof["custom_policy"])
        except PolicyError as exc:
            raise RestoreError("profile.custom_policy", str(exc)) from None
    profile.custom_policy = prof.get("custom_policy")
    if prof.get("fte") is not None:
        profile.fte = _dec(prof["fte"], "profile.fte")
    for name in ("annual_goal", "monthly_goal"):
        setattr(profile, name, _dec(prof.get(name), f"profile.{name}", null=True))
    profile.updated_at = timezone.now()
    profile.save()


# --------------------------------------------------------------------------- import

TARGETS: list[tuple[str, str, tuple[str, ...]]] = [
    ("date", "Date of service", ("date", "date of service", "dos", "service date", "procedure date", "case date",
                                 "date_of_service", "encounter date")),
    ("entry", "Codes as typed (99214 20610-RT)", ("entry", "codes", "cpt codes", "procedures", "cpts", "lines")),
    ("code", "One code per row", ("code", "cpt", "cpt code", "hcpcs", "hcpcs code", "procedure code")),
    ("modifiers", "Modifiers (with 'One code per row')", ("modifiers", "modifier", "mods", "mod")),
    ("units", "Units (with 'One code per row')", ("units", "unit", "qty", "quantity")),
    ("setting", "Setting (facility / non_facility)", ("setting", "facility")),
    ("pos", "Place of service", ("pos", "place of service")),
    ("site", "Site label", ("site", "location", "hospital", "institution")),
    ("role", "Role", ("role", "resident role", "participation")),
    ("attending", "Attending label", ("attending", "supervisor", "staff")),
    ("category", "Case category", ("category", "case category", "case type")),
    ("notes", "Notes", ("notes", "note", "comments", "comment")),
    ("uid", "Encounter id (from an RVU Edge export)", ("uid", "encounter id", "id")),
]
TARGET_LABELS = {k: label for k, label, _ in TARGETS}


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """target -> header, by name."""
    norm = {norm_header(h): h for h in headers if h}
    out: dict[str, str] = {}
    for target, _label, names in TARGETS:
        for name in names:
            if name in norm and norm[name] not in out.values():
                out[target] = norm[name]
                break
    if "entry" in out and "code" in out:
        del out["code"]
    return out


class ImportFileError(ValueError):
    pass


def read_table(kind: str, data: bytes) -> tuple[list[str], Iterator[list[str]]]:
    """(headers, data rows as lists of strings) of a CSV or the first (or 'Encounters') sheet of an XLSX."""
    if kind == "xlsx":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds; the user needs one message
            raise ImportFileError(f"Not a readable .xlsx workbook ({exc.__class__.__name__})") from None
        ws = wb["Encounters"] if "Encounters" in wb.sheetnames else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)

        def cells(row) -> list[str]:
            out = []
            for v in row:
                if v is None:
                    out.append("")
                elif isinstance(v, dt.datetime):
                    out.append(v.date().isoformat() if v.time() == dt.time() else v.isoformat())
                elif isinstance(v, dt.date):
                    out.append(v.isoformat())
                else:
                    out.append(str(v))
            return out

        try:
            headers = cells(next(rows))
        except StopIteration:
            raise ImportFileError("The workbook is empty") from None
        return headers, (cells(r) for r in rows)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    reader = csv.reader(io.StringIO(text))
    try:
        headers = next(reader)
    except StopIteration:
        raise ImportFileError("The file is empty") from None
    except csv.Error as exc:
        raise ImportFileError(f"Not a readable CSV file: {exc}") from None
    return [h.strip() for h in headers], reader


_ROLE_ALIASES = {**{k: k for k, _ in ROLES}, **{label.lower(): k for k, label in ROLES},
                 "surgeon": "primary", "primary": "primary", "assistant": "first_assist", "first assist": "first_assist",
                 "first assistant": "first_assist", "teaching assistant": "supervised", "teaching": "supervised",
                 "observer": "observed", "assist": "assisted"}


@dataclass
class RowResult:
    number: int  # 1-based file line (header = 1)
    fields: dict[str, Any] | None = None
    lines: list[dict[str, Any]] | None = None
    key: str = ""
    uid: uuid.UUID | None = None
    error: dict[str, Any] | None = None
    duplicate: bool = False


@dataclass
class ImportReport:
    rows: int = 0
    valid: int = 0
    duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    total_wrvu: Decimal = Decimal("0")
    sample: list[dict[str, Any]] = field(default_factory=list)
    created: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "valid": self.valid, "duplicates": self.duplicates, "errors": self.errors,
                "error_count": self.error_count, "total_wrvu": str(self.total_wrvu), "sample": self.sample,
                "created": self.created}


MAX_REPORTED_ERRORS = 20000


def _rows(user, crediter: Crediter, headers: list[str], rows: Iterable[list[str]],
          mapping: dict[str, str]) -> Iterator[RowResult]:
    index = {target: headers.index(col) for target, col in mapping.items() if col in headers}
    if "date" not in index or not ({"entry", "code"} & set(index)):
        raise ImportFileError("Map at least the date of service and the codes (as typed, or one code per row).")
    seen: dict[str, int] = {}
    today = timezone.localdate()
    parsed: dict[str, Any] = {}

    def parse(text: str) -> Any:
        # Imports repeat the same few entries thousands of times; parse each text once.
        hit = parsed.get(text)
        if hit is None:
            try:
                hit = parse_entry_text(text)
            except EntryError as exc:
                hit = exc
            parsed[text] = hit
        if isinstance(hit, EntryError):
            raise hit
        return hit

    columns = list(index.items())
    width = max(index.values()) + 1

    for n, row in enumerate(rows, start=2):
        if len(row) < width:
            row = row + [""] * (width - len(row))
        cells = {t: (row[i] or "").strip() for t, i in columns}
        for t, v in cells.items():
            if v[:1] == "'":
                cells[t] = _uncell(v)
        if not any(cells.values()) and not any((c or "").strip() for c in row):
            continue
        get = cells.get
        res = RowResult(n)
        try:
            raw_date = get("date", "")
            if not raw_date:
                raise EntryError("date", "the date of service is empty")
            try:
                date = parse_date(raw_date)
            except ValueError as exc:
                raise EntryError("date", str(exc)) from None
            if "entry" in index:
                entry = get("entry", "")
            else:
                code = get("code", "").upper()
                mods = [m for m in re.split(r"[\s,;\-]+", get("modifiers", "").upper()) if m]
                units_text = get("units") or "1"
                try:
                    units = int(Decimal(units_text))
                except (InvalidOperation, ValueError):
                    raise EntryError("units", f"{units_text!r} is not a whole number") from None
                entry = line_text(code, mods, units) if code else ""
            role_text = get("role", "")
            role = _ROLE_ALIASES.get(role_text.lower().replace("_", " "), _ROLE_ALIASES.get(role_text.lower()))
            if role_text and role is None:
                raise EntryError("role", f"unknown role {role_text!r} (use {', '.join(ROLE_LABELS)})")
            data = EncounterInput(entry=entry, date=date, setting=get("setting") or None, pos=get("pos", ""),
                                  site=get("site", ""), role=role, attending=get("attending", ""),
                                  category=get("category", ""), notes=get("notes", ""))
            if "@" in entry:
                raise EntryError("entry", "put the date in the date column, not @date in the codes")
            fields, line_rows_ = prepare(user, data, crediter, today=today, parse=parse)
            uid_text = get("uid", "")
            if uid_text:
                try:
                    res.uid = uuid.UUID(uid_text)
                except ValueError:
                    raise EntryError("uid", f"{uid_text!r} is not an RVU Edge encounter id") from None
        except EntryError as exc:
            column = {"date": "date", "entry": "entry" if "entry" in index else "code"}.get(exc.field, exc.field)
            res.error = {"row": n, "column": mapping.get(column, column), "field": exc.field, "message": exc.message}
            yield res
            continue
        if res.uid is not None:
            res.key = f"import:{res.uid}"
        else:
            canon = "\x1f".join([fields["date"].isoformat(), fields["entry"], fields["setting"], fields["pos"],
                                  fields["site"], fields["role"], fields["attending"], fields["category"],
                                  fields["notes"]])
            digest = hashlib.sha256(canon.encode()).hexdigest()[:32]
            seen[digest] = seen.get(digest, 0) + 1
            res.key = f"import:{digest}:{seen[digest]}"
        res.fields, res.lines = fields, line_rows_
        yield res


def _existing(user, keys: list[str], uids: list[uuid.UUID]) -> tuple[set[str], set[uuid.UUID]]:
    """Which of these idempotency keys and encounter ids the user already has."""
    have_keys: set[str] = set()
    have_uids: set[uuid.UUID] = set()
    table = connection.ops.quote_name(Encounter._meta.db_table)
    if len(keys) > 5000:
        # One pass over the user's keys beats a hundred IN (...) queries for a big file.
        with connection.cursor() as cur:
            cur.execute(f"SELECT idempotency_key FROM {table} WHERE user_id = %s AND idempotency_key IS NOT NULL",
                        [user.pk])
            have_keys = {k for (k,) in cur.fetchall()} & set(keys)
    else:
        for i in range(0, len(keys), 900):
            have_keys.update(Encounter.objects.filter(user=user, idempotency_key__in=keys[i:i + 900])
                             .values_list("idempotency_key", flat=True))
    if len(uids) > 5000:
        with connection.cursor() as cur:
            cur.execute(f"SELECT uid FROM {table} WHERE user_id = %s", [user.pk])
            stored = {u if isinstance(u, uuid.UUID) else uuid.UUID(u) for (u,) in cur.fetchall()}
        have_uids = stored & set(uids)
    else:
        for i in range(0, len(uids), 900):
            have_uids.update(Encounter.objects.filter(user=user, uid__in=uids[i:i + 900]).values_list("uid", flat=True))
    return have_keys, have_uids


def _scan(user, profile, kind: str, data: bytes, mapping: dict[str, str]) -> tuple[ImportReport, list[RowResult]]:
    headers, rows = read_table(kind, data)
    crediter = Crediter(profile, memo=True)
    report = ImportReport()
    good: list[RowResult] = []
    for res in _rows(user, crediter, headers, rows, mapping):
        report.rows += 1
        if res.error:
            report.error_count += 1
            if len(report.errors) < MAX_REPORTED_ERRORS:
                report.errors.append(res.error)
        else:
            good.append(res)
    have_keys, have_uids = _existing(user, [r.key for r in good], [r.uid for r in good if r.uid])
    valid = []
    for res in good:
        if res.key in have_keys or (res.uid is not None and res.uid in have_uids):
            res.duplicate = True
            report.duplicates += 1
            continue
        valid.append(res)
        report.valid += 1
        report.total_wrvu += res.fields["total_wrvu"]
        if len(report.sample) < 15:
            report.sample.append({"row": res.number, "date": res.fields["date"].isoformat(),
                                  "entry": res.fields["entry"], "role": res.fields["role"],
                                  "total_wrvu": str(res.fields["total_wrvu"]),
                                  "credit": "; ".join(f"{line_text(r['code'], [m for m in r['modifiers'].split('-') if m], r['units'], r['minutes'])} {r['wrvu']}"
                                                      for r in res.lines)})
    return report, valid


def validate_import(user, profile, kind: str, data: bytes, mapping: dict[str, str]) -> ImportReport:
    """Check every row; write nothing. The report lists each bad row (line, column, reason) and duplicates."""
    return _scan(user, profile, kind, data, mapping)[0]


def commit_import(user, profile, kind: str, data: bytes, mapping: dict[str, str]) -> ImportReport:
    """Write every valid, non-duplicate row, in one transaction; bad rows are reported and skipped."""
    report, valid = _scan(user, profile, kind, data, mapping)
    now = timezone.now()
    items = []
    for res in valid:
        enc = {**res.fields, "uid": res.uid or uuid.uuid4(), "idempotency_key": res.key, "created_at": now,
               "updated_at": now, "deleted_at": None}
        items.append((enc, res.lines))
    with transaction.atomic():
        store_bulk(user, items)
    report.created = len(valid)
    return report


def errors_csv(report: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["row", "column", "message"])
    for e in report.get("errors", []):
        w.writerow([e["row"], e["column"], e["message"]])
    return buf.getvalue()


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
