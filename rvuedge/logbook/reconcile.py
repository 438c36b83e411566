"""Reconcile the log against an employer's RVU report, line by line. Pure Python, no Django.

Employers' reports are late, opaque and sometimes wrong: a charge never entered, a code billed a level lower,
a modifier dropped, a unit lost, a reduction the contract does not allow. :func:`parse_report` reads the
report's rows (date of service, code, modifiers, units and, when the report has it, the credited wRVU);
:func:`reconcile` compares them with the clinician's own log and says, for every service, what differs and
what it is worth.

Services are compared as *groups*: one date of service, one code and its pricing modifiers (26, TC, 50, 62,
80, ...; payment-neutral ones such as 25, 59 or RT never make two services different). Units and wRVUs are
summed within a group, so a report that lists a three-unit line as three rows still matches. Groups left over
on one side are paired, on the same date, first with the same code under other pricing modifiers, then with a
code of the same family (first four characters: 99214 vs 99215); what is still left is missing from the
report (a missed charge) or absent from the log.

    >>> from decimal import Decimal as D
    >>> import datetime as dt
    >>> day = dt.date(2026, 3, 2)
    >>> log = [LogLine(day, "99215", (), 1, D("2.80"), 1, "99215")]
    >>> report = [ReportLine(7, day, "99214", (), 1, D("1.92"))]
    >>> [(i.status, str(i.difference)) for i in reconcile(log, report).items]
    [('code_differs', '-0.88')]
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from rvuedge.pricing.engine import MODIFIER_KINDS

from .tables import TableError, norm_header, parse_date, quote

__all__ = [
    "STATUSES",
    "LogLine",
    "Reconciliation",
    "ReportError",
    "ReportLine",
    "ReportTable",
    "detect_columns",
    "parse_report",
    "reconcile",
]

ZERO = Decimal("0")
CENT = Decimal("0.01")

#: Modifiers that change what a service is worth; the rest (25, 59, RT, GC, ...) never split a group.
PRICING_MODIFIERS = frozenset(m for m, kind in MODIFIER_KINDS.items()
                              if kind in ("comp", "disc", "reduced", "bilat", "role", "split", "anes"))

#: status -> (title, what it means for the clinician), in the order the page shows them.
STATUSES: dict[str, tuple[str, str]] = {
    "missing": ("Missing from the report", "in your log, not in the report: a charge that may never have been entered"),
    "code_differs": ("Different code", "the report has another code of the same family that day (a downcode?)"),
    "modifier_differs": ("Different modifiers", "same code that day, billed with other pricing modifiers"),
    "units_differ": ("Different units", "same service, a different number of units"),
    "credit_differs": ("Different credit", "same service, but the report credits another wRVU"),
    "not_in_log": ("Not in your log", "in the report but not in your log (log it, or ask why it is there)"),
    "matched": ("Matched", "same service, same units and the same credit"),
}
PROBLEMS = tuple(s for s in STATUSES if s != "matched")

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


@dataclass(frozen=True)
class LogLine:
    date: dt.date
    code: str
    modifiers: tuple[str, ...]
    units: int
    wrvu: Decimal
    encounter: int  # the encounter's id, to link back to it
    entry: str  # the encounter's rapid-entry text, for context
    payment: Decimal | None = None


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
        period = _post_period(self.lines, month="post_month" in self.columns and "post_date" not in self.columns)
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


def _letter(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


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
                f"{filename}: column {_letter(i)} ({headers[i].strip()!r}) looks like a patient identifier. "
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
    header_line = 1
    if not _is_header(headers):  # a title block above the header row: find the header below it
        for n in range(2, HEADER_SEARCH_ROWS + 1):
            row = next(rows, None)
            if row is None:
                break
            if _is_header(row):
                headers, header_line = list(row), n
                break
    cols, extra = detect_columns(headers, filename)
    names = {f: (headers[i].strip() or _letter(i)) for f, i in cols.items()}
    lines: list[ReportLine] = []
    errors: list[str] = []
    skipped = 0

    def cell(row: Sequence[str], i: int | None) -> str:
        return (row[i] if i is not None and i < len(row) else "").strip()

    mod_columns = [(cols["modifiers"], names["modifiers"])] if "modifiers" in cols else []
    mod_columns += [(i, headers[i].strip() or _letter(i)) for i in extra]

    def read(n: int, row: Sequence[str], code_raw: str) -> list[ReportLine] | str:
        parts = _packed_codes(code_raw)
        if parts:  # several codes in one cell: one line each, one unit each (a void row: minus one)
            got = [read_one(n, row, part, packed=code_raw) for part in parts]
            bad = next((g for g in got if isinstance(g, str)), None)
            return bad if bad is not None else got  # type: ignore[return-value]
        one = read_one(n, row, code_raw)
        return one if isinstance(one, str) else [one]

    def read_one(n: int, row: Sequence[str], code_raw: str, packed: str = "") -> ReportLine | str:
        where = f"{filename}, line {n}"
        code, mods = _code_and_mods(code_raw)
        if not _CODE_RE.match(code):
            return f"{where}, column {names['code']}: {quote(code_raw)} is not a CPT/HCPCS code"
        date_raw = cell(row, cols["date"])
        try:
            date = parse_date(date_raw)
        except ValueError as exc:
            return f"{where}, column {names['date']}: {exc if date_raw else 'no date of service'}"
        post_date = None
        for key in ("post_date", "post_month"):
            raw = cell(row, cols.get(key))
            if raw:
                try:
                    post_date = parse_date(raw) if key == "post_date" else parse_month(raw)
                except ValueError as exc:
                    return f"{where}, column {names[key]}: {exc}"
        sources = [(names["code"], mods)]
        for i, name in mod_columns:
            sources.append((name, tuple(m for m in _MOD_SPLIT.split(cell(row, i).upper()) if m)))
        for name, found in sources:
            bad = [m for m in found if len(m) != 2 or not m.isalnum()]
            if bad:
                return f"{where}, column {name}: {quote(bad[0])} is not a modifier"
        units = 1
        units_raw = cell(row, cols.get("units"))
        if units_raw:
            try:
                value = Decimal(units_raw)
                # negative: a void (reversal) row, netted against its charge per service
                if not value.is_finite() or value != value.to_integral_value() or not 1 <= abs(value) <= 9999:
                    raise InvalidOperation
            except InvalidOperation:
                return f"{where}, column {names['units']}: {quote(units_raw)} is not a whole number of units"
            units = int(value)
        wrvu = None
        if "wrvu" in cols:
            wrvu_raw = cell(row, cols["wrvu"]).replace(",", "")
            try:
                wrvu = Decimal(wrvu_raw) if wrvu_raw else ZERO
                if not wrvu.is_finite() or abs(wrvu) >= 10_000:
                    raise InvalidOperation
            except InvalidOperation:
                return f"{where}, column {names['wrvu']}: {quote(wrvu_raw)} is not a wRVU number"
        all_mods = tuple(dict.fromkeys(m for _name, found in sources for m in found))
        packed_wrvu = None
        if packed:
            voided = units < 0 or (wrvu is not None and wrvu < 0)
            units = -1 if voided else 1
            packed = packed.strip()
            packed_wrvu, wrvu = wrvu, None  # one total for the cell: not split between its codes
        performing, billing = cell(row, cols.get("performing")), cell(row, cols.get("billing"))
        billed_by = billing if performing and billing and _person(performing) != _person(billing) else ""
        return ReportLine(n, date, code, all_mods, units, wrvu, post_date, cell(row, cols.get("txn"))[:40],
                          billed_by[:80], packed[:120], cell(row, cols.get("void_of"))[:40], packed_wrvu)

    for n, row in enumerate(rows, start=header_line + 1):
        code_raw = cell(row, cols["code"])
        if not code_raw:  # blank, subtotal or footer row ("Total", "Page 2 of 5")
            skipped += 1
            continue
        if len(lines) >= max_rows:
            raise ReportError(f"{filename}: more than {max_rows:,} rows with a code; upload one clinician's report, "
                              "or split the file by date")
        got = read(n, row, code_raw)
        if isinstance(got, str):
            errors.append(got)
            if len(errors) >= max_errors:
                break
        else:
            lines.extend(got)
    if errors:
        more = f" (showing the first {max_errors})" if len(errors) >= max_errors else ""
        raise ReportError(f"{filename}: {len(errors)} row{'s' if len(errors) != 1 else ''} cannot be read{more}; "
                          "nothing was kept. " + errors[0], errors)
    if not lines:
        raise ReportError(f"{filename}: no rows with a code below the header row")
    columns = {f: headers[i].strip() for f, i in cols.items()}
    if extra:
        columns["modifiers"] = ", ".join(filter(None, [columns.get("modifiers", "")]
                                                + [headers[i].strip() for i in extra]))
    return ReportTable(filename, columns, lines, skipped)


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


# --------------------------------------------------------------------------- matching

def pricing_mods(mods: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({m for m in mods if m in PRICING_MODIFIERS}))


@dataclass
class Side:
    """One side (log or report) of a service group."""

    units: int = 0
    wrvu: Decimal | None = ZERO
    modifiers: tuple[str, ...] = ()
    refs: list[int] = field(default_factory=list)  # encounter ids (log) or file lines (report)
    entries: list[str] = field(default_factory=list)
    payment: Decimal | None = None
    # report side only: its rows when a void was among them, the billing provider when not the performing one,
    # the packed cells it came from, and the latest post date
    history: list[str] = field(default_factory=list)
    billed_by: list[str] = field(default_factory=list)
    packed: list[str] = field(default_factory=list)
    posted: dt.date | None = None
    voided: bool = False

    def add_wrvu(self, value: Decimal | None) -> None:
        self.wrvu = None if value is None or self.wrvu is None else self.wrvu + value


@dataclass
class Item:
    status: str
    date: dt.date
    code: str
    log: Side | None
    report: Side | None
    report_code: str | None = None
    difference: Decimal | None = None  # report wRVU - log wRVU (negative: credited less than logged)
    note: str = ""
    reason: str = ""  # a key of REASONS: the most likely reason for the difference ("" when matched)
    why: str = ""  # the reason said for this service: the rule, the source row and the fix

    @property
    def title(self) -> str:
        return STATUSES[self.status][0]

    @property
    def reason_title(self) -> str:
        return REASONS[self.reason][0] if self.reason else ""

    @property
    def at_stake(self) -> Decimal:
        """wRVU the report does not credit for this service (what the billing office is asked about)."""
        if self.status == "missing" and self.log is not None and self.log.wrvu is not None:
            return self.log.wrvu
        if self.difference is not None and self.difference < 0 and self.status not in ("not_in_log", "matched"):
            return -self.difference
        return ZERO

    def to_dict(self) -> dict[str, Any]:
        def side(s: Side | None, code: str, report: bool = False) -> dict[str, Any] | None:
            if s is None:
                return None
            out = {"code": code, "modifiers": list(s.modifiers), "units": s.units,
                   "wrvu": None if s.wrvu is None else str(s.wrvu), "refs": s.refs, "entries": s.entries,
                   "payment": None if s.payment is None else str(s.payment)}
            if report:  # what the billing system's rows said: voids, provider, packed cells, post date
                out.update(history=s.history, billed_by=s.billed_by, packed=s.packed,
                           posted=None if s.posted is None else s.posted.isoformat())
            return out

        return {"status": self.status, "title": self.title, "date": self.date.isoformat(),
                "code": self.code, "log": side(self.log, self.code),
                "report": side(self.report, self.report_code or self.code, report=True),
                "difference": None if self.difference is None else str(self.difference), "note": self.note,
                "reason": self.reason, "reason_title": self.reason_title, "why": self.why,
                "at_stake": str(self.at_stake)}


@dataclass
class Reconciliation:
    items: list[Item]
    start: dt.date
    end: dt.date
    has_wrvu: bool
    log_wrvu: Decimal
    report_wrvu: Decimal | None
    date_basis: str = ""
    post_period: tuple[dt.date, dt.date] | None = None

    def by_reason(self) -> list[dict[str, Any]]:
        """Differences summed per reason: how many services and the wRVU at stake, largest first."""
        out: dict[str, dict[str, Any]] = {}
        for item in self.items:
            if not item.reason:
                continue
            row = out.setdefault(item.reason, {"reason": item.reason, "title": REASONS[item.reason][0],
                                               "means": REASONS[item.reason][1], "count": 0, "wrvu": ZERO})
            row["count"] += 1
            row["wrvu"] += item.at_stake
        for row in out.values():
            row["wrvu"] = row["wrvu"].quantize(CENT)
        return sorted(out.values(), key=lambda r: (-r["wrvu"], -r["count"], r["reason"]))

    @property
    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for item in self.items:
            out[item.status] += 1
        return out

    def missed_by_date(self) -> list[tuple[dt.date, Decimal]]:
        """(date of service, wRVU) the report does not credit: missing services and every shortfall."""
        out = []
        for item in self.items:
            if item.status == "missing" and item.log is not None and item.log.wrvu is not None:
                out.append((item.date, item.log.wrvu))
            elif item.difference is not None and item.difference < 0 and item.status not in ("not_in_log", "matched"):
                out.append((item.date, -item.difference))
        return out

    @property
    def missing_wrvu(self) -> Decimal:
        """wRVU in the log that the report does not credit: missing services plus every shortfall."""
        return sum((w for _d, w in self.missed_by_date()), ZERO)

    @property
    def missing_payment(self) -> Decimal:
        """Medicare allowed amount of the services missing from the report (the log's own prices)."""
        return sum((i.log.payment for i in self.items if i.status == "missing" and i.log and i.log.payment),
                   ZERO)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(), "end": self.end.isoformat(), "has_wrvu": self.has_wrvu,
            "log_wrvu": str(self.log_wrvu),
            "report_wrvu": None if self.report_wrvu is None else str(self.report_wrvu),
            "missing_wrvu": str(self.missing_wrvu), "missing_payment": str(self.missing_payment),
            "counts": self.counts, "items": [i.to_dict() for i in self.items],
            "date_basis": self.date_basis,
            "post_period": None if self.post_period is None else [d.isoformat() for d in self.post_period],
            "reasons": [{**r, "wrvu": str(r["wrvu"])} for r in self.by_reason()],
        }


def _fmt(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.quantize(CENT)}"


def _text(code: str, mods: Sequence[str], units: int) -> str:
    return code + "".join(f"-{m}" for m in mods) + (f" x{units}" if units != 1 else "")


def _groups_log(lines: Iterable[LogLine]) -> dict[tuple[dt.date, str, tuple[str, ...]], Side]:
    out: dict[tuple[dt.date, str, tuple[str, ...]], Side] = {}
    for ln in lines:
        key = (ln.date, ln.code, pricing_mods(ln.modifiers))
        side = out.get(key)
        if side is None:
            side = out[key] = Side(modifiers=key[2], wrvu=ZERO, payment=None)
        side.units += ln.units
        side.add_wrvu(ln.wrvu)
        if ln.payment is not None:
            side.payment = (side.payment or ZERO) + ln.payment
        if ln.encounter not in side.refs:
            side.refs.append(ln.encounter)
            side.entries.append(ln.entry)
    return out


def _row_text(ln: ReportLine) -> str:
    void = ln.units < 0 or (ln.wrvu is not None and ln.wrvu < 0)
    what = "void" if void else "charge"
    txn = f" transaction {ln.txn}" if ln.txn else ""
    of = f" (voids {ln.void_of})" if ln.void_of else ""
    posted = f", posted {ln.post_date.isoformat()}" if ln.post_date else ""
    wrvu = "" if ln.wrvu is None else f" {ln.wrvu} wRVU"
    return f"line {ln.line}{txn}: {what} {_text(ln.code, ln.modifiers, abs(ln.units))}{wrvu}{of}{posted}"


def _groups_report(lines: Iterable[ReportLine], has_wrvu: bool) -> dict[tuple[dt.date, str, tuple[str, ...]], Side]:
    """Report rows per service, voids netted against their charges (a void and its repost leave one service,
    with the rows kept as its history)."""
    out: dict[tuple[dt.date, str, tuple[str, ...]], Side] = {}
    rows: dict[tuple[dt.date, str, tuple[str, ...]], list[ReportLine]] = {}
    for ln in lines:
        key = (ln.date, ln.code, pricing_mods(ln.modifiers))
        side = out.get(key)
        if side is None:
            side = out[key] = Side(modifiers=key[2], wrvu=ZERO if has_wrvu else None)
        side.units += ln.units
        side.add_wrvu(ln.wrvu if has_wrvu else None)
        side.refs.append(ln.line)
        rows.setdefault(key, []).append(ln)
        if ln.units < 0 or (ln.wrvu is not None and ln.wrvu < 0) or ln.void_of:
            side.voided = True
        if ln.billed_by and ln.units > 0 and ln.billed_by not in side.billed_by:
            side.billed_by.append(ln.billed_by)
        if ln.packed:
            cell = ln.packed + ("" if ln.packed_wrvu is None else f" = {ln.packed_wrvu} wRVU")
            if cell not in side.packed:
                side.packed.append(cell)
        if ln.post_date and (side.posted is None or ln.post_date > side.posted):
            side.posted = ln.post_date
    for key, side in out.items():
        side.history = [_row_text(ln) for ln in sorted(rows[key], key=lambda r: r.line)]
    return out


def _keep_history(rep: dict[tuple[dt.date, str, tuple[str, ...]], Side],
                  voided: dict[tuple[dt.date, str, tuple[str, ...]], Side]) -> None:
    """A report side keeps its rows as history only when voids were involved: its own, or a voided charge of the
    same date and code family that it reposts (a correction voids and reposts under a new id)."""
    for key, side in rep.items():
        gone = [v for vkey, v in sorted(voided.items()) if vkey[0] == key[0] and vkey[1][:4] == key[1][:4]]
        if gone:
            side.history = [h for v in gone for h in v.history] + [f"reposted: {h}" for h in side.history]
        elif not side.voided:
            side.history = []


def _diff(log: Side, report: Side) -> Decimal | None:
    if log.wrvu is None or report.wrvu is None:
        return None
    return report.wrvu - log.wrvu


def _credit_note(diff: Decimal | None, log: Side, report: Side) -> str:
    if diff is None or not diff:
        return ""
    way = "less" if diff < 0 else "more"
    return f"; the report credits {_fmt(report.wrvu)} wRVU, your log {_fmt(log.wrvu)} ({_fmt(abs(diff))} {way})"


def _compare_packed(items: list[Item], lines: Sequence[ReportLine], tolerance: Decimal) -> Decimal:
    """Cells packing several codes carry one wRVU total: compare it with the log's credit for those codes (a
    note on each of the cell's services) and return the sum of the cells' totals (for the report's total)."""
    cells: dict[int, tuple[str, Decimal]] = {}
    for ln in lines:
        if ln.packed and ln.packed_wrvu is not None:
            cells[ln.line] = (ln.packed, ln.packed_wrvu)
    for n, (cell, total) in cells.items():
        mine = [i for i in items if i.report is not None and n in i.report.refs]
        logged = sum((i.log.wrvu for i in mine if i.log is not None and i.log.wrvu is not None), ZERO)
        diff = total - logged
        if abs(diff) >= tolerance:
            way = "more" if diff > 0 else "less"
            for i in mine:
                i.note = "; ".join(filter(None, [i.note, (
                    f"line {n} packs {cell} with one total of {_fmt(total)} wRVU; your log credits those codes "
                    f"{_fmt(logged)} ({_fmt(abs(diff))} {way} in the report)")]))
    return sum((total for _cell, total in cells.values()), ZERO)


def _post_period(lines: Sequence[ReportLine], month: bool) -> tuple[dt.date, dt.date, int] | None:
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


def reconcile(log_lines: Iterable[LogLine], report_lines: Iterable[ReportLine], *, has_wrvu: bool | None = None,
              tolerance: Decimal = CENT, findings: Iterable[Any] = (), columns: dict[str, str] | None = None
              ) -> Reconciliation:
    """Compare the log with the report over the report's dates (log lines outside them are ignored).

    ``findings`` are :class:`rvuedge.logbook.rules.Finding` s on the log's lines: the rules that explain a
    difference. ``columns`` are the report's (to say its date basis; a post-month column reads as months).
    """
    report_lines = list(report_lines)
    if not report_lines:
        raise ReportError("the report has no lines")
    columns = columns or {}
    if has_wrvu is None:
        has_wrvu = all(ln.wrvu is not None for ln in report_lines)
    start = min(ln.date for ln in report_lines)
    end = max(ln.date for ln in report_lines)
    period = _post_period(report_lines, month="post_month" in columns and "post_date" not in columns)
    if period is not None:
        end = max(end, period[1])
    log = _groups_log(ln for ln in log_lines if start <= ln.date <= end)
    rep = _groups_report(report_lines, has_wrvu)
    # A service voided and not reposted nets to nothing: it is not in the report (its rows are kept to say so).
    voided = {k: rep.pop(k) for k in [k for k, v in rep.items() if v.voided and v.units == 0
                                       and (v.wrvu is None or abs(v.wrvu) < tolerance)]}
    _keep_history(rep, voided)
    items: list[Item] = []

    # 1. the same service on both sides: compare units and credit
    for key in sorted(set(log) & set(rep)):
        date, code, _mods = key
        a, b = log.pop(key), rep.pop(key)
        diff = _diff(a, b)
        if a.units != b.units:
            status = "units_differ"
            note = f"you logged {_text(code, key[2], a.units)} that day, the report has {b.units}"
            note += _credit_note(diff, a, b)
        elif diff is not None and abs(diff) >= tolerance:
            status = "credit_differs"
            note = _credit_note(diff, a, b)[2:]
        else:
            status, note = "matched", ""
        items.append(Item(status, date, code, a, b, difference=diff, note=note))

    # 2./3. left-overs on the same date: same code with other pricing modifiers, then the same code family
    def pair(same: Any, status: str) -> None:
        by_date: dict[dt.date, list[tuple[dt.date, str, tuple[str, ...]]]] = {}
        for rkey in sorted(rep):
            by_date.setdefault(rkey[0], []).append(rkey)
        for lkey in sorted(log):
            candidates = by_date.get(lkey[0], [])
            for rkey in candidates:
                if same(lkey, rkey):
                    candidates.remove(rkey)
                    a, b = log.pop(lkey), rep.pop(rkey)
                    diff = _diff(a, b)
                    if status == "modifier_differs":
                        note = (f"you logged {_text(lkey[1], lkey[2], a.units)}, the report has "
                                f"{_text(rkey[1], rkey[2], b.units)}")
                    else:
                        note = f"you logged {lkey[1]}, the report has {rkey[1]} that day"
                    note += _credit_note(diff, a, b)
                    items.append(Item(status, lkey[0], lkey[1], a, b, report_code=rkey[1], difference=diff,
                                      note=note))
                    break

    pair(lambda lk, rk: lk[1] == rk[1], "modifier_differs")
    pair(lambda lk, rk: lk[1][:4] == rk[1][:4], "code_differs")

    # 4. what is left on one side only
    for (date, code, mods), a in sorted(log.items()):
        diff = None if a.wrvu is None else -a.wrvu
        items.append(Item("missing", date, code, a, None, difference=diff if has_wrvu else None,
                          note=f"{_text(code, mods, a.units)} is in your log ({_fmt(a.wrvu)} wRVU) and not in the "
                               "report"))
    for (date, code, mods), b in sorted(rep.items()):
        items.append(Item("not_in_log", date, code, None, b, difference=b.wrvu,
                          note=f"{_text(code, mods, b.units)} is in the report (line "
                               f"{', '.join(map(str, sorted(b.refs)))}) and not in your log"))
    order = {s: i for i, s in enumerate(STATUSES)}
    for item in items:  # the same answer whatever order the lines came in
        for side in (item.log, item.report):
            if side is not None:
                pairs = sorted(zip(side.refs, side.entries or [""] * len(side.refs), strict=True))
                side.refs = [r for r, _e in pairs]
                side.entries = [e for _r, e in pairs] if side.entries else []
    packed_total = _compare_packed(items, report_lines, tolerance) if has_wrvu else ZERO
    explain = _Explainer(findings, voided, period, tolerance)
    for item in items:
        if item.status != "matched":
            item.reason, item.why = explain(item)
    items.sort(key=lambda i: (order[i.status], i.date, i.code))
    log_wrvu = sum((i.log.wrvu for i in items if i.log is not None and i.log.wrvu is not None), ZERO)
    report_wrvu = sum((i.report.wrvu for i in items if i.report is not None and i.report.wrvu is not None),
                      packed_total) if has_wrvu else None
    return Reconciliation(items, start, end, has_wrvu, log_wrvu, report_wrvu,
                          date_basis=date_basis(columns) if columns else "date of service",
                          post_period=None if period is None else (period[0], period[1]))


# --------------------------------------------------------------------------- reasons

#: reason -> (title, what it means). Rule reasons come from rvuedge.logbook.rules (same rules as at logging time).
REASONS: dict[str, tuple[str, str]] = {
    "global_period": ("Inside a global period without the modifier",
                      "an E/M visit inside the global package of your own procedure (needs 24, 25 or 57)"),
    "procedure_in_global": ("Procedure inside a global period without 58/78/79",
                            "a second procedure in the post-op days of another"),
    "endo_base": ("Endoscopy base bundled into its family", "the base pays 0 beside a family member"),
    "addon_without_primary": ("Add-on code without its primary", "an add-on is paid only with a primary that day"),
    "status_not_paid": ("Not separately paid (status B/P/T/N/I)", "Medicare status code: bundled, not covered or "
                                                                  "not valid for Medicare"),
    "bilateral": ("Bilateral as RT + LT vs -50", "one side of a bilateral procedure billed differently"),
    "downcoded": ("Downcoded", "the report has a lower code of the same family"),
    "modifier": ("Modifier difference", "other pricing modifiers change the credit"),
    "employer_adjustment": ("Employer's wRVU already adjusted",
                            "same service and units; the employer applied its own multiplier or credits the code 0"),
    "another_provider": ("Billed under another provider", "incident-to or a shared visit billed under someone else"),
    "posted_after_period": ("Posted after the report's period",
                            "a late charge: look for it in the next period's report"),
    "before_period": ("Posted before the report's period",
                      "service date before the report's first post date: in an earlier report"),
    "voided": ("Voided in the report", "the charge was voided (and not reposted as the same service)"),
    "no_rule": ("No rule explains this; ask billing", "none of the rules explains the difference"),
}
_RULE_REASON = {"em_in_global": "global_period", "procedure_in_global": "procedure_in_global",
                "endo_base_with_family": "endo_base", "addon_without_primary": "addon_without_primary",
                "status_not_paid": "status_not_paid", "bilateral_rt_lt": "bilateral"}
RULE_PRIORITY = ("endo_base_with_family", "status_not_paid", "addon_without_primary", "bilateral_rt_lt",
                 "em_in_global", "procedure_in_global")
#: Multipliers employers apply to the work RVU before their report, most common first.
ADJUSTMENTS: tuple[tuple[Decimal, str], ...] = (
    (Decimal("0.5"), "a 50% multiple-procedure reduction (second and later procedures that day)"),
    (Decimal("0.85"), "85%: billed as a nurse practitioner or physician assistant"),
    (Decimal("1.5"), "150%: a bilateral procedure (-50)"),
    (Decimal("0.625"), "62.5%: co-surgery (-62)"),
    (Decimal("0.16"), "16%: assistant at surgery (-80/-82/-AS)"),
    (Decimal("0.25"), "25%: a 75% multiple-procedure reduction"),
    (Decimal("2"), "200%: a bilateral procedure at 100% each side"),
)
#: Codes many employers credit 0 whatever CMS publishes: vaccine and infusion/injection administration.
ADMIN_CODE_RANGES = (("90460", "90474"), ("96360", "96379"))
NO_RULE = "no rule explains this; ask billing"


def _admin(code: str) -> bool:
    return any(lo <= code <= hi for lo, hi in ADMIN_CODE_RANGES)


class _Explainer:
    """The most likely reason for one difference, from the rules' findings and the report's own history."""

    def __init__(self, findings: Iterable[Any], voided: dict[tuple[dt.date, str, tuple[str, ...]], Side],
                 period: tuple[dt.date, dt.date, int] | None, tolerance: Decimal):
        self.findings: dict[tuple[dt.date, str], list[Any]] = {}
        for f in findings:
            self.findings.setdefault((f.line.date, f.line.code), []).append(f)
        self.voided = voided
        self.period = period
        self.tolerance = tolerance

    def rule(self, item: Item, rules: tuple[str, ...] = RULE_PRIORITY) -> tuple[str, str] | None:
        """The finding on this service that best explains it: what is certain (a bundled base, a status) before
        what depends on the clinical story (a global period the visit may be unrelated to)."""
        found = {f.rule: f for f in reversed(self.findings.get((item.date, item.code), []))}
        for rule in rules:
            f = found.get(rule)
            if f is not None:
                return _RULE_REASON[f.rule], f"{f.message} Fix: {f.fix.rstrip('.')}. Source: {f.source}."
        return None

    def __call__(self, item: Item) -> tuple[str, str]:
        handler = getattr(self, item.status)
        return handler(item) or ("no_rule", f"{NO_RULE[0].upper()}{NO_RULE[1:]}.")

    def _voided_here(self, item: Item) -> str | None:
        for (day, code, _mods), side in sorted(self.voided.items()):
            if day == item.date and code == item.code:
                return "; ".join(side.history)
        return None

    def missing(self, item: Item) -> tuple[str, str] | None:
        history = self._voided_here(item)
        if history:
            return "voided", f"The report voided this charge and did not repost it: {history}."
        hit = self.rule(item)
        if hit:
            return hit
        if self.period is not None:
            first, last, lag = self.period
            if item.date < first:
                return "before_period", (f"Its date of service is before the report's first post date "
                                         f"({first.isoformat()}): it was most likely posted, and credited, in an "
                                         "earlier report.")
            if item.date > last - dt.timedelta(days=lag):
                return "posted_after_period", (
                    f"The report holds charges posted up to {last.isoformat()}, up to {lag} days after their date "
                    f"of service; a charge for {item.date.isoformat()} may post after that: look for it in the "
                    "next period's report before calling it missing.")
        return None

    def code_differs(self, item: Item) -> tuple[str, str] | None:
        rep = item.report_code or item.code
        if rep < item.code:
            return "downcoded", (f"Billed as {rep} instead of {item.code}, a lower code of the same family"
                                 + ("" if item.difference is None else f": {item.difference} wRVU") + ".")
        return None

    def modifier_differs(self, item: Item) -> tuple[str, str] | None:
        hit = self.rule(item, ("bilateral_rt_lt",))
        if hit:
            return hit
        assert item.log is not None and item.report is not None
        gone = [m for m in item.log.modifiers if m not in item.report.modifiers]
        added = [m for m in item.report.modifiers if m not in item.log.modifiers]
        parts = ([f"without -{'/-'.join(gone)}"] if gone else []) + ([f"with -{'/-'.join(added)}"] if added else [])
        effect = "" if item.difference is None else f"; effect on the credit: {item.difference} wRVU"
        return "modifier", f"The report has {item.report_code or item.code} {' and '.join(parts)}{effect}."

    def units_differ(self, item: Item) -> tuple[str, str] | None:
        if item.report is not None and item.report.history:
            return "voided", f"After voids the report nets {item.report.units} unit(s): " + "; ".join(
                item.report.history) + "."
        return None

    def credit_differs(self, item: Item) -> tuple[str, str] | None:
        assert item.log is not None and item.report is not None
        if item.report.billed_by:
            return "another_provider", (f"The report bills it under {', '.join(item.report.billed_by)} "
                                        "(incident-to or a shared visit): the credit goes to the billing provider.")
        log_w, rep_w = item.log.wrvu, item.report.wrvu
        if log_w is None or rep_w is None or item.difference is None:
            return None
        if not rep_w:  # credited 0: a rule that makes it unpaid explains it best
            hit = self.rule(item)
            if hit:
                return hit
        way = "less" if item.difference < 0 else "more"
        how = f"The report credits {_fmt(abs(item.difference))} wRVU {way} ({_fmt(log_w)} logged, {_fmt(rep_w)} credited)"
        if not rep_w and _admin(item.code):
            return "employer_adjustment", (f"{how}: the employer credits administration codes (vaccine, "
                                           "infusion and injection administration) 0.")
        for factor, what in ADJUSTMENTS:
            if log_w and abs(rep_w - (log_w * factor).quantize(CENT)) <= self.tolerance:
                return "employer_adjustment", f"{how}: it matches {what}."
        return "employer_adjustment", f"{how}; no known adjustment explains the ratio: ask billing."

    def not_in_log(self, item: Item) -> tuple[str, str] | None:
        assert item.report is not None
        if item.report.billed_by:
            return "another_provider", (f"Billed under {', '.join(item.report.billed_by)} (incident-to or a shared "
                                        "visit): check whose service it was.")
        if item.report.units < 0:
            return "voided", ("A void of a charge posted in an earlier report: "
                              + "; ".join(item.report.history) + ".")
        return None
