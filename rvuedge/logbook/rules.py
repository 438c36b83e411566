"""Why wasn't it credited? CMS billing rules checked against a clinician's own log. Pure Python, no Django.

Most services an employer's report leaves out or credits 0 follow from rules the fee files already carry:
global periods (PPRRVU GLOB DAYS with the PRE/INTRA/POST OP shares), add-on codes (GLOB DAYS ZZZ), endoscopy
families (ENDO BASE), the bilateral indicator (BILAT SURG) and the status code. :func:`check` takes the lines
of a log (any number of days) and the fee-row facts of their codes and returns :class:`Finding` s: the rule,
what it means for the credit, the fee row it comes from and the fix. It warns; it never blocks.

:data:`RULES` is the one table of rule -> title, message, source and fix; every message is built from it.

Units per day: CMS publishes per-day unit limits (MUEs) in a file of its own, which the CMS files this app loads
do not include (see the data's PROVENANCE.md), so no unit limit is checked: no guess.

Global periods follow PPRRVU GLOB DAYS: 000 (day of the procedure only), 010 (day of + 10 post-op days), 090
(the day before, the day of + 90 post-op days). Post-op day N is the procedure date + N days, so 27447 on
1 March 2026 has its last post-op day on 30 May.

    >>> import datetime as dt
    >>> facts = {"27447": Fact("27447", "RVU25A", "A", "090"), "99213": Fact("99213", "RVU25A", "A", "XXX")}
    >>> lines = [Line(dt.date(2026, 3, 1), "27447"), Line(dt.date(2026, 3, 20), "99213", new=True)]
    >>> [f.rule for f in check(lines, facts)]
    ['em_in_global']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["RULES", "Fact", "Finding", "Line", "Rule", "check", "global_window", "is_em"]

ZERO = Decimal("0")


@dataclass(frozen=True)
class Rule:
    title: str
    #: what the rule means for the credit (the finding's message adds the lines and dates)
    meaning: str
    #: the fee-row columns (or CMS rule) it rests on
    source: str
    fix: str


#: rule id -> (title, meaning, source, fix). Order = the order findings are listed in.
RULES: dict[str, Rule] = {
    "em_in_global": Rule(
        "E/M visit inside your own global period",
        "a visit inside the global surgical package of a procedure you logged is paid as part of that procedure; "
        "without the modifier most employers credit it 0",
        "PPRRVU GLOB DAYS (000/010/090) and PRE/INTRA/POST OP shares of the procedure's row",
        "24 for an unrelated visit in the post-op days, 25 for a significant, separately identifiable visit on "
        "the day of a 000/010 procedure, 57 for the visit where you decided on a 090 surgery (day before or day "
        "of)"),
    "procedure_in_global": Rule(
        "Second procedure inside a global period",
        "a procedure inside the post-op days of another of your procedures is part of that global package unless "
        "a modifier says otherwise; without it most employers credit it 0",
        "PPRRVU GLOB DAYS (010/090) of the first procedure's row",
        "58 staged or planned (full credit, new global), 78 unplanned return to the OR for a complication (the "
        "INTRA OP share only, no new global), 79 unrelated procedure (full credit, new global)"),
    "addon_without_primary": Rule(
        "Add-on code without a primary procedure that day",
        "an add-on code is paid only with a primary procedure by the same clinician on the same day; alone, "
        "most employers credit it 0",
        "PPRRVU GLOB DAYS ZZZ (add-on code); the files loaded do not list each add-on's primary codes, so any "
        "non-add-on code that day counts as its primary",
        "log the primary procedure on the same date of service, or check the code"),
    "endo_base_with_family": Rule(
        "Endoscopy base logged with a member of its family",
        "the diagnostic base of an endoscopy family is included in any other family member done that day: it "
        "pays and credits 0",
        "PPRRVU ENDO BASE of the family member's row (MULT PROC 3)",
        "leave the base code off; the family member's credit already includes it"),
    "status_not_paid": Rule(
        "Status: not separately paid by Medicare",
        "Medicare does not pay this code separately",
        "PPRRVU STATUS CODE",
        "check the code; for N/I your employer's own rule decides whether it credits the work RVU"),
    "bilateral_rt_lt": Rule(
        "Bilateral procedure as RT + LT",
        "the code has BILAT SURG 1: both sides are paid once at 150% of one side, billed as one line with -50 "
        "(or RT + LT lines where the payer asks for them); RVU Edge credits the pair exactly what -50 credits "
        "(100% + 50%)",
        "PPRRVU BILAT SURG 1",
        "log one line CODE-50 if your billing office bills it that way, so the log and the report compare"),
}

#: Status codes the status rule names, with what Medicare does.
STATUS_MEANING = {
    "B": "bundled: never paid separately (its RVUs are not used)",
    "P": "bundled or excluded supply-type item: no separate payment",
    "T": "paid only when no other physician fee schedule service is paid to you that day",
    "N": "not covered by Medicare",
    "I": "not valid for Medicare (Medicare uses another code)",
}
#: E/M codes whose visit is part of a global package by definition (no warning: 99024 is the post-op visit code).
GLOBAL_VISIT_CODES = frozenset({"99024"})
#: Modifiers that make an E/M separately payable, per situation.
EM_POSTOP, EM_SAME_DAY_MINOR, EM_DECISION = "24", "25", "57"
SECOND_PROCEDURE_MODIFIERS = ("58", "78", "79")


@dataclass(frozen=True)
class Fact:
    """What the rules need of a code's fee row (the global row: no 26/TC modifier)."""

    code: str
    release: str
    status: str = "A"
    glob_days: str = "XXX"
    pre_op: Decimal = ZERO
    intra_op: Decimal = ZERO
    post_op: Decimal = ZERO
    mult_proc: str = "9"
    bilat: str = "9"
    endo_base: str = ""
    work_rvu: Decimal = ZERO
    description: str = ""

    def row(self, *columns: str) -> str:
        """"RVU25A 27447: GLOB DAYS 090, ..." naming the columns a finding rests on."""
        labels = {"glob_days": "GLOB DAYS", "status": "STATUS", "bilat": "BILAT SURG", "endo_base": "ENDO BASE",
                  "mult_proc": "MULT PROC", "pre_op": "PRE OP", "intra_op": "INTRA OP", "post_op": "POST OP"}
        parts = [f"{labels[c]} {getattr(self, c) or 'blank'}" for c in columns]
        return f"{self.release} {self.code}: " + ", ".join(parts)


@dataclass(frozen=True)
class Line:
    """One logged line: date of service, code, modifiers, units. ``ref`` links back (encounter id), ``new`` marks
    the lines being typed or imported (findings are reported for those; the others are context)."""

    date: dt.date
    code: str
    modifiers: tuple[str, ...] = ()
    units: int = 1
    ref: Any = None
    new: bool = False
    #: False when the clinician assisted (first assist, assistant): the global package is the surgeon's
    surgeon: bool = True

    @property
    def text(self) -> str:
        return self.code + "".join(f"-{m}" for m in self.modifiers) + (f" x{self.units}" if self.units != 1 else "")


@dataclass(frozen=True)
class Finding:
    rule: str
    line: Line
    message: str
    fix: str
    source: str
    related: Line | None = None
    modifiers: tuple[str, ...] = ()  # the modifier(s) that would make it payable, when one applies
    credits: str = ""  # what the default credit policy (or most employers) credits

    @property
    def title(self) -> str:
        return RULES[self.rule].title

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "title": self.title, "line": self.line.text, "date": self.line.date.isoformat(),
                "message": self.message, "fix": self.fix, "source": self.source,
                "related": None if self.related is None else {"line": self.related.text,
                                                              "date": self.related.date.isoformat()},
                "modifiers": list(self.modifiers), "credits": self.credits}


def is_em(code: str) -> bool:
    """CPT evaluation and management codes (99202-99499)."""
    return code.isdigit() and 99202 <= int(code) <= 99499


def _days(fact: Fact | None) -> int | None:
    if fact is None or fact.glob_days not in ("000", "010", "090"):
        return None
    return int(fact.glob_days)


def global_window(day: dt.date, glob_days: str) -> tuple[dt.date, dt.date] | None:
    """(first, last) day of a procedure's global period: the day before for 090, the day of, then the post-op
    days (procedure date + 10 or + 90)."""
    if glob_days not in ("000", "010", "090"):
        return None
    days = int(glob_days)
    start = day - dt.timedelta(days=1) if days == 90 else day
    return start, day + dt.timedelta(days=days)


def _is_procedure(line: Line, fact: Fact | None) -> bool:
    return fact is not None and _days(fact) is not None and not is_em(line.code)


#: Modifiers saying the post-op care is someone else's: surgical care only, pre-op only, assistant at surgery.
NOT_OWN_POSTOP = frozenset({"54", "56", "80", "81", "82", "AS"})


def _own_postop(line: Line) -> bool:
    """Whether the post-op days of this procedure are the clinician's own global period."""
    return line.surgeon and not (NOT_OWN_POSTOP & set(line.modifiers))


def _fmt_day(day: dt.date) -> str:
    return f"{day:%-d %B %Y}"


def _em_findings(em: Line, procs: Iterable[tuple[Line, Fact]]) -> Finding | None:
    rule = RULES["em_in_global"]
    mods = set(em.modifiers)
    for proc, fact in procs:
        days = _days(fact)
        assert days is not None
        delta = (em.date - proc.date).days
        if days == 90 and delta in (-1, 0):
            need = EM_DECISION
        elif days in (0, 10) and delta == 0:
            need = EM_SAME_DAY_MINOR
        elif days in (10, 90) and 0 < delta <= days and _own_postop(proc):
            need = EM_POSTOP
        else:
            continue
        if need in mods:
            continue
        end = proc.date + dt.timedelta(days=days)
        if need == EM_DECISION:
            when = "the day before" if delta == -1 else "the same day as"
            what = (f"{em.text} on {_fmt_day(em.date)} is {when} {proc.text} ({_fmt_day(proc.date)}), a 090 "
                    f"procedure whose global period starts the day before surgery")
            fix = f"add -57 if this visit is where you decided on the surgery ({em.code}-57)"
        elif need == EM_SAME_DAY_MINOR:
            what = (f"{em.text} is the same day as {proc.text}, a {fact.glob_days} procedure whose global "
                    "package includes that day's visit")
            fix = (f"add -25 if the visit was significant and separately identifiable from the procedure "
                   f"({em.code}-25)")
        else:
            what = (f"{em.text} on {_fmt_day(em.date)} is post-op day {delta} of {proc.text} "
                    f"({_fmt_day(proc.date)}), whose {days}-day global ends {_fmt_day(end)}")
            fix = f"add -24 if the visit was unrelated to the surgery ({em.code}-24)"
        return Finding("em_in_global", em, f"{what}: {rule.meaning}.", fix,
                       fact.row("glob_days", "pre_op", "intra_op", "post_op"), proc, (need,),
                       "0 at most employers without the modifier")
    return None


def _procedure_finding(line: Line, procs: Iterable[tuple[Line, Fact]]) -> Finding | None:
    rule = RULES["procedure_in_global"]
    if set(SECOND_PROCEDURE_MODIFIERS) & set(line.modifiers):
        return None
    for proc, fact in procs:
        days = _days(fact)
        delta = (line.date - proc.date).days
        if days in (10, 90) and 0 < delta <= days and _own_postop(proc):
            end = proc.date + dt.timedelta(days=days)
            msg = (f"{line.text} on {_fmt_day(line.date)} is post-op day {delta} of {proc.text} "
                   f"({_fmt_day(proc.date)}), whose {days}-day global ends {_fmt_day(end)}: {rule.meaning}.")
            return Finding("procedure_in_global", line, msg, rule.fix,
                           fact.row("glob_days", "pre_op", "intra_op", "post_op"), proc, SECOND_PROCEDURE_MODIFIERS,
                           "0 at most employers without 58, 78 or 79")
    return None


def check(lines: Iterable[Line], facts: Mapping[str, Fact], *, credit_non_medicare: bool = True,
          only_new: bool | None = None) -> list[Finding]:
    """Findings for the log's lines. ``facts`` maps a code to its fee-row facts (codes without one are skipped).

    When any line is ``new``, only findings on new lines are returned (the others are context: the procedure
    whose global period a new visit falls in); otherwise every line's findings (``only_new`` overrides).
    """
    lines = list(lines)
    if only_new is None:
        only_new = any(ln.new for ln in lines)
    by_day: dict[dt.date, list[Line]] = {}
    for ln in lines:
        by_day.setdefault(ln.date, []).append(ln)
    bases: dict[dt.date, set[str]] = {}  # the endoscopy bases named by each day's lines
    for ln in lines:
        base = facts[ln.code].endo_base if ln.code in facts else ""
        if base:
            bases.setdefault(ln.date, set()).add(base)
    # procedures by global days and date: a line looks only at the days whose global periods can reach it
    # (keyed by the date's ordinal: integer arithmetic, no date objects made per look-up)
    procs: dict[int, dict[int, list[tuple[Line, Fact]]]] = {0: {}, 10: {}, 90: {}}
    for ln in sorted(lines, key=lambda x: x.date):
        fact = facts.get(ln.code)
        if _is_procedure(ln, fact):
            procs[int(fact.glob_days)].setdefault(ln.date.toordinal(), []).append((ln, fact))  # type: ignore[union-attr]

    def reaching(day: dt.date, *, same_day: bool) -> Iterator[tuple[Line, Fact]]:
        """Procedures whose global period (the day before a 090 and the post-op days; the day itself when
        ``same_day``) covers ``day``, latest first (lazily: the rules stop at the first that applies)."""
        n = day.toordinal()
        for days, first in ((90, -1), (10, 0), (0, 0)):
            index = procs[days]
            if index:
                for back in range(first if same_day else 1, days + 1):
                    hit = index.get(n - back)
                    if hit:
                        yield from hit
    out: list[Finding] = []
    for ln in sorted(lines, key=lambda x: (x.date, x.code)):
        if only_new and not ln.new:
            continue
        fact = facts.get(ln.code)
        if fact is None:
            continue
        found: list[Finding] = []
        if is_em(ln.code) and ln.code not in GLOBAL_VISIT_CODES and fact.status not in STATUS_MEANING:
            hit = _em_findings(ln, reaching(ln.date, same_day=True))
            if hit:
                found.append(hit)
        if _is_procedure(ln, fact):
            hit = _procedure_finding(ln, ((p, f) for p, f in reaching(ln.date, same_day=False) if p is not ln))
            if hit:
                found.append(hit)
        same_day = [o for o in by_day[ln.date] if o is not ln]
        if fact.glob_days == "ZZZ":
            primaries = [o for o in same_day if facts.get(o.code) is not None and facts[o.code].glob_days != "ZZZ"]
            if not primaries:
                r = RULES["addon_without_primary"]
                found.append(Finding("addon_without_primary", ln,
                                     f"{ln.text} is an add-on code (GLOB DAYS ZZZ) and nothing else is logged on "
                                     f"{_fmt_day(ln.date)}: {r.meaning}.", r.fix, fact.row("glob_days"),
                                     credits="0 at most employers"))
        members = [o for o in same_day if o.code != ln.code and facts.get(o.code) is not None
                   and facts[o.code].endo_base == ln.code] if ln.code in bases.get(ln.date, ()) else []
        if members:
            r, member = RULES["endo_base_with_family"], members[0]
            found.append(Finding("endo_base_with_family", ln,
                                 f"{ln.text} is the endoscopy base of {member.text} (same day): {r.meaning}.",
                                 r.fix, facts[member.code].row("endo_base", "mult_proc"), member,
                                 credits="0 (RVU Edge credits it 0 too)"))
        if fact.status in STATUS_MEANING:
            found.append(_status_finding(ln, fact, same_day, facts, credit_non_medicare))
        if fact.bilat == "1" and "50" not in ln.modifiers and ({"RT", "LT"} & set(ln.modifiers)):
            # said once per pair: on the RT line, or on a new LT line whose RT line was logged before
            side, pair = ("RT", "LT") if "RT" in ln.modifiers else ("LT", "RT")
            other = next((o for o in same_day if o.code == ln.code and pair in o.modifiers
                          and (side == "RT" or (ln.new and not o.new))), None)
            if other is not None:
                r = RULES["bilateral_rt_lt"]
                found.append(Finding("bilateral_rt_lt", ln,
                                     f"{ln.text} and {other.text} on {_fmt_day(ln.date)}: {r.meaning}.",
                                     r.fix.replace("CODE", ln.code), fact.row("bilat"), other, ("50",),
                                     "150% of one side for the pair, on one line or two"))
        out.extend(found)
    order = {r: i for i, r in enumerate(RULES)}
    out.sort(key=lambda f: (f.line.date, order[f.rule], f.line.code))
    return out


def _status_finding(ln: Line, fact: Fact, same_day: list[Line], facts: Mapping[str, Fact],
                    credit_non_medicare: bool) -> Finding:
    r = RULES["status_not_paid"]
    st = fact.status
    if st in ("B", "P"):
        credits = "0 (RVU Edge's default policy credits 0)"
    elif st in ("N", "I"):
        credits = (f"its work RVU {fact.work_rvu} (the default policy credits N and I codes because other payers "
                   "pay them); many employers credit 0" if credit_non_medicare
                   else "0 (your credit policy does not credit N and I codes)")
    else:  # T
        others = [o for o in same_day if facts.get(o.code) is not None and facts[o.code].status in ("A", "R")]
        credits = (f"0 that day: {others[0].text} is paid the same day" if others
                   else f"its work RVU {fact.work_rvu} when it is the only service that day")
    msg = f"{ln.text} has status {st}, {STATUS_MEANING[st]}; credit: {credits}."
    return Finding("status_not_paid", ln, msg, r.fix, fact.row("status"), credits=credits)
