"""Stage 11-12 of pfs-rules 3.2: apply the later factors, multiply and round once per line (unit by unit where
factors differ), credit the wRVUs, and close each explanation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..model import LineResult, Part
from ..money import ONE, ZERO, cents, fmt_exact, round_wrvu, time_units
from ..policy import Policy
from .constants import _AD_BASE, _ANES_FACTOR, _ZERO_CENTS
from .context import _State
from .steps import _credit, _extra, _part_amount, _push, _scale, _step, _unreduced, _wpush, _wstep


def _finish(r: LineResult, st: _State) -> None:
    """Steps 11-12 for one line: later factors, ranks, payment and credit, the closing explanation steps."""
    kind = r._kind
    if kind == "anes":
        _finish_anesthesia(r, st)
        return
    if kind == "zero" or kind == "null":
        _finish_unpriced(r)
        return
    if _finished_unreduced(r):
        return
    # a line whose units were ranked as runs is finished as a line of several parts (each of its units had
    # its own part before units were ranked as runs; the figures and flags must not change)
    parts = r._parts
    one = len(parts) == 1 and (parts[0].units == 1 or not getattr(r, "_runs", False))
    if one and _finished_unreduced_part(r, parts[0]):
        return
    if r._late:
        _apply_late_factors(r, st.policy)
    _record_ranks(r)
    payment, exact = _pay_one_part(r, parts[0]) if one else _pay_parts(r)
    if r._formula is not None:
        _extra(r, "formula", r._formula)
    r.payment = payment
    r.wrvu_exact = exact
    r.wrvu = round_wrvu(exact)
    _close_explanations(r, payment, exact)


def _finish_unpriced(r: LineResult) -> None:
    """A line the status gate left at 0 (``zero``) or to the contractor (``null``): credit from its one part."""
    r.payment = _ZERO_CENTS if r._kind == "zero" else None
    exact = r._parts[0].work * r.units
    r.wrvu_exact = exact
    r.wrvu = round_wrvu(exact)


def _finished_unreduced(r: LineResult) -> bool:
    """A line no rule touched: FSA x units, work RVU x units."""
    if r._p is None and r._late is None and r._ranks is None and r._null is None and r._formula is None:
        _unreduced(r, r.fee_schedule_amount, r.row.work_rvu, r.units)  # type: ignore[union-attr,arg-type]
        return True
    return False


def _finished_unreduced_part(r: LineResult, part: Part) -> bool:
    """A line of one part whose factors stayed 1 and whose amount stayed the FSA (nothing to apply later)."""
    if r._late is not None or r._ranks is not None or r._null is not None or r._formula is not None:
        return False
    fsa = r.fee_schedule_amount
    if (part.pay_factor is ONE and part.credit_factor is ONE and part.base is fsa and not part.by_report
            and part.units == r.units):
        _unreduced(r, fsa, part.work, part.units)
        return True
    return False


def _apply_late_factors(r: LineResult, policy: Policy) -> None:
    """Factors decided while resolving but applied after ranking (roles, split care, NPP, 22/52/53/FS credit);
    a named credit factor takes the policy's value."""
    for rule, indicator, pay, credit, fmt, args in r._late:  # type: ignore[union-attr]
        if isinstance(credit, str):
            credit = {"co": policy.co_surgery_wrvu_factor, "team": policy.team_wrvu_factor,
                      "asst": policy.assistant_wrvu_factor, "as": policy.as_modifier_wrvu_factor,
                      "split": pay if policy.global_split else None}[credit]
        _scale(r, pay, credit)
        _step(r, rule, indicator, pay, fmt, *args)
        if credit is not None and credit != ONE:
            _wstep(r, rule, indicator, credit, "credit x{} ({})", credit, rule.lower().replace("_", " "))


def _record_ranks(r: LineResult) -> None:
    ranks = r._ranks
    if ranks is None:
        return
    if type(ranks) is list:  # one rank from _rank_simple
        r.rank = ranks[0]
    else:
        r.rank = ranks.low
        if len(ranks) > 1:
            _extra(r, "ranks", ranks)  # listed when read (LineResult.extras)


def _pay_one_part(r: LineResult, p: Part) -> tuple[Decimal | None, Decimal]:
    """Payment and exact credit of a line of one part, rounded once."""
    fsa = r.fee_schedule_amount
    f = p.pay_factor
    n = p.units
    payment: Decimal | None
    if r._null is not None or p.by_report:
        payment = None
    else:
        x = p.base if f is ONE else p.base * f
        payment = cents(x * n) if n != 1 or x is not fsa else fsa
    r.payment_factor = f if (r._formula is None and payment is not None and p.base == fsa) else None
    g = p.credit_factor
    exact = p.work if g is ONE else p.work * g
    if n != 1:
        exact = exact * n
    if g is not ONE and g != ONE and p.work == r.row.work_rvu:  # type: ignore[union-attr]
        r._wrvu_factor = g
    return payment, exact


def _pay_parts(r: LineResult) -> tuple[Decimal | None, Decimal]:
    """Payment and exact credit of a line of several parts: equal parts merged, each part rounded to cents."""
    fsa = r.fee_schedule_amount
    merged: dict[tuple[Any, ...], Part] = {}
    for p in r._parts:
        key = (p.base, p.pay_factor, p.work, p.credit_factor, p.by_report)
        m = merged.get(key)
        if m is None:
            merged[key] = p.copy()
        else:
            m.units += p.units
    parts = r._parts = list(merged.values())
    payment: Decimal | None
    if r._null is not None or any(p.by_report for p in parts):
        payment = None
    else:
        payment = ZERO
        for p in parts:
            payment += cents(_part_amount(p))
    factors = {p.pay_factor for p in parts}
    same_base = all(p.base == fsa for p in parts)
    r.payment_factor = parts[0].pay_factor if (
        len(factors) == 1 and same_base and r._formula is None and payment is not None) else None
    if len(factors) > 1:
        _extra(r, "unit_factors", [str(p.pay_factor) + (f" x{p.units}" if p.units > 1 else "") for p in parts])
    return payment, _credit(parts)


def _close_explanations(r: LineResult, payment: Decimal | None, exact: Decimal) -> None:
    """The last step of each explanation must show the result: no payment and why, the rounding, the credit."""
    fsa = r.fee_schedule_amount
    steps = r._steps
    last = steps[-1][3] if steps else (fsa * r.units if fsa is not None else None)
    if payment is None:
        reason = r._null or "6th and later procedures are priced by report"
        _push(r, ("PAYMENT", None, None, None, "no formula payment: {}", (reason,)))
    elif last is None or last != payment:
        _push(r, ("ROUND", None, None, payment, "payment rounded half-up to cents: {}", (payment,)))
    wsteps = r._wsteps
    wlast = wsteps[-1][3] if wsteps else r.row.work_rvu * r.units  # type: ignore[union-attr]
    if wlast != exact:
        _wpush(r, ("CREDIT", None, None, exact, "wRVU credit {}", (fmt_exact(exact),)))


def _finish_anesthesia(r: LineResult, st: _State) -> None:
    info = r._anes
    r.fee_schedule_amount = None
    r.wrvu_exact = ZERO
    r.wrvu = round_wrvu(ZERO)
    _wpush(r, ("WORK_RVU", "STATUS J", None, ZERO,
               "anaesthesia (status J): no PFS work RVU, credit 0", ()))
    if info is None:
        r.payment = _ZERO_CENTS
        r.payment_factor = ZERO
        _push(r, ("ANESTHESIA", "STATUS J", ZERO, r.payment,
                  "multiple anaesthesia procedures: paid on the line with the highest base units", ()))
        return
    base, minutes, mod = info
    places = st.policy.anesthesia_time_unit_decimals
    if mod == "AD":
        units = _AD_BASE + (ONE if r.line.present_at_induction else ZERO)
        text = "AD medical supervision: {} base units (no time units)"
        args: tuple[Any, ...] = (units,)
    else:
        tu = time_units(minutes, places)
        units = base + tu
        text = "{} base units + {} min / 15 = {} time units -> {} units"
        args = (base, minutes, tu, units)
    factor = _ANES_FACTOR.get(mod or "AA", ONE)
    cf = st.anes_cf
    assert cf is not None
    amount = units * cf
    r.extras["total_units"] = units
    _push(r, ("ANESTHESIA", "STATUS J", None, amount, text + " x anaesthesia CF {}", (*args, cf)))
    if factor != ONE:
        amount = amount * factor
        _push(r, ("ANESTHESIA", f"MOD {mod}", factor, amount,
                  "{}: medically directed, 50% of the allowed amount", (mod,)))
        r.payment_factor = factor
    payment = cents(amount)
    r.payment = payment
    if payment != amount:
        _push(r, ("ROUND", None, None, payment, "payment rounded half-up to cents: {}", (payment,)))
