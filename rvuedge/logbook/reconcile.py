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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rvuedge.pricing.engine import MODIFIER_KINDS
from rvuedge.pricing.money import round_wrvu

from .reports import (
    ReportError,
    ReportLine,
    ReportTable,
    date_basis,
    detect_columns,
    parse_report,
    post_period,
)

__all__ = [
    "STATUSES",
    "LogLine",
    "Reconciliation",
    "ReportError",  # the report reader's (.reports), re-exported: callers of reconcile() meet them
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
            row["wrvu"] = round_wrvu(row["wrvu"])
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
    return "—" if value is None else f"{round_wrvu(value)}"


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
    period = post_period(report_lines, month="post_month" in columns and "post_date" not in columns)
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
            if log_w and abs(rep_w - round_wrvu(log_w * factor)) <= self.tolerance:
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
