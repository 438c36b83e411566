"""Getting data into the log: CSV/XLSX import with column mapping, and the bulk writer it shares with restore.

Imports are two-step: :func:`read_upload` reads the uploaded file once, within the limits of
:mod:`rvuedge.logbook.tables`, into UTF-8 CSV kept on the :class:`~rvuedge.logbook.models.ImportBatch`;
:func:`validate_import` checks every row (nothing is written) and reports row-level errors; :func:`commit_import`
writes the valid rows in one transaction. Rows stream through both in chunks of :data:`CHUNK_ROWS`, so memory
stays flat however long the file. Duplicates are recognised by an idempotency key (the encounter id from an RVU
Edge export, else a hash of the row).
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
from typing import IO, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from rvuedge.fees.bulk import insert_rows

from . import tables
from .credit import Crediter, EntryError, line_text, parse_entry_text
from .entries import EncounterInput, prepare
from .models import ROLE_LABELS, ROLES, Encounter
from .models import EncounterLine as LineModel
from .rules import Line
from .tables import TableError, _uncell, norm_header, parse_date, quote
from .whynot import import_findings

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


def store_bulk(user, items: list[tuple[dict[str, Any], list[dict[str, Any]]]], *, analyze: bool = True) -> int:
    """Insert many encounters with their lines; the caller holds the transaction.

    ``bulk_create`` spends most of its time preparing each value of each row, which makes a 100,000-row import
    take minutes; this goes through :func:`rvuedge.fees.bulk.insert_rows` (executemany / COPY) with the values
    adapted once per kind. The unique constraints still guard against duplicates.
    """

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

    def line_rows_iter():
        for eid, (e, lines) in zip(ids, items, strict=True):
            day = D(e["date"])
            for ln in lines:
                yield (eid, uid, day, ln["position"], ln["code"], ln["modifiers"], ln["units"], ln.get("minutes"),
                       ln["description"], N(ln["wrvu"]), N(ln["wrvu_exact"]), N(ln.get("payment")),
                       J(ln["explanation"]))

    # insert_rows writes through the driver's own cursor (COPY on PostgreSQL), whose errors Django does not wrap:
    # wrapped here, a duplicate is an IntegrityError (bad data a DataError) as from any other query.
    with connection.wrap_database_errors:
        insert_rows(Encounter, ["id", *ENC_COLUMNS], (
            (eid, uid, U(e["uid"]), D(e["date"]), e["entry"], e["setting"], e["pos"], e["site"], e["role"],
             e["attending"], e["category"], e["notes"], N(e["total_wrvu"]), N(e["total_wrvu_exact"]),
             N(e["total_payment"]), e["release"], e["policy_name"], J(e["policy"]), e["locality"], J(e["source"]),
             J(e["flags"]), e["idempotency_key"], T(e["created_at"]), T(e["updated_at"]), T(e.get("deleted_at")))
            for eid, (e, _lines) in zip(ids, items, strict=True)))
        insert_rows(LineModel, LINE_COLUMNS_DB, line_rows_iter())
    if analyze and len(items) >= 5000:
        analyze_log_tables()
    return len(items)


def analyze_log_tables() -> None:
    """Fresh planner statistics after a big bulk write (PostgreSQL), so the covering indexes are used right away
    rather than after autovacuum."""
    if connection.vendor == "postgresql":
        ops = connection.ops
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {ops.quote_name(Encounter._meta.db_table)}, {ops.quote_name(LineModel._meta.db_table)}")


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


#: An upload that cannot be read (the same class as :class:`rvuedge.logbook.tables.TableError`); the message names
#: the row and column.
ImportFileError = TableError

#: A column name longer than this means the first row is not a header row.
MAX_HEADER_CHARS = 200
#: A codes cell longer than this is refused before it is parsed (stored entries are at most 500 characters once
#: spaced; the extra room is for a file's own spacing).
MAX_ENTRY_CHARS = 1000


def read_table(kind: str, data: bytes | IO[bytes]) -> tuple[list[str], Iterator[list[str]]]:
    """(headers, data rows as lists of strings) of a CSV or the first (or 'Encounters') sheet of an XLSX, read
    within the limits of :mod:`rvuedge.logbook.tables` (iterating the rows may raise :class:`ImportFileError`)."""
    return tables.read_table(kind, data)


def upload_kind(filename: str) -> str:
    return "xlsx" if (filename or "").lower().endswith((".xlsx", ".xlsm")) else "csv"


@dataclass
class Upload:
    """An uploaded table, read once: its header row and the whole table as UTF-8 CSV (what preview and confirm
    read; a workbook is never opened again)."""

    headers: list[str]
    data: bytes
    rows: int


def read_upload(filename: str, source: bytes | IO[bytes]) -> Upload:
    """Read an uploaded CSV/XLSX in full, checking every row against the upload limits (size, rows, columns,
    cells, encoding, NUL characters); raise :class:`ImportFileError` naming the row and column, or return it as
    CSV. Nothing is stored here."""
    headers, data, n = tables.stored_csv(upload_kind(filename), source)
    if not any(headers):
        raise ImportFileError("The first row is empty; it must name the columns (Date of service, Codes, ...).")
    for i, h in enumerate(headers):
        if len(h) > MAX_HEADER_CHARS:
            raise ImportFileError(f"Row 1, column {tables.column_letter(i)}: a column name of {len(h):,} characters; "
                                  "the first row must name the columns (Date of service, Codes, ...).")
    return Upload(headers, data, n)


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
    #: why rows might not be credited (rvuedge.logbook.rules), checked in the preview: warnings, never errors
    warnings: list[dict[str, Any]] = field(default_factory=list)
    warning_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "valid": self.valid, "duplicates": self.duplicates, "errors": self.errors,
                "error_count": self.error_count, "total_wrvu": str(self.total_wrvu), "sample": self.sample,
                "created": self.created, "warnings": self.warnings, "warning_count": self.warning_count}


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
                    raise EntryError("units", f"{quote(units_text)} is not a whole number") from None
                entry = line_text(code, mods, units) if code else ""
            role_text = get("role", "")
            role = _ROLE_ALIASES.get(role_text.lower().replace("_", " "), _ROLE_ALIASES.get(role_text.lower()))
            if role_text and role is None:
                raise EntryError("role", f"unknown role {quote(role_text)} (use {', '.join(ROLE_LABELS)})")
            data = EncounterInput(entry=entry, date=date, setting=get("setting") or None, pos=get("pos", ""),
                                  site=get("site", ""), role=role, attending=get("attending", ""),
                                  category=get("category", ""), notes=get("notes", ""))
            if len(entry) > MAX_ENTRY_CHARS:  # checked before parsing: a 100,000-character cell is not codes
                raise EntryError("entry", f"the codes hold {len(entry):,} characters; one encounter's codes are "
                                          "limited to 500")
            if "@" in entry:
                raise EntryError("entry", "put the date in the date column, not @date in the codes")
            fields, line_rows_ = prepare(user, data, crediter, today=today, parse=parse)
            uid_text = get("uid", "")
            if uid_text:
                try:
                    res.uid = uuid.UUID(uid_text)
                except ValueError:
                    raise EntryError("uid", f"{quote(uid_text)} is not an RVU Edge encounter id") from None
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
    """Which of these idempotency keys and encounter ids (one chunk's: at most CHUNK_ROWS) the user already has.

    Plain SQL, 900 values a query (SQLite's parameter limit is 999): building the ORM's IN queries cost more than
    running them.
    """
    table = connection.ops.quote_name(Encounter._meta.db_table)
    sqlite = connection.vendor == "sqlite"
    have_keys: set[str] = set()
    have_uids: set[uuid.UUID] = set()
    with connection.cursor() as cur:
        for i in range(0, len(keys), 900):
            part = keys[i:i + 900]
            cur.execute(f"SELECT idempotency_key FROM {table} WHERE user_id = %s AND idempotency_key IN "
                        f"({', '.join(['%s'] * len(part))})", [user.pk, *part])
            have_keys.update(k for (k,) in cur.fetchall())
        for i in range(0, len(uids), 900):
            part = [u.hex if sqlite else u for u in uids[i:i + 900]]
            cur.execute(f"SELECT uid FROM {table} WHERE user_id = %s AND uid IN ({', '.join(['%s'] * len(part))})",
                        [user.pk, *part])
            have_uids.update(u if isinstance(u, uuid.UUID) else uuid.UUID(u) for (u,) in cur.fetchall())
    return have_keys, have_uids


#: Rows checked, de-duplicated and (on confirm) written at a time: what an import holds in memory.
CHUNK_ROWS = 5000


def _scan(user, profile, kind: str, data: bytes | IO[bytes], mapping: dict[str, str], *, write: bool) -> ImportReport:
    """Check every row, a chunk at a time; with ``write``, store each chunk's valid, new rows as it goes (the
    caller holds the transaction, so a failure anywhere stores nothing)."""
    headers, rows = read_table(kind, data)
    crediter = Crediter(profile, memo=True)
    report = ImportReport()
    pending: list[RowResult] = []
    seen_uids: set[uuid.UUID] = set()  # the same encounter id twice in one file: the second is a duplicate
    checked: list[Line] = []  # the preview's valid lines, for the rules' warnings (at most MAX_RULE_LINES)
    now = timezone.now()

    def flush() -> None:
        have_keys, have_uids = _existing(user, [r.key for r in pending], [r.uid for r in pending if r.uid])
        items = []
        for res in pending:
            if res.key in have_keys or (res.uid is not None and (res.uid in have_uids or res.uid in seen_uids)):
                res.duplicate = True
                report.duplicates += 1
                continue
            if res.uid is not None:
                seen_uids.add(res.uid)
            report.valid += 1
            report.total_wrvu += res.fields["total_wrvu"]
            if not write and len(checked) < MAX_RULE_LINES:
                checked.extend(Line(res.fields["date"], r["code"], tuple(m for m in r["modifiers"].split("-") if m),
                                    r["units"], res.number, True) for r in res.lines)
            if len(report.sample) < 15:
                report.sample.append({"row": res.number, "date": res.fields["date"].isoformat(),
                                      "entry": res.fields["entry"], "role": res.fields["role"],
                                      "total_wrvu": str(res.fields["total_wrvu"]),
                                      "credit": "; ".join(f"{line_text(r['code'], [m for m in r['modifiers'].split('-') if m], r['units'], r['minutes'])} {r['wrvu']}"
                                                          for r in res.lines)})
            if write:
                items.append(({**res.fields, "uid": res.uid or uuid.uuid4(), "idempotency_key": res.key,
                               "created_at": now, "updated_at": now, "deleted_at": None}, res.lines))
        if items:
            report.created += store_bulk(user, items, analyze=False)
        pending.clear()

    for res in _rows(user, crediter, headers, rows, mapping):
        report.rows += 1
        if res.error:
            report.error_count += 1
            if len(report.errors) < MAX_REPORTED_ERRORS:
                report.errors.append(res.error)
        else:
            pending.append(res)
            if len(pending) >= CHUNK_ROWS:
                flush()
    flush()
    if report.created >= 5000:
        analyze_log_tables()
    if checked:
        _warn(user, crediter, checked, report)
    return report


#: Lines of an import preview checked against the billing rules (a year of a busy clinician's log is ~10,000).
MAX_RULE_LINES = 50_000
#: Warnings listed in the preview (all are counted).
MAX_LISTED_WARNINGS = 200


def _warn(user, crediter: Crediter, lines: list[Line], report: ImportReport) -> None:
    """The rules' warnings on the import's rows, with the user's own log around their dates as context."""
    release = crediter.release_for(max(ln.date for ln in lines))
    found = import_findings(user, lines, release, credit_non_medicare=crediter.policy_obj.credit_non_medicare_rvus)
    report.warning_count = len(found)
    report.warnings = [{"row": f.line.ref, **f.to_dict()} for f in found[:MAX_LISTED_WARNINGS]]
    if len(lines) >= MAX_RULE_LINES:
        report.warnings.append({"row": None, "rule": "", "title": "Not every row checked",
                                "message": f"the billing rules were checked on the first {MAX_RULE_LINES:,} lines",
                                "fix": "", "source": "", "related": None, "modifiers": [], "credits": "",
                                "line": "", "date": ""})


def validate_import(user, profile, kind: str, data: bytes | IO[bytes], mapping: dict[str, str]) -> ImportReport:
    """Check every row; write nothing. The report lists each bad row (line, column, reason) and duplicates."""
    return _scan(user, profile, kind, data, mapping, write=False)


def commit_import(user, profile, kind: str, data: bytes | IO[bytes], mapping: dict[str, str]) -> ImportReport:
    """Write every valid, non-duplicate row, in one transaction; bad rows are reported and skipped.

    Rows are checked and written a chunk at a time inside that transaction (memory stays flat). A row that
    another request logged meanwhile raises IntegrityError and nothing is written.
    """
    with transaction.atomic():
        return _scan(user, profile, kind, data, mapping, write=True)


#: Hours an uploaded import file (ImportBatch: the file as CSV and its check report) is kept.
UPLOAD_KEEP_HOURS = 24


def errors_csv(report: dict[str, Any]) -> str:
    """The import's row errors as CSV. Every cell goes through :func:`~rvuedge.logbook.tables.safe_cell`: column
    names and messages quote the user's file, and a header like ``=cmd|' /C calc'!A0`` must not run as a
    formula when the error report is opened in a spreadsheet."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["row", "column", "message"])
    for e in report.get("errors", []):
        w.writerow([tables.safe_cell(str(v)) for v in (e["row"], e["column"], e["message"])])
    return buf.getvalue()

