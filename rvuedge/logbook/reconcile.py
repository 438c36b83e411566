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
    "date": ("date of service", "dos", "service date", "svc date", "date", "from date", "visit date",
             "procedure date", "charge date"),
    "code": ("cpt", "cpt code", "hcpcs", "hcpcs code", "cpt/hcpcs", "cpt hcpcs", "procedure code", "proc code",
             "code", "billing code", "charge code"),
    "modifiers": ("modifiers", "modifier", "mods", "mod", "cpt modifier", "cpt modifiers"),
    "units": ("units", "unit", "qty", "quantity", "service units", "billed units"),
    "wrvu": ("wrvu", "wrvus", "work rvu", "work rvus", "credited wrvu", "credited wrvus", "wrvu credit",
             "total wrvu", "total wrvus", "rvu work", "work rvu credit"),
}
COLUMN_LABELS = {"date": "date of service", "code": "code", "modifiers": "modifiers", "units": "units",
                 "wrvu": "wRVU"}
_EXTRA_MOD_COLUMN = re.compile(r"^(?:mod|modifier)\s*#?\s*([1-4])$")

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
    units: int
    wrvu: Decimal | None

    def to_list(self) -> list[Any]:
        return [self.line, self.date.isoformat(), self.code, list(self.modifiers), self.units,
                None if self.wrvu is None else str(self.wrvu)]

    @classmethod
    def from_list(cls, v: Sequence[Any]) -> ReportLine:
        line, date, code, mods, units, wrvu = v
        return cls(int(line), dt.date.fromisoformat(date), code, tuple(mods), int(units),
                   None if wrvu is None else Decimal(wrvu))


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
        return max(ln.date for ln in self.lines)

    @property
    def has_wrvu(self) -> bool:
        return "wrvu" in self.columns


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

    def read(n: int, row: Sequence[str], code_raw: str) -> ReportLine | str:
        where = f"{filename}, line {n}"
        code, mods = _code_and_mods(code_raw)
        if not _CODE_RE.match(code):
            return f"{where}, column {names['code']}: {quote(code_raw)} is not a CPT/HCPCS code"
        date_raw = cell(row, cols["date"])
        try:
            date = parse_date(date_raw)
        except ValueError as exc:
            return f"{where}, column {names['date']}: {exc if date_raw else 'no date of service'}"
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
                if not value.is_finite() or value != value.to_integral_value() or not 1 <= value <= 9999:
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
        return ReportLine(n, date, code, all_mods, units, wrvu)

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
            lines.append(got)
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

    @property
    def title(self) -> str:
        return STATUSES[self.status][0]

    def to_dict(self) -> dict[str, Any]:
        def side(s: Side | None, code: str) -> dict[str, Any] | None:
            if s is None:
                return None
            return {"code": code, "modifiers": list(s.modifiers), "units": s.units,
                    "wrvu": None if s.wrvu is None else str(s.wrvu), "refs": s.refs, "entries": s.entries,
                    "payment": None if s.payment is None else str(s.payment)}

        return {"status": self.status, "title": self.title, "date": self.date.isoformat(),
                "code": self.code, "log": side(self.log, self.code),
                "report": side(self.report, self.report_code or self.code),
                "difference": None if self.difference is None else str(self.difference), "note": self.note}


@dataclass
class Reconciliation:
    items: list[Item]
    start: dt.date
    end: dt.date
    has_wrvu: bool
    log_wrvu: Decimal
    report_wrvu: Decimal | None

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


def _groups_report(lines: Iterable[ReportLine], has_wrvu: bool) -> dict[tuple[dt.date, str, tuple[str, ...]], Side]:
    out: dict[tuple[dt.date, str, tuple[str, ...]], Side] = {}
    for ln in lines:
        key = (ln.date, ln.code, pricing_mods(ln.modifiers))
        side = out.get(key)
        if side is None:
            side = out[key] = Side(modifiers=key[2], wrvu=ZERO if has_wrvu else None)
        side.units += ln.units
        side.add_wrvu(ln.wrvu if has_wrvu else None)
        side.refs.append(ln.line)
    return out


def _diff(log: Side, report: Side) -> Decimal | None:
    if log.wrvu is None or report.wrvu is None:
        return None
    return report.wrvu - log.wrvu


def _credit_note(diff: Decimal | None, log: Side, report: Side) -> str:
    if diff is None or not diff:
        return ""
    way = "less" if diff < 0 else "more"
    return f"; the report credits {_fmt(report.wrvu)} wRVU, your log {_fmt(log.wrvu)} ({_fmt(abs(diff))} {way})"


def reconcile(log_lines: Iterable[LogLine], report_lines: Iterable[ReportLine], *, has_wrvu: bool | None = None,
              tolerance: Decimal = CENT) -> Reconciliation:
    """Compare the log with the report over the report's dates (log lines outside them are ignored)."""
    report_lines = list(report_lines)
    if not report_lines:
        raise ReportError("the report has no lines")
    if has_wrvu is None:
        has_wrvu = all(ln.wrvu is not None for ln in report_lines)
    start = min(ln.date for ln in report_lines)
    end = max(ln.date for ln in report_lines)
    log = _groups_log(ln for ln in log_lines if start <= ln.date <= end)
    rep = _groups_report(report_lines, has_wrvu)
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
    items.sort(key=lambda i: (order[i.status], i.date, i.code))
    log_wrvu = sum((i.log.wrvu for i in items if i.log is not None and i.log.wrvu is not None), ZERO)
    report_wrvu = sum((i.report.wrvu for i in items if i.report is not None and i.report.wrvu is not None),
                      ZERO) if has_wrvu else None
    return Reconciliation(items, start, end, has_wrvu, log_wrvu, report_wrvu)
