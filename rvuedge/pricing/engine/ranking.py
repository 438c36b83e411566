"""Stage 7 of pfs-rules 3.2: the multiple-procedure ranking (MULT PROC 2 and collapsed endoscopy families), per
claim role, 100/50/50/50/50 and 6th+ by report."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..model import LineResult, Part
from ..money import ONE, ZERO, cents, mul_factor, round_wrvu
from .constants import _MP_INDICATOR, _ROLE_GROUP, HALF
from .context import _State
from .steps import (
    _add_ranks,
    _push,
    _runs,
    _split,
    _step,
    _tiebreak,
    _unit_amount,
    _unit_credit,
    _unreduced,
    _wpush,
    _wstep,
)


def _rank_unit(members: list[tuple[LineResult, Part, int]]) -> tuple[Any, ...]:
    """One ranking unit made of several lines (a collapsed endoscopy family, an RT/LT pair): members are
    (line, part, m), the part counting m times in the unit's amount and taking the unit's rank m times."""
    amount = ZERO
    work = ZERO
    for _r, p, m in members:
        x = _unit_amount(p)
        w = _unit_credit(p)
        amount += x if m == 1 else x * m
        work += w if m == 1 else w * m
    return (amount, work, min(_tiebreak(m[0]) for m in members), members, 1)


def _rank_surgery(res: list[LineResult], st: _State, families: list[list[Any]],
                  pairs: list[tuple[LineResult, LineResult]]) -> None:
    """MULT PROC 2 ranking (with collapsed MULT 3 families and RT/LT pairs), per claim role (pfs-rules 3.2/7).

    A ranking unit is (amount, work RVU, tie-break, members, count): a family or a pair takes one rank; a
    line's run of ``count`` equal units takes ``count`` consecutive ranks and is split where the factor
    changes (after rank 1 and after rank 5), so the cost does not grow with the units."""
    policy = st.policy
    in_unit: set[int] = set()
    groups: dict[str, list[tuple[Any, ...]]] = {}
    for fam in families:
        for r, _p, _m in fam:
            in_unit.add(id(r))
        groups.setdefault(_ROLE_GROUP.get(fam[0][0]._mods.role, "primary"), []).append(_rank_unit(fam))
    for a, b in pairs:
        if a.row.mult_proc in ("2", "3") and id(a) not in in_unit:  # type: ignore[union-attr]
            in_unit.add(id(a))
            in_unit.add(id(b))
            groups.setdefault(_ROLE_GROUP.get(a._mods.role, "primary"), []).append(
                _rank_unit([(a, p, 1) for p in a._parts] + [(b, p, 1) for p in b._parts]))
    for r in res:
        if r._kind != "price" or r._excluded or r.row.mult_proc not in ("2", "3") or id(r) in in_unit:  # type: ignore[union-attr]
            continue
        group = groups.setdefault(_ROLE_GROUP.get(r._mods.role, "primary"), [])
        tb = _tiebreak(r)
        for p in _runs(r):
            group.append((_unit_amount(p), _unit_credit(p), tb, [(r, p, p.units)], p.units))
    mpf = policy.multiple_procedure_wrvu_factor
    credit_mppr = policy.multiple_procedure
    by_report = policy.by_report_unit_wrvu_factor
    for group_name, units in groups.items():
        n = 0
        for u in units:
            n += u[4]
        if n < 2:
            continue
        units.sort(key=_unit_key, reverse=True)
        touched: dict[int, LineResult] = {}
        k = 0
        for amount, _work, _tb, members, count in units:
            first = k + 1
            k += count
            for r, p, m in members:
                touched[id(r)] = r
                _add_ranks(r, first, m, 1 if count > 1 else 0)
                if amount != r.fee_schedule_amount and "ranking_amount" not in r.extras:
                    r.extras["ranking_amount"] = cents(amount)
                if count == 1:
                    _rank_factor(r, p, first, credit_mppr, mpf, by_report)
                    continue
                # a run of equal units holding ranks first..k: 100% / 50% up to rank 5 / by report from rank 6
                if first == 1:
                    p = _split(r, p, 1)
                    rank = 2
                else:
                    rank = first
                if rank <= 5 < k:
                    rest = _split(r, p, 6 - rank)
                    _rank_factor(r, p, rank, credit_mppr, mpf, by_report)
                    p, rank = rest, 6
                _rank_factor(r, p, rank, credit_mppr, mpf, by_report)
        where = f" ({group_name} claim)" if group_name != "primary" else ""
        for r in touched.values():
            ranks = r._ranks
            top = ranks.low
            indicator = "MULT PROC " + r.row.mult_proc  # type: ignore[union-attr]
            if ranks.high > 5:
                text, factor = "6th and later procedures: priced by report (contractor)", None
            elif top > 1:
                text, factor = "-50%: later procedure", HALF
            elif len(ranks) == 1:
                text, factor = "highest-ranked procedure: 100%", ONE
            else:
                text, factor = "first unit 100%, later units -50%", None
            _step(r, "MULTIPLE_PROCEDURE", indicator, factor, "{}, rank {} of {}{}", text, ranks, n, where)
            if ranks.high > 1:
                _wstep(r, "MULTIPLE_PROCEDURE", indicator, mpf if credit_mppr and top > 1 else None,
                       "credit for rank {}: {}", ranks, f"x{mpf} after the first" if credit_mppr else "full (policy)")


def _rank_factor(r: LineResult, p: Part, k: int, credit_mppr: bool, mpf: Decimal, by_report: Decimal) -> None:
    """The factor of rank ``k`` on every unit of the piece ``p``: 100%, 50% up to the 5th, by report after."""
    if k == 1:
        return
    if k <= 5:
        p.pay_factor = mul_factor(p.pay_factor, HALF)
        if credit_mppr:
            p.credit_factor = mul_factor(p.credit_factor, mpf)
    else:
        p.by_report = True
        p.credit_factor = mul_factor(p.credit_factor, by_report)
        if "MULTIPLE_PROCEDURE_BY_REPORT" not in r.flags:
            r.flags.append("MULTIPLE_PROCEDURE_BY_REPORT")


def _rank_simple(ranked: list[LineResult], st: _State) -> bool:
    """The common case of :func:`_rank_surgery`: every ranked line is one unit (untouched, or one part such
    as a bilateral line's) and no two units of a claim role share (amount, work RVU), so amount and work
    alone decide the order (the tie-break is never consulted) and each line takes one factor. Returns
    False, having changed nothing, when the general ranking is needed. An untouched line with no later
    factor to apply is finished here, as :func:`_finish` would finish it (ranking is the last rule that
    touches a line); the others are left to :func:`_finish`."""
    groups = _simple_groups(ranked)
    if groups is None or _has_tie(groups):
        return False
    policy = st.policy
    rates = _SimpleRates(policy.multiple_procedure_wrvu_factor, policy.multiple_procedure,
                         policy.by_report_unit_wrvu_factor)
    for name, units in groups.items():
        n = len(units)
        if n < 2:
            continue
        where = f" ({name} claim)" if name != "primary" else ""
        for k, (amount, work, _i, r, part) in enumerate(units, 1):
            r._ranks = [k]
            indicator = _MP_INDICATOR[r.row.mult_proc]
            if part is not None:
                _rank_part(r, part, k, n, where, indicator, amount, rates.credit_mppr, rates.mpf, rates.by_report,
                           rates.wfactor, rates.wfmt)
            elif k == 1:
                _rank_first(r, amount, work, n, where, indicator)
            else:
                _rank_later(r, amount, work, k, n, where, indicator, rates)
    return True


def _simple_groups(ranked: list[LineResult]) -> dict[str, list[tuple[Any, ...]]] | None:
    """The ranked lines' units ``(amount, work, index, line, part or None)`` per claim role, or None when a
    line is not one unit of one part (the general ranking is needed)."""
    groups: dict[str, list[tuple[Any, ...]]] = {}
    for r in ranked:
        if r._excluded:  # denied by an earlier cross-line rule
            continue
        if r.units != 1 or r._ranks is not None or r._null is not None:
            return None
        parts = r._p
        if parts is None:
            unit: tuple[Any, ...] = (r.fee_schedule_amount, r.row.work_rvu, r.index, r, None)  # type: ignore[union-attr]
        elif len(parts) == 1:
            p = parts[0]
            unit = (p.base if p.pay_factor is ONE else p.base * p.pay_factor, p.work if p.credit_factor is ONE else p.work * p.credit_factor, r.index, r,
                    p)
        else:
            return None
        role = r._mods.role
        name = "primary" if role is None else _ROLE_GROUP.get(role, "primary")
        group = groups.get(name)
        if group is None:
            groups[name] = [unit]
        else:
            group.append(unit)
    return groups


def _has_tie(groups: dict[str, list[tuple[Any, ...]]]) -> bool:
    """Sort each group highest first; True when two units tie on (amount, work RVU): the general ranking orders
    those by the tie-break."""
    for units in groups.values():
        if len(units) > 1:
            units.sort(reverse=True)  # the line index is unique: the line itself is never compared
            prev = units[0]
            for u in units[1:]:
                if u[0] == prev[0] and u[1] == prev[1]:
                    return True
                prev = u
    return False


class _SimpleRates:
    """The policy's multiple-procedure credit: the later procedures' factor, the by-report factor, and how the
    credit step reads."""

    __slots__ = ("mpf", "credit_mppr", "later", "by_report", "wfactor", "wfmt")

    def __init__(self, mpf: Decimal, credit_mppr: bool, by_report: Decimal):
        self.mpf = mpf
        self.credit_mppr = credit_mppr
        self.later = mpf if credit_mppr else ONE
        self.by_report = by_report
        self.wfactor = mpf if credit_mppr else None
        # formatted when the explanation is read (extra arguments are ignored by str.format)
        self.wfmt = "credit for rank {}: x{} after the first" if credit_mppr else "credit for rank {}: full (policy)"


def _rank_first(r: LineResult, amount: Decimal, work: Decimal, n: int, where: str, indicator: str) -> None:
    """The highest-ranked procedure: 100%; finished now unless later factors are pending (role, split, NPP)."""
    _push(r, ("MULTIPLE_PROCEDURE", indicator, ONE, amount, "{}, rank {} of {}{}",
              ("highest-ranked procedure: 100%", 1, n, where)))
    if r._late is not None:  # later factors (role, split, NPP): _finish applies them
        r._p = [Part(1, amount, ONE, work, ONE)]
        return
    r.rank = 1
    if r._done != 1:
        _unreduced(r, amount, work, 1)
    r._done = 2


def _rank_later(r: LineResult, amount: Decimal, work: Decimal, k: int, n: int, where: str, indicator: str,
                rates: _SimpleRates) -> None:
    """Ranks 2-5: -50%; 6th and later: by report. Finished now unless later factors are pending."""
    x: Decimal | None
    if k <= 5:
        factor, by_rep, g = HALF, False, rates.later
        x = amount * HALF
        _push(r, ("MULTIPLE_PROCEDURE", indicator, HALF, x, "{}, rank {} of {}{}",
                  ("-50%: later procedure", k, n, where)))
    else:
        factor, by_rep, g = ONE, True, rates.by_report
        x = None
        r.flags.append("MULTIPLE_PROCEDURE_BY_REPORT")
        _push(r, ("MULTIPLE_PROCEDURE", indicator, None, None, "{}, rank {} of {}{}",
                  ("6th and later procedures: priced by report (contractor)", k, n, where)))
    credit = work if g is ONE else work * g
    _wpush(r, ("MULTIPLE_PROCEDURE", indicator, rates.wfactor, credit, rates.wfmt, (k, rates.mpf)))
    if r._late is not None:  # later factors (role, split, NPP): _finish applies them
        r._p = [Part(1, amount, factor, work, g, by_rep)]
        return
    r.rank = k
    r.wrvu_exact = credit
    r.wrvu = round_wrvu(credit)
    if g is not ONE and g != ONE:
        r._wrvu_factor = g
    if x is None:
        r.payment = r.payment_factor = None
        _push(r, ("PAYMENT", None, None, None, "no formula payment: {}",
                  ("6th and later procedures are priced by report",)))
    else:
        r.payment = payment = cents(x)
        r.payment_factor = HALF
        if x != payment:
            _push(r, ("ROUND", None, None, payment, "payment rounded half-up to cents: {}", (payment,)))
    r._done = 2


def _rank_part(r: LineResult, p: Part, k: int, n: int, where: str, indicator: str, amount: Decimal,
               credit_mppr: bool, mpf: Decimal, by_report: Decimal, wfactor: Decimal | None, wfmt: str) -> None:
    """Rank k of n for a line whose one part an earlier rule changed (bilateral): the factor goes on the part
    and :func:`_finish` finishes the line, as in the general ranking."""
    if amount != r.fee_schedule_amount and "ranking_amount" not in r.extras:
        r.extras["ranking_amount"] = cents(amount)
    if k == 1:
        _step(r, "MULTIPLE_PROCEDURE", indicator, ONE, "{}, rank {} of {}{}", "highest-ranked procedure: 100%", k, n,
              where)
        return
    if k <= 5:
        p.pay_factor = mul_factor(p.pay_factor, HALF)
        if credit_mppr:
            p.credit_factor = mul_factor(p.credit_factor, mpf)
        _step(r, "MULTIPLE_PROCEDURE", indicator, HALF, "{}, rank {} of {}{}", "-50%: later procedure", k, n, where)
    else:
        p.by_report = True
        p.credit_factor = mul_factor(p.credit_factor, by_report)
        r.flags.append("MULTIPLE_PROCEDURE_BY_REPORT")
        _step(r, "MULTIPLE_PROCEDURE", indicator, None, "{}, rank {} of {}{}",
              "6th and later procedures: priced by report (contractor)", k, n, where)
    _wstep(r, "MULTIPLE_PROCEDURE", indicator, wfactor, wfmt, k, mpf)


def _unit_key(u: tuple[Any, ...]) -> tuple[Any, ...]:
    return (u[0], u[1], u[2])
