"""Read an employer's RVU report: columns by name, rows into :class:`ReportLine`. Pure Python, no Django.

Billing systems (Epic Clarity transaction detail, Epic PB warehouse loads, athenahealth's RVU report, NextGen)
name their columns differently, put one to four modifiers in separate columns, pack several codes in one cell,
void a charge with a negative-units row, and bucket rows by post date. :func:`parse_report` reads them all into
the same lines; :mod:`.reconcile` compares those lines with the log.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .tables import TableError, column_letter, norm_header, parse_date, quote

ZERO = Decimal("0")

_CODE_RE = re.compile(r"^[0-9A-Z]\d{3}[0-9A-Z]$")
_MOD_SPLIT = re.compile(r"[\s,;/|+-]+")

# Header names (normalised) for each field, best first.
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "date": ("date of service", "dos", "service date", "svc date", "original service date", "orig service date",
             "original date of service", "date", "from date", "visit date", "procedure date", "charge date"),
    "code": ("cpt", "cpt code", "hcpcs", "hcpcs code", "cpt/hcpcs", "cpt hcpcs", "procedure code", "proc code",
             "code", "billing code", "charge code", "cpt codes", "procedure codes"),
    "modifiers": ("modifiers", "modifier", "mods", "mod", "cpt modifier", "cpt modifiers"),
    "units": ("units", "unit", "qty", "quantity", "service units", "billed units", "provider performing units",
              "performing units"),
    "wrvu": ("wrvu", "wrvus", "work rvu", "work rvus", "credited wrvu", "credited wrvus", "wrvu credit",
             "total wrvu", "total wrvus", "rvu work", "work rvu credit", "adj work rvu", "adjusted work rvu",
             "adj wrvu", "adjusted wrvu"),
    # Billing systems' extras (Epic Clarity / PB warehouse, athenahealth, NextGen): read when present.
    "post_date": ("post date", "posting date", "posted date", "date posted", "post dt"),
    "post_month": ("month of transaction", "post month", "post period", "posting period", "month posted"),
    "txn": ("transaction id", "transaction", "tx id", "txn id", "trans id", "charge id", "transaction number"),
    "void_of": ("voided transaction id", "void of", "reversal of", "original transaction id",
                "linked transaction id", "reversed transaction id"),
    "performing": ("performing provider", "rendering provider", "service provider", "provider performing"),
    "billing": ("billing provider", "provider billing", "bill provider"),
}
COLUMN_LABELS = {"date": "date of service", "code": "code", "modifiers": "modifiers", "units": "units",
                 "wrvu": "wRVU", "post_date": "post date", "post_month": "post month", "txn": "transaction id",
                 "void_of": "voided transaction", "performing": "performing provider",
                 "billing": "billing provider"}
_EXTRA_MOD_COLUMN = re.compile(r"^(?:cpt )?(?:mod|modifier)\s*#?\s*([1-4])$")

# Columns that hold patient identifiers: the upload is refused (nothing is read, nothing is stored).
_PHI_EXACT = frozenset({
    "mrn", "dob", "ssn", "date of birth", "birth date", "birthdate", "medical record number", "medical record",
    "record number", "account number", "account", "acct", "acct #", "acct no", "member id", "subscriber id",
    "phone", "phone number", "email", "e mail", "address", "street address", "zip", "fin", "csn", "har",
    "encounter number", "visit number", "name", "first name", "last name", "insurance id",
})
_PHI_WORDS = re.compile(r"\b(?:patient|pt(?: \w+)? (?:name|id)|mrn|ssn|dob|acct|account|medical record|fin|csn"
                        r"|date of birth|birth ?date|member|subscriber|phone|e ?mail)\b")


class ReportError(ValueError):
    """The report cannot be read; ``errors`` are "file, line N, column X: ..." messages (nothing is kept)."""

    def __init__(self, message: str, errors: Sequence[str] = ()):
        self.errors = list(errors)
        super().__init__(message)


@dataclass(frozen=True)
class ReportLine:
    line: int  # 1-based line in the file (the header is line 1)
    date: dt.date
    code: str
    modifiers: tuple[str, ...]
    units: int  # negative on a void (reversal) row
    wrvu: Decimal | None
    post_date: dt.date | None = None
    txn: str = ""  # the report's transaction id
    billed_by: str = ""  # the billing provider, when it is not the performing one (incident-to, shared visit)
    packed: str = ""  # the cell, when it packed several codes ("19301, 38525-51, 38900"); wrvu is then None
    void_of: str = ""  # the transaction this row voids, when the report links it
    packed_wrvu: Decimal | None = None  # the packed cell's one wRVU total (the same on each of its lines)

    def to_list(self) -> list[Any]:
        out = [self.line, self.date.isoformat(), self.code, list(self.modifiers), self.units,
               None if self.wrvu is None else str(self.wrvu)]
        extra = [None if self.post_date is None else self.post_date.isoformat(), self.txn, self.billed_by,
                 self.packed, self.void_of, None if self.packed_wrvu is None else str(self.packed_wrvu)]
        return out + extra if any(extra) else out

    @classmethod
    def from_list(cls, v: Sequence[Any]) -> ReportLine:
        line, date, code, mods, units, wrvu = v[:6]
        post, txn, billed_by, packed, void_of, packed_wrvu = (list(v[6:12]) + [None, "", "", "", "", None][len(v[6:12]):])
        return cls(int(line), dt.date.fromisoformat(date), code, tuple(mods), int(units),
                   None if wrvu is None else Decimal(wrvu), None if not post else dt.date.fromisoformat(post),
                   txn or "", billed_by or "", packed or "", void_of or "",
                   None if packed_wrvu is None else Decimal(packed_wrvu))


@dataclass
class ReportTable:
    """A parsed report: its lines, the columns used and the rows skipped (blank or subtotal rows)."""

    filename: str
    columns: dict[str, str]
    lines: list[ReportLine]
    skipped: int = 0

    @property
    def start(self) -> dt.date:
        return min(ln.date for ln in self.lines)

    @property
    def end(self) -> dt.date:
        """The last date of service, or the report's last post day when it is bucketed by post date (a service
        of any date up to then could be in it)."""
        last = max(ln.date for ln in self.lines)
        period = post_period(self.lines, month="post_month" in self.columns and "post_date" not in self.columns)
        return last if period is None else max(last, period[1])

    @property
    def has_wrvu(self) -> bool:
        return "wrvu" in self.columns

    @property
    def date_basis(self) -> str:
        return date_basis(self.columns)


def date_basis(columns: dict[str, str]) -> str:
    """Which date a report's rows are matched on, said to the user."""
    posted = columns.get("post_date") or columns.get("post_month")
    if posted:
        return (f"date of service ({columns.get('date', 'date')}); the report is bucketed by post date ({posted}), "
                "so a service posted after the report's last post date is not in it")
    return f"date of service ({columns.get('date', 'date')})"


def _find_columns(norm: list[str]) -> tuple[dict[str, int], list[int]]:
    found: dict[str, int] = {}
    for fieldname, names in COLUMN_NAMES.items():
        for name in names:
            if name in norm and norm.index(name) not in found.values():
                found[fieldname] = norm.index(name)
                break
    extra = [i for i, name in enumerate(norm) if i not in found.values()
             and (_EXTRA_MOD_COLUMN.match(name) or name in COLUMN_NAMES["modifiers"])]
    return found, extra


def _is_header(row: Sequence[str]) -> bool:
    found, _extra = _find_columns([norm_header(str(c)) for c in row])
    return "date" in found and "code" in found


#: Reports often open with a title, the period and the provider's name before the header row.
HEADER_SEARCH_ROWS = 15


def detect_columns(headers: Sequence[str], filename: str = "report") -> tuple[dict[str, int], list[int]]:
    """field -> column index (date, code, modifiers, units, wrvu) and the indexes of extra modifier columns.

    Raises :class:`ReportError` when a column looks like a patient identifier or the date or code column is
    missing.
    """
    norm = [norm_header(h) for h in headers]
    for i, name in enumerate(norm):
        if name and (name in _PHI_EXACT or _PHI_WORDS.search(name)):
            raise ReportError(
                f"{filename}: column {column_letter(i)} ({headers[i].strip()!r}) looks like a patient identifier. "
                "RVU Edge never stores patient data: delete that column (and any other patient details) from "
                "the file and upload it again. Date of service, code, modifiers, units and wRVU are all it needs.")
    found, extra = _find_columns(norm)
    missing = [f for f in ("date", "code") if f not in found]
    if missing:
        wanted = {"date": "date of service column (DOS, Service Date, Date)",
                  "code": "code column (CPT, HCPCS, Procedure Code, Code)"}
        shown = ", ".join(repr(h) for h in headers if h.strip()) or "none"
        raise ReportError(f"{filename}: the first row must name the columns; found no "
                          + " and no ".join(wanted[f] for f in missing) + f" (columns: {shown})")
    return found, extra


_NUMERIC_CODE = re.compile(r"^(\d{1,5})(?:\.0+)?$")


def _code_and_mods(raw: str) -> tuple[str, tuple[str, ...]]:
    parts = [p for p in _MOD_SPLIT.split(raw.strip().upper()) if p]
    code = parts[0] if parts else ""
    numeric = _NUMERIC_CODE.match(code)
    if numeric:  # a spreadsheet kept the code as a number: 99214.0, or 100 for anaesthesia code 00100
        digits = numeric.group(1)
        # The only all-digit CPT codes with leading zeros are anaesthesia's 00100-01999; any other short
        # number is a typo, refused below rather than padded into a code nobody billed.
        code = digits.zfill(5) if len(digits) < 5 and 100 <= int(digits) <= 1999 else digits
    return code, tuple(parts[1:])


#: Rows with a code in one report: a busy clinician's year is a few thousand; more is not one clinician's
#: report. (Reading the file stops earlier still at tables.MAX_ROWS rows of any kind, blank ones included.)
MAX_ROWS = 200_000


def _reading(rows: Iterable[Sequence[str]], filename: str) -> Iterator[Sequence[str]]:
    """The rows, with an unreadable one (the upload limits of :mod:`rvuedge.logbook.tables`) as a ReportError."""
    try:
        yield from rows
    except TableError as exc:
        raise ReportError(f"{filename}: {exc}") from None


def parse_report(headers: Sequence[str], rows: Iterable[Sequence[str]], filename: str = "report",
                 *, max_errors: int = 50, max_rows: int = MAX_ROWS) -> ReportTable:
    """Read an employer's report (header row + data rows as strings; the header row may follow a title block of
    up to 14 rows). All rows are checked before anything is returned; any bad row raises :class:`ReportError`
    listing up to ``max_errors`` of them. Line numbers are the file's (the first row is line 1)."""
    rows = _reading(rows, filename)
    headers, header_line = _header_row(headers, rows)
    cols, extra = detect_columns(headers, filename)
    layout = _layout(filename, headers, cols, extra)
    lines, skipped = _read_lines(rows, layout, header_line + 1, max_errors, max_rows)
    if not lines:
        raise ReportError(f"{filename}: no rows with a code below the header row")
    return ReportTable(filename, _columns_used(headers, cols, extra), lines, skipped)


def _header_row(headers: Sequence[str], rows: Iterator[Sequence[str]]) -> tuple[Sequence[str], int]:
    """The header row and its line: the first row, or the first header-like row of a title block above it."""
    if _is_header(headers):
        return headers, 1
    for n in range(2, HEADER_SEARCH_ROWS + 1):
        row = next(rows, None)
        if row is None:
            break
        if _is_header(row):
            return list(row), n
    return headers, 1


@dataclass(frozen=True)
class _Layout:
    """Where a report's fields are: column indexes, the column names messages use, the modifier columns."""

    filename: str
    cols: dict[str, int]
    names: dict[str, str]
    mod_columns: list[tuple[int, str]]


def _layout(filename: str, headers: Sequence[str], cols: dict[str, int], extra: list[int]) -> _Layout:
    """The report's layout from its header row and detected columns."""
    names = {f: (headers[i].strip() or column_letter(i)) for f, i in cols.items()}
    mod_columns = [(cols["modifiers"], names["modifiers"])] if "modifiers" in cols else []
    mod_columns += [(i, headers[i].strip() or column_letter(i)) for i in extra]
    return _Layout(filename, cols, names, mod_columns)


def _columns_used(headers: Sequence[str], cols: dict[str, int], extra: list[int]) -> dict[str, str]:
    """field -> the header of the column read for it (the modifier columns joined)."""
    columns = {f: headers[i].strip() for f, i in cols.items()}
    if extra:
        columns["modifiers"] = ", ".join(filter(None, [columns.get("modifiers", "")]
                                                + [headers[i].strip() for i in extra]))
    return columns


def _cell(row: Sequence[str], i: int | None) -> str:
    """The cell in column ``i`` of the row, stripped ("" when the column is absent or the row short)."""
    return (row[i] if i is not None and i < len(row) else "").strip()


class _BadRow(Exception):
    """A row that cannot be read; the message is "file, line N, column X: why"."""


def _read_lines(rows: Iterable[Sequence[str]], layout: _Layout, first_line: int, max_errors: int,
                max_rows: int) -> tuple[list[ReportLine], int]:
    """(the report's lines, rows skipped); raises ReportError listing up to ``max_errors`` bad rows."""
    lines: list[ReportLine] = []
    errors: list[str] = []
    skipped = 0
    filename = layout.filename
    for n, row in enumerate(rows, start=first_line):
        code_raw = _cell(row, layout.cols["code"])
        if not code_raw:  # blank, subtotal or footer row ("Total", "Page 2 of 5")
            skipped += 1
            continue
        if len(lines) >= max_rows:
            raise ReportError(f"{filename}: more than {max_rows:,} rows with a code; upload one clinician's report, "
                              "or split the file by date")
        try:
            lines.extend(_read_row(n, row, code_raw, layout))
        except _BadRow as exc:
            errors.append(str(exc))
            if len(errors) >= max_errors:
                break
    if errors:
        more = f" (showing the first {max_errors})" if len(errors) >= max_errors else ""
        raise ReportError(f"{filename}: {len(errors)} row{'s' if len(errors) != 1 else ''} cannot be read{more}; "
                          "nothing was kept. " + errors[0], errors)
    return lines, skipped


def _read_row(n: int, row: Sequence[str], code_raw: str, layout: _Layout) -> list[ReportLine]:
    """The lines of one row: one, or one per code of a cell that packs several (one unit each, minus one on a void)."""
    parts = _packed_codes(code_raw)
    if parts:
        return [_read_line(n, row, part, layout, packed=code_raw) for part in parts]
    return [_read_line(n, row, code_raw, layout)]


def _read_line(n: int, row: Sequence[str], code_raw: str, layout: _Layout, packed: str = "") -> ReportLine:
    """One line from a row and one code of its code cell (raises _BadRow, checking the fields in column order)."""
    where = f"{layout.filename}, line {n}"
    code, mods = _code_and_mods(code_raw)
    if not _CODE_RE.match(code):
        raise _BadRow(f"{where}, column {layout.names['code']}: {quote(code_raw)} is not a CPT/HCPCS code")
    date, post_date = _dates(where, row, layout)
    all_mods = _modifiers(where, row, layout, mods)
    units = _units(where, row, layout)
    wrvu = _wrvu(where, row, layout)
    packed_wrvu = None
    if packed:
        voided = units < 0 or (wrvu is not None and wrvu < 0)
        units = -1 if voided else 1
        packed = packed.strip()
        packed_wrvu, wrvu = wrvu, None  # one total for the cell: not split between its codes
    cols = layout.cols
    performing, billing = _cell(row, cols.get("performing")), _cell(row, cols.get("billing"))
    billed_by = billing if performing and billing and _person(performing) != _person(billing) else ""
    return ReportLine(n, date, code, all_mods, units, wrvu, post_date, _cell(row, cols.get("txn"))[:40],
                      billed_by[:80], packed[:120], _cell(row, cols.get("void_of"))[:40], packed_wrvu)


def _dates(where: str, row: Sequence[str], layout: _Layout) -> tuple[dt.date, dt.date | None]:
    """(date of service, post date or month if the report has one)."""
    date_raw = _cell(row, layout.cols["date"])
    try:
        date = parse_date(date_raw)
    except ValueError as exc:
        raise _BadRow(f"{where}, column {layout.names['date']}: {exc if date_raw else 'no date of service'}") from None
    post_date = None
    for key in ("post_date", "post_month"):
        raw = _cell(row, layout.cols.get(key))
        if raw:
            try:
                post_date = parse_date(raw) if key == "post_date" else parse_month(raw)
            except ValueError as exc:
                raise _BadRow(f"{where}, column {layout.names[key]}: {exc}") from None
    return date, post_date


def _modifiers(where: str, row: Sequence[str], layout: _Layout, code_mods: tuple[str, ...]) -> tuple[str, ...]:
    """The modifiers after the code and in the modifier columns, each once, in order."""
    sources = [(layout.names["code"], code_mods)]
    for i, name in layout.mod_columns:
        sources.append((name, tuple(m for m in _MOD_SPLIT.split(_cell(row, i).upper()) if m)))
    for name, found in sources:
        bad = [m for m in found if len(m) != 2 or not m.isalnum()]
        if bad:
            raise _BadRow(f"{where}, column {name}: {quote(bad[0])} is not a modifier")
    return tuple(dict.fromkeys(m for _name, found in sources for m in found))


def _units(where: str, row: Sequence[str], layout: _Layout) -> int:
    """The row's units: 1 when there is no units column or the cell is blank; negative on a void row."""
    units_raw = _cell(row, layout.cols.get("units"))
    if not units_raw:
        return 1
    try:
        value = Decimal(units_raw)
        # negative: a void (reversal) row, netted against its charge per service
        if not value.is_finite() or value != value.to_integral_value() or not 1 <= abs(value) <= 9999:
            raise InvalidOperation
    except InvalidOperation:
        raise _BadRow(f"{where}, column {layout.names['units']}: {quote(units_raw)} is not a whole number of "
                      "units") from None
    return int(value)


def _wrvu(where: str, row: Sequence[str], layout: _Layout) -> Decimal | None:
    """The row's wRVU (a blank cell is 0), or None when the report has no wRVU column."""
    if "wrvu" not in layout.cols:
        return None
    wrvu_raw = _cell(row, layout.cols["wrvu"]).replace(",", "")
    try:
        wrvu = Decimal(wrvu_raw) if wrvu_raw else ZERO
        if not wrvu.is_finite() or abs(wrvu) >= 10_000:
            raise InvalidOperation
    except InvalidOperation:
        raise _BadRow(f"{where}, column {layout.names['wrvu']}: {quote(wrvu_raw)} is not a wRVU number") from None
    return wrvu


_PACK_SPLIT = re.compile(r"\s*[,;]\s*")


def _packed_codes(raw: str) -> list[str]:
    """The codes of a cell that packs several ("19301, 38525-51, 38900"), else [] (one code, perhaps with
    modifiers after a comma: "99213, 25")."""
    parts = [p for p in _PACK_SPLIT.split(raw.strip()) if p]
    if len(parts) < 2 or not all(_CODE_RE.match(_code_and_mods(p)[0]) for p in parts):
        return []
    return parts


def _person(name: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", name.lower()).split())


_MONTH_FORMATS = (re.compile(r"^(\d{4})\s*[-/]\s*(\d{1,2})$"), re.compile(r"^(\d{1,2})\s*/\s*(\d{4})$"))


def parse_month(raw: str) -> dt.date:
    """A post month ("2026 - 10", "2026-10", "10/2026") as its first day."""
    text = raw.strip()
    for i, pattern in enumerate(_MONTH_FORMATS):
        m = pattern.match(text)
        if m:
            year, month = (int(m.group(1)), int(m.group(2))) if i == 0 else (int(m.group(2)), int(m.group(1)))
            if 1 <= month <= 12 and 1990 <= year <= 2100:
                return dt.date(year, month, 1)
    try:
        return parse_date(text).replace(day=1)
    except ValueError:
        raise ValueError(f"{quote(raw)} is not a month (use YYYY-MM)") from None


def post_period(lines: Sequence[ReportLine], month: bool) -> tuple[dt.date, dt.date, int] | None:
    """(first, last post day, the longest service-to-post lag in days) of a report bucketed by post date."""
    posted = [ln for ln in lines if ln.post_date is not None]
    if not posted:
        return None
    first = min(ln.post_date for ln in posted)  # type: ignore[type-var]
    last = max(ln.post_date for ln in posted)  # type: ignore[type-var]
    if month:
        last = _month_end(last)
    # (a post month counts from its first day: the smallest lag that puts the service in that month)
    lag = max(ln.post_date - ln.date for ln in posted).days  # type: ignore[operator]
    return first, last, max(lag, 0)


def _month_end(day: dt.date) -> dt.date:
    nxt = day.replace(day=28) + dt.timedelta(days=4)
    return nxt - dt.timedelta(days=nxt.day)
